"""The plan's attached 任务分解表: units for measures that name none in the text.

Separate from ``units`` because it reads a different part of the document
(the annex, as tab-separated table rows) and matches rows to measures by task
name or number; the clause text it produces is then parsed like any other.
"""

from __future__ import annotations

import re

from qcity.plans.parser.outline import _to_ascii_digits
from qcity.plans.parser.units import _LABELS, _TIME_LABELS, _UNIT_LINE_RE


class _TaskTable:
    """The 任务分解表 attached to a plan ("附件：…重点任务分解表"), as its rows' units.

    Many plans name no 责任单位 in the text ("详见附件") and put them in a table
    instead: 序号 | 重点任务 | 工作内容 | 牵头单位 | 配合单位 | 完成时限. A row stands
    for the measure with the same task name, or else with the same number (only
    when the plan numbers its measures straight through). The table arrives as
    tab-separated lines (.docx, .html and Word's "save as text" all give that).
    """

    def __init__(self, lines: list[str]) -> None:
        self.by_number = False  # set once the plan's numbering is known
        self.rows: list[tuple[int, list[str], str]] = []  # (序号, task cells, units text)
        header: list[str] = []
        for line in lines:
            cells = [" ".join(c.split()) for c in line.split("\t")]
            if _table_unit_columns(cells):
                header = [c.replace(" ", "") for c in cells]  # "牵头 单位" wrapped in its cell
                if not any(re.search(r"任务|措施|举措|工作|事项", c) for c in header):
                    header = []  # a 指标表 (指标名称 | 目标值 | 责任单位) is not about measures
                continue
            number_col = next((i for i, c in enumerate(header) if c in ("序号", "编号")), 0)
            # Trailing empty cells are lost when a line is stripped; never guess more cells.
            if not header or len(cells) > len(header) or len(cells) <= number_col:
                continue
            cells += [""] * (len(header) - len(cells))
            if not re.fullmatch(r"[0-9０-９]{1,3}", cells[number_col]):
                continue  # a category row ("一\t提升产业质量") or a wrapped cell
            unit_cols = _table_unit_columns(header)
            units = "；".join(f"{header[i]}：{cells[i]}" for i in unit_cols if cells[i])
            tasks = [
                c
                for i, c in enumerate(cells)
                if i != number_col and i not in unit_cols and not _UNIT_LINE_RE.match(header[i])
            ]
            self.rows.append((int(_to_ascii_digits(cells[number_col])), tasks, units))

    def units_for(self, title: str, number: int) -> str:
        key = _plain(title)
        for _, tasks, units in self.rows:
            if key and any(_plain(task) == key for task in tasks):
                return units
        if self.by_number:
            for row_number, _, units in self.rows:
                if row_number == number:
                    return units
        return ""


def _table_unit_columns(cells: list[str]) -> list[int]:
    """Indices of a header row's unit columns (牵头单位, 配合单位, 责任单位…); [] if no header."""
    if len(cells) < 3:
        return []
    names = [cell.replace(" ", "") for cell in cells]
    return [
        i
        for i, name in enumerate(names)
        if re.fullmatch(rf"(?:{_LABELS})", name) and name not in _TIME_LABELS
    ]


def _plain(text: str) -> str:
    return re.sub(r"[\s\W_]+", "", text)
