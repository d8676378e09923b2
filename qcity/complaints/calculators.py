"""Indicators of 12315, registered with ``metrics.calculators`` (ADR 0021, ADR 0042).

Each calculator is ``fn(period, org_unit) -> Decimal | None`` (None: nothing to count in
the period). Periods are metrics' keys ("2026", "2026Q3", "2026-09"); a moment belongs to
the period of its Beijing date. Every complaint counts here, 不予公示 ones included: these
are the bureau's own performance figures, not the public disclosure.

- ``complaints.accept_on_time`` (%): complaints decided (``accept`` or ``refuse``) in the
  period on or before their acceptance deadline ÷ complaints decided in the period. The
  deadline is the one the case carried when it was decided: the deadline recorded by the
  last step that brought it to 待受理 (back from ODR, transferred, designated), else 7
  working days from receipt by its own rules (``complaint.accept``, Order 20 Art.14 /
  Order 121 Art.15).
- ``complaints.mediation_success`` (%): agreements ÷ mediations concluded in the period
  (the steps ``agree``, ``terminate``, ``withdraw`` taken from 已受理/调解中/调解中止).
- ``complaints.money_recovered`` (元): for the complaints closed in the period, the money
  recovered for consumers; per case the larger of ``amount_recovered`` (the figure recorded
  at the close) and the sum of its ``Payment`` rows (先行赔付, ODR and agreement payments),
  since the recorded figure normally includes what was paid and must not be counted twice.

The unit: a city-level unit (市市场监管局, a city department, the government) counts the
whole city; a county bureau counts the cases it owns and those of the units below it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import QuerySet, Sum
from django.utils import timezone

from qcity.core import audit, rulebook
from qcity.core.models import OrgUnit

COMPLAINT_WORKFLOW = "complaints.complaint"
DECISIONS = ("accept", "refuse")
MEDIATION_ENDS = ("agree", "terminate", "withdraw")
MEDIATION_STATES = ("accepted", "mediating", "suspended")


def period_bounds(period: str) -> tuple[dt.date, dt.date]:
    """First and last day of "2026", "2026Q3" or "2026-09" (metrics' period keys)."""
    from qcity.metrics.periods import period_bounds as bounds

    return bounds(period)


def _moments(period: str) -> tuple[dt.datetime, dt.datetime]:
    start, end = period_bounds(period)
    first = timezone.make_aware(dt.datetime.combine(start, dt.time.min))
    after = timezone.make_aware(dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min))
    return first, after


def _units(org_unit: OrgUnit) -> QuerySet[OrgUnit] | None:
    """None (the whole city) for a city-level unit, else the unit and the units below it."""
    parent = org_unit.parent
    if parent is None or (parent.parent_id is None and org_unit.kind != OrgUnit.Kind.COUNTY):
        return None
    return OrgUnit.objects.filter(path__startswith=org_unit.path)


def _complaints(org_unit: OrgUnit):
    from qcity.complaints.models import Case

    cases = Case.objects.filter(kind=Case.Kind.COMPLAINT)
    units = _units(org_unit)
    return cases if units is None else cases.filter(owner_unit__in=units)


def _transitions(period: str, steps: tuple[str, ...]):
    from django.contrib.contenttypes.models import ContentType

    from qcity.complaints.models import Case
    from qcity.core.models import Transition

    first, after = _moments(period)
    return Transition.objects.filter(
        content_type=ContentType.objects.get_for_model(Case),
        workflow=COMPLAINT_WORKFLOW,
        step__in=steps,
        time__gte=first,
        time__lt=after,
    )


