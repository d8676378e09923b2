"""Hostile query strings, headers and form bodies over every page, export and API endpoint.

Never a server error; under /api/ every error is ``{"code", "message"}`` JSON; a
refused page is a Chinese page; nothing already stored changes. Runs on SQLite
and on PostgreSQL (NUL and 64-bit overflows failed on one or the other).
"""

from __future__ import annotations

import pytest
from django.test import Client, override_settings

from qcity.core.models import ApiToken, OrgUnit, User
from qcity.core.services import issue_api_token
from qcity.metrics.models import Indicator
from qcity.metrics.services import load_default_indicators
from qcity.plans.models import Measure, Plan, Target
from tests.adversarial.corpus import SHORT, VALUES, query_strings

pytestmark = pytest.mark.django_db

# (persona, url template, corpus); {plan} and {measure} are filled from the seed plan.
# Pages that read query parameters get the whole corpus, the others the short one.
PAGES = [
    ("coordinator", "/", SHORT),
    ("coordinator", "/plans/", SHORT),
    ("coordinator", "/plans/{plan}/", SHORT),
    ("coordinator", "/plans/{plan}/measures/{measure}/", SHORT),
    ("nongye", "/plans/mine/", SHORT),
    ("coordinator", "/plans/{plan}/matrix/", SHORT),
    ("coordinator", "/plans/{plan}/search/", VALUES),
    ("nongye", "/plans/{plan}/search/", VALUES),
    ("coordinator", "/plans/{plan}/export.xlsx", SHORT),
    ("coordinator", "/plans/{plan}/matrix/export.xlsx", SHORT),
    ("nongye", "/plans/mine/export.xlsx", SHORT),
    ("coordinator", "/units/pending/", SHORT),
    ("coordinator", "/plans/{plan}/targets/", SHORT),
    ("nongye", "/indicators/", SHORT),
    ("nongye", "/indicators/{indicator}/", SHORT),
    ("coordinator", "/accounts/password/", SHORT),
    (None, "/accounts/login/", VALUES),
    ("sysadmin", "/admin/", SHORT),
    ("sysadmin", "/admin/core/orgunit/", VALUES),
    ("sysadmin", "/admin/core/calendarday/", VALUES),
    ("secadmin", "/admin/core/user/", VALUES),
    ("secadmin", "/admin/core/apitoken/", VALUES),
    ("auditadmin", "/admin/core/auditevent/", VALUES),
]
API = [
    "/api/v1/org-units",
    "/api/v1/org-units/{unit}",
    "/api/v1/plans",
    "/api/v1/plans/{plan}",
    "/api/v1/plans/{plan}/chapters",
    "/api/v1/plans/{plan}/targets",
    "/api/v1/measures",
    "/api/v1/measures/{measure}",
    "/api/v1/indicators",
    "/api/v1/indicators/{indicator}",
    "/api/v1/indicators/{indicator}/values",
    "/api/v1/plans/{plan}/target-status",
    "/api/v1/plans/{plan}/targets/status",
    "/api/v1/targets/{target}/status",
    "/api/v1/openapi.json",
]


@pytest.fixture
def world(plan, personas):
    for name in ("sysadmin", "secadmin", "auditadmin"):
        User.objects.filter(username=name).update(is_staff=True)
    load_default_indicators()
    ids = {
        "plan": plan.pk,
        "measure": Measure.objects.filter(plan=plan).order_by("seq").first().pk,
        "unit": OrgUnit.objects.get(name="市农业农村局").pk,
        "indicator": Indicator.objects.get(code="agri_monitoring_pass_rate").pk,
        "target": Target.objects.filter(plan=plan).order_by("seq").first().pk,
    }
    return ids, {name: User.objects.get(username=name) for name in personas}


def _snapshot() -> tuple:
    """What must not change: the stored plan, units and accounts."""
    return (
        list(Plan.objects.values_list("pk", "title", "issuer")),
        list(Measure.objects.order_by("pk").values_list("pk", "title", "text", "withdrawn")),
        list(OrgUnit.objects.order_by("pk").values_list("pk", "name", "path", "disabled_on")),
        list(
            User.objects.order_by("pk").values_list("pk", "username", "role", "unit_id", "password")
        ),
        list(ApiToken.objects.order_by("pk").values_list("pk", "revoked_at")),
    )


