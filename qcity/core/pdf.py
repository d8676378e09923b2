"""One way to make a PDF document: Chinese text selectable, the CJK font embedded.

Every PDF the platform hands out (the quarterly report now; certificates and
inspection notices later) is built with ``PdfDocument`` and sent with
``pdf_response``, which audits the download like ``core.exports`` does for XLSX
(``export.pdf`` with ``{"what", "pages"}``; ``what`` is a key of
``core.audit_labels.EXPORT_LABELS``).

The font is a file, embedded as a subset (only the glyphs used), so the document
reads the same on a computer without Chinese fonts and its text can be searched
and copied. ADR 0022 says why fpdf2: it embeds OpenType fonts with CFF outlines
from a collection (Debian's ``fonts-noto-cjk``), which reportlab refuses. The file
is ``QCITY_PDF_FONT`` (checked when settings load) or the first of
``SYSTEM_FONTS`` that exists; with none, ``PdfUnavailable`` says what to install.

Text is data: bidirectional controls and other control characters become
visible markers (``[U+202E]``, as on the pages, ADR 0016), characters the font
lacks become ``[U+1F600]``-style markers instead of blank boxes, and nothing a
user typed can collide with the page-count placeholder.
"""

from __future__ import annotations

import functools
import logging
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from fontTools.ttLib import TTCollection, TTFont, TTLibError
from fpdf import FPDF, FontFace
from fpdf.enums import TableCellFillMode, WrapMode, XPos, YPos

from qcity.core import audit
from qcity.core.display import neutralise_bidi
from qcity.core.exports import Column, safe_filename

logger = logging.getLogger(__name__)

PDF = "application/pdf"

# Debian packages, in order of preference: Noto CJK (OpenType/CFF in a collection),
# then the TrueType fonts of WenQuanYi and AR PL for systems without it.
SYSTEM_FONTS = (
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/truetype/arphic/uming.ttc"),
)
# A face that lacks these cannot print a government document in Chinese.
_PROBE = "质量强市数字化平台第页共"

# A4 portrait, millimetres.
MARGIN = 20
_FOOTER_Y = -13
_TEXT_SIZE = 10.5  # 五号
_LINE = 6.2
_HEADING_SIZES = {1: 16, 2: 13, 3: 11.5}
_HEADER_FILL = (230, 233, 238)

# C0 and C1 controls except newline; tab is widened to spaces first.
_CONTROLS = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufff9-\ufffb]")


class PdfUnavailable(Exception):
    """No usable CJK font: ``code`` is stable, ``message`` is for people."""

    code = "no_cjk_font"

    def __init__(self, detail: str) -> None:
        self.detail = detail
        self.message = _(
            "无法生成 PDF：服务器缺少可嵌入的中文字体（%(detail)s）。"
            "请管理员安装 fonts-noto-cjk，或用 QCITY_PDF_FONT 指定字体文件。"
        ) % {"detail": detail}
        super().__init__(self.message)


@dataclass(frozen=True)
class CjkFont:
    path: Path
    index: int  # the face in a collection (.ttc); 0 for a single font
    name: str
    codepoints: frozenset[int]


def font() -> CjkFont:
    """The font PDF documents embed; ``PdfUnavailable`` when there is none."""
    configured: Path | None = settings.PDF_FONT
    if configured is not None:
        return _load_font(str(configured))
    for candidate in SYSTEM_FONTS:
        if candidate.is_file():
            return _load_font(str(candidate))
    raise PdfUnavailable(_("未找到系统字体，如 %(path)s") % {"path": SYSTEM_FONTS[0]})


def font_problems() -> list[str]:
    """One line per reason PDF documents cannot be made (production start-up checks it)."""
    try:
        font()
    except PdfUnavailable as exc:
        return [str(exc.message)]
    return []


@functools.cache
def _load_font(path: str) -> CjkFont:
    """The Simplified Chinese face of ``path``, read once per process."""
    try:
        faces = _faces(path)
    except (OSError, TTLibError, AssertionError, KeyError) as exc:
        raise PdfUnavailable(
            _("%(path)s 无法读取：%(error)s") % {"path": path, "error": exc}
        ) from None
    usable = []
    for index, face in enumerate(faces):
        try:
            cmap = face.getBestCmap() or {}
            name = face["name"].getDebugName(4) or face["name"].getDebugName(1) or Path(path).stem
        except (KeyError, TTLibError, AssertionError):
            continue
        if all(ord(c) in cmap for c in _PROBE):
            usable.append((index, name, cmap))
    if not usable:
        raise PdfUnavailable(_("%(path)s 不含中文字形") % {"path": path})
    # In a pan-CJK collection pick the Simplified Chinese face (Noto: "… SC"): the
    # same code points have mainland glyph shapes there, not Japanese or Korean ones.
    index, name, cmap = next(
        (face for face in usable if re.search(r"\b(SC|GB|Simplified)\b", face[1])), usable[0]
    )
    logger.debug("PDF documents embed %s (face %d of %s)", name, index, path)
    return CjkFont(Path(path), index, name, frozenset(cmap))


