"""Reporting cycles and progress reports through the JSON API, with bearer tokens.

The same rules as the pages: an id outside the caller's data scope is 404 ``not_found``
(never a hint that it exists), refusals carry the services' stable codes, and a refused
write changes nothing.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from qcity.core import files
from qcity.core.models import AuditEvent, Transition
from qcity.core.services import issue_api_token
from qcity.reporting.models import ProgressReport, ReportingCycle
from tests.reporting.conftest import pdf_bytes

pytestmark = pytest.mark.django_db

S = ProgressReport.Status
WRITTEN = {
    "progress": "on_track",
    "narrative": "本季度完成农产品抽检 1200 批次。",
    "figures": [{"name": "抽检批次", "value": "1200", "unit": "批次"}],
}


@pytest.fixture(autouse=True)
def store(settings, tmp_path) -> Path:
    """Each test's own attachment directory: what a refused upload leaves is countable."""
    root = tmp_path / "attachments"
    settings.STORAGES = {
        **settings.STORAGES,
        "attachments": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(root)},
        },
    }
    return root


def stored_files(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file())


@pytest.fixture
def api(personas):
    """A client per persona, authenticated by a bearer token as another system would be."""

    def client_for(name: str) -> Client:
        if name == "anonymous":
            return Client()
        token = issue_api_token(personas[name], name="对接", by=personas["secadmin"])
        return Client(headers={"Authorization": f"Bearer {token}"})

    return client_for


def report_of(user, cycle) -> ProgressReport:
    return ProgressReport.objects.filter(cycle=cycle, org_unit=user.unit).order_by("pk").first()


def put(client: Client, report: ProgressReport, body: dict):
    return client.put(f"/api/v1/reports/{report.pk}", body, content_type="application/json")


def step(client: Client, report: ProgressReport, name: str, **body):
    return client.post(
        f"/api/v1/reports/{report.pk}/steps/{name}", body, content_type="application/json"
    )


def upload(client: Client, report: ProgressReport, name: str, data: bytes):
    return client.post(
        f"/api/v1/reports/{report.pk}/evidence", {"file": SimpleUploadedFile(name, data)}
    )


def refusal(response) -> tuple[int, str]:
    body = response.json()
    assert body["message"], body  # a person reads the message
    return response.status_code, body["code"]


# --- the full cycle ---------------------------------------------------------------------------


