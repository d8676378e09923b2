"""One way to turn a list a user sees into a downloadable file.

Every export goes through ``xlsx_response``: the caller passes rows it has
already read through the data scope, and the export is audited (what was
exported, by whom, how many rows) like any other disclosure of data.

Text in an export is data, never a formula: names and titles come from plan
files and, later, from the public, so ``=HYPERLINK(…)`` or ``@SUM(…)`` typed as
a title must not run when a colleague opens the file. ``is_formula_like`` is
the one decision, used by ``safe_cell`` (XLSX) and ``inert_text`` (CSV and any
other untyped format). Workbooks are written in openpyxl's write-only mode
(rows go to disk as they come) and refused beyond ``EXPORT_MAX_ROWS`` rows
with a message that suggests a filter, never silently truncated.
"""

from __future__ import annotations

import contextlib
import copy
import os
import re
import tempfile
import weakref
from collections.abc import Iterable, Sequence, Sized
from dataclasses import dataclass
from typing import IO, Any

from django.conf import settings
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from qcity.core import audit

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# What makes Excel, WPS or LibreOffice read a cell as a formula (OWASP "CSV injection"),
# plus the full-width forms, which East-Asian input methods turn into the ASCII ones.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
# Characters XML 1.0 cannot hold: openpyxl raises on them, which would be a 500.
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
MAX_CELL_CHARS = 32767  # Excel's limit per cell; a longer text makes the file "damaged"
_TRUNCATED = "…（超出单元格长度上限，已截断）"

# A CJK font named in every cell, so Excel/WPS/LibreOffice do not fall back to a Latin
# font (or a Japanese one) for Chinese text; 宋体 is on every Chinese office computer.
CJK_FONT = "宋体"
_TITLE_FONT = Font(name=CJK_FONT, bold=True, size=14)
_HEADER_FONT = Font(name=CJK_FONT, bold=True)
_BODY_FONT = Font(name=CJK_FONT)
_BODY_ALIGNMENT = Alignment(wrap_text=True, vertical="top")


class ExportTooLarge(Exception):
    """More rows than ``EXPORT_MAX_ROWS``; ``code`` is stable, ``message`` is for people."""

    code = "too_many_rows"

    def __init__(self, limit: int, count: int | None = None) -> None:
        self.limit = limit
        self.count = count
        if count is None:
            message = _("导出超过 %(limit)s 行的上限，请先筛选（如按章节或单位）缩小范围后再导出。")
        else:
            message = _(
                "导出共 %(count)s 行，超过 %(limit)s 行的上限，请先筛选（如按章节或单位）缩小范围后再导出。"
            )
        self.message = message % {"limit": limit, "count": count}
        super().__init__(self.message)


@dataclass(frozen=True)
class Column:
    header: str
    width: int = 16


@dataclass(frozen=True)
class Sheet:
    """A further sheet of a workbook (e.g. 主要目标 beside 任务分解表), laid out alike."""

    name: str
    columns: Sequence[Column]
    rows: Iterable[Sequence]
    title: str = ""


def is_formula_like(text: str) -> bool:
    """Would a spreadsheet program read this text as a formula (or a DDE command)?"""
    return text.startswith(FORMULA_TRIGGERS)


def clean_text(text: str) -> str:
    """Text a spreadsheet file can hold: no XML-illegal characters, no more than a cell takes."""
    text = _ILLEGAL_XML.sub("\ufffd", text)
    if len(text) > MAX_CELL_CHARS:
        text = text[: MAX_CELL_CHARS - len(_TRUNCATED)] + _TRUNCATED
    return text


def inert_text(value: Any) -> Any:
    """A value for an untyped format (CSV): formula-like text gets a leading apostrophe.

    Spreadsheet programs hide that apostrophe and show the text as typed.
    Non-text values (numbers, dates, None) are returned unchanged.
    """
    if not isinstance(value, str):
        return value
    text = clean_text(value)
    return "'" + text if is_formula_like(text) else text


def safe_cell(
    ws: WriteOnlyWorksheet,
    value: Any,
    *,
    font: Font | None = None,
    alignment: Alignment | None = None,
) -> WriteOnlyCell:
    """A write-only XLSX cell whose text can never be a formula or an error value.

    Every string is stored as a plain string (``t="inlineStr"``, so no ``<f>``
    element, and ``#N/A`` stays text); formula-like text also gets Excel's
    quote-prefix flag, so editing the cell later keeps it text. The user sees
    the text exactly as it was written.
    """
    cell = WriteOnlyCell(ws)
    quote = False
    if isinstance(value, str):
        text = clean_text(value)
        cell.value = text
        cell.data_type = "s"  # openpyxl would make "=…" a formula and "#REF!" an error
        quote = is_formula_like(text)
    else:
        cell.value = value
    if font is not None or alignment is not None or quote:
        cell._style = copy.copy(_style_for(ws, font, alignment, quote))
    return cell


# Registering a style with the workbook hashes it each time (a third of an export's time),
# so each combination is registered once per workbook and its style array copied.
_STYLES: weakref.WeakKeyDictionary[Workbook, dict[tuple, tuple]] = weakref.WeakKeyDictionary()


def _style_for(
    ws: WriteOnlyWorksheet, font: Font | None, alignment: Alignment | None, quote: bool
) -> StyleArray:
    styles = _STYLES.setdefault(ws.parent, {})
    key = (id(font), id(alignment), quote)  # hashing the style objects is the slow part
    if key not in styles:
        prototype = WriteOnlyCell(ws)
        if font is not None:
            prototype.font = font
        if alignment is not None:
            prototype.alignment = alignment
        if quote:
            prototype.quotePrefix = True
        # Keep font and alignment alive with the entry, so their ids cannot be reused.
        styles[key] = (font, alignment, prototype._style)
    return styles[key][2]


