"""Parse a Chinese government implementation plan (实施方案) into its structure.

The result is chapters → measures (with their 责任单位) and the plan's quantified
targets. The package is pure Python on purpose: it does not use Django or a
database, so ``qcity parse_plan FILE`` and the tests can run it anywhere.

How the structure is found (the genre varies from city to city, so nothing
depends on one document's exact numbering):

1. The file is decoded by its content (magic bytes), not its name.
2. Portal cruft and a 印发通知 in front of the plan are skipped: the plan starts
   at its own title line (…实施方案 / …行动计划 …).
3. Numbered lines (一、 (一) 1. (1) ①) build an outline tree.
4. Sections named like 指导思想/主要目标/保障措施 are set aside; the measure level
   is the outline level whose items each carry exactly one 责任单位 clause, and
   chapters are the headings above them. A plan without any 责任单位 falls back
   to the paragraphs under a section named 重点任务/具体举措/主要任务.
5. A measure that names no 责任单位 takes them from the plan's attached
   任务分解表 (附件), when it has one.
6. Targets are read from the goals section and from the measures' text.

Modules (each imports only those listed above it, so there are no cycles):

- ``model``: the Parsed* dataclasses, PlanParseError, plan_to_dict.
- ``limits``: file size, unpacked size, paragraphs, text length, PDF pages.
- ``outline``: markers, Chinese numerals, the outline tree, section kinds (step 3–4).
- ``lines``: clean lines, portal cruft, title, issuer, the annex boundary (step 2).
- ``units``: 责任单位 clauses and unit names.
- ``annex``: the attached 任务分解表 (step 5).
- ``targets``: numeric targets, comparators, deadlines (step 6).
- ``reading``: file bytes → text (step 1).
- ``selection``: which outline nodes are chapters and measures (step 4).
- ``assembly``: parse_plan_text / parse_plan_file, building the ParsedPlan.

Only the names in ``__all__`` are the public API; the underscored helpers are
shared between the package's modules and may change.
"""

from __future__ import annotations

from qcity.plans.parser.assembly import parse_plan_file, parse_plan_text
from qcity.plans.parser.model import (
    ParsedChapter,
    ParsedMeasure,
    ParsedPlan,
    ParsedTarget,
    PlanParseError,
    plan_to_dict,
)
from qcity.plans.parser.reading import read_plan_bytes, read_plan_text

__all__ = [
    "ParsedChapter",
    "ParsedMeasure",
    "ParsedPlan",
    "ParsedTarget",
    "PlanParseError",
    "parse_plan_file",
    "parse_plan_text",
    "plan_to_dict",
    "read_plan_bytes",
    "read_plan_text",
]
