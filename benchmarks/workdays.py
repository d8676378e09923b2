"""Working-day arithmetic against a weekends-only loop (the wrong answer, as a floor)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from benchmarks._common import best_of, case

N = 200


def cases() -> Iterator[dict]:
    from qcity.core.workdays import add_workdays

    start = dt.date(2025, 9, 1)

    def naive() -> None:
        for i in range(N):
            day, counted = start + dt.timedelta(days=i), 0
            while counted < 20:
                day += dt.timedelta(days=1)
                counted += day.weekday() < 5

    def real() -> None:
        for i in range(N):
            add_workdays(start + dt.timedelta(days=i), 20)

    yield case(
        "workdays: add_workdays(+20) vs weekends-only loop", N, best_of(real), best_of(naive)
    )

    from qcity.core.workdays import deadline

    december = dt.date(2026, 12, 1)

    def provisional() -> None:
        # Runs into 2027, which is not in the table: weekends plus the Decree's holidays.
        for i in range(N):
            deadline(december + dt.timedelta(days=i % 31), 20)

    yield case(
        "workdays: deadline(+20) into a provisional year vs weekends-only loop",
        N,
        best_of(provisional),
        best_of(naive),
        note="each call includes the calendar-version check (one primary-key query)",
    )
