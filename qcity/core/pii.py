"""Personal data at rest: SM4-GCM encryption, a keyed hash for exact lookups, and masks.

Phone and ID numbers of complainants and reporters are stored as ``encrypt(text)`` tokens
(``sm4gcm:<key id>:<base64 of nonce‖ciphertext‖tag>``) and, for exact-match search, as
``blind_index(kind, text)`` (HMAC-SM3 with its own key, so a database dump alone neither
reads nor brute-forces them without the key file).

The key file (``PII_KEY_FILE``, default ``var/pii.key``; never in the database) holds lines
``enc <id> <base64 16 bytes>`` (the first is the current key; older ones only decrypt)
and one ``hmac <base64 32 bytes>``. Rotation: add a new ``enc`` line first, run
``qcity rotate_pii_key`` to re-encrypt, then drop the old line (docs/personal-data.md).
Outside production a missing file is created on first use.
"""

from __future__ import annotations

import base64
import os
import tempfile
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from django.conf import settings

PREFIX = "sm4gcm"


class PiiKeyProblem(Exception):
    """The key file is missing (in production), unreadable or malformed, or a token is bad."""


@dataclass(frozen=True)
class KeyRing:
    enc: tuple[tuple[str, bytes], ...]  # (id, 16-byte SM4 key); the first is current
    hmac_key: bytes

    @property
    def current(self) -> tuple[str, bytes]:
        return self.enc[0]


_lock = threading.Lock()
# (path, (mtime, inode, size), keys): a rotation replaces the file, so any of them changes.
_cached: tuple[Path, tuple[int, int, int], KeyRing] | None = None


def _stamp(path: Path) -> tuple[int, int, int]:
    st = path.stat()
    return st.st_mtime_ns, st.st_ino, st.st_size


