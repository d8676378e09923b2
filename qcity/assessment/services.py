"""Writes of the assessment: schemes, criteria, qualitative scores, adjustments, the workflow.

Every write records an audit event: the workflow steps through ``core.workflow.take``,
the others through ``core.audit.record`` in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from qcity.assessment.models import (
    Adjustment,
    AppliesTo,
    Criterion,
    Group,
    QualitativeScore,
    Result,
    Rule,
    Scheme,
    Score,
)
from qcity.assessment.rules import RULES, YearData
from qcity.core import audit
from qcity.core.models import Role, User
from qcity.core.scope import get_for_write
from qcity.core.workflow import Invalid, Step, Workflow
from qcity.plans.models import Plan

CENT = Decimal("0.01")
HUNDRED = Decimal(100)
MAX_ADJUSTMENT = Decimal(20)
MAX_CRITERIA = 20
MIN_YEAR, MAX_YEAR = 2000, 2100

# The Tieling scheme (市级质量工作考核): loadable in one click, then editable.
DEFAULT_CRITERIA: list[dict[str, Any]] = [
    {"name": "报送完成率", "rule": Rule.COMPLETENESS, "weight": 25},
    {"name": "按时报送率", "rule": Rule.TIMELINESS, "weight": 25},
    {"name": "目标达成", "rule": Rule.TARGETS_ACHIEVED, "weight": 30},
    {"name": "综合评价", "rule": Rule.QUALITATIVE, "weight": 20},
]


class AssessmentRefused(Exception):
    """A write the assessment refuses: ``code`` is stable for the API, ``message`` Chinese."""

    def __init__(self, code: str, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, str(message), status


def is_assessor(user: User | None, scheme: Scheme) -> bool:
    """A coordinator of the plan's owner unit (or of a unit below it) runs the assessment."""
    if user is None or user.role != Role.COORDINATOR or user.unit_id is None:
        return False
    owner = scheme.plan.owner_unit
    return user.unit_id == owner.pk or user.unit.path.startswith(owner.path)


def _lock_scheme(by: User | None, pk: Any) -> Scheme:
    try:
        scheme, may_change = get_for_write(
            by, Scheme.objects.select_related("plan__owner_unit"), pk=pk
        )
    except Http404:
        raise AssessmentRefused("not_found", "考核方案不存在或无权访问", 404) from None
    if not may_change or not is_assessor(by, scheme):
        raise AssessmentRefused("forbidden", "只有方案牵头管理单位的协调员可以进行年度考核", 403)
    return scheme


def _decimal(value: Any, what: str, *, low: Decimal, high: Decimal, code: str) -> Decimal:
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError, TypeError):
        raise AssessmentRefused(code, f"{what}“{value}”不是数字") from None
    if not number.is_finite() or not low <= number <= high:
        raise AssessmentRefused(code, f"{what}应在 {low} 到 {high} 之间，填写的是 {number}")
    if number != number.quantize(CENT):
        raise AssessmentRefused(code, f"{what}最多保留两位小数")
    return number.quantize(CENT)


# --- schemes and criteria ---------------------------------------------------------------------


def create_scheme(
    plan: Plan | int, year: int, *, by: User | None, title: str = "", default: bool = True
) -> Scheme:
    """A new draft scheme for ``plan`` and ``year``, with the Tieling criteria if ``default``."""
    if not isinstance(year, int) or not MIN_YEAR <= year <= MAX_YEAR:
        raise AssessmentRefused("invalid_year", f"考核年度应在 {MIN_YEAR}–{MAX_YEAR} 之间")
    title = (title or "").strip()[:100] or f"{year}年度市级质量工作考核"
    with transaction.atomic():
        plan_pk = plan.pk if isinstance(plan, Plan) else plan
        try:
            locked, may_change = get_for_write(
                by, Plan.objects.select_related("owner_unit"), pk=plan_pk
            )
        except Http404:
            raise AssessmentRefused("not_found", "方案不存在或无权访问", 404) from None
        if not may_change or not is_assessor(by, Scheme(plan=locked)):
            raise AssessmentRefused(
                "forbidden", "只有方案牵头管理单位的协调员可以进行年度考核", 403
            )
        if Scheme.objects.filter(plan=locked, year=year).exists():
            raise AssessmentRefused("scheme_exists", f"{year} 年度的考核方案已存在", 409)
        scheme = Scheme.objects.create(
            plan=locked, year=year, title=title, created_by=by if by and by.pk else None
        )
        if default:
            _write_criteria(scheme, _clean_rows(DEFAULT_CRITERIA))
        audit.record(
            "assessment.scheme.created",
            by=by,
            obj=scheme,
            details={"plan": locked.pk, "year": year, "default": default},
        )
    return scheme


