"""One way to turn a list a user sees into an XLSX download.

Every export goes through ``xlsx_response``: the caller passes rows it has
already read through the data scope, and the export is audited (what was
exported, by whom, how many rows) like any other disclosure of data.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import quote

from django.db import models
from django.http import HttpRequest, HttpResponse
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from qcity.core import audit

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Column:
    header: str
    width: int = 16


def build_xlsx(
    title: str, sheet: str, columns: Sequence[Column], rows: Iterable[Sequence]
) -> tuple[bytes, int]:
    """A workbook with a title row, a bold header row and wrapped, top-aligned cells."""
    wb = Workbook()
    ws = wb.active
    ws.title = sheet[:31]  # Excel's limit
    ws.append([title])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=max(len(columns), 1))
    ws["A1"].font = Font(bold=True, size=14)
    ws.append([c.header for c in columns])
    for cell in ws[2]:
        cell.font = Font(bold=True)
    count = 0
    for row in rows:
        ws.append(list(row))
        count += 1
    for index, column in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(index)].width = column.width
    for row in ws.iter_rows(min_row=3):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "A3"
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue(), count


def xlsx_response(
    request: HttpRequest,
    *,
    what: str,
    obj: models.Model | None,
    title: str,
    sheet: str,
    columns: Sequence[Column],
    rows: Iterable[Sequence],
    filename: str,
) -> HttpResponse:
    content, count = build_xlsx(title, sheet, columns, rows)
    audit.record(
        "export.xlsx",
        by=request.user,
        obj=obj,
        ip=request.META.get("REMOTE_ADDR"),
        details={"what": what, "rows": count},
    )
    response = HttpResponse(content, content_type=XLSX)
    ascii_name = "export.xlsx" if not filename.isascii() else filename
    response["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    )
    return response
