"""Chinese working days, from the editable holiday table.

The table starts as a copy of the ``chinese-calendar`` package's data and is
extended by the system administrator when the State Council publishes a new
year's arrangement (the admin form 录入年度节假日安排). Two kinds of callers:

- ``deadline(start, n, rule=...)`` is what legal deadlines use. Past the known
  calendar it never stops intake: it counts weekends and the holidays that
  《全国年节及纪念日放假办法》 fixes and marks the result ``provisional``; entering
  the year recomputes such deadlines through ``register_provisional`` (ADR 0012).
- ``is_workday``, ``add_workdays`` and ``workdays_between`` insist on a known
  calendar by default and raise ``CalendarUnknown`` otherwise (for statistics and
  anything that must not rest on a guess); ``allow_provisional=True`` lifts that.

Every write to the table bumps ``CalendarVersion`` in the same transaction; each
computation compares its process's cached table with that row (one primary-key
query), so no process computes from a stale or rolled-back calendar (ADR 0005).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.db import IntegrityError, connection, models, transaction
from django.db.models import F
from django.utils import timezone
from lunardate import LunarDate

from qcity.core.models import CalendarDay, CalendarVersion, CalendarYear

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

ONE_DAY = dt.timedelta(days=1)


class CalendarUnknown(Exception):
    """The date lies in a year whose holiday arrangement is not in the table."""

    code = "calendar_unknown"

    def __init__(self, day: dt.date) -> None:
        self.day = day
        super().__init__(
            f"{day.year} 年的节假日安排尚未录入，无法计算 {day.isoformat()} 起的工作日"
        )


# --- the statutory holidays: what a provisional year is computed from ------------------------

# 《全国年节及纪念日放假办法》: Decree 644 was in force 2014-2024 (春节 初一至初三, 劳动节
# 1 day); Decree 795 from 2025-01-01 adds 除夕 and 5月2日. Earlier years are not
# computed: the table covers them. lunardate's tables end with 2099.
DECREE_644_FROM = 2014
DECREE_795_FROM = 2025
PROVISIONAL_LAST_YEAR = 2099


def qingming(year: int) -> dt.date:
    """The day of 清明 (the sun at ecliptic longitude 15°, Beijing time), 2000-2099.

    The 寿星通式 for the solar terms: day = ⌊Y·D + C⌋ − ⌊Y/4⌋ with Y = year mod 100,
    D = 0.2422 and C = 4.81 for 清明 in the 21st century (always April 4, 5 or 6).
    tests/core/test_workdays.py checks it against chinese-calendar for 2015-2026.
    """
    if not 2000 <= year <= 2099:
        raise ValueError("清明 is computed for 2000-2099 only")
    y = year % 100
    return dt.date(year, 4, int(y * 0.2422 + 4.81) - y // 4)


@lru_cache(maxsize=128)
def statutory_holidays(year: int) -> dict[dt.date, str]:
    """The days off that the Decree fixes for ``year``, with their names.

    What it cannot know: 补休 (a rest day moved to a nearby working day when a
    holiday falls on a weekend) and 调休上班 (make-up working weekends); only the
    State Council's yearly notice says those.
    """
    if not DECREE_644_FROM <= year <= PROVISIONAL_LAST_YEAR:
        raise CalendarUnknown(dt.date(year, 1, 1))
    days: dict[dt.date, str] = {}

    def add(day: dt.date, name: str) -> None:
        # 中秋 can fall on 1 October (2020): one day, both names.
        days[day] = f"{days[day]}、{name}" if day in days else name

    add(dt.date(year, 1, 1), "元旦")
    new_year = LunarDate(year, 1, 1).to_solar_date()
    first = new_year - ONE_DAY if year >= DECREE_795_FROM else new_year  # 除夕 from 2025
    for i in range((new_year - first).days + 3):
        add(first + dt.timedelta(days=i), "春节")
    add(qingming(year), "清明节")
    for day in range(1, 3 if year >= DECREE_795_FROM else 2):
        add(dt.date(year, 5, day), "劳动节")
    add(LunarDate(year, 5, 5).to_solar_date(), "端午节")
    add(LunarDate(year, 8, 15).to_solar_date(), "中秋节")
    for day in range(1, 4):
        add(dt.date(year, 10, day), "国庆节")
    return days


# --- the cached table, checked against the version row ---------------------------------------


class Calendar:
    """One state of the holiday table, as checked against the version row.

    ``snapshot()`` hands one out for many computations in a row (a list page's
    overdue counts): one version check for all of them, all from the same calendar.
    """

    def __init__(self, version: int, stamp: str) -> None:
        self.version = version
        self.stamp = stamp
        self.years = frozenset(CalendarYear.objects.values_list("year", flat=True))
        self.exceptions = dict(CalendarDay.objects.values_list("date", "is_workday"))

    def is_known(self, year: int) -> bool:
        return year in self.years

    def is_workday(self, day: dt.date, *, allow_provisional: bool = False) -> bool:
        if day in self.exceptions and (allow_provisional or day.year in self.years):
            # In a provisional year a row entered by hand (a local closure) still counts.
            return self.exceptions[day]
        if day.year in self.years:
            return day.weekday() < 5
        if not allow_provisional:
            raise CalendarUnknown(day)
        return day.weekday() < 5 and day not in statutory_holidays(day.year)

    def is_holiday(self, day: dt.date) -> bool:
        """Is ``day`` a statutory holiday (a day off the State Council's notice names)?

        Ordinary weekends are not; 补休 days and the weekend days inside a holiday block are
        (the notice lists them). Past the known calendar: the Decree's fixed holidays only.
        """
        if day.year in self.years:
            return self.exceptions.get(day) is False
        return day in statutory_holidays(day.year)

    def add(self, start: dt.date, n: int, *, allow_provisional: bool = False) -> dt.date:
        if n < 1:
            raise ValueError("n must be at least 1")
        if not allow_provisional and start.year not in self.years:
            raise CalendarUnknown(start)
        day, counted = start, 0
        while counted < n:
            day += ONE_DAY
            if self.is_workday(day, allow_provisional=allow_provisional):
                counted += 1
        return day

    def deadline(self, start: dt.date, n: int, *, rule: str = "") -> Deadline:
        due = self.add(start, n, allow_provisional=True)
        provisional = any(
            not self.is_known(year) for year in range((start + ONE_DAY).year, due.year + 1)
        )
        return Deadline(due=due, rule=rule, calendar_version=self.version, provisional=provisional)

    def between(self, start: dt.date, end: dt.date, *, allow_provisional: bool = False) -> int:
        if end < start:
            return -self.between(end, start, allow_provisional=allow_provisional)
        count, day = 0, start
        while day < end:
            day += ONE_DAY
            if self.is_workday(day, allow_provisional=allow_provisional):
                count += 1
        return count


class PackageCalendar(Calendar):
    """The ``chinese-calendar`` package's data, in memory, as calendar version "package".

    Only for the command line on a database that has not been migrated yet (``qcity
    deadline`` on a fresh clone): the same data ``load_calendar`` copies into the table.
    """

    def __init__(self) -> None:
        import chinese_calendar

        self.version = "package"  # type: ignore[assignment]
        self.stamp = ""
        self.exceptions = {day: False for day in chinese_calendar.holidays}
        self.exceptions.update(
            {day: True for day in chinese_calendar.workdays if day.weekday() >= 5}
        )
        days = list(chinese_calendar.holidays) + list(chinese_calendar.workdays)
        self.years = frozenset(range(min(days).year, max(days).year + 1))


_override: Calendar | None = None


@contextmanager
def using(calendar: Calendar) -> Iterator[None]:
    """Compute with ``calendar`` instead of the table inside the block (this thread's
    process only; for the command line, never for requests)."""
    global _override
    previous, _override = _override, calendar
    try:
        yield
    finally:
        _override = previous


_cache: Calendar | None = None


def invalidate() -> None:
    """Drop this process's copy; the next computation reloads it."""
    global _cache
    _cache = None


_VERSION_SQL = f"SELECT version, stamp FROM {CalendarVersion._meta.db_table} WHERE id = 1"


def _db_version() -> tuple[int, str]:
    # Runs before every computation: plain SQL costs a twentieth of building the ORM
    # query (about 40 µs against 900 µs on SQLite, measured by benchmarks/workdays.py).
    with connection.cursor() as cursor:
        cursor.execute(_VERSION_SQL)
        row = cursor.fetchone()
    return (row[0], row[1]) if row else (0, "")


def _calendar() -> Calendar:
    """This process's copy of the table, reloaded when the version row differs.

    The check is one primary-key query per computation: cheaper than any wrong
    legal deadline, and it makes an edit in another process visible at once.
    """
    global _cache
    if _override is not None:
        return _override
    current = _db_version()
    cached = _cache
    if cached is not None and (cached.version, cached.stamp) == current:
        return cached
    for _attempt in range(3):
        loaded = Calendar(*current)
        # A commit between reading the version and the tables would label newer
        # tables with the older version; read the version again to be sure.
        after = _db_version()
        if after == current:
            break
        current = after
    _cache = loaded
    return loaded


def snapshot() -> Calendar:
    """The current calendar, checked once, for a batch of computations."""
    return _calendar()


def current_version() -> int:
    """The calendar version a computation made now would use."""
    return _db_version()[0]


def bump_version() -> int:
    """Record that the holiday table changed; call it in the writing transaction.

    ``core.signals`` calls it for every save and delete of ``CalendarYear`` and
    ``CalendarDay``; bulk writes (``bulk_create``, ``update``) send no signals and
    must call it themselves. Returns the new version.
    """
    stamp = uuid.uuid4().hex
    with transaction.atomic():
        changed = CalendarVersion.objects.filter(pk=1).update(
            version=F("version") + 1, stamp=stamp, changed_at=timezone.now()
        )
        if not changed:
            # The migration creates the row; only a flushed test database lacks it.
            try:
                with transaction.atomic():
                    CalendarVersion.objects.create(
                        pk=1, version=1, stamp=stamp, changed_at=timezone.now()
                    )
            except IntegrityError:
                return bump_version()
        version = CalendarVersion.objects.filter(pk=1).values_list("version", flat=True).get()
    # Other processes notice through the version row; this one drops its copy
    # once the change is committed (a rollback discards the callback).
    transaction.on_commit(invalidate)
    return version


# --- what callers use -----------------------------------------------------------------------


@dataclass(frozen=True)
class Deadline:
    """A computed legal deadline and what it was computed from.

    ``provisional`` is true when the count ran into a year whose arrangement was
    not yet entered; such a deadline is shown as 暂定 and recomputed when the
    year is entered. Stored deadlines keep exactly these four attributes.
    """

    due: dt.date
    rule: str
    calendar_version: int
    provisional: bool

    def as_api(self) -> dict[str, Any]:
        return {
            "due": self.due.isoformat(),
            "rule": self.rule,
            "provisional": self.provisional,
            "calendar_version": self.calendar_version,
        }


def deadline(start: dt.date, n: int, *, rule: str = "") -> Deadline:
    """The n-th working day after ``start`` as a ``Deadline``; never refuses a year.

    ``start`` itself never counts (开始的当日不计入). Past the known calendar the
    count is provisional (weekends and the statutory holidays only).
    """
    return _calendar().deadline(start, n, rule=rule)


def is_workday(day: dt.date, *, allow_provisional: bool = False) -> bool:
    return _calendar().is_workday(day, allow_provisional=allow_provisional)


def add_workdays(start: dt.date, n: int, *, allow_provisional: bool = False) -> dt.date:
    """The n-th working day after ``start``: day 1 is the next working day.

    ``start`` itself never counts, even when it is a working day, which is
    how 期间 are counted under Chinese administrative law (开始的当日不计入).
    Raises ``CalendarUnknown`` past the known calendar unless
    ``allow_provisional``; legal deadlines use ``deadline()`` instead.
    """
    return _calendar().add(start, n, allow_provisional=allow_provisional)


def workdays_between(start: dt.date, end: dt.date, *, allow_provisional: bool = False) -> int:
    """Working days after ``start`` up to and including ``end``; negative when end < start.

    So ``workdays_between(due, today)`` is how many working days a case is
    overdue when positive (overdue iff > 0; the day after a Friday deadline, a
    Saturday, is still 0), and minus the working days left up to and including
    the due day when negative.
    """
    return _calendar().between(start, end, allow_provisional=allow_provisional)


def first_unentered_year(today: dt.date) -> int | None:
    """The year whose arrangement the system administrator must enter now, if any.

    From 1 November of year Y the next year is due (the State Council's notice
    usually comes in November or December); the current year, if still missing,
    comes first.
    """
    calendar = _calendar()
    wanted = [today.year] + ([today.year + 1] if today.month >= 11 else [])
    return next((year for year in wanted if not calendar.is_known(year)), None)


# --- recomputing provisional deadlines when a year is entered ---------------------------------


@dataclass(frozen=True)
class Recomputed:
    """One stored deadline that a recomputer rewrote: on what, from what, to what."""

    obj: models.Model | None
    old: Deadline
    new: Deadline
    label: str = ""


Recomputer = Callable[[int], Iterable[Recomputed]]
_recomputers: list[Recomputer] = []


def register_provisional(recompute: Recomputer) -> Recomputer:
    """Register an app's recomputer (usable as a decorator, e.g. in ``AppConfig.ready``).

    When a year is entered, ``recompute(year)`` runs inside the entering
    transaction: it re-derives each of its provisional deadlines with
    ``deadline()``, saves the ones that changed and yields a ``Recomputed`` for
    each; ``core.services.recompute_provisional_deadlines`` audits them.
    """
    if recompute not in _recomputers:
        _recomputers.append(recompute)
    return recompute


def unregister_provisional(recompute: Recomputer) -> None:
    if recompute in _recomputers:
        _recomputers.remove(recompute)


def provisional_recomputers() -> list[Recomputer]:
    return list(_recomputers)


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
    if new_years or new_days:
        bump_version()  # bulk_create sends no signals
    return len(new_years), len(new_days)
