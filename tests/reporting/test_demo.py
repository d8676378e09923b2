"""The demo year that `make run` loads (qcity load_demo_activity), as a new user meets it."""

from __future__ import annotations

import datetime as dt
import io
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.core.management.base import CommandError

from qcity.core.demo import DEMO_PASSWORD
from qcity.core.models import AuditEvent, Notice, Role, Transition, User
from qcity.core.workflow import take
from qcity.plans.models import Responsibility
from qcity.reporting import demo, selectors, services
from qcity.reporting.demo import quarters
from qcity.reporting.models import ProgressReport, ReportingCycle
from tests import dbstate

pytestmark = pytest.mark.django_db

S = ProgressReport.Status
TODAY = dt.date(2026, 11, 28)
# Saturday morning in Tieling, the day this demo was written.
NOW = dt.datetime(2026, 11, 28, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai"))


def load() -> str:
    out = io.StringIO()
    with time_machine.travel(NOW, tick=True):
        # `make demo` runs after `load_defaults`; the 双随机 demo needs its check items.
        call_command("load_inspection_defaults", stdout=io.StringIO())
        call_command("load_demo_activity", stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.fixture
def frozen():
    # Replayed fixture rows get "now" in their auto_now fields (Plan.imported_at), so the
    # database is only in the same state again, and the demo year replayed, at one moment.
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def demo_year(frozen, calendar, plan):
    # One real load per session, replayed afterwards (tests/dbstate.py).
    dbstate.load("demo_year", load)
    return plan


def test_it_covers_the_last_year_quarter_by_quarter_up_to_the_current_one(demo_year):
    cycles = list(ReportingCycle.objects.order_by("period_start"))
    assert [c.label for c in cycles] == [
        "2025年第4季度",
        "2026年第1季度",
        "2026年第2季度",
        "2026年第3季度",
        "2026年第4季度",
    ]
    assert {c.frequency for c in cycles} == {"quarterly"}
    # The three oldest are closed (their approved reports locked), Q3 is still being
    # reviewed, Q4 is under way and partly filled.
    assert [c.status for c in cycles] == ["closed"] * 3 + ["open"] * 2
    for cycle in cycles[:3]:
        statuses = set(cycle.reports.values_list("status", flat=True))
        assert statuses <= {S.LOCKED, S.DRAFT} and S.LOCKED in statuses
    current = cycles[-1].reports
    assert current.filter(status=S.DRAFT).exclude(narrative="").exists()  # drafts begun
    assert current.filter(status=S.DRAFT, narrative="").exists()  # not yet begun
    assert current.exclude(status=S.DRAFT).exists()  # some sent early
    assert current.exclude(status=S.DRAFT).count() < current.count() / 2
    # Some returns with their reasons, some of them resubmitted.
    assert ProgressReport.objects.filter(return_count__gt=0).count() >= 10
    returned = Transition.objects.filter(workflow=services.REPORT.name, step="return")
    assert returned.exists() and not returned.filter(reason="").exists()
    assert Transition.objects.filter(workflow=services.REPORT.name, step="resubmit").exists()


def test_every_sent_demo_report_went_through_the_workflow(demo_year):
    report_type = ContentType.objects.get_for_model(ProgressReport)
    steps: dict[str, list[Transition]] = {}
    for t in Transition.objects.filter(content_type=report_type).order_by("time", "pk"):
        steps.setdefault(t.object_id, []).append(t)
    sent = ProgressReport.objects.exclude(status=S.DRAFT).select_related("cycle")
    assert sent.count() > 300
    for report in sent:
        history = steps.get(str(report.pk))
        assert history, f"{report} has no transitions"
        # The history is a path through the workflow's states, ending in the report's.
        assert history[0].from_state == S.DRAFT and history[0].step == "submit"
        for before, after in pairwise(history):
            assert before.to_state == after.from_state
        assert history[-1].to_state == report.status
        # The report's stamps are those of its steps.
        assert report.first_submitted_at == history[0].time
        assert report.on_time == (report.first_submitted_at.date() <= report.cycle.on_time_by)
        assert report.status_changed_at == history[-1].time
        assert all(t.actor_id is not None for t in history)
    # Drafts never moved.
    drafts = ProgressReport.objects.filter(status=S.DRAFT).values_list("pk", flat=True)
    assert not Transition.objects.filter(
        content_type=report_type, object_id__in=[str(pk) for pk in drafts]
    ).exists()


def test_the_units_own_people_write_and_the_coordinator_reviews(demo_year):
    report_type = ContentType.objects.get_for_model(ProgressReport)
    reports = ProgressReport.objects.in_bulk()
    for t in Transition.objects.filter(content_type=report_type).select_related("actor"):
        report = reports[int(t.object_id)]
        if t.step in ("submit", "resubmit"):
            assert t.actor.unit_id == report.org_unit_id
            assert t.actor.role in services.REPORTER_ROLES
        else:
            assert t.actor.username == "coordinator"


def test_the_history_lies_in_the_past_but_the_audit_log_says_it_was_loaded_today(demo_year):
    # The reporting year is back-dated; the 双随机 demo's steps are taken now, and the 12315
    # demo's today's steps happen up to now (tests/complaints/test_demo.py checks those).
    reporting = Transition.objects.exclude(workflow__startswith="inspections.").exclude(
        workflow__startswith="complaints."
    )
    moments = list(reporting.values_list("time", flat=True))
    assert max(moments) < NOW
    assert min(moments) < NOW - dt.timedelta(days=300)
    first = ProgressReport.objects.exclude(first_submitted_at=None)
    assert first.filter(on_time=True).exists() and first.filter(on_time=False).exists()
    loaded = AuditEvent.objects.filter(action__startswith="reporting.report.")
    assert loaded.count() > 1000
    assert not loaded.filter(time__lt=NOW - dt.timedelta(hours=1)).exists()


def test_the_rates_show_a_mix_of_dependable_and_slow_units(demo_year):
    coordinator = User.objects.get(username="coordinator")
    due = ReportingCycle.objects.filter(due_date__lt=TODAY)
    rates = selectors.unit_rates(coordinator, due, today=TODAY)
    completeness = [r.completeness for r in rates]
    timeliness = [r.timeliness for r in rates]
    assert any(c == 1 for c in completeness) and any(c < 0.8 for c in completeness)
    assert any(t < c for t, c in zip(timeliness, completeness, strict=True))
    assert 0.75 < sum(r.received for r in rates) / sum(r.expected for r in rates) < 0.97
    # Late units show up as late: reports past their due date that never came.
    assert sum(r.late for r in rates) > 0


def test_the_dashboards_counts_tell_the_demo_story_as_the_reports_do(demo_year):
    from django.db.models import Count, Q, Sum

    from qcity.dashboard.models import UnitCycleCount

    for cycle in ReportingCycle.objects.all():
        truth = cycle.reports.aggregate(
            expected=Count("pk"),
            received=Count("pk", filter=Q(first_submitted_at__isnull=False)),
            on_time=Count("pk", filter=Q(on_time=True)),
        )
        counted = UnitCycleCount.objects.filter(cycle=cycle).aggregate(
            expected=Sum("expected"), received=Sum("received"), on_time=Sum("on_time")
        )
        assert counted == truth, cycle.label


def test_a_liaison_sees_only_its_own_units_demo_reports(demo_year):
    for username in ("nongye", "shangwu", "haiguan"):
        liaison = User.objects.get(username=username)
        seen = selectors.reports_for(liaison)
        assert seen.exists()
        assert set(seen.values_list("org_unit_id", flat=True)) == {liaison.unit_id}
        assert seen.count() == ProgressReport.objects.filter(org_unit=liaison.unit).count()


def test_every_responsible_unit_has_a_demo_liaison_with_the_demo_password(demo_year):
    units = set(
        Responsibility.objects.filter(
            measure__plan=demo_year, org_unit__confirmed=True
        ).values_list("org_unit_id", flat=True)
    )
    reporters = User.objects.filter(unit_id__in=units, role__in=services.REPORTER_ROLES)
    assert set(reporters.values_list("unit_id", flat=True)) == units
    shangwu = User.objects.get(username="shangwu")
    assert (shangwu.full_name, shangwu.unit.name, shangwu.role) == (
        "杨商务",
        "市商务局",
        Role.DEPARTMENT_LIAISON,
    )
    assert shangwu.check_password(DEMO_PASSWORD)
    created = AuditEvent.objects.filter(action="user.created", object_id=str(shangwu.pk)).get()
    assert created.details["demo"] is True


def test_a_second_run_changes_nothing_and_says_so(demo_year):
    def counts():
        return [
            m.objects.count()
            for m in (User, ReportingCycle, ProgressReport, Transition, AuditEvent)
        ]

    before = counts()
    statuses = list(ProgressReport.objects.order_by("pk").values_list("status", "updated_at"))
    output = load()
    assert "已存在，未作改动" in output
    assert counts() == before
    assert list(ProgressReport.objects.order_by("pk").values_list("status", "updated_at")) == (
        statuses
    )


def test_it_is_refused_under_production_settings(plan, calendar, settings):
    settings.QCITY_DEMO_DATA = False
    with pytest.raises(CommandError) as refused:
        load()
    assert refused.value.returncode == 2
    assert "生产环境不加载演示数据" in str(refused.value)
    assert not ReportingCycle.objects.exists()
    assert not User.objects.exists()


def test_it_asks_for_the_default_data_first(org_units):
    with pytest.raises(CommandError) as refused:
        load()
    assert refused.value.returncode == 2 and "load_defaults" in str(refused.value)


def test_the_year_is_the_current_quarter_and_the_four_before_it():
    assert quarters(TODAY) == [(2025, 4), (2026, 1), (2026, 2), (2026, 3), (2026, 4)]
    assert quarters(dt.date(2027, 1, 5)) == [(2026, 1), (2026, 2), (2026, 3), (2026, 4), (2027, 1)]


def test_the_borrowed_clock_moves_a_reports_steps_and_their_notices_to_the_story_times(
    q1, personas, django_capture_on_commit_callbacks
):
    nongye, coordinator = personas["nongye"], personas["coordinator"]
    report = ProgressReport.objects.filter(cycle=q1, org_unit=nongye.unit).order_by("pk").first()
    with django_capture_on_commit_callbacks(execute=True):
        services.save_report(
            nongye, report.pk, progress="on_track", narrative="本季度开展例行监测。"
        )
        submitted = take(services.REPORT, "submit", report.pk, by=nongye)
        returned = take(services.REPORT, "return", report.pk, by=coordinator, reason="请补充数据")
    tz = ZoneInfo("Asia/Shanghai")
    sent_at = dt.datetime(2026, 4, 8, 10, 15, tzinfo=tz)  # before the on-time day, 15 April
    returned_at = dt.datetime(2026, 4, 10, 16, 0, tzinfo=tz)
    demo.backdate(
        demo.Stamps(
            transitions={submitted.pk: sent_at, returned.pk: returned_at},
            report_written={report.pk: returned_at},
        )
    )
    report.refresh_from_db()
    assert (report.first_submitted_at, report.submitted_at) == (sent_at, sent_at)
    assert report.on_time is True and report.status_changed_at == returned_at
    # The unit's resubmission deadline counts 5 working days from the return, not from today.
    assert report.due_date == dt.date(2026, 4, 17)
    assert Transition.objects.get(pk=returned.pk).deadline_due == dt.date(2026, 4, 17)

    moved = demo.backdate_notices([report.pk], now=dt.datetime(2026, 4, 12, 9, 0, tzinfo=tz))
    to_coordinator = Notice.objects.get(recipient=coordinator, object_id=str(report.pk))
    to_unit = Notice.objects.get(recipient=nongye, object_id=str(report.pk))
    assert moved == 2
    assert to_coordinator.created_at == sent_at and to_coordinator.read_at is not None
    assert to_unit.created_at == returned_at and to_unit.read_at is None  # two days old
    # The audit log still says when it really happened.
    assert AuditEvent.objects.filter(action="reporting.report.returned").get().time > returned_at
