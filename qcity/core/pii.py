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
_cached: tuple[Path, float, KeyRing] | None = None


def _create(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    key_id = base64.b32encode(os.urandom(5)).decode().lower()
    text = (
        f"enc {key_id} {base64.b64encode(os.urandom(16)).decode()}\n"
        f"hmac {base64.b64encode(os.urandom(32)).decode()}\n"
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(text)


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
            mtime = path.stat().st_mtime
        except FileNotFoundError:
            if settings.PRODUCTION:
                raise PiiKeyProblem(
                    f"个人信息密钥文件 {path} 不存在（生产环境不会自动生成）"
                ) from None
            try:
                _create(path)
            except FileExistsError:
                pass  # another process created it first
            mtime = path.stat().st_mtime
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
