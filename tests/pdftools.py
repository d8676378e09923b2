"""Read a PDF as a user's tools would: poppler's pdftotext, pdffonts and pdfinfo.

poppler-utils is in .ci/debian-packages (the test set), so these run everywhere the
suite runs; nothing here parses the PDF with the library that wrote it.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path


def _poppler(tool: str, data: bytes, *args: str) -> str:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "document.pdf"
        path.write_bytes(data)
        result = subprocess.run(
            [tool, *args, str(path), *(["-"] if tool == "pdftotext" else [])],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        return result.stdout


def pdf_text(data: bytes, *, first: int | None = None, last: int | None = None) -> str:
    """The text a reader can select and copy, page by page (pages end with a form feed)."""
    pages = [*(["-f", str(first)] if first else []), *(["-l", str(last)] if last else [])]
    return _poppler("pdftotext", data, "-enc", "UTF-8", *pages)


def pdf_pages(data: bytes) -> list[str]:
    """The text of each page."""
    return pdf_text(data).split("\f")[:-1]


def pdf_fonts(data: bytes) -> list[dict[str, str]]:
    """pdffonts' table: name, type, emb, sub, uni for each font the document uses."""
    lines = _poppler("pdffonts", data).splitlines()[2:]
    fonts = []
    for line in lines:
        parts = line.split()
        # name, type (may be two words), encoding, emb, sub, uni, object, id
        fonts.append(
            {"name": parts[0], "emb": parts[-5], "sub": parts[-4], "uni": parts[-3], "line": line}
        )
    return fonts


def pdf_info(data: bytes) -> dict[str, str]:
    info = {}
    for line in _poppler("pdfinfo", data, "-enc", "UTF-8").splitlines():
        key, _sep, value = line.partition(":")
        info[key.strip()] = value.strip()
    return info
