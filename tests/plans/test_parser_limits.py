"""The parser refuses oversized and bomb-like files quickly, in bounded memory.

The bombs are built here at run time: a .docx whose document.xml declares
1 GiB (1.5 MB on disk), one with 50 million empty paragraphs, one within the
size limits but with a million paragraphs, a zip of thousands of members, a
PDF of too many pages and texts that are too long. Time and peak memory are
measured in a fresh process, so nothing else in the test run disturbs them.
"""

from __future__ import annotations

import base64
import io
import json
import os
import struct
import subprocess
import sys
import textwrap
import zipfile
import zlib
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from qcity.plans.parser import PlanParseError, limits, parse_plan_text, read_plan_bytes
from qcity.plans.parser import read_plan_text as read

REPO = Path(__file__).resolve().parents[2]
GiB = 1 << 30


def write_deflate_bomb(path: Path, name: str, chunk: bytes, repeats: int) -> None:
    """A zip whose one member inflates to len(chunk) × repeats bytes, written streaming.

    Deflating with a full flush after each chunk makes every compressed chunk
    identical, so the member is built by repeating one compressed block: a few
    MB on disk and in memory for a member of 1 GiB, with a correct CRC.
    """
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    tail = compressor.flush(zlib.Z_FINISH)
    crc = 0
    for _ in range(repeats):
        crc = zlib.crc32(chunk, crc)
    size, csize, fname = len(chunk) * repeats, len(block) * repeats + len(tail), name.encode()
    with path.open("wb") as out:
        out.write(
            struct.pack(
                "<4s5H3L2H", b"PK\x03\x04", 20, 0, 8, 0, 0x21, crc, csize, size, len(fname), 0
            )
        )
        out.write(fname)
        for _ in range(repeats):
            out.write(block)
        out.write(tail)
        central_at = out.tell()
        # made by, needed, flags, method, time, date, crc, sizes, name, extra/comment/disk/attrs, offset
        header = (20, 20, 0, 8, 0, 0x21, crc, csize, size, len(fname), 0, 0, 0, 0, 0, 0)
        out.write(struct.pack("<4s6H3L5H2L", b"PK\x01\x02", *header) + fname)
        central_size = out.tell() - central_at
        out.write(struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 1, 1, central_size, central_at, 0))


