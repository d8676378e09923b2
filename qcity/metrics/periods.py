"""Period keys: "2025" (yearly), "2025Q1" (quarterly), "2025-03" (monthly)."""

from __future__ import annotations

import calendar
import datetime as dt
import re

from qcity.metrics.models import PeriodType

MIN_YEAR, MAX_YEAR = 2000, 2099

_PATTERNS = {
    PeriodType.YEARLY: (re.compile(r"^(\d{4})$"), "2025"),
    PeriodType.QUARTERLY: (re.compile(r"^(\d{4})Q([1-4])$"), "2025Q1"),
    PeriodType.MONTHLY: (re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$"), "2025-03"),
}


class PeriodError(ValueError):
    code = "invalid_period"


def period_end(period_type: str, key: str) -> dt.date:
    """The last day of the period ``key``; ``PeriodError`` (Chinese) if it is malformed."""
    pattern, example = _PATTERNS[PeriodType(period_type)]
    match = pattern.match(key or "")
    label = PeriodType(period_type).label
    if not match:
        raise PeriodError(f"统计期“{key}”的格式不对：{label}指标的统计期写作 {example}")
    year = int(match.group(1))
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise PeriodError(f"统计期“{key}”的年份应在 {MIN_YEAR}–{MAX_YEAR} 之间")
    if period_type == PeriodType.YEARLY:
        return dt.date(year, 12, 31)
    month = int(match.group(2)) * 3 if period_type == PeriodType.QUARTERLY else int(match.group(2))
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def period_bounds(period: str) -> tuple[dt.date, dt.date]:
    """First and last day of a period key: "2026", "2026Q3" or "2026-09"."""
    if "Q" in period:
        kind = PeriodType.QUARTERLY
    elif "-" in period:
        kind = PeriodType.MONTHLY
    else:
        kind = PeriodType.YEARLY
    end = period_end(kind, period)
    if kind == PeriodType.YEARLY:
        start = dt.date(end.year, 1, 1)
    elif kind == PeriodType.QUARTERLY:
        start = dt.date(end.year, end.month - 2, 1)
    else:
        start = end.replace(day=1)
    return start, end


def current_period(period_type: str, today: dt.date) -> str:
    """The period that contains ``today``."""
    if period_type == PeriodType.YEARLY:
        return f"{today.year}"
    if period_type == PeriodType.QUARTERLY:
        return f"{today.year}Q{(today.month - 1) // 3 + 1}"
    return f"{today.year}-{today.month:02d}"
