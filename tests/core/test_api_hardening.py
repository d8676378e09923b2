"""Issue 6, items 4, 5, 6, 7 and 13 (rate limits): the API and request edge under bad input.

Each test runs on SQLite and on PostgreSQL (CI runs the suite on both); several of
these failures (NUL bytes, 64-bit overflows) were PostgreSQL- or SQLite-only.
"""

from __future__ import annotations

import json
import re
import threading

import pytest
import time_machine
from django.db import connection
from django.http import HttpRequest
from django.test import Client, RequestFactory, override_settings
from django.urls import path

from qcity.api import api
from qcity.core import ratelimit
from qcity.core.dbguards import install_audit_guards, remove_audit_guards
from qcity.core.models import AuditEvent, RateLimitCounter, User
from qcity.core.paging import MAX_LIMIT, MAX_OFFSET, LimitOffset
from qcity.core.services import (
    change_own_password,
    issue_api_token,
    reset_password,
    unlock_user,
)
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

LISTS = ["/api/v1/measures", "/api/v1/org-units", "/api/v1/plans"]


@pytest.fixture
def world(plan, personas):
    return plan, personas


def _bearer(raw: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def _assert_api_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == code
    assert isinstance(body["message"], str) and body["message"]
    return body


# --- 4. bearer tokens follow the account rules ------------------------------------------------


def test_a_token_stops_working_while_its_owner_must_change_a_temporary_password(client, world):
    _, users = world
    raw = issue_api_token(users["nongye"], name="对接", by=users["secadmin"])
    assert client.get("/api/v1/plans", **_bearer(raw)).status_code == 200

    reset_password(users["nongye"], by=users["secadmin"])
    _assert_api_error(client.get("/api/v1/plans", **_bearer(raw)), 403, "password_change_required")
    _assert_api_error(
        client.get("/api/v1/measures/1", **_bearer(raw)), 403, "password_change_required"
    )

    change_own_password(User.objects.get(username="nongye"), "Another#Password2027", ip=None)
    assert client.get("/api/v1/plans", **_bearer(raw)).status_code == 200


@override_settings(LOGIN_FAILURE_LIMIT=3)
def test_a_token_stops_working_while_its_owners_account_is_locked(client, world):
    _, users = world
    raw = issue_api_token(users["gongxin"], name="对接", by=users["secadmin"])
    for _ in range(3):
        Client().post("/accounts/login/", {"username": "gongxin", "password": "wrong"})
    assert User.objects.get(username="gongxin").is_locked()

    _assert_api_error(client.get("/api/v1/plans", **_bearer(raw)), 403, "account_locked")

    unlock_user(User.objects.get(username="gongxin"), by=users["secadmin"])
    assert client.get("/api/v1/plans", **_bearer(raw)).status_code == 200


def test_a_session_that_must_change_its_password_gets_the_same_code_as_a_token(client, world):
    _, users = world
    reset_password(users["kaiyuan"], by=users["secadmin"])
    client.force_login(User.objects.get(username="kaiyuan"))
    _assert_api_error(client.get("/api/v1/org-units"), 403, "password_change_required")


# --- 5. paging values are bounded -------------------------------------------------------------


@pytest.mark.parametrize("endpoint", LISTS)
@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("offset", "9223372036854775808"),
        ("offset", str(2**64)),
        ("offset", str(MAX_OFFSET + 1)),
        ("offset", "-1"),
        ("limit", "9223372036854775808"),
        ("limit", str(MAX_LIMIT + 1)),
        ("limit", "0"),
        ("limit", "-5"),
        ("limit", "1e309"),
        ("offset", "NaN"),
        ("limit", "１０"),
    ],
)
def test_out_of_range_paging_values_are_refused_with_422(client, world, endpoint, name, value):
    _, users = world
    client.force_login(users["coordinator"])
    body = _assert_api_error(client.get(endpoint, {name: value}), 422, "invalid_request")
    assert any(name in str(error.get("loc")) for error in body["errors"])


