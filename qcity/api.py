"""The JSON API under /api/v1/: one NinjaAPI, routers from each app, stable error codes.

Errors always have the shape {"code": "...", "message": "..."}; ``code`` is
stable for clients, ``message`` is for people (Chinese).
"""

from __future__ import annotations

from django.http import Http404, HttpRequest
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer, django_auth

from qcity.core.services import user_for_token
from qcity.core.workflow import WorkflowError


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str):
        user = user_for_token(token)
        if user is not None:
            request.user = user
        return user


api = NinjaAPI(
    title="qcity API",
    version="1",
    urls_namespace="api",
    docs_url=None,  # the bundled Swagger page loads from a CDN; offline deployments can't
    # Bearer token for other systems; ninja's own session auth (CSRF-checked on
    # unsafe methods) for the pages.
    auth=[TokenAuth(), django_auth],
)


def _error(request: HttpRequest, status: int, code: str, message: str, **extra):
    return api.create_response(request, {"code": code, "message": message, **extra}, status=status)


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Http404):
    return _error(request, 404, "not_found", "对象不存在或无权访问")


@api.exception_handler(AuthenticationError)
def unauthenticated(request: HttpRequest, exc: AuthenticationError):
    return _error(request, 401, "unauthenticated", "需要登录或有效的 API 令牌")


@api.exception_handler(ValidationError)
def invalid(request: HttpRequest, exc: ValidationError):
    return _error(request, 422, "invalid_request", "请求参数不正确", errors=exc.errors)


@api.exception_handler(WorkflowError)
def workflow_refused(request: HttpRequest, exc: WorkflowError):
    # not_found 404, forbidden 403, step_not_allowed / stale 409, invalid / reason_required 422.
    return _error(request, exc.status, exc.code, exc.message)


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError):
    codes = {403: "forbidden", 405: "method_not_allowed", 429: "too_many_requests"}
    return _error(request, exc.status_code, codes.get(exc.status_code, "error"), str(exc))


from qcity.core.api import router as core_router  # noqa: E402
from qcity.plans.api import router as plans_router  # noqa: E402

api.add_router("/", core_router)
api.add_router("/", plans_router)

__all__ = ["api"]
