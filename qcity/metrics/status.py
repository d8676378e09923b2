"""A target's status, derived from values, never typed in (ADR 0021).

Reading of a comparator (ADR 0008): ``>=``/``>`` are met from above, ``<=``/``<``
from below; ``=`` ("达到 X") is a quantity to reach in the indicator's direction:
at least X when higher is better, at most X (零发生) when lower is better.

The path is the straight line from the baseline value (at its date) to the
target value (at the end of the deadline year). At the latest value's date:

- achieved: the latest value meets the target;
- on track: it is at or beyond the path value (in the good direction);
- at risk: behind the path by at most ``TOLERANCE`` × the gap still remaining
  between the path and the target at that date;
- off track: further behind; at or after the deadline, anything not achieved.

No latest value: no data. No baseline (or a baseline not before the deadline):
the path is the target itself, so not achieved is off track.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _

from qcity.metrics.models import Direction

TOLERANCE = Decimal("0.25")


class Status(models.TextChoices):
    ACHIEVED = "achieved", _("已实现")
    ON_TRACK = "on_track", _("进展正常")
    AT_RISK = "at_risk", _("存在风险")
    OFF_TRACK = "off_track", _("严重滞后")
    NO_DATA = "no_data", _("暂无数据")


def direction_for(comparator: str, target_value: Decimal, baseline_value: Decimal | None) -> str:
    """Which way is better, from the comparator; ``=`` asks the baseline, else 0 means fewer."""
    if comparator in (">=", ">"):
        return Direction.HIGHER
    if comparator in ("<=", "<"):
        return Direction.LOWER
    if baseline_value is not None and baseline_value != target_value:
        return Direction.HIGHER if target_value > baseline_value else Direction.LOWER
    return Direction.LOWER if target_value == 0 else Direction.HIGHER


def meets(value: Decimal, comparator: str, target_value: Decimal, direction: str) -> bool:
    if comparator == ">":
        return value > target_value
    if comparator == "<":
        return value < target_value
    if comparator == ">=" or (comparator == "=" and direction == Direction.HIGHER):
        return value >= target_value
    return value <= target_value


def path_value(
    baseline_value: Decimal,
    baseline_date: dt.date,
    target_value: Decimal,
    deadline: dt.date,
    on: dt.date,
) -> Decimal:
    """The straight path's value on ``on`` (clamped to the baseline and the target)."""
    span = (deadline - baseline_date).days
    if span <= 0:
        return target_value
    share = Decimal(min(max((on - baseline_date).days, 0), span)) / Decimal(span)
    return baseline_value + (target_value - baseline_value) * share


def target_status(
    target_value: Decimal,
    comparator: str,
    baseline_value: Decimal | None,
    baseline_date: dt.date | None,
    deadline_date: dt.date,
    latest_value: Decimal | None,
    latest_date: dt.date | None,
    *,
    direction: str | None = None,
) -> Status:
    if latest_value is None or latest_date is None:
        return Status.NO_DATA
    direction = direction or direction_for(comparator, target_value, baseline_value)
    if meets(latest_value, comparator, target_value, direction):
        return Status.ACHIEVED
    if latest_date >= deadline_date:
        return Status.OFF_TRACK
    if baseline_value is None or baseline_date is None:
        expected = target_value
    else:
        expected = path_value(
            baseline_value, baseline_date, target_value, deadline_date, latest_date
        )
    sign = 1 if direction == Direction.HIGHER else -1
    behind = sign * (expected - latest_value)
    if behind <= 0:
        return Status.ON_TRACK
    if behind <= TOLERANCE * abs(target_value - expected):
        return Status.AT_RISK
    return Status.OFF_TRACK