@pytest.mark.parametrize("endpoint", LISTS)
def test_the_largest_allowed_paging_values_still_answer(client, world, endpoint):
    _, users = world
    client.force_login(users["coordinator"])
    far = client.get(endpoint, {"offset": MAX_OFFSET, "limit": MAX_LIMIT})
    assert far.status_code == 200 and far.json()["items"] == []
    first = client.get(endpoint, {"offset": 0, "limit": 1})
    assert first.status_code == 200 and len(first.json()["items"]) == 1


def test_the_paging_bounds_are_in_the_openapi_document(client):
    schema = client.get("/api/v1/openapi.json").json()
    for endpoint in LISTS:
        parameters = {
            p["name"]: p["schema"] for p in schema["paths"][endpoint]["get"]["parameters"]
        }
        assert parameters["limit"]["minimum"] == 1 and parameters["limit"]["maximum"] == MAX_LIMIT
        assert parameters["offset"]["minimum"] == 0
        assert parameters["offset"]["maximum"] == MAX_OFFSET


def test_paginate_without_a_class_gets_the_bounded_one_too():
    from django.utils.module_loading import import_string
    from ninja.conf import settings as ninja_settings

    assert import_string(ninja_settings.PAGINATION_CLASS) is LimitOffset


def test_huge_object_ids_are_not_found_rather_than_a_server_error(client, world):
    _, users = world
    client.force_login(users["coordinator"])
    for url in (
        f"/api/v1/plans/{2**63}",
        f"/api/v1/measures/{2**64}",
        f"/api/v1/org-units/{2**63 - 1}",
        f"/api/v1/plans/{2**70}/targets",
    ):
        _assert_api_error(client.get(url), 404, "not_found")
    _assert_api_error(client.get("/api/v1/measures", {"plan_id": 2**64}), 404, "not_found")


def test_an_over_long_search_is_refused_not_cut(client, world):
    _, users = world
    client.force_login(users["coordinator"])
    _assert_api_error(client.get("/api/v1/measures", {"q": "质" * 101}), 422, "invalid_request")
    assert client.get("/api/v1/measures", {"q": "质" * 100}).status_code == 200


# --- 6. every response under /api/v1/ is JSON with a stable code -------------------------------


def test_an_unknown_path_under_the_api_is_a_json_404(client, world):
    _, users = world
    for url in ("/api/v1/nothing-here", "/api/v1/", "/api/v2/plans", "/api/v1/measures/1/x"):
        _assert_api_error(client.get(url), 404, "not_found")
    client.force_login(users["coordinator"])
    _assert_api_error(client.get("/api/v1/measures/x/y"), 404, "not_found")
    # A known path with a malformed id is a parameter error, after authentication.
    _assert_api_error(client.get("/api/v1/plans/abc"), 422, "invalid_request")


def test_a_wrong_method_is_a_json_405_that_says_which_methods_are_allowed(client, world):
    _, users = world
    client.force_login(users["coordinator"])
    for method in ("post", "put", "delete", "patch"):
        response = getattr(client, method)("/api/v1/plans")
        _assert_api_error(response, 405, "method_not_allowed")
        assert "GET" in response["Allow"]


def test_a_bad_host_header_is_a_json_400(client):
    _assert_api_error(client.get("/api/v1/plans", HTTP_HOST="evil.example"), 400, "bad_request")


def boom(request: HttpRequest):
    raise RuntimeError("forced failure for the test")


urlpatterns = [path("api/v1/_boom", boom), path("plans/_boom", boom)]


@pytest.mark.urls(__name__)
@pytest.mark.parametrize("debug", [False, True])
def test_a_server_error_under_the_api_is_json_without_a_traceback(settings, debug):
    settings.DEBUG = debug
    response = Client(raise_request_exception=False).get("/api/v1/_boom")
    _assert_api_error(response, 500, "server_error")
    assert b"Traceback" not in response.content and b"forced failure" not in response.content
    # Pages keep their HTML error page.
    page = Client(raise_request_exception=False).get("/plans/_boom")
    assert page.status_code == 500 and page["Content-Type"].startswith("text/html")


