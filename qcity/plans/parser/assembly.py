"""Assembling the plan: text → ParsedPlan, using the other modules in order.

``parse_plan_text`` runs the pipeline (clean lines → title/preamble → outline →
chapters and measures → units → targets); the helpers here build each
ParsedChapter/ParsedMeasure and report what could not be read as ``problems``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from qcity.plans.parser import limits
from qcity.plans.parser.annex import _TaskTable
from qcity.plans.parser.lines import _clean_lines, _find_issuer, _split_preamble
from qcity.plans.parser.model import ParsedChapter, ParsedMeasure, ParsedPlan, PlanParseError
from qcity.plans.parser.outline import _build_tree, _heading_of, _mark_areas, _Node
from qcity.plans.parser.reading import read_plan_text
from qcity.plans.parser.selection import _find_chapters
from qcity.plans.parser.targets import (
    _RANGE_YEAR_RE,
    _first_goal_deadline,
    _goal_targets,
    _qualitative_goals,
    _targets_in,
)
from qcity.plans.parser.units import _dedupe, _find_clause, _parse_units


def parse_plan_text(text: str) -> ParsedPlan:
    """Parse a plan's text; raises PlanParseError("empty_file" / "no_measures" / a limit)."""
    limits.check_text(text or "")  # text may come without a file (a form, the API)
    lines, cruft = _clean_lines(text or "")
    if not lines:
        raise PlanParseError("empty_file", "文本为空，没有可解析的内容")
    title, preamble, body, annex, has_title_line = _split_preamble(lines)
    problems: list[str] = [] if title else ["未识别到方案标题"]

    root = _build_tree(body)
    _mark_areas(root)
    chapter_nodes, measure_rank = _find_chapters(root, plan_like=has_title_line)
    if not chapter_nodes:
        raise PlanParseError("no_measures", "未识别到任何措施条目，文本可能不是实施方案")
    chapters = _make_chapters(chapter_nodes, measure_rank, problems, _TaskTable(annex))

    # A target without its own deadline is due when the plan's goals are ("到2025年，…").
    range_year = _RANGE_YEAR_RE.search(title)
    single_years = re.findall(r"(?<![0-9])([12][0-9]{3})\s*年", title)  # "…2024年工作要点"
    if range_year:
        title_year: int | None = int(range_year.group(1))
    else:
        title_year = int(single_years[0]) if len(single_years) == 1 else None
    targets = _goal_targets(root, title_year)
    plan_year = _first_goal_deadline(root) or title_year
    for chapter in chapters:
        for measure in chapter.measures:
            targets.extend(_targets_in(measure.text, measure.number, None)[0])
    for target in targets:
        target.year = target.year or plan_year
    return ParsedPlan(
        title=title,
        issuer=_find_issuer(title, preamble, cruft),
        chapters=chapters,
        targets=targets,
        problems=problems,
        qualitative_targets=_qualitative_goals(root, plan_year),
    )


def _label_of(node: _Node) -> str:
    """The chapter's marker as written: the numbered line before its text."""
    line = node.raw.strip()
    at = line.find(node.first) if node.first else -1
    return line[:at].strip() if at > 0 else ""


def _make_chapters(
    nodes: list[_Node], measure_rank: int, problems: list[str], table: _TaskTable
) -> list[ParsedChapter]:
    chapters: list[ParsedChapter] = []
    issues: list[tuple[ParsedChapter, int, str]] = []
    groups = [
        [
            child
            for child in node.children
            if child.rank == measure_rank and child.area not in ("goals", "support", "general")
        ]
        for node in nodes
    ]
    all_numbers = [child.number for group in groups for child in group]
    # A table's 序号 can only stand for a measure when measures are numbered straight through.
    table.by_number = len(set(all_numbers)) == len(all_numbers)
    for node, group in zip(nodes, groups, strict=True):
        chapter = ParsedChapter(
            number=node.number if node.rank >= 0 else 1,
            heading=_heading_of(node.first) if node.rank >= 0 else "",
            label=_label_of(node) if node.rank >= 0 else "",
        )
        for child in group:
            measure, issue = _make_measure(child, table)
            chapter.measures.append(measure)
            if issue:
                issues.append((chapter, measure.number, issue))
        chapters.append(chapter)
    numbers = [m.number for c in chapters for m in c.measures]
    for chapter, number, issue in issues:
        # With numbering restarting per chapter "第2条" alone would be ambiguous.
        where = f"“{chapter.heading}”" if numbers.count(number) > 1 else ""
        problems.append(f"{where}第{number}条措施{issue}")
    _check_numbering(chapters, problems)
    return chapters


