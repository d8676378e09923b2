"""Hostile query-string values, already percent-encoded as they arrive on the wire.

Each is what a careless user, a broken client or an attacker has sent to web
applications: NUL and control characters, numbers past 64 bits, malformed
percent-encoding and UTF-8, encoded surrogates, injection and template syntax,
bidirectional overrides, path traversal, header injection, and very long values.
"""

from __future__ import annotations

from urllib.parse import quote

_RAW = [
    "\x00",
    "x\x00",
    "农资\x00打假",
    "\x01\x02\x1b[31m",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775809",
    str(2**64),
    "9" * 400,
    "1e309",
    "-1",
    "0",
    "NaN",
    "Infinity",
    "1.5",
    "0x10",
    "１２３",  # full-width digits
    "١٢٣",  # Arabic-Indic digits
    "¹²",  # superscripts: digits to str.isdigit(), not to int()
    "",
    " ",
    "'; DROP TABLE core_user;--",
    "' OR '1'='1",
    '" OR ""="',
    "%' OR 1=1 --",
    "\\",
    "_%_",
    "<script>alert(1)</script>",
    "{{7*7}}${7*7}{% debug %}",
    "${jndi:ldap://127.0.0.1/a}",
    "../../../../etc/passwd",
    "\u202egnp.exe",
    "\u200b\ufeff",
    "市农业农村局\u202e局",
    "\r\nSet-Cookie: pwned=1",
    "null",
    "true",
    "[]",
    "{}",
    "//evil.example/",
    "https://evil.example/",
    "javascript:alert(1)",
    "质" * 5000,
]

# Byte sequences that are not valid UTF-8, or not valid percent-encoding at all.
_ENCODED = [
    "%FF%FE",
    "%C0%AF",
    "%ED%A0%80",  # an encoded UTF-16 surrogate
    "%F4%90%80%80",  # past U+10FFFF
    "%",
    "%%",
    "%zz",
    "%u0000",
    "%00%00%00%00%00%00%00%00",
    "a%26b%3Dc",
    "+++",
]

VALUES: list[str] = [quote(value, safe="") for value in _RAW] + _ENCODED

# Parameter names the pages and the API read, and a few they do not.
NAMES = ["q", "limit", "offset", "plan_id", "page", "next", "p", "o", "e", "lang", "format"]


# For pages that read no parameter: the values that broke something somewhere.
SHORT: list[str] = [
    value
    for value in VALUES
    if value
    in {
        quote("\x00", safe=""),
        quote("x\x00", safe=""),
        "9223372036854775808",
        "1e309",
        "%FF%FE",
        "%ED%A0%80",
        "%",
        quote("'; DROP TABLE core_user;--", safe=""),
        quote("\u202egnp.exe", safe=""),
        quote("质" * 5000, safe=""),
    }
]


def query_strings(values: list[str] = VALUES) -> list[str]:
    """One query string per hostile value: every parameter name set to it, the value
    used as a parameter name too, and a parameter repeated."""
    return [
        "&".join([*(f"{name}={value}" for name in NAMES), f"{value}={value}", f"q={value}"])
        for value in values
    ]
