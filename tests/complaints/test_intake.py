"""intake.submit: what a complaint or a report needs, what it becomes, and what is refused."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from qcity.complaints import intake
from qcity.complaints.intake import IntakeRefused, submit
from qcity.complaints.models import Case, OdrEnrolment, Submission
from qcity.core import pii, rulebook
from qcity.core.models import Attachment, AuditEvent, OrgUnit
from tests.complaints.helpers import KAIYUAN_BUREAU, XIFENG_BUREAU, make_case, make_entity
from tests.core.test_files import pdf_bytes, png_bytes

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 6, 1, 2, 0, tzinfo=dt.UTC)  # 10:00 in Tieling, a Monday


def id_number(first17: str = "21128219900307123") -> str:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(d) * w for d, w in zip(first17, weights, strict=True))
    return first17 + "10X98765432"[total % 11]


def complaint_fields(**overrides) -> dict:
    fields = {
        "kinds": "complaint",
        "person_name": "李小红",
        "person_phone": "138 0013 8000",
        "person_id_number": id_number(),
        "person_address": "辽宁省铁岭市开原市新华街道1号",
        "respondent_name": "开原市好运来超市",
        "respondent_address": "辽宁省铁岭市开原市新华路8号",
        "goods": "电热水壶",
        "request": "退货退款",
        "facts": "购买的电热水壶使用三天后漏电，商家拒绝退货。",
        "amount": "199.00",
        "incident_on": "2026-05-20",
    }
    fields.update(overrides)
    return fields


@pytest.fixture
def now(calendar):
    with time_machine.travel(NOW, tick=False):
        yield NOW


@pytest.fixture
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


def stored_files(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def nothing_stored() -> bool:
    return not (
        Case.objects.exists()
        or Submission.objects.exists()
        or Attachment.objects.exists()
        or AuditEvent.objects.filter(action="complaints.case.submitted").exists()
    )


# --- what a submission becomes --------------------------------------------------------------


def test_a_complaint_about_a_registered_entity_goes_to_its_bureau_with_the_accept_clock(
    personas, now
):
    entity = make_entity(XIFENG_BUREAU)
    result = submit(
        complaint_fields(respondent_code=entity.code.lower(), respondent_name=""),
        channel=Submission.Channel.WEB,
    )
    (case,) = result.cases
    assert case.number.startswith("TS20260601") and len(case.number) == 16
    assert case.kind == Case.Kind.COMPLAINT and case.status == Case.Status.RECEIVED
    assert case.respondent_entity == entity and case.respondent_name == entity.name
    assert case.owner_unit == OrgUnit.objects.get(name=XIFENG_BUREAU)
    assert case.rules == "order121" and case.received_on == dt.date(2026, 6, 1)
    expected = rulebook.deadline("complaint.accept", dt.date(2026, 6, 1))
    assert (case.due_on, case.due_rule) == (expected.due, "complaint.accept@order121")
    assert case.due_calendar_version == expected.calendar_version
    # Personal data is encrypted at rest and findable by its keyed hash.
    assert "13800138000" not in case.person_phone
    assert pii.decrypt(case.person_phone) == "13800138000"
    assert case.person_phone_index == pii.blind_index("phone", "13800138000")
    assert pii.decrypt(case.person_id_number) == id_number()
    assert case.amount == pytest.approx(199) and case.incident_on == dt.date(2026, 5, 20)
    event = AuditEvent.objects.get(action="complaints.case.submitted")
    assert event.object_id == str(case.pk) and event.details["number"] == case.number
    assert "13800138000" not in str(event.details) and "李小红" not in str(event.details)


def test_the_number_and_receipt_code_find_the_case_and_nothing_else_does(personas, now):
    result = submit(complaint_fields(), channel=Submission.Channel.WEB)
    case = result.cases[0]
    code = result.receipt_code
    assert len(code) == intake.RECEIPT_LENGTH
    assert code not in result.submission.receipt_hash
    assert intake.find_by_receipt(case.number, code) == case
    assert intake.find_by_receipt(case.number.lower(), intake.format_receipt(code).lower()) == case
    other = submit(complaint_fields(facts="另一件事"), channel=Submission.Channel.WEB)
    assert intake.find_by_receipt(case.number, other.receipt_code) is None
    assert intake.find_by_receipt("TS20260601999999", code) is None
    assert intake.find_by_receipt(case.number, "") is None


def test_a_complaint_and_a_report_in_one_submission_become_two_linked_cases(personas, now):
    result = submit(complaint_fields(kinds="both"), channel=Submission.Channel.PHONE)
    complaint, report = result.cases
    assert complaint.kind == Case.Kind.COMPLAINT and report.kind == Case.Kind.REPORT
    assert complaint.linked_case == report and report.linked_case == complaint
    complaint.refresh_from_db()
    report.refresh_from_db()
    assert complaint.linked_case_id == report.pk and report.linked_case_id == complaint.pk
    assert complaint.submission_id == report.submission_id
    assert Submission.objects.count() == 1
    assert report.number.startswith("JB20260601") and report.status == Case.Status.VERIFYING
    assert report.due_rule == "report.verify@order121" and report.request == ""
    assert AuditEvent.objects.filter(action="complaints.case.submitted").count() == 2


def test_a_report_may_be_anonymous_and_then_keeps_no_identity(personas, now):
    result = submit(
        complaint_fields(kinds="report", anonymous="on", request=""),
        channel=Submission.Channel.WEB,
    )
    (report,) = result.cases
    assert report.anonymous and report.status == Case.Status.VERIFYING
    assert (report.person_name, report.person_phone, report.person_id_number) == ("", "", "")
    assert report.person_address == "" and report.person_phone_index == ""


def test_a_complaint_about_an_odr_enterprise_goes_to_the_enterprise_first(personas, now):
    entity = make_entity(KAIYUAN_BUREAU)
    OdrEnrolment.objects.create(
        entity=entity, joined_on=dt.date(2026, 1, 1), enrolled_by=personas["kaiyuan"]
    )
    result = submit(complaint_fields(kinds="both", respondent_code=entity.code), channel="web")
    complaint, report = result.cases
    assert complaint.status == Case.Status.ODR and complaint.odr
    assert complaint.due_rule == "odr.settle@local"
    # A report is the bureau's business, never the enterprise's.
    assert report.status == Case.Status.VERIFYING and not report.odr


def test_a_respondent_given_by_address_only_is_routed_by_the_county_in_it(personas, now):
    result = submit(
        complaint_fields(respondent_address="辽宁省铁岭市西丰县西丰镇人民路3号"),
        channel=Submission.Channel.COUNTER,
        by=personas["xifeng"],
    )
    case = result.cases[0]
    assert case.owner_unit.name == XIFENG_BUREAU and case.created_by == personas["xifeng"]
    assert case.respondent_entity is None


def test_html_and_script_in_text_fields_are_stored_as_typed_text(personas, now):
    facts = '<script>alert("x")</script><b>漏电</b>\x00'
    result = submit(complaint_fields(facts=facts), channel="web")
    case = Case.objects.get(pk=result.cases[0].pk)
    assert case.facts == '<script>alert("x")</script><b>漏电</b>'


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        ({"person_name": ""}, "missing_field", "person_name"),
        ({"person_phone": ""}, "missing_field", "person_phone"),
        ({"person_address": "  "}, "missing_field", "person_address"),
        ({"request": ""}, "missing_field", "request"),
        ({"facts": ""}, "missing_field", "facts"),
        ({"respondent_name": "", "respondent_address": ""}, "missing_field", "respondent_name"),
        ({"respondent_address": ""}, "missing_field", "respondent_address"),
        ({"kinds": ""}, "missing_field", "kinds"),
        ({"kinds": "suggestion"}, "invalid_choice", "kinds"),
        ({"anonymous": True}, "anonymous_complaint", "anonymous"),
        ({"respondent_code": "91211282MA0XXXXXX1"}, "invalid_credit_code", "respondent_code"),
        ({"respondent_code": "9121128200000000"}, "invalid_credit_code", "respondent_code"),
        ({"platform_code": "12345"}, "invalid_credit_code", "platform_code"),
        ({"person_phone": "1380013800"}, "invalid_phone", "person_phone"),
        ({"person_phone": "23800138000"}, "invalid_phone", "person_phone"),
        ({"person_phone": "电话13800138000"}, "invalid_phone", "person_phone"),
        ({"person_id_number": "211282199003071230"}, "invalid_id_number", "person_id_number"),
        (
            {"person_id_number": id_number("21128219901307123")},
            "invalid_id_number",
            "person_id_number",
        ),
        ({"person_name": "李" * 51}, "too_long", "person_name"),
        ({"facts": "漏" * 5001}, "too_long", "facts"),
        ({"amount": "-1"}, "invalid_amount", "amount"),
        ({"amount": "12.345"}, "invalid_amount", "amount"),
        ({"amount": "NaN"}, "invalid_amount", "amount"),
        ({"amount": "一百元"}, "invalid_amount", "amount"),
        ({"amount": "1e20"}, "invalid_amount", "amount"),
        ({"incident_on": "2026-13-01"}, "invalid_date", "incident_on"),
        ({"incident_on": "2026-06-02"}, "invalid_date", "incident_on"),
        ({"category": "nope"}, "invalid_choice", "category"),
    ],
)
def test_bad_input_is_refused_with_a_specific_code_and_nothing_is_stored(
    personas, now, overrides, code, field
):
    with pytest.raises(IntakeRefused) as refused:
        submit(complaint_fields(**overrides), channel="web")
    assert (refused.value.code, refused.value.field) == (code, field)
    assert refused.value.message and refused.value.message.isascii() is False
    assert nothing_stored()


def test_every_problem_is_listed_for_the_form_at_once(personas, now):
    with pytest.raises(IntakeRefused) as refused:
        submit(complaint_fields(person_name="", person_phone="12", facts=""), channel="web")
    assert {e.field for e in refused.value.errors} == {"person_name", "person_phone", "facts"}


def test_a_real_name_report_needs_a_name_and_phone_but_no_request(personas, now):
    with pytest.raises(IntakeRefused) as refused:
        submit(complaint_fields(kinds="report", person_phone="", request=""), channel="web")
    assert (refused.value.code, refused.value.field) == ("missing_field", "person_phone")
    result = submit(complaint_fields(kinds="report", request=""), channel="web")
    assert result.cases[0].person_name == "李小红"


@pytest.mark.parametrize(
    ("name", "data", "code"),
    [
        ("evidence.pdf", b"MZ\x90\x00" + b"\x00" * 200, "file_type_not_allowed"),
        ("photo.pdf", png_bytes(), "file_extension_mismatch"),
        ("page.html", b"<html><script>alert(1)</script></html>", "file_type_not_allowed"),
        ("empty.png", b"", "file_empty"),
    ],
)
def test_a_bad_attachment_refuses_the_submission_with_the_files_code(
    personas, now, store, name, data, code
):
    with pytest.raises(IntakeRefused) as refused:
        submit(
            complaint_fields(),
            channel="web",
            files=[SimpleUploadedFile("ok.pdf", pdf_bytes()), SimpleUploadedFile(name, data)],
        )
    assert (refused.value.code, refused.value.field) == (code, "files")
    assert nothing_stored() and stored_files(store) == []


def test_a_too_large_attachment_is_refused(personas, now, store, settings):
    settings.ATTACHMENT_MAX_BYTES = 1024
    big = SimpleUploadedFile("big.pdf", pdf_bytes() + b"%" * 2048)
    with pytest.raises(IntakeRefused) as refused:
        submit(complaint_fields(), channel="web", files=[big])
    assert refused.value.code == "file_too_large"
    assert nothing_stored() and stored_files(store) == []


def test_too_many_attachments_are_refused(personas, now, store):
    uploads = [SimpleUploadedFile(f"{n}.png", png_bytes()) for n in range(intake.MAX_FILES + 1)]
    with pytest.raises(IntakeRefused) as refused:
        submit(complaint_fields(), channel="web", files=uploads)
    assert refused.value.code == "too_many_files"


def test_attachments_are_kept_with_each_case(personas, now, store):
    result = submit(
        complaint_fields(kinds="both"),
        channel="web",
        files=[
            SimpleUploadedFile("发票.pdf", pdf_bytes()),
            SimpleUploadedFile("a.png", png_bytes()),
        ],
    )
    for case in result.cases:
        names = sorted(a.original_name for a in intake.core_files.attachments_of(case))
        assert names == ["a.png", "发票.pdf"]
    assert len(stored_files(store)) == 4


# --- replays and crashes --------------------------------------------------------------------


def test_a_replayed_submission_returns_the_first_result_and_never_a_second_case(personas, now):
    client = personas["coordinator"]
    first = submit(
        complaint_fields(kinds="both"),
        channel="api",
        by=client,
        client=client,
        idempotency_key="k-1",
    )
    again = submit(
        complaint_fields(kinds="both"),
        channel="api",
        by=client,
        client=client,
        idempotency_key="k-1",
    )
    assert again.replayed and not first.replayed
    assert again.numbers == first.numbers and again.receipt_code == first.receipt_code
    assert Case.objects.count() == 2 and Submission.objects.count() == 1
    with pytest.raises(IntakeRefused) as refused:
        submit(
            complaint_fields(kinds="both", amount="200"),
            channel="api",
            by=client,
            client=client,
            idempotency_key="k-1",
        )
    assert refused.value.code == "idempotency_conflict"
    # The same key from another client is another submission.
    other = personas["kaiyuan"]
    third = submit(
        complaint_fields(kinds="both"),
        channel="api",
        by=other,
        client=other,
        idempotency_key="k-1",
    )
    assert not third.replayed and Case.objects.count() == 4


def test_a_crash_while_writing_the_second_case_leaves_nothing_behind(personas, now, store):
    # The report's number is already taken (as if another writer had it): its insert fails
    # after the submission, the complaint and the complaint's attachment were written.
    taken = make_case(kind=Case.Kind.REPORT, received_on=dt.date(2026, 6, 1))
    Case.objects.filter(pk=taken.pk).update(number="JB20260601000001")
    before = (Case.objects.count(), Submission.objects.count(), Attachment.objects.count())
    with pytest.raises(Exception):  # noqa: B017 - the database's own integrity error
        submit(
            complaint_fields(kinds="both"),
            channel="web",
            files=[SimpleUploadedFile("发票.pdf", pdf_bytes())],
        )
    after = (Case.objects.count(), Submission.objects.count(), Attachment.objects.count())
    assert after == before
    assert not AuditEvent.objects.filter(action="complaints.case.submitted").exists()
    assert stored_files(store) == []


def test_case_numbers_count_up_per_kind_and_day(personas, now):
    numbers = [submit(complaint_fields(kinds="both"), channel="web").numbers for _ in range(3)]
    assert [n[0] for n in numbers] == [f"TS20260601{i:06d}" for i in (1, 2, 3)]
    assert [n[1] for n in numbers] == [f"JB20260601{i:06d}" for i in (1, 2, 3)]
    with time_machine.travel(NOW + dt.timedelta(days=1), tick=False):
        assert submit(complaint_fields(), channel="web").numbers == ["TS20260602000001"]


# --- near-duplicates ------------------------------------------------------------------------


def test_a_retyped_complaint_is_flagged_as_a_possible_duplicate(personas, now):
    first = submit(complaint_fields(), channel="web").cases[0]
    retyped = complaint_fields(
        person_phone="13800138000", facts="购买的电热水壶，使用三天后漏电；商家拒绝退货！"
    )
    assert list(intake.duplicates_for(retyped, received_on=dt.date(2026, 6, 1))) == [first]
    second = submit(retyped, channel="phone").cases[0]
    assert list(intake.possible_duplicates(second)) == [first]
    assert first.fingerprint == second.fingerprint
    unrelated = submit(
        complaint_fields(person_phone="13900139000", respondent_name="别家店"), channel="web"
    ).cases[0]
    assert list(intake.possible_duplicates(unrelated)) == []