@time_machine.travel(dt.datetime(2026, 4, 2, 9, tzinfo=dt.UTC), tick=False)
def test_the_full_cycle_through_the_api(plan, personas, calendar, api):
    coordinator, nongye = api("coordinator"), api("nongye")

    opened = coordinator.post(
        "/api/v1/cycles",
        {"plan_id": plan.pk, "frequency": "quarterly", "year": 2026, "period": 1},
        content_type="application/json",
    )
    assert opened.status_code == 201, opened.content
    cycle = opened.json()
    assert cycle["label"] == "2026年第1季度" and cycle["status"] == "open"
    assert cycle["reports"] == ReportingCycle.objects.get().reports.count() > 0
    assert cycle["due"]["rule"] == "reporting.cycle.due"
    assert "市交通运输局市" in cycle["skipped_units"]

    # The liaison finds its unit's reports of the cycle, and only those.
    listed = nongye.get("/api/v1/reports", {"cycle_id": cycle["id"]}).json()
    assert listed["count"] == 5
    assert {r["org_unit"] for r in listed["items"]} == {"市农业农村局"}
    report = ProgressReport.objects.get(pk=listed["items"][0]["id"])
    detail = nongye.get(f"/api/v1/reports/{report.pk}").json()
    assert detail["editable"] is True
    assert [s["name"] for s in detail["available_steps"]] == ["submit"]

    saved = put(nongye, report, WRITTEN)
    assert saved.status_code == 200, saved.content
    assert saved.json()["figures"] == [{"name": "抽检批次", "value": "1200", "unit": "批次"}]
    evidence = upload(nongye, report, "抽检通报.pdf", pdf_bytes())
    assert evidence.status_code == 201, evidence.content
    attachment = evidence.json()
    assert attachment["url"] == f"/files/{attachment['id']}/"
    assert attachment["media_type"] == "application/pdf" and len(attachment["sha256"]) == 64

    submitted = step(nongye, report, "submit")
    assert submitted.status_code == 200, submitted.content
    assert (submitted.json()["from_state"], submitted.json()["to_state"]) == ("draft", "submitted")

    # The coordinator returns it; a return needs a reason.
    assert refusal(step(coordinator, report, "return")) == (422, "reason_required")
    returned = step(coordinator, report, "return", reason="缺少抽检结果佐证")
    assert returned.status_code == 200 and returned.json()["reason"] == "缺少抽检结果佐证"

    detail = nongye.get(f"/api/v1/reports/{report.pk}").json()
    assert (detail["status"], detail["return_count"]) == ("returned", 1)
    assert [s["name"] for s in detail["available_steps"]] == ["resubmit"]
    patched = nongye.patch(
        f"/api/v1/reports/{report.pk}",
        {"narrative": "补充了抽检结果通报。"},
        content_type="application/json",
    )
    assert patched.status_code == 200, patched.content
    # PATCH changes only what it names.
    assert patched.json()["progress"] == "on_track" and len(patched.json()["figures"]) == 1
    assert patched.json()["narrative"] == "补充了抽检结果通报。"
    assert step(nongye, report, "resubmit").status_code == 200

    approved = step(coordinator, report, "approve")
    assert approved.status_code == 200, approved.content

    rates = coordinator.get(f"/api/v1/cycles/{cycle['id']}/rates").json()
    agriculture = next(r for r in rates if r["unit"] == "市农业农村局")
    assert (agriculture["expected"], agriculture["received"], agriculture["on_time"]) == (5, 1, 1)
    assert agriculture["completeness"] == pytest.approx(0.2)

    closed = coordinator.post(
        f"/api/v1/cycles/{cycle['id']}/steps/close", {}, content_type="application/json"
    )
    assert closed.status_code == 200, closed.content
    assert closed.json()["details"] == {"locked_reports": 1}

    detail = nongye.get(f"/api/v1/reports/{report.pk}").json()
    assert (detail["status"], detail["editable"], detail["available_steps"]) == (
        "locked",
        False,
        [],
    )
    assert [e["name"] for e in detail["evidence"]] == ["抽检通报.pdf"]
    history = nongye.get(f"/api/v1/reports/{report.pk}/transitions").json()
    assert [t["step"] for t in history] == ["submit", "return", "resubmit", "approve", "lock"]
    assert history[1]["actor"] == "coordinator"
    cycle_history = coordinator.get(f"/api/v1/cycles/{cycle['id']}/transitions").json()
    assert [t["step"] for t in cycle_history] == ["close"]
    # Every write was audited, through the same services as the pages.
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {
        "reporting.cycle.opened",
        "reporting.report.saved",
        "file.attached",
        "reporting.report.submitted",
        "reporting.report.returned",
        "reporting.report.resubmitted",
        "reporting.report.approved",
        "reporting.cycle.closed",
    } <= actions


def test_the_evidence_url_downloads_the_file_within_the_scope(personas, q1, api, client):
    report = report_of(personas["nongye"], q1)
    url = upload(api("nongye"), report, "抽检通报.pdf", pdf_bytes()).json()["url"]
    client.force_login(personas["nongye"])
    download = client.get(url)
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == pdf_bytes()
    client.force_login(personas["gongxin"])
    assert client.get(url).status_code == 404


def test_evidence_can_be_removed_while_the_report_is_a_draft(
    personas, q1, api, store, django_capture_on_commit_callbacks
):
    nongye = api("nongye")
    report = report_of(personas["nongye"], q1)
    evidence = upload(nongye, report, "抽检通报.pdf", pdf_bytes()).json()
    assert len(stored_files(store)) == 1
    with django_capture_on_commit_callbacks(execute=True):
        removed = nongye.delete(f"/api/v1/reports/{report.pk}/evidence/{evidence['id']}")
    assert removed.status_code == 204
    assert not files.attachments_of(report).exists()
    # The bytes go too, once the removal is committed.
    assert stored_files(store) == []
    assert AuditEvent.objects.filter(action="file.removed").count() == 1
    again = nongye.delete(f"/api/v1/reports/{report.pk}/evidence/{evidence['id']}")
    assert refusal(again) == (404, "not_found")


