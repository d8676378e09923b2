"""Security middleware: Content-Security-Policy and the idle-session timeout."""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
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


class IdleTimeoutMiddleware:
    """Log a session out after SESSION_IDLE_TIMEOUT_MINUTES without a request (等保 8.1.4.1 b)."""

    SESSION_KEY = "qcity_last_seen"

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated and hasattr(request, "session"):
            now = int(time.time())
            last = request.session.get(self.SESSION_KEY)
            limit = settings.SESSION_IDLE_TIMEOUT_MINUTES * 60
            if last is not None and now - int(last) > limit:
                from qcity.core.services import record_idle_timeout

                user = request.user
                logout(request)
                record_idle_timeout(user, ip=request.META.get("REMOTE_ADDR"))
                if request.path.startswith("/api/"):
                    return self.get_response(request)
                messages.info(request, _("您已长时间未操作，请重新登录。"))
                return redirect_to_login(request.get_full_path())
            request.session[self.SESSION_KEY] = now
        return self.get_response(request)
