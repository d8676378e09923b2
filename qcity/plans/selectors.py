"""Reads for plans that need thought; every one goes through the data scope."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from qcity.core.models import OrgUnit, User
from qcity.core.scope import get_scoped_or_404, scoped
from qcity.plans.models import Chapter, Measure, Plan, Responsibility, SubTask, Target


def visible_plans(user: User) -> QuerySet[Plan]:
    return scoped(user, Plan.objects.select_related("owner_unit"))


def get_plan(user: User, pk: int) -> Plan:
    return get_scoped_or_404(user, Plan.objects.select_related("owner_unit"), pk=pk)


def visible_measures(user: User, plan: Plan | None = None) -> QuerySet[Measure]:
    qs = Measure.objects.filter(withdrawn=False).select_related("chapter", "plan")
    if plan is not None:
        qs = qs.filter(plan=plan)
    responsibilities = Responsibility.objects.select_related("org_unit").order_by("order")
    return (
        scoped(user, qs)
        .prefetch_related(
            Prefetch("responsibilities", queryset=responsibilities),
            Prefetch("targets", queryset=Target.objects.filter(withdrawn=False)),
            Prefetch("subtasks", queryset=SubTask.objects.select_related("unit")),
        )
        .order_by("plan_id", "seq")
    )


def my_measures(user: User) -> QuerySet[Measure]:
    """Measures my unit (or a unit below it) is responsible for, within my scope."""
    if user.unit is None:
        return Measure.objects.none()
    mine = Responsibility.objects.filter(
        measure=OuterRef("pk"), org_unit__path__startswith=user.unit.path
    )
    return visible_measures(user).filter(Exists(mine))


def get_measure(user: User, pk: int) -> Measure:
    return get_scoped_or_404(user, visible_measures(user), pk=pk)


def visible_targets(user: User, plan: Plan) -> QuerySet[Target]:
    return (
        scoped(user, Target.objects.filter(plan=plan, withdrawn=False))
        .select_related("measure")
        .order_by("seq")
    )


def chapters_with_measures(user: User, plan: Plan) -> list[tuple[Chapter, list[Measure]]]:
    """The plan's chapters, each with the measures the user may see (empty chapters dropped)."""
    measures = list(visible_measures(user, plan))
    grouped: dict[int, list[Measure]] = {}
    for measure in measures:
        grouped.setdefault(measure.chapter_id, []).append(measure)
    return [(c, grouped[c.pk]) for c in plan.chapters.all() if c.pk in grouped]


def search_measures(user: User, plan: Plan | None, query: str) -> QuerySet[Measure]:
    qs = visible_measures(user, plan)
    for word in query.split()[:5]:
        named = Responsibility.objects.filter(measure=OuterRef("pk")).filter(
            Q(written_name__icontains=word) | Q(org_unit__name__icontains=word)
        )
        qs = qs.filter(Q(title__icontains=word) | Q(text__icontains=word) | Exists(named))
    return qs


def responsibility_matrix(
    user: User, plan: Plan
) -> tuple[list[OrgUnit], list[Measure], set[tuple[int, int]], set[tuple[int, int]]]:
    """Units × measures: (units, measures, cells responsible, cells lead)."""
    measures = list(visible_measures(user, plan))
    units: dict[int, OrgUnit] = {}
    cells: set[tuple[int, int]] = set()
    leads: set[tuple[int, int]] = set()
    for measure in measures:
        for r in measure.responsibilities.all():
            units.setdefault(r.org_unit_id, r.org_unit)
            cells.add((r.org_unit_id, measure.pk))
            if r.is_lead:
                leads.add((r.org_unit_id, measure.pk))
    ordered = sorted(units.values(), key=lambda u: (u.confirmed is False, u.path, u.name))
    return ordered, measures, cells, leads
