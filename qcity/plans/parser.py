"""Parse a Chinese government implementation plan (实施方案) into its structure.

The result is chapters → measures (with their 责任单位) and the plan's quantified
targets. The module is pure Python on purpose: it does not use Django or a
database, so ``qcity parse_plan FILE`` and the tests can run it anywhere.

How the structure is found (the genre varies from city to city, so nothing
depends on one document's exact numbering):

1. The file is decoded by its content (magic bytes), not its name.
2. Portal cruft and a 印发通知 in front of the plan are skipped: the plan starts
   at its own title line (…实施方案 / …行动计划 …).
3. Numbered lines (一、 (一) 1. (1) ①) build an outline tree.
4. Sections named like 指导思想/主要目标/保障措施 are set aside; the measure level
   is the outline level whose items each carry exactly one 责任单位 clause, and
   chapters are the headings above them. A plan without any 责任单位 falls back
   to the paragraphs under a section named 重点任务/具体举措/主要任务.
5. A measure that names no 责任单位 takes them from the plan's attached
   任务分解表 (附件), when it has one.
6. Targets are read from the goals section and from the measures' text.
"""

from __future__ import annotations

import html
import io
import os
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from html.parser import HTMLParser
from pathlib import Path

__all__ = [
    "ParsedChapter",
    "ParsedMeasure",
    "ParsedPlan",
    "ParsedTarget",
    "PlanParseError",
    "parse_plan_file",
    "parse_plan_text",
    "plan_to_dict",
    "read_plan_text",
]


class PlanParseError(Exception):
    """A document that cannot be read as a plan; ``code`` is stable, ``message`` is for people."""

    code: str  # empty_file, binary_file, pdf_no_text, unsupported_format, undecodable_text,
    # corrupt_file, no_measures, file_not_found
    message: str  # one line of 简体中文 naming the problem (and the file)

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[type[PlanParseError], tuple[str, str]]:
        return (type(self), (self.code, self.message))  # survives pickling (e.g. task queues)


@dataclass
class ParsedMeasure:
    number: int
    title: str
    text: str
    responsible_units: list[str] = field(default_factory=list)
    lead_units: list[str] = field(default_factory=list)
    units_text: str = ""


@dataclass
class ParsedChapter:
    number: int
    heading: str
    measures: list[ParsedMeasure] = field(default_factory=list)


@dataclass
class ParsedTarget:
    text: str
    indicator: str
    value: int | float
    unit: str
    comparator: str
    year: int | None
    measure_number: int | None = None
    sentence: str = ""


@dataclass
class ParsedPlan:
    title: str
    issuer: str
    chapters: list[ParsedChapter] = field(default_factory=list)
    targets: list[ParsedTarget] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------
# Reading files
# ---------------------------------------------------------------------------

_IMAGE_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"BM", b"II*\x00", b"MM\x00*", b"RIFF")
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .doc / .wps / .xls: not supported


def read_plan_text(path: str | os.PathLike[str]) -> str:
    """Return the text of a .txt (UTF-8/GB18030/UTF-16), .docx, .pdf or .html file.

    The format is decided by the bytes, because files arrive renamed (a .docx
    saved as .txt, a GBK text saved as .doc) more often than one would like.
    """
    p = Path(path)
    name = p.name
    if not p.is_file():
        raise PlanParseError("file_not_found", f"文件不存在：{p}")
    data = p.read_bytes()
    if not data.strip():
        raise PlanParseError("empty_file", f"文件为空：{name}")
    if data.startswith(b"%PDF-"):
        return _read_pdf(data, name)
    if data.startswith(b"PK\x03\x04"):
        return _read_docx(data, name)
    if data.startswith(_OLE2_MAGIC):
        raise PlanParseError(
            "unsupported_format", f"不支持旧版Office格式（.doc/.wps），请另存为.docx或PDF：{name}"
        )
    if data.lstrip().startswith(b"{\\rtf"):
        raise PlanParseError("unsupported_format", f"不支持RTF格式，请另存为.docx或PDF：{name}")
    if data.startswith(_IMAGE_MAGIC):
        raise PlanParseError("binary_file", f"文件是图片或其他二进制文件，不是文本：{name}")
    text = _decode_text(data, name)
    if re.match(r"\s*<(?:!doctype\s+html|html|body|div|p)\b", text, re.IGNORECASE):
        text = _html_to_text(text)
    if not text.strip():
        raise PlanParseError("empty_file", f"文件为空：{name}")
    return text


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
        controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\t\n\r\f\v")
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
        pages = [page.extract_text() or "" for page in reader.pages]
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
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            is_docx = "word/document.xml" in archive.namelist()
    except zipfile.BadZipFile:
        raise PlanParseError("binary_file", f"文件已损坏或是二进制文件：{name}") from None
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


# ---------------------------------------------------------------------------
# Outline: numbered lines → tree
# ---------------------------------------------------------------------------

_CN = "一二三四五六七八九十百零〇两"
_MARKERS: list[tuple[int, re.Pattern[str]]] = [
    (0, re.compile(rf"^第([{_CN}]{{1,4}})(?:部分|章|篇)[\s、.．：:]*")),
    (1, re.compile(rf"^([{_CN}]{{1,4}})\s*[、．.](?![0-9])\s*")),
    (2, re.compile(rf"^[(（]\s*([{_CN}]{{1,4}})\s*[)）][\s、.．]*")),
    (3, re.compile(r"^([0-9０-９]{1,3})\s*[.．、](?![0-9０-９])\s*")),
    (4, re.compile(r"^(?:[(（]\s*([0-9０-９]{1,3})\s*[)）]|([0-9０-９]{1,3})[)）])\s*")),
    (5, re.compile(r"^([①-⑳])\s*")),
]


@dataclass
class _Node:
    rank: int
    number: int
    first: str  # the numbered line without its marker
    raw: str  # the numbered line as written
    parent: _Node | None = None
    content: list[str] = field(default_factory=list)
    children: list[_Node] = field(default_factory=list)
    kind: str | None = None  # own section kind: goals / support / general / tasks
    area: str | None = None  # kind inherited from the nearest classified ancestor

    def lines(self) -> list[str]:
        """This node's text (without its marker) followed by its whole subtree, as written."""
        out = [self.first, *self.content]
        for child in self.children:
            out.append(child.raw)
            out.extend(child.lines()[1:])
        return out

    def walk(self) -> Iterator[_Node]:
        for child in self.children:
            yield child
            yield from child.walk()


