"""The one bulk-import mechanism: CSV/XLSX → validated rows → bulk upsert by key (ADR 0029).

A register describes itself once as an ``ImportSpec`` (its columns with their Chinese
headers and aliases, ``clean_row``, its key and its bulk writer); ``run_import`` does the
rest, the same way for every register:

- **Read.** CSV in UTF-8 (with or without BOM) or GB18030: the whole file is first decoded
  strictly as UTF-8, else as GB18030; a file neither can decode is refused naming the line.
  XLSX through openpyxl's read-only mode (first sheet, header row), after the zip's declared
  sizes passed a zip-bomb check. Headers are matched by name (full-width folded, spaces
  ignored), in any order; an unknown column is ignored and said so, a missing required one
  refuses the file.
- **Validate every row.** ``clean_row`` returns the values, or None with the errors; both
  carry row number, column, value, a Chinese reason and a stable code. A key seen before in
  the same file: the same values → a warning and the row is skipped; different values → an
  error on the later row (never a silent last-wins).
- **Write in batches** of ``batch_size`` rows through the spec's bulk writer (PostgreSQL:
  COPY into a temporary table, then one ``INSERT … ON CONFLICT (key) DO UPDATE … WHERE
  something changed``; SQLite: ``executemany`` of the same upsert), which counts created,
  updated and unchanged rows. One audit event per written batch.
- **Modes.** By default the valid rows are written (each batch in its own transaction with
  its audit event) and the bad ones reported. ``all_or_nothing``: one transaction, rolled
  back if any row has an error. ``dry_run``: the real writes run and are rolled back, so the
  counts are what a real run would report, and no audit event remains. Batches hold distinct
  keys, so rolling one back does not change what the next one counts.
- **Report.** ``ImportResult.summary()`` is ``{"rows", "created", "updated", "unchanged",
  "errors", "warnings"}`` with rows = created + updated + unchanged + errors + skipped
  identical duplicates (which are warnings; nothing is silently dropped). The row errors go
  to ``<input>.errors.csv`` beside the input (UTF-8 with BOM for Excel; 行号,列,值,问题,代码).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import os
import unicodedata
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from operator import itemgetter
from pathlib import Path
from typing import Any

from django.db import transaction

from qcity.core.exports import inert_text

BATCH_SIZE = 50_000
ERRORS_SUFFIX = ".errors.csv"
ERRORS_HEADER = ["行号", "列", "值", "问题", "代码"]
# An XLSX of a million rows inflates to a few hundred MB; beyond these it is refused unread.
XLSX_MAX_UNPACKED_BYTES = 2 * 1024 * 1024 * 1024
XLSX_MAX_RATIO = 200
_CHUNK = 1024 * 1024

Progress = Callable[[int, int], None]


class ImportFileError(Exception):
    """The file as a whole cannot be imported (unreadable, no header…). Nothing is written."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Issue:
    """One problem of one row: an error refuses the row, a warning only reports."""

    row: int  # the line (CSV) or sheet row (XLSX) the user sees; 1 is the header
    column: str  # the header as the spec names it
    value: str
    reason: str  # Chinese, for people
    code: str  # stable, for programs
    warning: bool = False

    def as_csv_row(self) -> list[str]:
        # The value came from the file: make sure Excel shows it as text, never runs it.
        return [str(self.row), self.column, inert_text(self.value), self.reason, self.code]


@dataclass(frozen=True)
class Column:
    field: str
    header: str  # the documented Chinese header
    aliases: tuple[str, ...] = ()
    required: bool = False


@dataclass
class BatchCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    # Rows the writer refused after validation (e.g. the key belongs to a unit the
    # importer may not change), as issues.
    refused: list[Issue] = field(default_factory=list)


