"""The XLSX export (write-only, every cell made inert) against openpyxl's ordinary mode.

The baseline is what ``core.exports`` did before: a normal workbook holding every
cell in memory, values handed over unchanged. Both write the same rows of
plan-like text; ``peak_mib`` is tracemalloc's peak for one run of each.
"""

from __future__ import annotations

import io
import os
import tracemalloc
from collections.abc import Callable, Iterator

from benchmarks._common import best_of, case

COLUMNS = 7


def _rows(n: int) -> Iterator[list]:
    for i in range(n):
        yield [
            f"（{i % 8 + 1}）章节标题",
            i + 1,
            "=1+1" if i % 10 == 0 else f"举措标题 {i}",
            "市市场监管局",
            "市市场监管局、市工业和信息化局、市农业农村局",
            "食品抽检合格率≥98%（2025年）",
            "推动高质量技术创新成果持续供给，鼓励引导高校、科研院所与企业联合攻关。" * 3,
        ]


def _peak_mib(fn: Callable[[], object]) -> float:
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1024 / 1024


def cases() -> Iterator[dict]:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    from qcity.core.exports import Column, build_xlsx

    n = int(os.environ.get("QCITY_BENCH_EXPORT_ROWS", "20000"))
    columns = [Column(f"列{i}") for i in range(COLUMNS)]

    def ours() -> None:
        build_xlsx("标题", "任务分解表", columns, _rows(n), max_rows=n)

    def baseline() -> None:  # the build_xlsx this module replaced, cell for cell
        wb = Workbook()
        ws = wb.active
        ws.append(["标题"])
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=COLUMNS)
        ws["A1"].font = Font(bold=True, size=14)
        ws.append([c.header for c in columns])
        for cell in ws[2]:
            cell.font = Font(bold=True)
        for row in _rows(n):
            ws.append(row)
        for index, column in enumerate(columns, start=1):
            ws.column_dimensions[get_column_letter(index)].width = column.width
        for row in ws.iter_rows(min_row=3):
            for cell in row:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
        ws.freeze_panes = "A3"
        wb.save(io.BytesIO())

    yield case(
        "exports: write-only inert XLSX vs openpyxl normal mode",
        n,
        best_of(ours, 3),
        best_of(baseline, 3),
        ours_peak_mib=round(_peak_mib(ours), 1),
        baseline_peak_mib=round(_peak_mib(baseline), 1),
    )