def _marker(line: str) -> tuple[int, int, str] | None:
    """(rank, number, rest of line) when the line starts a numbered item."""
    for rank, pattern in _MARKERS:
        match = pattern.match(line)
        if match:
            token = next(g for g in match.groups() if g)
            if rank == 5:
                number = ord(token) - ord("①") + 1
            elif token[0] in _CN:
                number = _cn_to_int(token)
            else:
                number = int(token)
            return rank, number, line[match.end() :]
    return None


def _cn_to_int(token: str) -> int:
    digits = {
        "零": 0,
        "〇": 0,
        "一": 1,
        "二": 2,
        "两": 2,
        "三": 3,
        "四": 4,
        "五": 5,
        "六": 6,
        "七": 7,
        "八": 8,
        "九": 9,
    }
    total = current = 0
    for ch in token:
        if ch in digits:
            current = digits[ch]
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        elif ch == "百":
            total += (current or 1) * 100
            current = 0
    return total + current


def _int_to_cn(value: int) -> str:
    digits = "零一二三四五六七八九"
    if value < 10:
        return digits[value]
    if value < 100:
        tens, ones = divmod(value, 10)
        return (digits[tens] if tens > 1 else "") + "十" + (digits[ones] if ones else "")
    return str(value)


def _build_tree(lines: list[str]) -> _Node:
    root = _Node(rank=-1, number=0, first="", raw="")
    stack = [root]
    for line in lines:
        found = _marker(line)
        if found is None:
            stack[-1].content.append(line)
            continue
        rank, number, rest = found
        while stack[-1].rank >= rank:
            stack.pop()
        node = _Node(rank=rank, number=number, first=rest.strip(), raw=line, parent=stack[-1])
        stack[-1].children.append(node)
        stack.append(node)
    return root


# ---------------------------------------------------------------------------
# Lines: cruft, title, issuer
# ---------------------------------------------------------------------------

_CRUFT_RE = re.compile(
    r"^(?:无障碍|网站公告|您现在的位置|您当前的位置|当前位置|文章来源|信息来源|来源\s*[:：]|"
    r"添加时间|发布时间|发布日期|更新时间|成文日期|发文日期|发文机关|发布机构|索引号|主题分类|"
    r"文号\s*[:：]|阅读|浏览|点击|访问量|字号|【?\s*字体|【?\s*打印|【?\s*关闭|分享到|扫一扫|"
    r"责任编辑|编辑\s*[:：]|作者\s*[:：]|相关链接|首页\s*[>＞])"
)
_END_RE = re.compile(r"^(?:附件|附表)\s*[0-9０-９]*\s*[:：]?|^(?:上一篇|下一篇)")
_PAGE_NUMBER_RE = re.compile(r"^[-—–－\s]*[0-9０-９]{1,3}[-—–－\s]*$")
_TITLE_RE = re.compile(
    r"(?:方案|计划|意见|措施|规划|纲要|办法|细则|要点|举措|行动)"
    r"(?:\s*[(（][^()（）]{1,20}[)）])?$"
)
_NOT_PLACE_RE = re.compile(
    r"质量|强|建设|关于|推进|加快|全面|深入|促进|推动|实施|开展|打造|创建|提升|加强|城区|"
    # 城市/都市 are words unless a one-character name precedes them (凤城市, 成都市).
    r"(?<!^.)城市|(?<!^.)都市|"
    r"市区|县区|园区|社区|景区|辖区|街区|全市|全省|全县|全区|本市|我市|市场|[0-9《》“”(（]|"
    r"委|办公|人民|政府|\s"  # "丹东市委办公室 丹东市…": an office, not a second level
)
_ADMIN_RE = re.compile(r"(?:自治区|自治州|省|市|县|区|盟|旗)")  # not 州: 银州区, 苏州市


