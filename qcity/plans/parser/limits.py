"""How big a plan file may be, checked before anything is inflated or parsed.

A plan is tens of thousands of characters (Tieling's: 10 000 characters, 113
lines); the limits below leave a hundredfold margin and still refuse a
decompression bomb or a giant text within a second and a few megabytes.
Every check raises ``PlanParseError`` with a stable code (``too_large``,
``zip_bomb``, ``too_many_paragraphs``, ``too_complex``, ``too_many_pages``)
and one line of Chinese. The command line and the browser upload use the same
constants and functions (``check_file_size`` before reading an upload).
"""

from __future__ import annotations

import io
import re
import zipfile

from qcity.plans.parser.model import PlanParseError

MiB = 1024 * 1024

MAX_FILE_BYTES = 20 * MiB  # any format, as stored on disk or uploaded
MAX_TEXT_CHARS = 1_000_000  # the text the parser gets (~1 s of parsing)
MAX_PARAGRAPHS = 20_000  # lines of text, or paragraph elements in a .docx
MAX_ZIP_MEMBERS = 2_000  # a .docx has about 10 to 50
MAX_UNPACKED_BYTES = 100 * MiB  # all members together, as declared before inflating
MAX_XML_BYTES = 30 * MiB  # the XML parts python-docx parses into memory
MAX_XML_ELEMENTS = 500_000  # elements in those parts (each costs memory in lxml)
MAX_MEMBER_RATIO = 100  # inflated ÷ compressed, for members over RATIO_FLOOR
RATIO_FLOOR = 1 * MiB  # small members may compress well without being a bomb
MAX_PDF_PAGES = 500

_CHUNK = 1 * MiB
# Any element named p in any namespace prefix (<w:p>, <w:p/>, <w:p w:rsidR=…>).
_PARAGRAPH_RE = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?p[\s/>]")


def _mib(size: int) -> str:
    return f"{size / MiB:.1f}"


def check_file_size(size: int, name: str) -> None:
    """Refuse a file over ``MAX_FILE_BYTES`` before reading it."""
    if size > MAX_FILE_BYTES:
        raise PlanParseError(
            "too_large",
            f"文件过大（{_mib(size)} MB，上限 {_mib(MAX_FILE_BYTES)} MB）：{name}",
        )


def check_text(text: str, name: str = "") -> None:
    """Refuse text the parser would take too long over: too many characters or lines."""
    where = f"：{name}" if name else ""
    if len(text) > MAX_TEXT_CHARS:
        raise PlanParseError(
            "too_large", f"文本过长（{len(text)} 字，上限 {MAX_TEXT_CHARS} 字）{where}"
        )
    lines = text.count("\n") + 1
    if lines > MAX_PARAGRAPHS:
        raise PlanParseError(
            "too_many_paragraphs", f"段落过多（{lines} 段，上限 {MAX_PARAGRAPHS} 段）{where}"
        )


def check_zip(data: bytes, name: str) -> None:
    """Refuse a zip (.docx) that would inflate beyond the limits, before inflating it.

    1. Count central-directory signatures (an upper bound of the members) so a
       zip of a million empty entries is refused before ``ZipFile`` lists them.
    2. Sum the declared sizes and check each large member's ratio; ``zipfile``
       never inflates a member past its declared size, so the declaration binds.
    3. Stream the XML parts in chunks, counting bytes, paragraphs and elements,
       so python-docx only ever parses a document of bounded size.
    """
    if data.count(b"PK\x01\x02") > MAX_ZIP_MEMBERS:
        raise PlanParseError(
            "zip_bomb", f"压缩包内文件过多（上限 {MAX_ZIP_MEMBERS} 个），拒绝读取：{name}"
        )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            _check_declared_sizes(infos, name)
            _check_xml_parts(archive, infos, name)
    except PlanParseError:
        raise
    except zipfile.BadZipFile:
        raise PlanParseError("binary_file", f"文件已损坏或是二进制文件：{name}") from None
    except Exception:
        # Encrypted, unsupported compression, truncated: none of them is a plan we can read.
        raise PlanParseError("corrupt_file", f"Word文档已损坏，无法读取：{name}") from None


def _check_declared_sizes(infos: list[zipfile.ZipInfo], name: str) -> None:
    total = 0
    for info in infos:
        total += info.file_size
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_MEMBER_RATIO * max(
            info.compress_size, 1
        ):
            ratio = info.file_size // max(info.compress_size, 1)
            raise PlanParseError(
                "zip_bomb",
                f"压缩包中的“{info.filename[:60]}”压缩比异常（{ratio}:1），"
                f"疑似压缩炸弹，拒绝读取：{name}",
            )
    if total > MAX_UNPACKED_BYTES:
        raise PlanParseError(
            "zip_bomb",
            f"压缩包解压后过大（{_mib(total)} MB，上限 {_mib(MAX_UNPACKED_BYTES)} MB），"
            f"拒绝读取：{name}",
        )


def _check_xml_parts(archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo], name: str) -> None:
    xml_bytes = paragraphs = elements = 0
    for info in infos:
        if not info.filename.lower().endswith((".xml", ".rels")):
            continue
        with archive.open(info) as member:
            while chunk := member.read(_CHUNK):
                xml_bytes += len(chunk)
                if xml_bytes > MAX_XML_BYTES:
                    raise PlanParseError(
                        "zip_bomb",
                        f"文档内容解压后过大（超过 {_mib(MAX_XML_BYTES)} MB），拒绝读取：{name}",
                    )
                # A tag split across two chunks may be missed: a few in a million, harmless.
                paragraphs += len(_PARAGRAPH_RE.findall(chunk))
                if paragraphs > MAX_PARAGRAPHS:
                    raise PlanParseError(
                        "too_many_paragraphs",
                        f"段落过多（超过 {MAX_PARAGRAPHS} 段），拒绝读取：{name}",
                    )
                elements += chunk.count(b"<") - chunk.count(b"</") - chunk.count(b"<?")
                if elements > MAX_XML_ELEMENTS:
                    raise PlanParseError(
                        "too_complex",
                        f"文档结构过于复杂（超过 {MAX_XML_ELEMENTS} 个元素），拒绝读取：{name}",
                    )


def check_pdf_pages(pages: int, name: str) -> None:
    if pages > MAX_PDF_PAGES:
        raise PlanParseError(
            "too_many_pages", f"PDF页数过多（{pages} 页，上限 {MAX_PDF_PAGES} 页）：{name}"
        )
