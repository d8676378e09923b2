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