def test_an_exception_inside_an_api_operation_is_answered_as_json(settings):
    settings.DEBUG = True  # ninja's own default would answer with the traceback as text
    request = RequestFactory().get("/api/v1/plans")
    response = api.on_exception(request, RuntimeError("secret detail"))
    assert response.status_code == 500
    body = json.loads(response.content)
    assert body["code"] == "server_error" and "secret detail" not in response.content.decode()


def test_every_operation_documents_every_error_status_it_can_answer(client):
    schema = client.get("/api/v1/openapi.json").json()
    assert {"code", "message"} <= set(schema["components"]["schemas"]["Error"]["properties"])
    for url, operations in schema["paths"].items():
        for operation in operations.values():
            statuses = set(operation["responses"])
            assert {"400", "401", "403", "422", "429", "500"} <= statuses, url
            # 200, or 201 for what an operation creates and 204 for what it removes.
            assert statuses & {"200", "201", "204"}, url
            if "{" in url:
                assert "404" in statuses, url
            error = operation["responses"]["401"]["content"]["application/json"]["schema"]
            assert error == {"$ref": "#/components/schemas/Error"}


# --- 7. text a database cannot store is refused at the edge -----------------------------------


@pytest.mark.parametrize("query", ["\x00", "x\x00", "农资\x00打假"])
def test_a_nul_in_a_page_search_is_a_chinese_400_not_a_server_error(client, world, query):
    plan, users = world
    client.force_login(users["coordinator"])
    response = client.get(f"/plans/{plan.pk}/search/", {"q": query})
    assert response.status_code == 400
    assert "无法保存的字符" in response.content.decode()
    htmx = client.get(f"/plans/{plan.pk}/search/", {"q": query}, HTTP_HX_REQUEST="true")
    assert htmx.status_code == 400


@pytest.mark.parametrize(
    ("url", "params"),
    [
        ("/api/v1/measures", {"q": "x\x00"}),
        ("/api/v1/measures", {"q": "ok", "plan_id": "1\x00"}),
        ("/api/v1/plans", {"offset": "\x00"}),
        ("/api/v1/org-units", {"x\x00y": "1"}),
    ],
)
def test_a_nul_in_an_api_parameter_is_invalid_request(client, world, url, params):
    _, users = world
    client.force_login(users["coordinator"])
    _assert_api_error(client.get(url, params), 422, "invalid_request")


def test_a_nul_in_a_json_body_or_a_lone_surrogate_is_invalid_request(client, world):
    _, users = world
    client.force_login(users["coordinator"])
    bodies = [
        b'{"title": "a\\u0000b"}',
        b'{"a\\u0000": 1}',
        b'["\\ud800"]',
        b'{"deep": [[[{"x": ["ok", "\\uDC00"]}]]]}',
        '{"title": "a\\u0000b"}'.encode("utf-16"),  # json reads UTF-16 and UTF-32 too
    ]
    for body in bodies:
        response = client.post("/api/v1/plans", body, content_type="application/json")
        _assert_api_error(response, 422, "invalid_request")
    # An escaped backslash before "u0000" is text, not a NUL: it reaches the API (405 here).
    response = client.post("/api/v1/plans", b'{"a": "\\\\u0000"}', content_type="application/json")
    _assert_api_error(response, 405, "method_not_allowed")


def test_a_nul_in_the_login_form_changes_nothing(client, world):
    events = AuditEvent.objects.count()
    response = client.post("/accounts/login/", {"username": "nongye\x00", "password": "x"})
    assert response.status_code == 400
    response = client.post("/accounts/login/", {"username": "nongye", "password": "a\x00"})
    assert response.status_code == 400
    assert AuditEvent.objects.count() == events
    assert User.objects.get(username="nongye").failed_login_count == 0