def _check(response, url: str, qs: str) -> None:
    where = f"{url}?{qs[:120]}"
    assert response.status_code < 500, where
    if url.startswith("/api/") and response.status_code >= 400:
        assert response["Content-Type"].startswith("application/json"), where
        body = response.json()
        assert body["code"] and body["message"], where
    elif response.status_code == 400:
        assert "请求无法处理" in response.content.decode(), where


@pytest.mark.parametrize(("persona", "template", "values"), PAGES)
def test_pages_survive_hostile_query_strings(world, persona, template, values):
    ids, users = world
    client = Client(raise_request_exception=True)
    if persona:
        client.force_login(users[persona])
    url = template.format(**ids)
    before = _snapshot()
    for qs in query_strings(values):
        _check(client.get(f"{url}?{qs}"), url, qs)
        if "search" in url:
            _check(client.get(f"{url}?{qs}", HTTP_HX_REQUEST="true"), url, qs)
    assert _snapshot() == before


@pytest.mark.parametrize("template", API)
@pytest.mark.parametrize("auth", ["session", "token", "anonymous"])
def test_api_endpoints_survive_hostile_query_strings(world, template, auth):
    ids, users = world
    client = Client(raise_request_exception=True)
    headers = {}
    if auth == "session":
        client.force_login(users["coordinator"])
    elif auth == "token":
        token = issue_api_token(users["coordinator"], name="corpus", by=users["secadmin"])
        headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    url = template.format(**ids)
    before = _snapshot()
    # Anonymous requests stop at authentication (or at the NUL guard before it).
    for qs in query_strings(SHORT if auth == "anonymous" else VALUES):
        _check(client.get(f"{url}?{qs}", **headers), url, qs)
    assert _snapshot() == before


@pytest.mark.parametrize("value", [*VALUES[:12], "a" * 20000, "Bearer", "Basic YTpi"])
def test_hostile_authorization_and_forwarding_headers_are_refused_cleanly(world, value):
    ids, _ = world
    client = Client(raise_request_exception=True)
    for url in ("/api/v1/plans", f"/api/v1/plans/{ids['plan']}"):
        for header in (f"Bearer {value}", value, f"Bearer qc_{value}"):
            response = client.get(
                url,
                HTTP_AUTHORIZATION=header,
                HTTP_X_FORWARDED_FOR=value,
                HTTP_ACCEPT_LANGUAGE=value,
            )
            _check(response, url, header)
            assert response.status_code in (401, 422), header


@override_settings(LOGIN_RATE_LIMIT_PER_ADDRESS=10_000, LOGIN_RATE_LIMIT_PER_ACCOUNT=10_000)
def test_the_login_form_survives_hostile_names_and_passwords(world):
    _, _users = world
    from urllib.parse import unquote

    before = _snapshot()
    client = Client(raise_request_exception=True)
    for value in VALUES:
        text = unquote(value, errors="replace")
        for data in (
            {"username": text, "password": text},
            {"username": "nongye", "password": text},
        ):
            response = client.post("/accounts/login/", data)
            assert response.status_code in (200, 400), value
        # A raw, hand-made body with the same bytes.
        response = client.post(
            "/accounts/login/",
            f"username={value}&password={value}",
            content_type="application/x-www-form-urlencoded",
        )
        assert response.status_code in (200, 400), value
    assert _snapshot() == before


def test_malformed_bodies_to_the_api_are_refused_in_json(world):
    _, users = world
    client = Client(raise_request_exception=True)
    client.force_login(users["coordinator"])
    bodies = [
        ("application/json", b"{"),
        ("application/json", b'{"a": "\\u0000"}'),
        ("application/json", b"\xff\xfe"),
        ("application/json", b"[" * 5000 + b"]" * 5000),
        ("multipart/form-data", b"--x\r\n"),
        ("multipart/form-data; boundary=x", b"--x\r\nContent-Disposition: form-data\r\n\r\n"),
        ("application/x-www-form-urlencoded", b"a=%00"),
        ("text/plain", b"\x00\x00"),
    ]
    for content_type, body in bodies:
        for url in ("/api/v1/plans", "/api/v1/nothing"):
            response = client.post(url, body, content_type=content_type)
            _check(response, url, content_type)
            assert 400 <= response.status_code < 500, (url, content_type)