class ImportSpec:
    """What a register tells the mechanism; subclass and fill in."""

    name: str = ""  # e.g. "registry.entities"
    audit_action: str = ""  # e.g. "registry.entities.imported"
    columns: Sequence[Column] = ()
    key: str = "code"

    def prepare(self, fields: list[str]) -> None:
        """Called once with the fields the file has, before the first row."""

    def clean_row(
        self, raw: dict[str, str], row: int
    ) -> tuple[dict | None, list[Issue], list[Issue]]:
        """Validate and normalise one row: (values or None, errors, warnings)."""
        raise NotImplementedError

    def write_batch(self, rows: list[tuple[int, dict]]) -> BatchCounts:
        """Upsert ``(row number, values)`` pairs by key in one bulk statement (or a few)."""
        raise NotImplementedError

    def audit_target(self) -> Any:
        """The object the batch events are recorded on (None: no object)."""
        return None


@dataclass
class ImportResult:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: int = 0
    warnings: int = 0
    dry_run: bool = False
    all_or_nothing: bool = False
    written: bool = False  # whether anything was committed
    errors_file: str = ""  # path of <input>.errors.csv when there are errors
    ignored_columns: list[str] = field(default_factory=list)
    first_issues: list[Issue] = field(default_factory=list)  # errors and warnings, for people
    batches: int = 0

    def summary(self) -> dict[str, int]:
        return {
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "errors": self.errors,
            "warnings": self.warnings,
        }

    @property
    def refused(self) -> bool:
        """All-or-nothing found an error, so nothing was written."""
        return self.all_or_nothing and self.errors > 0


# --- reading ------------------------------------------------------------------------------


def header_key(text: Any) -> str:
    """How headers are compared: full-width folded, no spaces, no BOM, case-insensitive."""
    folded = unicodedata.normalize("NFKC", str(text or "")).replace("\ufeff", "")
    return "".join(folded.split()).lower()


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def detect_encoding(path: Path) -> str:
    """``utf-8-sig`` if the whole file decodes strictly as UTF-8, else ``gb18030``.

    :raises ImportFileError: neither decodes; the message names the first bad line.
    """
    with path.open("rb") as f:
        head = f.read(4)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise ImportFileError(
            "encoding", "文件是UTF-16编码，请在Excel中另存为“CSV UTF-8”或GB18030编码的CSV"
        )
    failures = {}
    for encoding in ("utf-8", "gb18030"):
        line = _first_undecodable_line(path, encoding)
        if line is None:
            return "utf-8-sig" if encoding == "utf-8" else encoding
        failures[encoding] = line
    # The encoding that got further is the one the file was meant to be in.
    raise ImportFileError(
        "encoding",
        f"文件编码无法识别：第 {max(failures.values())} 行既不是UTF-8也不是GB18030编码的文字"
        "（请另存为UTF-8或GB18030编码的CSV，或XLSX）",
    )


def _first_undecodable_line(path: Path, encoding: str) -> int | None:
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    lines_before = 0
    with path.open("rb") as f:
        while True:
            chunk = f.read(_CHUNK)
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                # The decoder may hold up to a few bytes of the previous chunk; close enough
                # to count from the start of this one (the line is what the user needs).
                return lines_before + chunk[: max(exc.start, 0)].count(b"\n") + 1
            if not chunk:
                return None
            lines_before += chunk.count(b"\n")


@dataclass
class Table:
    headers: list[str]
    rows: Iterator[tuple[int, list[str]]]  # (row number as the user sees it, cells)
    total: int  # data rows, an estimate for progress (quoted newlines, trailing blanks)
    encoding: str = ""


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a code typed as a number: 110108000000016.0
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def open_table(path: Path) -> Table:
    """Open a CSV or XLSX file as a header and an iterator of rows."""
    if not path.is_file():
        raise ImportFileError("not_found", f"文件不存在或不是普通文件：{path}")
    with path.open("rb") as f:
        magic = f.read(4)
    if magic.startswith(b"PK\x03\x04"):
        return _open_xlsx(path)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        raise ImportFileError("corrupt_file", f"XLSX文件已损坏，无法读取：{path.name}")
    if path.suffix.lower() == ".xls":
        raise ImportFileError("format", "不支持旧版Excel（.xls）文件，请另存为XLSX或CSV")
    return _open_csv(path)


