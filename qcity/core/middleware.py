"""Security middleware: Content-Security-Policy and the session policy."""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import JsonResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

# No inline script and no third-party origin: everything is served from 'self'.
CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        return response


class SessionPolicyMiddleware:
    """Session rules of 等保 8.1.4.1 b, and the forced password change.

    - idle for more than SESSION_IDLE_TIMEOUT_MINUTES: logged out;
    - logged in for more than SESSION_COOKIE_AGE: logged out, however active;
    - a temporary password must be changed before anything else.
    The last-seen time is written at most once a minute, not on every request.
    """

    LAST_SEEN = "qcity_last_seen"
    STARTED = "qcity_started"
    ALLOWED_WHILE_CHANGING = ("/accounts/password/", "/accounts/logout/", "/static/", "/i18n/")

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not hasattr(request, "session"):
            return self.get_response(request)
        now = int(time.time())
        session = request.session
        last = int(session.get(self.LAST_SEEN, now))
        started = int(session.setdefault(self.STARTED, now))
        if now - last > settings.SESSION_IDLE_TIMEOUT_MINUTES * 60:
            return self._end(request, "idle", _("您已长时间未操作，请重新登录。"))
        if now - started > settings.SESSION_COOKIE_AGE:
            return self._end(request, "max_age", _("登录时间已到上限，请重新登录。"))
        if now - last >= 60 or self.LAST_SEEN not in session:
            session[self.LAST_SEEN] = now
        if user.must_change_password and not request.path.startswith(self.ALLOWED_WHILE_CHANGING):
            if request.path.startswith("/api/"):
                return JsonResponse(
                    {"code": "password_change_required", "message": "请先修改临时密码"}, status=403
                )
            return redirect("change_password")
        return self.get_response(request)

    def _end(self, request, reason: str, message: str):
        from qcity.core.services import record_session_end

        user = request.user
        logout(request)
        record_session_end(user, reason=reason, ip=request.META.get("REMOTE_ADDR"))
        if request.path.startswith("/api/"):
            return self.get_response(request)
        messages.info(request, message)
        return redirect_to_login(request.get_full_path())
