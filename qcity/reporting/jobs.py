"""Deadlines of the reporting app: reminders, escalations and provisional due dates (ADR 0026).

Two timers (core.jobs, ADR 0019), registered from ``ReportingConfig.ready``:

- ``reporting.reminder``: ``cycle.reminder_workdays`` working days before a report's due date,
  a report the unit still writes (草稿 or 已退回) gets one reminder to the unit's reporters.
- ``reporting.escalation``: from the first working day after the due date, and then every
  ``cycle.escalation_workdays`` working days, a report not yet in the reviewer's hands is
  escalated to the unit's reporters and the plan's coordinators; a report waiting for a
  review past its review deadline is escalated to its reviewers.

Each due item is (report, due date[, working days overdue]), so ``JobRun``'s unique key sends
each notice once, however often and in however many processes ``run_timers`` runs. Items are
only due on working days, from ``NOT_BEFORE`` on: no notice is dated a holiday or the night.
The task checks the report again when it runs: a report submitted in between gets nothing.

The recomputer registered with ``core.workdays.register_provisional`` re-derives provisional
cycle due dates (and the draft reports' due dates copied from them) when the system
administrator enters the missing year; core audits each change.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator

from django.db import transaction
from django.utils import timezone
from django_tasks import task

from qcity.core import jobs, workdays
from qcity.core.models import JobRun

REMINDER_JOB = "reporting.reminder"
ESCALATION_JOB = "reporting.escalation"
# Timers run every minute; notices wait for the working day to begin (Beijing time).
NOT_BEFORE = dt.time(8, 0)

# Whose turn it is, by report status: the unit writes, or a reviewer reviews.
UNIT_TURN = ("draft", "returned")
REVIEW_TURN = ("submitted", "resubmitted", "county_approved")


# --- counting back and forth in working days ---------------------------------------------------


def reminder_day(calendar: workdays.Calendar, due: dt.date, n: int) -> dt.date:
    """The n-th working day before ``due`` (n = 0: ``due`` itself, or the working day before).

    The mirror of ``add_workdays``: ``workdays_between(reminder_day(due, n), due) == n`` when
    ``due`` is a working day. A reminder never falls on a day off: counting back skips them.
    """
    day, counted = due, 0
    while counted < n:
        if calendar.is_workday(day, allow_provisional=True):
            counted += 1
        day -= workdays.ONE_DAY
    while not calendar.is_workday(day, allow_provisional=True):
        day -= workdays.ONE_DAY
    return day


def escalation_step(overdue: int, every: int) -> int:
    """The latest escalation at or before ``overdue`` working days late: 1, 1+every, 1+2·every…

    A missed run (the server was down on the day) is caught up on the next working day under
    the same key, so it is sent once, late, rather than never or twice.
    """
    every = max(every, 1)
    return 1 + (overdue - 1) // every * every


# --- the timers --------------------------------------------------------------------------------


def _today(now: dt.datetime) -> tuple[dt.date | None, workdays.Calendar | None]:
    """The local date and calendar if notices may go out at ``now`` (a working day, 8:00 on)."""
    local = timezone.localtime(now)
    if local.time() < NOT_BEFORE:
        return None, None
    calendar = workdays.snapshot()
    # Past the known calendar the Decree's holidays still count (ADR 0012): a reminder
    # must not stop at a year boundary, nor go out on 元旦.
    if not calendar.is_workday(local.date(), allow_provisional=True):
        return None, None
    return local.date(), calendar


def _open_reports(statuses: Iterable[str]):
    from qcity.reporting.models import ProgressReport, ReportingCycle

    return (
        ProgressReport.objects.filter(
            cycle__status=ReportingCycle.Status.OPEN,
            status__in=list(statuses),
            due_date__isnull=False,
        )
        .order_by("pk")
        .values_list(
            "pk", "status", "due_date", "cycle__reminder_workdays", "cycle__escalation_workdays"
        )
    )


def _not_yet_enqueued(job: str, items: list[jobs.DueItem]) -> list[jobs.DueItem]:
    # run_timers runs every minute; leave out what is already enqueued instead of meeting
    # the unique key once per item and minute. The key still decides under a race.
    if not items:
        return items
    done = set(
        JobRun.objects.filter(job=job, due__in={item.due for item in items}).values_list(
            "item", "due"
        )
    )
    return [item for item in items if (item.item, item.due) not in done]


def due_reminders(now: dt.datetime) -> list[jobs.DueItem]:
    """One item per report the unit still writes whose reminder day has come."""
    today, calendar = _today(now)
    if today is None or calendar is None:
        return []
    days: dict[tuple[dt.date, int], dt.date] = {}
    items = []
    for pk, _status, due, remind, _every in _open_reports(UNIT_TURN).filter(due_date__gte=today):
        if (due, remind) not in days:
            days[due, remind] = reminder_day(calendar, due, remind)
        if days[due, remind] <= today:
            items.append(
                jobs.DueItem(str(pk), due.isoformat(), {"report_id": pk, "due": due.isoformat()})
            )
    return _not_yet_enqueued(REMINDER_JOB, items)


def due_escalations(now: dt.datetime) -> list[jobs.DueItem]:
    """One item per overdue report and escalation step that has come."""
    today, calendar = _today(now)
    if today is None or calendar is None:
        return []
    late: dict[dt.date, int] = {}
    items = []
    for pk, status, due, _remind, every in _open_reports(UNIT_TURN + REVIEW_TURN).filter(
        due_date__lt=today
    ):
        if due not in late:
            late[due] = calendar.between(due, today, allow_provisional=True)
        if late[due] < 1:
            continue  # a guard only: today is a working day after the due date
        step = escalation_step(late[due], every)
        side = "unit" if status in UNIT_TURN else "review"
        items.append(
            jobs.DueItem(
                str(pk),
                f"{side}:{due.isoformat()}:{step}",
                {
                    "report_id": pk,
                    "side": side,
                    "due": due.isoformat(),
                    "overdue": late[due],
                },
            )
        )
    return _not_yet_enqueued(ESCALATION_JOB, items)


# --- the tasks ---------------------------------------------------------------------------------


def _report(report_id: int):
    from qcity.reporting.models import ProgressReport

    return (
        ProgressReport.objects.select_related(
            "cycle", "cycle__plan", "cycle__plan__owner_unit", "measure", "org_unit"
        )
        .filter(pk=report_id)
        .first()
    )


def _still_due(report, statuses: Iterable[str], due: str) -> bool:
    from qcity.reporting.models import ReportingCycle

    return (
        report is not None
        and report.cycle.status == ReportingCycle.Status.OPEN
        and report.status in statuses
        and report.due_date is not None
        and report.due_date.isoformat() == due
    )


def _title(report) -> str:
    return f"{report.cycle.label}·举措{report.measure.number}（{report.org_unit.name}）"


@task()
def send_reminder(report_id: int, due: str) -> str:
    """Remind the unit's reporters of a report they still have to (re)submit."""
    from qcity.core.notices import notify
    from qcity.reporting.services import reporters_of

    with transaction.atomic():
        report = _report(report_id)
        if not _still_due(report, UNIT_TURN, due):
            return "skipped"  # submitted, closed or re-dated since the timer saw it
        again = report.status == "returned"
        what = "退回的进展报告" if again else "进展报告"
        notify(
            reporters_of(report),
            report,
            f"{_title(report)}{what}将于 {due} 截止，请按时{'重新' if again else ''}报送",
            f"报送截止日期：{due}。截止日前未报送的，将逐级督办。",
        )
    return "sent"


