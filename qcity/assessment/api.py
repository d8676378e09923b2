"""The annual assessment in the JSON API, under the same data scope as the pages."""

from __future__ import annotations

from decimal import Decimal

from django.http import HttpRequest
from ninja import Field, Router, Schema

from qcity.api import Error
from qcity.assessment import selectors, services
from qcity.assessment.models import Result, Scheme

router = Router(tags=["assessment"])


class CriterionOut(Schema):
    id: int
    name: str
    rule: str
    weight: Decimal
    max_points: Decimal
    applies_to: str


class SchemeOut(Schema):
    id: int
    plan_id: int
    year: int
    title: str
    status: str
    criteria: list[CriterionOut]

    @staticmethod
    def resolve_criteria(obj: Scheme) -> list:
        return list(obj.criteria.all())


class ScoreOut(Schema):
    criterion_id: int
    criterion: str
    numerator: Decimal | None
    denominator: Decimal | None
    ratio: Decimal | None
    points: Decimal | None
    note: str


class ResultOut(Schema):
    unit_id: int
    unit: str
    group: str
    rank: int
    computed: Decimal
    adjustment: Decimal
    total: Decimal
    # Only the lines whose details the caller may see carry their scores (the
    # coordinator: every line; a unit: its own once published); otherwise null.
    scores: list[ScoreOut] | None = None


class RankingOut(Schema):
    scheme_id: int
    status: str
    departments: list[ResultOut]
    counties: list[ResultOut]


class AdjustmentIn(Schema):
    unit_id: int
    points: Decimal = Field(..., description="加分为正、减分为负，绝对值不超过 20，至多两位小数")
    reason: str = Field(..., max_length=500, description="理由（必填）")


def _line(result: Result, scores: dict[int, list[dict]]) -> dict:
    return {
        "unit_id": result.unit_id,
        "unit": result.unit.name,
        "group": result.group,
        "rank": result.rank,
        "computed": result.computed,
        "adjustment": result.adjustment,
        "total": result.total,
        "scores": scores.get(result.unit_id),
    }


@router.get("/assessment/schemes", response=list[SchemeOut])
def list_schemes(request: HttpRequest):
    """Schemes the caller may see: the coordinator every one, others the published ones."""
    return list(selectors.visible_schemes(request.user).prefetch_related("criteria"))


@router.get("/assessment/schemes/{scheme_id}/ranking", response=RankingOut)
def ranking(request: HttpRequest, scheme_id: int):
    scheme = selectors.get_scheme(request.user, scheme_id)
    scores: dict[int, list[dict]] = {}
    for s in selectors.visible_scores(request.user, scheme):
        scores.setdefault(s.unit_id, []).append(
            {
                "criterion_id": s.criterion_id,
                "criterion": s.criterion.name,
                "numerator": s.numerator,
                "denominator": s.denominator,
                "ratio": s.ratio,
                "points": s.points,
                "note": s.note,
            }
        )
    groups = selectors.ranking(request.user, scheme)
    return {
        "scheme_id": scheme.pk,
        "status": scheme.status,
        "departments": [_line(r, scores) for r in groups["department"]],
        "counties": [_line(r, scores) for r in groups["county"]],
    }


@router.post(
    "/assessment/schemes/{scheme_id}/adjustments",
    response={200: ResultOut, 403: Error, 404: Error, 409: Error, 422: Error},
)
def add_adjustment(request: HttpRequest, scheme_id: int, payload: AdjustmentIn):
    """A manual addition or deduction (加减分) for one unit; the answer is its new line.

    422 codes: ``reason_required``, ``invalid_points``, ``unit_not_assessed``;
    409 ``scheme_published``; 403 ``forbidden``; 404 ``not_found``.
    """
    result = services.add_adjustment(
        request.user,
        scheme_id,
        payload.unit_id,
        points=payload.points,
        reason=payload.reason,
    )
    return _line(result, {})
