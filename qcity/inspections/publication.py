"""一公开: the publish step writes portal rows. Owned by the publication work; placeholder."""

from __future__ import annotations

from typing import Any


def validate_publish(task, user, **params: Any) -> dict[str, Any] | None:
    raise NotImplementedError("publication is being built")


def apply_publish(task, user, **params: Any) -> dict[str, Any] | None:
    raise NotImplementedError("publication is being built")
