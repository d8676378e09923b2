"""谁检查谁录入: who may enter a result, what a result holds, its deadline and follow-up."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from qcity.core import services as core_services
from qcity.core import workflow
from qcity.core.models import Attachment, AuditEvent, Notice, User
from qcity.core.workflow import Forbidden, NotFound, StepNotAllowed
from qcity.inspections import results, services
from qcity.inspections.models import Batch, FollowUp, Result, Task
from qcity.registry.models import Inspector
from tests.conftest import make_user
from tests.core.test_files import docx_bytes, pdf_bytes, png_bytes
from tests.inspections.tasks_data import county_batch, kaiyuan_with_inspector, result_codes

pytestmark = pytest.mark.django_db

CHECK_DAY = dt.date(2026, 9, 25)  # 中秋节, a Friday: inspectors do check on holidays


@pytest.fixture
def storage(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "attachments": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "attachments")},
        },
    }
    return tmp_path / "attachments"


@pytest.fixture
def county(personas, calendar):
    result_codes()
    return kaiyuan_with_inspector(personas)


def enter(user, task, **overrides):
    params = {
        "codes": ["05", "02"],
        "findings": "年报未公示股东出资信息，已当场责令改正。",
        "check_date": CHECK_DAY,
    }
    params.update(overrides)
    return services.enter_result(user, task.pk, **params)


def stored_files(folder) -> list:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


# --- who may enter ------------------------------------------------------------------------------


def test_an_assigned_inspector_enters_a_result_with_two_codes(county, personas):
    task = county.tasks[0]
    transition = enter(personas["inspector"], task)
    task.refresh_from_db()
    assert task.status == Task.Status.CHECKED
    result = Result.objects.get(task=task)
    assert sorted(result.codes.values_list("code", flat=True)) == ["02", "05"]
    assert result.entered_by == personas["inspector"]
    assert result.check_date == CHECK_DAY
    assert transition.step == "enter_result" and transition.details["codes"] == ["02", "05"]
    event = AuditEvent.objects.filter(action="inspections.task.enter_result").get()
    assert event.actor_id == personas["inspector"].pk


@pytest.mark.parametrize(
    ("who", "error"),
    [
        ("kaiyuan", Forbidden),  # the county officer who owns the task
        ("coordinator", Forbidden),  # the city coordinator sees every task
        ("inspector_elsewhere", NotFound),  # an inspector of another task: not even visible
        ("xifeng", NotFound),  # another county
        ("inactive", Forbidden),  # assigned, but has left the inspector pool
    ],
)
def test_only_an_active_assigned_inspector_may_enter_a_result(county, personas, who, error):
    task = county.tasks[0]
    if who == "inspector_elsewhere":
        user = make_user("inspector3", "inspector", "开原市城区市场监督管理所")
        other = county_batch(
            "开原市",
            "211282",
            personas["kaiyuan"],
            entities=1,
            inspector_users=(user, None),
        )
        assert other.tasks[0].assignments.filter(inspector__user=user).exists()
    elif who == "inactive":
        user = personas["inspector"]
        Inspector.objects.filter(user=user).update(active=False)
    else:
        user = personas[who]
    with pytest.raises(error) as refused:
        enter(user, task)
    assert refused.value.code == error.code
    task.refresh_from_db()
    assert task.status == Task.Status.PENDING and task.publish_due is None
    assert not Result.objects.filter(task=task).exists()
    assert not AuditEvent.objects.filter(action="inspections.task.enter_result").exists()


def test_an_assigned_inspector_may_not_enter_a_result_twice_but_may_correct_it(county, personas):
    task = county.tasks[0]
    enter(personas["inspector"], task)
    with pytest.raises(StepNotAllowed):
        enter(personas["inspector"], task, codes=["01"], findings="")
    with pytest.raises(workflow.ReasonRequired):
        services.correct_result(
            personas["inspector"],
            task.pk,
            codes=["01"],
            findings="",
            check_date=CHECK_DAY,
            reason="",
        )
    # The colleague on the same task may correct it (both are 检查人).
    colleague = User.objects.get(username="inspector2")
    assert results.is_assigned_inspector(colleague, task)
    transition = services.correct_result(
        colleague,
        task.pk,
        codes=["01"],
        findings="",
        check_date=CHECK_DAY,
        reason="误选，复核后未发现问题",
    )
    result = Result.objects.get(task=task)
    assert list(result.codes.values_list("code", flat=True)) == ["01"]
    assert result.entered_by == colleague
    assert transition.reason == "误选，复核后未发现问题"
    assert transition.details["previous"]["codes"] == ["02", "05"]


# --- what a result holds ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        ({"codes": []}, "codes_required", "codes"),
        ({"codes": ["01", "05"]}, "codes_exclusive", "codes"),
        ({"codes": ["01", "10"]}, "codes_exclusive", "codes"),
        ({"codes": ["99"]}, "codes_unknown", "codes"),
        ({"codes": ["06"], "findings": "   "}, "findings_required", "findings"),
        ({"findings": "问" * 5001}, "findings_too_long", "findings"),
        ({"check_date": "2026-13-01"}, "check_date_invalid", "check_date"),
        ({"check_date": dt.date(2026, 8, 31)}, "check_date_before_window", "check_date"),
        ({"check_date": dt.date(2099, 1, 1)}, "check_date_future", "check_date"),
    ],
)
def test_a_bad_result_is_refused_with_a_specific_code_and_nothing_is_stored(
    county, personas, overrides, code, field
):
    task = county.tasks[0]
    with pytest.raises(results.ResultInvalid) as refused:
        enter(personas["inspector"], task, **overrides)
    assert refused.value.code == code and refused.value.field == field
    assert refused.value.status == 422 and refused.value.message
    assert not Result.objects.exists() and not FollowUp.objects.exists()
    assert Task.objects.get(pk=task.pk).status == Task.Status.PENDING


def test_no_problem_found_alone_needs_no_findings(county, personas):
    enter(personas["inspector"], county.tasks[0], codes=["01"], findings="")
    assert Result.objects.get().findings == ""


def test_a_disabled_code_is_refused_for_a_new_result(county, personas):
    from django.utils import timezone

    from qcity.inspections.models import ResultCode

    ResultCode.objects.filter(code="02").update(disabled_on=timezone.now())
    with pytest.raises(results.ResultInvalid) as refused:
        enter(personas["inspector"], county.tasks[0])
    assert refused.value.code == "codes_unknown" and "02" in refused.value.message


def test_a_check_after_the_window_is_kept_with_a_warning(personas, calendar):
    result_codes()
    county = county_batch(
        "开原市",
        "211282",
        personas["kaiyuan"],
        entities=1,
        window=(dt.date(2026, 9, 1), dt.date(2026, 9, 20)),
        inspector_users=(personas["inspector"], None),
    )
    transition = enter(personas["inspector"], county.tasks[0])
    assert transition.details["warnings"] == ["check_date_after_window"]
    assert Result.objects.get().check_date == CHECK_DAY


# --- the publication deadline -------------------------------------------------------------------


def test_publish_due_is_twenty_working_days_after_the_check_across_national_day(county, personas):
    """Counted by hand from the State Council's 2026 arrangement (国办发明电〔2025〕号):

    the check day itself does not count; 9-26/27 weekend (中秋), 9-28, 9-29, 9-30 are days
    1-3; 10-1…10-7 off; 10-8, 10-9 are 4-5; Saturday 10-10 is a make-up working day (6);
    10-12…10-16 are 7-11; 10-19…10-23 are 12-16; 10-26…10-29 are 17-20.
    A weekends-only count would give 10-23.
    """
    task = county.tasks[0]
    transition = enter(personas["inspector"], task)
    task.refresh_from_db()
    assert task.publish_due == dt.date(2026, 10, 29)
    assert task.publish_due_rule == results.PUBLISH_RULE
    assert task.publish_due_provisional is False
    assert task.publish_due_calendar_version is not None
    assert transition.details["publish_due"]["due"] == "2026-10-29"


def test_a_publish_due_past_the_known_calendar_is_provisional_and_recomputed(personas, calendar):
    result_codes()
    county = county_batch(
        "开原市",
        "211282",
        personas["kaiyuan"],
        entities=1,
        window=(dt.date(2026, 12, 1), dt.date(2026, 12, 31)),
        inspector_users=(personas["inspector"], None),
    )
    task = county.tasks[0]
    with time_machine.travel(dt.datetime(2026, 12, 22, 9, 0, tzinfo=dt.UTC), tick=False):
        enter(personas["inspector"], task, check_date=dt.date(2026, 12, 21), codes=["06"])
    task.refresh_from_db()
    assert task.publish_due_provisional is True
    # Provisional 2027: 元旦 (1-1) off only; 12-22…12-31 are 8 days, 1-4…1-19 twelve more.
    assert task.publish_due == dt.date(2027, 1, 19)
    follow_up = FollowUp.objects.get(task=task)
    assert follow_up.due_provisional is True

    # The State Council's 2027 notice: 1-1 to 1-3 off (a made-up arrangement for the test).
    core_services.enter_calendar_year(
        2027,
        [core_services.HolidayRange("元旦", dt.date(2027, 1, 1), dt.date(2027, 1, 3))],
        [],
        by=personas["sysadmin"],
    )
    task.refresh_from_db()
    assert task.publish_due_provisional is False
    assert task.publish_due == dt.date(2027, 1, 19)  # 1-2/1-3 were a weekend anyway
    follow_up.refresh_from_db()
    assert follow_up.due_provisional is False
    assert AuditEvent.objects.filter(action="calendar.deadline_recomputed").count() == 2


# --- follow-ups ---------------------------------------------------------------------------------


def test_a_problem_left_for_later_opens_a_follow_up_for_the_owner(county, personas):
    task = county.tasks[0]
    transition = enter(
        personas["inspector"], task, codes=["06"], findings="涉嫌虚假宣传，待立案核查"
    )
    follow_up = FollowUp.objects.get(task=task)
    assert follow_up.status == FollowUp.Status.OPEN
    assert follow_up.owner_unit == county.bureau
    # 15 working days after 9-25 by the same hand count as publish_due: 10-22.
    assert follow_up.due_date == dt.date(2026, 10, 22)
    assert follow_up.due_rule == results.FOLLOW_UP_RULE
    assert transition.details["follow_up"] == "opened"
    assert AuditEvent.objects.filter(action="inspections.followup.opened").count() == 1
    # The owner bureau's officer is told; the other county's is not.
    notice = Notice.objects.get()
    assert notice.recipient == personas["kaiyuan"] and notice.object_id == str(follow_up.pk)
    assert "2026-10-22" in notice.subject and task.entity.name in notice.subject


def test_a_correction_dropping_the_follow_up_code_closes_it_as_not_needed_and_adding_it_reopens(
    county, personas
):
    task = county.tasks[0]
    inspector = personas["inspector"]
    enter(inspector, task, codes=["06"], findings="涉嫌虚假宣传")
    services.correct_result(
        inspector,
        task.pk,
        codes=["05"],
        findings="已当场改正",
        check_date=CHECK_DAY,
        reason="当场已整改，无需立案",
    )
    follow_up = FollowUp.objects.get(task=task)
    assert follow_up.status == FollowUp.Status.CLOSED
    assert follow_up.resolution == FollowUp.Resolution.NOT_NEEDED
    assert "当场已整改，无需立案" in follow_up.outcome
    event = AuditEvent.objects.get(action="inspections.followup.withdrawn")
    assert event.details["reason"] == "当场已整改，无需立案"

    services.correct_result(
        inspector,
        task.pk,
        codes=["06"],
        findings="复查发现仍未整改",
        check_date=CHECK_DAY,
        reason="复查",
    )
    follow_up.refresh_from_db()
    assert follow_up.status == FollowUp.Status.OPEN and follow_up.resolution == ""
    assert AuditEvent.objects.filter(action="inspections.followup.reopened").count() == 1
    assert FollowUp.objects.count() == 1  # the same row, its history kept in the audit log


def test_the_owner_closes_a_follow_up_with_its_outcome_and_others_may_not(county, personas):
    task = county.tasks[0]
    enter(personas["inspector"], task, codes=["06"], findings="涉嫌虚假宣传")
    follow_up = FollowUp.objects.get(task=task)
    with pytest.raises(NotFound):
        services.close_follow_up(
            personas["xifeng"], follow_up.pk, resolution="filed", outcome="已立案"
        )
    with pytest.raises((Forbidden, NotFound)):
        services.close_follow_up(
            personas["inspector"], follow_up.pk, resolution="filed", outcome="已立案"
        )
    with pytest.raises(results.ResultInvalid) as refused:
        services.close_follow_up(
            personas["kaiyuan"], follow_up.pk, resolution="not_needed", outcome="x"
        )
    assert refused.value.code == "resolution_required"
    with pytest.raises(results.ResultInvalid) as refused:
        services.close_follow_up(personas["kaiyuan"], follow_up.pk, resolution="filed", outcome="")
    assert refused.value.code == "outcome_required"
    assert FollowUp.objects.get().status == FollowUp.Status.OPEN

    services.close_follow_up(
        personas["kaiyuan"],
        follow_up.pk,
        resolution="filed",
        outcome="已立案调查，案号开市监立〔2026〕12号",
    )
    follow_up.refresh_from_db()
    assert follow_up.status == FollowUp.Status.CLOSED
    assert follow_up.resolution == "filed" and follow_up.status_changed_by == personas["kaiyuan"]
    assert AuditEvent.objects.filter(action="inspections.followup.close").count() == 1


# --- attachments --------------------------------------------------------------------------------


def test_photos_and_a_pdf_of_the_record_are_attached_to_the_result(county, personas, storage):
    task = county.tasks[0]
    enter(
        personas["inspector"],
        task,
        files=[
            SimpleUploadedFile("现场照片.png", png_bytes(), content_type="image/png"),
            SimpleUploadedFile("检查记录.pdf", pdf_bytes(), content_type="application/pdf"),
        ],
    )
    result = Result.objects.get(task=task)
    names = sorted(a.original_name for a in Attachment.objects.all())
    assert names == ["检查记录.pdf", "现场照片.png"]
    assert {a.object_id for a in Attachment.objects.all()} == {str(result.pk)}
    assert len(stored_files(storage)) == 2


@pytest.mark.parametrize(
    ("name", "data", "code"),
    [
        ("检查记录.pdf", b"%PDF-1.4 not really", "file_corrupted"),
        ("检查记录.docx", None, "file_type_not_allowed"),  # Office: not a photo of the record
        ("现场.exe", b"MZ\x90\x00" + b"\x00" * 100, "file_type_not_allowed"),
    ],
)
def test_a_refused_file_leaves_no_result_no_attachment_and_no_stored_file(
    county, personas, storage, name, data, code
):
    from qcity.core.files import AttachmentRefused

    task = county.tasks[0]
    good = SimpleUploadedFile("现场照片.png", png_bytes(), content_type="image/png")
    bad = io.BytesIO(data if data is not None else docx_bytes())
    bad.name = name
    with pytest.raises(AttachmentRefused) as refused:
        enter(personas["inspector"], task, files=[good, bad])
    assert refused.value.code == code
    assert not Result.objects.exists() and not Attachment.objects.exists()
    assert Task.objects.get(pk=task.pk).status == Task.Status.PENDING
    assert stored_files(storage) == []


# --- completing the batch -----------------------------------------------------------------------


def test_a_batch_completes_only_when_every_task_is_published(county, personas):
    first, second = county.tasks
    enter(personas["inspector"], first, codes=["01"], findings="")
    with pytest.raises(results.ResultInvalid) as refused:
        services.complete_batch(personas["kaiyuan"], county.batch.pk)
    assert refused.value.code == "batch_incomplete"
    assert "还有 1 户未录入结果" in refused.value.message
    assert "还有 1 户未公示" in refused.value.message
    enter(personas["inspector"], second, codes=["01"], findings="")
    # Publication is the portal helper's step; here the tasks are marked published directly.
    Task.objects.filter(batch=county.batch).update(status=Task.Status.PUBLISHED)
    with pytest.raises(NotFound):  # an inspector does not see batches
        services.complete_batch(personas["inspector"], county.batch.pk)
    services.complete_batch(personas["kaiyuan"], county.batch.pk)
    assert Batch.objects.get(pk=county.batch.pk).status == Batch.Status.COMPLETED
