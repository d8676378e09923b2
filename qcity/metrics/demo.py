"""Demo indicator values for `make run`, so that a new user sees living targets.

``load_demo_values(today)`` confirms the proposed target ↔ indicator links of the
Tieling plan (``plans.target_links.link_indicator``, as the demo coordinator,
audited) and enters, through ``services.enter_value`` (provenance, revision, audit),
for each manual indicator: a baseline figure at the end of the plan's base year
(three years before the target year: 2022 for the 2025 targets) and the periods of
the year up to ``today`` (the last 12 months, 4 quarters or 1 year completed by
``today``, by period type). The latest figure of each linked target is chosen so
that the targets show a mix of derived states (已实现 / 进展正常 / 存在风险 /
严重滞后); the status itself is still derived by ``metrics.status``, never typed in.

Deterministic (a fixed seed), idempotent (a period that already has a figure is
left alone, so a second run, or a figure someone entered, is never overwritten),
refused under production settings like ``core.demo``.

This is the one module of ``metrics`` that reads the plan (imported inside the
function): it stages demo data across apps. The domain code of metrics (models,
services, status) still never imports plans (ADR 0021).
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import transaction

from qcity.core.demo import DEMO_USERS, DemoDataRefused
from qcity.core.models import Role, User
from qcity.metrics import services
from qcity.metrics.models import Direction, Indicator, IndicatorValue, PeriodType
from qcity.metrics.periods import period_end
from qcity.metrics.status import Status, meets, target_status

SEED = 20261128
PLAN_TITLE = "铁岭市关于贯彻落实《辽宁省质量强省建设纲要》加快建设质量强市的实施方案"
# Periods entered per indicator, by period type: a year of them.
PERIODS_PER_YEAR = {PeriodType.MONTHLY: 12, PeriodType.QUARTERLY: 4, PeriodType.YEARLY: 1}
# Plausible figures of the base year (2022) for the default catalogue.
BASELINES = {
    "agri_monitoring_pass_rate": Decimal("97.2"),
    "food_sampling_pass_rate": Decimal("97.6"),
    "local_standards_revised": Decimal("3"),
    "public_measurement_standards": Decimal("6"),
    "valid_certificates": Decimal("1350"),
    "major_safety_accidents": Decimal("0"),
    "tech_contract_value": Decimal("2.1"),
    "tech_local_conversion_rate": Decimal("45"),
    "rural_food_store_standard_rate": Decimal("62"),
}
COUNT_UNITS = frozenset({"项", "张", "起", "个", "家", "件", "批次", "人"})
# The states a demo target is steered towards, spread over the linked targets.
SCENARIOS = (Status.ON_TRACK, Status.AT_RISK, Status.OFF_TRACK, Status.ACHIEVED)


def load_demo_values(today: dt.date) -> int:
    """Link the Tieling targets and enter a year of demo values; returns how many were stored.

    :raises DemoDataRefused: under production settings, or without the default data
        (demo coordinator, Tieling plan) that ``qcity load_defaults`` loads.
    """
    if not settings.QCITY_DEMO_DATA:
        raise DemoDataRefused("生产环境不加载演示指标数据")
    from qcity.plans.models import Plan
    from qcity.plans.target_links import link_indicator, target_states

    coordinator = User.objects.filter(username="coordinator", role=Role.COORDINATOR).first()
    plan = Plan.objects.filter(title=PLAN_TITLE).first()
    if coordinator is None or plan is None:
        raise DemoDataRefused(
            "缺少默认数据（演示协调员或铁岭市实施方案）：请先运行 qcity load_defaults"
        )
    stored = 0
    with transaction.atomic():
        targets = {}
        for state in target_states(coordinator, plan):
            target = state.target
            if target.indicator_id is None and state.proposal is not None:
                target = link_indicator(target.pk, state.proposal.indicator.pk, by=coordinator)
            if target.indicator_id is not None and target.value is not None:
                targets.setdefault(target.indicator_id, target)  # the first target judges it
        scenarios = _scenarios(targets.values())
        for indicator in (
            Indicator.objects.enabled().filter(calculator="").select_related("owner_unit")
        ):
            target = targets.get(indicator.pk)
            stored += _enter_year(
                indicator,
                target,
                scenarios.get(target.pk) if target else None,
                today,
                entered_by=_owner_user(indicator) or coordinator,
            )
    return stored


def _scenarios(targets) -> dict[int, Status]:
    """Each target whose baseline does not already meet it gets a state, all four in turn."""
    steerable = sorted(
        (t for t in targets if t.year and not _meets(t, _baseline_value(t.indicator, t))),
        key=lambda t: t.seq,
    )
    cycle = [SCENARIOS[i % len(SCENARIOS)] for i in range(len(steerable))]
    random.Random(SEED).shuffle(cycle)
    return {t.pk: state for t, state in zip(steerable, cycle, strict=True)}


def _owner_user(indicator: Indicator) -> User | None:
    """The demo account of the indicator's owner unit, who would enter its figures."""
    return (
        User.objects.filter(
            username__in=[row[0] for row in DEMO_USERS],
            unit=indicator.owner_unit,
            role__in=[Role.COORDINATOR, Role.DEPARTMENT_LIAISON],
        )
        .order_by("pk")
        .first()
    )