def _make_measure(node: _Node, table: _TaskTable) -> tuple[ParsedMeasure, str]:
    """The measure at ``node`` and, if its 责任单位 could not be read, what went wrong.

    Units written with the measure win; otherwise they come from the plan's
    任务分解表 when it has a row for the measure.
    """
    full = "\n".join(node.lines()).strip()
    span = _find_clause(full)
    text, issue = full, ""
    responsible: list[str] = []
    leads: list[str] = []
    rejected: list[str] = []
    clauses: list[str] = []
    # Steps "（1）…（责任单位：A）（2）…（责任单位：B）" each name their own units;
    # the measure is responsible for all of them.
    parts = ["\n".join([node.first, *node.content])]
    parts += ["\n".join([child.raw, *child.lines()[1:]]) for child in node.children]
    part_spans = [(part, _find_clause(part)) for part in parts]
    if sum(1 for _, found in part_spans if found) > 1:
        texts = []
        for part, found in part_spans:
            if found is not None:
                clauses.append(part[found[0] : found[1]].strip().rstrip("。").strip())
                part = part[: found[0]].rstrip() + part[found[1] :]
            texts.append(part.strip())
        text = "\n".join(t for t in texts if t).strip()
    elif span is not None:
        start, end = span
        clauses = [full[start:end].strip().rstrip("。").strip()]
        text = (full[:start].rstrip() + full[end:]).strip()
    else:
        clauses = [c for c in [table.units_for(_measure_title(full), node.number)] if c]
    units_text = "；".join(clauses)
    for clause in clauses:
        names, lead_names, bad = _parse_units(clause)
        responsible, leads = _dedupe([*responsible, *names]), _dedupe([*leads, *lead_names])
        rejected += bad
    if not units_text:
        issue = "未能识别责任单位（未找到责任单位）"
    elif not responsible:
        issue = f"未能识别责任单位：{units_text}"
    elif rejected:
        issue = f"责任单位中“{'、'.join(rejected)}”不像单位名称，已忽略"
    measure = ParsedMeasure(
        number=node.number,
        title=_measure_title(text),
        text=text,
        responsible_units=responsible,
        lead_units=leads,
        units_text=units_text,
    )
    return measure, issue


def _measure_title(text: str) -> str:
    first_line = text.split("\n", 1)[0]
    head = re.split(r"[。！？]", first_line, maxsplit=1)[0]
    colon = re.split(r"[：:]", head, maxsplit=1)
    if len(colon) == 2 and 2 <= len(colon[0]) <= 30:
        head = colon[0]  # "1.打造…新高地：推动…。"
    return head.strip().rstrip("，,；;、 ").strip()


def _check_numbering(chapters: list[ParsedChapter], problems: list[str]) -> None:
    numbers = [m.number for c in chapters for m in c.measures]
    straight = numbers == list(range(numbers[0], numbers[0] + len(numbers))) if numbers else True
    restarting = all(
        [m.number for m in c.measures] == list(range(1, len(c.measures) + 1)) for c in chapters
    )
    if not (straight or restarting):
        problems.append("措施编号不连续：" + "、".join(str(n) for n in numbers))
    chapter_numbers = [c.number for c in chapters]
    if len(set(chapter_numbers)) != len(chapter_numbers):
        # The rest of the project keys chapters by number, so they must be unique.
        problems.append("章节编号重复，已按出现顺序重新编号")
        for index, chapter in enumerate(chapters, start=1):
            chapter.number = index
    for chapter in chapters:
        if not chapter.measures:
            problems.append(f"章节“{chapter.heading}”下没有识别到措施")


def parse_plan_file(path: str | os.PathLike[str]) -> ParsedPlan:
    """Read and parse a plan file; errors name the file."""
    text = read_plan_text(path)
    try:
        return parse_plan_text(text)
    except PlanParseError as exc:
        name = Path(path).name
        if exc.code == "empty_file":
            raise PlanParseError("empty_file", f"文件为空：{name}") from None
        raise PlanParseError(exc.code, f"{exc.message}：{name}") from None
