"""Parsing the Tieling plan against reading and decoding the file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from benchmarks._common import best_of, case

SEED = Path(__file__).resolve().parents[1] / "qcity/plans/data/tieling-quality-city-plan-2023.txt"


def cases() -> Iterator[dict]:
    from qcity.plans.parser import parse_plan_text, read_plan_text

    text = read_plan_text(SEED)
    decode = best_of(lambda: read_plan_text(SEED), 20)
    parse = best_of(lambda: parse_plan_text(text), 20)
    yield case("parser: parse the Tieling plan vs read and decode it", 1, parse, decode)
