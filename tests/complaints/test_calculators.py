"""Indicators of 12315 computed on hand-made cases (ADR 0021 calculators, ADR 0042)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from qcity.complaints import calculators, services
from qcity.complaints.models import Case, Payment
from qcity.core import rulebook
from qcity.core.models import OrgUnit
from qcity.core.workflow import TIMER, take
from qcity.metrics import calculators as registry
from qcity.metrics.models import Indicator, IndicatorValue
from tests.complaints.helpers import KAIYUAN_BUREAU, XIFENG_BUREAU, make_case

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("calendar")]

BEIJING = dt.timezone(dt.timedelta(hours=8))
CITY = "市市场监管局"


def unit(name: str) -> OrgUnit:
    return OrgUnit.objects.get(name=name)


def step(case: Case, name: str, day: dt.date, by, **params) -> None:
    with time_machine.travel(dt.datetime.combine(day, dt.time(10), tzinfo=BEIJING), tick=False):
        take(services.COMPLAINT, name, case.pk, by=by, **params)


def closed(day: dt.date, **fields) -> Case:
    at = dt.datetime.combine(day, dt.time(15), tzinfo=BEIJING)
    return make_case(status=Case.Status.CLOSED, closed_at=at, **fields)


def test_the_calculators_are_registered_with_metrics():
    names = set(registry.registered())
    assert {
        "complaints.accept_on_time",
        "complaints.mediation_success",
        "complaints.money_recovered",
    } <= names
    assert registry.get("complaints.accept_on_time") is calculators.accept_on_time


def test_acceptance_on_time_counts_the_deadline_the_case_carried_when_decided(personas):
    kaiyuan, xifeng = personas["kaiyuan"], personas["xifeng"]
    received = dt.date(2026, 10, 19)  # a Monday
    # 7 working days: 10-20, 21, 22, 23, 26, 27, 28.
    assert rulebook.deadline("complaint.accept", received).due == dt.date(2026, 10, 28)
    step(make_case(received_on=received), "accept", dt.date(2026, 10, 28), kaiyuan)  # on time
    late = make_case(received_on=received)
    step(
        late,
        "refuse",
        dt.date(2026, 10, 29),
        kaiyuan,
        ground="3",
        reason="职业索赔",
        routes="litigation",
    )
    # Back from ODR on 10-27: the bureau's 7 working days run from then (due 11-05).
    odr = make_case(received_on=received, status=Case.Status.ODR, odr=True)
    with time_machine.travel(dt.datetime(2026, 10, 27, 9, tzinfo=BEIJING), tick=False):
        take(services.COMPLAINT, "odr_return", odr.pk, by=TIMER)
    step(odr, "accept", dt.date(2026, 10, 30), kaiyuan)
    # Another county, and a decision of November: not in the county's October.
    west = make_case(bureau=XIFENG_BUREAU, received_on=received)
    step(west, "accept", dt.date(2026, 10, 20), xifeng)
    step(make_case(received_on=received), "accept", dt.date(2026, 11, 2), kaiyuan)
    # A report is not a complaint: never counted.
    make_case(kind=Case.Kind.REPORT, received_on=received)

    assert calculators.accept_on_time("2026-10", unit(KAIYUAN_BUREAU)) == Decimal("66.67")
    assert calculators.accept_on_time("2026-10", unit(XIFENG_BUREAU)) == Decimal("100.00")
    assert calculators.accept_on_time("2026-10", unit(CITY)) == Decimal("75.00")
    assert calculators.accept_on_time("2026Q4", unit(CITY)) == Decimal("60.00")
    assert calculators.accept_on_time("2026-09", unit(CITY)) is None


def test_mediation_success_is_agreements_over_mediations_concluded(personas):
    kaiyuan = personas["kaiyuan"]
    october = dt.date(2026, 10, 12)
    for name, params in (
        ("agree", {"agreement_kind": "document"}),
        ("agree", {"agreement_kind": "record"}),
        ("terminate", {"ground": "4", "reason": "无法达成协议"}),
        ("withdraw", {}),
    ):
        step(make_case(status=Case.Status.MEDIATING), name, october, kaiyuan, **params)
    # A withdrawal before acceptance ends no mediation.
    step(make_case(), "withdraw", october, kaiyuan)
    assert calculators.mediation_success("2026-10", unit(KAIYUAN_BUREAU)) == Decimal("50.00")
    assert calculators.mediation_success("2026", unit(CITY)) == Decimal("50.00")
    assert calculators.mediation_success("2026-10", unit(XIFENG_BUREAU)) is None
    assert calculators.mediation_success("2026-11", unit(CITY)) is None


def test_money_recovered_takes_per_case_the_recorded_figure_or_the_payments(personas):
    officer = personas["kaiyuan"]
    recorded = closed(
        dt.date(2026, 10, 10), outcome=Case.Outcome.AGREEMENT, amount_recovered=Decimal("500")
    )
    paid = closed(dt.date(2026, 10, 20), outcome=Case.Outcome.ODR_SETTLED, odr=True)
    nothing = closed(dt.date(2026, 10, 21), outcome=Case.Outcome.WITHDRAWN)
    november = closed(
        dt.date(2026, 11, 1), outcome=Case.Outcome.AGREEMENT, amount_recovered=Decimal("1000")
    )
    closed(
        dt.date(2026, 10, 5),
        bureau=XIFENG_BUREAU,
        outcome=Case.Outcome.AGREEMENT,
        amount_recovered=Decimal("80.50"),
    )
    for case, kind, amount in (
        (recorded, Payment.Kind.AGREEMENT, "300"),  # part of the 500 recorded: not added
        (paid, Payment.Kind.ADVANCE, "200"),
        (paid, Payment.Kind.ODR, "100"),
        (november, Payment.Kind.AGREEMENT, "1000"),
    ):
        Payment.objects.create(
            case=case,
            kind=kind,
            amount=Decimal(amount),
            paid_on=dt.date(2026, 10, 9),
            recorded_by=officer,
        )
    assert nothing.amount_recovered is None
    assert calculators.money_recovered("2026-10", unit(KAIYUAN_BUREAU)) == Decimal("800.00")
    assert calculators.money_recovered("2026-10", unit(CITY)) == Decimal("880.50")
    assert calculators.money_recovered("2026", unit(CITY)) == Decimal("1880.50")
    assert calculators.money_recovered("2026-09", unit(CITY)) is None


def test_the_indicators_are_loaded_once_and_recomputed_from_the_calculators(personas):
    closed(dt.date(2026, 10, 10), outcome=Case.Outcome.AGREEMENT, amount_recovered=Decimal("42"))
    mediating = make_case(status=Case.Status.MEDIATING)
    step(mediating, "agree", dt.date(2026, 10, 12), personas["kaiyuan"], agreement_kind="record")
    assert calculators.load_indicators() == len(calculators.INDICATORS)
    assert calculators.load_indicators() == 0
    indicator = Indicator.objects.get(code="complaints_money_recovered")
    assert (indicator.owner_unit.name, indicator.unit) == (CITY, "元")
    call_command("recompute_indicators", "--period", "2026", stdout=StringIO())
    values = dict(
        IndicatorValue.objects.filter(
            period="2026", indicator__code__startswith="complaints_"
        ).values_list("indicator__code", "value")
    )
    assert values == {
        "complaints_money_recovered": Decimal("42.00"),
        "complaints_mediation_success": Decimal("100.00"),
    }
