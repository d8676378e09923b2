"""Reads of the assessment; every one goes through the data scope.

Before publication only the plan's coordinators see a scheme; afterwards every internal
user reads its ranking, and a unit (or a unit below it) the details of its own scores.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet
from django.http import Http404

from qcity.assessment.models import Adjustment, Criterion, Group, Result, Scheme, Score
from qcity.core.models import User
from qcity.core.scope import get_scoped_or_404, scoped


def visible_schemes(user: User | None) -> QuerySet[Scheme]:
    return scoped(user, Scheme.objects.select_related("plan", "plan__owner_unit")).order_by(
        "-year", "plan_id"
    )


def get_scheme(user: User | None, pk: object) -> Scheme:
    return get_scoped_or_404(user, Scheme.objects.select_related("plan", "plan__owner_unit"), pk=pk)


def criteria_of(user: User | None, scheme: Scheme) -> QuerySet[Criterion]:
    return scoped(user, Criterion.objects.filter(scheme=scheme)).order_by("order", "pk")


def ranking(user: User | None, scheme: Scheme) -> dict[str, list[Result]]:
    """The ranking per group (市直部门, 县（市）区), by rank."""
    rows = scoped(user, Result.objects.filter(scheme=scheme).select_related("unit")).order_by(
        "rank", "unit__path"
    )
    groups: dict[str, list[Result]] = {g: [] for g in Group.values}
    for row in rows:
        groups[row.group].append(row)
    return groups


def visible_scores(user: User | None, scheme: Scheme) -> QuerySet[Score]:
    return scoped(
        user, Score.objects.filter(scheme=scheme).select_related("criterion", "unit")
    ).order_by("unit__path", "criterion__order", "criterion_id")


def visible_adjustments(user: User | None, scheme: Scheme) -> QuerySet[Adjustment]:
    return scoped(
        user, Adjustment.objects.filter(scheme=scheme).select_related("unit", "created_by")
    ).order_by("unit__path", "created_at", "pk")


@dataclass(frozen=True)
class UnitDetails:
    result: Result
    scores: list[Score]
    adjustments: list[Adjustment]


def unit_details(user: User | None, scheme: Scheme, unit_pk: object) -> UnitDetails:
    """One unit's scores with their inputs and adjustments; 404 unless the user may see them."""
    result = get_scoped_or_404(
        user, Result.objects.filter(scheme=scheme).select_related("unit"), unit_id=unit_pk
    )
    scores = list(visible_scores(user, scheme).filter(unit=result.unit))
    if not scores:
        # The ranking line is public inside; the details are the unit's and the coordinator's.
        raise Http404
    return UnitDetails(
        result, scores, list(visible_adjustments(user, scheme).filter(unit=result.unit))
    )


def units_with_details(user: User | None, scheme: Scheme) -> set[int]:
    return set(visible_scores(user, scheme).values_list("unit_id", flat=True).distinct())
