"""Export of check results in the columns a provincial 双随机 system takes (docs/provincial-export.md).

Two lists, each as XLSX and CSV, always through the caller's data scope
(``publication.published_rows`` / ``publication.due_tasks``): the results already
published, and the results still due for publication. Text cells are inert
(``core.exports``: no formula ever runs when the file is opened).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator, Sequence

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import content_disposition_header

from qcity.core import audit, workdays
from qcity.core.exports import Column, ExportTooLarge, export_max_rows, inert_text, xlsx_response
from qcity.inspections import publication
from qcity.portal.selectors import county_name

# The order and names of the provincial columns (regulations §1.2, §1.4). They are the
# receiving system's own headers, so they stay Chinese in every interface language.
COLUMNS: list[tuple[str, int]] = [
    ("统一社会信用代码", 22),
    ("市场主体名称", 30),
    ("行政区划代码", 10),
    ("所在县（市、区）", 12),
    ("抽查计划/批次", 30),
    ("抽查事项", 30),
    ("检查实施机关", 24),
    ("检查日期", 12),
    ("检查结果", 30),
    ("公示期限", 12),
    ("公示日期", 12),
    ("是否逾期公示", 10),
    ("逾期理由", 30),
]

KINDS = {
    "published": ("inspections.published_results", "已公示的抽查结果", "published-results"),
    "due": ("inspections.due_results", "待公示的抽查结果", "due-results"),
}


def _yes_no(flag: bool) -> str:
    return "是" if flag else "否"


def published_lines(user) -> Iterator[list]:
    for row in publication.published_rows(user).iterator(chunk_size=2000):
        yield [
            row.entity_code,
            row.entity_name,
            row.region_code,
            county_name(row.region_code),
            row.batch_title,
            row.check_items,
            row.authority,
            row.check_date.isoformat(),
            row.result,
            row.publish_due.isoformat(),
            timezone.localtime(row.published_at).date().isoformat(),
            _yes_no(row.late),
            row.late_reason,
        ]


def due_lines(user, today: dt.date | None = None) -> Iterator[list]:
    today = today or timezone.localdate()
    calendar = workdays.snapshot()
    for task in publication.due_tasks(user):
        state = publication.due_state(task, calendar, today)
        result = task.result
        batch = task.batch
        yield [
            task.entity.code,
            task.entity.name,
            task.entity.region_code,
            county_name(task.entity.region_code),
            f"{batch.plan.title} 第{batch.number}批 {batch.title}",
            "、".join(item.name for item in batch.check_items.all()),
            task.owner_unit.full_name or task.owner_unit.name,
            result.check_date.isoformat(),
            "、".join(code.name for code in result.codes.all()),
            state["due"].isoformat() if state["due"] else "",
            "",
            _yes_no(state["overdue"] > 0),
            "",
        ]


def lines(kind: str, user) -> Iterable[Sequence]:
    return published_lines(user) if kind == "published" else due_lines(user)


def csv_bytes(rows: Iterable[Sequence], *, max_rows: int | None = None) -> tuple[bytes, int]:
    """UTF-8 with a BOM (so Excel and WPS read the Chinese), CRLF, inert text cells."""
    limit = export_max_rows() if max_rows is None else max_rows
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([name for name, _width in COLUMNS])
    count = 0
    for row in rows:
        count += 1
        if count > limit:
            raise ExportTooLarge(limit)
        writer.writerow([inert_text(value) for value in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8"), count


def response(request: HttpRequest, kind: str, fmt: str) -> HttpResponse:
    what, title, stem = KINDS[kind]
    today = timezone.localdate().isoformat()
    if fmt == "xlsx":
        return xlsx_response(
            request,
            what=what,
            obj=None,
            title=f"{title}（{today}）",
            sheet=title,
            columns=[Column(name, width) for name, width in COLUMNS],
            rows=lines(kind, request.user),
            filename=f"{stem}-{today}.xlsx",
        )
    try:
        content, count = csv_bytes(lines(kind, request.user))
    except ExportTooLarge as exc:
        audit.record(
            "export.csv",
            by=request.user,
            success=False,
            ip=request.META.get("REMOTE_ADDR"),
            details={"what": what, "refused": exc.code, "limit": exc.limit},
        )
        return render(
            request,
            "core/export_refused.html",
            {"message": exc.message, "code": exc.code},
            status=400,
        )
    audit.record(
        "export.csv",
        by=request.user,
        ip=request.META.get("REMOTE_ADDR"),
        details={"what": what, "rows": count},
    )
    reply = HttpResponse(content, content_type="text/csv; charset=utf-8")
    reply["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=f"{stem}-{today}.csv"
    )
    return reply
