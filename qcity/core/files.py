"""Attachments: typed by content, size-limited, checksummed, served through the data scope.

Every app that keeps files (reports' evidence now; inspections and complaints later)
calls ``attach(obj, upload, by=...)`` and links to ``/files/<id>/`` (ADR 0017).

- **Type by content.** The first bytes decide the type (``filetype``); the name's
  extension must agree with it (a ``.pdf`` that is a zip is refused). Office files are
  zips whose ``[Content_Types].xml`` and main part are checked with the zip-bomb limits
  of ``plans.parser.limits``. Executables, HTML, SVG and anything not in
  ``ATTACHMENT_ALLOWED_TYPES`` are refused.
- **Not corrupted.** A cheap structural check per type: pypdf opens a PDF and counts its
  pages; PNG, JPEG, GIF and WebP must have their header and their end marker.
- **No orphan.** Nothing is stored until every check passed; then the file is written,
  then the row; if the row or the caller's work fails inside ``attach`` the stored file
  is deleted at once. A caller's transaction that rolls back later (Django has no
  ``on_rollback``) leaves a stored file without a row: ``sweep_orphans`` (a scheduled
  job, ``core.jobs``) deletes such files once they are ``ATTACHMENT_ORPHAN_HOURS`` old.
- **Storage** is ``STORAGES["attachments"]``: a directory by default, object storage
  (django-storages S3) in production; only the Storage API is used.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import logging
import re
import unicodedata
import uuid
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import filetype
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.core.files.storage import Storage, storages
from django.db import models, transaction
from django.http import FileResponse, Http404, HttpRequest
from django.utils import timezone

from qcity.core import audit
from qcity.core.models import Attachment, User
from qcity.core.scope import get_scoped_or_404, is_scoped_model

logger = logging.getLogger(__name__)

MiB = 1024 * 1024


@dataclass(frozen=True)
class FileKind:
    code: str  # the name in ATTACHMENT_ALLOWED_TYPES
    media_type: str
    extensions: tuple[str, ...]
    label: str


KINDS = {
    kind.code: kind
    for kind in [
        FileKind("pdf", "application/pdf", (".pdf",), "PDF"),
        FileKind("png", "image/png", (".png",), "PNG 图片"),
        FileKind("jpeg", "image/jpeg", (".jpg", ".jpeg"), "JPEG 图片"),
        FileKind("gif", "image/gif", (".gif",), "GIF 图片"),
        FileKind("webp", "image/webp", (".webp",), "WebP 图片"),
        FileKind(
            "docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            (".docx",),
            "Word 文档",
        ),
        FileKind(
            "xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            (".xlsx",),
            "Excel 表格",
        ),
        FileKind(
            "pptx",
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            (".pptx",),
            "PowerPoint 演示文稿",
        ),
    ]
}
# The main part each Office format must contain, and the content type it must declare.
_OOXML_MAIN = {
    "docx": ("word/document.xml", "wordprocessingml.document.main+xml"),
    "xlsx": ("xl/workbook.xml", "spreadsheetml.sheet.main+xml"),
    "pptx": ("ppt/presentation.xml", "presentationml.presentation.main+xml"),
}
_FILETYPE_TO_KIND = {
    "pdf": "pdf",
    "png": "png",
    "jpg": "jpeg",
    "gif": "gif",
    "webp": "webp",
    "zip": "zip",
    "docx": "zip",
    "xlsx": "zip",
    "pptx": "zip",
}
_CHUNK = 64 * 1024
_HEAD = 8192


class AttachmentRefused(Exception):
    """An upload that is not stored; ``code`` is stable (API), ``message`` is Chinese."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# --- names ----------------------------------------------------------------------------------

_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


def neutral_name(name: str) -> str:
    """The file name as shown and offered on download: no path, no control characters.

    Bidirectional and zero-width format characters (Unicode category Cf) are dropped, so
    ``invoice\\u202Efdp.exe`` cannot pose as a PDF; the length is capped at 150.
    """
    name = unicodedata.normalize("NFC", str(name or ""))
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch) != "Cf")
    name = _UNSAFE.sub("_", name).strip(" .")
    if len(name) > 150:
        stem, dot, ext = name.rpartition(".")
        name = stem[: 150 - len(ext) - 1] + dot + ext if dot and len(ext) < 10 else name[:150]
    return name or "file"


def _extension(name: str) -> str:
    _stem, dot, ext = name.rpartition(".")
    return f".{ext.lower()}" if dot else ""


# --- content checks -------------------------------------------------------------------------


def allowed_kinds() -> list[FileKind]:
    return [KINDS[code] for code in settings.ATTACHMENT_ALLOWED_TYPES if code in KINDS]


def _allowed_text() -> str:
    return "、".join(kind.label for kind in allowed_kinds())


def _refuse_type(name: str) -> AttachmentRefused:
    return AttachmentRefused(
        "file_type_not_allowed", f"不接受此类文件：{name}（可上传：{_allowed_text()}）"
    )


def _corrupted(name: str, what: str) -> AttachmentRefused:
    return AttachmentRefused("file_corrupted", f"文件已损坏或不完整（{what}）：{name}")