def _create(path: Path) -> None:
    """Write a new key file; FileExistsError if there is one (never overwritten)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    _, enc_line = new_key_line()
    text = f"{enc_line}\nhmac {base64.b64encode(os.urandom(32)).decode()}\n"
    # Written aside, then linked into place: a process reading at the same moment finds
    # no file or a whole one, never an empty one; link() refuses an existing name.
    name = _write_aside(path, text)
    try:
        os.link(name, path)
    finally:
        Path(name).unlink(missing_ok=True)


def create_key_file(path: Path | None = None) -> Path:
    """Create the key file (``qcity pii_keygen``); FileExistsError if it exists."""
    path = Path(path or settings.PII_KEY_FILE)
    _create(path)
    return path


def parse(text: str, source: str = "") -> KeyRing:
    enc: list[tuple[str, bytes]] = []
    mac: bytes | None = None
    for number, line in enumerate(text.splitlines(), 1):
        parts = line.split()
        if not parts or parts[0].startswith("#"):
            continue
        try:
            if parts[0] == "enc" and len(parts) == 3:
                key = base64.b64decode(parts[2], validate=True)
                if len(key) != 16:
                    raise ValueError
                enc.append((parts[1], key))
            elif parts[0] == "hmac" and len(parts) == 2:
                mac = base64.b64decode(parts[1], validate=True)
                if len(mac) < 32:
                    raise ValueError
            else:
                raise ValueError
        except ValueError:
            raise PiiKeyProblem(f"个人信息密钥文件 {source} 第 {number} 行格式错误") from None
    if not enc or mac is None:
        raise PiiKeyProblem(f"个人信息密钥文件 {source} 缺少 enc 或 hmac 密钥")
    return KeyRing(tuple(enc), mac)


def keyring() -> KeyRing:
    """The keys, read from the file (re-read when it changes, e.g. after a rotation)."""
    global _cached
    path = Path(settings.PII_KEY_FILE)
    with _lock:
        try:
            mtime = _stamp(path)
        except FileNotFoundError:
            if settings.PRODUCTION:
                raise PiiKeyProblem(
                    f"个人信息密钥文件 {path} 不存在（生产环境不会自动生成）"
                ) from None
            try:
                _create(path)
            except FileExistsError:
                pass  # another process created it first
            mtime = _stamp(path)
        if _cached is None or _cached[0] != path or _cached[1] != mtime:
            try:
                text = path.read_text(encoding="ascii")
            except (OSError, UnicodeDecodeError) as exc:
                raise PiiKeyProblem(f"无法读取个人信息密钥文件 {path}：{exc}") from None
            _cached = (path, mtime, parse(text, str(path)))
        return _cached[2]


def encrypt(text: str) -> str:
    """A token for ``text`` under the current key; "" stays "" (nothing to protect)."""
    if not text:
        return ""
    key_id, key = keyring().current
    nonce = os.urandom(12)
    encryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
    body = encryptor.update(text.encode("utf-8")) + encryptor.finalize()
    blob = base64.b64encode(nonce + body + encryptor.tag).decode("ascii")
    return f"{PREFIX}:{key_id}:{blob}"


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        prefix, key_id, blob = token.split(":", 2)
        raw = base64.b64decode(blob, validate=True)
    except ValueError:
        raise PiiKeyProblem("个人信息密文格式错误") from None
    keys = dict(keyring().enc)
    if prefix != PREFIX or key_id not in keys or len(raw) < 12 + 16:
        raise PiiKeyProblem(f"个人信息密文无法解密（密钥 {key_id} 不在密钥文件中）")
    nonce, body, tag = raw[:12], raw[12:-16], raw[-16:]
    decryptor = Cipher(algorithms.SM4(keys[key_id]), modes.GCM(nonce, tag)).decryptor()
    try:
        return (decryptor.update(body) + decryptor.finalize()).decode("utf-8")
    except InvalidTag:
        raise PiiKeyProblem("个人信息密文校验失败（被篡改或密钥不符）") from None


def key_id_of(token: str) -> str:
    return token.split(":", 2)[1] if token.count(":") >= 2 else ""


def normalise(kind: str, text: str) -> str:
    """The form a value is hashed in: half-width, no spaces or dashes, upper-case (ID's X)."""
    text = unicodedata.normalize("NFKC", text or "")
    text = "".join(ch for ch in text if not ch.isspace() and ch not in "-()（）")
    if kind == "phone" and text.startswith("+86"):
        text = text[3:]
    return text.upper()


def blind_index(kind: str, text: str) -> str:
    """A keyed hash (HMAC-SM3, hex) for exact lookups of ``kind`` (phone, id_number)."""
    if not text:
        return ""
    mac = hmac.HMAC(keyring().hmac_key, hashes.SM3())
    mac.update(f"{kind}\x00{normalise(kind, text)}".encode())
    return mac.finalize().hex()


def mask_phone(phone: str) -> str:
    """138****8000: the first three and last four digits, as 12315 shows them."""
    digits = normalise("phone", phone)
    if len(digits) >= 7:
        return f"{digits[:3]}****{digits[-4:]}"
    return "*" * len(digits)


def mask_id_number(number: str) -> str:
    """2112**********123X: region and last four."""
    text = normalise("id_number", number)
    if len(text) > 8:
        return f"{text[:4]}{'*' * (len(text) - 8)}{text[-4:]}"
    return "*" * len(text)


def mask_name(name: str) -> str:
    """张** / 欧阳**: the surname's first character only."""
    name = (name or "").strip()
    if not name:
        return ""
    return name[0] + "*" * max(1, min(len(name) - 1, 3))


# --- the encrypted fields, key rotation, and the production check ---------------------------


@dataclass(frozen=True)
class EncryptedField:
    """A model field that holds ``encrypt`` tokens, and its blind index if it has one."""

    model: str  # "app_label.ModelName"
    field: str
    index_field: str = ""
    kind: str = ""  # the blind index's kind (phone, id_number)


# Every field holding tokens, so rotation and retention find them all. An app registers its
# own from its AppConfig.ready (core imports no app).
ENCRYPTED_FIELDS: list[EncryptedField] = []


def register_field(model: str, field: str, *, index_field: str = "", kind: str = "") -> None:
    entry = EncryptedField(model, field, index_field, kind)
    if entry not in ENCRYPTED_FIELDS:
        ENCRYPTED_FIELDS.append(entry)


def is_current(token: str) -> bool:
    """Is ``token`` already under the current key (or empty: nothing to re-encrypt)?"""
    return not token or key_id_of(token) == keyring().current[0]


def reencrypt(token: str) -> str:
    """The same text under the current key (a token already under it is returned as is)."""
    if is_current(token):
        return token
    return encrypt(decrypt(token))


def new_key_line() -> tuple[str, str]:
    """(key id, ``enc <id> <key>`` line) for a fresh random SM4 key."""
    key_id = base64.b32encode(os.urandom(5)).decode().lower()
    return key_id, f"enc {key_id} {base64.b64encode(os.urandom(16)).decode()}"


def _write_aside(path: Path, text: str) -> str:
    """A temporary file beside ``path`` holding ``text``, synced and 0600; its name."""
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", text=True)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(name, 0o600)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return name


def _write_atomically(path: Path, text: str) -> None:
    # A reader (another process) sees the old file or the new one, never half of one; the
    # new file is 0600 from its first byte.
    name = _write_aside(path, text)
    try:
        os.replace(name, path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise


def add_key(path: Path | None = None) -> str:
    """Put a new current ``enc`` key first in the key file (older ones stay, to decrypt)."""
    path = Path(path or settings.PII_KEY_FILE)
    text = path.read_text(encoding="ascii")
    parse(text, str(path))  # never rewrite a file that is already wrong
    key_id, line = new_key_line()
    _write_atomically(path, f"{line}\n{text}")
    return key_id


def drop_keys(key_ids: set[str], path: Path | None = None) -> None:
    """Remove retired ``enc`` lines (the caller has checked no token uses them)."""
    path = Path(path or settings.PII_KEY_FILE)
    text = path.read_text(encoding="ascii")
    ring = parse(text, str(path))
    if ring.current[0] in key_ids:
        raise PiiKeyProblem(f"不能删除当前密钥 {ring.current[0]}")
    kept = [
        line
        for line in text.splitlines()
        if not (
            line.split()[:1] == ["enc"] and len(line.split()) == 3 and line.split()[1] in key_ids
        )
    ]
    _write_atomically(path, "\n".join(kept) + "\n")


def key_problems() -> list[str]:
    """Why the key file cannot be used, in one line each (production start-up refuses)."""
    path = Path(settings.PII_KEY_FILE)
    if not path.exists():
        return [
            f"个人信息密钥文件 {path} 不存在：生产环境不会自动生成，"
            "请从密钥备份恢复，或首次部署时运行 qcity pii_keygen（QCITY_PII_KEY_FILE）"
        ]
    try:
        parse(path.read_text(encoding="ascii"), str(path))
    except (OSError, UnicodeDecodeError) as exc:
        return [f"无法读取个人信息密钥文件 {path}：{exc}"]
    except PiiKeyProblem as exc:
        return [str(exc)]
    if path.stat().st_mode & 0o077:
        return [f"个人信息密钥文件 {path} 的权限过宽：须为 0600（chmod 600 {path}）"]
    return []