def _clean_lines(text: str) -> tuple[list[str], list[str]]:
    """Split into stripped non-empty lines; return (lines, metadata lines dropped as cruft)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x0c", "\n")
    text = text.replace("\u2028", "\n").replace("\u2029", "\n").lstrip("\ufeff")
    lines: list[str] = []
    cruft: list[str] = []
    for raw in text.split("\n"):
        line = raw.strip().lstrip("•·●▪■◆").strip()
        if not line or _PAGE_NUMBER_RE.match(line):
            continue
        if len(line) < 60 and _CRUFT_RE.match(line):
            cruft.append(line)
            continue
        lines.extend(_split_run_on(line))
    return lines, cruft


def _split_run_on(line: str) -> list[str]:
    """Split a whole document that a portal collapsed into one line, before its numbered items."""
    if len(line) < 800:
        return [line]
    pattern = re.compile(
        rf"(?<=[。；;！？\s])\s*(?=[{_CN}]{{1,3}}、|[(（][{_CN}]{{1,3}}[)）]|[0-9]{{1,2}}[.．、](?![0-9]))"
    )
    if len(pattern.findall(line)) < 3:
        return [line]
    # Runs of spaces are where the portal's paragraph breaks were.
    parts = (p.strip() for chunk in pattern.split(line) for p in re.split(r"\s{2,}", chunk))
    return [p for p in parts if p and not (len(p) < 60 and _CRUFT_RE.match(p))]


def _is_title(line: str) -> bool:
    if not 6 <= len(line) <= 100 or _marker(line) is not None:
        return False
    if re.search(r"[:：>＞。；;，,]$|[:：>＞]", line):
        return False
    if line.endswith("通知") or ("印发" in line and "通知" in line):
        return False
    return bool(_TITLE_RE.search(line))


def _find_title(lines: list[str]) -> tuple[int, str]:
    """Index and text of the plan's own title line (-1 if none).

    The first title-like line after any notice wins: a 印发通知 line ends in 通知,
    its "现将…印发给你们" sentence ends in 。, so neither can be taken for it.
    """
    for index, line in enumerate(lines):
        previous = lines[index - 1] if index else ""
        # A title broken over two lines ("铁岭市质量强市建设" / "实施方案"), the second
        # often carrying the period ("实施方案（2023—2025年）").
        if (
            len(re.sub(r"\s*[(（][^()（）]{1,20}[)）]$", "", line)) <= 8
            and previous
            and len(previous) <= 40
            and _TITLE_RE.search(line)
            and not _is_title(previous)
            and _is_title(previous + line)
        ):
            return index, previous + line
        if _is_title(line):
            return index, line
    return -1, ""


def _place_of(text: str) -> str:
    """The leading place name of an organisation or title ("铁岭市人民政府办公室" → "铁岭市").

    Consecutive levels are kept as written ("沈阳市浑南区"); words such as 质量强市
    or 城市 end in an administrative character but are not places.
    """
    # A joint notice of the Party committee: "中共丹东市委办公室" names 丹东市.
    rest = re.sub(r"^(?:中国共产党|中共)", "", text.strip().lstrip("《"))
    place = ""
    while True:
        match = _ADMIN_RE.search(rest[:8])
        if match is None:
            return place
        candidate = rest[: match.end()]
        if len(candidate) < 2 or _NOT_PLACE_RE.search(candidate):
            return place
        place, rest = place + candidate, rest[match.end() :]


def _find_issuer(title: str, before_title: list[str], cruft: list[str]) -> str:
    if _place_of(title):
        return _place_of(title)
    for line in before_title:  # the notice: "XX市人民政府办公室关于印发…的通知", signature line
        if "关于印发" in line or re.search(r"(?:人民政府|办公室|办公厅|委员会)$", line):
            place = _place_of(line)
            if place:
                return place
    for line in cruft:  # portal metadata: 发文机关：… / 文章来源：…
        value = re.split(r"[:：]", line, maxsplit=1)[-1]
        place = _place_of(value)
        if place:
            return place
    return ""


# ---------------------------------------------------------------------------
# Sections: which outline headings are goals / safeguards / tasks
# ---------------------------------------------------------------------------

_KINDS = [
    (
        "goals",
        "主要目标|任务目标|工作目标|发展目标|总体目标|目标任务|建设目标|预期目标|具体目标|"
        "目标要求|主要指标|行动目标|目标",
    ),
    (
        "support",
        "保障措施|组织保障|组织实施|保障机制|工作要求|实施步骤|工作步骤|进度安排|时间安排|"
        "实施保障|工作保障|组织领导|职责分工|实施要求|推进机制|有关要求|监督考核|考核评估|"
        "步骤安排|实施进度|强化保障|加强保障|保障体系",
    ),
    (
        "general",
        "总体要求|指导思想|基本原则|工作原则|总体思路|基本思路|工作思路|重要意义|编制依据|"
        "适用范围|现状|背景",
    ),
    (
        "tasks",
        "重点任务|主要任务|具体举措|主要举措|重点举措|重点工作|工作任务|主要措施|具体措施|"
        "重点措施|任务举措|工作措施|具体任务|主要内容|重点内容|任务措施|行动内容|重点行动",
    ),
]
_KIND_RES = [(kind, re.compile(rf".{{0,4}}(?:{words}).{{0,4}}")) for kind, words in _KINDS]


def _heading_of(first: str) -> str:
    """A node's heading: its first sentence, without closing punctuation."""
    head = re.split(r"[。！？]", first, maxsplit=1)[0]
    return head.strip().rstrip("：:，,；;、 ").strip()


def _classify(node: _Node) -> str | None:
    head = _heading_of(node.first)
    if len(head) > 14:
        return None
    for kind, pattern in _KIND_RES:
        if pattern.fullmatch(head):
            return kind
    return None


def _mark_areas(root: _Node) -> None:
    def visit(node: _Node, area: str | None) -> None:
        for child in node.children:
            child.kind = _classify(child) if area != "tasks" else None
            # Inside a tasks section a measure titled "加强组织领导" is still a measure.
            child.area = area if area == "tasks" else (child.kind or area)
            visit(child, child.area)

    visit(root, None)


# ---------------------------------------------------------------------------
# 责任单位 clauses
# ---------------------------------------------------------------------------

_LABELS = (
    r"责任单位|牵头单位|责任部门|牵头部门|主责单位|主办单位|负责单位|配合单位|配合部门|"
    r"协办单位|协办部门|参与单位|参加单位|协同单位|责任主体|完成时限|完成时间|时间节点|时限要求"
)
_LEAD_LABELS = {"牵头单位", "牵头部门", "主责单位", "主办单位"}
_TIME_LABELS = {"完成时限", "完成时间", "时间节点", "时限要求"}
_LABEL_RE = re.compile(
    rf"(?P<open>[(（【\[〔]?)\s*(?P<label>{_LABELS})\s*(?P<close>[】\]〕]?)\s*(?P<colon>[:：]?)"
)
_UNIT_LINE_RE = re.compile(rf"^[(（【\[〔]?\s*(?:{_LABELS})\s*[】\]〕]?\s*[:：]?")
_UNIT_SUFFIX_RE = re.compile(
    r"(?:局|委|办|厅|府|院|会|部|门|中心|关|行|司|队|所|站|室|处|科|署|社|团|组|馆|台|校|联|协|盟|"
    r"区|县|市|镇|乡|街道|单位|机构|集团|企业|学|园|场|厂|军|庭|狱|省|州|旗)$"
)
_SUFFIX_WORDS = (
    "按照职责分工负责",
    "按职责分工负责",
    "按职责负责",
    "依职责负责",
    "分工负责",
    "分别负责",
    "共同负责",
    "负责",
    "配合",
    "参与",
    "协助",
    "协同",
    "落实",
    "等相关部门",  # "市市场监管局等有关部门": the named unit, not a second one
    "等有关部门",
    "等相关单位",
    "等有关单位",
    "等成员单位",
    "等单位",
    "等部门",
    "等",
)


def _is_label_match(text: str, match: re.Match[str]) -> bool:
    opened, closed = match.group("open"), match.group("close")
    if not (match.group("colon") or (opened in ("【", "[", "〔") and opened and closed)):
        return False
    # "明确责任单位：" inside a sentence is prose, not the clause.
    start = match.start("label") if not opened else match.start()
    return bool(opened) or start == 0 or text[start - 1] in "\n。；;，, \u3000\t"


def _find_clause(text: str) -> tuple[int, int] | None:
    """Span of the measure's 责任单位 clause in ``text``, or None.

    A labelled clause ((责任单位：…) 【责任单位】… 牵头单位：…；配合单位：…) is found
    wherever it is; the unlabelled "(A牵头，B、C配合)" form only at the very end.
    """
    labels = [m for m in _LABEL_RE.finditer(text) if _is_label_match(text, m)]
    if labels:
        first = last = labels[-1]
        for match in reversed(labels[:-1]):
            # Labels belong to one clause unless a sentence of prose separates them.
            if re.search(r"。(?!\s*$)", text[match.end() : first.start()]):
                break
            first = match
        start = first.start()
        if first.group("open") in ("(", "（"):
            close = _match_close(text, start)
            if close != -1:
                return start, close + 1
        line_end = text.find("\n", last.end())
        line_end = len(text) if line_end == -1 else line_end
        stop = text.find("。", last.end(), line_end)
        return start, (stop + 1 if stop != -1 else line_end)
    body = text.rstrip().rstrip("。.；;")
    if body.endswith((")", "）")):
        start = _match_open(body, len(body) - 1)
        if start > 0 and _looks_like_units(body[start + 1 : -1]):
            return start, len(body)
    return None