@task()
def send_escalation(report_id: int, side: str, due: str, overdue: int) -> str:
    """Tell whoever must act (and, for a unit's lateness, the coordinators) it is overdue."""
    from qcity.core.notices import notify
    from qcity.reporting.services import reporters_of, reviewers_of

    with transaction.atomic():
        report = _report(report_id)
        if not _still_due(report, UNIT_TURN if side == "unit" else REVIEW_TURN, due):
            return "skipped"
        if side == "unit":
            recipients = reporters_of(report) + reviewers_of(report)
            what = (
                "退回的进展报告逾期未重新报送"
                if report.status == "returned"
                else "进展报告逾期未报送"
            )
            body = f"报送截止日期为 {due}，已逾期 {overdue} 个工作日。请报送单位尽快报送。"
        else:
            recipients = reviewers_of(report)
            what = "进展报告逾期未审核"
            body = f"审核期限为 {due}，已逾期 {overdue} 个工作日。请尽快审核。"
        notify(
            recipients,
            report,
            f"【督办】{_title(report)}{what}（逾期 {overdue} 个工作日）",
            body,
        )
    return "sent"


# --- provisional due dates ---------------------------------------------------------------------


def recompute_provisional(year: int) -> Iterator[workdays.Recomputed]:
    """Re-derive every provisional cycle due date, and the draft reports' copies of it.

    Runs inside ``core.services.enter_calendar_year``'s transaction (ADR 0012); core records
    ``calendar.deadline_recomputed`` for each change yielded here.
    """
    from qcity.reporting.models import ProgressReport, ReportingCycle

    cycles = ReportingCycle.objects.select_for_update().filter(due_provisional=True).order_by("pk")
    for cycle in cycles:
        rule = cycle.due_rule or "reporting.cycle.due"
        old = workdays.Deadline(
            cycle.due_date, rule, int(cycle.due_calendar_version or 0), cycle.due_provisional
        )
        new = workdays.deadline(cycle.period_end, cycle.due_workdays, rule=rule)
        on_time = workdays.deadline(
            cycle.period_end, cycle.on_time_workdays, rule="reporting.cycle.on_time"
        )
        old_on_time = cycle.on_time_by
        cycle.due_date, cycle.due_provisional = new.due, new.provisional
        cycle.due_calendar_version = str(new.calendar_version)
        cycle.on_time_by = on_time.due
        cycle.save(
            update_fields=["due_date", "due_provisional", "due_calendar_version", "on_time_by"]
        )
        label = f"{cycle}报送截止日期"
        yield workdays.Recomputed(obj=cycle, old=old, new=new, label=label)
        if on_time.due != old_on_time:
            yield workdays.Recomputed(
                obj=cycle,
                old=workdays.Deadline(old_on_time, on_time.rule, old.calendar_version, True),
                new=on_time,
                label=f"{cycle}按时报送截止日期",
            )
        if new.due == old.due:
            continue
        # A draft's due date is the cycle's (open_cycle copies it); a returned or submitted
        # report runs its own clock (resubmission, review) and keeps it.
        drafts = ProgressReport.objects.select_for_update().filter(
            cycle=cycle, status=ProgressReport.Status.DRAFT, due_date=old.due
        )
        for report in drafts.select_related("measure", "org_unit").order_by("pk"):
            report.due_date = new.due
            report.save(update_fields=["due_date"])
            yield workdays.Recomputed(
                obj=report, old=old, new=new, label=f"{_title(report)}报送截止日期"
            )


