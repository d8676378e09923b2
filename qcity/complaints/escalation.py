"""超期督办: every open case past its deadline is escalated once per deadline.

A ``core.jobs`` timer (ADR 0019), registered from ``ComplaintsConfig.ready``: on working
days from 08:00 (Beijing time), each open case whose ``due_on`` lies before today is one
due item, keyed by the case
and its deadline (``rule@version:due``), so ``JobRun``'s unique key enqueues it once
however often and in how many processes ``run_timers`` runs. The task re-reads the case
under a row lock and escalates only if it is still open, still has that deadline and has
not been escalated for it (``Case.escalated_due``): a case handled in between, or a second
run of the same task, changes nothing.

Escalating sets ``escalated_at`` and ``escalated_due``, records the audit event
``complaints.case.escalated`` (actor: the timer) and leaves an in-app notice for the owner
unit's officers and the city bureau's coordinators. A case that gets a new deadline (the
next state's clock) and misses it too is escalated again, for that deadline.

Cases with the enterprise (ODR) are not escalated: their own timer (``odr_return``) hands
them back to the bureau, which starts the bureau's clock.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django_tasks import task

from qcity.core import jobs, workdays
from qcity.core.models import JobRun

ESCALATION_JOB = "complaints.escalation"
ACTION = "complaints.case.escalated"
NOT_BEFORE = dt.time(8, 0)


def _open_states() -> list[str]:
    from qcity.complaints.models import Case

    return [s for s in Case.Status.values if s not in (Case.Status.CLOSED, Case.Status.ODR)]


def deadline_key(rule: str, due: dt.date) -> str:
    return f"{rule}:{due.isoformat()}"[:80]


def due_escalations(now: dt.datetime) -> list[jobs.DueItem]:
    """The open cases past their deadline that have not been escalated for it."""
    from qcity.complaints.models import Case

    local = timezone.localtime(now)
    today = local.date()
    # As the other reminders (ADR 0026): on working days from 08:00 only; a run missed on
    # the day is caught up on the next working day under the same key.
    if local.time() < NOT_BEFORE or not workdays.snapshot().is_workday(
        today, allow_provisional=True
    ):
        return []
    overdue = (
        Case.objects.filter(status__in=_open_states(), due_on__lt=today)
        .order_by("due_on", "pk")
        .values_list("pk", "due_on", "due_rule", "escalated_due")
    )
    items = []
    for pk, due_on, rule, escalated in overdue.iterator(chunk_size=2000):
        key = deadline_key(rule, due_on)
        if escalated == key:
            continue
        items.append(
            jobs.DueItem(str(pk), key, {"case_id": pk, "due": due_on.isoformat(), "rule": rule})
        )
    if not items:
        return items
    done = set(
        JobRun.objects.filter(job=ESCALATION_JOB, item__in=[i.item for i in items]).values_list(
            "item", "due"
        )
    )
    return [item for item in items if (item.item, item.due) not in done]


def escalate(case_id: int, due: str, rule: str, *, now: dt.datetime | None = None) -> str:
    """Escalate one case for one missed deadline; "escalated" or "skipped" (idempotent)."""
    from qcity.complaints.models import Case
    from qcity.complaints.routing import coordinators
    from qcity.complaints.services import OFFICERS
    from qcity.core import audit, rulebook
    from qcity.core.models import User
    from qcity.core.notices import notify

    now = now or timezone.now()
    today = timezone.localtime(now).date()
    with transaction.atomic():
        case = (
            Case.objects.select_for_update(of=("self",))
            .select_related("owner_unit")
            .filter(pk=case_id)
            .first()
        )
        if (
            case is None
            or case.status not in _open_states()
            or case.due_on is None
            or case.due_on.isoformat() != due
            or case.due_rule != rule
            or case.due_on >= today
        ):
            return "skipped"
        key = deadline_key(rule, case.due_on)
        if case.escalated_due == key:
            return "skipped"
        case.escalated_at, case.escalated_due = now, key
        case.save(update_fields=["escalated_at", "escalated_due"])
        described = rulebook.describe(rule)
        what = described.title if described else rule
        source = f"{described.source}{described.article}" if described else ""
        overdue = workdays.snapshot().between(case.due_on, today, allow_provisional=True)
        people = [
            *User.objects.filter(unit=case.owner_unit, role__in=list(OFFICERS), is_active=True),
            *coordinators(),
        ]
        subject = (
            f"超期督办：{case.number}（{case.get_kind_display()}）"
            f"“{what}”已于 {due} 到期，仍为“{case.get_status_display()}”"
        )
        body = (
            f"承办单位：{case.owner_unit.name}。期限依据：{source or rule}。"
            f"已超期 {overdue} 个工作日，请尽快办理并说明超期原因。"
        )
        notices = notify(people, case, subject, body)
        audit.record(
            ACTION,
            by=None,
            obj=case,
            details={
                "by": "timer",
                "due": due,
                "rule": rule,
                "status": case.status,
                "owner_unit": case.owner_unit.name,
                "overdue_workdays": overdue,
                "notified": len(notices),
            },
        )
    return "escalated"


@task()
def escalate_case(case_id: int, due: str, rule: str) -> str:
    return escalate(case_id, due, rule)


def register() -> None:
    jobs.register_timer(ESCALATION_JOB, due_escalations, escalate_case)