def test_a_nul_in_a_cookie_or_the_path_is_refused_before_the_session_is_read(world):
    plan, _ = world
    client = Client()
    client.cookies["sessionid"] = "abcdefgh\x00ijklmnop"
    assert client.get("/plans/").status_code == 400
    _assert_api_error(client.get("/api/v1/plans"), 422, "invalid_request")
    assert Client().get(f"/plans/{plan.pk}/%00/").status_code == 400


def test_a_nul_in_a_multipart_upload_form_is_refused(client, world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    _, users = world
    client.force_login(users["coordinator"])
    for data in (
        {"title": "方案\x00", "file": SimpleUploadedFile("plan.txt", b"text")},
        {"fi\x00le": SimpleUploadedFile("plan.txt", b"text")},
    ):
        assert client.post("/units/pending/", data).status_code == 400
    # Django itself drops non-printable characters from uploaded file names.
    upload = SimpleUploadedFile("plan\x00.txt", b"text")
    assert client.post("/units/pending/", {"file": upload}).status_code == 200


def test_form_fields_refuse_nul_characters_on_their_own_too():
    # The guard runs first; Django's CharField keeps refusing them where a form is used directly.
    from qcity.core.forms import LoginForm

    form = LoginForm(data={"username": "a\x00", "password": "b"})
    assert not form.is_valid() and "username" in form.errors


# --- 13. login and token attempts are rate-limited --------------------------------------------


@pytest.fixture
def frozen_clock():
    # Counters are per fixed window: a test must not straddle a window's end by chance.
    with time_machine.travel("2026-05-06 10:02:30 +0800", tick=False):
        yield


def _login(client, username, password, ip="10.0.0.1"):
    return client.post(
        "/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=ip
    )


@override_settings(LOGIN_RATE_LIMIT_PER_ACCOUNT=3, LOGIN_FAILURE_LIMIT=100)
def test_login_attempts_for_one_account_are_limited_even_with_the_right_password(
    client, world, frozen_clock
):
    for n in range(3):
        assert _login(client, "nongye", "wrong", ip=f"10.0.1.{n}").status_code == 200
    response = _login(client, "nongye", PASSWORD, ip="10.0.1.9")
    assert response.status_code == 429
    assert "登录尝试过于频繁" in response.content.decode()
    assert int(response["Retry-After"]) > 0
    # The refused attempt never reached the password check.
    assert User.objects.get(username="nongye").failed_login_count == 3
    assert not AuditEvent.objects.filter(action="auth.login").exists()
    event = AuditEvent.objects.get(action="auth.rate_limited")
    assert event.details["reason"] == "login_per_account" and event.actor_label == "nongye"
    # Other accounts are unaffected.
    assert _login(client, "gongxin", PASSWORD, ip="10.0.1.9").status_code == 302


@override_settings(LOGIN_RATE_LIMIT_PER_ADDRESS=5)
def test_login_attempts_from_one_address_are_limited_across_accounts(client, world, frozen_clock):
    names = ["a1", "a2", "a3", "a4", "nongye"]
    for name in names:
        assert _login(client, name, "wrong", ip="10.0.2.1").status_code == 200
    assert _login(client, "gongxin", PASSWORD, ip="10.0.2.1").status_code == 429
    assert _login(client, "gongxin", PASSWORD, ip="10.0.2.2").status_code == 302
    # Further refusals in the same window are not audited one by one.
    for _ in range(5):
        _login(Client(), "x", "y", ip="10.0.2.1")
    assert AuditEvent.objects.filter(action="auth.rate_limited").count() == 1


@override_settings(LOGIN_RATE_LIMIT_PER_ACCOUNT=2, LOGIN_FAILURE_LIMIT=100)
def test_the_limit_message_does_not_tell_whether_an_account_exists(client, world, frozen_clock):
    pages = {}
    for name in ("nongye", "no-such-user"):
        for _ in range(2):
            _login(client, name, "wrong")
        response = _login(client, name, "wrong")
        assert response.status_code == 429
        error = re.search(r'data-testid="login-error">(.*?)</div>', response.content.decode())
        pages[name] = (response.status_code, error.group(1), response["Retry-After"])
    assert pages["nongye"] == pages["no-such-user"]


@override_settings(LOGIN_RATE_LIMIT_PER_ACCOUNT=2, RATE_LIMIT_WINDOW_SECONDS=300)
def test_the_login_limit_lifts_when_the_window_has_passed(client, world):
    with time_machine.travel("2026-05-06 09:00:10 +0800", tick=False):
        _login(client, "nongye", "wrong")
        _login(client, "nongye", "wrong")
        assert _login(client, "nongye", PASSWORD).status_code == 429
    with time_machine.travel("2026-05-06 09:05:01 +0800", tick=False):
        assert _login(client, "nongye", PASSWORD).status_code == 302
    # The old window's counters were cleared when the new one opened.
    assert not RateLimitCounter.objects.filter(hits__gt=1).exists()


@override_settings(API_TOKEN_FAILURE_LIMIT_PER_ADDRESS=4)
def test_bad_tokens_from_one_address_are_limited_and_then_every_token_waits(
    client, world, frozen_clock
):
    _, users = world
    good = issue_api_token(users["nongye"], name="对接", by=users["secadmin"])
    for n in range(4):
        response = client.get("/api/v1/plans", REMOTE_ADDR="10.0.3.1", **_bearer(f"qc_bad{n}"))
        _assert_api_error(response, 401, "unauthenticated")
    response = client.get("/api/v1/plans", REMOTE_ADDR="10.0.3.1", **_bearer(good))
    _assert_api_error(response, 429, "too_many_requests")
    assert int(response["Retry-After"]) > 0
    assert client.get("/api/v1/plans", REMOTE_ADDR="10.0.3.2", **_bearer(good)).status_code == 200
    event = AuditEvent.objects.get(action="auth.rate_limited")
    assert event.details["reason"] == "api_token_per_address" and event.ip == "10.0.3.1"


@override_settings(API_TOKEN_FAILURE_LIMIT_PER_ADDRESS=3)
def test_good_tokens_do_not_count_towards_the_token_limit(client, world, frozen_clock):
    _, users = world
    good = issue_api_token(users["nongye"], name="对接", by=users["secadmin"])
    for _ in range(10):
        assert client.get("/api/v1/plans", **_bearer(good)).status_code == 200


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_behind_a_proxy_the_address_is_the_one_the_proxy_saw(world):
    factory = RequestFactory()
    request = factory.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 10.0.4.7")
    assert ratelimit.client_ip(request) == "10.0.4.7"
    request = factory.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="not-an-address")
    assert ratelimit.client_ip(request) == "127.0.0.1"
    with override_settings(TRUSTED_PROXY_COUNT=0):
        request = factory.get("/", REMOTE_ADDR="10.0.4.8", HTTP_X_FORWARDED_FOR="6.6.6.6")
        assert ratelimit.client_ip(request) == "10.0.4.8"