def recent_periods(period_type: str, today: dt.date) -> list[str]:
    """The last 12 months / 4 quarters / 1 year completed by ``today``, oldest first."""
    keys: list[str] = []
    year, month = today.year, today.month
    if period_type == PeriodType.YEARLY:
        candidates = (f"{y}" for y in range(year, year - 3, -1))
    elif period_type == PeriodType.QUARTERLY:
        quarter = (month - 1) // 3 + 1
        candidates = (f"{_q_year(year, quarter, i)}Q{_q_num(quarter, i)}" for i in range(6))
    else:
        candidates = (_month_key(year, month, i) for i in range(14))
    for key in candidates:
        if period_end(period_type, key) <= today:
            keys.append(key)
        if len(keys) == PERIODS_PER_YEAR[PeriodType(period_type)]:
            break
    return list(reversed(keys))


def _q_year(year: int, quarter: int, back: int) -> int:
    return year + (quarter - 1 - back) // 4


def _q_num(quarter: int, back: int) -> int:
    return (quarter - 1 - back) % 4 + 1


def _month_key(year: int, month: int, back: int) -> str:
    index = year * 12 + (month - 1) - back
    return f"{index // 12}-{index % 12 + 1:02d}"


def _base_period(indicator: Indicator, year: int) -> str:
    return {
        PeriodType.YEARLY: f"{year}",
        PeriodType.QUARTERLY: f"{year}Q4",
        PeriodType.MONTHLY: f"{year}-12",
    }[PeriodType(indicator.period_type)]


def _places(indicator: Indicator) -> Decimal:
    if indicator.unit in COUNT_UNITS:
        return Decimal("1")
    return Decimal("0.1") if indicator.unit in ("%", "％") else Decimal("0.01")


def _baseline_value(indicator: Indicator, target) -> Decimal:
    if indicator.code in BASELINES:
        return BASELINES[indicator.code]
    if target is not None and target.value is not None:
        higher = indicator.direction == Direction.HIGHER
        return _round(indicator, target.value * Decimal("0.75") if higher else target.value + 2)
    low = indicator.min_value if indicator.min_value is not None else Decimal("0")
    high = indicator.max_value if indicator.max_value is not None else low + 100
    return _round(indicator, (low + high) / 2)


def _round(indicator: Indicator, value: Decimal) -> Decimal:
    value = value.quantize(_places(indicator), rounding=ROUND_HALF_UP)
    if indicator.min_value is not None:
        value = max(value, indicator.min_value)
    if indicator.max_value is not None:
        value = min(value, indicator.max_value)
    return value


def _meets(target, value: Decimal) -> bool:
    return meets(value, target.comparator, target.value, target.indicator.direction)


def _status(target, baseline: Decimal, base_end: dt.date, value: Decimal, on: dt.date) -> Status:
    return target_status(
        target.value,
        target.comparator,
        baseline,
        base_end,
        dt.date(target.year, 12, 31),
        value,
        on,
        direction=target.indicator.direction,
    )