def _open_csv(path: Path) -> Table:
    encoding = detect_encoding(path)
    with path.open("rb") as f:
        if b"\x00" in f.read(_CHUNK):
            raise ImportFileError("binary_file", f"文件含空字符，不是CSV文本：{path.name}")
    total = 0
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            total += chunk.count(b"\n")
    handle = path.open(encoding=encoding, newline="")
    reader = csv.reader(handle)
    try:
        headers = next(reader)
    except StopIteration:
        handle.close()
        raise ImportFileError("empty", f"文件是空的：{path.name}") from None
    except csv.Error as exc:
        handle.close()
        raise ImportFileError("csv", f"CSV格式错误（第1行）：{exc}") from None

    def rows() -> Iterator[tuple[int, list[str]]]:
        try:
            for cells in reader:
                yield reader.line_num, cells
        except csv.Error as exc:
            raise ImportFileError("csv", f"CSV格式错误（第 {reader.line_num} 行）：{exc}") from None
        finally:
            handle.close()

    return Table(headers, rows(), max(total - 1, 0), encoding)


def _check_zip(path: Path) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            total = 0
            for info in archive.infolist():
                total += info.file_size
                if info.file_size > 10 * _CHUNK and info.file_size > XLSX_MAX_RATIO * max(
                    info.compress_size, 1
                ):
                    raise ImportFileError(
                        "zip_bomb", f"XLSX文件压缩比异常，疑似压缩炸弹：{path.name}"
                    )
            if total > XLSX_MAX_UNPACKED_BYTES:
                raise ImportFileError("zip_bomb", f"XLSX文件解压后过大，拒绝读取：{path.name}")
    except zipfile.BadZipFile:
        raise ImportFileError("corrupt_file", f"XLSX文件已损坏，无法读取：{path.name}") from None


def _open_xlsx(path: Path) -> Table:
    from openpyxl import load_workbook

    _check_zip(path)
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception:  # not a workbook, encrypted, truncated: all "cannot read"
        raise ImportFileError("corrupt_file", f"XLSX文件已损坏，无法读取：{path.name}") from None
    if not book.worksheets:
        book.close()
        raise ImportFileError("empty", f"XLSX文件没有工作表：{path.name}")
    sheet = book.worksheets[0]
    iterator = sheet.iter_rows(values_only=True)
    try:
        headers = [_cell_text(v) for v in next(iterator)]
    except StopIteration:
        book.close()
        raise ImportFileError("empty", f"文件是空的：{path.name}") from None
    total = max((sheet.max_row or 1) - 1, 0)

    def rows() -> Iterator[tuple[int, list[str]]]:
        try:
            for number, values in enumerate(iterator, start=2):
                yield number, [_cell_text(v) for v in values]
        finally:
            book.close()

    return Table(headers, rows(), total, "xlsx")


def map_headers(spec: ImportSpec, headers: list[str]) -> tuple[list[tuple[int, str]], list[str]]:
    """(position → field) for the known columns, and the ignored headers.

    :raises ImportFileError: a required column is missing or a column appears twice.
    """
    by_key: dict[str, Column] = {}
    for column in spec.columns:
        for name in (column.header, *column.aliases, column.field):
            by_key[header_key(name)] = column
    positions: list[tuple[int, str]] = []
    seen: dict[str, str] = {}
    ignored = []
    for index, header in enumerate(headers):
        column = by_key.get(header_key(header))
        if column is None:
            if header_key(header):
                ignored.append(str(header))
            continue
        if column.field in seen:
            raise ImportFileError(
                "duplicate_column",
                f"列“{column.header}”出现了两次（“{seen[column.field]}”和“{header}”）",
            )
        seen[column.field] = header
        positions.append((index, column.field))
    missing = [c.header for c in spec.columns if c.required and c.field not in seen]
    if missing:
        raise ImportFileError(
            "missing_column", f"缺少必需的列：{'、'.join(missing)}（见导入格式说明）"
        )
    return positions, ignored


# --- running ------------------------------------------------------------------------------


class _Rollback(Exception):
    pass


