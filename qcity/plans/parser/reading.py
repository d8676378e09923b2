"""Bytes → text: .txt (UTF-8/GB18030/UTF-16), .docx, .pdf and .html files.

The format is decided by content, not file name. Word tables and HTML tables
come out as tab-separated lines (the annex reader relies on that), Word's
automatic list numbers are restored and PDF line wrapping is undone. Kept apart
from parsing so ``parse_plan_text`` never touches files or optional libraries.
"""

from __future__ import annotations

import html
import io
import os
import re
import zipfile
from html.parser import HTMLParser
from pathlib import Path

from qcity.plans.parser import limits
from qcity.plans.parser.model import PlanParseError
from qcity.plans.parser.outline import _int_to_cn, _marker
from qcity.plans.parser.units import _UNIT_LINE_RE

_IMAGE_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"BM", b"II*\x00", b"MM\x00*", b"RIFF")
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .doc / .wps / .xls: not supported


def read_plan_text(path: str | os.PathLike[str]) -> str:
    """Return the text of a .txt (UTF-8/GB18030/UTF-16), .docx, .pdf or .html file.

    The format is decided by the bytes, because files arrive renamed (a .docx
    saved as .txt, a GBK text saved as .doc) more often than one would like.
    The size is checked before reading (``limits``).
    """
    p = Path(path)
    name = p.name
    if p.is_dir():
        raise PlanParseError("not_a_file", f"这是一个目录，不是文件：{p}")
    if p.exists() and not p.is_file():  # a device such as /dev/zero, a pipe, a socket
        raise PlanParseError("not_a_file", f"这不是普通文件（设备或管道等）：{p}")
    if not p.is_file():
        raise PlanParseError("file_not_found", f"文件不存在：{p}")
    limits.check_file_size(p.stat().st_size, name)
    with p.open("rb") as handle:
        data = handle.read(limits.MAX_FILE_BYTES + 1)  # the file may grow after stat()
    return read_plan_bytes(data, name)


def read_plan_bytes(data: bytes, name: str) -> str:
    """The text of a plan file already in memory (an upload); same formats and limits."""
    limits.check_file_size(len(data), name)
    if not data.strip():
        raise PlanParseError("empty_file", f"文件为空：{name}")
    if data.startswith(b"%PDF-"):
        text = _read_pdf(data, name)
    elif data.startswith(b"PK\x03\x04"):
        text = _read_docx(data, name)
    elif data.startswith(_OLE2_MAGIC):
        raise PlanParseError(
            "unsupported_format", f"不支持旧版Office格式（.doc/.wps），请另存为.docx或PDF：{name}"
        )
    elif data.lstrip().startswith(b"{\\rtf"):
        raise PlanParseError("unsupported_format", f"不支持RTF格式，请另存为.docx或PDF：{name}")
    elif data.startswith(_IMAGE_MAGIC):
        raise PlanParseError("binary_file", f"文件是图片或其他二进制文件，不是文本：{name}")
    else:
        text = _decode_text(data, name)
        if re.match(r"\s*<(?:!doctype\s+html|html|body|div|p)\b", text, re.IGNORECASE):
            text = _html_to_text(text)
    # PDF text layers and UTF-16 files can carry NUL, which PostgreSQL cannot store.
    text = text.replace("\x00", "")
    if not text.strip():
        raise PlanParseError("empty_file", f"文件为空：{name}")
    limits.check_text(text, name)
    return text


_CONTROL_RE = re.compile(r"[\x00-\x08\x0e-\x1f]")  # C0 controls other than \t\n\v\f\r