def _steered(
    indicator: Indicator,
    target,
    scenario: Status,
    baseline: Decimal,
    base_end: dt.date,
    on: dt.date,
) -> Decimal:
    """A plausible latest figure whose derived status is ``scenario`` where the date allows.

    After the deadline only 已实现 and 严重滞后 exist: a target steered to 进展正常 then
    ends narrowly met, one steered to 存在风险 narrowly missed.
    """
    deadline = dt.date(target.year, 12, 31)
    span = max((deadline - base_end).days, 1)
    share = Decimal(min(max((on - base_end).days, 0), span)) / Decimal(span)
    goal = target.value
    expected = baseline + (goal - baseline) * share
    sign = Decimal(1) if indicator.direction == Direction.HIGHER else Decimal(-1)
    remaining = goal - expected  # signed, towards the goal
    scale = abs(goal - baseline) or Decimal(1)
    step = _places(indicator)
    wanted = scenario
    if on >= deadline:
        wanted = (
            Status.ACHIEVED if scenario in (Status.ACHIEVED, Status.ON_TRACK) else Status.OFF_TRACK
        )
    if wanted == Status.ACHIEVED:
        value = goal + sign * max(step, scale * Decimal("0.02"))
    elif wanted == Status.ON_TRACK:
        value = expected + remaining * Decimal("0.3")
    elif wanted == Status.AT_RISK:
        value = expected - remaining * Decimal("0.12") if remaining else goal - sign * step
    else:
        value = expected - sign * max(abs(remaining) * Decimal("0.6"), scale * Decimal("0.1"))
    value = _round(indicator, value)
    # Rounding to the figure's precision can cross a boundary: nudge one step at a time.
    for _ in range(50):
        got = _status(target, baseline, base_end, value, on)
        if got == wanted:
            break
        better = {Status.ACHIEVED: 3, Status.ON_TRACK: 2, Status.AT_RISK: 1, Status.OFF_TRACK: 0}
        direction = 1 if better[got] < better[wanted] else -1
        nudged = _round(indicator, value + sign * step * direction)
        if nudged == value:  # held by the allowed range
            break
        value = nudged
    return value


def _enter_year(
    indicator: Indicator, target, scenario: Status | None, today: dt.date, *, entered_by: User
) -> int:
    periods = recent_periods(indicator.period_type, today)
    if not periods:
        return 0
    first_end = period_end(indicator.period_type, periods[0])
    base_year = (target.year - 3) if target is not None and target.year else first_end.year - 1
    base_key = _base_period(indicator, base_year)
    base_end = period_end(indicator.period_type, base_key)
    baseline = _round(indicator, _baseline_value(indicator, target))
    rng = random.Random(f"{SEED}:{indicator.code}")
    last_end = period_end(indicator.period_type, periods[-1])
    if target is not None and scenario is not None:
        latest = _steered(indicator, target, scenario, baseline, base_end, last_end)
    elif target is not None:  # the baseline already meets it (零发生): it stays met
        latest = baseline
    else:
        latest = _round(indicator, baseline * Decimal(str(1 + rng.uniform(0.02, 0.08))))
    figures: list[tuple[str, Decimal, str]] = []
    if base_end < first_end:
        figures.append((base_key, baseline, f"演示数据：{base_year} 年基线值（方案编制时）"))
    count = len(periods)
    for index, key in enumerate(periods):
        if index == count - 1:
            value = latest
        else:
            # On the way from the baseline to the latest figure, with a little noise.
            share = Decimal(index + 1) / Decimal(count)
            noise = Decimal(str(rng.uniform(-0.01, 0.01))) * (abs(latest - baseline) or 1)
            value = _round(indicator, baseline + (latest - baseline) * share + noise)
        figures.append((key, value, f"演示数据：{indicator.owner_unit.name}统计报表 {key}"))
    stored = 0
    for key, value, note in figures:
        if IndicatorValue.objects.filter(
            indicator=indicator, period=key, org_unit=indicator.owner_unit
        ).exists():
            continue  # never overwrite a figure already there (idempotent)
        services.enter_value(
            indicator.pk,
            period=key,
            value=value,
            unit=indicator.unit,
            by=entered_by,
            evidence_note=note,
        )
        stored += 1
    return stored
