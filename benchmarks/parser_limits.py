"""Refusing a 1 GiB .docx bomb against reading the (small) Tieling plan.

The bomb is built in a temporary directory the way tests/plans/test_parser_limits.py
builds it; refusing it must cost about as much as reading a real plan, since
nothing is inflated.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

from benchmarks._common import best_of, case

SEED = Path(__file__).resolve().parents[1] / "qcity/plans/data/tieling-quality-city-plan-2023.txt"


def cases() -> Iterator[dict]:
    from qcity.plans.parser import PlanParseError, read_plan_text
    from tests.plans.test_parser_limits import write_deflate_bomb

    with tempfile.TemporaryDirectory() as tmp:
        bomb = Path(tmp) / "bomb.docx"
        chunk = b"<w:p/>" * (1 << 20)
        write_deflate_bomb(bomb, "word/document.xml", chunk, -(-(1 << 30) // len(chunk)))

        def refuse() -> None:
            try:
                read_plan_text(bomb)
            except PlanParseError:
                return
            raise AssertionError("the bomb was read")

        ours = best_of(refuse, 20)
        baseline = best_of(lambda: read_plan_text(SEED), 20)
        yield case(
            "parser limits: refuse a 1 GiB docx bomb vs read the Tieling plan",
            1,
            ours,
            baseline,
            bomb_bytes=bomb.stat().st_size,
        )
