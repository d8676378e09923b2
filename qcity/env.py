"""Strict parsing of settings from environment variables.

A typo in a deployment's environment must stop start-up with a message that
names the variable, never fall back silently to a default.
"""

from __future__ import annotations

import os
from pathlib import Path


class ImproperSetting(Exception):
    pass


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _raw(name: str) -> str | None:
    # NAME_FILE lets secrets come from a mounted file (systemd credentials, k8s secrets).
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        return Path(file_name).read_text(encoding="utf-8").strip()
    return os.environ.get(name)


def env_str(name: str, default: str | None = None) -> str | None:
    value = _raw(name)
    return default if value is None else value


def env_bool(name: str, default: bool) -> bool:
    value = _raw(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperSetting(f"{name} must be one of 1/0, true/false, yes/no, on/off; got {value!r}")


def env_int(
    name: str, default: int, *, minimum: int | None = None, maximum: int | None = None
) -> int:
    value = _raw(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperSetting(f"{name} must be an integer; got {value!r}") from None
    if minimum is not None and number < minimum:
        raise ImproperSetting(f"{name} must be at least {minimum}; got {number}")
    if maximum is not None and number > maximum:
        raise ImproperSetting(f"{name} must be at most {maximum}; got {number}")
    return number


def env_choice(name: str, default: str, choices: list[str]) -> str:
    value = _raw(name)
    if value is None:
        return default
    value = value.strip()
    if value not in choices:
        raise ImproperSetting(f"{name} must be one of {', '.join(choices)}; got {value!r}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    value = _raw(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_file(name: str, *, signatures: tuple[bytes, ...] = (), kind: str = "file") -> Path | None:
    """A path to an existing, readable file (``None`` when unset); ``signatures``: its first bytes.

    Checked when settings load, so a typo stops start-up naming the variable instead of
    failing on the first request that needs the file.
    """
    value = _raw(name)
    if value is None or not value.strip():
        return None
    path = Path(value.strip()).expanduser()
    try:
        with path.open("rb") as handle:
            head = handle.read(max((len(s) for s in signatures), default=0))
    except IsADirectoryError:
        raise ImproperSetting(
            f"{name} must name a {kind}, not a directory; got {value!r}"
        ) from None
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ImproperSetting(
            f"{name} must name a readable {kind}; got {value!r} ({reason})"
        ) from None
    if signatures and not head.startswith(signatures):
        raise ImproperSetting(f"{name} must name a {kind}; {value!r} is not one")
    return path
