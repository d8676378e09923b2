"""Attachments: typed by content, limited, checksummed, no orphans, served through the scope."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import struct
import zipfile
import zlib
from pathlib import Path

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from docx import Document
from openpyxl import Workbook
from pypdf import PdfWriter

from qcity.core import files
from qcity.core.files import AttachmentRefused, attach, sweep_orphans
from qcity.core.models import Attachment, AuditEvent, OrgUnit, User

# --- real files, built at run time ----------------------------------------------------------


def pdf_bytes() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def png_bytes() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\x00"))
        + chunk(b"IEND", b"")
    )


def docx_bytes() -> bytes:
    document = Document()
    document.add_paragraph("农产品质量安全抽检情况")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def xlsx_bytes() -> bytes:
    book = Workbook()
    book.active["A1"] = "抽检批次"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def plain_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("readme.txt", "不是 Office 文档")
    return out.getvalue()


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/pdf")


@pytest.fixture
def store(settings, tmp_path) -> Path:
    root = tmp_path / "attachments"
    settings.STORAGES = {
        **settings.STORAGES,
        "attachments": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(root)},
        },
    }
    return root


def stored_files(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


@pytest.fixture
def nongye_unit(org_units) -> OrgUnit:
    return OrgUnit.objects.get(name="市农业农村局")


# --- accepted -------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "build", "media_type"),
    [
        ("检查记录.pdf", pdf_bytes, "application/pdf"),
        ("现场照片.PNG", png_bytes, "image/png"),
        ("情况说明.docx", docx_bytes, "wordprocessingml.document"),
        ("抽检数据.xlsx", xlsx_bytes, "spreadsheetml.sheet"),
    ],
)
def test_it_stores_an_evidence_file_with_its_checksum(
    store, personas, nongye_unit, name, build, media_type
):
    data = build()
    attachment = attach(nongye_unit, upload(name, data), by=personas["nongye"])

    attachment.refresh_from_db()
    assert attachment.original_name == name
    assert media_type in attachment.media_type
    assert attachment.size == len(data)
    assert attachment.sha256 == hashlib.sha256(data).hexdigest()
    assert attachment.uploaded_by == personas["nongye"]
    assert attachment.owner == nongye_unit
    [path] = stored_files(store)
    assert path.read_bytes() == data
    assert name not in str(path)  # the stored name is random, not the uploader's
    event = AuditEvent.objects.get(action="file.attached")
    assert event.details["sha256"] == attachment.sha256
    assert list(files.attachments_of(nongye_unit)) == [attachment]


def test_it_neutralises_the_written_name():
    assert files.neutral_name("..\\..\\etc/passwd") == "passwd"
    # A right-to-left override would show "invoice‮fdp.exe" as "invoiceexe.pdf".
    assert files.neutral_name("invoice\u202efdp.exe") == "invoicefdp.exe"
    assert files.neutral_name("a\x00b<c>.pdf") == "a_b_c_.pdf"
    assert files.neutral_name("") == "file"
    assert len(files.neutral_name("长" * 400 + ".pdf")) == 150


# --- refused, and nothing stays behind ------------------------------------------------------

EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 200
HTML = b"<!DOCTYPE html><html><script>alert(1)</script></html>"
SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
)

REFUSED = {
    "an executable named .pdf": (
        "报告.pdf",
        lambda: EXE,
        "file_type_not_allowed",
        "不接受此类文件",
    ),
    "a Linux executable": ("tool.pdf", lambda: ELF, "file_type_not_allowed", "不接受此类文件"),
    "HTML with script": ("页面.html", lambda: HTML, "file_type_not_allowed", "不接受此类文件"),
    "SVG with script": ("图.svg", lambda: SVG, "file_type_not_allowed", "不接受此类文件"),
    "a plain zip named .docx": ("说明.docx", plain_zip, "file_type_not_allowed", "不接受此类文件"),
    "a Word file named .pdf": (
        "报告.pdf",
        docx_bytes,
        "file_extension_mismatch",
        "文件名与内容不符",
    ),
    "a PDF named .png": ("照片.png", pdf_bytes, "file_extension_mismatch", "文件名与内容不符"),
    "a truncated PDF": ("报告.pdf", lambda: pdf_bytes()[:-200], "file_corrupted", "文件已损坏"),
    "a PDF with a broken body": (
        "报告.pdf",
        lambda: b"%PDF-1.7\n" + b"\x00garbage" * 50 + b"\n%%EOF\n",
        "file_corrupted",
        "文件已损坏",
    ),
    "a truncated PNG": ("照片.png", lambda: png_bytes()[:-12], "file_corrupted", "图像不完整"),
    "a truncated Word file": (
        "说明.docx",
        lambda: docx_bytes()[:-300],
        "file_corrupted",
        "文件已损坏",
    ),
    "an empty file": ("空.pdf", lambda: b"", "file_empty", "文件是空的"),
}


@pytest.mark.django_db
@pytest.mark.parametrize("case", REFUSED)
def test_a_bad_evidence_file_is_refused_with_a_specific_message_and_leaves_nothing(
    case, store, personas, nongye_unit
):
    name, build, code, words = REFUSED[case]
    with pytest.raises(AttachmentRefused) as excinfo:
        attach(nongye_unit, upload(name, build()), by=personas["nongye"])
    assert excinfo.value.code == code
    assert words in excinfo.value.message
    assert "\n" not in excinfo.value.message
    assert not Attachment.objects.exists()
    assert not AuditEvent.objects.filter(action="file.attached").exists()
    assert stored_files(store) == []


@pytest.mark.django_db
def test_a_file_over_the_size_limit_is_refused(settings, store, personas, nongye_unit):
    settings.ATTACHMENT_MAX_BYTES = 1024 * 1024
    big = pdf_bytes() + b"%" * (1024 * 1024)
    with pytest.raises(AttachmentRefused) as excinfo:
        attach(nongye_unit, upload("大文件.pdf", big), by=personas["nongye"])
    assert excinfo.value.code == "file_too_large"
    assert "上限 1 MB" in excinfo.value.message
    assert stored_files(store) == [] and not Attachment.objects.exists()


@pytest.mark.django_db
def test_a_type_the_settings_do_not_allow_is_refused(settings, store, personas, nongye_unit):
    settings.ATTACHMENT_ALLOWED_TYPES = ["pdf"]
    with pytest.raises(AttachmentRefused) as excinfo:
        attach(nongye_unit, upload("照片.png", png_bytes()), by=personas["nongye"])
    assert excinfo.value.code == "file_type_not_allowed"
    assert "可上传：PDF" in excinfo.value.message


@pytest.mark.django_db
def test_a_row_that_cannot_be_written_takes_its_stored_file_with_it(store, nongye_unit):
    ghost = User(username="ghost")  # never saved: the row's foreign key refuses it
    with pytest.raises(ValueError):
        attach(nongye_unit, upload("检查记录.pdf", pdf_bytes()), by=ghost)
    assert stored_files(store) == []
    assert not Attachment.objects.exists()


@pytest.mark.django_db
def test_the_sweep_removes_a_rolled_back_upload_once_it_is_old(store, personas, nongye_unit):
    kept = attach(nongye_unit, upload("保留.pdf", pdf_bytes()), by=personas["nongye"])

    class CallerFailed(Exception):
        pass

    # The caller's own transaction fails after the upload: Django has no on_rollback, so
    # the stored file outlives its row until the sweep.
    with pytest.raises(CallerFailed), transaction.atomic():
        attach(nongye_unit, upload("回滚.pdf", pdf_bytes()), by=personas["nongye"])
        raise CallerFailed
    assert Attachment.objects.count() == 1
    assert len(stored_files(store)) == 2

    assert sweep_orphans() == []  # too young: it may belong to an upload still running
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(hours=7)):
        removed = sweep_orphans()
    assert len(removed) == 1
    [left] = stored_files(store)
    assert left.name == Path(kept.storage_name).name
    assert AuditEvent.objects.get(action="file.orphans_removed").details["count"] == 1


def test_the_sweep_asks_the_database_once_per_batch_not_once_per_file(
    store, personas, nongye_unit, django_assert_max_num_queries
):
    for i in range(12):
        attach(nongye_unit, upload(f"附件{i}.pdf", pdf_bytes()), by=personas["nongye"])
    assert len(stored_files(store)) == 12
    with django_assert_max_num_queries(2):  # one batch of names: one lookup (+ a savepoint)
        assert sweep_orphans() == []
    assert len(stored_files(store)) == 12


# --- serving --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_owner_units_liaison_downloads_the_file_as_an_attachment(
    client, store, personas, nongye_unit
):
    data = pdf_bytes()
    attachment = attach(nongye_unit, upload("检查记录.pdf", data), by=personas["nongye"])
    client.force_login(personas["nongye"])

    response = client.get(f"/files/{attachment.pk}/")

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == data
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "filename*=utf-8''%E6%A3%80" in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]
    event = AuditEvent.objects.get(action="file.downloaded")
    assert event.actor == personas["nongye"]
    assert event.details["sha256"] == attachment.sha256


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["gongxin", "sysadmin", "auditadmin", "inspector"])
def test_nobody_outside_the_owners_scope_can_download_it(client, store, personas, nongye_unit, who):
    attachment = attach(nongye_unit, upload("检查记录.pdf", pdf_bytes()), by=personas["nongye"])
    client.force_login(personas[who])
    assert client.get(f"/files/{attachment.pk}/").status_code == 404
    assert not AuditEvent.objects.filter(action="file.downloaded").exists()


@pytest.mark.django_db
def test_the_coordinator_sees_it_and_strangers_get_login_or_404(
    client, store, personas, nongye_unit
):
    attachment = attach(nongye_unit, upload("检查记录.pdf", pdf_bytes()), by=personas["nongye"])
    assert client.get(f"/files/{attachment.pk}/").status_code == 302  # to the login page
    client.force_login(personas["coordinator"])
    assert client.get(f"/files/{attachment.pk}/").status_code == 200
    assert client.get(f"/files/{attachment.pk + 1000}/").status_code == 404
    assert client.get("/files/99999999999999999999/").status_code == 404


@pytest.mark.django_db
def test_a_zip_bomb_named_docx_is_refused_before_it_is_inflated(store, personas, nongye_unit):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", b"\0" * (101 * 1024 * 1024))
    with pytest.raises(AttachmentRefused) as excinfo:
        attach(nongye_unit, upload("说明.docx", out.getvalue()), by=personas["nongye"])
    assert excinfo.value.code == "zip_bomb"
    assert stored_files(store) == [] and not Attachment.objects.exists()
