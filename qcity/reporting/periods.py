"""Reporting periods: which dates a monthly, quarterly, half-yearly or yearly cycle covers."""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _


class Frequency(models.TextChoices):
    MONTHLY = "monthly", _("月报")
    QUARTERLY = "quarterly", _("季报")
    HALF_YEARLY = "half_yearly", _("半年报")
    YEARLY = "yearly", _("年报")


PERIODS_PER_YEAR = {
    Frequency.MONTHLY: 12,
    Frequency.QUARTERLY: 4,
    Frequency.HALF_YEARLY: 2,
    Frequency.YEARLY: 1,
}

# The earliest and latest years a cycle may cover: a plan runs for a few years, and a
# year outside this window is a typing error, not a plan.
FIRST_YEAR, LAST_YEAR = 2000, 2100


class PeriodInvalid(ValueError):
    """A period that does not exist (第5季度, 2026年13月); the message is Chinese."""


@dataclass(frozen=True)
class Period:
    frequency: str
    year: int
    number: int
    start: dt.date
    end: dt.date
    label: str


def period(frequency: str, year: int, number: int) -> Period:
    """The dates and the Chinese name of one reporting period."""
    if frequency not in PERIODS_PER_YEAR:
        raise PeriodInvalid(f"未知的报送频次“{frequency}”")
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise PeriodInvalid(f"年份 {year} 不在 {FIRST_YEAR}–{LAST_YEAR} 之间")
    count = PERIODS_PER_YEAR[frequency]
    if not 1 <= number <= count:
        raise PeriodInvalid(
            f"{Frequency(frequency).label}的期数应在 1–{count} 之间，填写的是 {number}"
        )
    months = 12 // count
    first_month = (number - 1) * months + 1
    last_month = first_month + months - 1
    start = dt.date(year, first_month, 1)
    end = dt.date(year, last_month, calendar.monthrange(year, last_month)[1])
    if frequency == Frequency.MONTHLY:
        label = f"{year}年{number}月"
    elif frequency == Frequency.QUARTERLY:
        label = f"{year}年第{number}季度"
    elif frequency == Frequency.HALF_YEARLY:
        label = f"{year}年{'上' if number == 1 else '下'}半年"
    else:
        label = f"{year}年度"
    return Period(frequency, year, number, start, end, label)