def _decode_text(data: bytes, name: str) -> str:
    for bom, encoding in (
        (b"\xef\xbb\xbf", "utf-8"),
        (b"\xff\xfe", "utf-16-le"),
        (b"\xfe\xff", "utf-16-be"),
    ):
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(encoding)
            except UnicodeDecodeError:
                raise PlanParseError("undecodable_text", f"文本编码无法识别：{name}") from None
    if b"\x00" in data:  # no text encoding we accept puts NUL bytes in Chinese prose
        raise PlanParseError("binary_file", f"文件是二进制文件，不是文本：{name}")
    for encoding in ("utf-8", "gb18030"):  # gb18030 is a superset of GBK and GB2312
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        controls = len(_CONTROL_RE.findall(text))
        if controls > max(2, len(text) // 100):
            raise PlanParseError("binary_file", f"文件是二进制文件，不是文本：{name}")
        return text
    raise PlanParseError("undecodable_text", f"文本编码无法识别（不是UTF-8或GB18030）：{name}")


def _read_pdf(data: bytes, name: str) -> str:
    try:
        from pypdf import PdfReader
    except ImportError:  # pragma: no cover - pypdf is a declared dependency
        raise PlanParseError("unsupported_format", f"未安装pypdf，无法读取PDF：{name}") from None
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise PlanParseError("unsupported_format", f"PDF已加密，无法读取：{name}")
        limits.check_pdf_pages(len(reader.pages), name)
        pages: list[str] = []
        chars = 0
        for page in reader.pages:
            pages.append(page.extract_text() or "")
            chars += len(pages[-1])
            if chars > limits.MAX_TEXT_CHARS:  # stop extracting, not just refuse afterwards
                limits.check_text("".join(pages), name)
    except PlanParseError:
        raise
    except Exception:  # pypdf raises many exception types for damaged files
        raise PlanParseError("corrupt_file", f"PDF文件已损坏，无法读取：{name}") from None
    text = "\n".join(pages)
    if not text.strip():
        raise PlanParseError("pdf_no_text", f"PDF没有文字层（可能是扫描件），无法解析：{name}")
    return _reflow_pdf_lines(text)


def _reflow_pdf_lines(text: str) -> str:
    """Re-join paragraphs that a PDF broke at the page width.

    A line is glued to the next one only when it is (nearly) full width, does
    not end a sentence and the next line does not start a numbered item, so
    short headings stay on their own line.
    """
    lines = [line.strip() for line in text.splitlines()]
    widths = sorted(len(line) for line in lines if line)
    if not widths:
        return text
    full = widths[int(len(widths) * 0.9)] * 0.8
    out: list[str] = []
    for line in lines:
        previous = out[-1] if out else ""
        # An unclosed "（责任单位：" always continues on the next line.
        unclosed = _bracket_depth(previous) > 0
        wrapped = (
            len(previous) >= full
            and not previous.endswith(tuple("。！？；：:;)）】”"))
            and not _UNIT_LINE_RE.match(line)
        )
        if previous and line and (unclosed or wrapped) and _marker(line) is None:
            out[-1] += line
        else:
            out.append(line)
    return "\n".join(out)


def _bracket_depth(text: str) -> int:
    return sum(text.count(c) for c in "(（") - sum(text.count(c) for c in ")）")


def _read_docx(data: bytes, name: str) -> str:
    limits.check_zip(data, name)  # before python-docx inflates and parses anything
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        is_docx = "word/document.xml" in archive.namelist()
    if not is_docx:
        raise PlanParseError("binary_file", f"文件是压缩包或其他二进制文件，不是Word文档：{name}")
    try:
        import docx
        from docx.table import Table
        from docx.text.paragraph import Paragraph

        document = docx.Document(io.BytesIO(data))
        numbering = _DocxNumbering(document)
        lines: list[str] = []
        # Walk the body in order so tables stay where they are in the document.
        for child in document.element.body.iterchildren():
            tag = child.tag.rsplit("}", 1)[-1]
            if tag == "p":
                paragraph = Paragraph(child, document)
                lines.append(numbering.label(paragraph) + paragraph.text)
            elif tag == "tbl":
                for row in Table(child, document).rows:
                    cells: list[str] = []
                    seen: set[int] = set()
                    for cell in row.cells:
                        if id(cell._tc) in seen:
                            continue  # a horizontally merged cell is listed once per column
                        seen.add(id(cell._tc))
                        # Empty cells keep their column (a 任务分解表 is read by column);
                        # a cell's paragraphs ("市市场监管局" / "市商务局") stay on its line.
                        cells.append(" ".join(cell.text.split()))
                    if any(cells):
                        lines.append("\t".join(cells))
    except PlanParseError:
        raise
    except Exception:
        raise PlanParseError("corrupt_file", f"Word文档已损坏，无法读取：{name}") from None
    text = "\n".join(lines)
    if not text.strip():
        raise PlanParseError("empty_file", f"Word文档没有文字：{name}")
    return text


class _DocxNumbering:
    """Reproduce Word's automatic list numbers ("1." "（一）"), which are not in paragraph text.

    Plans typed with Word's numbering lose every "1." otherwise. This is best
    effort: levels, start values, decimal and Chinese counting formats.
    """

    def __init__(self, document: object) -> None:
        self.levels: dict[str, dict[int, tuple[int, str, str]]] = {}
        self.counters: dict[str, dict[int, int]] = {}
        try:
            self._read(document.part.numbering_part.element)  # type: ignore[attr-defined]
        except Exception:  # no numbering part, or one we do not understand: no labels
            self.levels = {}

    def _read(self, root: object) -> None:
        abstract: dict[str, dict[int, tuple[int, str, str]]] = {}
        for node in root.findall(_w("abstractNum")):  # type: ignore[attr-defined]
            levels = {}
            for lvl in node.findall(_w("lvl")):
                start = lvl.find(_w("start"))
                fmt = lvl.find(_w("numFmt"))
                text = lvl.find(_w("lvlText"))
                levels[int(lvl.get(_w("ilvl")))] = (
                    int(start.get(_w("val"))) if start is not None else 1,
                    fmt.get(_w("val")) if fmt is not None else "decimal",
                    text.get(_w("val")) if text is not None else "",
                )
            abstract[node.get(_w("abstractNumId"))] = levels
        for num in root.findall(_w("num")):  # type: ignore[attr-defined]
            ref = num.find(_w("abstractNumId"))
            if ref is not None:
                self.levels[num.get(_w("numId"))] = abstract.get(ref.get(_w("val")), {})

    def label(self, paragraph: object) -> str:
        if not self.levels:
            return ""
        try:
            num_id, ilvl = self._num_pr(paragraph)
        except Exception:
            return ""
        levels = self.levels.get(num_id or "")
        if not levels or ilvl not in levels or levels[ilvl][1] in ("bullet", "none"):
            return ""
        counters = self.counters.setdefault(num_id, {})
        counters[ilvl] = counters.get(ilvl, levels[ilvl][0] - 1) + 1
        for deeper in [k for k in counters if k > ilvl]:
            del counters[deeper]  # a new parent item restarts its children

        def fill(match: re.Match[str]) -> str:
            level = int(match.group(1)) - 1
            start, fmt, _ = levels.get(level, (1, "decimal", ""))
            value = counters.get(level, start)
            if fmt.startswith(("chinese", "ideograph", "taiwanese", "japanese")):
                return _int_to_cn(value)
            return str(value)

        return re.sub(r"%(\d)", fill, levels[ilvl][2])

    @staticmethod
    def _num_pr(paragraph: object) -> tuple[str | None, int]:
        sources = [paragraph._p.pPr]  # type: ignore[attr-defined]
        style = paragraph.style  # type: ignore[attr-defined]
        while style is not None:  # numbering is often attached to the paragraph style
            sources.append(style.element.pPr)
            style = style.base_style
        for ppr in sources:
            num_pr = ppr.find(_w("numPr")) if ppr is not None else None
            if num_pr is not None and num_pr.find(_w("numId")) is not None:
                ilvl = num_pr.find(_w("ilvl"))
                return (
                    num_pr.find(_w("numId")).get(_w("val")),
                    int(ilvl.get(_w("val"))) if ilvl is not None else 0,
                )
        return None, 0


def _w(tag: str) -> str:
    return "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}" + tag


class _TextExtractor(HTMLParser):
    _BLOCKS = {
        "p",
        "div",
        "br",
        "li",
        "tr",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "section",
        "table",
        "article",
    }

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        elif tag in self._BLOCKS:
            self.parts.append("\n")
        elif tag in ("td", "th"):
            self.parts.append("\t")  # table cells as columns, as a .docx table reads

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def _html_to_text(text: str) -> str:
    # Plans are often saved straight from a government portal as .html.
    extractor = _TextExtractor()
    extractor.feed(text)
    return html.unescape("".join(extractor.parts))
