"""The reporting timers' per-minute cost against the bare query of the same open reports.

``run_timers`` asks ``reporting.reminder`` and ``reporting.escalation`` every minute. With a
year of monthly cycles open and every item already enqueued (the steady state: the timers
found them earlier that day), each call reads the open reports, counts working days once per
distinct due date and leaves out what ``JobRun`` already holds. The baseline is one bare
SQL query returning the same report rows, with no working-day arithmetic and no lookup of
what was enqueued: the floor for "which reports are late".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from zoneinfo import ZoneInfo

from benchmarks._common import best_of, case, grow_plan

EXTRA_MEASURES = 600  # three responsible units each: about 1 900 reports per monthly cycle


def cases() -> Iterator[dict]:
    from django.db import connection
    from django.utils import timezone

    from qcity.core.models import JobRun, OrgUnit, Role, User
    from qcity.plans.models import Plan
    from qcity.reporting import jobs
    from qcity.reporting.models import ProgressReport, ReportingCycle
    from qcity.reporting.services import open_cycle

    coordinator, _ = User.objects.get_or_create(
        username="bench-reminders",
        defaults={"role": Role.COORDINATOR, "unit": OrgUnit.objects.get(name="市市场监管局")},
    )
    plan = Plan.objects.get()
    if not ReportingCycle.objects.filter(plan=plan, frequency="monthly", year=2026).exists():
        grow_plan(EXTRA_MEASURES)
        for month in range(1, 13):
            open_cycle(plan, "monthly", 2026, month, by=coordinator)
    reports = ProgressReport.objects.filter(cycle__plan=plan, cycle__year=2026).count()
    # 15 December 2026, 09:00 Beijing: January–October are overdue, November is due soon.
    now = dt.datetime(2026, 12, 15, 9, tzinfo=ZoneInfo("Asia/Shanghai"))
    timezone.activate(ZoneInfo("Asia/Shanghai"))

    for timer, job in (
        (jobs.due_escalations, jobs.ESCALATION_JOB),
        (jobs.due_reminders, jobs.REMINDER_JOB),
    ):
        items = timer(now)
        JobRun.objects.bulk_create(
            [JobRun(job=job, item=i.item, due=i.due, enqueued_at=now) for i in items],
            batch_size=2000,
            ignore_conflicts=True,
        )
    assert jobs.due_escalations(now) == [] and jobs.due_reminders(now) == []

    table = ProgressReport._meta.db_table
    cycles = ReportingCycle._meta.db_table
    sql = (
        f"SELECT r.id, r.status, r.due_date FROM {table} r JOIN {cycles} c ON c.id = r.cycle_id "
        "WHERE c.status = 'open' AND r.due_date IS NOT NULL AND r.status IN "
        "('draft', 'returned', 'submitted', 'resubmitted', 'county_approved') ORDER BY r.id"
    )

    def bare() -> None:
        with connection.cursor() as cursor:
            cursor.execute(sql)
            cursor.fetchall()

    overdue = len(
        [1 for r in ProgressReport.objects.filter(due_date__lt=now.date(), status="draft")]
    )
    yield case(
        "reminders: due_escalations() per minute, all enqueued, vs bare open-report query",
        reports,
        best_of(lambda: jobs.due_escalations(now)),
        best_of(bare),
        overdue_reports=overdue,
    )
    yield case(
        "reminders: due_reminders() per minute, all enqueued, vs bare open-report query",
        reports,
        best_of(lambda: jobs.due_reminders(now)),
        best_of(bare),
    )