def test_the_cycle_list_filters_by_plan_status_and_year(plan, personas, calendar, q1, api):
    from qcity.reporting import services

    services.open_cycle(plan, "monthly", 2026, 1, by=personas["coordinator"])
    services.close_cycle(personas["coordinator"], q1.pk)
    nongye = api("nongye")
    everything = nongye.get("/api/v1/cycles").json()
    assert everything["count"] == 2
    assert [
        c["label"] for c in nongye.get("/api/v1/cycles", {"status": "closed"}).json()["items"]
    ] == ["2026年第1季度"]
    assert nongye.get("/api/v1/cycles", {"year": 2025}).json()["count"] == 0
    assert nongye.get("/api/v1/cycles", {"plan_id": plan.pk, "year": 2026}).json()["count"] == 2
    assert refusal(nongye.get("/api/v1/cycles", {"plan_id": 999999})) == (404, "not_found")
    assert refusal(nongye.get("/api/v1/cycles", {"status": "gone"})) == (422, "invalid_request")
    detail = nongye.get(f"/api/v1/cycles/{q1.pk}").json()
    assert detail["status_label"] == "已关闭" and detail["available_steps"] == []
    # A liaison counts its own unit's reports only.
    assert sum(detail["report_counts"].values()) == 5
    coordinator_view = api("coordinator").get(f"/api/v1/cycles/{q1.pk}").json()
    assert [s["name"] for s in coordinator_view["available_steps"]] == ["reopen"]


def test_the_report_list_filters_by_unit_status_and_late(personas, q1, api):
    coordinator, nongye_user = api("coordinator"), personas["nongye"]
    report = report_of(nongye_user, q1)
    put(api("nongye"), report, WRITTEN)
    with time_machine.travel(dt.datetime.combine(q1.on_time_by, dt.time(9)), tick=False):
        assert step(api("nongye"), report, "submit").status_code == 200
    mine = coordinator.get("/api/v1/reports", {"unit_id": nongye_user.unit_id}).json()
    assert mine["count"] == 5
    submitted = coordinator.get("/api/v1/reports", {"status": "submitted"}).json()
    assert [r["id"] for r in submitted["items"]] == [report.pk]
    total = q1.reports.count()
    after_due = dt.datetime.combine(q1.due_date + dt.timedelta(days=1), dt.time(9))
    with time_machine.travel(after_due, tick=False):
        late = coordinator.get("/api/v1/reports", {"late": "true", "limit": 1000}).json()
        not_late = coordinator.get("/api/v1/reports", {"late": "false"}).json()
    assert late["count"] == total - 1 and all(r["late"] for r in late["items"])
    assert [r["id"] for r in not_late["items"]] == [report.pk]
    paged = coordinator.get("/api/v1/reports", {"limit": 2, "offset": 2}).json()
    assert paged["count"] == total and len(paged["items"]) == 2


# --- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"frequency": "quarterly", "year": 2026, "period": 5}, (422, "invalid_period")),
        ({"frequency": "monthly", "year": 1899, "period": 1}, (422, "invalid_period")),
        ({"frequency": "weekly", "year": 2026, "period": 1}, (422, "invalid_request")),
        (
            {"frequency": "quarterly", "year": 2026, "period": 2, "due_workdays": 0},
            (422, "invalid_workdays"),
        ),
        ({"frequency": "quarterly", "year": 2026, "period": 1}, (409, "cycle_overlap")),
        ({"frequency": "quarterly", "year": 2026}, (422, "invalid_request")),
    ],
)
def test_a_bad_cycle_is_refused_with_a_stable_code(plan, q1, api, body, expected):
    answer = api("coordinator").post(
        "/api/v1/cycles", {"plan_id": plan.pk, **body}, content_type="application/json"
    )
    assert refusal(answer) == expected
    assert ReportingCycle.objects.count() == 1


