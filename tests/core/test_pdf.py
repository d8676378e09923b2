"""PDF documents: Chinese text a reader can select, the font embedded, hostile text survives.

Every document is read back with poppler (pdftotext, pdffonts, pdfinfo), the tools a
user's machine has, not with the library that wrote it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote

import pytest
from django.test import RequestFactory

from qcity.core.exports import Column
from qcity.core.models import AuditEvent
from qcity.core.pdf import PdfDocument, PdfUnavailable, font, pdf_refused, pdf_response
from qcity.env import ImproperSetting, env_file
from tests.pdftools import pdf_fonts, pdf_info, pdf_pages, pdf_text

REPO = Path(__file__).resolve().parents[2]
LATIN_ONLY_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
COLUMNS = [Column("序号", 5), Column("举措", 30), Column("进展", 10)]


def _document(**kwargs) -> PdfDocument:
    return PdfDocument("铁岭市质量强市工作季度报告", author="铁岭市市场监督管理局", **kwargs)


def test_it_writes_chinese_text_that_a_reader_can_extract():
    doc = _document()
    doc.cover("铁岭市质量强市工作季度报告", ["2025年第一季度", "铁岭市市场监督管理局"])
    doc.heading("一、总体情况")
    doc.paragraph("本季度各责任单位按计划推进质量强市建设，计量、标准、认证认可工作取得新进展。")
    doc.table(COLUMNS, [(1, "完善质量政策体系", "按计划推进"), (2, "实施质量提升行动", "存在风险")])
    text = pdf_text(doc.to_bytes())
    for expected in [
        "铁岭市质量强市工作季度报告",
        "2025年第一季度",
        "一、总体情况",
        "计量、标准、认证认可工作取得新进展",
        "完善质量政策体系",
        "存在风险",
    ]:
        assert expected in text, expected


def test_it_embeds_the_cjk_font_as_a_subset():
    doc = _document()
    doc.paragraph("质量强市")
    data = doc.to_bytes()
    fonts = pdf_fonts(data)
    assert fonts, "no font in the document"
    for each in fonts:
        assert (each["emb"], each["sub"], each["uni"]) == ("yes", "yes", "yes"), each["line"]
    # A subset: a few kilobytes for a few glyphs, not the 19 MB collection.
    assert len(data) < 60_000


def test_it_picks_the_simplified_chinese_face_of_a_collection():
    chosen = font()
    if chosen.path.suffix == ".ttc" and "Noto" in chosen.name:
        assert chosen.name.endswith("SC")
    assert ord("质") in chosen.codepoints


def test_every_page_but_the_cover_says_which_page_of_how_many():
    doc = _document()
    doc.cover("封面标题", ["2025年第一季度"])
    doc.table(COLUMNS, [(i, f"举措{i}", "按计划推进") for i in range(1, 201)])
    # pdftotext keeps or drops the spaces around the numbers depending on the layout.
    pages = ["".join(page.split()) for page in pdf_pages(doc.to_bytes())]
    total = len(pages)
    assert total > 3
    assert "第1页" not in pages[0] and "共" not in pages[0]
    for number, page in enumerate(pages[1:], start=2):
        assert f"第{number}页共{total}页" in page


def test_the_header_row_of_a_long_table_is_repeated_on_every_page():
    doc = _document()
    doc.table(COLUMNS, [(i, f"举措{i}", "按计划推进") for i in range(1, 301)])
    pages = pdf_pages(doc.to_bytes())
    assert len(pages) > 2
    for page in pages:
        assert "序号" in page and "举措" in page and "进展" in page


def test_the_document_metadata_names_title_author_and_subject():
    doc = _document(subject="2025年第一季度")
    doc.paragraph("正文")
    info = pdf_info(doc.to_bytes())
    assert info["Title"] == "铁岭市质量强市工作季度报告"
    assert info["Author"] == "铁岭市市场监督管理局"
    assert info["Subject"] == "2025年第一季度"
    assert info["Page size"].endswith("(A4)")


def test_hostile_text_is_shown_as_visible_markers_and_nothing_else_is_lost():
    doc = _document()
    doc.paragraph("局\u202e计统\u2066 空\x00字符 表情😀 {nb} 结束")
    doc.table(COLUMNS, [("\x07", "名称\u202e反转", "{nb}")])
    text = pdf_text(doc.to_bytes())
    assert "[U+202E]" in text and "[U+2066]" in text  # reordering characters made visible
    assert "[U+0000]" in text and "[U+0007]" in text  # control characters too
    assert "[U+1F600]" in text  # a character the font lacks reads as its code, not a blank
    assert text.count("{nb}") == 2  # typed text is never the page-count placeholder
    assert "结束" in text and "名称[U+202E]反转" in text
    assert "\u202e" not in text


def test_very_long_words_wrap_inside_the_page_and_the_cell():
    word = "質" * 2000 + "x" * 3000
    doc = _document()
    doc.paragraph(word)
    doc.table(COLUMNS, [("1" * 300, word, "y" * 500)])
    text = "".join(pdf_text(doc.to_bytes()).split())
    assert text.count("x") >= 2 * 3000 and text.count("y") == 500 and text.count("1") >= 300


def test_a_table_of_10000_rows_keeps_every_row():
    doc = _document()
    count = doc.table(COLUMNS, ([i, f"第{i}号举措", "按计划推进"] for i in range(1, 10_001)))
    text = pdf_text(doc.to_bytes())
    assert count == 10_000
    assert text.count("按计划推进") == 10_000
    assert "第1号举措" in text and "第5000号举措" in text and "第10000号举措" in text


def test_a_row_shorter_or_longer_than_the_header_is_padded_or_cut():
    doc = _document()
    assert doc.table(COLUMNS, [("1",), ("2", "举措", "受阻", "多余")]) == 2
    assert "多余" not in pdf_text(doc.to_bytes())


@pytest.mark.django_db
def test_a_download_is_audited_with_what_and_pages(personas):
    user = personas["coordinator"]
    request = RequestFactory().get("/x")
    request.user = user
    doc = _document()
    doc.paragraph("正文")
    response = pdf_response(request, doc, "季度报告 2025/Q1.pdf", what="reporting.quarterly")
    assert response["Content-Type"] == "application/pdf"
    assert "正文" in pdf_text(response.content)
    assert unquote(response["Content-Disposition"]).endswith("季度报告 2025_Q1.pdf")
    event = AuditEvent.objects.get(action="export.pdf")
    assert event.actor == user and event.success
    assert event.details == {"what": "reporting.quarterly", "pages": 1}


@pytest.mark.django_db
def test_without_a_chinese_font_the_download_is_refused_in_chinese_and_audited(personas, settings):
    if not LATIN_ONLY_FONT.is_file():
        pytest.skip("needs fonts-dejavu-core, a font without Chinese glyphs")
    settings.PDF_FONT = LATIN_ONLY_FONT
    with pytest.raises(PdfUnavailable) as caught:
        _document()
    assert caught.value.code == "no_cjk_font"
    assert "不含中文字形" in caught.value.message and "QCITY_PDF_FONT" in caught.value.message
    request = RequestFactory().get("/x")
    request.user = personas["coordinator"]
    response = pdf_refused(request, caught.value, what="reporting.quarterly")
    assert response.status_code == 503
    assert "fonts-noto-cjk" in response.content.decode()
    event = AuditEvent.objects.get(action="export.pdf")
    assert not event.success and event.details["refused"] == "no_cjk_font"


def test_a_font_named_in_the_environment_is_the_one_embedded(settings):
    settings.PDF_FONT = Path("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc")
    if not settings.PDF_FONT.is_file():
        pytest.skip("needs fonts-noto-cjk's serif collection")
    doc = _document()
    doc.paragraph("宋体风格")
    (embedded,) = pdf_fonts(doc.to_bytes())
    assert "NotoSerifCJKSC" in embedded["name"] and embedded["emb"] == "yes"


@pytest.mark.parametrize(
    ("value", "complaint"),
    [
        ("/nonexistent/font.ttc", "readable"),
        ("/tmp", "not a directory"),
        (__file__, "is not one"),
    ],
)
def test_a_bad_font_path_names_the_variable(monkeypatch, value, complaint):
    monkeypatch.setenv("QCITY_PDF_FONT", value)
    with pytest.raises(ImproperSetting) as caught:
        env_file("QCITY_PDF_FONT", signatures=(b"ttcf", b"OTTO"), kind="font file")
    assert "QCITY_PDF_FONT" in str(caught.value) and complaint in str(caught.value)


def test_a_bad_font_path_stops_start_up_naming_the_variable():
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env["QCITY_PDF_FONT"] = "/nonexistent/NotoSansCJK.ttc"
    result = subprocess.run(
        [sys.executable, "-m", "qcity.cli", "check"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    assert result.returncode != 0
    assert "QCITY_PDF_FONT" in result.stderr and "/nonexistent/NotoSansCJK.ttc" in result.stderr
