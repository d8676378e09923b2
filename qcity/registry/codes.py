"""Identity codes of market entities: normalise, validate, generate. Pure (no Django models).

- 统一社会信用代码 (USCC, GB 32100-2015), 18 characters from a 31-character set (no I O S V Z):
  pos 1 registration department, pos 2 category, pos 3-8 GB/T 2260 region, pos 9-17 主体标识码
  (a GB 11714 organisation code with its own check character at pos 17), pos 18 check character
  with weights 3^(i-1) mod 31. Both checks are verified.
- The old 15-digit 注册号 (个体工商户 registered before the USCC): GB/T 17710 (ISO 7064
  MOD 11,10) check digit at pos 15.
- Early pilot codes of Fujian (region 35xxxx, 主体标识码 starting with ``M``) are real codes
  that fail the check character (regulations.md §6): they are kept with a warning, never refused.

``normalise_code`` turns messy register input into the stored form; ``check_code`` says what a
normalised code is (or why it is refused) with a stable error code; ``make_uscc`` and
``make_reg_no`` generate valid codes for tests and demo data.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUE = {c: i for i, c in enumerate(USCC_CHARSET)}
# Wi = 3^(i-1) mod 31 for i = 1..17.
USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
# GB 11714 organisation code: 8 body characters (digits, A=10 … Z=35) and a check character.
ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)

USCC_RE = re.compile(r"[0-9A-HJ-NPQRTUWXY]{18}")
REG_NO_RE = re.compile(r"\d{15}")
REGION_RE = re.compile(r"\d{6}")

# Category digit (pos 2) under department 9 (市场监管): 1 企业, 2 个体工商户, 3 农民专业合作社.
KIND_CATEGORY = {"enterprise": "1", "individual": "2", "cooperative": "3"}

# Known early pilot codes that fail the check character (regulations.md §6, Fujian).
KNOWN_PILOT_CODES = frozenset({"91350100M0001TGQXM", "91350211M0000XUF46", "91350203M0001FUE2P"})

# Stable error / warning codes (used in import reports and the API).
ERR_EMPTY = "code_empty"
ERR_LENGTH = "code_length"
ERR_CHARSET = "code_charset"
ERR_CHECK = "code_check_digit"
ERR_ORG_CHECK = "code_org_check_digit"
ERR_REG_NO_CHECK = "reg_no_check_digit"
WARN_PILOT = "code_pilot_check_digit"
WARN_REG_NO = "code_reg_no"


# Per position, character → value × weight: the sums below then run as one C-level map
# (an import checks a million codes; this is most of its validation time).
_USCC_TERMS = [{c: v * w for c, v in _USCC_VALUE.items()} for w in USCC_WEIGHTS]
_ORG_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_ORG_TERMS = [{c: v * w for v, c in enumerate(_ORG_CHARS)} for w in ORG_WEIGHTS]
_ORG_CHECK = ["0" if (11 - r) == 11 else "X" if (11 - r) == 10 else str(11 - r) for r in range(11)]


def uscc_check_char(first17: str) -> str:
    """The 18th character of a USCC whose first 17 characters are ``first17``."""
    if len(first17) != 17:
        raise ValueError("need 17 characters")
    total = sum(map(dict.__getitem__, _USCC_TERMS, first17))
    return USCC_CHARSET[(31 - total % 31) % 31]


def org_check_char(body8: str) -> str:
    """The GB 11714 check character of an 8-character organisation-code body (0-9 or X)."""
    if len(body8) != 8:
        raise ValueError("need 8 characters")
    return _ORG_CHECK[sum(map(dict.__getitem__, _ORG_TERMS, body8)) % 11]


def reg_no_check_digit(first14: str) -> str:
    """The 15th digit of a 注册号: GB/T 17710 (ISO 7064) hybrid MOD 11,10."""
    p = 10
    for c in first14:
        s = (p + int(c)) % 10 or 10
        p = (s * 2) % 11
    return str((11 - p) % 10)


def normalise_code(raw: str) -> str:
    """The stored form of a code as typed in a register: half-width, upper case, no spaces.

    NFKC folds full-width letters and digits (ＡＢＣ１２３) and the ideographic space U+3000;
    every whitespace character is then dropped, also inside the code (registers often carry
    ``9121 1282 …`` or a stray space from a spreadsheet cell).
    """
    folded = unicodedata.normalize("NFKC", raw or "")
    return "".join(folded.split()).upper()


def is_valid_uscc(code: str) -> bool:
    """True if ``code`` is a USCC in stored form that passes both check characters.

    Strict: it does not normalise (``normalise_code`` first) and does not accept pilot codes.
    """
    if not USCC_RE.fullmatch(code or ""):
        return False
    if _ORG_CHECK[sum(map(dict.__getitem__, _ORG_TERMS, code[8:16])) % 11] != code[16]:
        return False
    return USCC_CHARSET[(31 - sum(map(dict.__getitem__, _USCC_TERMS, code)) % 31) % 31] == code[17]


def is_valid_reg_no(code: str) -> bool:
    """True if ``code`` is a 15-digit 注册号 with a correct check digit."""
    return bool(REG_NO_RE.fullmatch(code or "")) and reg_no_check_digit(code[:14]) == code[14]


def is_pilot_code(code: str) -> bool:
    """An early Fujian pilot code: listed, or region 35xxxx with a 主体标识码 starting with M."""
    return code in KNOWN_PILOT_CODES or (code[2:4] == "35" and code[8:9] == "M")


@dataclass(frozen=True)
class CodeCheck:
    """What ``check_code`` found. ``error`` set → refuse; ``warning`` set → keep and warn."""

    code: str
    kind: str = ""  # "uscc" | "reg_no" | "" when refused
    error: str = ""
    warning: str = ""
    message: str = ""  # Chinese reason for the error or the warning

    @property
    def ok(self) -> bool:
        return not self.error


def check_code(code: str) -> CodeCheck:
    """Classify an already normalised code: a clean USCC, a kept-with-warning code, or refused."""
    if not code:
        return CodeCheck(code, error=ERR_EMPTY, message="统一社会信用代码为空")
    if len(code) == 15 and code.isdigit():
        if not is_valid_reg_no(code):
            return CodeCheck(
                code, error=ERR_REG_NO_CHECK, message="15位注册号校验位不正确（GB/T 17710）"
            )
        return CodeCheck(
            code,
            kind="reg_no",
            warning=WARN_REG_NO,
            message="15位旧注册号（未换发统一社会信用代码），按注册号保存",
        )
    if len(code) != 18:
        return CodeCheck(
            code,
            error=ERR_LENGTH,
            message=f"统一社会信用代码应为18位（或15位注册号），实为{len(code)}位",
        )
    if not USCC_RE.fullmatch(code):
        bad = next(c for c in code if c not in _USCC_VALUE)
        return CodeCheck(
            code,
            error=ERR_CHARSET,
            message=f"统一社会信用代码含不允许的字符“{bad}”（不使用I、O、S、V、Z）",
        )
    org_ok = org_check_char(code[8:16]) == code[16]
    uscc_ok = uscc_check_char(code[:17]) == code[17]
    if org_ok and uscc_ok:
        return CodeCheck(code, kind="uscc")
    if is_pilot_code(code):
        return CodeCheck(
            code,
            kind="uscc",
            warning=WARN_PILOT,
            message="早期试点地区代码，校验位不符合GB 32100，按原样保存并标注",
        )
    if not org_ok:
        return CodeCheck(
            code,
            error=ERR_ORG_CHECK,
            message="统一社会信用代码第9–17位（组织机构代码）校验位不正确（GB 11714）",
        )
    return CodeCheck(
        code, error=ERR_CHECK, message="统一社会信用代码第18位校验位不正确（GB 32100）"
    )


def _base31(n: int, width: int) -> str:
    chars = []
    for _ in range(width):
        n, r = divmod(n, 31)
        chars.append(USCC_CHARSET[r])
    if n:
        raise ValueError("serial too large")
    return "".join(reversed(chars))


def make_uscc(region_code: str, serial: int, kind: str = "enterprise") -> str:
    """A valid USCC (both check characters) for tests and demo data; distinct serials → distinct codes.

    ``kind`` is a ``MarketEntity.Kind`` value (enterprise / individual / cooperative; other → 1).
    The 主体标识码 is ``MA`` plus ``serial`` in base 31 (6 characters, serial < 887 503 681),
    the shape of codes assigned since 2015.
    """
    if not REGION_RE.fullmatch(region_code or ""):
        raise ValueError(f"region_code must be 6 digits (GB/T 2260): {region_code!r}")
    if serial < 0:
        raise ValueError("serial must be >= 0")
    body = "MA" + _base31(serial, 6)
    first17 = "9" + KIND_CATEGORY.get(kind, "1") + region_code + body + org_check_char(body)
    return first17 + uscc_check_char(first17)


def make_reg_no(region_code: str, serial: int) -> str:
    """A valid 15-digit 注册号 of an old 个体工商户 (7th digit 6) for tests and demo data."""
    if not REGION_RE.fullmatch(region_code or ""):
        raise ValueError(f"region_code must be 6 digits (GB/T 2260): {region_code!r}")
    if not 0 <= serial < 10**7:
        raise ValueError("serial must be in 0..9999999")
    first14 = f"{region_code}6{serial:07d}"
    return first14 + reg_no_check_digit(first14)