@pytest.mark.parametrize(
    ("name", "expected"), [("nongye", (403, "forbidden")), ("sysadmin", (404, "not_found"))]
)
def test_only_the_plans_coordinator_opens_a_cycle(plan, calendar, api, name, expected):
    answer = api(name).post(
        "/api/v1/cycles",
        {"plan_id": plan.pk, "frequency": "quarterly", "year": 2026, "period": 1},
        content_type="application/json",
    )
    assert refusal(answer) == expected
    assert not ReportingCycle.objects.exists()


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({**WRITTEN, "progress": "fine"}, (422, "invalid_request")),
        ({**WRITTEN, "narrative": "字" * 5001}, (422, "narrative_too_long")),
        ({**WRITTEN, "figures": [{"name": "名" * 51, "value": "1"}]}, (422, "invalid_figures")),
        ({**WRITTEN, "figures": [{"name": "x", "value": "1e15"}]}, (422, "invalid_figures")),
        ({**WRITTEN, "figures": [{"name": "x", "value": "1"}] * 21}, (422, "invalid_figures")),
        ({**WRITTEN, "figures": [{"name": "x", "value": "1e-999999"}]}, (422, "invalid_request")),
        ({**WRITTEN, "figures": [{"name": "x", "value": "一千"}]}, (422, "invalid_request")),
        ({"narrative": "x"}, (422, "invalid_request")),
    ],
)
def test_a_bad_save_is_refused_and_the_report_stays_as_it_was(personas, q1, api, body, expected):
    report = report_of(personas["nongye"], q1)
    assert refusal(put(api("nongye"), report, body)) == expected
    report.refresh_from_db()
    assert (report.progress, report.narrative, report.figures) == ("", "", [])


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("宣传.exe", b"MZ\x90\x00" + b"\x00" * 200, (422, "file_type_not_allowed")),
        (
            "页面.html",
            b"<!DOCTYPE html><html><body>x</body></html>",
            (422, "file_type_not_allowed"),
        ),
        ("通报.pdf", b"%PDF-1.7\n" + b"\x00garbage" * 50 + b"\n%%EOF\n", (422, "file_corrupted")),
        ("照片.jpg", "pdf", (422, "file_extension_mismatch")),
        ("空.pdf", b"", (422, "file_empty")),
        ("大.pdf", "big", (422, "file_too_large")),
    ],
)
def test_a_bad_evidence_file_is_refused_and_nothing_is_stored(
    personas, q1, api, settings, store, name, data, expected
):
    settings.ATTACHMENT_MAX_BYTES = 2048
    data = {"pdf": pdf_bytes(), "big": pdf_bytes() + b"\n" * 4096}.get(data, data)
    report = report_of(personas["nongye"], q1)
    nongye = api("nongye")
    good = upload(nongye, report, "通报.pdf", pdf_bytes())
    assert good.status_code == 201
    stored_before = stored_files(store)
    assert refusal(upload(nongye, report, name, data)) == expected
    assert [a.pk for a in files.attachments_of(report)] == [good.json()["id"]]
    assert stored_files(store) == stored_before
    assert AuditEvent.objects.filter(action="file.attached").count() == 1


def test_an_upload_without_a_file_is_an_invalid_request(personas, q1, api):
    report = report_of(personas["nongye"], q1)
    answer = api("nongye").post(f"/api/v1/reports/{report.pk}/evidence", {})
    assert refusal(answer) == (422, "invalid_request")


def test_a_form_body_sent_where_json_is_expected_is_a_bad_request(personas, q1, api):
    # The request edge reads form bodies before ninja; that used to end in a 500.
    report = report_of(personas["nongye"], q1)
    answer = api("nongye").post(f"/api/v1/reports/{report.pk}/steps/submit", {"reason": "x"})
    assert refusal(answer) == (400, "bad_request")
    report.refresh_from_db()
    assert report.status == S.DRAFT


MALFORMED = [
    ("application/json", b"{"),
    ("application/json", b'{"narrative": "\\u0000"}'),
    ("application/json", b"\xff\xfe"),
    ("application/json", b"[" * 5000 + b"]" * 5000),
    ("application/json", b'{"progress": "on_track", "narrative": "x", "figures": "1200"}'),
    ("multipart/form-data", b"--x\r\n"),
    ("multipart/form-data; boundary=x", b"--x\r\nContent-Disposition: form-data\r\n\r\n"),
    ("application/x-www-form-urlencoded", b"narrative=%00"),
    ("text/plain", b"\x00\x00"),
]