@pytest.fixture(scope="module")
def gigabyte_docx(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("bombs") / "1GiB.docx"
    chunk = b"<w:p/>" * (1 << 20)  # 6 MiB
    write_deflate_bomb(path, "word/document.xml", chunk, -(-GiB // len(chunk)))
    return path


@pytest.fixture(scope="module")
def fifty_million_paragraphs_docx(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("bombs") / "50M-paragraphs.docx"
    write_deflate_bomb(path, "word/document.xml", b"<w:p/>" * 1_000_000, 50)
    return path


def _million_paragraphs_within_size_limits() -> bytes:
    """Small enough unpacked and compressing only ~50:1, so only the paragraph count stops it."""
    padding = base64.b64encode(os.urandom(150_000))
    document = (
        b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        b"<w:body><w:p><w:r><w:t>"
        + padding
        + b"</w:t></w:r></w:p>"
        + b"<w:p/>" * 1_000_000
        + b"</w:body></w:document>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", document)
    return buffer.getvalue()


def _measure_in_a_fresh_process(path: Path) -> dict:
    """Read the file in a new interpreter; report the error code, seconds and peak memory growth."""
    script = textwrap.dedent(
        f"""
        import json, resource, sys, time
        from qcity.plans.parser import PlanParseError, read_plan_text
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        start = time.perf_counter()
        try:
            read_plan_text({str(path)!r})
            code, message = None, ""
        except PlanParseError as exc:
            code, message = exc.code, exc.message
        seconds = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(json.dumps({{"code": code, "message": message, "seconds": seconds,
                          "grew_mib": (after - before) / 1024, "peak_mib": after / 1024}}))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=REPO
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_a_docx_that_unpacks_to_a_gigabyte_is_refused_quickly_in_little_memory(gigabyte_docx):
    assert gigabyte_docx.stat().st_size < 2 * 1024 * 1024
    with zipfile.ZipFile(gigabyte_docx) as archive:  # the bomb is real: it declares 1 GiB
        assert archive.getinfo("word/document.xml").file_size >= GiB
    outcome = _measure_in_a_fresh_process(gigabyte_docx)
    assert outcome["code"] == "zip_bomb", outcome
    assert outcome["seconds"] < 2, outcome
    assert outcome["grew_mib"] < 32, outcome
    assert "\n" not in outcome["message"] and "1GiB.docx" in outcome["message"]


def test_a_docx_of_fifty_million_empty_paragraphs_is_refused_quickly_in_little_memory(
    fifty_million_paragraphs_docx,
):
    outcome = _measure_in_a_fresh_process(fifty_million_paragraphs_docx)
    assert outcome["code"] == "zip_bomb", outcome
    assert outcome["seconds"] < 2, outcome
    assert outcome["grew_mib"] < 32, outcome


def test_a_million_paragraphs_within_the_size_limits_are_refused_by_count(tmp_path):
    path = tmp_path / "paragraphs.docx"
    path.write_bytes(_million_paragraphs_within_size_limits())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("word/document.xml")
        assert info.file_size < limits.MAX_XML_BYTES
        assert info.file_size < limits.MAX_MEMBER_RATIO * info.compress_size
    outcome = _measure_in_a_fresh_process(path)
    assert outcome["code"] == "too_many_paragraphs", outcome
    assert outcome["seconds"] < 2, outcome
    assert outcome["grew_mib"] < 64, outcome


def test_a_zip_of_thousands_of_members_is_refused_before_listing_them():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for i in range(limits.MAX_ZIP_MEMBERS + 1):
            archive.writestr(f"word/{i}.xml", "")
    with pytest.raises(PlanParseError) as excinfo:
        read_plan_bytes(buffer.getvalue(), "many.docx")
    assert excinfo.value.code == "zip_bomb"


def test_a_file_over_the_size_limit_is_refused_without_reading_it(tmp_path):
    path = tmp_path / "huge.txt"
    with path.open("wb") as handle:  # sparse: no 20 MB written, but that is its size
        handle.truncate(limits.MAX_FILE_BYTES + 1)
    with pytest.raises(PlanParseError) as excinfo:
        read(path)
    assert excinfo.value.code == "too_large"
    assert "huge.txt" in excinfo.value.message and "20.0 MB" in excinfo.value.message


def test_a_text_over_the_character_limit_is_refused(tmp_path):
    path = tmp_path / "long.txt"
    path.write_text("质量强市。" * (limits.MAX_TEXT_CHARS // 5 + 1), encoding="utf-8")
    with pytest.raises(PlanParseError) as excinfo:
        read(path)
    assert excinfo.value.code == "too_large"


def test_a_text_of_too_many_lines_is_refused():
    with pytest.raises(PlanParseError) as excinfo:
        read_plan_bytes(("一、质量\n" * (limits.MAX_PARAGRAPHS + 1)).encode(), "lines.txt")
    assert excinfo.value.code == "too_many_paragraphs"


def test_parse_plan_text_applies_the_same_text_limits():
    with pytest.raises(PlanParseError) as excinfo:
        parse_plan_text("\n" * (limits.MAX_PARAGRAPHS + 1) + "一、质量")
    assert excinfo.value.code == "too_many_paragraphs"


def test_a_pdf_of_too_many_pages_is_refused():
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(limits.MAX_PDF_PAGES + 1):
        writer.add_blank_page(width=200, height=200)
    buffer = io.BytesIO()
    writer.write(buffer)
    with pytest.raises(PlanParseError) as excinfo:
        read_plan_bytes(buffer.getvalue(), "pages.pdf")
    assert excinfo.value.code == "too_many_pages"


def test_a_plan_at_normal_size_still_reads(tmp_path):
    seed = REPO / "qcity" / "plans" / "data" / "tieling-quality-city-plan-2023.txt"
    assert "铁岭市" in read(seed)


@pytest.mark.parametrize("command", ["parse_plan", "import_plan"])
def test_the_commands_refuse_a_bomb_with_one_line_and_exit_2(command, gigabyte_docx, db):
    with pytest.raises(CommandError) as excinfo:
        call_command(command, str(gigabyte_docx), stdout=io.StringIO(), stderr=io.StringIO())
    assert excinfo.value.returncode == 2
    assert "\n" not in str(excinfo.value) and "压缩" in str(excinfo.value)
