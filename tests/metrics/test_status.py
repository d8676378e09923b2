"""Target status is derived from the straight path from baseline to target (ADR 0021)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from qcity.metrics.status import Status, target_status

BASE_DATE = dt.date(2022, 12, 31)
DEADLINE = dt.date(2025, 12, 31)
HALFWAY = dt.date(2024, 6, 30)  # 547 of 1096 days: the path stands at about 90 + 4.99


def status_at(latest: str, *, comparator: str = ">=", on: dt.date = HALFWAY) -> Status:
    # 食品抽检合格率: 90% in 2022, 稳定在 98% 以上 by 2025.
    return target_status(
        Decimal("98"), comparator, Decimal("90"), BASE_DATE, DEADLINE, Decimal(latest), on
    )


def test_it_is_achieved_when_the_latest_value_meets_the_target():
    assert status_at("98") == Status.ACHIEVED
    assert status_at("99.5") == Status.ACHIEVED


def test_it_is_on_track_at_or_beyond_the_path():
    assert status_at("95") == Status.ON_TRACK  # path ≈ 93.99
    assert status_at("93.993") == Status.ON_TRACK


def test_it_is_at_risk_a_little_behind_the_path():
    # Path ≈ 93.99, remaining gap ≈ 4.01, band ≈ 1.00: 93.2 is 0.79 behind.
    assert status_at("93.2") == Status.AT_RISK


def test_it_is_off_track_further_behind_the_path():
    assert status_at("91") == Status.OFF_TRACK


def test_it_is_off_track_when_the_deadline_passed_unmet():
    assert status_at("97.9", on=DEADLINE) == Status.OFF_TRACK


def test_it_has_no_data_without_a_value():
    assert target_status(Decimal(98), ">=", None, None, DEADLINE, None, None) == Status.NO_DATA


def test_a_zero_occurrence_target_is_met_from_below():
    # 重大安全责任事故零发生: "=" 0 reads as at most zero.
    def at(value: int) -> Status:
        return target_status(
            Decimal(0), "=", Decimal(0), BASE_DATE, DEADLINE, Decimal(value), HALFWAY
        )

    assert at(0) == Status.ACHIEVED
    assert at(1) == Status.OFF_TRACK


def test_a_quantity_to_reach_is_read_as_at_least():
    # 新建社会公用计量标准20项 ("=" 20): 21 is achieved too.
    assert (
        target_status(Decimal(20), "=", Decimal(0), BASE_DATE, DEADLINE, Decimal(21), HALFWAY)
        == Status.ACHIEVED
    )


def test_a_lower_is_better_target_follows_its_path_downwards():
    def at(value: str) -> Status:
        return target_status(
            Decimal(10), "<=", Decimal(30), BASE_DATE, DEADLINE, Decimal(value), HALFWAY
        )

    # Path ≈ 20.02; remaining gap ≈ 10.02, band ≈ 2.5.
    assert at("19") == Status.ON_TRACK
    assert at("21.5") == Status.AT_RISK
    assert at("25") == Status.OFF_TRACK
    assert at("10") == Status.ACHIEVED


RANK = {Status.OFF_TRACK: 0, Status.AT_RISK: 1, Status.ON_TRACK: 2, Status.ACHIEVED: 3}
values = st.decimals(min_value=0, max_value=100, places=2)
days = st.integers(min_value=0, max_value=(DEADLINE - BASE_DATE).days + 400)


@given(values, values, values, values, days)
def test_a_better_value_never_has_a_worse_status(target, baseline, low, high, day):
    low, high = sorted((low, high))
    on = BASE_DATE + dt.timedelta(days=day)
    worse = target_status(target, ">=", baseline, BASE_DATE, DEADLINE, low, on)
    better = target_status(target, ">=", baseline, BASE_DATE, DEADLINE, high, on)
    assert RANK[better] >= RANK[worse]


@given(values, values, values, st.integers(min_value=0, max_value=400))
def test_at_or_after_the_deadline_only_achieved_or_off_track(target, baseline, latest, extra):
    on = DEADLINE + dt.timedelta(days=extra)
    status = target_status(target, ">=", baseline, BASE_DATE, DEADLINE, latest, on)
    assert status == (Status.ACHIEVED if latest >= target else Status.OFF_TRACK)


@given(values, values, days)
def test_a_value_on_the_path_is_on_track_or_achieved(target, baseline, day):
    from qcity.metrics.status import path_value

    on = BASE_DATE + dt.timedelta(days=day)
    on_path = path_value(baseline, BASE_DATE, target, DEADLINE, on)
    status = target_status(target, ">=", baseline, BASE_DATE, DEADLINE, on_path, on)
    assert status in (Status.ON_TRACK, Status.ACHIEVED)
