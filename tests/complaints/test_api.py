"""12315 through the JSON API with bearer tokens: intake with Idempotency-Key, cases, steps.

The same rules as the pages: a case outside the caller's scope is 404 ``not_found`` (never
a hint that it exists), personal data is masked, refusals carry stable codes and change
nothing.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path

import pytest
import time_machine
from django.test import Client

from qcity.complaints.models import Case, Submission
from qcity.core.models import AuditEvent, Transition
from qcity.core.services import issue_api_token
from tests.complaints.helpers import XIFENG_BUREAU, enterprise_user, make_case, make_entity
from tests.complaints.test_intake import complaint_fields
from tests.core.test_files import pdf_bytes

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 6, 1, 2, 0, tzinfo=dt.UTC)  # 10:00 in Tieling, a Monday
SUBMIT = "/api/v1/complaints/submissions"


@pytest.fixture
def now(calendar):
    with time_machine.travel(NOW, tick=False):
        yield NOW


@pytest.fixture(autouse=True)
def store(settings, tmp_path) -> Path:
    root = tmp_path / "attachments"
    settings.STORAGES = {
        **settings.STORAGES,
        "attachments": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(root)},
        },
    }
    return root


def token_client(user, personas) -> Client:
    token = issue_api_token(user, name="12315平台对接", by=personas["secadmin"])
    return Client(headers={"Authorization": f"Bearer {token}"})


@pytest.fixture
def api(personas):
    def client_for(name: str) -> Client:
        if name == "anonymous":
            return Client()
        return token_client(personas[name], personas)

    return client_for


def post(client: Client, path: str, body: dict, **headers):
    return client.post(path, json.dumps(body), content_type="application/json", headers=headers)


# --- intake ---------------------------------------------------------------------------------


def test_it_files_a_complaint_and_answers_with_its_number_and_receipt_code(api, now):
    entity = make_entity()
    response = post(
        api("kaiyuan"),
        SUBMIT,
        complaint_fields(respondent_code=entity.code),
        **{"Idempotency-Key": "call-0001"},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["replayed"] is False and len(body["receipt_code"]) >= 10
    (case,) = body["cases"]
    assert case["kind"] == "complaint" and case["status"] == "received"
    assert case["owner_unit"] == "开原市市场监督管理局"
    assert case["due_rule"] == "complaint.accept@order121" and case["due_on"] == "2026-06-10"
    stored = Case.objects.get(number=case["number"])
    assert stored.submission.channel == Submission.Channel.API
    assert stored.created_by.username == "kaiyuan"
    assert AuditEvent.objects.filter(action="complaints.case.submitted", actor__username="kaiyuan")


def test_a_complaint_and_a_report_come_back_as_two_linked_cases(api, now):
    response = post(api("coordinator"), SUBMIT, complaint_fields(kinds="both"))
    assert response.status_code == 201, response.content
    kinds = [c["kind"] for c in response.json()["cases"]]
    assert kinds == ["complaint", "report"]
    complaint, report = (Case.objects.get(number=c["number"]) for c in response.json()["cases"])
    assert complaint.linked_case == report and report.linked_case == complaint


def test_a_replay_answers_200_with_the_first_cases_and_a_changed_body_is_a_conflict(api, now):
    client = api("kaiyuan")
    first = post(client, SUBMIT, complaint_fields(), **{"Idempotency-Key": "k-42"})
    again = post(client, SUBMIT, complaint_fields(), **{"Idempotency-Key": "k-42"})
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["replayed"] is True
    assert again.json()["cases"] == first.json()["cases"]
    assert again.json()["receipt_code"] == first.json()["receipt_code"]
    changed = post(client, SUBMIT, complaint_fields(request="换货"), **{"Idempotency-Key": "k-42"})
    assert changed.status_code == 409
    assert changed.json()["code"] == "idempotency_conflict"
    assert changed.json()["field"] == "idempotency_key"
    assert Case.objects.count() == 1 and Submission.objects.count() == 1


def test_the_same_key_from_another_client_is_another_submission(api, now):
    post(api("kaiyuan"), SUBMIT, complaint_fields(), **{"Idempotency-Key": "same"})
    other = post(api("coordinator"), SUBMIT, complaint_fields(), **{"Idempotency-Key": "same"})
    assert other.status_code == 201 and Case.objects.count() == 2


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"person_phone": "12345"}, "invalid_phone", "person_phone"),
        ({"respondent_code": "91211282MA0000000X"}, "invalid_credit_code", "respondent_code"),
        ({"facts": ""}, "missing_field", "facts"),
        ({"person_name": ""}, "missing_field", "person_name"),
        ({"amount": "十元"}, "invalid_amount", "amount"),
        ({"facts": "很" * 5001}, "too_long", "facts"),
    ],
    ids=["phone", "credit-code", "no-facts", "no-name", "amount", "too-long"],
)
def test_bad_input_is_422_with_the_code_and_field_and_stores_nothing(api, now, fields, code, field):
    response = post(api("kaiyuan"), SUBMIT, complaint_fields(**fields))
    assert response.status_code == 422, response.content
    body = response.json()
    assert body["code"] == code and body["field"] == field
    assert any(e["code"] == code for e in body["errors"])
    assert not Case.objects.exists() and not Submission.objects.exists()


def test_a_body_of_several_megabytes_is_413_request_too_large(api, now):
    response = post(api("kaiyuan"), SUBMIT, complaint_fields(facts="很" * 1_500_000))
    assert response.status_code == 413 and response.json()["code"] == "request_too_large"
    assert not Case.objects.exists() and not Submission.objects.exists()


def test_a_body_of_the_wrong_type_is_422_invalid_request(api, now):
    response = post(api("kaiyuan"), SUBMIT, {"kinds": "complaint", "anonymous": {"a": 1}})
    assert response.status_code == 422 and response.json()["code"] == "invalid_request"
    response = api("kaiyuan").post(SUBMIT, "{not json", content_type="application/json")
    assert response.status_code == 400 and response.json()["code"] == "bad_request"
    assert not Case.objects.exists()


def test_script_in_text_is_stored_as_text_and_returned_as_json_text(api, now):
    facts = "<script>alert('x')</script> 电热水壶漏电"
    response = post(api("kaiyuan"), SUBMIT, complaint_fields(facts=facts))
    number = response.json()["cases"][0]["number"]
    assert Case.objects.get(number=number).facts == facts
    detail = api("kaiyuan").get(f"/api/v1/complaints/cases/{number}")
    assert detail["Content-Type"] == "application/json; charset=utf-8"
    assert detail.json()["facts"] == facts


def test_attachments_travel_as_base64_and_a_disguised_one_is_refused(api, now, store):
    good = {"name": "发票.pdf", "content_base64": base64.b64encode(pdf_bytes()).decode()}
    response = post(api("kaiyuan"), SUBMIT, complaint_fields(attachments=[good]))
    assert response.status_code == 201, response.content
    disguised = {"name": "照片.png", "content_base64": base64.b64encode(pdf_bytes()).decode()}
    refused = post(api("kaiyuan"), SUBMIT, complaint_fields(attachments=[disguised]))
    assert refused.status_code == 422 and refused.json()["code"] == "file_extension_mismatch"
    not_base64 = {"name": "a.pdf", "content_base64": "%%%"}
    refused = post(api("kaiyuan"), SUBMIT, complaint_fields(attachments=[not_base64]))
    assert refused.status_code == 422
    assert refused.json()["code"] == "invalid_attachment"
    assert refused.json()["field"] == "attachments.0"
    assert Case.objects.count() == 1
    assert len([p for p in store.rglob("*") if p.is_file()]) == 1


@pytest.mark.parametrize("persona", ["enterprise", "inspector", "nongye", "sysadmin"])
def test_only_bureau_accounts_may_file_through_the_api(api, now, persona):
    response = post(api(persona), SUBMIT, complaint_fields())
    assert response.status_code == 403 and response.json()["code"] == "forbidden"
    assert not Case.objects.exists()


def test_anonymous_callers_are_401(api, now):
    response = post(api("anonymous"), SUBMIT, complaint_fields())
    assert response.status_code == 401 and response.json()["code"] == "unauthenticated"


# --- cases ----------------------------------------------------------------------------------


def test_the_list_is_scoped_and_masks_personal_data(api, now):
    mine = make_case(phone="13800138000", id_number="21128219900307123X", name="李小红")
    make_case(bureau=XIFENG_BUREAU)
    response = api("kaiyuan").get("/api/v1/complaints/cases")
    assert response.status_code == 200
    (row,) = response.json()["items"]
    assert row["number"] == mine.number
    assert row["person"] == {
        "anonymous": False,
        "name": "李**",
        "phone": "138****8000",
        "id_number": "2112**********123X",
        "erased": False,
    }
    assert "13800138000" not in response.content.decode()
    assert len(api("coordinator").get("/api/v1/complaints/cases").json()["items"]) == 2


def test_officers_find_a_case_by_the_exact_phone_and_nobody_else_can_probe_it(api, personas, now):
    entity = make_entity()
    case = make_case(phone="13800138000", entity=entity)
    url = "/api/v1/complaints/cases?phone=138-0013-8000"
    assert [c["number"] for c in api("kaiyuan").get(url).json()["items"]] == [case.number]
    assert api("kaiyuan").get("/api/v1/complaints/cases?phone=13900000000").json()["items"] == []
    # The enterprise sees the complaint, masked; guessing the hidden digits finds nothing.
    owner = token_client(enterprise_user(entity), personas)
    assert [c["number"] for c in owner.get("/api/v1/complaints/cases").json()["items"]] == [
        case.number
    ]
    assert owner.get(url).json()["items"] == []


def test_filters_by_kind_status_and_dates(api, now):
    make_case(received_on=dt.date(2026, 5, 4))
    report = make_case(kind=Case.Kind.REPORT, received_on=dt.date(2026, 5, 20))
    client = api("kaiyuan")
    assert [
        c["number"] for c in client.get("/api/v1/complaints/cases?kind=report").json()["items"]
    ] == [report.number]
    assert client.get("/api/v1/complaints/cases?received_from=2026-05-10").json()["count"] == 1
    assert client.get("/api/v1/complaints/cases?status=closed").json()["count"] == 0
    assert client.get("/api/v1/complaints/cases?status=nonsense").status_code == 422


def test_the_detail_of_another_countys_case_is_404_like_an_absent_one(api, now):
    theirs = make_case(bureau=XIFENG_BUREAU)
    for number in (theirs.number, "TS20260601999999"):
        response = api("kaiyuan").get(f"/api/v1/complaints/cases/{number}")
        assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_an_enterprise_sees_complaints_about_itself_but_never_the_linked_report(api, personas, now):
    entity = make_entity()
    owner = token_client(enterprise_user(entity), personas)
    complaint = make_case(entity=entity)
    report = make_case(kind=Case.Kind.REPORT, entity=entity, name="王举报", phone="13900139000")
    Case.objects.filter(pk=complaint.pk).update(linked_case=report)
    Case.objects.filter(pk=report.pk).update(linked_case=complaint)

    listed = owner.get("/api/v1/complaints/cases").json()["items"]
    assert [c["number"] for c in listed] == [complaint.number]
    detail = owner.get(f"/api/v1/complaints/cases/{complaint.number}").json()
    assert detail["linked_case"] is None  # the bureau sees the link; the enterprise does not
    assert owner.get(f"/api/v1/complaints/cases/{report.number}").status_code == 404
    assert owner.get(f"/api/v1/complaints/cases/{report.number}/history").status_code == 404
    text = owner.get("/api/v1/complaints/cases?kind=report").content.decode()
    assert "王" not in text and "13900139000" not in text
    bureau = api("kaiyuan").get(f"/api/v1/complaints/cases/{complaint.number}").json()
    assert bureau["linked_case"] == report.number


# --- steps and history ----------------------------------------------------------------------


def test_an_officer_accepts_through_the_api_and_the_history_shows_it(api, now):
    case = make_case(received_on=dt.date(2026, 6, 1))
    client = api("kaiyuan")
    detail = client.get(f"/api/v1/complaints/cases/{case.number}").json()
    assert "accept" in [s["name"] for s in detail["available_steps"]]
    response = post(client, f"/api/v1/complaints/cases/{case.number}/steps/accept", {})
    assert response.status_code == 200, response.content
    assert response.json()["to_state"] == "accepted"
    assert response.json()["deadline_rule"] == "complaint.mediation@order121"
    case.refresh_from_db()
    assert case.status == Case.Status.ACCEPTED
    history = client.get(f"/api/v1/complaints/cases/{case.number}/history").json()
    assert [h["step"] for h in history] == ["accept"]
    assert AuditEvent.objects.filter(action="complaints.case.accept", actor__username="kaiyuan")


def test_refused_steps_keep_their_codes_and_change_nothing(api, now):
    case = make_case()
    client = api("kaiyuan")
    url = f"/api/v1/complaints/cases/{case.number}/steps"
    refuse = post(client, f"{url}/refuse", {})
    assert refuse.status_code == 422 and refuse.json()["code"] == "reason_required"
    agree = post(client, f"{url}/agree", {})
    assert agree.status_code == 409 and agree.json()["code"] == "step_not_allowed"
    stale = post(client, f"{url}/accept", {"expected_state": "mediating"})
    assert stale.status_code == 409 and stale.json()["code"] == "stale"
    unknown = post(client, f"{url}/fly", {})
    assert unknown.status_code == 422 and unknown.json()["code"] == "unknown_step"
    reserved = post(client, f"{url}/accept", {"params": {"by": 1}})
    assert reserved.status_code == 422 and reserved.json()["field"] == "params"
    bad_name = post(client, f"{url}/ACCEPT!", {})
    assert bad_name.status_code in (404, 422)
    assert post(api("xifeng"), f"{url}/accept", {}).status_code == 404
    assert post(api("inspector"), f"{url}/accept", {}).status_code == 404
    case.refresh_from_db()
    assert case.status == Case.Status.RECEIVED and not Transition.objects.exists()


def test_an_enterprise_cannot_take_the_bureaus_steps(api, personas, now):
    entity = make_entity()
    owner = token_client(enterprise_user(entity), personas)
    case = make_case(entity=entity)
    detail = owner.get(f"/api/v1/complaints/cases/{case.number}").json()
    assert "accept" not in [s["name"] for s in detail["available_steps"]]
    response = post(owner, f"/api/v1/complaints/cases/{case.number}/steps/accept", {})
    assert response.status_code == 403 and response.json()["code"] == "forbidden"


def test_a_busy_clients_token_is_stamped_once_a_minute_not_on_every_call(api, personas, now):
    from qcity.core.models import ApiToken

    client = token_client(personas["kaiyuan"], personas)
    client.get("/api/v1/complaints/cases")
    first = ApiToken.objects.get(user__username="kaiyuan").last_used_at
    assert first is not None
    with time_machine.travel(NOW + dt.timedelta(seconds=30), tick=False):
        client.get("/api/v1/complaints/cases")
    assert ApiToken.objects.get(user__username="kaiyuan").last_used_at == first
    with time_machine.travel(NOW + dt.timedelta(seconds=61), tick=False):
        client.get("/api/v1/complaints/cases")
    assert ApiToken.objects.get(user__username="kaiyuan").last_used_at > first
