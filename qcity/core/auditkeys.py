"""The Ed25519 key that signs audit checkpoints, kept outside the database.

Signing (``qcity audit_checkpoint``) needs the private key:
``QCITY_AUDIT_SIGNING_KEY`` (base64 of the 32 raw bytes, or PEM) or the file
``QCITY_AUDIT_SIGNING_KEY_FILE`` (default ``var/audit-signing.key``).
Verifying (``qcity verify_audit``) needs only the public key:
``QCITY_AUDIT_VERIFY_KEY`` / ``QCITY_AUDIT_VERIFY_KEY_FILE``, or, when neither is
set, the public half of the signing key. Every failure is a ``KeyProblem`` with a
one-line Chinese message; nothing here falls back to "no key, no check".
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings

SIGNING_ENV = "QCITY_AUDIT_SIGNING_KEY"
VERIFY_ENV = "QCITY_AUDIT_VERIFY_KEY"


class KeyProblem(Exception):
    """The checkpoint key is missing, unreadable or not an Ed25519 key."""


def default_signing_key_file() -> Path:
    return Path(settings.VAR_DIR) / "audit-signing.key"


def _signing_source() -> tuple[str, str | None]:
    """(where the key comes from, its text, or None when the file does not exist)."""
    if os.environ.get(SIGNING_ENV):
        return f"环境变量 {SIGNING_ENV}", os.environ[SIGNING_ENV]
    path = Path(os.environ.get(f"{SIGNING_ENV}_FILE") or default_signing_key_file())
    return f"文件 {path}", _read(path)


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise KeyProblem(f"无法读取审计签名密钥文件 {path}：{exc.__class__.__name__}") from None


def _decode(text: str, source: str, *, private: bool) -> Ed25519PrivateKey | Ed25519PublicKey:
    kind = Ed25519PrivateKey if private else Ed25519PublicKey
    try:
        if text.startswith("-----BEGIN"):
            loader = (
                serialization.load_pem_private_key if private else serialization.load_pem_public_key
            )
            key = loader(text.encode(), **({"password": None} if private else {}))
        else:
            raw = base64.b64decode(text, validate=True)
            key = kind.from_private_bytes(raw) if private else kind.from_public_bytes(raw)
    except (ValueError, TypeError, binascii.Error):
        key = None
    if not isinstance(key, kind):
        what = "私钥" if private else "公钥"
        raise KeyProblem(f"{source} 不是有效的 Ed25519 {what}（应为 32 字节的 base64 或 PEM）")
    return key


def signing_key() -> Ed25519PrivateKey:
    source, text = _signing_source()
    if not text:
        raise KeyProblem(
            f"未找到审计签名密钥（{source}）：请设置 {SIGNING_ENV} 或运行 qcity audit_keygen"
        )
    key = _decode(text, source, private=True)
    assert isinstance(key, Ed25519PrivateKey)
    return key


def verify_key() -> Ed25519PublicKey:
    if os.environ.get(VERIFY_ENV):
        key = _decode(os.environ[VERIFY_ENV], f"环境变量 {VERIFY_ENV}", private=False)
    elif os.environ.get(f"{VERIFY_ENV}_FILE"):
        path = Path(os.environ[f"{VERIFY_ENV}_FILE"])
        text = _read(path)
        if not text:
            raise KeyProblem(f"审计验证公钥文件 {path} 不存在或为空")
        key = _decode(text, f"文件 {path}", private=False)
    else:
        try:
            return signing_key().public_key()
        except KeyProblem as exc:
            raise KeyProblem(f"{exc}（或设置验证公钥 {VERIFY_ENV}）") from None
    assert isinstance(key, Ed25519PublicKey)
    return key


def public_bytes(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(key: Ed25519PublicKey) -> str:
    """A short fingerprint of the public key, stored with each checkpoint."""
    return hashlib.sha256(public_bytes(key)).hexdigest()[:16]


def sign(message: bytes) -> tuple[str, str]:
    """Return (base64 signature, key id) for ``message``."""
    key = signing_key()
    return base64.b64encode(key.sign(message)).decode(), key_id(key.public_key())


def verifies(key: Ed25519PublicKey, message: bytes, signature: str) -> bool:
    try:
        key.verify(base64.b64decode(signature, validate=True), message)
    except (InvalidSignature, ValueError, binascii.Error):
        return False
    return True


def generate(path: Path) -> Ed25519PublicKey:
    """Write a new private key to ``path`` (mode 0600, never over an existing file)."""
    key = Ed25519PrivateKey.generate()
    raw = key.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_EXCL: two `make run` at once, or a typo in a path, never overwrite a key in use.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(base64.b64encode(raw).decode() + "\n")
    return key.public_key()
