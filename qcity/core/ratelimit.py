"""Rate limits for authentication: login attempts and bearer-token attempts (ADR 0014).

Counters live in the database (``RateLimitCounter``), not in a per-process cache,
so that several worker processes, on one host or several, count the same
attempts. Each counter is a fixed window of ``RATE_LIMIT_WINDOW_SECONDS``; one
atomic ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` counts an attempt and
reads the new total, on SQLite and PostgreSQL alike.

- Login (``POST /accounts/login/``): every attempt counts against the client
  address and against the typed user name (stored only as a digest, since people
  sometimes type their password into the name field). Past either limit the page
  answers 429 with a Chinese message that is the same for existing and unknown
  names, and the password is not checked at all.
- Bearer tokens: every unknown, revoked or expired token counts against the client
  address; at the limit, the address gets 429 ``too_many_requests`` for any token
  until the window ends, so guessing cannot go on.

The first refusal of each window is audited as ``auth.rate_limited`` (not every
refused request: a flood must not flood the audit chain too).
"""

from __future__ import annotations

import hashlib
import ipaddress
import time

from django.conf import settings
from django.contrib.auth.views import LoginView
from django.core.exceptions import ValidationError
from django.db import connection
from django.forms.utils import ErrorDict
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from qcity.core import audit
from qcity.core.models import RateLimitCounter


class RateLimited(Exception):
    """Too many attempts from one address or for one account in the current window."""

    code = "too_many_requests"

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after

    @property
    def message(self) -> str:
        return f"请求过于频繁，请 {self.retry_after} 秒后再试"


def client_ip(request: HttpRequest) -> str:
    """The client's address; behind ``TRUSTED_PROXY_COUNT`` reverse proxies, the one they saw.

    Each trusted proxy appends the address it received from to X-Forwarded-For,
    so the client is the entry that many places from the right; anything further
    left was written by the client and cannot be trusted.
    """
    remote = request.META.get("REMOTE_ADDR") or "0.0.0.0"
    hops = settings.TRUSTED_PROXY_COUNT
    if hops:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if len(forwarded) >= hops:
            try:
                return str(ipaddress.ip_address(forwarded[-hops]))
            except ValueError:
                pass
    return remote


def _window(now: float | None = None) -> tuple[int, int]:
    """(start of the current window, seconds until it ends)."""
    length = settings.RATE_LIMIT_WINDOW_SECONDS
    now = time.time() if now is None else now
    start = int(now) // length * length
    return start, max(1, start + length - int(now))


def hit(bucket: str, *, now: float | None = None) -> int:
    """Count one attempt for ``bucket`` and return the attempts in this window, this one included."""
    start, _ = _window(now)
    table = connection.ops.quote_name(RateLimitCounter._meta.db_table)
    with connection.cursor() as cursor:
        # One statement: concurrent workers cannot both read the old count.
        cursor.execute(
            f"INSERT INTO {table} (bucket, window_start, hits) VALUES (%s, %s, 1) "
            f"ON CONFLICT (bucket, window_start) DO UPDATE SET hits = {table}.hits + 1 "
            "RETURNING hits",
            [bucket, start],
        )
        hits = cursor.fetchone()[0]
    if hits == 1:
        # A new window opened for this bucket: past windows are of no further use.
        RateLimitCounter.objects.filter(window_start__lt=start).delete()
    return hits


def hits(bucket: str, *, now: float | None = None) -> int:
    """Attempts counted for ``bucket`` in the current window."""
    start, _ = _window(now)
    row = RateLimitCounter.objects.filter(bucket=bucket, window_start=start).first()
    return row.hits if row else 0


def _audit_refusal(request: HttpRequest, which: str, limit: int, label: str = "") -> None:
    audit.record(
        "auth.rate_limited",
        by=None,
        success=False,
        ip=client_ip(request),
        actor_label=label[:150],
        details={
            "reason": which,
            "max_attempts": limit,
            "window_seconds": settings.RATE_LIMIT_WINDOW_SECONDS,
        },
    )


def _account_digest(username: str) -> str:
    return hashlib.sha256(username.encode("utf-8", "surrogatepass")).hexdigest()[:40]


# --- login ----------------------------------------------------------------------------------


def check_login_attempt(request: HttpRequest, username: str) -> RateLimited | None:
    """Count a login attempt; return the refusal when the address or the account is over its limit."""
    ip = client_ip(request)
    refused = None
    for which, bucket, limit in (
        ("login_per_address", f"login:address:{ip}", settings.LOGIN_RATE_LIMIT_PER_ADDRESS),
        (
            "login_per_account",
            f"login:account:{_account_digest(username)}",
            settings.LOGIN_RATE_LIMIT_PER_ACCOUNT,
        ),
    ):
        count = hit(bucket)
        if count > limit:
            if count == limit + 1:
                _audit_refusal(request, which, limit, username)
            refused = RateLimited(retry_after=_window()[1])
    return refused


class RateLimitedLoginView(LoginView):
    """Django's login view, answering 429 without checking the password past the limits."""

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        refused = check_login_attempt(request, request.POST.get("username", ""))
        if refused is None:
            return super().post(request, *args, **kwargs)
        form = self.get_form()
        # Mark the form as already cleaned so that adding the error does not run
        # authentication (which would check the password and count a failure).
        form._errors, form.cleaned_data = ErrorDict(), {}
        minutes = max(1, round(refused.retry_after / 60))
        form.add_error(
            None,
            ValidationError(
                _("登录尝试过于频繁，请 %(minutes)s 分钟后再试。") % {"minutes": minutes},
                code="rate_limited",
            ),
        )
        response = self.form_invalid(form)
        response.status_code = 429
        response["Retry-After"] = str(refused.retry_after)
        return response


# --- bearer tokens --------------------------------------------------------------------------


def _token_bucket(request: HttpRequest) -> str:
    return f"api_token:address:{client_ip(request)}"


def check_token_address(request: HttpRequest) -> None:
    """Raise ``RateLimited`` when this address has used up its failed token attempts."""
    if hits(_token_bucket(request)) >= settings.API_TOKEN_FAILURE_LIMIT_PER_ADDRESS:
        raise RateLimited(retry_after=_window()[1])


def record_token_failure(request: HttpRequest) -> None:
    """Count an unknown, revoked or expired token presented from this address."""
    limit = settings.API_TOKEN_FAILURE_LIMIT_PER_ADDRESS
    if hit(_token_bucket(request)) == limit:
        _audit_refusal(request, "api_token_per_address", limit)