def _check_ooxml(data: bytes, name: str) -> str:
    """Which Office format a zip is, after the zip-bomb limits; refuse any other zip."""
    from qcity.plans.parser.limits import check_zip
    from qcity.plans.parser.model import PlanParseError

    try:
        check_zip(data, name)
    except PlanParseError as exc:
        raise AttachmentRefused(
            "file_corrupted" if exc.code != "zip_bomb" else "zip_bomb", str(exc)
        ) from None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if "[Content_Types].xml" not in names:
                raise _refuse_type(name)
            types = archive.read("[Content_Types].xml")
            for code, (part, content_type) in _OOXML_MAIN.items():
                if part in names and content_type.encode() in types:
                    if archive.testzip() is not None:  # a member's CRC does not match
                        raise _corrupted(name, "压缩内容校验失败")
                    return code
    except (zipfile.BadZipFile, EOFError, OSError, ValueError):
        raise _corrupted(name, "无法读取压缩内容") from None
    raise _refuse_type(name)


def _check_pdf(data: bytes, name: str) -> None:
    if b"%%EOF" not in data[-2048:]:
        raise _corrupted(name, "缺少 PDF 结尾")
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        pages = len(PdfReader(io.BytesIO(data), strict=False).pages)
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, OSError):
        raise _corrupted(name, "无法读取 PDF 结构") from None
    except RecursionError:
        raise _corrupted(name, "PDF 结构嵌套过深") from None
    if pages < 1:
        raise _corrupted(name, "PDF 没有页面")


def _check_image(code: str, data: bytes, name: str) -> None:
    ok = {
        # Signature, IHDR first, IEND last (the chunk's CRC follows its name).
        "png": data[12:16] == b"IHDR" and data[-8:-4] == b"IEND",
        # Start of image, and end of image (some cameras pad after it).
        "jpeg": data[:3] == b"\xff\xd8\xff" and b"\xff\xd9" in data[-1024:],
        # The trailer byte.
        "gif": data.rstrip(b"\x00")[-1:] == b";",
        # RIFF's declared length is the file's.
        "webp": int.from_bytes(data[4:8], "little") + 8 == len(data),
    }[code]
    if not ok:
        raise _corrupted(name, "图像不完整")


def detect(data: bytes, name: str) -> FileKind:
    """The kind of ``data`` judged by its content; refuse what is not allowed or broken."""
    if not data:
        raise AttachmentRefused("file_empty", f"文件是空的：{name}")
    guess = filetype.guess(data[:_HEAD])
    code = _FILETYPE_TO_KIND.get(guess.extension) if guess is not None else None
    if code is None:
        # Executables, HTML, SVG, scripts, archives other than Office: not evidence.
        raise _refuse_type(name)
    if code == "zip":
        code = _check_ooxml(data, name)
    if code not in settings.ATTACHMENT_ALLOWED_TYPES:
        raise _refuse_type(name)
    kind = KINDS[code]
    if _extension(name) not in kind.extensions:
        raise AttachmentRefused(
            "file_extension_mismatch",
            f"文件名与内容不符：{name} 的内容是{kind.label}（{'/'.join(kind.extensions)}）",
        )
    if code == "pdf":
        _check_pdf(data, name)
    elif code in ("png", "jpeg", "gif", "webp"):
        _check_image(code, data, name)
    return kind


def _read_limited(upload, name: str) -> bytes:
    """Read the upload up to the size limit, refusing it as soon as it is over."""
    limit = settings.ATTACHMENT_MAX_BYTES
    size = getattr(upload, "size", None)
    if size is not None and size > limit:
        raise _too_large(name, size, limit)
    if hasattr(upload, "seek"):
        upload.seek(0)
    buffer = io.BytesIO()
    chunks = (
        upload.chunks(_CHUNK)
        if hasattr(upload, "chunks")
        else iter(lambda: upload.read(_CHUNK), b"")
    )
    for chunk in chunks:
        buffer.write(chunk)
        if buffer.tell() > limit:
            raise _too_large(name, buffer.tell(), limit)
    return buffer.getvalue()


def _too_large(name: str, size: int, limit: int) -> AttachmentRefused:
    return AttachmentRefused(
        "file_too_large", f"文件过大（{size / MiB:.1f} MB，上限 {limit / MiB:.0f} MB）：{name}"
    )


# --- storing --------------------------------------------------------------------------------


def storage() -> Storage:
    return storages["attachments"]


def _storage_name(now: dt.datetime) -> str:
    return f"{now:%Y/%m}/{uuid.uuid4().hex}"


