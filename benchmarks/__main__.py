"""`make bench` runs every benchmark; `make bench BENCH=name` runs ``benchmarks/name.py``.

Each case prints one JSON line on stdout: ``{"name", "n", "ours_s", "baseline_s",
"ratio", ...}`` with ratio = ours ÷ baseline (lower is better). A table for people
follows on stderr. Runs on a throwaway SQLite database unless DATABASE_URL is set.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import sys
from pathlib import Path

from benchmarks._common import setup_django

HERE = Path(__file__).resolve().parent


def available() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules([str(HERE)]) if not m.name.startswith("_"))


def main(argv: list[str]) -> int:
    names = [a for a in argv if a] or available()
    unknown = [n for n in names if n not in available()]
    if unknown:
        print(
            f"unknown benchmark: {', '.join(unknown)} (available: {', '.join(available())})",
            file=sys.stderr,
        )
        return 2
    setup_django()
    results = []
    for name in names:
        module = importlib.import_module(f"benchmarks.{name}")
        for result in module.cases():
            result["ratio"] = result["ours_s"] / result["baseline_s"]
            print(json.dumps(result, ensure_ascii=False), flush=True)
            results.append(result)
    print(f"\n{'case':<70} {'n':>9} {'baseline':>11} {'ours':>11} {'ratio':>7}", file=sys.stderr)
    for r in results:
        print(
            f"{r['name']:<70} {r['n']:>9} {r['baseline_s'] * 1000:>9.2f}ms "
            f"{r['ours_s'] * 1000:>9.2f}ms {r['ratio']:>6.2f}x",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
