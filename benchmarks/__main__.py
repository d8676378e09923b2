"""`make bench`: each measurement is a ratio against a baseline timed in the same run.

Absolute times depend on the machine; the ratio says what a mechanism costs
over the simplest thing that does the same amount of work.

Runs on a throwaway SQLite file under a temp dir unless DATABASE_URL is set.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPEATS = 5


def best_of(fn: Callable[[], object], repeats: int = REPEATS) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def setup_django() -> None:
    if "DATABASE_URL" not in os.environ:
        os.environ["QCITY_VAR_DIR"] = tempfile.mkdtemp(prefix="qcity-bench-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qcity.settings")
    import django

    django.setup()
    from django.core.management import call_command

    devnull = open(os.devnull, "w")
    call_command("migrate", verbosity=0, stdout=devnull)
    call_command("load_defaults", stdout=devnull, stderr=devnull)


def grow_plan(extra_measures: int) -> None:
    """Add synthetic measures so scope filtering works on a realistic table size."""
    from qcity.core.models import OrgUnit
    from qcity.plans.models import Measure, Plan, Responsibility

    plan = Plan.objects.get()
    chapter = plan.chapters.first()
    units = list(OrgUnit.objects.filter(kind="department"))
    start = plan.measures.count()
    measures = Measure.objects.bulk_create(
        Measure(
            plan=plan,
            chapter=chapter,
            seq=start + i + 1,
            number=start + i + 1,
            title=f"合成举措 {i}",
            text="用于基准测试的合成举措。",
        )
        for i in range(extra_measures)
    )
    Responsibility.objects.bulk_create(
        Responsibility(
            measure=m,
            org_unit=units[(i + k) % len(units)],
            written_name=units[(i + k) % len(units)].name,
            order=k + 1,
        )
        for i, m in enumerate(measures)
        for k in range(3)
    )


def bench_scope() -> dict:
    from qcity.core.models import Role, User
    from qcity.core.scope import scoped
    from qcity.plans.models import Measure

    liaison = User.objects.filter(role=Role.DEPARTMENT_LIAISON).first()
    bare = best_of(lambda: list(Measure.objects.values_list("id", flat=True)))
    filtered = best_of(
        lambda: list(scoped(liaison, Measure.objects.all()).values_list("id", flat=True))
    )
    return {
        "name": "scoped measure list (liaison) vs bare scan",
        "baseline_s": bare,
        "measured_s": filtered,
        "rows": Measure.objects.count(),
    }


def bench_audit(n: int = 300) -> dict:
    from django.db import transaction

    from qcity.core import audit
    from qcity.core.models import DictionaryItem

    counter = iter(range(10**9))

    def plain() -> None:
        with transaction.atomic():
            for _ in range(n):
                DictionaryItem(dictionary="bench", code=str(next(counter)), label="x").save()

    def chained() -> None:
        with transaction.atomic():
            for i in range(n):
                audit.record("bench.event", by=None, details={"i": i})

    return {
        "name": f"audit.record x{n} (hash chain + head lock) vs plain ORM inserts",
        "baseline_s": best_of(plain),
        "measured_s": best_of(chained),
    }


def bench_verify() -> dict:
    from qcity.core.audit import verify_chain
    from qcity.core.models import AuditEvent

    rows = AuditEvent.objects.count()
    scan = best_of(lambda: sum(1 for _ in AuditEvent.objects.order_by("seq").iterator(2000)), 3)
    verify = best_of(verify_chain, 3)
    return {
        "name": "verify_audit vs plain ordered scan of the audit table",
        "baseline_s": scan,
        "measured_s": verify,
        "rows": rows,
    }


def bench_parser() -> dict:
    from qcity.plans.parser import parse_plan_text, read_plan_text

    seed = (
        Path(__file__).resolve().parents[1] / "qcity/plans/data/tieling-quality-city-plan-2023.txt"
    )
    text = read_plan_text(seed)
    decode = best_of(lambda: read_plan_text(seed), 20)
    parse = best_of(lambda: parse_plan_text(text), 20)
    return {
        "name": "parse the Tieling plan vs reading and decoding the file",
        "baseline_s": decode,
        "measured_s": parse,
    }


def bench_workdays(n: int = 200) -> dict:
    import datetime as dt

    from qcity.core.workdays import add_workdays

    start = dt.date(2025, 9, 1)

    def naive() -> None:  # weekends only, no table: the wrong answer, as a floor
        for i in range(n):
            day, counted = start + dt.timedelta(days=i), 0
            while counted < 20:
                day += dt.timedelta(days=1)
                counted += day.weekday() < 5

    def real() -> None:
        for i in range(n):
            add_workdays(start + dt.timedelta(days=i), 20)

    return {
        "name": f"add_workdays(+20) x{n} vs weekends-only loop",
        "baseline_s": best_of(naive),
        "measured_s": best_of(real),
    }


def main() -> int:
    setup_django()
    grow_plan(int(os.environ.get("QCITY_BENCH_MEASURES", "5000")))
    results = [bench_scope(), bench_audit(), bench_verify(), bench_parser(), bench_workdays()]
    print(f"{'benchmark':<68} {'baseline':>10} {'measured':>10} {'ratio':>7}")
    for r in results:
        r["ratio"] = r["measured_s"] / r["baseline_s"]
        print(
            f"{r['name']:<68} {r['baseline_s'] * 1000:>8.2f}ms {r['measured_s'] * 1000:>8.2f}ms "
            f"{r['ratio']:>6.1f}x"
        )
    out = Path(os.environ.get("QCITY_BENCH_OUT", "var/bench.json"))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
