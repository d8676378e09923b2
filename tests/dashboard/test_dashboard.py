"""The dashboard (驾驶舱): precomputed counts kept true, scope, empty states, drill-down."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone

from qcity.core import jobs
from qcity.core.workflow import Invalid, take
from qcity.dashboard import services as dashboard_services
from qcity.dashboard.models import ChapterCycleCount, CycleCountState, UnitCycleCount
from qcity.metrics import services as metric_services
from qcity.metrics.models import Indicator
from qcity.plans import target_links
from qcity.plans.models import Target
from qcity.reporting import selectors as reporting_selectors
from qcity.reporting import services as reporting
from qcity.reporting.models import ProgressReport
from qcity.reporting.services import REPORT
from tests.reporting.conftest import pdf_bytes

pytestmark = pytest.mark.django_db


def submit(user, report, *, progress="on_track", figures=None):
    reporting.save_report(
        user,
        report.pk,
        progress=progress,
        narrative="本期按计划推进。",
        figures=figures or [],
    )
    return take(REPORT, "submit", report.pk, by=user)


def first_report(user, cycle) -> ProgressReport:
    return ProgressReport.objects.filter(cycle=cycle, org_unit=user.unit).order_by("pk").first()


def counted(cycle, unit) -> dict[str, int]:
    units = UnitCycleCount.objects.filter(cycle=cycle, org_unit=unit)
    chapters = ChapterCycleCount.objects.filter(cycle=cycle, org_unit=unit)
    result = {
        key: sum(getattr(r, key) for r in units) for key in ("expected", "received", "on_time")
    }
    result |= {key: sum(getattr(r, key) for r in chapters) for key in ("on_track", "at_risk")}
    # The chapter rows add up to the unit's rows.
    assert sum(r.expected for r in chapters) == result["expected"]
    assert sum(r.received for r in chapters) == result["received"]
    return result


def page(client, user, url="/dashboard/") -> str:
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


# --- the precomputed counts ---------------------------------------------------------------------


def test_a_cycle_opened_in_bulk_is_counted_when_the_dashboard_is_first_shown(
    client, plan, personas, calendar
):
    cycle = reporting.open_cycle(plan, "quarterly", 2026, 1, by=personas["coordinator"]).cycle
    # open_cycle bulk-creates its reports: no save signal, nothing counted yet.
    assert not UnitCycleCount.objects.filter(cycle=cycle).exists()
    html = page(client, personas["coordinator"])
    expected = cycle.reports.count()
    assert sum(UnitCycleCount.objects.filter(cycle=cycle).values_list("expected", flat=True)) == (
        expected
    )
    assert f"0 / {expected}" in html


def test_a_submit_changes_the_counts_in_its_own_transaction(client, plan, personas, calendar):
    coordinator, nongye = personas["coordinator"], personas["nongye"]
    cycle = reporting.open_cycle(plan, "quarterly", 2026, 1, by=coordinator).cycle
    dashboard_services.refresh_cycle(cycle.pk)
    before = counted(cycle, nongye.unit)
    assert before["received"] == 0 and before["expected"] > 0

    submit(nongye, first_report(nongye, cycle), progress="at_risk")

    after = counted(cycle, nongye.unit)
    assert after["received"] == 1 and after["at_risk"] == 1
    assert after["expected"] == before["expected"]
    # Nothing else had to run: the page agrees, and so does a rebuild from scratch.
    assert dashboard_services.stale_cycles([cycle.pk]) == []
    dashboard_services.refresh_cycle(cycle.pk)
    assert counted(cycle, nongye.unit) == after


def test_the_counts_agree_with_the_reports_own_rates(plan, personas, calendar):
    coordinator = personas["coordinator"]
    cycle = reporting.open_cycle(plan, "quarterly", 2026, 1, by=coordinator).cycle
    dashboard_services.refresh_cycle(cycle.pk)
    with time_machine.travel(dt.datetime(2026, 4, 2, 9, tzinfo=dt.UTC)):  # on time
        submit(personas["nongye"], first_report(personas["nongye"], cycle))
    # Today (after the cycle's on_time_by): received, not on time.
    submit(personas["gongxin"], first_report(personas["gongxin"], cycle))
    rates = reporting_selectors.unit_rates(coordinator, [cycle])
    assert sum(r.received for r in rates) == 2 and sum(r.on_time for r in rates) == 1
    for rate in rates:
        mine = counted(cycle, rate.unit_id)
        assert (mine["expected"], mine["received"], mine["on_time"]) == (
            rate.expected,
            rate.received,
            rate.on_time,
        )


def test_a_change_behind_the_signals_back_is_found_and_recounted(client, plan, personas, calendar):
    coordinator, nongye = personas["coordinator"], personas["nongye"]
    cycle = reporting.open_cycle(plan, "quarterly", 2026, 1, by=coordinator).cycle
    dashboard_services.refresh_cycle(cycle.pk)
    report = first_report(nongye, cycle)
    # A bulk update (no save signal) that keeps updated_at true, as a data fix should.
    ProgressReport.objects.filter(pk=report.pk).update(
        first_submitted_at=timezone.now(),
        on_time=True,
        status=ProgressReport.Status.SUBMITTED,
        updated_at=timezone.now(),
    )
    assert dashboard_services.stale_cycles([cycle.pk]) == [cycle.pk]
    page(client, coordinator)
    assert counted(cycle, nongye.unit)["received"] == 1


def test_the_daily_job_and_the_command_rebuild_the_counts(plan, personas, calendar):
    cycle = reporting.open_cycle(plan, "quarterly", 2026, 1, by=personas["coordinator"]).cycle
    assert "dashboard.refresh" in jobs.TIMERS
    assert dashboard_services.refresh_open_cycles() == 1
    assert CycleCountState.objects.get(cycle=cycle).report_count == cycle.reports.count()
    UnitCycleCount.objects.filter(cycle=cycle).delete()
    call_command("refresh_dashboard", "--all", stdout=open("/dev/null", "w"))
    assert UnitCycleCount.objects.filter(cycle=cycle).exists()


# --- what each user sees --------------------------------------------------------------------------


def test_a_liaisons_dashboard_shows_none_of_another_units_figures(client, plan, personas, calendar):
    coordinator, nongye, gongxin = personas["coordinator"], personas["nongye"], personas["gongxin"]
    cycle = reporting.open_cycle(plan, "quarterly", 2026, 1, by=coordinator).cycle
    report = first_report(gongxin, cycle)
    submit(gongxin, report, figures=[{"name": "抽检批次", "value": "987654", "unit": "批次"}])

    mine = page(client, nongye)
    assert "市农业农村局" in mine
    assert "市工业和信息化局" not in mine
    chapter = report.measure.chapter
    drill = page(client, nongye, f"/dashboard/chapters/{chapter.pk}/?cycle={cycle.pk}")
    assert "987654" not in drill and "市工业和信息化局" not in drill

    everything = page(client, coordinator)
    assert "市工业和信息化局" in everything and "市农业农村局" in everything
    drill = page(client, coordinator, f"/dashboard/chapters/{chapter.pk}/?cycle={cycle.pk}")
    assert "987654" in drill


def test_the_liaisons_counts_are_its_own_units_only(client, plan, personas, calendar):
    nongye = personas["nongye"]
    cycle = reporting.open_cycle(plan, "quarterly", 2026, 1, by=personas["coordinator"]).cycle
    html = page(client, nongye)
    own = cycle.reports.filter(org_unit=nongye.unit).count()
    assert re.search(rf'data-testid="latest-received">0 / {own}<', html)
    assert own < cycle.reports.count()


def test_a_county_officer_sees_the_reports_its_bureau_pre_approves(
    client, plan, personas, calendar, county_reporter
):
    cycle = reporting.open_cycle(plan, "quarterly", 2026, 1, by=personas["coordinator"]).cycle
    html = page(client, personas["kaiyuan"])
    assert "开原市" in html and "市农业农村局" not in html
    assert 'data-unit="开原市"' in html
    assert 'data-unit="开原市"' not in page(client, personas["xifeng"])
    assert cycle.reports.filter(org_unit__name="开原市").exists()


def test_a_target_shows_its_status_to_all_and_its_figures_only_in_scope(
    client, plan, personas, calendar
):
    coordinator = personas["coordinator"]
    metric_services.load_default_indicators()
    indicator = Indicator.objects.get(name="农产品质量安全例行监测合格率")
    target = Target.objects.get(plan=plan, indicator_name=indicator.name)
    target_links.link_indicator(target.pk, indicator.pk, by=coordinator)
    owner = next(p for p in personas.values() if p.unit_id == indicator.owner_unit_id)
    for period, value in (("2022", "96.25"), ("2024", "97.75")):
        metric_services.enter_value(
            indicator.pk, period=period, value=value, unit=indicator.unit, by=owner
        )

    html = page(client, owner)
    assert "97.75" in html and "96.25" in html
    assert 'data-testid="target-status"' in html
    other = personas["gongxin"]
    html = page(client, other)
    assert "97.75" not in html and "96.25" not in html
    assert 'data-testid="target-no-values"' in html
    status = target_links.status_of(Target.objects.get(pk=target.pk))[0]
    assert str(status.label) in html


# --- empty states, overdue units, drill-down ---------------------------------------------------


def test_before_any_cycle_the_dashboard_says_why_it_is_empty(client, plan, personas):
    html = page(client, personas["nongye"])
    assert "协调员尚未开启报送周期" in html
    assert "请在“报送周期”中开启第一个周期" not in html
    assert "请在“报送周期”中开启第一个周期" in page(client, personas["coordinator"])


def test_an_administrator_or_an_enterprise_is_told_the_role_sees_no_business_data(
    client, plan, personas
):
    assert "您的角色不查看业务数据" in page(client, personas["sysadmin"])
    html = page(client, personas["enterprise"])
    assert "您的角色不查看业务数据" in html and "尚未导入实施方案" not in html


def test_after_the_due_date_the_units_that_sent_nothing_are_overdue(
    client, plan, personas, calendar
):
    coordinator, nongye = personas["coordinator"], personas["nongye"]
    cycle = reporting.open_cycle(plan, "quarterly", 2026, 1, by=coordinator).cycle
    for report in cycle.reports.filter(org_unit=nongye.unit):
        submit(nongye, report)
    with time_machine.travel(
        dt.datetime.combine(cycle.due_date + dt.timedelta(days=3), dt.time(9), tzinfo=dt.UTC)
    ):
        html = page(client, coordinator)
    overdue = re.findall(r'data-testid="overdue-row"><th scope="row">([^<]+)<', html)
    assert "市工业和信息化局" in overdue
    assert "市农业农村局" not in overdue


def test_the_drill_down_leads_from_chapter_to_report_and_evidence(client, plan, personas, calendar):
    coordinator, nongye = personas["coordinator"], personas["nongye"]
    cycle = reporting.open_cycle(plan, "quarterly", 2026, 1, by=coordinator).cycle
    report = first_report(nongye, cycle)
    reporting.save_report(nongye, report.pk, progress="done", narrative="已完成。")
    attachment = reporting.add_evidence(
        nongye, report.pk, SimpleUploadedFile("抽检报告.pdf", pdf_bytes())
    )
    take(REPORT, "submit", report.pk, by=nongye)

    html = page(client, coordinator)
    chapter = report.measure.chapter
    assert f"/dashboard/chapters/{chapter.pk}/?cycle={cycle.pk}" in html
    drill = page(client, coordinator, f"/dashboard/chapters/{chapter.pk}/?cycle={cycle.pk}")
    assert f"/files/{attachment.pk}/" in drill and "抽检报告.pdf" in drill
    assert report.measure.title in drill


def test_a_malformed_or_foreign_cycle_in_the_drill_down_is_not_found(
    client, plan, personas, calendar
):
    cycle = reporting.open_cycle(plan, "quarterly", 2026, 1, by=personas["coordinator"]).cycle
    chapter = plan.chapters.first()
    client.force_login(personas["nongye"])
    for bad in ("abc", "999999", "1e9", str(cycle.pk) + "0"):
        assert client.get(f"/dashboard/chapters/{chapter.pk}/?cycle={bad}").status_code == 404
    assert client.get("/dashboard/?plan=abc").status_code == 404
    assert client.get("/dashboard/chapters/999999/").status_code == 404


def test_a_refused_step_leaves_the_counts_as_they_were(plan, personas, calendar):
    nongye = personas["nongye"]
    cycle = reporting.open_cycle(plan, "quarterly", 2026, 1, by=personas["coordinator"]).cycle
    dashboard_services.refresh_cycle(cycle.pk)
    before = counted(cycle, nongye.unit)
    with pytest.raises(Invalid):  # nothing written yet: 请先填写推进情况和进展情况再报送
        take(REPORT, "submit", first_report(nongye, cycle).pk, by=nongye)
    assert counted(cycle, nongye.unit) == before


def test_every_targets_status_on_the_dashboard_is_the_targets_pages_status(
    client, plan, personas, calendar
):
    coordinator = personas["coordinator"]
    metric_services.load_default_indicators()
    indicators = list(Indicator.objects.all())
    for target in Target.objects.filter(plan=plan, value__isnull=False):
        proposal = target_links.propose(target, indicators)
        if proposal:
            target_links.link_indicator(target.pk, proposal.indicator.pk, by=coordinator)
    # Figures that put the targets in different states (a baseline, then a latest value).
    for n, indicator in enumerate(indicators):
        for period, value in (("2021", 10 + n), ("2024", 40 + 20 * (n % 4))):
            metric_services.enter_value(
                indicator.pk, period=period, value=str(value), unit=indicator.unit, by=coordinator
            )
    from qcity.dashboard import selectors

    trends = selectors.target_trends(coordinator, plan)
    assert len(trends) >= 4
    for trend in trends:
        expected = target_links.status_of(Target.objects.get(pk=trend.target.pk))[0]
        assert trend.status == str(expected), trend.target.indicator_name
    assert len({t.status for t in trends}) >= 2
