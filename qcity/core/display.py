"""Text that could mislead on display is made visible before it reaches a browser.

Bidirectional control characters (U+202E RIGHT-TO-LEFT OVERRIDE and its kin)
reorder the text around them: a name with U+202E inside reads as another name,
and a file name can hide its real extension. They have no use in the names of a
Chinese government platform, and no escaping in Django's templates touches them.

The fix is at the one place every page passes: ``BidiNeutralisingMiddleware``
rewrites each such code point in an HTML response to a visible marker
(``[U+202E]``), on every page at once, the admin included, whatever template
or field the text came through. Stored data is not changed (the API returns it
as stored; clients render it themselves). See ADR 0016.
"""

from __future__ import annotations

import re

# U+061C ARABIC LETTER MARK, U+200E/U+200F LRM/RLM, U+202A–U+202E embeddings and
# overrides, U+2066–U+2069 isolates.
BIDI_CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_MARKERS = {ord(c): f"[U+{ord(c):04X}]" for c in BIDI_CONTROLS}
# The same code points as UTF-8 bytes: UTF-8 is self-synchronising, so a byte
# match is always the whole character, and a page without them is never decoded.
_BIDI_BYTES = re.compile(b"|".join(re.escape(c.encode()) for c in BIDI_CONTROLS))


def neutralise_bidi(text: str) -> str:
    """``text`` with every bidirectional control replaced by a visible marker."""
    return text.translate(_MARKERS)


_BYTE_MARKERS = {c.encode(): _MARKERS[ord(c)].encode() for c in BIDI_CONTROLS}


def neutralise_bidi_bytes(content: bytes) -> bytes:
    """``neutralise_bidi`` on UTF-8 bytes: one C-speed replace per character present."""
    for raw in set(_BIDI_BYTES.findall(content)):
        content = content.replace(raw, _BYTE_MARKERS[raw])
    return content


class BidiNeutralisingMiddleware:
    """Make bidirectional controls visible in every HTML page (see the module docstring)."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            response.streaming
            or not response.get("Content-Type", "").startswith("text/html")
            or response.get("Content-Encoding")
            or (response.charset or "utf-8").lower().replace("_", "-") != "utf-8"
        ):
            return response
        content = response.content
        if _BIDI_BYTES.search(content):
            response.content = neutralise_bidi_bytes(content)
            if response.has_header("Content-Length"):
                response["Content-Length"] = str(len(response.content))
        return response
