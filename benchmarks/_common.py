"""What every benchmark shares: a throwaway database, a timer, synthetic plan rows.

A benchmark module (``benchmarks/<name>.py``) defines ``cases()``, an iterator
of dicts ``{"name", "n", "ours_s", "baseline_s", ...}``; the runner adds
``ratio`` (ours ÷ baseline, lower is better) and prints one JSON line per case.
Both timings come from the same run on the same machine, so the ratio is what
the mechanism costs over the simplest thing that does the same work.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable

REPEATS = 5


def best_of(fn: Callable[[], object], repeats: int = REPEATS) -> float:
    """The fastest of ``repeats`` runs: the least disturbed by the rest of the machine."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def case(name: str, n: int, ours_s: float, baseline_s: float, **extra: object) -> dict:
    return {"name": name, "n": n, "ours_s": ours_s, "baseline_s": baseline_s, **extra}


_ready = False


def setup_django() -> None:
    """Migrate a throwaway database (SQLite in a temp dir unless DATABASE_URL is set)
    and load the default data once per run."""
    global _ready
    if _ready:
        return
    if "DATABASE_URL" not in os.environ:
        os.environ["QCITY_VAR_DIR"] = tempfile.mkdtemp(prefix="qcity-bench-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qcity.settings")
    import django

    django.setup()
    from django.core.management import call_command

    devnull = open(os.devnull, "w")
    call_command("migrate", verbosity=0, stdout=devnull)
    call_command("load_defaults", stdout=devnull, stderr=devnull)
    _ready = True


def grow_plan(extra_measures: int) -> None:
    """Add synthetic measures (three responsible units each) to the bundled plan."""
    from qcity.core.models import OrgUnit
    from qcity.plans.models import Measure, Plan, Responsibility

    plan = Plan.objects.get()
    chapter = plan.chapters.first()
    units = list(OrgUnit.objects.filter(kind="department"))
    start = plan.measures.count()
    measures = Measure.objects.bulk_create(
        (
            Measure(
                plan=plan,
                chapter=chapter,
                seq=start + i + 1,
                number=start + i + 1,
                title=f"合成举措 {i}",
                text="用于基准测试的合成举措。",
            )
            for i in range(extra_measures)
        ),
        batch_size=2000,
    )
    Responsibility.objects.bulk_create(
        (
            Responsibility(
                measure=m,
                org_unit=units[(i + k) % len(units)],
                written_name=units[(i + k) % len(units)].name,
                order=k + 1,
            )
            for i, m in enumerate(measures)
            for k in range(3)
        ),
        batch_size=2000,
    )