@dataclass(frozen=True)
class CriterionRow:
    id: int | None
    name: str
    rule: str
    weight: Decimal
    max_points: Decimal
    applies_to: str


def _clean_rows(rows: Iterable[Mapping[str, Any]]) -> list[CriterionRow]:
    cleaned: list[CriterionRow] = []
    for i, row in enumerate(rows, start=1):
        name = str(row.get("name") or "").strip()
        if not name or len(name) > 50:
            raise AssessmentRefused(
                "invalid_criterion", f"第 {i} 项考核指标须有名称（不超过 50 字）"
            )
        rule = str(row.get("rule") or "")
        if rule not in RULES:
            raise AssessmentRefused(
                "invalid_criterion", f"考核指标“{name}”的计分规则“{rule}”不存在"
            )
        applies = str(row.get("applies_to") or AppliesTo.BOTH)
        if applies not in AppliesTo.values:
            raise AssessmentRefused("invalid_criterion", f"考核指标“{name}”的适用单位无效")
        weight = _decimal(
            row.get("weight"), f"“{name}”的权重", low=CENT, high=HUNDRED, code="invalid_criterion"
        )
        max_points = _decimal(
            row.get("max_points", 100) or 100,
            f"“{name}”的满分",
            low=Decimal(1),
            high=Decimal(1000),
            code="invalid_criterion",
        )
        pk = str(row.get("id") or "").strip()
        if pk and not (pk.isascii() and pk.isdigit() and len(pk) < 19):
            raise AssessmentRefused("invalid_criterion", "提交的考核指标无效，请刷新页面后重试")
        cleaned.append(
            CriterionRow(int(pk) if pk else None, name, rule, weight, max_points, applies)
        )
    if not cleaned:
        raise AssessmentRefused("no_criteria", "考核方案至少须有一项考核指标")
    if len(cleaned) > MAX_CRITERIA:
        raise AssessmentRefused("invalid_criterion", f"考核指标最多 {MAX_CRITERIA} 项")
    sums = {
        group: sum(
            (r.weight for r in cleaned if Criterion(applies_to=r.applies_to).applies(group)),
            Decimal(0),
        )
        for group in Group.values
    }
    # Each kind of unit is scored out of 100; a kind no criterion applies to is not assessed.
    wrong = {g: s for g, s in sums.items() if s not in (0, HUNDRED)}
    if wrong or not any(sums.values()):
        shown = "，".join(f"{Group(g).label} {s.normalize():f}" for g, s in sums.items())
        raise AssessmentRefused(
            "weights_not_100", f"适用于同一类单位的考核指标权重之和须为 100（现为：{shown}）"
        )
    return cleaned


