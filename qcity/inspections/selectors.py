"""Reads of 双随机、一公开 that need thought; every one goes through the data scope."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from qcity.core.models import Role, User
from qcity.core.scope import get_scoped_or_404, scoped
from qcity.inspections.models import FollowUp, Task, TaskInspector

# --- tasks (inspectors' tasks, result entry) ---------------------------------------------------


def tasks_for(
    user: User | None,
    *,
    status: str = "",
    batch_id: int | None = None,
    text: str = "",
) -> QuerySet[Task]:
    """The tasks ``user`` may see: an inspector their own, a bureau its unit's (and below)."""
    tasks = scoped(
        user,
        Task.objects.select_related("batch", "batch__plan", "entity", "owner_unit", "result"),
    )
    if status:
        tasks = tasks.filter(status=status)
    if batch_id is not None:
        tasks = tasks.filter(batch_id=batch_id)
    text = text.strip()
    if text:
        tasks = tasks.filter(Q(entity__name__contains=text) | Q(entity__code=text.upper()))
    return tasks.order_by("status", "batch__window_end", "batch_id", "position")


def get_task(user: User | None, pk: object) -> Task:
    return get_scoped_or_404(user, tasks_for(user), pk=pk)


def task_status_counts(user: User | None) -> dict[str, int]:
    rows = scoped(user, Task.objects.all()).values("status").annotate(n=Count("pk"))
    return {row["status"]: row["n"] for row in rows.order_by()}


def batches_with_tasks(user: User | None) -> list[tuple[int, str]]:
    """(batch id, label) of the batches whose tasks ``user`` sees, for the filter."""
    rows = (
        scoped(user, Task.objects.all())
        .order_by("-batch__plan__year", "batch__plan__title", "batch__number")
        .values_list("batch_id", "batch__plan__title", "batch__number", "batch__title")
        .distinct()
    )
    return [(pk, f"{plan} 第{number}批 {title}") for pk, plan, number, title in rows]


@dataclass(frozen=True)
class TeamMember:
    name: str
    unit: str
    position: int
    is_me: bool


def team_of(task: Task, user: User | None) -> list[TeamMember]:
    """The task's inspectors. Names are for internal users only (enterprises see none)."""
    if user is None or getattr(user, "role", None) in (Role.ENTERPRISE, None):
        return []
    return [
        TeamMember(a.inspector.name, a.unit.name, a.position, a.inspector.user_id == user.pk)
        for a in TaskInspector.objects.filter(task=task).select_related("inspector", "unit")
    ]


def check_by(task: Task) -> dt.date:
    """When the check itself is due: the end of the batch's window."""
    return task.batch.window_end


def is_overdue(task: Task, today: dt.date | None = None) -> bool:
    """A pending task past its window, or an unpublished result past its publish due date."""
    today = today or timezone.localdate()
    if task.status == Task.Status.PENDING:
        return today > task.batch.window_end
    if task.status == Task.Status.CHECKED and task.publish_due is not None:
        return today > task.publish_due
    return False


# --- follow-ups ---------------------------------------------------------------------------------


def follow_ups_for(user: User | None, *, status: str = "") -> QuerySet[FollowUp]:
    rows = scoped(
        user,
        FollowUp.objects.select_related(
            "task", "task__entity", "task__batch", "task__batch__plan", "task__result", "owner_unit"
        ),
    )
    if status:
        rows = rows.filter(status=status)
    return rows.order_by("status", "due_date", "pk")


def get_follow_up(user: User | None, pk: object) -> FollowUp:
    return get_scoped_or_404(user, follow_ups_for(user), pk=pk)