def _match_close(text: str, start: int) -> int:
    depth = 0
    for index in range(start, len(text)):
        if text[index] in "(（":
            depth += 1
        elif text[index] in ")）":
            depth -= 1
            if depth == 0:
                return index
    return -1


def _match_open(text: str, end: int) -> int:
    depth = 0
    for index in range(end, -1, -1):
        if text[index] in ")）":
            depth += 1
        elif text[index] in "(（":
            depth -= 1
            if depth == 0:
                return index
    return -1


def _looks_like_units(inner: str) -> bool:
    if not inner or len(inner) > 300 or "。" in inner:
        return False
    if re.search(r"牵头|按职责分工|分工负责", inner):
        return True
    parts = [_strip_unit_suffix(p)[0] for p in _split_top(inner, "、，,；; \u3000")]
    parts = [p for p in parts if p]
    return bool(parts) and all(_is_unit_name(p) for p in parts)


def _split_top(text: str, seps: str) -> list[str]:
    """Split on separators outside brackets ("各县(市)区政府" stays whole)."""
    parts: list[str] = []
    depth = 0
    buf: list[str] = []
    for ch in text:
        if ch in "(（《“[【〔":
            depth += 1
        elif ch in ")）》”]】〕" and depth:
            depth -= 1
        if ch in seps and depth == 0:
            parts.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
    parts.append("".join(buf))
    return parts


def _strip_unit_suffix(phrase: str) -> tuple[str, bool]:
    """Remove "牵头"/"按职责分工负责"/"配合" tails; report whether "牵头" was among them."""
    phrase = phrase.strip().strip("。.")
    lead = False
    changed = True
    while changed and phrase:
        changed = False
        marked = re.search(r"[(（](牵头|牵头单位|主责|配合|配合单位)[)）]$", phrase)
        if marked:  # "市市场监管局（牵头）"
            phrase, changed = phrase[: marked.start()].rstrip(), True
            lead = lead or marked.group(1) in ("牵头", "牵头单位", "主责")
            continue
        if phrase.endswith("牵头"):
            phrase, lead, changed = phrase[:-2].rstrip(), True, True
            continue
        for word in _SUFFIX_WORDS:
            if phrase.endswith(word) and len(phrase) > len(word):
                phrase, changed = phrase[: -len(word)].rstrip(), True
                break
    return phrase.strip(), lead


def _is_unit_name(name: str) -> bool:
    # "各镇(街道)" is judged by "各镇": a trailing bracket only qualifies the name.
    core = re.sub(r"[(（][^()（）]*[)）]$", "", name)
    return (
        2 <= len(name) <= 40
        and not re.search(r"[0-9０-９。！？]", name)
        and bool(_UNIT_SUFFIX_RE.search(core))
    )


def _parse_units(raw: str) -> tuple[list[str], list[str], list[str]]:
    """(responsible, lead, rejected parts) of a clause, as written and in order."""
    inner = raw.strip().rstrip("。.；; ")
    if inner[:1] in "(（" and _match_close(inner, 0) == len(inner) - 1:
        inner = inner[1:-1]
    segments: list[tuple[str, str]] = []
    label, position = "", 0
    for match in re.finditer(rf"[【\[〔]?\s*({_LABELS})\s*[】\]〕]?\s*[:：]?", inner):
        segments.append((label, inner[position : match.start()]))
        label, position = match.group(1), match.end()
    segments.append((label, inner[position:]))

    responsible: list[str] = []
    leads: list[str] = []
    rejected: list[str] = []
    for label, segment in segments:
        if label in _TIME_LABELS:
            continue  # "完成时限：2025年底" is not a unit
        for phrase in _split_top(segment, "，,；;\n"):
            phrase, phrase_lead = _strip_unit_suffix(phrase)
            for part in _split_top(phrase, "、 \u3000\t"):
                name, part_lead = _strip_unit_suffix(part)
                if name.startswith("由") and _is_unit_name(name[1:]):
                    name = name[1:]  # "（由市商务局牵头，…）"
                if not name:
                    continue
                if not _is_unit_name(name):
                    rejected.append(name)
                    continue
                responsible.append(name)
                if phrase_lead or part_lead or label in _LEAD_LABELS:
                    leads.append(name)
    return _dedupe(responsible), _dedupe(leads), rejected


