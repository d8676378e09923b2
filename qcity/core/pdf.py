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
from fpdf import FPDF
from fpdf.enums import XPos, YPos

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
        names = [
            face["name"].getDebugName(4) or face["name"].getDebugName(1) or Path(path).stem
            for face in faces
        ]
    except (OSError, TTLibError, AssertionError, KeyError) as exc:
        raise PdfUnavailable(
            _("%(path)s 无法读取：%(error)s") % {"path": path, "error": exc}
        ) from None
    # In a pan-CJK collection prefer the Simplified Chinese face (Noto: "… SC"): the
    # same code points have mainland glyph shapes there, not Japanese or Korean ones.
    order = sorted(
        range(len(faces)), key=lambda i: not re.search(r"\b(SC|GB|Simplified)\b", names[i])
    )
    for index in order:
        try:
            cmap = faces[index].getBestCmap() or {}
        except (KeyError, TTLibError, AssertionError):
            continue
        if all(ord(c) in cmap for c in _PROBE):
            logger.debug("PDF documents embed %s (face %d of %s)", names[index], index, path)
            return CjkFont(Path(path), index, names[index], frozenset(cmap))
    raise PdfUnavailable(_("%(path)s 不含中文字形") % {"path": path})


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


_MM_PER_PT = 25.4 / 72
_CELL_PAD_X, _CELL_PAD_Y = 1.5, 1.2
# Punctuation that may not start a line (禁则): it stays at the end of the previous one.
_NO_LINE_START = frozenset("，。、；：？！）》」』】〕〉”’,.;:?!)]}%·…—")
_WORD = re.compile(r"[A-Za-z0-9_\-./@:%+#]")


def _wrap(cw: dict[int, float], text: str, room: float) -> list[str]:
    """``text`` in lines no wider than ``room`` (in 1/1000 em), each character measured once.

    Chinese breaks between any two characters; a short Latin word or number moves down
    whole; closing punctuation never starts a line (it hangs at the end of the previous one).
    """
    lines: list[str] = []
    for paragraph in text.split("\n"):
        current: list[str] = []
        used = 0.0
        for char in paragraph:
            w = cw[ord(char)]
            if used + w > room and current and char not in _NO_LINE_START:
                cut = len(current)
                if _WORD.match(char):
                    back = cut
                    while back > 0 and _WORD.match(current[back - 1]) and cut - back < 20:
                        back -= 1
                    if 0 < back < cut and not _WORD.match(current[back - 1]):
                        cut = back
                lines.append("".join(current[:cut]).rstrip())
                current = current[cut:]
                used = sum(cw[ord(c)] for c in current)
                if current == [" "]:
                    current, used = [], 0.0
            current.append(char)
            used += w
        lines.append("".join(current))
    return lines


