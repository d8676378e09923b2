"""Response headers that are not about content security: caching and static files.

Kept apart from ``core.middleware`` (CSP and the session policy) so each
concern stays one small class. The settings import this module (for
WhiteNoise's hook), so it imports nothing from Django at module level.
"""

from __future__ import annotations


class NoStoreMiddleware:
    """Nothing shown to a logged-in user, or exported, is kept by a browser or proxy.

    A page of measures or an XLSX seen on a shared office computer must not come
    back from the cache after logout. Applies to responses to an authenticated
    session, to requests carrying credentials (API tokens), and to every
    attachment. Public pages and static files stay cacheable.
    """

    def __init__(self, get_response) -> None:
        from django.utils.cache import add_never_cache_headers

        self.get_response = get_response
        self.add_never_cache_headers = add_never_cache_headers

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if (
            (user is not None and user.is_authenticated)
            or "HTTP_AUTHORIZATION" in request.META
            or response.get("Content-Disposition", "").startswith("attachment")
        ):
            self.add_never_cache_headers(response)  # Cache-Control: …, no-store, private
            response.headers["Pragma"] = "no-cache"  # HTTP/1.0 proxies
        return response


def static_file_headers(headers, path: str, url: str) -> None:
    """WhiteNoise's hook (``WHITENOISE_ADD_HEADERS_FUNCTION``): headers on every static file.

    WhiteNoise answers before most middleware runs, and may be mounted as a WSGI
    wrapper with none at all, so nosniff is set here rather than trusted to
    SecurityMiddleware.
    """
    headers["X-Content-Type-Options"] = "nosniff"
