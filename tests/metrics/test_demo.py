"""Demo indicator values for `make run`: linked targets, a year of figures, mixed states."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal

import pytest
from django.db import transaction
from django.test import override_settings

from qcity.core.demo import DemoDataRefused, create_demo_users
from qcity.core.models import AuditEvent, OrgUnit, User
from qcity.metrics.demo import load_demo_values, recent_periods
from qcity.metrics.models import Indicator, IndicatorValue, IndicatorValueRevision
from qcity.metrics.services import enter_value, load_default_indicators
from qcity.plans.target_links import target_states

pytestmark = pytest.mark.django_db

IN_PLAN_PERIOD = dt.date(2025, 10, 15)
AFTER_DEADLINE = dt.date(2026, 11, 28)


@pytest.fixture
def defaults(plan):
    """What `qcity load_defaults` leaves outside production: demo users and the catalogue."""
    create_demo_users()
    load_default_indicators()
    return plan


def statuses(plan) -> Counter:
    coordinator = User.objects.get(username="coordinator")
    return Counter(s.status.value for s in target_states(coordinator, plan) if s.status is not None)


def snapshot() -> list[tuple]:
    return list(
        IndicatorValue.objects.order_by("indicator__code", "period").values_list(
            "indicator__code", "period", "org_unit__name", "value", "entered_by__username"
        )
    )


def test_it_links_the_plans_targets_and_shows_all_four_states(defaults):
    stored = load_demo_values(IN_PLAN_PERIOD)

    plan = defaults
    numeric = plan.targets.filter(qualitative=False, withdrawn=False)
    assert numeric.filter(indicator__isnull=True).count() == 0
    linked = AuditEvent.objects.filter(action="target.indicator_linked")
    assert linked.count() == numeric.count()
    assert {e.actor.username for e in linked} == {"coordinator"}
    counts = statuses(plan)
    assert set(counts) == {"achieved", "on_track", "at_risk", "off_track"}, counts
    # A baseline (2022) and the last completed year (2024) per yearly indicator.
    assert stored == IndicatorValue.objects.count() == 2 * Indicator.objects.count()
    assert set(IndicatorValue.objects.values_list("period", flat=True)) == {"2022", "2024"}


def test_every_demo_figure_carries_its_provenance_and_history(defaults):
    load_demo_values(IN_PLAN_PERIOD)
    agri = IndicatorValue.objects.filter(indicator__code="agri_monitoring_pass_rate")
    # Entered by the owner unit's demo liaison, the others by the coordinator.
    assert {v.entered_by.username for v in agri} == {"nongye"}
    tech = IndicatorValue.objects.filter(indicator__code="tech_contract_value")
    assert {v.entered_by.username for v in tech} == {"coordinator"}  # 市科技局 has no demo user
    for value in IndicatorValue.objects.all():
        assert value.source == "manual" and value.evidence_note.startswith("演示数据")
        assert value.org_unit == value.indicator.owner_unit
    assert IndicatorValueRevision.objects.count() == IndicatorValue.objects.count()
    assert (
        AuditEvent.objects.filter(action="indicator_value.entered").count()
        == IndicatorValue.objects.count()
    )


def test_a_second_run_adds_nothing_and_the_figures_are_the_same_every_time(defaults):
    with transaction.atomic():
        load_demo_values(IN_PLAN_PERIOD)
        first = snapshot()
        transaction.set_rollback(True)
    assert not IndicatorValue.objects.exists()
    assert load_demo_values(IN_PLAN_PERIOD) > 0
    assert snapshot() == first  # seeded: the same figures on a fresh database
    events = AuditEvent.objects.count()
    assert load_demo_values(IN_PLAN_PERIOD) == 0
    assert snapshot() == first and AuditEvent.objects.count() == events


def test_a_figure_someone_entered_is_never_overwritten(defaults):
    food = Indicator.objects.get(code="food_sampling_pass_rate")
    coordinator = User.objects.get(username="coordinator")
    enter_value(food.pk, period="2024", value="96.3", unit="%", by=coordinator)
    load_demo_values(IN_PLAN_PERIOD)
    assert IndicatorValue.objects.get(indicator=food, period="2024").value == Decimal("96.3")


def test_after_the_deadline_targets_are_achieved_or_off_track_and_none_lacks_data(defaults):
    # The Tieling targets are due at the end of 2025: after it, no path is left to be on.
    load_demo_values(AFTER_DEADLINE)
    counts = statuses(defaults)
    assert set(counts) == {"achieved", "off_track"}, counts
    assert set(IndicatorValue.objects.values_list("period", flat=True)) == {"2022", "2025"}


@override_settings(QCITY_DEMO_DATA=False)
def test_production_settings_refuse_demo_values(plan):
    load_default_indicators()
    with pytest.raises(DemoDataRefused):
        load_demo_values(IN_PLAN_PERIOD)
    assert not IndicatorValue.objects.exists()
    assert not AuditEvent.objects.filter(action="target.indicator_linked").exists()


def test_without_the_default_data_it_says_what_to_load(org_units):
    with pytest.raises(DemoDataRefused) as refused:
        load_demo_values(IN_PLAN_PERIOD)
    assert "load_defaults" in str(refused.value)


def test_monthly_and_quarterly_indicators_get_a_year_of_periods(defaults):
    owner = OrgUnit.objects.get(name="市市场监管局")
    for code, period_type in (("demo_monthly", "monthly"), ("demo_quarterly", "quarterly")):
        Indicator.objects.create(
            code=code,
            name=f"演示{code}",
            unit="%",
            direction="higher",
            period_type=period_type,
            owner_unit=owner,
            min_value=0,
            max_value=100,
        )
    load_demo_values(IN_PLAN_PERIOD)
    monthly = list(
        IndicatorValue.objects.filter(indicator__code="demo_monthly")
        .order_by("period_end")
        .values_list("period", flat=True)
    )
    assert monthly[1:] == recent_periods("monthly", IN_PLAN_PERIOD)
    assert len(monthly) == 13 and monthly[0] == "2023-12"  # the baseline, the year before
    quarterly = IndicatorValue.objects.filter(indicator__code="demo_quarterly").count()
    assert quarterly == 5
    for value in IndicatorValue.objects.filter(indicator__code__startswith="demo_"):
        assert Decimal(0) <= value.value <= Decimal(100)


@pytest.mark.parametrize(
    ("period_type", "today", "expected"),
    [
        ("yearly", dt.date(2025, 10, 15), ["2024"]),
        ("yearly", dt.date(2025, 12, 31), ["2025"]),
        ("quarterly", dt.date(2025, 10, 15), ["2024Q4", "2025Q1", "2025Q2", "2025Q3"]),
        ("quarterly", dt.date(2026, 3, 31), ["2025Q2", "2025Q3", "2025Q4", "2026Q1"]),
        ("monthly", dt.date(2025, 2, 10), [f"2024-{m:02d}" for m in range(2, 13)] + ["2025-01"]),
    ],
)
def test_recent_periods_are_those_completed_by_today(period_type, today, expected):
    assert recent_periods(period_type, today) == expected
