"""Indicators of 双随机、一公开 computed on hand-made data (ADR 0021 calculators)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command

from qcity.core.models import OrgUnit
from qcity.inspections import calculators, services
from qcity.inspections.models import Task
from qcity.metrics import calculators as registry
from qcity.metrics.models import Indicator, IndicatorValue
from qcity.registry.models import MarketEntity
from tests.portal.world import (
    KAIYUAN,
    XIFENG,
    entity,
    file_stores,  # noqa: F401
    make_world,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("file_stores", "calendar")]

SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def unit(name: str) -> OrgUnit:
    return OrgUnit.objects.get(name=name)


def test_the_calculators_are_registered_with_metrics():
    names = set(registry.registered())
    assert {f"inspections.coverage.{c}" for c in "ABCD"} <= names
    assert {"inspections.problem_rate", "inspections.problem_rate.F"} <= names
    assert "inspections.published_on_time" in names


@pytest.mark.parametrize(
    ("code", "section"),
    [
        ("F5211", "F"),
        ("5211", "F"),
        ("1469", "C"),
        ("C1469", "C"),
        ("6210", "H"),
        ("", None),
        ("9", None),
        ("99", None),
    ],
)
def test_the_industry_section_of_a_gb4754_code(code, section):
    assert calculators.section_of(code) == section


def test_coverage_by_risk_class(personas):
    # Kaiyuan: two B entities checked in 2026 (make_world), plus two more B and one C unchecked.
    make_world(personas["kaiyuan"])
    entity(901, "开原市未抽中商店一", KAIYUAN)
    entity(902, "开原市未抽中商店二", KAIYUAN)
    entity(903, "开原市丙类企业", KAIYUAN, risk="C")
    closed = entity(904, "开原市已注销企业", KAIYUAN)
    MarketEntity.objects.filter(pk=closed.pk).update(status=MarketEntity.Status.DEREGISTERED)
    # Xifeng: one B entity, checked.
    make_world(personas["xifeng"], XIFENG, names=("西丰县鹿城药房",), tail=2)
    kaiyuan_b = calculators.coverage("B")
    assert kaiyuan_b("2026", unit(KAIYUAN)) == Decimal("50.00")  # 2 of 4 active
    assert kaiyuan_b("2026", unit(XIFENG)) == Decimal("100.00")
    assert kaiyuan_b("2026", unit("市市场监管局")) == Decimal("60.00")  # 3 of 5 city-wide
    assert kaiyuan_b("2026Q3", unit(KAIYUAN)) == Decimal("50.00")  # checked 2026-09-01
    assert kaiyuan_b("2026Q4", unit(KAIYUAN)) == Decimal("0.00")
    assert calculators.coverage("C")("2026", unit(KAIYUAN)) == Decimal("0.00")
    assert calculators.coverage("D")("2026", unit(KAIYUAN)) is None  # no D entity at all


def test_problem_found_rate_overall_and_by_industry(personas):
    make_world(personas["kaiyuan"], codes="bad")  # 2 results with a problem, industry F
    make_world(
        personas["kaiyuan"], names=("开原市甲制造厂", "开原市乙制造厂", "开原市丙制造厂"), tail=3
    )  # 3 results without
    MarketEntity.objects.filter(name__contains="制造厂").update(industry_code="C1469")
    city = unit("市市场监管局")
    assert calculators.problem_rate()("2026", city) == Decimal("40.00")
    assert calculators.problem_rate("F")("2026", city) == Decimal("100.00")
    assert calculators.problem_rate("C")("2026", city) == Decimal("0.00")
    assert calculators.problem_rate("H")("2026", city) is None
    assert calculators.problem_rate()("2026", unit(XIFENG)) is None


def test_share_published_on_time(personas):
    world = make_world(personas["kaiyuan"], names=("甲", "乙", "丙", "丁"))
    for task in world.tasks:
        Task.objects.filter(pk=task.pk).update(publish_due=dt.date(2026, 9, 29))
    with time_machine.travel(dt.datetime(2026, 9, 28, 10, tzinfo=SHANGHAI)):
        for task in world.tasks[:3]:
            services.publish_result(personas["kaiyuan"], task.pk)
    with time_machine.travel(dt.datetime(2026, 10, 9, 10, tzinfo=SHANGHAI)):
        services.publish_result(personas["kaiyuan"], world.tasks[3].pk, late_reason="迟了")
    on_time = calculators.published_on_time
    assert on_time("2026", unit(KAIYUAN)) == Decimal("75.00")
    assert on_time("2026-09", unit(KAIYUAN)) == Decimal("100.00")
    assert on_time("2026-10", unit(KAIYUAN)) == Decimal("0.00")
    assert on_time("2026", unit(XIFENG)) is None


def test_the_default_indicators_are_loaded_and_recomputed_from_the_calculators(personas):
    world = make_world(personas["kaiyuan"], names=("甲", "乙"))
    with time_machine.travel(dt.datetime(2026, 9, 2, 10, tzinfo=SHANGHAI)):
        services.publish_result(personas["kaiyuan"], world.tasks[0].pk)
    assert calculators.load_indicators() == len(calculators.INDICATORS)
    assert calculators.load_indicators() == 0
    indicator = Indicator.objects.get(code="inspections_published_on_time")
    assert indicator.owner_unit.name == "市市场监管局"
    call_command("recompute_indicators", "--period", "2026", stdout=__import__("io").StringIO())
    value = IndicatorValue.objects.get(indicator=indicator, period="2026")
    assert value.value == Decimal("100.00")
    coverage_b = IndicatorValue.objects.get(indicator__code="inspections_coverage_b", period="2026")
    assert coverage_b.value == Decimal("100.00")
