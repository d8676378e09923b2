"""A corpus of malformed and hostile files: every one is refused in one line, exit 2.

Built at run time (nothing binary is committed). Each file goes through
``qcity parse_plan`` and ``qcity import_plan``; neither may raise anything but
``CommandError(returncode=2)``, and the import must store nothing.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from io import StringIO
from pathlib import Path

import docx
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from qcity.core.models import AuditEvent, OrgUnit
from qcity.plans.models import Measure, Plan
from qcity.plans.parser import PlanParseError, read_plan_text
from tests.conftest import BUNDLED_SEED

SEED = BUNDLED_SEED.read_text(encoding="utf-8")


def _docx_bytes(text: str = "一、总体要求\n（一）提升质量。（责任单位：市市场监管局）") -> bytes:
    document = docx.Document()
    for line in text.splitlines():
        document.add_paragraph(line)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _zip(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _with_document_xml(xml: bytes) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(_docx_bytes()))
    members = {i.filename: source.read(i.filename) for i in source.infolist()}
    members["word/document.xml"] = xml
    return _zip(members)


def _corrupt_crc() -> bytes:
    data = bytearray(_zip({"word/document.xml": b"<w:document/>" * 100}, zipfile.ZIP_STORED))
    data[40:44] = b"XXXX"  # inside the stored member: the CRC no longer matches
    return bytes(data)


def _encrypted_flag() -> bytes:
    data = bytearray(_docx_bytes())
    data[6] |= 0x01  # general purpose flag "encrypted" on the first member's local header
    central = data.find(b"PK\x01\x02")
    data[central + 8] |= 0x01
    return bytes(data)


def _billion_laughs() -> bytes:
    entities = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
        for i in range(1, 10)
    )
    return _with_document_xml(
        f'<?xml version="1.0"?><!DOCTYPE w:document [{entities}]>'
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        "<w:body><w:p><w:r><w:t>&lol9;</w:t></w:r></w:p></w:body></w:document>".encode()
    )


def _deep_nesting() -> bytes:
    depth = 100_000
    return _with_document_xml(b"<w:document>" + b"<a>" * depth + b"</a>" * depth + b"</w:document>")


def _pdf(body: bytes) -> bytes:
    return b"%PDF-1.7\n" + body + b"\n%%EOF\n"


CORPUS: dict[str, Callable[[], bytes]] = {
    "empty": lambda: b"",
    "only whitespace": lambda: b" \r\n\t\n",
    "NUL bytes in text": lambda: "质量强市\x00\x00".encode() * 50,
    "UTF-16 BOM then an odd byte": lambda: b"\xff\xfe" + "质量".encode("utf-16-le") + b"\x00\xd8",
    "not UTF-8 nor GB18030": lambda: bytes([0x81, 0x30, 0x81, 0xFF] * 200),
    "PNG": lambda: b"\x89PNG\r\n\x1a\n" + bytes(range(256)),
    "old Word (OLE2)": lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512,
    "RTF": lambda: b"{\\rtf1\\ansi hello}",
    "truncated docx": lambda: _docx_bytes()[:2000],
    "zip without document.xml": lambda: _zip({"hello.txt": b"hi"}),
    "empty zip signature only": lambda: b"PK\x03\x04" + b"\x00" * 26,
    "docx with broken XML": lambda: _with_document_xml(b"<w:document><w:body><w:p>"),
    "docx with a corrupt member": _corrupt_crc,
    "docx flagged as encrypted": _encrypted_flag,
    "docx with no paragraphs": lambda: _with_document_xml(
        b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        b"<w:body/></w:document>"
    ),
    "docx billion laughs": _billion_laughs,
    "docx nested 100 000 deep": _deep_nesting,
    "zip member with a path-traversal name": lambda: _zip({"../../etc/passwd": b"x"}),
    "PDF header only": lambda: b"%PDF-1.4\n",
    "PDF with a broken xref": lambda: _pdf(
        b"1 0 obj<</Type/Catalog>>endobj\nxref\n0 9999999\ntrailer<</Root 1 0 R>>"
    ),
    "PDF without a text layer": lambda: _pdf(b"1 0 obj<<>>endobj\ntrailer<<>>"),
    "HTML that is only script": lambda: b"<html><script>alert(1)</script></html>",
    "HTML without a plan": lambda: "<html><body><p>本市召开会议。</p></body></html>".encode(),
    "a plan-less news text": lambda: "本市今日召开质量工作会议，会议强调要抓好落实。".encode(),
    "plan text with only a title": lambda: "铁岭市质量强市实施方案\n".encode(),
}


def _write(tmp_path: Path, name: str, content: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


@pytest.mark.parametrize("case", CORPUS)
def test_parse_plan_refuses_each_malformed_file_in_one_line(case, tmp_path):
    path = _write(tmp_path, "input.docx", CORPUS[case]())
    with pytest.raises(CommandError) as excinfo:
        call_command("parse_plan", str(path), stdout=StringIO(), stderr=StringIO())
    assert excinfo.value.returncode == 2
    message = str(excinfo.value)
    assert message and "\n" not in message


def _counts() -> tuple[int, ...]:
    return (
        Plan.objects.count(),
        Measure.objects.count(),
        OrgUnit.objects.count(),
        AuditEvent.objects.count(),
    )


@pytest.mark.django_db
@pytest.mark.parametrize("case", CORPUS)
def test_import_plan_refuses_each_malformed_file_and_stores_nothing(case, org_units, tmp_path):
    path = _write(tmp_path, "input.bin", CORPUS[case]())
    before = _counts()
    with pytest.raises(CommandError) as excinfo:
        call_command("import_plan", str(path), stdout=StringIO(), stderr=StringIO())
    assert excinfo.value.returncode == 2
    assert _counts() == before


HOSTILE_NAMES = [
    "方案\n第二行.txt",
    "‮txt.exe",  # right-to-left override
    "=1+1.txt",
    "-rf.txt",
    "a" * 200 + ".txt",
    "空 格 与\t制表符.txt",
    "..txt",
]


@pytest.mark.django_db
@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_a_plan_under_a_hostile_file_name_imports_and_is_recorded_as_named(
    name, org_units, tmp_path
):
    path = _write(tmp_path, name, SEED.encode("utf-8"))
    call_command("import_plan", str(path), stdout=StringIO(), stderr=StringIO())
    assert Plan.objects.get().source_name == name


def test_a_directory_a_device_and_a_missing_file_are_refused(tmp_path):
    for target, code in (
        (tmp_path, "not_a_file"),
        (Path("/dev/zero"), "not_a_file"),
        (tmp_path / "missing.txt", "file_not_found"),
    ):
        with pytest.raises(PlanParseError) as excinfo:
            read_plan_text(target)
        assert excinfo.value.code == code, target
