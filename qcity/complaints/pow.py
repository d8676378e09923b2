"""The public form's proof-of-human check: a hashcash-style proof of work (ADR 0036).

The server hands out a signed challenge ``<id>.<expires>.<bits>:<signature>``; the browser
finds a ``nonce`` such that SHA-256(``challenge`` + ":" + ``nonce``) starts with ``bits``
zero bits (WebCrypto, ``static/qcity/complaint-form.js``), while the person fills in the
form. The server checks it with one hash. No third-party service, nothing to see or hear
(accessible), works on a network cut off from the internet. It does not tell people from
machines: it makes every submission cost the sender about a second of computing, so a
flood costs the flooder, and together with the per-address rate limit it keeps the form
usable. Each challenge is good once (``ProofOfWorkUse``) and until it expires.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.utils import timezone

from qcity.complaints.models import ProofOfWorkUse

_SALT = "qcity.complaints.pow"


class ProofRefused(Exception):
    """A missing, forged, expired, reused or unsolved proof; ``code`` is stable."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Challenge:
    token: str
    bits: int
    expires_at: dt.datetime


def issue(now: dt.datetime | None = None) -> Challenge:
    """A new signed challenge of ``COMPLAINT_POW_BITS`` difficulty."""
    now = now or timezone.now()
    expires = now + dt.timedelta(seconds=settings.COMPLAINT_POW_SECONDS)
    bits = settings.COMPLAINT_POW_BITS
    body = f"{secrets.token_urlsafe(12)}.{int(expires.timestamp())}.{bits}"
    return Challenge(signing.Signer(salt=_SALT).sign(body), bits, expires)


def leading_zero_bits(digest: bytes) -> int:
    bits = 0
    for byte in digest:
        if byte == 0:
            bits += 8
            continue
        return bits + 8 - byte.bit_length()
    return bits


def solve(token: str, bits: int) -> str:
    """What the browser does, for tests and scripted clients: the first nonce that works."""
    nonce = 0
    while leading_zero_bits(hashlib.sha256(f"{token}:{nonce}".encode()).digest()) < bits:
        nonce += 1
    return str(nonce)


def verify(token: str, nonce: str, now: dt.datetime | None = None) -> None:
    """Accept a solved challenge once; raise ``ProofRefused`` otherwise."""
    now = now or timezone.now()
    token, nonce = (token or "").strip(), (nonce or "").strip()
    if not token or not nonce:
        raise ProofRefused("pow_missing", "人机验证未完成，请稍候片刻，待页面提示完成后再提交")
    try:
        body = signing.Signer(salt=_SALT).unsign(token)
        challenge_id, expires_ts, bits_text = body.split(".")
        expires = dt.datetime.fromtimestamp(int(expires_ts), tz=dt.UTC)
        bits = int(bits_text)
    except (signing.BadSignature, ValueError, OverflowError, OSError):
        raise ProofRefused("pow_invalid", "人机验证无效，请刷新页面后重新提交") from None
    if expires < now:
        raise ProofRefused("pow_expired", "页面停留时间过长，人机验证已过期，请重新提交")
    if len(nonce) > 20 or not nonce.isdigit():
        raise ProofRefused("pow_invalid", "人机验证无效，请刷新页面后重新提交")
    # The difficulty is the one signed into the challenge, so lowering the setting does not
    # let old challenges pass cheaper, and raising it does not break forms already open.
    if leading_zero_bits(hashlib.sha256(f"{token}:{nonce}".encode()).digest()) < bits:
        raise ProofRefused("pow_invalid", "人机验证未通过，请刷新页面后重新提交")
    ProofOfWorkUse.objects.filter(expires_at__lt=now).delete()
    try:
        with transaction.atomic():
            ProofOfWorkUse.objects.create(challenge=challenge_id, expires_at=expires)
    except IntegrityError:
        raise ProofRefused(
            "pow_used", "此表单已经提交过；如需再次投诉举报，请重新打开表单填写"
        ) from None
