"""The publication timer of 投诉信息公示: the previous month, on the first working day.

A ``core.jobs`` timer (ADR 0019, ADR 0042), registered from ``ComplaintsConfig.ready``.
From 08:00 (Beijing time) on the first working day of a month, and on every later day of
that month (a server that was down on the first working day catches up), the previous
month is due; in January the previous year is due too. The item is the period, so
``JobRun``'s unique key publishes each period once however often ``run_timers`` runs; a
staff member may re-publish any ended period from the statistics page at any time.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django_tasks import task

from qcity.core import jobs, workdays
from qcity.core.models import JobRun

PUBLISH_JOB = "complaints.disclosure_publish"
NOT_BEFORE = dt.time(8, 0)


def first_workday(year: int, month: int, calendar: workdays.Calendar) -> dt.date:
    day = dt.date(year, month, 1)
    while not calendar.is_workday(day, allow_provisional=True):
        day += dt.timedelta(days=1)
    return day


def due_publications(now: dt.datetime) -> list[jobs.DueItem]:
    local = timezone.localtime(now)
    today = local.date()
    first = first_workday(today.year, today.month, workdays.snapshot())
    if today < first or (today == first and local.time() < NOT_BEFORE):
        return []
    last = today.replace(day=1) - dt.timedelta(days=1)
    periods = [f"{last.year:04d}-{last.month:02d}"]
    if today.month == 1:
        periods.append(f"{last.year:04d}")
    done = set(
        JobRun.objects.filter(job=PUBLISH_JOB, item__in=periods).values_list("item", flat=True)
    )
    return [jobs.DueItem(p, p, {"period": p}) for p in periods if p not in done]


@task()
def publish_period(period: str) -> str:
    from qcity.complaints import disclosure

    result = disclosure.publish(period, by=None)
    return f"{result.period.key}: {result.rows}"


def register() -> None:
    jobs.register_timer(PUBLISH_JOB, due_publications, publish_period)