@pytest.mark.parametrize(("content_type", "body"), MALFORMED)
def test_malformed_bodies_to_the_write_endpoints_are_refused_in_json(
    personas, q1, api, content_type, body
):
    report = report_of(personas["nongye"], q1)
    nongye = api("nongye")  # a server error would raise here (the test client re-raises)
    before = ProgressReport.objects.values().get(pk=report.pk)
    for method, url in [
        ("PUT", f"/api/v1/reports/{report.pk}"),
        ("PATCH", f"/api/v1/reports/{report.pk}"),
        ("POST", f"/api/v1/reports/{report.pk}/steps/submit"),
        ("POST", f"/api/v1/reports/{report.pk}/evidence"),
        ("POST", f"/api/v1/cycles/{q1.pk}/steps/close"),
        ("POST", "/api/v1/cycles"),
    ]:
        answer = nongye.generic(method, url, body, content_type=content_type)
        assert 400 <= answer.status_code < 500, (method, url, answer.status_code)
        assert answer["Content-Type"].startswith("application/json")
        assert refusal(answer)[1]
    assert ProgressReport.objects.values().get(pk=report.pk) == before
    assert not files.attachments_of(report).exists()


def test_refused_steps_carry_the_workflow_codes(personas, q1, api):
    coordinator, nongye = api("coordinator"), api("nongye")
    report = report_of(personas["nongye"], q1)
    # Nothing written yet: the step's own validation refuses.
    assert refusal(step(nongye, report, "submit")) == (422, "invalid")
    assert refusal(step(coordinator, report, "approve")) == (409, "step_not_allowed")
    assert refusal(step(nongye, report, "approve")) == (403, "forbidden")
    assert refusal(step(nongye, report, "teleport")) == (422, "invalid_request")
    put(nongye, report, WRITTEN)
    assert refusal(step(nongye, report, "submit", expected_state="returned")) == (409, "stale")
    assert step(nongye, report, "submit", expected_state="draft").status_code == 200
    # Submitted: the unit can no longer change it.
    assert refusal(put(nongye, report, WRITTEN)) == (409, "report_not_editable")
    assert refusal(upload(nongye, report, "a.pdf", pdf_bytes())) == (409, "report_not_editable")
    step(coordinator, report, "approve")
    step(coordinator, report, "lock")
    # A submission after locking.
    assert refusal(step(nongye, report, "resubmit")) == (409, "step_not_allowed")
    assert refusal(step(nongye, report, "submit")) == (409, "step_not_allowed")
    report.refresh_from_db()
    assert report.status == S.LOCKED
    assert refusal(
        coordinator.post(
            f"/api/v1/cycles/{q1.pk}/steps/reopen", {}, content_type="application/json"
        )
    ) == (409, "step_not_allowed")


def test_a_closed_cycle_takes_no_more_writes(personas, q1, api):
    coordinator, nongye = api("coordinator"), api("nongye")
    report = report_of(personas["nongye"], q1)
    # A step that needs no reason needs no body at all.
    closed = coordinator.generic("POST", f"/api/v1/cycles/{q1.pk}/steps/close")
    assert closed.status_code == 200, closed.content
    assert refusal(put(nongye, report, WRITTEN)) == (409, "cycle_closed")
    assert refusal(upload(nongye, report, "a.pdf", pdf_bytes())) == (409, "cycle_closed")
    reopen = coordinator.generic("POST", f"/api/v1/cycles/{q1.pk}/steps/reopen")
    assert refusal(reopen) == (422, "reason_required")
    reopened = coordinator.post(
        f"/api/v1/cycles/{q1.pk}/steps/reopen",
        {"reason": "补报一份"},
        content_type="application/json",
    )
    assert reopened.status_code == 200
    assert put(nongye, report, WRITTEN).status_code == 200


# --- the scope matrix -------------------------------------------------------------------------

# Who sees 市农业农村局's report, and what each may do with it: a liaison of another
# unit, a county bureau that does not review it, an inspector (仅本人) and the system
# administrator (三员分立: no business data) get 404, exactly as for an absent id.
MATRIX = {
    #            see   list  PUT   upload submit approve
    "coordinator": (200, 1, 403, 403, 403, 409),
    "nongye": (200, 1, 200, 201, 200, 403),
    "gongxin": (404, 0, 404, 404, 404, 404),
    "kaiyuan": (404, 0, 404, 404, 404, 404),
    "inspector": (404, 0, 404, 404, 404, 404),
    "sysadmin": (404, 0, 404, 404, 404, 404),
    "anonymous": (401, None, 401, 401, 401, 401),
}


