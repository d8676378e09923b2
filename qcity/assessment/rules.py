"""Scoring rules: a registry of functions that give a unit's inputs for one criterion.

Each rule returns ``Inputs(numerator, denominator, note)``: the score's ratio is
numerator ÷ denominator, and the stored score keeps both so a reader can check it. A
rule with nothing to count for the unit (no reports, no owned targets, no qualitative
score yet) returns no denominator: the criterion does not apply to the unit and the
unit's total is taken over the criteria that do (ADR 0025).

``YearData`` reads everything once per computation: the year's reporting cycles of
the plan (through ``reporting.selectors``), the linked targets and their derived status
(``plans.target_links.status_of``, i.e. ``metrics.status``) and the coordinator's
qualitative scores, each attributed to the department or county that answers for it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Q

from qcity.assessment.models import Criterion, Group, QualitativeScore, Rule, Scheme
from qcity.core.models import OrgUnit, User
from qcity.metrics.status import Status as TargetStatus
from qcity.plans.models import Target
from qcity.plans.target_links import status_of
from qcity.reporting import selectors as reporting
from qcity.reporting.models import ProgressReport, ReportingCycle

# A target counts as achieved for the assessment when it is met or on its path.
ACHIEVED = frozenset({TargetStatus.ACHIEVED, TargetStatus.ON_TRACK})


@dataclass(frozen=True)
class Inputs:
    numerator: Decimal | None
    denominator: Decimal | None
    note: str = ""


def assessed_unit(unit: OrgUnit, units: dict[int, OrgUnit]) -> tuple[OrgUnit, str] | None:
    """The department or county that answers for ``unit`` in the assessment.

    A unit inside a county (its government, bureau, stations) counts for the county;
    otherwise the outermost department above it (an institution counts for its
    department). Bodies outside the city government are not assessed.
    """
    chain = [units[int(p)] for p in unit.path.strip("/").split("/") if p and int(p) in units]
    for kind, group in (
        (OrgUnit.Kind.COUNTY, Group.COUNTY),
        (OrgUnit.Kind.DEPARTMENT, Group.DEPARTMENT),
    ):
        for ancestor in chain:
            if ancestor.kind == kind:
                return ancestor, group
    return None


@dataclass
class Tally:
    expected: int = 0
    received: int = 0
    on_time: int = 0
    approved: int = 0
    approved_first_time: int = 0
    targets: int = 0
    targets_achieved: int = 0


@dataclass
class YearData:
    scheme: Scheme
    cycles: list[ReportingCycle]
    units: dict[int, OrgUnit]
    groups: dict[int, str] = field(default_factory=dict)
    tallies: dict[int, Tally] = field(default_factory=lambda: defaultdict(Tally))
    qualitative: dict[tuple[int, int], QualitativeScore] = field(default_factory=dict)

    @classmethod
    def collect(cls, scheme: Scheme, by: User | None) -> YearData:
        units = {u.pk: u for u in OrgUnit.objects.all()}
        cycles = list(ReportingCycle.objects.filter(plan=scheme.plan_id, year=scheme.year))
        data = cls(scheme, cycles, units)

        def tally(unit_id: int) -> Tally | None:
            found = assessed_unit(units[unit_id], units)
            if found is None:
                return None
            data.groups[found[0].pk] = found[1]
            return data.tallies[found[0].pk]

        if cycles:
            for rate in reporting.unit_rates(by, cycles):
                t = tally(rate.unit_id)
                if t is not None:
                    t.expected += rate.expected
                    t.received += rate.received
                    t.on_time += rate.on_time
            approved = (
                reporting.reports_for(by)
                .filter(
                    cycle__in=cycles,
                    status__in=[ProgressReport.Status.APPROVED, ProgressReport.Status.LOCKED],
                )
                .order_by()
                .values("org_unit_id")
                .annotate(n=Count("pk"), first=Count("pk", filter=Q(return_count=0)))
            )
            for row in approved:
                t = tally(row["org_unit_id"])
                if t is not None:
                    t.approved += row["n"]
                    t.approved_first_time += row["first"]
        targets = Target.objects.filter(
            plan=scheme.plan_id, withdrawn=False, indicator__isnull=False, value__isnull=False
        ).select_related("indicator")
        for target in targets:
            t = tally(target.indicator.owner_unit_id)
            if t is not None:
                status, _baseline, _latest = status_of(target)
                t.targets += 1
                t.targets_achieved += status in ACHIEVED
        for score in QualitativeScore.objects.filter(criterion__scheme=scheme):
            data.qualitative[(score.criterion_id, score.unit_id)] = score
        return data


RuleFunction = Callable[[YearData, Criterion, int], Inputs]
RULES: dict[str, RuleFunction] = {}


def register(code: str) -> Callable[[RuleFunction], RuleFunction]:
    def decorate(function: RuleFunction) -> RuleFunction:
        RULES[code] = function
        return function

    return decorate


def _share(numerator: int, denominator: int, what: str) -> Inputs:
    if not denominator:
        return Inputs(None, None, f"不适用：{what}为 0")
    return Inputs(Decimal(numerator), Decimal(denominator))


@register(Rule.COMPLETENESS)
def completeness(data: YearData, criterion: Criterion, unit_id: int) -> Inputs:
    """Reports received ÷ reports expected over the year's cycles."""
    t = data.tallies[unit_id]
    return _share(t.received, t.expected, "应报报告数")


@register(Rule.TIMELINESS)
def timeliness(data: YearData, criterion: Criterion, unit_id: int) -> Inputs:
    """Reports first submitted by the on-time day ÷ reports expected."""
    t = data.tallies[unit_id]
    return _share(t.on_time, t.expected, "应报报告数")


@register(Rule.TARGETS_ACHIEVED)
def targets_achieved(data: YearData, criterion: Criterion, unit_id: int) -> Inputs:
    """Targets achieved or on track ÷ the targets whose linked indicator the unit owns."""
    t = data.tallies[unit_id]
    return _share(t.targets_achieved, t.targets, "负责指标的目标数")


@register(Rule.REPORT_QUALITY)
def report_quality(data: YearData, criterion: Criterion, unit_id: int) -> Inputs:
    """Reports approved without a return ÷ reports approved."""
    t = data.tallies[unit_id]
    return _share(t.approved_first_time, t.approved, "审核通过的报告数")


@register(Rule.QUALITATIVE)
def qualitative(data: YearData, criterion: Criterion, unit_id: int) -> Inputs:
    """The coordinator's score ÷ the criterion's maximum points."""
    score = data.qualitative.get((criterion.pk, unit_id))
    if score is None:
        return Inputs(None, None, "待评分")
    return Inputs(score.points, criterion.max_points, score.comment[:200])