class _ErrorsFile:
    """``<input>.errors.csv``, written as errors come, replacing a stale one at the end."""

    def __init__(self, path: Path) -> None:
        self.path = path.with_name(path.name + ERRORS_SUFFIX)
        self.tmp = path.with_name(f".{path.name}{ERRORS_SUFFIX}.{os.getpid()}.tmp")
        try:
            self.handle = self.tmp.open("w", encoding="utf-8-sig", newline="")
        except OSError as exc:
            raise ImportFileError(
                "errors_file", f"无法在输入文件旁写入错误清单（{exc.strerror}）：{self.path}"
            ) from None
        self.writer = csv.writer(self.handle)
        self.writer.writerow(ERRORS_HEADER)
        self.count = 0

    def add(self, issue: Issue) -> None:
        self.writer.writerow(issue.as_csv_row())
        self.count += 1

    def finish(self) -> str:
        self.handle.close()
        if self.count:
            os.replace(self.tmp, self.path)
            return str(self.path)
        self.tmp.unlink(missing_ok=True)
        self.path.unlink(missing_ok=True)  # a stale list from an earlier run would mislead
        return ""

    def abandon(self) -> None:
        self.handle.close()
        self.tmp.unlink(missing_ok=True)


FIRST_ISSUES = 20


def run_import(
    spec: ImportSpec,
    path: str | Path,
    *,
    by: Any = None,
    dry_run: bool = False,
    all_or_nothing: bool = False,
    progress: Progress | None = None,
    source_name: str = "",
    batch_size: int = BATCH_SIZE,
) -> ImportResult:
    """Import ``path`` with ``spec``; see the module docstring for the rules.

    :raises ImportFileError: the file cannot be read as a table (nothing written).
    """
    from qcity.core import audit

    path = Path(path)
    table = open_table(path)
    positions, ignored = map_headers(spec, table.headers)
    sha256 = sha256_of(path)
    name = source_name or path.name
    result = ImportResult(dry_run=dry_run, all_or_nothing=all_or_nothing, ignored_columns=ignored)
    errors_file = _ErrorsFile(path)
    fields = [f for _, f in positions]
    spec.prepare(fields)
    # One C-level call per row picks the mapped cells (a million rows: this matters).
    width = max((i for i, _ in positions), default=-1) + 1
    indices = [i for i, _ in positions]
    pick = (lambda cells: (cells[indices[0]],)) if len(indices) == 1 else itemgetter(*indices)
    seen: dict[str, int] = {}  # key → hash of its values (duplicates in one file)

    def note(issue: Issue, *, error: bool) -> None:
        # ``errors`` counts refused rows (a row with two problems is one row, listed twice
        # in the errors file); ``warnings`` counts the warnings themselves.
        if error:
            errors_file.add(issue)
        else:
            result.warnings += 1
            issue = replace(issue, warning=True)
        if len(result.first_issues) < FIRST_ISSUES:
            result.first_issues.append(issue)

    def flush(batch: list[tuple[int, dict]]) -> None:
        counts = spec.write_batch(batch)
        for issue in counts.refused:
            note(issue, error=True)
        result.errors += len(counts.refused)
        result.created += counts.created
        result.updated += counts.updated
        result.unchanged += counts.unchanged
        result.batches += 1
        audit.record(
            spec.audit_action,
            by=by,
            obj=spec.audit_target(),
            actor_label="" if by else "system",
            details={
                "file": name,
                "sha256": sha256,
                "batch": result.batches,
                "rows": len(batch),
                "created": counts.created,
                "updated": counts.updated,
                "unchanged": counts.unchanged,
                "refused": len(counts.refused),
                "dry_run": dry_run,
            },
        )

    def write(batch: list[tuple[int, dict]]) -> None:
        if all_or_nothing:
            flush(batch)  # inside the one outer transaction
            return
        try:
            with transaction.atomic():
                flush(batch)
                if dry_run:
                    raise _Rollback
        except _Rollback:
            pass

    def process() -> None:
        batch: list[tuple[int, dict]] = []
        done = 0
        for number, cells in table.rows:
            if not any(c.strip() for c in cells):
                continue  # blank lines (and Excel's formatted-but-empty rows) are not rows
            done += 1
            result.rows += 1
            if len(cells) >= width:
                raw = dict(zip(fields, pick(cells), strict=True))
            else:  # a short row (trailing empty cells dropped): the missing cells are blank
                raw = {f: (cells[i] if i < len(cells) else "") for i, f in positions}
            values, row_errors, row_warnings = spec.clean_row(raw, number)
            for issue in row_warnings:
                note(issue, error=False)
            if values is None or row_errors:
                result.errors += 1
                for issue in row_errors:
                    note(issue, error=True)
                if not row_errors:  # a spec that refuses must say why; never drop silently
                    note(Issue(number, "", "", "该行无法导入", "row_refused"), error=True)
                continue
            key = values[spec.key]
            # clean_row builds its dict in one order, so equal rows give equal tuples.
            digest = hash(tuple(values.values()))
            previous = seen.get(key)
            if previous is not None:
                column = spec_header(spec, spec.key)
                if previous == digest:
                    note(
                        Issue(number, column, key, "与前面的行完全相同，已跳过", "duplicate_row"),
                        error=False,
                    )
                    result.unchanged += 1  # counted: the row is in the register as given
                else:
                    note(
                        Issue(
                            number,
                            column,
                            key,
                            "同一代码在文件中出现多次且内容不同，以先出现的行为准，本行未导入",
                            "duplicate_conflict",
                        ),
                        error=True,
                    )
                    result.errors += 1
                continue
            seen[key] = digest
            batch.append((number, values))
            if len(batch) >= batch_size:
                write(batch)
                batch = []
            if progress is not None and done % 5000 == 0:
                progress(done, max(table.total, done))
        if batch:
            write(batch)
        if progress is not None:
            progress(done, done)

    try:
        if all_or_nothing:
            try:
                with transaction.atomic():
                    process()
                    if dry_run or result.errors:
                        raise _Rollback
            except _Rollback:
                pass
        else:
            process()
    except BaseException:
        errors_file.abandon()
        raise
    result.written = not dry_run and not result.refused and result.batches > 0
    result.errors_file = errors_file.finish()
    return result


