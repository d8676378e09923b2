"""Chinese working days, from the editable holiday table.

The table starts as a copy of the ``chinese-calendar`` package's data and is
extended by an administrator when the State Council publishes a new year's
arrangement. A date in a year that is not in the table is an explicit error:
a legal deadline computed from a weekends-only guess would be silently wrong.
"""

from __future__ import annotations

import datetime as dt
import time

from django.db import transaction

from qcity.core.models import CalendarDay, CalendarYear

HOLIDAY_NAMES_ZH = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "Mid-autumn Festival": "中秋节",
    "National Day": "国庆节",
    "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}


class CalendarUnknown(Exception):
    """The date lies in a year whose holiday arrangement is not in the table."""

    code = "calendar_unknown"

    def __init__(self, day: dt.date) -> None:
        self.day = day
        super().__init__(
            f"{day.year} 年的节假日安排尚未录入，无法计算 {day.isoformat()} 起的工作日"
        )


class _Calendar:
    def __init__(self) -> None:
        self.years = set(CalendarYear.objects.values_list("year", flat=True))
        self.exceptions = dict(CalendarDay.objects.values_list("date", "is_workday"))

    def is_workday(self, day: dt.date) -> bool:
        if day.year not in self.years:
            raise CalendarUnknown(day)
        if day in self.exceptions:
            return self.exceptions[day]
        return day.weekday() < 5


# The table changes a few times a year. Each process keeps a copy for at most
# CACHE_SECONDS; an edit made in this process (admin, load_calendar) drops the
# copy at once through core.signals, other processes see it within the TTL.
CACHE_SECONDS = 60
_cache: tuple[float, _Calendar] | None = None


def invalidate() -> None:
    global _cache
    _cache = None


def _calendar() -> _Calendar:
    global _cache
    now = time.monotonic()
    if _cache is None or now - _cache[0] > CACHE_SECONDS:
        _cache = (now, _Calendar())
    return _cache[1]


def is_workday(day: dt.date) -> bool:
    return _calendar().is_workday(day)


def add_workdays(start: dt.date, n: int) -> dt.date:
    """The n-th working day after ``start``: day 1 is the next working day.

    ``start`` itself never counts, even when it is a working day, which is
    how 期间 are counted under Chinese administrative law (开始的当日不计入).
    """
    if n < 1:
        raise ValueError("n must be at least 1")
    calendar = _calendar()
    if start.year not in calendar.years:
        raise CalendarUnknown(start)
    day, counted = start, 0
    while counted < n:
        day += dt.timedelta(days=1)
        if calendar.is_workday(day):
            counted += 1
    return day


def workdays_between(start: dt.date, end: dt.date) -> int:
    """Working days after ``start`` up to and including ``end``."""
    calendar = _calendar()
    count, day = 0, start
    while day < end:
        day += dt.timedelta(days=1)
        if calendar.is_workday(day):
            count += 1
    return count


@transaction.atomic
def load_chinese_calendar(source: str = "chinese-calendar") -> tuple[int, int]:
    """Copy the package's data into the table; rows edited by hand are kept.

    Returns (years added, days added). Idempotent.
    """
    import chinese_calendar

    known_days = set(CalendarDay.objects.values_list("date", flat=True))
    new_days = [
        CalendarDay(
            date=d, is_workday=False, name=HOLIDAY_NAMES_ZH.get(name, name or ""), source=source
        )
        for d, name in chinese_calendar.holidays.items()
        if d not in known_days
    ] + [
        CalendarDay(
            date=d,
            is_workday=True,
            name=f"{HOLIDAY_NAMES_ZH.get(name, name or '')}调休上班",
            source=source,
        )
        for d, name in chinese_calendar.workdays.items()
        if d not in known_days and d.weekday() >= 5
    ]
    # chinese_calendar.holidays also lists ordinary weekends inside a festival;
    # they are stored too so a festival reads as one block in the admin.
    CalendarDay.objects.bulk_create(new_days, batch_size=500)
    all_dates = list(chinese_calendar.holidays) + list(chinese_calendar.workdays)
    years = range(min(all_dates).year, max(all_dates).year + 1)
    known_years = set(CalendarYear.objects.values_list("year", flat=True))
    new_years = [
        CalendarYear(year=y, source=f"{source} {chinese_calendar.__version__}")
        for y in years
        if y not in known_years
    ]
    CalendarYear.objects.bulk_create(new_years)
    invalidate()  # bulk_create sends no signals
    return len(new_years), len(new_days)