def _dedupe(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _clause_count(lines: list[str]) -> int:
    """How many separate 责任单位 clauses lines carry (consecutive label lines count once)."""
    count = 0
    previous_was_clause_line = False
    for line in lines:
        span = _find_clause(line)
        clause_only = span is not None and span[0] == 0
        if span is not None and not (clause_only and previous_was_clause_line):
            count += 1
        previous_was_clause_line = clause_only
    return count


class _TaskTable:
    """The 任务分解表 attached to a plan ("附件：…重点任务分解表"), as its rows' units.

    Many plans name no 责任单位 in the text ("详见附件") and put them in a table
    instead: 序号 | 重点任务 | 工作内容 | 牵头单位 | 配合单位 | 完成时限. A row stands
    for the measure with the same task name, or else with the same number (only
    when the plan numbers its measures straight through). The table arrives as
    tab-separated lines (.docx, .html and Word's "save as text" all give that).
    """

    def __init__(self, lines: list[str]) -> None:
        self.by_number = False  # set once the plan's numbering is known
        self.rows: list[tuple[int, list[str], str]] = []  # (序号, task cells, units text)
        header: list[str] = []
        for line in lines:
            cells = [" ".join(c.split()) for c in line.split("\t")]
            if _table_unit_columns(cells):
                header = [c.replace(" ", "") for c in cells]  # "牵头 单位" wrapped in its cell
                if not any(re.search(r"任务|措施|举措|工作|事项", c) for c in header):
                    header = []  # a 指标表 (指标名称 | 目标值 | 责任单位) is not about measures
                continue
            number_col = next((i for i, c in enumerate(header) if c in ("序号", "编号")), 0)
            # Trailing empty cells are lost when a line is stripped; never guess more cells.
            if not header or len(cells) > len(header) or len(cells) <= number_col:
                continue
            cells += [""] * (len(header) - len(cells))
            if not re.fullmatch(r"[0-9０-９]{1,3}", cells[number_col]):
                continue  # a category row ("一\t提升产业质量") or a wrapped cell
            unit_cols = _table_unit_columns(header)
            units = "；".join(f"{header[i]}：{cells[i]}" for i in unit_cols if cells[i])
            tasks = [
                c
                for i, c in enumerate(cells)
                if i != number_col and i not in unit_cols and not _UNIT_LINE_RE.match(header[i])
            ]
            self.rows.append((int(_to_ascii_digits(cells[number_col])), tasks, units))

    def units_for(self, title: str, number: int) -> str:
        key = _plain(title)
        for _, tasks, units in self.rows:
            if key and any(_plain(task) == key for task in tasks):
                return units
        if self.by_number:
            for row_number, _, units in self.rows:
                if row_number == number:
                    return units
        return ""


def _table_unit_columns(cells: list[str]) -> list[int]:
    """Indices of a header row's unit columns (牵头单位, 配合单位, 责任单位…); [] if no header."""
    if len(cells) < 3:
        return []
    names = [cell.replace(" ", "") for cell in cells]
    return [
        i
        for i, name in enumerate(names)
        if re.fullmatch(rf"(?:{_LABELS})", name) and name not in _TIME_LABELS
    ]


def _plain(text: str) -> str:
    return re.sub(r"[\s\W_]+", "", text)


def _to_ascii_digits(text: str) -> str:
    return text.translate(str.maketrans("０１２３４５６７８９", "0123456789"))


# ---------------------------------------------------------------------------
# Targets
# ---------------------------------------------------------------------------

_NUM = r"[0-9０-９]+(?:[.．][0-9０-９]+)?"
_UNITS = (
    "个百分点|百分点|个工作日|工作日|万人次|人次|万人|亿元|万元|千元|元|亿美元|万美元|"
    "美元|亿|万|万户|户|家次|家|个|项|张|件|批|次|所|座|处|条|套|台|辆|名|位|种|类|款|部|"
    "支|只|万吨|吨|千克|公斤|万亩|亩|公顷|万平方米|平方米|平方公里|公里|千米|米|万千瓦|"
    "千瓦|兆瓦|小时|分钟|天|分|倍|岁|微克/立方米|毫克/升|%|％|‰"
)
_VERBS = (
    "稳定在|稳定于|保持在|维持在|控制在|提高到|提高至|提升到|提升至|增加到|增加至|"
    "增长到|增长至|增至|升至|降至|降低到|降低至|下降到|下降至|减少到|减少至|压缩到|"
    "压缩至|压减到|压减至|缩减到|缩减至|减至|扩大到|扩大至|缩短到|缩短至|"
    "不低于|不少于|不小于|不超过|不高于|不多于|不大于|超过|高于|"
    "大于|低于|少于|小于|突破|达到|达|提高|提升|增长|增加|下降|降低|减少|保持|稳定|"
    "控制|累计|为"
)
_SUFFIXES = r"及以上|及以下|以上|以下|以内|之内|左右"
_TARGET_RE = re.compile(
    rf"^(?P<ind>.+?)(?P<verb>{_VERBS})?(?P<num>{_NUM})\s*(?P<unit>{_UNITS})?"
    rf"(?P<suf>{_SUFFIXES})?$"
)
# "A合格率和B合格率分别达到98%、95%以上": one value for each indicator, in order.
_RESPECTIVE_RE = re.compile(
    rf"^(?P<ind>.+?)分别(?P<verb>{_VERBS})?"
    rf"(?P<vals>{_NUM}\s*(?:{_UNITS})?(?:\s*(?:、|和|及|与|,|，)\s*{_NUM}\s*(?:{_UNITS})?)+)"
    rf"(?P<suf>{_SUFFIXES})?$"
)
_VALUE_END_RE = re.compile(rf"{_NUM}\s*(?:{_UNITS})?\s*(?:{_SUFFIXES})?$")
_ZERO_RE = re.compile(r"^(?:实现)?(?P<ind>.+?)(?:实现)?零发生$")
# "2024年6月底前", "到2025年10月1日": the month and day do not change the year.
_DATE_TAIL = r"(?:[0-9]{1,2}\s*月份?(?:[0-9]{1,2}\s*日)?)?"
_DEADLINE_RE = re.compile(
    rf"(?:到|至|截至|截止到?)\s*([12][0-9]{{3}})\s*年{_DATE_TAIL}(?![0-9])"
    rf"|([12][0-9]{{3}})\s*年\s*{_DATE_TAIL}\s*(?:底|末|年底|年末)?\s*(?:前|以前|之前)"
    rf"|([12][0-9]{{3}})\s*年\s*{_DATE_TAIL}\s*(?:底|末)"
    # A 年度工作要点 states its goals as "2024年，全市…": a year opening a sentence.
    rf"|^\s*([12][0-9]{{3}})\s*年\s*{_DATE_TAIL}\s*[,，]"
)
_RANGE_YEAR_RE = re.compile(r"[12][0-9]{3}\s*年?\s*[—\-–~～至到]+\s*([12][0-9]{3})\s*年")
_LEADING_FRAME_RE = re.compile(
    r"^(?:(?:预计|力争|争取|确保|努力)\s*)?(?:(?:到|至|截至|截止到?)\s*)?[12][0-9]{3}\s*年\s*"
    rf"{_DATE_TAIL}\s*(?:底|末|年底|年末)?\s*(?:前|以前|之前)?\s*[,，]?\s*"
)
_INDICATOR_PREFIX_RE = re.compile(
    # "力争5年内新培育…", "用三年时间建成…": a time frame is not part of the indicator.
    r"^(?:力争|确保|争取|努力|预计|实现|"
    r"(?:用|经过|通过)?(?:[0-9]{1,2}|[一二三四五六七八九十两]{1,2})\s*年(?:左右)?(?:内|时间)[，,]?)+"
)
# "A和B均稳定在98%以上" sets A and B; "…强度较2022年提高0.5个百分点" names a base year.
_INDICATOR_SUFFIX_RE = re.compile(
    r"(?:(?<![平人户年亩])均|分别|全部"
    r"|(?:较|比|相比)\s*(?:[12][0-9]{3}\s*年(?:底|末)?|上年|上一年|基期))$"
)
_METRIC_END_RE = re.compile(r"(?:率|比例|比重|占比|指数|度|量|额|数|值|规模|总量|产值)$")


def _deadline(text: str) -> int | None:
    years = [int(next(g for g in m.groups() if g)) for m in _DEADLINE_RE.finditer(text)]
    return years[-1] if years else None


def _sentences(text: str) -> Iterator[str]:
    for line in text.split("\n"):
        found = _marker(line)
        if found is not None:  # "1.检验检测机构达到60家" → the number is not the indicator's
            line = found[2]
        for sentence in re.findall(r"[^。！？!?]+[。！？!?]?", line):
            if sentence.strip():
                yield sentence.strip()


def _match_target(clause: str) -> list[tuple[str, str, int | float, str, str]]:
    """(text, indicator, value, unit, comparator) for each indicator a clause sets."""
    text = _LEADING_FRAME_RE.sub("", clause.strip()).strip()
    if not text or len(text) > 120:
        return []
    zero = _ZERO_RE.match(text)
    if zero:
        indicator, values, comparator = zero.group("ind"), [(0, "")], "="
    else:
        respective = _RESPECTIVE_RE.match(text)
        match = respective or _TARGET_RE.match(text)
        if match is None:
            return []
        indicator, verb = match.group("ind"), match.group("verb") or ""
        suffix = match.group("suf") or ""
        if respective:
            found = re.findall(rf"({_NUM})\s*({_UNITS})?", match.group("vals"))
            # "95、98%": a value written without its unit shares the last one's.
            raw = [(number, unit or found[-1][1] or None) for number, unit in found]
        else:
            raw = [(match.group("num"), match.group("unit"))]
        if raw[0][1] is None and not (verb or suffix):
            return []  # a bare number ("畅通12315") is not a target
        if re.search(r"[A-Za-z0-9_\-/.·第]$", indicator):
            return []  # ISO9001, GB/T 19001, 第3…
        if raw[0][1] is None and re.fullmatch(r"(?:19|20)[0-9]{2}", raw[0][0]):
            return []
        values = [(_number(number), (unit or "").replace("％", "%")) for number, unit in raw]
        comparator = _comparator(verb, suffix)
        at_least = re.search(r"至少|最少|最低", indicator)
        if at_least and comparator == "=":  # "每年至少开展帮扶活动2次"
            indicator, comparator = indicator.replace(at_least.group(0), "", 1), ">="
        if verb in _CHANGE_VERBS and re.search(r"(?:年均|平均|每年)$", indicator):
            indicator += verb  # "增加值年均增长10%": the value is a growth rate, not a level
    indicator = _INDICATOR_PREFIX_RE.sub("", indicator.strip()).strip(" ，,：:")
    indicator = _INDICATOR_SUFFIX_RE.sub("", indicator).strip(" ，,：:")
    if len(re.findall(r"[\u4e00-\u9fff]", indicator)) < 2 or len(indicator) > 60:
        return []
    parts = [p.strip() for p in re.split(r"以及|和|及|与|、", indicator)]
    named = len(parts) > 1 and all(p and _METRIC_END_RE.search(p) for p in parts)
    if len(values) > 1:
        if named and len(parts) == len(values):
            return [
                (text, name, v, u, comparator) for name, (v, u) in zip(parts, values, strict=True)
            ]
        # "食品、药品抽检合格率分别达到…": which words each value shares is guesswork,
        # so every value keeps the indicator as written.
        return [(text, indicator, v, u, comparator) for v, u in values]
    value, unit = values[0]
    # "A合格率和B合格率稳定在98%以上" sets both.
    indicators = parts if named else [indicator]
    return [(text, name, value, unit, comparator) for name in indicators]


def _number(text: str) -> int | float:
    as_float = float(_to_ascii_digits(text.replace("．", ".")))
    return int(as_float) if as_float.is_integer() else as_float


def _value_runs(clause: str) -> list[str]:
    """Split "制修订地方标准10项以上、团体标准20项以上" into one clause per value.

    A 、 only ends a target when the words before it already state one, so
    "国家标准、行业标准10项以上" stays whole.
    """
    if "分别" in clause:
        return [clause]
    runs: list[str] = []
    current = ""
    for piece in _split_top(clause, "、"):
        current = f"{current}、{piece}" if current else piece
        if _VALUE_END_RE.search(current) and _match_target(current):
            runs.append(current)
            current = ""
    if current:
        runs.append(current)
    return runs


_CHANGE_VERBS = ("增长", "提高", "提升", "增加", "下降", "降低", "减少")


def _comparator(verb: str, suffix: str) -> str:
    if suffix in ("以上", "及以上") or verb in ("不低于", "不少于", "不小于", "突破"):
        return ">="
    if suffix in ("以下", "及以下", "以内", "之内") or verb.startswith("控制"):
        return "<="
    if verb in ("不超过", "不高于", "不多于", "不大于"):
        return "<="
    if verb in ("超过", "高于", "大于"):
        return ">"
    if verb in ("低于", "少于", "小于"):
        return "<"
    return "="


def _targets_in(
    text: str, measure_number: int | None, context_year: int | None
) -> tuple[list[ParsedTarget], int | None]:
    """Targets in ``text`` and the last deadline seen (to carry into the next section).

    A target's year is the deadline before it in its sentence, else the nearest
    one in an earlier sentence ("到2025年，…。…合格率稳定在98%以上。").
    """
    found: list[ParsedTarget] = []
    year_before = context_year
    for sentence in _sentences(text):
        clauses = _split_top(sentence.rstrip("。！？!?"), "，,；;")
        offset = 0
        for clause in clauses:
            offset += len(clause) + 1
            matches = [m for run in _value_runs(clause) for m in _match_target(run)]
            if not matches:
                continue
            year = _deadline(sentence[:offset]) or year_before
            if re.search(r"每年|年均|每季度|每月", clause):
                # A recurring target ("每年至少开展…2次") runs to the plan's end, whatever
                # deadline a neighbouring clause set; the caller fills in the plan's year.
                year = None
            for target_text, indicator, value, unit, comparator in matches:
                found.append(
                    ParsedTarget(
                        text=target_text,
                        indicator=indicator,
                        value=value,
                        unit=unit,
                        comparator=comparator,
                        year=year,
                        measure_number=measure_number,
                        sentence=sentence,
                    )
                )
        year_before = _deadline(sentence) or year_before
    return found, year_before


# ---------------------------------------------------------------------------
# Assembling the plan
# ---------------------------------------------------------------------------


def parse_plan_text(text: str) -> ParsedPlan:
    """Parse a plan's text; raises PlanParseError("empty_file" / "no_measures")."""
    lines, cruft = _clean_lines(text or "")
    if not lines:
        raise PlanParseError("empty_file", "文本为空，没有可解析的内容")
    title, preamble, body, annex, has_title_line = _split_preamble(lines)
    problems: list[str] = [] if title else ["未识别到方案标题"]

    root = _build_tree(body)
    _mark_areas(root)
    chapter_nodes, measure_rank = _find_chapters(root, plan_like=has_title_line)
    if not chapter_nodes:
        raise PlanParseError("no_measures", "未识别到任何措施条目，文本可能不是实施方案")
    chapters = _make_chapters(chapter_nodes, measure_rank, problems, _TaskTable(annex))

    # A target without its own deadline is due when the plan's goals are ("到2025年，…").
    range_year = _RANGE_YEAR_RE.search(title)
    single_years = re.findall(r"(?<![0-9])([12][0-9]{3})\s*年", title)  # "…2024年工作要点"
    if range_year:
        title_year: int | None = int(range_year.group(1))
    else:
        title_year = int(single_years[0]) if len(single_years) == 1 else None
    targets = _goal_targets(root, title_year)
    plan_year = _first_goal_deadline(root) or title_year
    for chapter in chapters:
        for measure in chapter.measures:
            targets.extend(_targets_in(measure.text, measure.number, None)[0])
    for target in targets:
        target.year = target.year or plan_year
    return ParsedPlan(
        title=title,
        issuer=_find_issuer(title, preamble, cruft),
        chapters=chapters,
        targets=targets,
        problems=problems,
    )


def _split_preamble(lines: list[str]) -> tuple[str, list[str], list[str], list[str], bool]:
    """(title, lines before the plan, the plan's body, its attachments, whether a title
    line was found).

    The body starts after the plan's own title and stops at its attachments.
    Without a title line the body is everything and only a 印发通知 names the plan.
    """
    title_index, title = _find_title(lines)
    first_item = next((i for i, line in enumerate(lines) if _marker(line)), len(lines))
    preamble = lines[:title_index] if title_index >= 0 else lines[:first_item]
    body = lines[title_index + 1 :]
    annex: list[str] = []
    seen_item = False
    for index, line in enumerate(body):
        seen_item = seen_item or _marker(line) is not None
        # "附件：…" before any numbered item belongs to a notice, after them it ends the plan.
        if seen_item and _END_RE.match(line):
            body, annex = body[:index], body[index:]
            break
    if not title:
        for line in preamble:
            notice = re.search(r"印发\s*[《<]?(.+?)[》>]?\s*的?通知", line)
            if notice and _TITLE_RE.search(notice.group(1).strip()):
                title = notice.group(1).strip()
                break
    return title, preamble, body, annex, title_index >= 0


def _make_chapters(
    nodes: list[_Node], measure_rank: int, problems: list[str], table: _TaskTable
) -> list[ParsedChapter]:
    chapters: list[ParsedChapter] = []
    issues: list[tuple[ParsedChapter, int, str]] = []
    groups = [
        [
            child
            for child in node.children
            if child.rank == measure_rank and child.area not in ("goals", "support", "general")
        ]
        for node in nodes
    ]
    all_numbers = [child.number for group in groups for child in group]
    # A table's 序号 can only stand for a measure when measures are numbered straight through.
    table.by_number = len(set(all_numbers)) == len(all_numbers)
    for node, group in zip(nodes, groups, strict=True):
        chapter = ParsedChapter(
            number=node.number if node.rank >= 0 else 1,
            heading=_heading_of(node.first) if node.rank >= 0 else "",
        )
        for child in group:
            measure, issue = _make_measure(child, table)
            chapter.measures.append(measure)
            if issue:
                issues.append((chapter, measure.number, issue))
        chapters.append(chapter)
    numbers = [m.number for c in chapters for m in c.measures]
    for chapter, number, issue in issues:
        # With numbering restarting per chapter "第2条" alone would be ambiguous.
        where = f"“{chapter.heading}”" if numbers.count(number) > 1 else ""
        problems.append(f"{where}第{number}条措施{issue}")
    _check_numbering(chapters, problems)
    return chapters


def _find_chapters(root: _Node, plan_like: bool) -> tuple[list[_Node], int]:
    """Chapter nodes (in order) and the outline rank of their measures."""
    candidates = [n for n in root.walk() if n.area not in ("goals", "support", "general")]
    clause_counts = {id(n): _clause_count(n.lines()) for n in candidates}
    scores: dict[int, float] = {}
    for node in candidates:
        count = clause_counts[id(node)]
        # Measures carry exactly one clause; chapters several; sub-items mostly none.
        delta = 1.0 if count == 1 else (-0.5 if count == 0 else -1.0)
        scores[node.rank] = scores.get(node.rank, 0.0) + delta
    bearing = [n for n in candidates if clause_counts[id(n)] == 1]
    if bearing and max(scores.values()) > 0:
        best = max(scores.values())
        measure_rank = max(rank for rank, score in scores.items() if score == best)
        anchors = [n for n in bearing if n.rank == measure_rank]
    else:
        measure_rank, anchors = _fallback_measures(root, plan_like)
        if not anchors:
            return [], measure_rank
    parents = _dedupe_nodes(n.parent for n in anchors if n.parent is not None)
    chapters = _fill_between(root, parents, measure_rank)
    return chapters, measure_rank


def _fallback_measures(root: _Node, plan_like: bool) -> tuple[int, list[_Node]]:
    """Without any 责任单位, measures are the body paragraphs under a 重点任务-like section.

    A plan with a plan title and 总体要求/保障措施-like sections but no such section
    name (纲要 style: 二、…  三、… are the chapters) uses all its other sections.
    """
    tasks = [n for n in root.walk() if n.kind == "tasks"]
    nodes = [d for t in tasks for d in t.walk()]
    if not tasks and plan_like and any(n.kind for n in root.walk()):
        nodes = [n for n in root.walk() if n.area is None]
    for rank in sorted({n.rank for n in nodes}):
        at_rank = [n for n in nodes if n.rank == rank]
        # Chapter headings are a bare phrase; measures have sentences of their own.
        with_body = [n for n in at_rank if "。" in "".join([n.first, *n.content]).rstrip("。")]
        if len(with_body) * 2 >= len(at_rank):
            return rank, at_rank
    return -1, []


def _dedupe_nodes(nodes: Iterable[_Node]) -> list[_Node]:
    seen: dict[int, _Node] = {}
    for node in nodes:
        seen.setdefault(id(node), node)
    return list(seen.values())


def _fill_between(root: _Node, parents: list[_Node], measure_rank: int) -> list[_Node]:
    """Add chapters whose measures all lack 责任单位 when they sit between found chapters."""
    order = {id(n): i for i, n in enumerate(root.walk())}
    order[id(root)] = -1
    ranks = {p.rank for p in parents}
    low = min(order[id(p)] for p in parents)
    high = max(order[id(p)] for p in parents)
    extra = [
        n
        for n in root.walk()
        if n.rank in ranks
        and low < order[id(n)] < high
        and n.area not in ("goals", "support", "general")
        and any(c.rank == measure_rank for c in n.children)
    ]
    return sorted(_dedupe_nodes([*parents, *extra]), key=lambda n: order[id(n)])


def _make_measure(node: _Node, table: _TaskTable) -> tuple[ParsedMeasure, str]:
    """The measure at ``node`` and, if its 责任单位 could not be read, what went wrong.

    Units written with the measure win; otherwise they come from the plan's
    任务分解表 when it has a row for the measure.
    """
    full = "\n".join(node.lines()).strip()
    span = _find_clause(full)
    text, issue = full, ""
    responsible: list[str] = []
    leads: list[str] = []
    rejected: list[str] = []
    clauses: list[str] = []
    # Steps "（1）…（责任单位：A）（2）…（责任单位：B）" each name their own units;
    # the measure is responsible for all of them.
    parts = ["\n".join([node.first, *node.content])]
    parts += ["\n".join([child.raw, *child.lines()[1:]]) for child in node.children]
    part_spans = [(part, _find_clause(part)) for part in parts]
    if sum(1 for _, found in part_spans if found) > 1:
        texts = []
        for part, found in part_spans:
            if found is not None:
                clauses.append(part[found[0] : found[1]].strip().rstrip("。").strip())
                part = part[: found[0]].rstrip() + part[found[1] :]
            texts.append(part.strip())
        text = "\n".join(t for t in texts if t).strip()
    elif span is not None:
        start, end = span
        clauses = [full[start:end].strip().rstrip("。").strip()]
        text = (full[:start].rstrip() + full[end:]).strip()
    else:
        clauses = [c for c in [table.units_for(_measure_title(full), node.number)] if c]
    units_text = "；".join(clauses)
    for clause in clauses:
        names, lead_names, bad = _parse_units(clause)
        responsible, leads = _dedupe([*responsible, *names]), _dedupe([*leads, *lead_names])
        rejected += bad
    if not units_text:
        issue = "未能识别责任单位（未找到责任单位）"
    elif not responsible:
        issue = f"未能识别责任单位：{units_text}"
    elif rejected:
        issue = f"责任单位中“{'、'.join(rejected)}”不像单位名称，已忽略"
    measure = ParsedMeasure(
        number=node.number,
        title=_measure_title(text),
        text=text,
        responsible_units=responsible,
        lead_units=leads,
        units_text=units_text,
    )
    return measure, issue


def _measure_title(text: str) -> str:
    first_line = text.split("\n", 1)[0]
    head = re.split(r"[。！？]", first_line, maxsplit=1)[0]
    colon = re.split(r"[：:]", head, maxsplit=1)
    if len(colon) == 2 and 2 <= len(colon[0]) <= 30:
        head = colon[0]  # "1.打造…新高地：推动…。"
    return head.strip().rstrip("，,；;、 ").strip()


def _check_numbering(chapters: list[ParsedChapter], problems: list[str]) -> None:
    numbers = [m.number for c in chapters for m in c.measures]
    straight = numbers == list(range(numbers[0], numbers[0] + len(numbers))) if numbers else True
    restarting = all(
        [m.number for m in c.measures] == list(range(1, len(c.measures) + 1)) for c in chapters
    )
    if not (straight or restarting):
        problems.append("措施编号不连续：" + "、".join(str(n) for n in numbers))
    chapter_numbers = [c.number for c in chapters]
    if len(set(chapter_numbers)) != len(chapter_numbers):
        # The rest of the project keys chapters by number, so they must be unique.
        problems.append("章节编号重复，已按出现顺序重新编号")
        for index, chapter in enumerate(chapters, start=1):
            chapter.number = index
    for chapter in chapters:
        if not chapter.measures:
            problems.append(f"章节“{chapter.heading}”下没有识别到措施")


def _goal_nodes(root: _Node) -> list[_Node]:
    """The outermost 主要目标-like sections (or 总体要求 when a plan has none)."""
    for kind in ("goals", "general"):  # without a 主要目标 heading targets sit in 总体要求
        nodes = [
            n for n in root.walk() if n.kind == kind and (n.parent is None or n.parent.area != kind)
        ]
        if nodes:
            return nodes
    return []


def _goal_targets(root: _Node, default_year: int | None) -> list[ParsedTarget]:
    targets: list[ParsedTarget] = []
    year = default_year
    for node in _goal_nodes(root):
        found, year = _targets_in("\n".join(node.lines()), None, year)
        targets.extend(found)
    return targets


def _first_goal_deadline(root: _Node) -> int | None:
    for node in _goal_nodes(root):
        year = next((y for y in map(_deadline, _sentences("\n".join(node.lines()))) if y), None)
        if year:
            return year
    return None


def parse_plan_file(path: str | os.PathLike[str]) -> ParsedPlan:
    """Read and parse a plan file; errors name the file."""
    text = read_plan_text(path)
    try:
        return parse_plan_text(text)
    except PlanParseError as exc:
        name = Path(path).name
        if exc.code == "empty_file":
            raise PlanParseError("empty_file", f"文件为空：{name}") from None
        raise PlanParseError(exc.code, f"{exc.message}：{name}") from None


def plan_to_dict(plan: ParsedPlan) -> dict:
    """JSON-ready dict of a parsed plan (the shape ``qcity parse_plan`` prints).

    The dataclass fields are the documented keys; measures also carry ``text``
    and ``units_text``, targets ``measure_number`` and ``sentence``.
    """
    return asdict(plan)
