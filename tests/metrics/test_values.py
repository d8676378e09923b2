"""Indicator values: entry by the owner, provenance, history, bad input, calculators."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.http import Http404

from qcity.core.models import AuditEvent, OrgUnit
from qcity.metrics import calculators
from qcity.metrics.models import Indicator, IndicatorValue, IndicatorValueRevision, ValueSource
from qcity.metrics.selectors import visible_indicators, visible_values
from qcity.metrics.services import ValueRejected, enter_value, recompute_indicators

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue(personas) -> dict[str, Indicator]:
    call_command("load_indicators", stdout=open("/dev/null", "w"))
    return {i.code: i for i in Indicator.objects.all()}


def test_load_indicators_creates_the_nine_tieling_indicators_once(catalogue):
    assert len(catalogue) == 9
    food = catalogue["food_sampling_pass_rate"]
    assert (food.name, food.unit, food.direction, food.period_type) == (
        "食品抽检合格率",
        "%",
        "higher",
        "yearly",
    )
    assert food.owner_unit.name == "市市场监管局"
    assert catalogue["agri_monitoring_pass_rate"].owner_unit.name == "市农业农村局"
    call_command("load_indicators", stdout=open("/dev/null", "w"))
    assert Indicator.objects.count() == 9


def test_the_owner_enters_a_value_with_provenance_and_history(catalogue, personas):
    agri = catalogue["agri_monitoring_pass_rate"]
    nongye = personas["nongye"]
    enter_value(agri.pk, period="2024", value="97.5", unit="%", by=nongye, evidence_note="年报")
    row = enter_value(agri.pk, period="2024", value="97.8", unit="％", by=nongye)
    assert row.value == Decimal("97.8")
    assert (row.source, row.entered_by, row.org_unit.name) == ("manual", nongye, "市农业农村局")
    history = list(IndicatorValueRevision.objects.filter(indicator_value=row).order_by("id"))
    assert [(h.previous_value, h.value) for h in history] == [
        (None, Decimal("97.5")),
        (Decimal("97.5"), Decimal("97.8")),
    ]
    events = AuditEvent.objects.filter(action="indicator_value.entered").order_by("id")
    assert [e.details["new"] for e in events] == ["97.5", "97.8"]
    assert events.last().details["old"] == "97.5"


@pytest.mark.parametrize(
    ("value", "unit", "code", "words"),
    [
        ("97", "件", "wrong_unit", "单位不符"),
        ("97", "", "wrong_unit", "以“%”计"),
        ("101", "%", "out_of_range", "不能大于 100%"),
        ("-1", "%", "out_of_range", "不能小于 0%"),
        ("abc", "%", "invalid_value", "不是数字"),
        ("NaN", "%", "invalid_value", "不是数字"),
        ("1e20", "%", "invalid_value", "14 位整数"),
    ],
)
def test_a_bad_value_is_refused_with_a_specific_message_and_nothing_changes(
    catalogue, personas, value, unit, code, words
):
    agri = catalogue["agri_monitoring_pass_rate"]
    enter_value(agri.pk, period="2024", value="97", unit="%", by=personas["nongye"])
    with pytest.raises(ValueRejected) as refused:
        enter_value(agri.pk, period="2024", value=value, unit=unit, by=personas["nongye"])
    assert refused.value.code == code
    assert words in refused.value.message
    assert IndicatorValue.objects.get().value == Decimal("97")
    assert IndicatorValueRevision.objects.count() == 1


@pytest.mark.parametrize("period", ["2024Q1", "24", "2024-13", "1999", ""])
def test_a_period_of_the_wrong_shape_is_refused(catalogue, personas, period):
    agri = catalogue["agri_monitoring_pass_rate"]
    with pytest.raises(ValueRejected) as refused:
        enter_value(agri.pk, period=period, value="97", unit="%", by=personas["nongye"])
    assert refused.value.code == "invalid_period"
    assert not IndicatorValue.objects.exists()


def test_only_the_owning_unit_and_the_coordinator_may_enter(catalogue, personas):
    agri = catalogue["agri_monitoring_pass_rate"]
    with pytest.raises(ValueRejected) as refused:
        enter_value(agri.pk, period="2024", value="97", unit="%", by=personas["gongxin"])
    assert refused.value.code == "forbidden"
    assert "市农业农村局" in refused.value.message
    with pytest.raises(Http404):
        enter_value(agri.pk, period="2024", value="97", unit="%", by=personas["enterprise"])
    enter_value(agri.pk, period="2024", value="97", unit="%", by=personas["coordinator"])
    assert IndicatorValue.objects.count() == 1


def test_values_are_seen_by_their_unit_and_the_indicator_owner_only(catalogue, personas):
    agri = catalogue["agri_monitoring_pass_rate"]
    kaiyuan_unit = OrgUnit.objects.get(name="开原市市场监督管理局")
    enter_value(agri.pk, period="2024", value="96", unit="%", by=personas["nongye"])
    enter_value(
        agri.pk,
        period="2023",
        value="95",
        unit="%",
        by=personas["coordinator"],
        org_unit_id=kaiyuan_unit.pk,
    )
    seen = {
        name: sorted(v.period for v in visible_values(personas[name], agri))
        for name in ("coordinator", "nongye", "gongxin", "kaiyuan", "xifeng", "sysadmin")
    }
    assert seen == {
        "coordinator": ["2023", "2024"],
        "nongye": ["2023", "2024"],
        "gongxin": [],
        "kaiyuan": ["2023"],
        "xifeng": [],
        "sysadmin": [],
    }
    # The catalogue itself is readable by every internal user.
    assert visible_indicators(personas["inspector"]).count() == 9
    assert visible_indicators(personas["enterprise"]).count() == 0


def test_recompute_runs_a_registered_calculator_idempotently(catalogue, plan):
    from qcity.plans.models import Measure

    # A real calculator over real rows: how many measures the plan gives the unit.
    def measures_of(period: str, org_unit: OrgUnit) -> Decimal:
        return Decimal(Measure.objects.filter(responsibilities__org_unit=org_unit).count())

    indicator = catalogue["local_standards_revised"]
    indicator.calculator = "test.measures_of_unit"
    indicator.save()
    calculators.register("test.measures_of_unit", measures_of)
    try:
        first = recompute_indicators(period="2024")
        again = recompute_indicators(period="2024")
    finally:
        calculators.unregister("test.measures_of_unit")
    expected = Measure.objects.filter(responsibilities__org_unit=indicator.owner_unit).count()
    row = IndicatorValue.objects.get(indicator=indicator)
    assert (row.value, row.source, row.entered_by) == (expected, ValueSource.CALCULATOR, None)
    assert (first.stored, again.stored, again.unchanged) == (1, 0, 1)
    assert IndicatorValueRevision.objects.count() == 1
    assert AuditEvent.objects.filter(action="indicator_value.calculated").count() == 1


def test_a_calculated_indicator_cannot_be_typed_in(catalogue, personas):
    indicator = catalogue["local_standards_revised"]
    indicator.calculator = "sampling.something"
    indicator.save()
    with pytest.raises(ValueRejected) as refused:
        enter_value(indicator.pk, period="2024", value="3", unit="项", by=personas["coordinator"])
    assert refused.value.code == "calculated_indicator"


def test_recompute_command_refuses_a_malformed_period_in_one_line():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError) as refused:
        call_command("recompute_indicators", "--period", "2024Q9")
    assert refused.value.returncode == 2
    assert str(refused.value) == (
        "recompute_indicators：参数 --period：统计期“2024Q9”应写作 2025、2025Q1 或 2025-03"
    )


def test_load_defaults_brings_the_indicator_catalogue(org_units):
    from qcity.complaints.calculators import INDICATORS as COMPLAINT_INDICATORS
    from qcity.inspections.calculators import INDICATORS as INSPECTION_INDICATORS

    call_command("load_defaults", stdout=open("/dev/null", "w"))
    # The plan's catalogue and the calculated 双随机 and 12315 indicators (their calculators).
    assert Indicator.objects.count() == 9 + len(INSPECTION_INDICATORS) + len(COMPLAINT_INDICATORS)


def test_a_calculated_figure_out_of_range_is_reported_and_the_others_still_stored(catalogue):
    from django.core.management.base import CommandError

    rate = catalogue["food_sampling_pass_rate"]
    count = catalogue["local_standards_revised"]
    rate.calculator, count.calculator = "test.broken_rate", "test.count"
    rate.save()
    count.save()
    calculators.register("test.broken_rate", lambda period, unit: Decimal("150"))
    calculators.register("test.count", lambda period, unit: Decimal("3"))
    err = StringIO()
    try:
        with pytest.raises(CommandError) as failed:
            call_command("recompute_indicators", "--period", "2024", stdout=StringIO(), stderr=err)
    finally:
        calculators.unregister("test.broken_rate")
        calculators.unregister("test.count")
    assert failed.value.returncode == 1
    assert "未保存 food_sampling_pass_rate：数值 150 超出范围" in err.getvalue()
    assert [(v.indicator.code, v.value) for v in IndicatorValue.objects.all()] == [
        ("local_standards_revised", Decimal("3"))
    ]