def _write_criteria(scheme: Scheme, rows: list[CriterionRow]) -> list[str]:
    existing = {c.pk: c for c in scheme.criteria.all()}
    kept, changes = set(), []
    for order, row in enumerate(rows, start=1):
        values = {
            "order": order,
            "name": row.name,
            "rule": row.rule,
            "weight": row.weight,
            "max_points": row.max_points,
            "applies_to": row.applies_to,
        }
        criterion = existing.get(row.id) if row.id else None
        if criterion is None:
            Criterion.objects.create(scheme=scheme, **values)
            changes.append(f"+{row.name}")
            continue
        kept.add(criterion.pk)
        if any(getattr(criterion, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(criterion, k, v)
            criterion.save()
            changes.append(f"~{row.name}")
    for pk, criterion in existing.items():
        if pk not in kept:
            changes.append(f"-{criterion.name}")
            criterion.delete()
    return changes


def set_criteria(by: User | None, scheme_pk: Any, rows: Iterable[Mapping[str, Any]]) -> Scheme:
    """Replace a draft scheme's criteria (rows with an ``id`` update that criterion).

    :raises AssessmentRefused: ``weights_not_100``, ``invalid_criterion``, ``no_criteria``,
        ``scheme_not_draft``, ``forbidden``, ``not_found``.
    """
    cleaned = _clean_rows(list(rows))
    with transaction.atomic():
        scheme = _lock_scheme(by, scheme_pk)
        if not scheme.editable:
            raise AssessmentRefused(
                "scheme_not_draft",
                f"考核方案当前状态为“{scheme.get_status_display()}”，须先“修订方案”才能修改考核指标",
                409,
            )
        changes = _write_criteria(scheme, cleaned)
        if changes:
            audit.record(
                "assessment.criteria.set",
                by=by,
                obj=scheme,
                details={
                    "changes": changes,
                    "criteria": [
                        {"name": r.name, "rule": r.rule, "weight": str(r.weight)} for r in cleaned
                    ],
                },
            )
    return scheme


def load_default_criteria(by: User | None, scheme_pk: Any) -> Scheme:
    """Replace a draft scheme's criteria with the Tieling default."""
    return set_criteria(by, scheme_pk, DEFAULT_CRITERIA)


# --- computing and ranking --------------------------------------------------------------------


def _rank(results: list[Result]) -> None:
    """Rank each group by total, highest first; equal totals share a rank (1, 1, 3)."""
    for group in Group.values:
        members = sorted(
            (r for r in results if r.group == group), key=lambda r: (-r.total, r.unit.path)
        )
        for r in members:
            r.rank = 1 + sum(1 for other in members if other.total > r.total)


RATIO = Decimal("0.000001")


def _totals(scored: Iterable[tuple[Score, Criterion]]) -> tuple[Decimal, Decimal]:
    """(applicable weight, computed total out of 100) from a unit's criterion scores.

    A criterion without a ratio (不适用 / 待评分) neither earns nor costs points: the
    total is rescaled to 100 over the weights of the criteria that had inputs.
    """
    applicable, earned = Decimal(0), Decimal(0)
    for score, criterion in scored:
        if score.ratio is not None:
            applicable += criterion.weight
            earned += score.ratio * criterion.weight
    if not applicable:
        return applicable, Decimal(0)
    return applicable, (earned * HUNDRED / applicable).quantize(CENT, ROUND_HALF_UP)


def _fill(score: Score, criterion: Criterion, numerator, denominator, note: str) -> None:
    ratio = None
    if numerator is not None and denominator:
        ratio = min(Decimal(numerator) / Decimal(denominator), Decimal(1)).quantize(RATIO)
    score.numerator, score.denominator, score.ratio, score.note = (
        numerator,
        denominator,
        ratio,
        note[:200],
    )
    score.points = (
        None if ratio is None else (ratio * criterion.weight).quantize(CENT, ROUND_HALF_UP)
    )


def compute(scheme: Scheme, by: User | None) -> dict[str, Any]:
    """Score every assessed unit on every criterion, and rank (the ``compute`` step).

    Earlier scores and results are replaced; adjustments and qualitative scores are
    inputs, so they survive.
    """
    criteria = list(scheme.criteria.all())
    data = YearData.collect(scheme, by)
    adjustments: dict[int, Decimal] = {}
    for adj in Adjustment.objects.filter(scheme=scheme):
        adjustments[adj.unit_id] = adjustments.get(adj.unit_id, Decimal(0)) + adj.points
    Score.objects.filter(scheme=scheme).delete()
    Result.objects.filter(scheme=scheme).delete()
    scores: list[Score] = []
    results: list[Result] = []
    for unit_id, group in data.groups.items():
        scored = []
        for criterion in criteria:
            if not criterion.applies(group):
                continue
            inputs = RULES[criterion.rule](data, criterion, unit_id)
            score = Score(scheme=scheme, criterion=criterion, unit_id=unit_id)
            _fill(score, criterion, inputs.numerator, inputs.denominator, inputs.note)
            scored.append((score, criterion))
        scores += [s for s, _c in scored]
        applicable, computed = _totals(scored)
        if not applicable:
            continue
        adjustment = adjustments.get(unit_id, Decimal(0))
        results.append(
            Result(
                scheme=scheme,
                unit=data.units[unit_id],
                group=group,
                computed=computed,
                adjustment=adjustment,
                total=computed + adjustment,
                rank=0,
                applicable_weight=applicable,
            )
        )
    if not results:
        raise Invalid(
            f"{scheme.year} 年度没有可考核的单位：该年度尚无报送周期，也没有关联指标的目标"
        )
    _rank(results)
    Score.objects.bulk_create(scores, batch_size=500)
    Result.objects.bulk_create(results, batch_size=500)
    scheme.computed_at = timezone.now()
    return {
        "units": len(results),
        "cycles": [c.label for c in data.cycles],
        "adjustments_kept": len(adjustments),
    }


def _check_weights(scheme: Scheme, user: User, **params: Any) -> None:
    rows = [
        {
            "name": c.name,
            "rule": c.rule,
            "weight": c.weight,
            "max_points": c.max_points,
            "applies_to": c.applies_to,
        }
        for c in scheme.criteria.all()
    ]
    try:
        _clean_rows(rows)
    except AssessmentRefused as exc:
        raise Invalid(exc.message) from None


def _compute_step(scheme: Scheme, user: User, **params: Any) -> dict[str, Any]:
    return compute(scheme, user)


def _check_complete(scheme: Scheme, user: User, **params: Any) -> None:
    waiting = Score.objects.filter(scheme=scheme, criterion__rule=Rule.QUALITATIVE, ratio=None)
    if waiting.exists():
        names = "、".join(sorted({s.unit.name for s in waiting.select_related("unit")[:5]}))
        raise Invalid(f"尚有 {waiting.count()} 项综合评价未评分（{names}），评分后才能发布")


def _mark_published(scheme: Scheme, user: User, **params: Any) -> dict[str, Any]:
    scheme.published_at = timezone.now()
    return {"results": scheme.results.count()}


def _tell_everyone(scheme: Scheme, transition: Any) -> None:
    from qcity.core.notices import notify

    readers = User.objects.filter(
        is_active=True,
        role__in=[Role.DEPARTMENT_LIAISON, Role.COUNTY_OFFICER, Role.COORDINATOR],
        unit__isnull=False,
    )
    notify(list(readers), scheme, f"{scheme.title}已发布", "请在“年度考核”中查看排名和本单位得分。")


St = Scheme.Status
SCHEME = Workflow(
    Scheme,
    name="assessment.scheme",
    changed_at_field="status_changed_at",
    changed_by_field="status_changed_by",
    steps=[
        Step(
            name="compute",
            label=_("计算得分"),
            sources={St.DRAFT, St.COMPUTED},
            target=St.COMPUTED,
            allowed=is_assessor,
            validate=_check_weights,
            apply=_compute_step,
            action="assessment.scheme.computed",
        ),
        Step(
            name="revise",
            label=_("修订方案"),
            sources={St.COMPUTED},
            target=St.DRAFT,
            allowed=is_assessor,
            action="assessment.scheme.revised",
        ),
        Step(
            name="publish",
            label=_("发布"),
            sources={St.COMPUTED},
            target=St.PUBLISHED,
            allowed=is_assessor,
            validate=_check_complete,
            apply=_mark_published,
            notify=_tell_everyone,
            action="assessment.scheme.published",
        ),
        Step(
            name="reopen",
            label=_("重新开启"),
            sources={St.PUBLISHED},
            target=St.COMPUTED,
            allowed=is_assessor,
            reason_required=True,
            action="assessment.scheme.reopened",
        ),
    ],
)


# --- inputs the coordinator enters ------------------------------------------------------------


def _open_result(scheme: Scheme, unit_pk: Any) -> Result:
    if not scheme.open_for_scoring:
        raise AssessmentRefused("scheme_published", "考核结果已发布，须先“重新开启”才能修改", 409)
    try:
        unit_id = int(unit_pk)
        # A foreign key's lookup is not range-checked: 10**40 would overflow the database.
        if not 0 < unit_id < 2**63:
            raise ValueError(unit_pk)
        return Result.objects.select_related("unit").get(scheme=scheme, unit_id=unit_id)
    except (Result.DoesNotExist, ValueError, TypeError):
        raise AssessmentRefused(
            "unit_not_assessed", "该单位不在本次考核的结果中（请先计算得分）", 422
        ) from None


def _retotal(scheme: Scheme, result: Result) -> None:
    scored = [
        (s, s.criterion)
        for s in Score.objects.filter(scheme=scheme, unit=result.unit).select_related("criterion")
    ]
    result.applicable_weight, result.computed = _totals(scored)
    result.total = result.computed + result.adjustment
    result.save(update_fields=["applicable_weight", "computed", "total"])
    _rerank(scheme)


def _rerank(scheme: Scheme) -> None:
    results = list(Result.objects.filter(scheme=scheme).select_related("unit"))
    _rank(results)
    Result.objects.bulk_update(results, ["rank"])


def add_adjustment(
    by: User | None, scheme_pk: Any, unit_pk: Any, *, points: Any, reason: str
) -> Result:
    """A manual addition or deduction (加减分) for one unit, with its reason; re-ranks.

    :raises AssessmentRefused: ``reason_required``, ``invalid_points``,
        ``unit_not_assessed``, ``scheme_published``, ``forbidden``, ``not_found``.
    """
    reason = (reason or "").strip()
    if not reason:
        raise AssessmentRefused("reason_required", "加减分须填写理由")
    if len(reason) > 500:
        raise AssessmentRefused("reason_too_long", "理由不能超过 500 字")
    value = _decimal(
        points, "加减分", low=-MAX_ADJUSTMENT, high=MAX_ADJUSTMENT, code="invalid_points"
    )
    if not value:
        raise AssessmentRefused("invalid_points", "加减分不能为 0")
    with transaction.atomic():
        scheme = _lock_scheme(by, scheme_pk)
        result = _open_result(scheme, unit_pk)
        adjustment = Adjustment.objects.create(
            scheme=scheme,
            unit=result.unit,
            points=value,
            reason=reason,
            created_by=by if by and by.pk else None,
            created_at=timezone.now(),
        )
        result.adjustment += value
        result.total = result.computed + result.adjustment
        result.save(update_fields=["adjustment", "total"])
        _rerank(scheme)
        audit.record(
            "assessment.adjustment.added",
            by=by,
            obj=scheme,
            details={
                "adjustment": adjustment.pk,
                "unit": result.unit.name,
                "points": str(value),
                "reason": reason,
                "total": str(result.total),
            },
        )
        result.refresh_from_db()
    return result


def score_qualitative(
    by: User | None, scheme_pk: Any, criterion_pk: Any, unit_pk: Any, *, points: Any, comment: str
) -> QualitativeScore:
    """The coordinator's qualitative score for one unit; counted at the next computation."""
    comment = (comment or "").strip()
    if not comment:
        raise AssessmentRefused("comment_required", "综合评价须填写评语")
    if len(comment) > 500:
        raise AssessmentRefused("comment_too_long", "评语不能超过 500 字")
    with transaction.atomic():
        scheme = _lock_scheme(by, scheme_pk)
        result = _open_result(scheme, unit_pk)
        try:
            criterion = scheme.criteria.get(pk=int(criterion_pk), rule=Rule.QUALITATIVE)
        except (Criterion.DoesNotExist, ValueError, TypeError):
            raise AssessmentRefused("not_found", "该考核指标不是综合评价", 404) from None
        value = _decimal(
            points,
            f"“{criterion.name}”的评分",
            low=Decimal(0),
            high=criterion.max_points,
            code="invalid_points",
        )
        row = Score.objects.filter(scheme=scheme, criterion=criterion, unit=result.unit).first()
        if row is None:
            raise AssessmentRefused(
                "criterion_not_applicable", f"考核指标“{criterion.name}”不适用于该单位"
            )
        score, created = QualitativeScore.objects.update_or_create(
            criterion=criterion,
            unit=result.unit,
            defaults={
                "points": value,
                "comment": comment,
                "entered_by": by if by and by.pk else None,
                "entered_at": timezone.now(),
            },
        )
        # The unit's score and total change at once; the other inputs stay as computed.
        _fill(row, criterion, value, criterion.max_points, comment)
        row.save(update_fields=["numerator", "denominator", "ratio", "points", "note"])
        _retotal(scheme, result)
        audit.record(
            "assessment.qualitative.scored",
            by=by,
            obj=scheme,
            details={
                "criterion": criterion.name,
                "unit": result.unit.name,
                "points": str(value),
                "comment": comment,
                "created": created,
            },
        )
    return score