def export_max_rows() -> int:
    return settings.EXPORT_MAX_ROWS


def write_xlsx(
    target: IO[bytes],
    title: str,
    sheet: str,
    columns: Sequence[Column],
    rows: Iterable[Sequence],
    *,
    max_rows: int | None = None,
    extra_sheets: Sequence[Sheet] = (),
) -> int:
    """Stream a workbook (title row, bold header row, wrapped cells) into ``target``.

    Every sheet has an autofilter on its header row and prints landscape, one page
    wide, with the header row repeated on each page; every cell names a CJK font.
    ``extra_sheets`` follow the first sheet, each with the same layout and row cap.

    Returns the number of data rows of the first sheet. Raises ``ExportTooLarge``
    beyond ``max_rows`` (default: the ``EXPORT_MAX_ROWS`` setting) in any sheet: a
    sized ``rows`` is refused before anything is written, an iterator as soon as it
    passes the limit.
    """
    limit = export_max_rows() if max_rows is None else max_rows
    for each in (rows, *(extra.rows for extra in extra_sheets)):
        if isinstance(each, Sized) and len(each) > limit:
            raise ExportTooLarge(limit, len(each))
    wb = Workbook(write_only=True)
    count = _write_sheet(wb, title, sheet, columns, rows, limit)
    for extra in extra_sheets:
        try:
            _write_sheet(wb, extra.title or title, extra.name, extra.columns, extra.rows, limit)
        except ExportTooLarge:
            for finished in wb.worksheets[:-1]:  # the failing one discarded itself
                _discard(finished)
            raise
    wb.save(target)
    return count


def _write_sheet(
    wb: Workbook,
    title: str,
    sheet: str,
    columns: Sequence[Column],
    rows: Iterable[Sequence],
    limit: int,
) -> int:
    ws = wb.create_sheet(title=_sheet_title(sheet))
    # Write-only sheets take layout before the first row.
    for index, column in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(index)].width = column.width
    last = get_column_letter(max(len(columns), 1))
    ws.freeze_panes = "A3"
    ws.merged_cells.add(f"A1:{last}1")
    # A printed list is read on paper in meetings: landscape, fit to the page width,
    # the header row on every page.
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = 9  # A4 (Worksheet.PAPERSIZE_A4)
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "2:2"
    ws.append([safe_cell(ws, title, font=_TITLE_FONT)])
    ws.append([safe_cell(ws, c.header, font=_HEADER_FONT) for c in columns])
    count = 0
    for row in rows:
        count += 1
        if count > limit:
            _discard(ws)
            raise ExportTooLarge(limit)
        ws.append(
            [safe_cell(ws, value, font=_BODY_FONT, alignment=_BODY_ALIGNMENT) for value in row]
        )
    ws.auto_filter.ref = f"A2:{last}{count + 2}"
    return count


def _discard(ws: WriteOnlyWorksheet) -> None:
    """Finish and delete a half-written sheet (its rows sit in a temporary file)."""
    ws.close()
    out = ws._writer.out if ws._writer is not None else None
    if isinstance(out, str):
        with contextlib.suppress(OSError):
            os.remove(out)


def build_xlsx(
    title: str,
    sheet: str,
    columns: Sequence[Column],
    rows: Iterable[Sequence],
    *,
    max_rows: int | None = None,
    extra_sheets: Sequence[Sheet] = (),
) -> tuple[bytes, int]:
    """The workbook as bytes (tests, small exports); see ``write_xlsx``."""
    with tempfile.TemporaryFile() as target:
        count = write_xlsx(
            target, title, sheet, columns, rows, max_rows=max_rows, extra_sheets=extra_sheets
        )
        target.seek(0)
        return target.read(), count


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
    extra_sheets: Sequence[Sheet] = (),
) -> HttpResponse:
    """The export as a download, audited; a refusal page beyond the row cap.

    The workbook is streamed to a temporary file while it is built, so memory
    holds one row at a time; only the finished, compressed file is read back.
    """
    try:
        content, count = build_xlsx(title, sheet, columns, rows, extra_sheets=extra_sheets)
    except ExportTooLarge as exc:
        audit.record(
            "export.xlsx",
            by=request.user,
            obj=obj,
            success=False,
            ip=request.META.get("REMOTE_ADDR"),
            details={"what": what, "refused": exc.code, "limit": exc.limit, "rows": exc.count},
        )
        return render(
            request,
            "core/export_refused.html",
            {"message": exc.message, "code": exc.code},
            status=400,
        )
    audit.record(
        "export.xlsx",
        by=request.user,
        obj=obj,
        ip=request.META.get("REMOTE_ADDR"),
        details={"what": what, "rows": count},
    )
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=safe_filename(filename)
    )
    return response


_FILENAME_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


def safe_filename(name: str, *, default: str = "export.xlsx") -> str:
    """A download name without path separators, control or reserved characters.

    Names are built from plan issuers and unit names, which are data.
    """
    cleaned = _FILENAME_UNSAFE.sub("_", name).strip(" .")
    if len(cleaned) > 150:
        stem, dot, ext = cleaned.rpartition(".")
        cleaned = stem[: 150 - len(ext) - 1] + dot + ext if dot else cleaned[:150]
    return cleaned or default


def _sheet_title(name: str) -> str:
    # Excel forbids these in sheet names and allows 31 characters.
    return re.sub(r"[\[\]:*?/\\]", "_", name)[:31] or "Sheet1"