@pytest.fixture
def committed_db(transactional_db):
    install_audit_guards(connection)
    yield
    # The test database is emptied after a transactional test; the guards would refuse it.
    remove_audit_guards(connection)


def test_the_counters_are_shared_by_every_connection_and_lose_no_attempt(committed_db):
    # Each thread has its own database connection, as each worker process has.
    seen: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            for _ in range(10):
                count = ratelimit.hit("test:shared")
                with lock:
                    seen.append(count)
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sorted(seen) == list(range(1, 41))
    assert ratelimit.hits("test:shared") == 40


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("LOGIN_RATE_LIMIT_PER_ACCOUNT", "0", "at least 1"),
        ("LOGIN_RATE_LIMIT_PER_ADDRESS", "many", "must be an integer"),
        ("API_TOKEN_FAILURE_LIMIT_PER_ADDRESS", "-3", "at least 1"),
        ("RATE_LIMIT_WINDOW_SECONDS", "5m", "must be an integer"),
        ("TRUSTED_PROXY_COUNT", "-1", "at least 0"),
    ],
)
def test_a_malformed_rate_limit_setting_stops_start_up_naming_it(name, value, says):
    from tests.core.test_security import _run_settings_check

    result = _run_settings_check({name: value})
    assert result.returncode != 0
    assert name in result.stderr and says in result.stderr


