"""Reporting cycles and the report workflow, as the coordinator and the units use them."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from qcity.core import files
from qcity.core.models import AuditEvent, Notice, OrgUnit, Transition
from qcity.core.workflow import Forbidden, Invalid, NotFound, ReasonRequired, StepNotAllowed, take
from qcity.plans.models import Responsibility
from qcity.reporting import selectors, services
from qcity.reporting.models import ProgressReport, ReportingCycle
from qcity.reporting.services import REPORT, ReportingRefused
from tests.reporting.conftest import pdf_bytes

pytestmark = pytest.mark.django_db

S = ProgressReport.Status


def write(user, report, text="本季度完成农产品抽检 1200 批次。"):
    return services.save_report(
        user,
        report.pk,
        progress="on_track",
        narrative=text,
        figures=[{"name": "抽检批次", "value": "1200", "unit": "批次"}],
    )


def a_report_of(user, cycle):
    return ProgressReport.objects.filter(cycle=cycle, org_unit=user.unit).order_by("pk").first()


# --- opening cycles ---------------------------------------------------------------------------


def test_it_opens_one_report_per_measure_and_confirmed_responsible_unit(plan, personas, calendar):
    opened = services.open_cycle(plan, "quarterly", 2026, 1, by=personas["coordinator"])
    expected = {
        (r.measure_id, r.org_unit_id)
        for r in Responsibility.objects.filter(measure__plan=plan, org_unit__confirmed=True)
    }
    got = set(opened.cycle.reports.values_list("measure_id", "org_unit_id"))
    assert got == expected and opened.reports == len(expected)
    # The seed's typo 市交通运输局市 is an unconfirmed unit: it gets no report until mapped.
    assert "市交通运输局市" in opened.skipped_units
    assert opened.cycle.label == "2026年第1季度"
    assert (opened.cycle.period_start, opened.cycle.period_end) == (
        dt.date(2026, 1, 1),
        dt.date(2026, 3, 31),
    )
    event = AuditEvent.objects.filter(action="reporting.cycle.opened").get()
    assert event.details["reports"] == len(expected)


def test_the_due_date_counts_chinese_working_days_across_the_national_day_holiday(
    plan, personas, calendar
):
    # Q3 2026 ends on Wednesday 30 September. 1–7 October are the National Day holiday,
    # Saturday 10 October is a working day (调休): the 10th working day is 20 October.
    cycle = services.open_cycle(
        plan, "quarterly", 2026, 3, by=personas["coordinator"], due_workdays=10, on_time_workdays=5
    ).cycle
    assert cycle.due_date == dt.date(2026, 10, 20)
    # 8, 9, 10 (Sat, working), 12, 13 October.
    assert cycle.on_time_by == dt.date(2026, 10, 13)
    assert cycle.due_rule == "reporting.cycle.due" and not cycle.due_provisional


def test_a_cycle_past_the_known_calendar_gets_a_provisional_due_date(plan, personas, calendar):
    cycle = services.open_cycle(plan, "yearly", 2027, 1, by=personas["coordinator"]).cycle
    assert cycle.due_provisional is True


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("quarterly", 2026, 5), "invalid_period"),
        (("monthly", 2026, 13), "invalid_period"),
        (("weekly", 2026, 1), "invalid_period"),
        (("quarterly", 1899, 1), "invalid_period"),
    ],
)
def test_it_refuses_a_period_that_does_not_exist(plan, personas, calendar, args, code):
    with pytest.raises(ReportingRefused) as refused:
        services.open_cycle(plan, *args, by=personas["coordinator"])
    assert refused.value.code == code and refused.value.message
    assert not ReportingCycle.objects.exists()


def test_it_refuses_a_cycle_whose_dates_overlap_another(plan, personas, calendar, q1):
    with pytest.raises(ReportingRefused) as refused:
        services.open_cycle(plan, "quarterly", 2026, 1, by=personas["coordinator"])
    assert refused.value.code == "cycle_overlap" and "2026年第1季度" in refused.value.message
    with pytest.raises(ReportingRefused) as refused:
        services.open_cycle(
            plan,
            "quarterly",
            2026,
            2,
            by=personas["coordinator"],
            period_start=dt.date(2026, 3, 15),
        )
    assert refused.value.code == "cycle_overlap"
    assert ReportingCycle.objects.count() == 1
    assert ProgressReport.objects.exclude(cycle=q1).count() == 0


def test_cycles_of_another_frequency_may_cover_the_same_months(plan, personas, calendar, q1):
    services.open_cycle(plan, "monthly", 2026, 2, by=personas["coordinator"])
    assert ReportingCycle.objects.count() == 2


def test_only_the_plans_coordinator_opens_a_cycle(plan, personas, calendar):
    for name in ("nongye", "kaiyuan", "sysadmin", "inspector"):
        with pytest.raises(ReportingRefused) as refused:
            services.open_cycle(plan, "quarterly", 2026, 1, by=personas[name])
        assert refused.value.code in ("forbidden", "not_found")
    assert not ReportingCycle.objects.exists()


# --- writing and submitting -------------------------------------------------------------------


def test_a_liaison_writes_and_submits_its_report_on_time(
    personas, q1, django_capture_on_commit_callbacks
):
    nongye = personas["nongye"]
    report = a_report_of(nongye, q1)
    with pytest.raises(Invalid, match="推进情况"):
        take(REPORT, "submit", report, by=nongye)
    write(nongye, report)
    with (
        time_machine.travel(dt.datetime(2026, 4, 3, 10, tzinfo=dt.UTC), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        transition = take(REPORT, "submit", report, by=nongye)
    report.refresh_from_db()
    assert report.status == S.SUBMITTED and report.on_time is True
    assert report.figures == [{"name": "抽检批次", "value": "1200", "unit": "批次"}]
    # The reviewer's clock starts: five working days from 3 April (清明 4–6 April 2026).
    assert transition.deadline_rule == "reporting.review"
    assert report.due_date == dt.date(2026, 4, 13)
    assert Notice.objects.filter(recipient=personas["coordinator"]).exists()


def test_a_report_first_submitted_after_the_on_time_day_counts_as_late(personas, q1):
    nongye = personas["nongye"]
    report = a_report_of(nongye, q1)
    write(nongye, report)
    late_day = q1.on_time_by + dt.timedelta(days=1)
    with time_machine.travel(dt.datetime.combine(late_day, dt.time(10)), tick=False):
        take(REPORT, "submit", report, by=nongye)
    report.refresh_from_db()
    assert report.on_time is False


@time_machine.travel(dt.datetime(2026, 4, 2, 9, tzinfo=dt.UTC), tick=False)
def test_the_full_cycle_submit_return_resubmit_approve_lock(
    personas, q1, django_capture_on_commit_callbacks
):
    nongye, coordinator = personas["nongye"], personas["coordinator"]
    report = a_report_of(nongye, q1)
    write(nongye, report)
    take(REPORT, "submit", report, by=nongye)
    with pytest.raises(ReasonRequired):
        take(REPORT, "return", report, by=coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        take(REPORT, "return", report, by=coordinator, reason="缺少抽检结果佐证")
    report.refresh_from_db()
    assert report.status == S.RETURNED and report.return_count == 1
    assert Notice.objects.filter(recipient=nongye, body__contains="缺少抽检结果佐证").exists()
    write(nongye, report, "补充了抽检结果通报。")
    take(REPORT, "resubmit", report, by=nongye)
    take(REPORT, "approve", report, by=coordinator)
    services.close_cycle(coordinator, q1.pk)
    report.refresh_from_db()
    assert report.status == S.LOCKED
    steps = list(
        Transition.objects.filter(object_id=str(report.pk), workflow="reporting.report")
        .order_by("pk")
        .values_list("step", flat=True)
    )
    assert steps == ["submit", "return", "resubmit", "approve", "lock"]
    # The first submission decides timeliness; a resubmission does not reset it.
    assert report.on_time is True


def test_nothing_changes_a_locked_report(personas, q1):
    nongye, coordinator = personas["nongye"], personas["coordinator"]
    report = a_report_of(nongye, q1)
    write(nongye, report)
    take(REPORT, "submit", report, by=nongye)
    take(REPORT, "approve", report, by=coordinator)
    take(REPORT, "lock", report, by=coordinator)
    before = ProgressReport.objects.filter(pk=report.pk).values().get()
    with pytest.raises(StepNotAllowed, match="已锁定"):
        take(REPORT, "submit", report, by=nongye)
    with pytest.raises(ReportingRefused) as refused:
        write(nongye, report, "锁定后改写")
    assert refused.value.code == "report_not_editable"
    with pytest.raises(ReportingRefused):
        services.add_evidence(nongye, report.pk, SimpleUploadedFile("a.pdf", pdf_bytes()))
    assert ProgressReport.objects.filter(pk=report.pk).values().get() == before


def test_a_closed_cycle_takes_no_more_reports(personas, q1):
    nongye = personas["nongye"]
    report = a_report_of(nongye, q1)
    write(nongye, report)
    services.close_cycle(personas["coordinator"], q1.pk)
    with pytest.raises(Invalid, match="已关闭"):
        take(REPORT, "submit", report, by=nongye)
    with pytest.raises(ReportingRefused) as refused:
        write(nongye, report, "关闭后改写")
    assert refused.value.code == "cycle_closed"


def test_a_closed_cycles_reports_are_not_reviewed_until_it_is_reopened(personas, q1):
    # A report returned after the close could never be resubmitted (the unit may no longer
    # write), and one approved after it would stay unlocked: both wait for a reopen.
    nongye, coordinator = personas["nongye"], personas["coordinator"]
    report = a_report_of(nongye, q1)
    write(nongye, report)
    take(REPORT, "submit", report, by=nongye)
    services.close_cycle(coordinator, q1.pk)
    for step, reason in (("return", "补充佐证"), ("approve", "")):
        with pytest.raises(Invalid, match="已关闭"):
            take(REPORT, step, report, by=coordinator, reason=reason)
    report.refresh_from_db()
    assert report.status == S.SUBMITTED
    take(services.CYCLE, "reopen", q1.pk, by=coordinator, reason="补审")
    take(REPORT, "approve", report, by=coordinator)
    report.refresh_from_db()
    assert report.status == S.APPROVED


def test_a_unit_cannot_review_its_own_report_and_a_liaison_cannot_approve(personas, q1):
    nongye = personas["nongye"]
    report = a_report_of(nongye, q1)
    write(nongye, report)
    take(REPORT, "submit", report, by=nongye)
    with pytest.raises(Forbidden):
        take(REPORT, "approve", report, by=nongye)
    with pytest.raises(NotFound):
        take(REPORT, "approve", report, by=personas["gongxin"])


# --- county pre-approval ----------------------------------------------------------------------


def test_a_countys_report_is_approved_by_the_county_before_the_city(
    plan, personas, calendar, county_reporter
):
    cycle = services.open_cycle(plan, "quarterly", 2026, 2, by=personas["coordinator"]).cycle
    report = ProgressReport.objects.get(cycle=cycle, org_unit__name="开原市")
    assert report.county_review_unit == OrgUnit.objects.get(name="开原市市场监督管理局")
    write(county_reporter, report)
    take(REPORT, "submit", report, by=county_reporter)
    coordinator, kaiyuan = personas["coordinator"], personas["kaiyuan"]
    # The city does not see the county's pending work as its own to approve.
    with pytest.raises(Invalid, match="初审"):
        take(REPORT, "approve", report, by=coordinator)
    # Another county's officer does not even see it.
    with pytest.raises(NotFound):
        take(REPORT, "county_approve", report, by=personas["xifeng"])
    take(REPORT, "county_approve", report, by=kaiyuan)
    with pytest.raises(Invalid):
        take(REPORT, "return", report, by=kaiyuan, reason="县级已通过，不应再由县级退回")
    take(REPORT, "approve", report, by=coordinator)
    report.refresh_from_db()
    assert report.status == S.APPROVED
    assert selectors.reports_for(kaiyuan).filter(pk=report.pk).exists()
    assert not selectors.reports_for(personas["xifeng"]).filter(pk=report.pk).exists()


def test_the_county_returns_a_report_to_its_unit(plan, personas, calendar, county_reporter):
    cycle = services.open_cycle(plan, "quarterly", 2026, 2, by=personas["coordinator"]).cycle
    report = ProgressReport.objects.get(cycle=cycle, org_unit__name="开原市")
    write(county_reporter, report)
    take(REPORT, "submit", report, by=county_reporter)
    with pytest.raises(Invalid):
        take(REPORT, "return", report, by=personas["coordinator"], reason="市级越级退回")
    take(REPORT, "return", report, by=personas["kaiyuan"], reason="数据口径不一致")
    report.refresh_from_db()
    assert report.status == S.RETURNED


# --- evidence ---------------------------------------------------------------------------------


def test_evidence_is_checked_and_a_refused_file_leaves_the_report_as_it_was(personas, q1):
    nongye = personas["nongye"]
    report = a_report_of(nongye, q1)
    write(nongye, report)
    good = services.add_evidence(nongye, report.pk, SimpleUploadedFile("抽检通报.pdf", pdf_bytes()))
    assert good.sha256 and good.media_type == "application/pdf"
    stored_before = sorted(files.storage().listdir("")[0])
    bad = [
        SimpleUploadedFile("宣传.exe", b"MZ\x90\x00" + b"\x00" * 200),
        SimpleUploadedFile("通报.pdf", b"%PDF-1.7\n" + b"\x00garbage" * 50 + b"\n%%EOF\n"),
        SimpleUploadedFile("照片.jpg", pdf_bytes()),
    ]
    for upload in bad:
        with pytest.raises(files.AttachmentRefused):
            services.add_evidence(nongye, report.pk, upload)
    assert list(files.attachments_of(report)) == [good]
    assert sorted(files.storage().listdir("")[0]) == stored_before
    services.remove_evidence(nongye, report.pk, good.pk)
    assert not files.attachments_of(report).exists()


def test_another_unit_cannot_write_or_attach_to_a_report(personas, q1):
    report = a_report_of(personas["nongye"], q1)
    gongxin = personas["gongxin"]
    for attempt in (
        lambda: write(gongxin, report),
        lambda: services.add_evidence(gongxin, report.pk, SimpleUploadedFile("a.pdf", pdf_bytes())),
    ):
        with pytest.raises(ReportingRefused) as refused:
            attempt()
        assert refused.value.code == "not_found"
    # The coordinator sees the report but does not write the unit's words for it.
    with pytest.raises(ReportingRefused) as refused:
        write(personas["coordinator"], report)
    assert refused.value.code == "forbidden"


@pytest.mark.parametrize(
    ("figures", "fragment"),
    [
        ("1200", "列表"),
        ([{"name": "抽检批次", "value": "一千二百"}], "不是数字"),
        ([{"name": "", "value": "3"}], "名称"),
        ([{"name": "x", "value": "1e20"}], "超出范围"),
        # A finite Decimal whose plain form would have a billion digits.
        ([{"name": "x", "value": "1e-999999999"}], "小数位过多"),
        ([{"name": "x", "value": "0.0000001"}], "小数位过多"),
        ([{"name": "x", "value": "1"}] * 21, "最多"),
    ],
)
def test_it_refuses_bad_key_figures_with_a_specific_message(personas, q1, figures, fragment):
    report = a_report_of(personas["nongye"], q1)
    with pytest.raises(ReportingRefused) as refused:
        services.save_report(
            personas["nongye"], report.pk, progress="on_track", narrative="x", figures=figures
        )
    assert refused.value.code == "invalid_figures" and fragment in refused.value.message
    report.refresh_from_db()
    assert report.narrative == "" and report.figures == []


# --- what each one sees, and the rates ---------------------------------------------------------


def test_a_liaison_sees_only_its_own_units_reports(personas, q1):
    nongye = personas["nongye"]
    seen = set(selectors.reports_for(nongye).values_list("org_unit__name", flat=True))
    assert seen == {"市农业农村局"}
    assert selectors.reports_for(personas["coordinator"]).count() == q1.reports.count()
    assert not selectors.reports_for(personas["inspector"]).exists()
    assert not selectors.reports_for(personas["sysadmin"]).exists()


def test_completeness_and_timeliness_per_unit(personas, q1):
    nongye = personas["nongye"]
    mine = list(ProgressReport.objects.filter(cycle=q1, org_unit=nongye.unit).order_by("pk"))
    assert len(mine) == 5
    on_day = dt.datetime.combine(q1.on_time_by, dt.time(9))
    with time_machine.travel(on_day, tick=False):
        for report in mine[:2]:
            write(nongye, report)
            take(REPORT, "submit", report, by=nongye)
    with time_machine.travel(on_day + dt.timedelta(days=7), tick=False):
        write(nongye, mine[2])
        take(REPORT, "submit", mine[2], by=nongye)
        rates = {r.unit_name: r for r in selectors.unit_rates(personas["coordinator"], [q1])}
    mine_rate = rates["市农业农村局"]
    assert (mine_rate.expected, mine_rate.received, mine_rate.on_time) == (5, 3, 2)
    assert mine_rate.completeness == pytest.approx(0.6)
    assert mine_rate.timeliness == pytest.approx(0.4)
    # After the due date, the two still missing are late.
    assert mine_rate.late == (2 if on_day.date() + dt.timedelta(days=7) > q1.due_date else 0)
    # A liaison's rates cover only its own unit.
    assert [r.unit_name for r in selectors.unit_rates(nongye, [q1])] == ["市农业农村局"]