def _faces(path: str) -> list[TTFont]:
    with open(path, "rb") as handle:
        is_collection = handle.read(4) == b"ttcf"
    if is_collection:
        return list(TTCollection(path, lazy=True).fonts)
    return [TTFont(path, lazy=True)]


class _Canvas(FPDF):
    """fpdf2 with our running header and the page count in Chinese."""

    def __init__(self, running_title: str, count_alias: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.running_title = running_title
        self.count_alias = count_alias
        self.cover_pages = 0

    def header(self) -> None:
        if self.page_no() <= self.cover_pages:
            return
        self.set_font("cjk", size=8.5)
        self.set_text_color(110)
        self.set_y(9)
        self.cell(0, 5, self.running_title, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(0)
        self.set_y(MARGIN)

    def footer(self) -> None:
        if self.page_no() <= self.cover_pages:
            return
        self.set_y(_FOOTER_Y)
        self.set_font("cjk", size=9)
        # The alias is replaced by the page total when the document closes.
        self.cell(0, 6, f"第 {self.page_no()} 页 共 {self.count_alias} 页", align="C")


# How many lines of a table cell surely fit on a page below the header row.
_CELL_LINES_PER_PAGE = 36
_MM_PER_PT = 25.4 / 72


def _cell_chars(page_width: float, weights: Sequence[float], size: float) -> list[int]:
    """Characters per line each column surely holds (a CJK character is the widest, 1 em)."""
    weights = [max(w, 1) for w in weights]
    em = size * _MM_PER_PT
    return [max(int((page_width * w / sum(weights) - 3) / em), 1) for w in weights]


def _split_cell(text: str, chars: int) -> list[str]:
    """``text`` in pieces of at most ``_CELL_LINES_PER_PAGE`` lines of ``chars`` characters."""
    budget = _CELL_LINES_PER_PAGE
    if len(text) // chars + text.count("\n") + 1 <= budget:
        return [text]
    pieces: list[str] = []
    current: list[str] = []
    used = 0
    for line in text.split("\n"):
        for start in range(0, max(len(line), 1), chars * budget):
            part = line[start : start + chars * budget]
            need = max(-(-len(part) // chars), 1)
            if used + need > budget:
                pieces.append("\n".join(current))
                current, used = [], 0
            current.append(part)
            used += need
    pieces.append("\n".join(current))
    return pieces


class PdfDocument:
    """An A4 document built top to bottom: cover, headings, paragraphs, tables.

    ``to_bytes()`` finishes it. Every page but the cover carries the title at the top
    and "第 N 页 共 M 页" at the bottom; tables repeat their header row on each page.
    The document's metadata holds ``title``, ``author`` and ``subject``.
    """

    def __init__(self, title: str, *, author: str = "", subject: str = "") -> None:
        self.font = font()
        self._missing: set[int] = set()
        title = self.text(title)
        # Random, so no text a user typed can be the placeholder that becomes the total.
        self.pdf = _Canvas(title, f"{{nb-{secrets.token_hex(4)}}}")
        self.pdf.alias_nb_pages(self.pdf.count_alias)
        self.pdf.add_font("cjk", fname=str(self.font.path), collection_font_number=self.font.index)
        self.pdf.set_margins(MARGIN, MARGIN, MARGIN)
        self.pdf.set_auto_page_break(True, margin=MARGIN)
        self.pdf.set_title(title)
        if author:
            self.pdf.set_author(self.text(author))
        if subject:
            self.pdf.set_subject(self.text(subject))
        self.pdf.set_creator("qcity 质量强市数字化平台")
        self.pdf.set_lang("zh-CN")
        self.pdf.set_creation_date(timezone.now())
        self.pdf.set_font("cjk", size=_TEXT_SIZE)
        self._started = False

    # -- text ---------------------------------------------------------------------------

    def text(self, value: Any) -> str:
        """``value`` as text the document can show: controls and missing glyphs made visible."""
        text = neutralise_bidi("" if value is None else str(value))
        text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", "    ")
        text = _CONTROLS.sub(lambda m: f"[U+{ord(m.group()):04X}]", text)
        codepoints = self.font.codepoints
        if all(ord(c) in codepoints or c in "\n " for c in text):
            return text
        out = []
        for c in text:
            if ord(c) in codepoints or c in "\n ":
                out.append(c)
            else:
                self._missing.add(ord(c))
                out.append(f"[U+{ord(c):04X}]")
        return "".join(out)

    # -- blocks -------------------------------------------------------------------------

    def _page(self) -> None:
        if not self._started:
            self.pdf.add_page()
            self._started = True

    def cover(self, title: str, lines: Sequence[str] = ()) -> None:
        """A cover page (unnumbered): the title large in the upper third, then ``lines`` centred."""
        # The cover is unnumbered and has no running title.
        self.pdf.cover_pages = self.pdf.page_no() + 1
        self.pdf.add_page()
        self._started = True
        width = self.pdf.epw
        self.pdf.set_y(80)
        self.pdf.set_font("cjk", size=22)
        self.pdf.multi_cell(width, 12, self.text(title), align="C", new_x=XPos.LMARGIN)
        self.pdf.ln(12)
        self.pdf.set_font("cjk", size=13)
        for line in lines:
            self.pdf.multi_cell(width, 9, self.text(line), align="C", new_x=XPos.LMARGIN)
        self.pdf.set_font("cjk", size=_TEXT_SIZE)
        self.page_break()

    def page_break(self) -> None:
        self.pdf.add_page()
        self._started = True

    def heading(self, text: str, level: int = 1) -> None:
        self._page()
        size = _HEADING_SIZES.get(level, _HEADING_SIZES[3])
        # Keep a heading with the start of what follows it.
        if self.pdf.will_page_break(size * 0.5 + 3 * _LINE):
            self.pdf.add_page()
        self.pdf.ln(2 if level > 1 else 4)
        self.pdf.set_font("cjk", size=size)
        self.pdf.start_section(self.text(text)[:200], level=max(level - 1, 0))
        self.pdf.multi_cell(0, size * 0.55, self.text(text), align="L", new_x=XPos.LMARGIN)
        self.pdf.ln(1.5)
        self.pdf.set_font("cjk", size=_TEXT_SIZE)

    def paragraph(self, text: str, *, size: float | None = None) -> None:
        self._page()
        self.pdf.set_font("cjk", size=size or _TEXT_SIZE)
        self.pdf.multi_cell(
            0,
            _LINE,
            self.text(text),
            align="L",
            new_x=XPos.LMARGIN,
            wrapmode=WrapMode.CHAR,
        )
        self.pdf.ln(1.5)
        self.pdf.set_font("cjk", size=_TEXT_SIZE)

    def table(self, columns: Sequence[Column], rows: Iterable[Sequence], *, size: float = 9) -> int:
        """A table over the page width (``Column.width`` are proportions); returns its row count.

        The header row repeats on every page; cells wrap, a long word within the cell.
        """
        self._page()
        self.pdf.set_font("cjk", size=size)
        count = 0
        widths = _cell_chars(self.pdf.epw, [c.width for c in columns], size)
        with self.pdf.table(
            col_widths=tuple(max(c.width, 1) for c in columns),
            text_align="LEFT",
            line_height=size * 0.5,
            repeat_headings=1,
            headings_style=FontFace(fill_color=_HEADER_FILL),
            cell_fill_mode=TableCellFillMode.NONE,
            wrapmode=WrapMode.CHAR,
            padding=(1, 1.5),
            v_align="TOP",
        ) as table:
            table.row([self.text(c.header) for c in columns])
            for row in rows:
                cells = [self.text(value) for value in row][: len(columns)]
                cells += [""] * (len(columns) - len(cells))
                # A row cannot break across pages: a cell longer than a page goes on in
                # continuation rows below it instead of failing the whole document.
                pieces = [
                    _split_cell(text, chars) for text, chars in zip(cells, widths, strict=True)
                ]
                for k in range(max(len(p) for p in pieces)):
                    table.row([p[k] if k < len(p) else "" for p in pieces])
                count += 1
        self.pdf.ln(3)
        self.pdf.set_font("cjk", size=_TEXT_SIZE)
        return count

    # -- output -------------------------------------------------------------------------

    @property
    def pages(self) -> int:
        return self.pdf.pages_count

    def to_bytes(self) -> bytes:
        self._page()
        if self._missing:
            logger.info(
                "PDF %r: %d characters not in %s shown as markers",
                self.pdf.running_title[:60],
                len(self._missing),
                self.font.name,
            )
        return bytes(self.pdf.output())


def pdf_response(
    request: HttpRequest,
    data: PdfDocument | bytes,
    filename: str,
    *,
    what: str,
    obj: models.Model | None = None,
) -> HttpResponse:
    """The document as a download, audited as ``export.pdf`` (``what`` names the kind)."""
    details: dict[str, Any] = {"what": what}
    if isinstance(data, PdfDocument):
        content = data.to_bytes()
        details["pages"] = data.pages
    else:
        content = data
    audit.record(
        "export.pdf", by=request.user, obj=obj, ip=request.META.get("REMOTE_ADDR"), details=details
    )
    response = HttpResponse(content, content_type=PDF)
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=safe_filename(filename, default="document.pdf")
    )
    return response


def pdf_refused(
    request: HttpRequest, exc: PdfUnavailable, *, what: str, obj: models.Model | None = None
) -> HttpResponse:
    """The Chinese page for a document that cannot be made (503), audited as a failure."""
    logger.error("PDF %s refused: %s", what, exc.detail)
    audit.record(
        "export.pdf",
        by=request.user,
        obj=obj,
        success=False,
        ip=request.META.get("REMOTE_ADDR"),
        details={"what": what, "refused": exc.code},
    )
    return render(
        request, "core/export_refused.html", {"message": exc.message, "code": exc.code}, status=503
    )