@pytest.mark.parametrize("name", list(MATRIX))
def test_the_scope_matrix_over_one_units_report(personas, q1, api, name):
    see, listed, write, attach, submit, approve = MATRIX[name]
    client = api(name)
    report = report_of(personas["nongye"], q1)
    if name != "nongye":
        # A written draft, so that a refusal is about the caller, not the content.
        put(api("nongye"), report, WRITTEN)
    before = ProgressReport.objects.values().get(pk=report.pk)

    assert client.get(f"/api/v1/reports/{report.pk}").status_code == see
    assert client.get(f"/api/v1/reports/{report.pk}/transitions").status_code == see
    found = client.get("/api/v1/reports", {"unit_id": personas["nongye"].unit_id})
    if listed is None:
        assert found.status_code == 401
    else:
        assert found.json()["count"] == (5 if listed else 0)
    assert put(client, report, WRITTEN).status_code == write
    assert upload(client, report, "a.pdf", pdf_bytes()).status_code == attach
    assert step(client, report, "submit").status_code == submit
    assert step(client, report, "approve").status_code == approve

    if name != "nongye":
        # Nothing the others tried changed the report or attached anything to it.
        assert ProgressReport.objects.values().get(pk=report.pk) == before
        assert not files.attachments_of(report).exists()
        assert not Transition.objects.filter(object_id=str(report.pk)).exists()


@pytest.mark.parametrize("name", ["gongxin", "kaiyuan", "inspector", "sysadmin"])
def test_an_out_of_scope_evidence_removal_is_not_found(personas, q1, api, name):
    report = report_of(personas["nongye"], q1)
    evidence = upload(api("nongye"), report, "a.pdf", pdf_bytes()).json()
    answer = api(name).delete(f"/api/v1/reports/{report.pk}/evidence/{evidence['id']}")
    assert refusal(answer) == (404, "not_found")
    assert files.attachments_of(report).count() == 1


def test_each_persona_lists_only_the_reports_in_its_scope(
    plan, personas, calendar, api, county_reporter
):
    from qcity.reporting import services

    # Opened after 开原市 was made responsible for measure 1, so the county has a report.
    cycle = services.open_cycle(plan, "quarterly", 2026, 1, by=personas["coordinator"]).cycle
    seen = {}
    for name in ("coordinator", "nongye", "gongxin", "kaiyuan", "inspector", "sysadmin"):
        body = api(name).get("/api/v1/reports", {"limit": 1000}).json()
        assert body["count"] == len(body["items"])
        seen[name] = {r["org_unit"] for r in body["items"]}
    assert len(seen["coordinator"]) > 10 and "开原市" in seen["coordinator"]
    assert seen["nongye"] == {"市农业农村局"}
    assert seen["gongxin"] == {"市工业和信息化局"}
    # The county bureau has no measure of its own: it sees what it approves first.
    assert seen["kaiyuan"] == {"开原市"}
    assert seen["inspector"] == seen["sysadmin"] == set()
    # The system administrator does not even see the cycle (三员分立: no business data).
    filtered = api("sysadmin").get("/api/v1/reports", {"cycle_id": cycle.pk})
    assert refusal(filtered) == (404, "not_found")


def test_a_county_bureau_approves_its_countys_report_first(
    plan, personas, calendar, api, county_reporter
):
    from qcity.reporting import services

    cycle = services.open_cycle(plan, "quarterly", 2026, 2, by=personas["coordinator"]).cycle
    report = ProgressReport.objects.get(cycle=cycle, org_unit=county_reporter.unit)
    token = issue_api_token(county_reporter, name="对接", by=personas["secadmin"])
    county_government = Client(headers={"Authorization": f"Bearer {token}"})
    kaiyuan, coordinator = api("kaiyuan"), api("coordinator")

    seen = kaiyuan.get("/api/v1/reports", {"cycle_id": cycle.pk}).json()
    assert [r["id"] for r in seen["items"]] == [report.pk]
    assert seen["items"][0]["county_review_unit"] == "开原市市场监督管理局"
    # The bureau reviews; it does not write the county's words.
    assert refusal(put(kaiyuan, report, WRITTEN)) == (403, "forbidden")
    assert put(county_government, report, WRITTEN).status_code == 200
    assert step(county_government, report, "submit").status_code == 200
    assert refusal(step(coordinator, report, "approve")) == (422, "invalid")
    detail = kaiyuan.get(f"/api/v1/reports/{report.pk}").json()
    assert [s["name"] for s in detail["available_steps"]] == ["county_approve", "return"]
    assert step(kaiyuan, report, "county_approve").status_code == 200
    assert step(coordinator, report, "approve").status_code == 200
    # The other county's bureau sees none of it.
    assert refusal(api("xifeng").get(f"/api/v1/reports/{report.pk}")) == (404, "not_found")