def _percent(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.01"), ROUND_HALF_UP)


def accept_on_time(period: str, org_unit: OrgUnit) -> Decimal | None:
    from django.contrib.contenttypes.models import ContentType

    from qcity.complaints.models import Case
    from qcity.core.models import Transition

    decisions = list(_transitions(period, DECISIONS).values_list("object_id", "time"))
    received = dict(
        _complaints(org_unit)
        .filter(pk__in={int(pk) for pk, _t in decisions})
        .values_list("pk", "received_on")
    )
    decisions = [(int(pk), time) for pk, time in decisions if int(pk) in received]
    if not decisions:
        return None
    # The deadlines recorded by the steps that (re)started the acceptance clock.
    restarts: dict[int, list[tuple[dt.datetime, dt.date]]] = defaultdict(list)
    for pk, time, due in Transition.objects.filter(
        content_type=ContentType.objects.get_for_model(Case),
        workflow=COMPLAINT_WORKFLOW,
        object_id__in=[str(pk) for pk in received],
        to_state=Case.Status.RECEIVED,
        deadline_due__isnull=False,
    ).values_list("object_id", "time", "deadline_due"):
        restarts[int(pk)].append((time, due))
    on_time = 0
    for pk, time in decisions:
        earlier = [(t, due) for t, due in restarts[pk] if t <= time]
        if earlier:
            due = max(earlier)[1]
        else:
            start = received[pk]
            due = rulebook.deadline("complaint.accept", start, on=start).due
        on_time += timezone.localtime(time).date() <= due
    return _percent(on_time, len(decisions))


def mediation_success(period: str, org_unit: OrgUnit) -> Decimal | None:
    ends = list(
        _transitions(period, MEDIATION_ENDS)
        .filter(from_state__in=MEDIATION_STATES)
        .values_list("object_id", "step")
    )
    mine = set(
        _complaints(org_unit)
        .filter(pk__in={int(pk) for pk, _s in ends})
        .values_list("pk", flat=True)
    )
    ends = [step for pk, step in ends if int(pk) in mine]
    return _percent(sum(step == "agree" for step in ends), len(ends))


def money_recovered(period: str, org_unit: OrgUnit) -> Decimal | None:
    from qcity.complaints.models import Payment

    first, after = _moments(period)
    closed = dict(
        _complaints(org_unit)
        .filter(closed_at__gte=first, closed_at__lt=after)
        .values_list("pk", "amount_recovered")
    )
    if not closed:
        return None
    paid = dict(
        Payment.objects.filter(case_id__in=list(closed))
        .values("case_id")
        .annotate(total=Sum("amount"))
        .values_list("case_id", "total")
    )
    total = sum(
        (
            max(recorded or Decimal(0), paid.get(pk) or Decimal(0))
            for pk, recorded in closed.items()
        ),
        Decimal(0),
    )
    return total.quantize(Decimal("0.01"), ROUND_HALF_UP)


def calculators() -> dict[str, object]:
    return {
        "complaints.accept_on_time": accept_on_time,
        "complaints.mediation_success": mediation_success,
        "complaints.money_recovered": money_recovered,
    }


def register_all() -> None:
    """Called once from ``ComplaintsConfig.ready``: the same functions on every call."""
    from qcity.metrics import calculators as registry

    for code, fn in calculators().items():
        registry.register(code, fn)  # type: ignore[arg-type]


# The catalogue rows these calculators feed (owner 市市场监管局, yearly):
# (code, name, unit, calculator, direction).
INDICATORS: list[tuple[str, str, str, str, str]] = [
    ("complaints_accept_on_time", "投诉按时受理率", "%", "complaints.accept_on_time", "higher"),
    (
        "complaints_mediation_success",
        "投诉调解成功率",
        "%",
        "complaints.mediation_success",
        "higher",
    ),
    (
        "complaints_money_recovered",
        "为消费者挽回经济损失",
        "元",
        "complaints.money_recovered",
        "higher",
    ),
]


def load_indicators(*, by=None) -> int:
    """Add the catalogue rows of these indicators when missing (idempotent, audited)."""
    from qcity.metrics.models import Direction, Indicator, PeriodType

    owner = OrgUnit.objects.get(name="市市场监管局")
    created = 0
    with transaction.atomic():
        for order, (code, name, unit, calculator, direction) in enumerate(INDICATORS, start=950):
            if Indicator.objects.filter(code=code).exists():
                continue
            percent = unit == "%"
            indicator = Indicator.objects.create(
                code=code,
                name=name,
                unit=unit,
                direction=Direction(direction),
                period_type=PeriodType.YEARLY,
                owner_unit=owner,
                calculator=calculator,
                min_value=Decimal(0),
                max_value=Decimal(100) if percent else None,
                sort_order=order,
                description="由12315投诉举报业务数据自动计算（docs/decisions/0042）。",
            )
            audit.record("indicator.created", by=by, obj=indicator, details={"code": code})
            created += 1
    return created