# --- ninja's own refusals speak Chinese too --------------------------------------------------

HAN = re.compile(r"[\u4e00-\u9fff]")


def test_a_body_that_is_not_json_is_a_chinese_400(client, world):
    _, users = world
    client.force_login(users["coordinator"])
    response = client.post("/api/v1/org-units/1/map", data="{", content_type="application/json")
    body = _assert_api_error(response, 400, "bad_request")
    # ninja's text was "Cannot parse request body (Expecting property name …)".
    assert HAN.search(body["message"]) and "Cannot parse" not in body["message"]


def test_a_session_post_without_csrf_is_a_chinese_403(world):
    _, users = world
    client = Client(enforce_csrf_checks=True)
    client.force_login(users["coordinator"])
    response = client.post(
        "/api/v1/org-units/1/map", data={"onto_id": 2}, content_type="application/json"
    )
    body = _assert_api_error(response, 403, "forbidden")
    assert HAN.search(body["message"]) and "CSRF check Failed" not in body["message"]


@pytest.mark.parametrize(
    ("persona", "url"),
    [(None, "/accounts/logout/"), ("coordinator", "/units/pending/1/map/")],
)
def test_a_wrong_method_on_a_page_is_a_chinese_405_not_a_blank_page(client, world, persona, url):
    _, users = world
    if persona:
        client.force_login(users[persona])
    response = client.get(url)
    assert response.status_code == 405
    assert "POST" in response["Allow"]
    page = response.content.decode()
    # Django's own 405 has an empty body: the user saw a blank page.
    assert "不支持该请求方式" in page and response["Content-Type"].startswith("text/html")


def test_a_form_posted_without_its_csrf_token_gets_a_chinese_page(world):
    _, users = world
    client = Client(enforce_csrf_checks=True)
    client.force_login(users["coordinator"])
    response = client.post("/units/pending/1/confirm/", {"kind": "department"})
    assert response.status_code == 403
    page = response.content.decode()
    # Django's own page said "CSRF验证失败" and, in production, "请设置选项DEBUG＝True".
    assert "页面已过期" in page and "DEBUG" not in page


# --- the size of a request body ---------------------------------------------------------------


def test_a_body_over_the_request_limit_is_refused_before_it_is_read(client, world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from qcity.core.edge import MAX_REQUEST_BYTES
    from qcity.plans.parser.limits import MAX_FILE_BYTES

    # A plan file at the parser's limit still fits, with its form.
    assert MAX_REQUEST_BYTES > MAX_FILE_BYTES
    huge = SimpleUploadedFile("plan.docx", b"\0" * (MAX_REQUEST_BYTES + 1))
    # Anonymous, to the login page: Django would have streamed it to disk.
    response = client.post("/accounts/login/", {"username": "x", "file": huge})
    assert response.status_code == 413
    assert "超过了系统允许的大小" in response.content.decode()
    huge.seek(0)
    response = client.post("/api/v1/org-units/1/map", {"file": huge})
    _assert_api_error(response, 413, "request_too_large")
    small = SimpleUploadedFile("plan.docx", b"\0" * 1024)
    assert client.post("/accounts/login/", {"username": "x", "file": small}).status_code == 200


@pytest.mark.parametrize(
    "url", ["/", "/plans/", "/plans/mine/", "/plans/mine/export.xlsx", "/indicators/"]
)
@pytest.mark.parametrize("method", ["post", "put", "delete", "trace"])
def test_a_read_only_page_refuses_writing_methods(client, world, url, method):
    # A page that only shows data must not answer a POST (or TRACE) as if it were a GET.
    _, users = world
    client.force_login(users["coordinator"])
    response = getattr(client, method)(url)
    assert response.status_code == 405
    assert set(response["Allow"].replace(" ", "").split(",")) == {"GET", "HEAD"}
    assert "不支持该请求方式" in response.content.decode()
