"""What the parser returns: the Parsed* dataclasses, PlanParseError and plan_to_dict.

Kept apart so every other module (and callers such as ``plans.services``) can
depend on the result types without pulling in any parsing code.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


class PlanParseError(Exception):
    """A document that cannot be read as a plan; ``code`` is stable, ``message`` is for people."""

    code: str  # empty_file, binary_file, pdf_no_text, unsupported_format, undecodable_text,
    # corrupt_file, no_measures, file_not_found, not_a_file, too_large, zip_bomb,
    # too_many_paragraphs, too_complex, too_many_pages (see limits)
    message: str  # one line of 简体中文 naming the problem (and the file)

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[type[PlanParseError], tuple[str, str]]:
        return (type(self), (self.code, self.message))  # survives pickling (e.g. task queues)


@dataclass
class ParsedMeasure:
    number: int
    title: str
    text: str
    responsible_units: list[str] = field(default_factory=list)
    lead_units: list[str] = field(default_factory=list)
    units_text: str = ""


@dataclass
class ParsedChapter:
    number: int
    heading: str
    measures: list[ParsedMeasure] = field(default_factory=list)
    # The numbering as written (（一）, 一、, 第一部分), shown instead of the bare number.
    label: str = ""


@dataclass
class ParsedTarget:
    text: str
    indicator: str
    value: int | float | None  # None for a qualitative goal (qualitative_targets)
    unit: str
    comparator: str
    year: int | None
    measure_number: int | None = None
    sentence: str = ""


@dataclass
class ParsedPlan:
    title: str
    issuer: str
    chapters: list[ParsedChapter] = field(default_factory=list)
    targets: list[ParsedTarget] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    # Goals without a number (满意度达到全省平均水平), assessed by a person: value None.
    qualitative_targets: list[ParsedTarget] = field(default_factory=list)


def plan_to_dict(plan: ParsedPlan) -> dict:
    """JSON-ready dict of a parsed plan (the shape ``qcity parse_plan`` prints).

    The dataclass fields are the documented keys; measures also carry ``text``
    and ``units_text``, targets ``measure_number`` and ``sentence``.
    """
    return asdict(plan)
