"""The request edge: what every request passes before any view (ADR 0014).

- ``ApiJsonErrorsMiddleware``: every error under ``/api/`` is ``{"code", "message"}``
  JSON, whoever produced it (Django's URL resolver 404, ninja's 405, the 500
  handler, a 400 for a bad Host header, …).
- ``RequestTextGuardMiddleware``: refuses text that a database cannot store (the NUL
  character, and lone UTF-16 surrogates in JSON) in the path, query string, form
  fields, uploaded file names, cookies and JSON bodies, before any view or
  session lookup sees it: 400 with a Chinese page, 422 ``invalid_request`` in the API.
  Refused rather than stripped: no honest client sends them, and a silently altered
  value would be stored or searched as something the user never typed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string

API_PREFIX = "/api/"

# Stable codes and Chinese messages for the statuses the API can answer with.
API_ERRORS: dict[int, tuple[str, str]] = {
    400: ("bad_request", "请求格式不正确"),
    401: ("unauthenticated", "需要登录或有效的 API 令牌"),
    403: ("forbidden", "无权执行此操作"),
    404: ("not_found", "对象不存在或无权访问"),
    405: ("method_not_allowed", "不支持该请求方法"),
    413: ("request_too_large", "请求内容过大"),
    422: ("invalid_request", "请求参数不正确"),
    429: ("too_many_requests", "请求过于频繁，请稍后再试"),
    500: ("server_error", "服务器内部错误，请稍后重试"),
}


def is_api(request: HttpRequest) -> bool:
    # path_info, not path: under a SCRIPT_NAME prefix (/qcity/api/…) it still starts with /api/.
    return request.path_info.startswith(API_PREFIX)


def api_error_body(status: int) -> dict[str, str]:
    code, message = API_ERRORS.get(status, ("error", "请求未能完成"))
    return {"code": code, "message": message}


class ApiJsonErrorsMiddleware:
    """Rewrite any non-JSON error response under /api/ into the API's error shape.

    It is the outermost middleware so that it also sees the responses Django
    builds from exceptions in other middleware and in views. The response object
    is kept (only its body and type change) so headers such as ``Allow``,
    ``Retry-After`` and the security headers survive.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code >= 400
            and is_api(request)
            and not getattr(response, "streaming", False)
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            response.content = json.dumps(api_error_body(response.status_code), ensure_ascii=False)
            response["Content-Type"] = "application/json; charset=utf-8"
            if response.has_header("Content-Length"):
                response["Content-Length"] = str(len(response.content))
        elif response.status_code == 405 and not is_api(request) and not response.content:
            # Pages answer a wrong method (GET /accounts/logout/, a bookmarked map
            # form) with Django's empty 405: a blank page. Say it in Chinese; Allow stays.
            response.content = render_to_string("405.html", request=request)
            response["Content-Type"] = "text/html; charset=utf-8"
            if response.has_header("Content-Length"):
                response["Content-Length"] = str(len(response.content))
        return response


# --- text a database cannot store ------------------------------------------------------------


def unstorable(text: str) -> bool:
    """True for text PostgreSQL cannot store: a NUL character or a lone surrogate."""
    if "\x00" in text:
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


_SUSPECT_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")


class _TooDeep(Exception):
    pass


def _json_strings(document: Any) -> Iterable[str]:
    # A stack, not recursion: the document may be nested as deep as the parser allows.
    stack = [document]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            yield value
        elif isinstance(value, dict):
            yield from value.keys()
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)


def _request_texts(request: HttpRequest) -> Iterable[str]:
    yield request.path
    for key, values in request.GET.lists():
        yield key
        yield from values
    yield from request.COOKIES.keys()
    yield from request.COOKIES.values()
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        for key, values in request.POST.lists():
            yield key
            yield from values
        for key, files in request.FILES.lists():
            yield key
            yield from (f.name or "" for f in files)
    elif request.content_type == "application/json" and request.body:
        try:
            text = request.body.decode(json.detect_encoding(request.body))
            document = json.loads(text)
        except ValueError:
            return  # not JSON at all: the view refuses it with its own error
        except RecursionError:
            raise _TooDeep from None
        # In valid JSON a NUL or a surrogate can only arrive escaped; without such an
        # escape there is nothing to look for in the parsed strings.
        if _SUSPECT_ESCAPE.search(text):
            yield from _json_strings(document)


# The largest body any page or endpoint needs: a plan file at the parser's limit
# (``plans.parser.limits.MAX_FILE_BYTES``, 20 MiB) and its form. Django caps form fields
# (DATA_UPLOAD_MAX_MEMORY_SIZE) but streams files of any size to disk, so a multipart
# body, even an anonymous one to the login page, had no limit at all.
MAX_REQUEST_BYTES = 21 * 1024 * 1024


def _declared_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0  # Django reads such a body as empty


def refuse_too_large(request: HttpRequest, *, fields: bool = False) -> HttpResponse:
    """413 before anything reads the body: JSON under /api/, a Chinese page elsewhere.

    ``fields``: the body was within the limit, but its form fields (text, not files) were
    more than Django reads into memory.
    """
    if is_api(request):
        return JsonResponse(
            api_error_body(413), status=413, json_dumps_params={"ensure_ascii": False}
        )
    context = {"fields_too_large": True} if fields else {"too_large": True}
    return HttpResponse(render_to_string("400.html", context), status=413)


class RequestTextGuardMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _declared_length(request) > MAX_REQUEST_BYTES:
            return refuse_too_large(request)
        try:
            if any(unstorable(text) for text in _request_texts(request)):
                return refuse_unstorable(request)
        except _TooDeep:
            # Nested deeper than Python's parser goes: no view could read it either.
            return refuse_unstorable(request, "请求内容嵌套过深，已拒绝", unstorable=False)
        except RequestDataTooBig:
            # Form fields past DATA_UPLOAD_MAX_MEMORY_SIZE (files are not counted): a page
            # that says so, not Django's bare 400 for a "suspicious operation".
            return refuse_too_large(request, fields=True)
        return self.get_response(request)


def refuse_unstorable(
    request: HttpRequest,
    message: str = "请求中含有无法保存的字符（如空字符 NUL），已拒绝",
    *,
    unstorable: bool = True,
) -> HttpResponse:
    if is_api(request):
        return JsonResponse(
            {"code": "invalid_request", "message": message},
            status=422,
            json_dumps_params={"ensure_ascii": False},
        )
    # A page of its own, not base.html: the session and user are not loaded yet,
    # and loading them could itself read the refused cookie.
    return HttpResponse(render_to_string("400.html", {"unstorable": unstorable}), status=400)