def spec_header(spec: ImportSpec, field_name: str) -> str:
    for column in spec.columns:
        if column.field == field_name:
            return column.header
    return field_name


def human_lines(result: ImportResult) -> list[str]:
    """What the command prints before its JSON summary line."""
    lines = []
    if result.ignored_columns:
        lines.append(f"忽略未识别的列：{'、'.join(result.ignored_columns)}")
    for issue in result.first_issues:
        kind = "警告" if issue.warning else "错误"
        lines.append(
            f"第 {issue.row} 行 {issue.column}“{issue.value}”：{issue.reason}（{kind}，{issue.code}）"
        )
    prefix = (
        "（演练，已回滚，未保存）" if result.dry_run else "（未写入）" if result.refused else ""
    )
    lines.append(
        f"{prefix}共 {result.rows} 行：新增 {result.created}，更新 {result.updated}，"
        f"未变 {result.unchanged}，错误 {result.errors}，警告 {result.warnings}"
    )
    if result.refused:
        lines.append("有错误行，按“全部或全不”未写入任何数据")
    if result.errors_file:
        lines.append(f"错误清单：{result.errors_file}")
    return lines


# --- browser jobs -----------------------------------------------------------------------------
# The page stores the upload and enqueues a django-tasks task; the worker runs the same
# ``run_import`` as the command, reporting progress to a file beside the upload (the
# import's own transactions would hide progress written to the database until they end).

UPLOAD_EXTENSIONS = (".csv", ".xlsx")
PROGRESS_NAME = "progress.json"


def job_dir(job: Any) -> Path:
    from django.conf import settings

    return Path(settings.IMPORT_DIR) / str(job.pk)


def job_input(job: Any) -> Path:
    return job_dir(job) / job.stored_name


def job_errors_path(job: Any) -> Path:
    path = job_input(job)
    return path.with_name(path.name + ERRORS_SUFFIX)