class _Table:
    """A table drawn line by line with widths fpdf2 already knows.

    fpdf2's own ``table()`` lays each cell out twice and re-measures a line at each
    character (quadratic in the line's length); here each character is measured once
    from the font's width table. A row taller than the space left continues on the
    next page below a repeated header row, so no text is ever dropped.
    """

    def __init__(self, doc: PdfDocument, columns: Sequence[Column], size: float) -> None:
        self.pdf = doc.pdf
        self.size = size
        self.size_mm = size * _MM_PER_PT
        self.line = size * 0.5
        weights = [max(c.width, 1) for c in columns]
        total = sum(weights)
        self.widths = [self.pdf.epw * w / total for w in weights]
        self.lefts = [self.pdf.l_margin + sum(self.widths[:i]) for i in range(len(columns))]
        self.cw = self.pdf.current_font.cw
        self.unit = size / 1000 * _MM_PER_PT  # mm per 1/1000 em
        self.header = [
            self.wrap(doc.text(c.header), w) for c, w in zip(columns, self.widths, strict=True)
        ]

    def wrap(self, text: str, width: float) -> list[str]:
        return _wrap(self.cw, text, (width - 2 * _CELL_PAD_X) / self.unit)

    def _room(self) -> float:
        return self.pdf.page_break_trigger - self.pdf.y

    def _draw(self, cells: list[list[str]], start: int, count: int, *, fill: bool) -> None:
        pdf = self.pdf
        top = pdf.y
        height = count * self.line + 2 * _CELL_PAD_Y
        for left, width, lines in zip(self.lefts, self.widths, cells, strict=True):
            pdf.rect(left, top, width, height, style="DF" if fill else "D")
            baseline = top + _CELL_PAD_Y + (self.line - self.size_mm) / 2 + 0.88 * self.size_mm
            for k, text in enumerate(lines[start : start + count]):
                if text:
                    pdf.text(left + _CELL_PAD_X, baseline + k * self.line, text)
        pdf.set_y(top + height)

    def _new_page(self) -> None:
        self.pdf.add_page()
        self.pdf.set_font("cjk", size=self.size)
        self.draw_header()

    def draw_header(self) -> None:
        self.pdf.set_fill_color(*_HEADER_FILL)
        self._draw(self.header, 0, max(len(h) for h in self.header), fill=True)

    def row(self, cells: list[list[str]]) -> None:
        total = max(len(lines) for lines in cells)
        done, fresh = 0, False
        while done < total:
            fits = int((self._room() - 2 * _CELL_PAD_Y) / self.line)
            rest = total - done
            # Start a row on a new page unless it fits here, or it is taller than a page
            # and a few of its lines fit here; a fresh page always takes at least a line.
            move = fits < 3 or (done == 0 and rest <= self._lines_per_page())
            if fits < rest and move and not fresh:
                self._new_page()
                fresh = True
                continue
            count = max(min(fits, rest), 1)
            self._draw(cells, done, count, fill=False)
            done += count
            fresh = False

    def _lines_per_page(self) -> int:
        header = max(len(h) for h in self.header) * self.line + 2 * _CELL_PAD_Y
        usable = self.pdf.page_break_trigger - MARGIN - header
        return int((usable - 2 * _CELL_PAD_Y) / self.line)


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
        self.pdf.set_y(80)
        self._write(self.text(title), 22, 12, centred=True)
        self.pdf.ln(12)
        for line in lines:
            self._write(self.text(line), 13, 9, centred=True)
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
        self._write(self.text(text), size, size * 0.55)
        self.pdf.ln(1.5)
        self.pdf.set_font("cjk", size=_TEXT_SIZE)

    def paragraph(self, text: str, *, size: float | None = None) -> None:
        self._page()
        self._write(self.text(text), size or _TEXT_SIZE, _LINE)
        self.pdf.ln(1.5)
        self.pdf.set_font("cjk", size=_TEXT_SIZE)

    def _write(self, text: str, size: float, line: float, *, centred: bool = False) -> None:
        """Lines of ``text`` down the page width, breaking pages as needed."""
        pdf = self.pdf
        pdf.set_font("cjk", size=size)
        cw = pdf.current_font.cw
        unit = size / 1000 * _MM_PER_PT
        size_mm = size * _MM_PER_PT
        for each in _wrap(cw, text, pdf.epw / unit):
            if pdf.y + line > pdf.page_break_trigger:
                pdf.add_page()
                pdf.set_font("cjk", size=size)
            x = pdf.l_margin
            if centred:
                x += (pdf.epw - sum(cw[ord(c)] for c in each) * unit) / 2
            if each:
                pdf.text(x, pdf.y + (line - size_mm) / 2 + 0.88 * size_mm, each)
            pdf.set_y(pdf.y + line)

    def table(self, columns: Sequence[Column], rows: Iterable[Sequence], *, size: float = 9) -> int:
        """A table over the page width (``Column.width`` are proportions); returns its row count.

        The header row repeats on every page; cells wrap (a long word within its cell) and
        a row longer than a page goes on over the next pages. Nothing is cut.
        """
        self._page()
        self.pdf.set_font("cjk", size=size)
        self.pdf.set_draw_color(120)
        self.pdf.set_line_width(0.2)
        table = _Table(self, columns, size)
        if table._room() < 4 * table.line:
            self.pdf.add_page()
            self.pdf.set_font("cjk", size=size)
        table.draw_header()
        count = 0
        width = len(columns)
        for row in rows:
            cells = [self.text(value) for value in row][:width]
            cells += [""] * (width - len(cells))
            table.row([table.wrap(text, w) for text, w in zip(cells, table.widths, strict=True)])
            count += 1
        self.pdf.set_x(self.pdf.l_margin)
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
