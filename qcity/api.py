"""The JSON API under /api/v1/: one NinjaAPI, routers from each app, stable error codes.

Errors always have the shape {"code": "...", "message": "..."}; ``code`` is
stable for clients, ``message`` is for people (Chinese). Every error status an
operation can answer with is in the OpenAPI document (``QcityAPI.get_openapi_schema``);
errors produced outside ninja (unknown paths, wrong methods, 500s) get the same
shape from ``core.edge.ApiJsonErrorsMiddleware``.
"""

from __future__ import annotations

import logging

from django.http import Http404, HttpRequest
from django.http.request import RawPostDataException
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer, django_auth

from qcity.assessment.services import AssessmentRefused
from qcity.core import ratelimit
from qcity.core.edge import API_ERRORS
from qcity.core.files import AttachmentRefused
from qcity.core.models import User
from qcity.core.services import user_for_token
from qcity.core.workflow import WorkflowError
from qcity.metrics.services import ValueRejected
from qcity.plans.target_links import LinkRefused
from qcity.registry.search import SearchRefused
from qcity.registry.services import RegistryRefused
from qcity.reporting.services import ReportingRefused


class AccountRefused(Exception):
    """A valid token whose account may not act now (the pages would refuse it too)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code)
        self.code, self.message = code, message


def account_refusal(user: User) -> AccountRefused | None:
    """The account rules the pages apply at login and on every request, for API callers."""
    if user.is_locked():
        # LockoutModelBackend refuses a locked account at login even with the right password.
        return AccountRefused("account_locked", "账户已锁定，请稍后再试或联系安全管理员")
    if user.must_change_password:
        # SessionPolicyMiddleware sends such a user to the password page and nowhere else.
        return AccountRefused("password_change_required", "请先修改临时密码")
    return None


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str):
        ratelimit.check_token_address(request)
        user = user_for_token(token)
        if user is None:
            ratelimit.record_token_failure(request)
            return None
        refusal = account_refusal(user)
        if refusal is not None:
            raise refusal
        request.user = user
        return user


class Error(Schema):
    code: str
    message: str
    # Only for 422: what was wrong with which parameter.
    errors: list[dict] | None = None


# The error statuses every operation documents, with the codes each can carry.
DOCUMENTED_ERRORS: dict[int, str] = {
    400: "bad_request：请求格式不正确（如 Host 头不被允许、参数过多）",
    401: "unauthenticated：未登录，或令牌不存在、已吊销、已过期",
    403: "forbidden / password_change_required / account_locked",
    413: "request_too_large：请求体超过 21 MB",
    422: "invalid_request：参数不合法（类型、范围、长度，或含空字符 NUL）",
    429: "too_many_requests：同一地址的无效令牌尝试过多，见 Retry-After",
    500: "server_error：服务器内部错误",
}
NOT_FOUND = "not_found：对象不存在或不在数据范围内"


class QcityAPI(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        error_ref = {"$ref": "#/components/schemas/Error"}
        schema["components"]["schemas"]["Error"] = Error.model_json_schema()
        for path, operations in schema["paths"].items():
            for operation in operations.values():
                errors = dict(DOCUMENTED_ERRORS)
                # An operation that names an object (in its path or as ``…_id``) can miss it.
                if "{" in path or any(
                    p["name"].endswith("_id") for p in operation.get("parameters", [])
                ):
                    errors[404] = NOT_FOUND
                for status, description in sorted(errors.items()):
                    operation["responses"].setdefault(
                        status,
                        {
                            "description": description,
                            "content": {"application/json": {"schema": error_ref}},
                        },
                    )
        return schema


api = QcityAPI(
    title="qcity API",
    version="1",
    urls_namespace="api",
    docs_url=None,  # the bundled Swagger page loads from a CDN; offline deployments can't
    # Bearer token for other systems; ninja's own session auth (CSRF-checked on
    # unsafe methods) for the pages.
    auth=[TokenAuth(), django_auth],
)

logger = logging.getLogger("django.request")


def _error(request: HttpRequest, status: int, code: str, message: str, **extra):
    return api.create_response(request, {"code": code, "message": message, **extra}, status=status)


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Http404):
    return _error(request, 404, "not_found", "对象不存在或无权访问")


@api.exception_handler(AuthenticationError)
def unauthenticated(request: HttpRequest, exc: AuthenticationError):
    return _error(request, 401, "unauthenticated", "需要登录或有效的 API 令牌")


@api.exception_handler(AccountRefused)
def account_refused(request: HttpRequest, exc: AccountRefused):
    return _error(request, 403, exc.code, exc.message)


@api.exception_handler(ratelimit.RateLimited)
def rate_limited(request: HttpRequest, exc: ratelimit.RateLimited):
    response = _error(request, 429, exc.code, exc.message)
    response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(ValidationError)
def invalid(request: HttpRequest, exc: ValidationError):
    return _error(request, 422, "invalid_request", "请求参数不正确", errors=exc.errors)


@api.exception_handler(WorkflowError)
def workflow_refused(request: HttpRequest, exc: WorkflowError):
    # not_found 404, forbidden 403, step_not_allowed / stale 409, invalid / reason_required 422.
    return _error(request, exc.status, exc.code, exc.message)


# ninja's own refusals, in English in the library, told apart in Chinese here.
NINJA_MESSAGES = {
    "Cannot parse request body": "请求体无法解析：须为有效的 JSON",
    "CSRF check Failed": "CSRF 校验失败：请刷新页面后重试，或使用 API 令牌",
}


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError):
    code, message = API_ERRORS.get(exc.status_code, ("error", "请求未能完成"))
    text = str(exc)
    for english, chinese in NINJA_MESSAGES.items():
        if text.startswith(english):
            message = chinese
            break
    # Any other library text may be English or name internals: the stable Chinese one.
    return _error(request, exc.status_code, code, message)


@api.exception_handler(RawPostDataException)
def form_body_for_json(request: HttpRequest, exc: RawPostDataException):
    # A form (multipart) body sent to an endpoint that reads JSON: the request edge has
    # already parsed the form (core.edge), so the raw body is gone; the caller is wrong.
    return _error(request, 400, "bad_request", "请求体须为 JSON（Content-Type: application/json）")


@api.exception_handler(Exception)
def server_error(request: HttpRequest, exc: Exception):
    # Logged as Django logs its own 500s (so error mails and log shippers see it),
    # but answered in the API's shape, never with a traceback (ninja's default in DEBUG).
    logger.error(
        "Internal Server Error: %s",
        request.path,
        exc_info=exc,
        extra={"status_code": 500, "request": request},
    )
    return _error(request, 500, "server_error", "服务器内部错误，请稍后重试")


@api.exception_handler(ValueRejected)
def value_rejected(request: HttpRequest, exc: ValueRejected):
    # wrong_unit / out_of_range / invalid_value / invalid_period … 422, forbidden 403.
    return _error(request, exc.status, exc.code, exc.message)


@api.exception_handler(LinkRefused)
def link_refused(request: HttpRequest, exc: LinkRefused):
    return _error(request, exc.status, exc.code, exc.message)


@api.exception_handler(ReportingRefused)
def reporting_refused(request: HttpRequest, exc: ReportingRefused):
    # invalid_period / invalid_workdays / invalid_figures … 422, cycle_overlap / cycle_closed /
    # report_not_editable 409, forbidden 403, not_found 404.
    return _error(request, exc.status, exc.code, exc.message)


@api.exception_handler(AttachmentRefused)
def attachment_refused(request: HttpRequest, exc: AttachmentRefused):
    # The codes of core.files (file_type_not_allowed, file_extension_mismatch, file_corrupted,
    # file_too_large, file_empty, zip_bomb), all 422 as for indicator evidence (metrics):
    # 413 stays the request edge's request_too_large.
    return _error(request, 422, exc.code, exc.message)


@api.exception_handler(AssessmentRefused)
def assessment_refused(request: HttpRequest, exc: AssessmentRefused):
    return _error(request, exc.status, exc.code, exc.message)


@api.exception_handler(RegistryRefused)
def registry_refused(request: HttpRequest, exc: RegistryRefused):
    # forbidden 403, entity_not_found 404, conflict_exists / already_withdrawn 409, others 422.
    return _error(request, exc.status, exc.code, exc.message)


@api.exception_handler(SearchRefused)
def search_refused(request: HttpRequest, exc: SearchRefused):
    # query_too_short / query_too_long, 422.
    return _error(request, exc.status, exc.code, exc.message)


from qcity.assessment.api import router as assessment_router  # noqa: E402
from qcity.complaints.api import router as complaints_router  # noqa: E402
from qcity.core.api import router as core_router  # noqa: E402
from qcity.inspections.api import router as inspections_router  # noqa: E402
from qcity.metrics.api import router as metrics_router  # noqa: E402
from qcity.plans.api import router as plans_router  # noqa: E402
from qcity.plans.target_api import router as target_router  # noqa: E402
from qcity.registry.api import router as registry_router  # noqa: E402
from qcity.reporting.api import router as reporting_router  # noqa: E402

api.add_router("/", core_router)
api.add_router("/", plans_router)
api.add_router("/", metrics_router)
api.add_router("/", target_router)
api.add_router("/", reporting_router)
api.add_router("/", assessment_router)
api.add_router("/", registry_router)
api.add_router("/", inspections_router)
api.add_router("/", complaints_router)

__all__ = ["api"]