def create_job(
    spec: ImportSpec,
    upload: Any,
    *,
    kind: str,
    by: Any,
    dry_run: bool,
    all_or_nothing: bool,
    task: Any,
) -> Any:
    """Keep an uploaded file, check it is a readable table with the spec's columns, enqueue it.

    :raises ImportFileError: too large, not CSV/XLSX, unreadable, or missing a column;
        nothing is kept.
    """
    import shutil

    from django.conf import settings

    from qcity.core import audit
    from qcity.core.models import ImportJob

    name = Path(upload.name or "import.csv").name[-255:]
    limit = settings.ATTACHMENT_MAX_BYTES
    if (upload.size or 0) > limit:
        raise ImportFileError(
            "too_large",
            f"文件过大（上限 {limit // (1024 * 1024)} MB）；更大的名录请由管理员用命令 import_entities 导入",
        )
    extension = Path(name).suffix.lower()
    if extension not in UPLOAD_EXTENSIONS:
        raise ImportFileError("format", "只能导入CSV（UTF-8或GB18030）或XLSX文件")
    if by.unit_id is None:
        raise ImportFileError("no_unit", "您的账户没有所属单位，不能导入")
    with transaction.atomic():
        job = ImportJob.objects.create(
            kind=kind,
            uploaded_by=by,
            owner_unit_id=by.unit_id,
            file_name=name,
            stored_name="input" + extension,
            dry_run=dry_run,
            all_or_nothing=all_or_nothing,
        )
        directory = job_dir(job)
        try:
            directory.mkdir(parents=True, exist_ok=True)
            digest = hashlib.sha256()
            with job_input(job).open("wb") as f:
                for chunk in upload.chunks():
                    digest.update(chunk)
                    f.write(chunk)
            table = open_table(job_input(job))
            map_headers(spec, table.headers)
            close = getattr(table.rows, "close", None)
            if close:
                close()
        except BaseException:
            shutil.rmtree(directory, ignore_errors=True)
            raise
        job.sha256 = digest.hexdigest()
        job.save(update_fields=["sha256"])
        audit.record(
            "import.job_queued",
            by=by,
            obj=job,
            details={"kind": kind, "file": name, "sha256": job.sha256, "dry_run": dry_run},
        )
        # The task row is written in this transaction (database backend): both or neither.
        task.enqueue(job.pk)
    return job


def write_progress(job: Any, done: int, total: int) -> None:
    path = job_dir(job) / PROGRESS_NAME
    tmp = path.with_suffix(".tmp")
    tmp.write_text(f'{{"done": {int(done)}, "total": {int(total)}}}', encoding="utf-8")
    os.replace(tmp, path)


def read_progress(job: Any) -> tuple[int, int]:
    import json

    try:
        data = json.loads((job_dir(job) / PROGRESS_NAME).read_text(encoding="utf-8"))
        return int(data["done"]), int(data["total"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0, 0


def run_job(job_id: int, importer: Callable[..., ImportResult]) -> dict[str, int]:
    """Run a queued job once (the task's body); every outcome is recorded on the job."""
    import logging

    from django.utils import timezone

    from qcity.core.models import ImportJob

    Status = ImportJob.Status
    claimed = ImportJob.objects.filter(pk=job_id, status=Status.QUEUED).update(
        status=Status.RUNNING
    )
    if not claimed:
        return {}
    job = ImportJob.objects.select_related("uploaded_by").get(pk=job_id)
    write_progress(job, 0, 0)
    try:
        result = importer(
            str(job_input(job)),
            by=job.uploaded_by,
            dry_run=job.dry_run,
            all_or_nothing=job.all_or_nothing,
            progress=lambda done, total: write_progress(job, done, total),
            source_name=job.file_name,
        )
    except ImportFileError as exc:
        job.status, job.message = Status.FAILED, exc.message[:500]
    except Exception:
        logging.getLogger(__name__).exception("import job %s failed", job_id)
        job.status, job.message = Status.FAILED, "导入时发生系统错误，已记录日志；请联系管理员"
    else:
        job.summary = result.summary()
        job.status = Status.REFUSED if result.refused else Status.DONE
        job.has_errors_file = bool(result.errors_file)
        job.message = "演练：已回滚，未保存" if job.dry_run else ""
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "message", "summary", "has_errors_file", "finished_at"])
    return job.summary