def test_cycles_are_read_by_every_internal_user_but_opened_by_the_coordinator(q1, api):
    for name in ("nongye", "kaiyuan", "inspector"):
        assert api(name).get(f"/api/v1/cycles/{q1.pk}").status_code == 200
        closed = api(name).generic("POST", f"/api/v1/cycles/{q1.pk}/steps/close")
        assert refusal(closed)[0] == 403
    assert refusal(api("sysadmin").get(f"/api/v1/cycles/{q1.pk}")) == (404, "not_found")
    assert refusal(api("anonymous").get(f"/api/v1/cycles/{q1.pk}")) == (401, "unauthenticated")
    q1.refresh_from_db()
    assert q1.status == ReportingCycle.Status.OPEN


def test_a_liaison_sees_the_rates_of_its_own_unit_only(personas, q1, api):
    rates = api("nongye").get(f"/api/v1/cycles/{q1.pk}/rates").json()
    assert [r["unit"] for r in rates] == ["市农业农村局"]
    assert rates[0]["completeness"] == 0 and rates[0]["expected"] == 5
    everyone = api("coordinator").get(f"/api/v1/cycles/{q1.pk}/rates").json()
    assert len(everyone) > 10


def test_a_page_session_writes_only_with_its_csrf_token(personas, q1):
    report = report_of(personas["nongye"], q1)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(personas["nongye"])
    assert browser.get(f"/api/v1/reports/{report.pk}").status_code == 200
    assert refusal(put(browser, report, WRITTEN)) == (403, "forbidden")
    report.refresh_from_db()
    assert report.narrative == ""


def count_queries(call) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    # The log keeps the last 9 000 queries only; past that, a capture would count none.
    connection.queries_log.clear()
    with CaptureQueriesContext(connection) as queries:
        call()
    return len(queries)


def test_a_page_of_reports_costs_the_same_queries_whatever_its_length(personas, q1, api):
    coordinator = api("coordinator")
    report = report_of(personas["nongye"], q1)
    upload(api("nongye"), report, "a.pdf", pdf_bytes())
    # The token's first call in a minute also stamps its last use; the pages compared here
    # must both come after it.
    coordinator.get("/api/v1/reports", {"limit": 1})
    pages = {}
    counts = [
        count_queries(
            lambda limit=limit: pages.setdefault(
                limit, coordinator.get("/api/v1/reports", {"limit": limit})
            )
        )
        for limit in (2, 50)
    ]
    assert [len(pages[n].json()["items"]) for n in (2, 50)] == [2, 50]
    assert counts[0] == counts[1] > 0
    # The detail reads its evidence (and who uploaded it) in one query, however many.
    one_file = count_queries(lambda: coordinator.get(f"/api/v1/reports/{report.pk}"))
    for name in ("b.pdf", "c.pdf"):
        upload(api("nongye"), report, name, pdf_bytes())
    detail = {}
    three_files = count_queries(
        lambda: detail.update(coordinator.get(f"/api/v1/reports/{report.pk}").json())
    )
    assert len(detail["evidence"]) == 3
    assert three_files == one_file > 0


@pytest.mark.parametrize("unit_id", [10**40, 2**63, 0])
def test_a_unit_filter_out_of_the_id_range_is_an_invalid_request(q1, api, unit_id):
    answer = api("coordinator").get("/api/v1/reports", {"unit_id": unit_id})
    assert answer.status_code == 422 and answer.json()["code"]
