"""The data-scope matrix of 12315 (issue 9, "What must be shown").

Two counties (开原 A, 西丰 B), an enterprise in ODR, a complainant following a case with
number and receipt code, and the public, over every complaints page and API endpoint on
the branch (the API's list, detail, history, steps and intake; the staff entry page; the
portal's form and follow page). Extend ``API_READS``/``PAGES`` as pages and exports land.

What it proves: B sees and changes nothing of A; the enterprise sees the complaints about
itself and nothing else, and no response it gets carries a reporter's identity (name,
phone, masked or not) or a report's number; the complainant sees their own case only; the
public sees no case at all.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine
from django.test import Client

from qcity.complaints import intake
from qcity.complaints.models import Case, OdrEnrolment
from qcity.core.models import Transition
from qcity.core.services import issue_api_token
from tests.complaints.helpers import XIFENG_BUREAU, enterprise_user, make_entity
from tests.complaints.test_intake import complaint_fields

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 6, 1, 2, 0, tzinfo=dt.UTC)
REPORTER = {"name": "赵举报", "phone": "13711112222"}
REPORTER_TRACES = ("赵举报", "赵**", "13711112222", "137****2222", "137-1111-2222")


@pytest.fixture
def world(personas, calendar):
    with time_machine.travel(NOW, tick=False):
        odr_entity = make_entity()  # in county A (开原)
        OdrEnrolment.objects.create(
            entity=odr_entity, joined_on=dt.date(2026, 1, 5), enrolled_by=personas["kaiyuan"]
        )
        b_entity = make_entity(XIFENG_BUREAU, address="辽宁省铁岭市西丰县人民路1号")
        officer = personas["kaiyuan"]
        complaint = intake.submit(
            complaint_fields(respondent_code=odr_entity.code), channel="phone", by=officer
        )
        report = intake.submit(
            complaint_fields(
                kinds="report",
                person_name=REPORTER["name"],
                person_phone=REPORTER["phone"],
                respondent_code=odr_entity.code,
                facts="该企业销售过期食品。",
            ),
            channel="phone",
            by=officer,
        )
        anonymous_report = intake.submit(
            complaint_fields(
                kinds="report",
                anonymous=True,
                person_name="",
                person_phone="",
                person_id_number="",
                person_address="",
                respondent_code=odr_entity.code,
                facts="该企业无证经营。",
            ),
            channel="web",
        )
        theirs = intake.submit(
            complaint_fields(respondent_code=b_entity.code), channel="phone", by=officer
        )
    cases = {
        "complaint": complaint.cases[0],
        "report": report.cases[0],
        "anonymous_report": anonymous_report.cases[0],
        "county_b": theirs.cases[0],
    }
    assert cases["complaint"].status == Case.Status.ODR  # the enterprise handles it first
    assert cases["county_b"].owner_unit.name == XIFENG_BUREAU
    enterprise = enterprise_user(odr_entity)

    def api(user) -> Client:
        token = issue_api_token(user, name="对接", by=personas["secadmin"])
        return Client(headers={"Authorization": f"Bearer {token}"})

    return {
        "cases": cases,
        "receipt": complaint.receipt_code,
        "clients": {
            "county_a": api(personas["kaiyuan"]),
            "county_b": api(personas["xifeng"]),
            "enterprise": api(enterprise),
            "public": Client(),
        },
    }


# Which cases each persona may read through the API.
VISIBLE = {
    "county_a": {"complaint", "report", "anonymous_report"},
    "county_b": {"county_b"},
    "enterprise": {"complaint"},
    "public": set(),
}


def _reads(world, persona: str):
    """Every API read for every case, as (label, response)."""
    client = world["clients"][persona]
    yield "list", client.get("/api/v1/complaints/cases?limit=1000")
    for kind in ("complaint", "report", ""):
        yield f"list kind={kind}", client.get(f"/api/v1/complaints/cases?kind={kind}")
    for name, case in world["cases"].items():
        base = f"/api/v1/complaints/cases/{case.number}"
        yield f"{name} detail", client.get(base)
        yield f"{name} history", client.get(f"{base}/history")


@pytest.mark.parametrize("persona", list(VISIBLE))
def test_each_persona_reads_exactly_its_cases_through_the_api(world, persona):
    numbers = {name: case.number for name, case in world["cases"].items()}
    responses = dict(_reads(world, persona))
    listed = responses["list"]
    if persona == "public":
        assert listed.status_code == 401
    else:
        assert {c["number"] for c in listed.json()["items"]} == {
            numbers[name] for name in VISIBLE[persona]
        }
    for name in numbers:
        for what in ("detail", "history"):
            response = responses[f"{name} {what}"]
            expected = 200 if name in VISIBLE[persona] else (401 if persona == "public" else 404)
            assert response.status_code == expected, (persona, name, what)
    # Nothing out of scope is named anywhere in what the persona received.
    hidden = [numbers[name] for name in numbers if name not in VISIBLE[persona]]
    for label, response in responses.items():
        text = response.content.decode()
        for number in hidden:
            assert number not in text, (persona, label, number)


@pytest.mark.parametrize("persona", ["county_b", "enterprise", "public"])
def test_no_step_can_be_taken_on_county_as_cases_from_outside(world, persona):
    client = world["clients"][persona]
    for name in ("complaint", "report"):
        case = world["cases"][name]
        for step in ("accept", "refuse", "file", "transfer"):
            response = client.post(
                f"/api/v1/complaints/cases/{case.number}/steps/{step}",
                json.dumps({"reason": "试图越权"}),
                content_type="application/json",
            )
            assert response.status_code in (401, 403, 404, 422), (persona, name, step)
            if name == "report" or persona != "enterprise":
                # The report is not even visible to the enterprise: never 403 or 422 there.
                assert response.status_code in (401, 404), (persona, name, step)
        before = case.status
        case.refresh_from_db()
        assert case.status == before
    assert not Transition.objects.exists()


def test_a_reporters_identity_never_reaches_the_enterprise(world):
    client = world["clients"]["enterprise"]
    responses = list(_reads(world, "enterprise"))
    complaint = world["cases"]["complaint"].number
    responses.append(
        ("search by phone", client.get(f"/api/v1/complaints/cases?phone={REPORTER['phone']}"))
    )
    responses.append(("its own case", client.get(f"/api/v1/complaints/cases/{complaint}")))
    for label, response in responses:
        text = response.content.decode()
        for trace in REPORTER_TRACES:
            assert trace not in text, (label, trace)
    # The county that handles the report sees the reporter, masked.
    bureau = world["clients"]["county_a"]
    detail = bureau.get(f"/api/v1/complaints/cases/{world['cases']['report'].number}").json()
    assert detail["person"]["name"] == "赵**" and detail["person"]["phone"] == "137****2222"


def test_the_enterprise_and_the_public_cannot_use_the_staff_entry_page(world, personas):
    page = "/complaints/new/"
    public = world["clients"]["public"].get(page)
    assert public.status_code == 302 and "/accounts/login/" in public["Location"]
    for name in ("enterprise", "outsider", "inspector"):
        client = Client()
        client.force_login(personas[name])
        assert client.get(page).status_code == 403, name
    county = Client()
    county.force_login(personas["kaiyuan"])
    assert county.get(page).status_code == 200


def test_the_complainant_follows_their_own_case_and_nothing_else(world):
    follow = "/portal/complaints/follow/"
    public = Client()
    complaint = world["cases"]["complaint"]
    own = public.post(follow, {"number": complaint.number, "code": world["receipt"]})
    assert own.status_code == 200
    text = own.content.decode()
    assert complaint.number in text
    for trace in REPORTER_TRACES:
        assert trace not in text
    # The same receipt code opens no other case, and a wrong code looks like no case.
    for other in ("report", "county_b"):
        response = public.post(
            follow, {"number": world["cases"][other].number, "code": world["receipt"]}
        )
        assert response.status_code == 404
        assert world["cases"][other].number not in response.content.decode().split("value=")[0]
    wrong = public.post(follow, {"number": complaint.number, "code": "ABCDE-FGHJK"})
    assert wrong.status_code == 404


def test_the_public_sees_no_case_on_the_portal_forms(world):
    public = Client()
    for page in ("/portal/complaints/new/", "/portal/complaints/follow/"):
        response = public.get(page)
        assert response.status_code == 200
        text = response.content.decode()
        for case in world["cases"].values():
            assert case.number not in text
        for trace in REPORTER_TRACES:
            assert trace not in text
    assert public.get("/api/v1/complaints/cases").status_code == 401


# --- pages and exports (officers' pages, the ODR pages, statistics, the portal) ---------------


def _xlsx_text(content: bytes) -> str:
    import io

    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(content), read_only=True)
    return " ".join(
        str(value)
        for sheet in book.worksheets
        for row in sheet.iter_rows(values_only=True)
        for value in row
        if value is not None
    )


def _page_text(response) -> str:
    if response.get("Content-Type", "").startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml"
    ):
        return _xlsx_text(response.content)
    return response.content.decode(errors="replace")


@pytest.fixture
def sessions(world, personas):
    enterprise_account = (
        world["cases"]["complaint"].respondent_entity.accounts.select_related("user").get().user
    )
    users = {
        "county_a": personas["kaiyuan"],
        "county_b": personas["xifeng"],
        "enterprise": enterprise_account,
    }
    clients = {"public": Client()}
    for name, user in users.items():
        client = Client()
        client.force_login(user)
        clients[name] = client
    return clients


def _pages(world):
    cases = world["cases"]
    yield "case list", "/complaints/", "get"
    yield "case export", "/complaints/export.xlsx", "get"
    yield "statistics", "/complaints/statistics/", "get"
    yield "statistics export", "/complaints/statistics/export.xlsx", "get"
    yield "odr inbox", "/complaints/odr/", "get"
    yield "portal list", "/portal/complaints/", "get"
    for name, case in cases.items():
        yield f"{name} page", f"/complaints/{case.number}/", "get"
        yield f"{name} reveal", f"/complaints/{case.number}/reveal/", "post"
        yield f"{name} odr page", f"/complaints/odr/{case.pk}/", "get"


@pytest.mark.parametrize("persona", list(VISIBLE))
def test_every_page_and_export_shows_each_persona_only_its_cases(world, sessions, persona):
    client = sessions[persona]
    numbers = {name: case.number for name, case in world["cases"].items()}
    hidden = {numbers[name] for name in numbers if name not in VISIBLE[persona]}
    for label, url, method in _pages(world):
        response = client.post(url) if method == "post" else client.get(url)
        assert response.status_code < 500, (persona, label, response.status_code)
        if response.status_code != 200:
            continue
        text = _page_text(response)
        for number in hidden:
            assert number not in text, (persona, label, number)
        if persona in ("enterprise", "public", "county_b"):
            for trace in REPORTER_TRACES:
                assert trace not in text, (persona, label, trace)
    # The detail pages of another county's cases are not found at all.
    for name in VISIBLE["county_a"]:
        response = client.get(f"/complaints/{numbers[name]}/")
        if persona == "county_a":
            assert response.status_code == 200
        elif persona == "public":
            assert response.status_code == 302  # to the login page
        else:
            assert response.status_code in (403, 404), (persona, name)


def test_the_enterprise_reads_its_complaint_on_its_odr_page_without_any_reporter(world, sessions):
    client = sessions["enterprise"]
    own = client.get(f"/complaints/odr/{world['cases']['complaint'].pk}/")
    assert own.status_code == 200
    for name in ("report", "anonymous_report", "county_b"):
        assert client.get(f"/complaints/odr/{world['cases'][name].pk}/").status_code == 404
    for trace in REPORTER_TRACES:
        assert trace not in own.content.decode()