def recompute_provisional_clocks(year: int) -> Iterator[workdays.Recomputed]:
    """Re-derive a review or resubmission deadline that ran into ``year`` while unknown.

    The workflow step kept the deadline's start, rule and provisional mark on its
    ``Transition`` (append-only, so it stays as computed then); the report's ``due_date`` is
    the live copy and moves, with core's audit event saying from what to what.
    """
    from qcity.core.models import Transition
    from qcity.reporting.models import ProgressReport
    from qcity.reporting.services import RESUBMIT_WORKDAYS, REVIEW_WORKDAYS

    counts = {"reporting.review": REVIEW_WORKDAYS, "reporting.resubmit": RESUBMIT_WORKDAYS}
    # Only the clocks that ran into the entered year: entering a later year must not
    # touch (or audit again) a deadline that the earlier entry settled.
    latest: dict[str, Transition] = {}
    for transition in Transition.objects.filter(
        workflow="reporting.report",
        deadline_provisional=True,
        deadline_rule__in=list(counts),
        deadline_due__year__gte=year,
        time__year__lte=year,
    ).order_by("object_id", "-time", "-pk"):
        latest.setdefault(transition.object_id, transition)
    if not latest:
        return
    reports = (
        ProgressReport.objects.select_for_update()
        .filter(pk__in=[int(pk) for pk in latest], status__in=UNIT_TURN + REVIEW_TURN)
        .select_related("cycle", "measure", "org_unit")
        .order_by("pk")
    )
    for report in reports:
        transition = latest[str(report.pk)]
        if report.due_date != transition.deadline_due:
            continue  # a later step started another clock
        rule = transition.deadline_rule
        old = workdays.Deadline(
            transition.deadline_due,
            rule,
            int(transition.deadline_calendar_version or 0),
            True,
        )
        new = workdays.deadline(timezone.localdate(transition.time), counts[rule], rule=rule)
        if new.due != old.due:
            report.due_date = new.due
            report.save(update_fields=["due_date"])
        label = "审核期限" if rule == "reporting.review" else "重新报送期限"
        yield workdays.Recomputed(obj=report, old=old, new=new, label=f"{_title(report)}{label}")


def register() -> None:
    jobs.register_timer(REMINDER_JOB, due_reminders, send_reminder)
    jobs.register_timer(ESCALATION_JOB, due_escalations, send_escalation)
    workdays.register_provisional(recompute_provisional)
    workdays.register_provisional(recompute_provisional_clocks)
