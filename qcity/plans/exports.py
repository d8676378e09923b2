"""XLSX export of a plan's 任务分解表 (one row per measure)."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from qcity.plans.models import Measure, Plan

HEADERS = ["章节", "序号", "具体举措", "牵头单位", "责任单位", "目标", "举措内容"]
WIDTHS = [28, 6, 30, 20, 40, 40, 80]


def target_label(target) -> str:
    year = f"（{target.year}年）" if target.year else ""
    return f"{target.text}{year}"


def plan_breakdown_xlsx(plan: Plan, measures: list[Measure]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "任务分解表"
    ws.append([plan.title])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADERS))
    ws["A1"].font = Font(bold=True, size=14)
    ws.append(HEADERS)
    for cell in ws[2]:
        cell.font = Font(bold=True)
    for measure in measures:
        units = list(measure.responsibilities.all())
        ws.append(
            [
                f"（{measure.chapter.number}）{measure.chapter.heading}",
                measure.number,
                measure.title,
                "、".join(r.written_name for r in units if r.is_lead),
                "、".join(r.written_name for r in units),
                "\n".join(target_label(t) for t in measure.targets.all()),
                measure.text,
            ]
        )
    for index, width in enumerate(WIDTHS, start=1):
        ws.column_dimensions[get_column_letter(index)].width = width
    for row in ws.iter_rows(min_row=3):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "A3"
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
