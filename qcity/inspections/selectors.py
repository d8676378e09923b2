"""Reads of 双随机、一公开 under the data scope (pages, exports and the API read through here).

A county bureau sees its own plans and batches and those joint batches it takes part in;
a department liaison sees its own plans and the joint batches it takes part in (read
only: editing a batch is its owner's, ``may_edit_batch``). Out of scope is 404, like
absent.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Case, Count, Prefetch, Q, QuerySet, Value, When
from django.utils import timezone

from qcity.core.models import OrgUnit, Role, User
from qcity.core.scope import get_scoped_or_404, may_change, scoped
from qcity.inspections.models import (
    Batch,
    BatchParticipant,
    CheckItem,
    Draw,
    FollowUp,
    InspectionPlan,
    Task,
    TaskInspector,
)

# Who may make yearly plans and batches (the same roles that run a batch's steps).
PLAN_MAKERS = frozenset({Role.COORDINATOR, Role.COUNTY_OFFICER, Role.DEPARTMENT_LIAISON})


def check_items(user: User, *, kind: str = "", include_disabled: bool = False) -> QuerySet:
    items = scoped(user, CheckItem.objects.prefetch_related("required_specialities"))
    if kind in CheckItem.Kind.values:
        items = items.filter(kind=kind)
    if not include_disabled:
        items = items.enabled()
    return items.order_by("sort_order", "code")


def plans_for(user: User) -> QuerySet[InspectionPlan]:
    return (
        scoped(user, InspectionPlan.objects.select_related("owner_unit"))
        .annotate(batch_count=Count("batches"))
        .order_by("-year", "owner_unit__name", "title")
    )


def get_plan(user: User, pk: int) -> InspectionPlan:
    return get_scoped_or_404(user, InspectionPlan.objects.select_related("owner_unit"), pk=pk)


def batches_of(user: User, plan: InspectionPlan) -> QuerySet[Batch]:
    """The plan's batches the user may see (a joint participant sees only its own batches)."""
    return scoped(user, Batch.objects.filter(plan=plan)).order_by("number")


def get_batch(user: User, pk: int) -> Batch:
    return get_scoped_or_404(
        user,
        Batch.objects.select_related("plan__owner_unit").prefetch_related(
            "check_items", Prefetch("participants", BatchParticipant.objects.select_related("unit"))
        ),
        pk=pk,
    )


def draws_of(batch: Batch) -> QuerySet[Draw]:
    """Every draw attempt of a batch the caller has already fetched in scope, oldest first."""
    return Draw.objects.filter(batch=batch).select_related("drawn_by").order_by("attempt")


def tasks_of(user: User, batch: Batch) -> QuerySet[Task]:
    return (
        scoped(user, Task.objects.filter(batch=batch))
        .select_related("entity")
        .prefetch_related(
            Prefetch(
                "assignments",
                TaskInspector.objects.select_related("inspector", "unit").order_by("position"),
            )
        )
        .order_by("position")
    )


def may_make_plans(user: User) -> bool:
    return user.is_authenticated and user.role in PLAN_MAKERS and user.unit_id is not None


def may_edit_batch(user: User, batch: Batch) -> bool:
    """Whether the user may change the batch's parameters: its plan's owner, while 草稿."""
    return (
        batch.status == Batch.Status.DRAFT and user.role in PLAN_MAKERS and may_change(user, batch)
    )


def may_run_batch(user: User, batch: Batch) -> bool:
    """Whether to show the step buttons (the workflow re-checks everything when pressed)."""
    return user.role in PLAN_MAKERS and may_change(user, batch)


def jurisdiction_counties(unit: OrgUnit) -> list[OrgUnit]:
    """The county-level divisions a unit's plans may draw from.

    A unit inside a county (the county's market bureau, its stations) draws from its
    county only; a city-level unit (the city bureau, a city department) from every county.
    """
    ancestors = [int(step) for step in unit.path.split("/") if step]
    county = (
        OrgUnit.objects.filter(pk__in=ancestors, kind=OrgUnit.Kind.COUNTY)
        .exclude(code__isnull=True)
        .first()
    )
    if county is not None:
        return [county]
    counties = OrgUnit.objects.filter(kind=OrgUnit.Kind.COUNTY, disabled_on__isnull=True)
    # GB/T 2260 county codes only (six digits): a unit without one has no register.
    return [
        c
        for c in counties.order_by("code")
        if c.code and c.code.isascii() and c.code.isdigit() and len(c.code) == 6
    ]


def participant_choices(owner: OrgUnit) -> QuerySet[OrgUnit]:
    """Departments that may join a joint check: confirmed, enabled, not the owner itself."""
    return (
        OrgUnit.objects.filter(
            kind=OrgUnit.Kind.DEPARTMENT, confirmed=True, disabled_on__isnull=True
        )
        .exclude(pk=owner.pk)
        .order_by("sort_order", "name")
    )


def draw_attempts(user, batch) -> QuerySet[Draw]:
    """Every draw attempt of a batch the user may see, first to last (Http404 otherwise).

    Attempts refused before a draw existed (no eligible entity, malformed quotas) leave no
    row; they are in the audit log as ``inspections.batch.draw_refused``.
    """
    batch_pk = batch.pk if isinstance(batch, Batch) else batch
    found = get_scoped_or_404(user, Batch.objects.all(), pk=batch_pk)
    return (
        scoped(user, Draw.objects.filter(batch=found))
        .select_related("drawn_by")
        .order_by("attempt")
    )


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
    # 待检查 first (what the inspector must do), then 已录入结果, then 已公示.
    order = Case(
        *(When(status=value, then=Value(i)) for i, value in enumerate(Task.Status.values)),
        default=Value(len(Task.Status.values)),
    )
    return tasks.order_by(order, "batch__window_end", "batch_id", "position")


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
    # 待处理 first, soonest due first.
    open_first = Case(When(status=FollowUp.Status.OPEN, then=Value(0)), default=Value(1))
    return rows.order_by(open_first, "due_date", "pk")


def get_follow_up(user: User | None, pk: object) -> FollowUp:
    return get_scoped_or_404(user, follow_ups_for(user), pk=pk)
