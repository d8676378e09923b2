"""Reminders of 一公开: results due for publication within 3 working days, or overdue.

A ``core.jobs`` timer (ADR 0019), registered from ``InspectionsConfig.ready``: on working
days from 08:00 (Beijing time), each task with a result waiting for publication gets one
reminder when its due date is at most ``DUE_SOON_WORKDAYS`` working days away, and one more
once it is overdue. The item key is (task, "soon:<due>" | "overdue:<due>"), so ``JobRun``'s
unique key sends each once however often ``run_timers`` runs. The task checks the task
again when it runs: one published in between gets nothing. Recipients: the active plan
runners (county officer, coordinator, liaison) of the task's owner unit.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django_tasks import task

from qcity.core import jobs, workdays
from qcity.core.models import JobRun

REMINDER_JOB = "inspections.publication_reminder"
NOT_BEFORE = dt.time(8, 0)


def _today(now: dt.datetime):
    local = timezone.localtime(now)
    if local.time() < NOT_BEFORE:
        return None, None
    calendar = workdays.snapshot()
    if not calendar.is_workday(local.date(), allow_provisional=True):
        return None, None
    return local.date(), calendar


def due_publication_reminders(now: dt.datetime) -> list[jobs.DueItem]:
    from qcity.inspections.models import Task
    from qcity.inspections.publication import DUE_SOON_WORKDAYS

    today, calendar = _today(now)
    if today is None:
        return []
    items = []
    waiting = (
        Task.objects.filter(status=Task.Status.CHECKED, publish_due__isnull=False)
        .order_by("pk")
        .values_list("pk", "publish_due")
    )
    left: dict[dt.date, int] = {}
    for pk, due in waiting.iterator(chunk_size=2000):
        if due not in left:
            left[due] = -calendar.between(due, today, allow_provisional=True)
        if due < today:
            kind = "overdue"
        elif left[due] <= DUE_SOON_WORKDAYS:
            kind = "soon"
        else:
            continue
        key = f"{kind}:{due.isoformat()}"
        items.append(
            jobs.DueItem(str(pk), key, {"task_id": pk, "kind": kind, "due": due.isoformat()})
        )
    if not items:
        return items
    done = set(
        JobRun.objects.filter(job=REMINDER_JOB, due__in={i.due for i in items}).values_list(
            "item", "due"
        )
    )
    return [item for item in items if (item.item, item.due) not in done]


@task()
def send_publication_reminder(task_id: int, kind: str, due: str) -> str:
    """Tell the owner unit's plan runners that a result must be (or should have been) published."""
    from qcity.core.models import User
    from qcity.core.notices import notify
    from qcity.inspections.models import Task
    from qcity.inspections.services import PLAN_RUNNERS

    with transaction.atomic():
        found = (
            Task.objects.select_related("entity", "batch", "owner_unit").filter(pk=task_id).first()
        )
        if (
            found is None
            or found.status != Task.Status.CHECKED
            or found.publish_due is None
            or found.publish_due.isoformat() != due
        ):
            return "skipped"
        people = User.objects.filter(
            unit=found.owner_unit, role__in=list(PLAN_RUNNERS), is_active=True
        )
        what = f"{found.batch.title}·{found.entity.name}"
        if kind == "overdue":
            subject = f"{what}的检查结果已超过公示期限 {due}，请尽快公示并填写逾期理由"
        else:
            subject = f"{what}的检查结果应于 {due} 前公示"
        notify(
            people,
            found,
            subject,
            "检查结果应自检查结束之日起20个工作日内公示（企业信息公示暂行条例第六条）。"
            "请到“检查结果公示”页面处理。",
        )
    return "sent"


def register() -> None:
    jobs.register_timer(REMINDER_JOB, due_publication_reminders, send_publication_reminder)