def attach(obj: models.Model, upload, *, by: User | None, name: str | None = None) -> Attachment:
    """Check, store and record one file for ``obj``; refuse it with ``AttachmentRefused``.

    ``upload`` is an ``UploadedFile`` (or any file object; ``name`` then names it).
    The file is written only after it passed every check, and deleted again if the row
    cannot be written, so a failed upload leaves nothing behind.
    """
    original = neutral_name(name if name is not None else getattr(upload, "name", ""))
    data = _read_limited(upload, original)
    kind = detect(data, original)
    now = timezone.now()
    stored = storage().save(_storage_name(now), ContentFile(data))
    try:
        with transaction.atomic():
            attachment = Attachment.objects.create(
                content_type=ContentType.objects.get_for_model(obj, for_concrete_model=False),
                object_id=str(obj.pk),
                original_name=original,
                media_type=kind.media_type,
                size=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
                storage_name=stored,
                uploaded_by=by,
                uploaded_at=now,
            )
            audit.record(
                "file.attached",
                by=by,
                obj=obj,
                details={
                    "attachment": attachment.pk,
                    "name": original,
                    "type": kind.media_type,
                    "size": len(data),
                    "sha256": attachment.sha256,
                },
            )
    except BaseException:
        delete_quietly(stored)
        raise
    return attachment


def delete_quietly(name: str, store: Storage | None = None) -> None:
    """Delete a file written by work that is being undone; a failure is logged, not raised
    (the orphan sweep finds what is left in the attachments storage)."""
    try:
        (store or storage()).delete(name)
    except Exception:
        logger.exception("could not delete stored file %s", name)


def attachments_of(obj: models.Model) -> models.QuerySet[Attachment]:
    """The attachments of ``obj`` (the caller has already found ``obj`` through its scope)."""
    return Attachment.objects.filter(
        content_type=ContentType.objects.get_for_model(obj, for_concrete_model=False),
        object_id=str(obj.pk),
    )


# --- serving --------------------------------------------------------------------------------


def get_for_download(user: User | None, pk: object) -> Attachment:
    """The attachment, if its owner object is visible to ``user``; otherwise ``Http404``."""
    try:
        attachment = Attachment.objects.select_related("content_type").get(pk=pk)
    except (Attachment.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    model = attachment.content_type.model_class()
    if model is None or not is_scoped_model(model):
        raise Http404
    get_scoped_or_404(user, model._default_manager.all(), pk=attachment.object_id)
    return attachment


def serve(request: HttpRequest, pk: int) -> FileResponse:
    """Stream one attachment as a download (never shown inline), and audit it."""
    attachment = get_for_download(request.user, pk)
    try:
        handle = storage().open(attachment.storage_name, "rb")
    except FileNotFoundError:
        logger.error(
            "attachment %s: stored file %s missing", attachment.pk, attachment.storage_name
        )
        raise Http404 from None
    audit.record(
        "file.downloaded",
        by=request.user,
        obj=attachment,
        details={"name": attachment.original_name, "sha256": attachment.sha256},
        ip=request.META.get("REMOTE_ADDR"),
    )
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=attachment.original_name,
        content_type=attachment.media_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store, private"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


# --- the orphan sweep -----------------------------------------------------------------------


def _walk(store: Storage, prefix: str = "") -> Iterator[str]:
    try:
        directories, files = store.listdir(prefix)
    except FileNotFoundError:
        return
    for file_name in files:
        yield f"{prefix}{file_name}"
    for directory in directories:
        yield from _walk(store, f"{prefix}{directory}/")


SWEEP_BATCH = 1000

# Other modules that keep files in this storage under their own prefix (e.g. a draw's
# population snapshot under "draws/") say which stored names are theirs, so the sweep
# deletes only what nobody keeps: ``register_keeper("draws/", names -> kept names)``.
_KEEPERS: dict[str, Callable[[list[str]], set[str]]] = {}


def register_keeper(prefix: str, kept: Callable[[list[str]], set[str]]) -> None:
    _KEEPERS[prefix] = kept


def _batches(names: Iterable[str], size: int) -> Iterator[list[str]]:
    batch: list[str] = []
    for name in names:
        batch.append(name)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def sweep_orphans(*, older_than: dt.timedelta | None = None) -> list[str]:
    """Delete stored files that no attachment row names and that are old enough.

    The age margin keeps a file whose upload is still in its transaction.
    """
    if older_than is None:
        older_than = dt.timedelta(hours=settings.ATTACHMENT_ORPHAN_HOURS)
    store = storage()
    cutoff = timezone.now() - older_than
    removed = []
    for batch in _batches(_walk(store), SWEEP_BATCH):
        # One query per batch of stored names, not one per file: the store holds every
        # attachment ever uploaded, and the sweep runs hourly.
        known = set(
            Attachment.objects.filter(storage_name__in=batch).values_list("storage_name", flat=True)
        )
        for prefix, kept in _KEEPERS.items():
            theirs = [name for name in batch if name.startswith(prefix)]
            if theirs:
                known |= kept(theirs)
        for name in batch:
            if name in known:
                continue
            try:
                modified = store.get_modified_time(name)
            except (FileNotFoundError, NotImplementedError):
                continue  # gone meanwhile, or a backend without times: never guess an age
            if timezone.is_naive(modified):
                modified = timezone.make_aware(modified)
            if modified < cutoff:
                store.delete(name)
                removed.append(name)
    if removed:
        audit.record(
            "file.orphans_removed", by=None, details={"files": removed[:100], "count": len(removed)}
        )
    return removed
