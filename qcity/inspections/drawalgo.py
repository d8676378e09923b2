"""The draw's algorithm in pure Python: no Django, no database (docs/draw-algorithm.md).

``qcity verify_draw`` runs on this module alone, so anyone can recompute a published draw
from its two files. Everything here is specified byte by byte in docs/draw-algorithm.md;
a change of behaviour is a new ``ALGORITHM_VERSION``, never an edit of this one.

- quotas: ``{"A": {"count": 20}, "B": {"ratio": "3.5"}, ...}`` → k per stratum
  (``stratum_quota``), exact decimal arithmetic, rounding up.
- random integers below m: 8-byte big-endian words from SHA-256 blocks of
  ``seed ‖ DOMAIN ‖ stratum ‖ counter`` with rejection of the biased tail (``Stream``).
- the selection: a partial Fisher–Yates shuffle of the virtual array 0..N-1 of each
  stratum, k steps, a dict of swaps (O(k) time and memory whatever N is).
- population.csv: UTF-8, LF, header ``code,stratum``, rows sorted by (stratum, code)
  bytewise; its SHA-256 is the population digest.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

ALGORITHM = "qcity-stratified-fisher-yates-sha256"
ALGORITHM_VERSION = "1"
RECORD_FORMAT = "qcity-draw-record"
RECORD_FORMAT_VERSION = 1
DOMAIN = b"qcity-draw/v1"
SEED_BYTES = 32
# The order in which strata are drawn and listed in ``selected``.
STRATA = ("A", "B", "C", "D", "-")
UNCLASSIFIED = "-"
HEADER = b"code,stratum\n"
# Codes are normalised before they reach the register: upper-case ASCII letters and digits.
CODE_RE = re.compile(r"^[0-9A-Z]{1,18}$")
_RATIO_RE = re.compile(r"^[0-9]{1,3}(\.[0-9]{1,4})?$")
MAX_COUNT = 10_000_000
_TWO_64 = 1 << 64


class QuotaError(ValueError):
    """Malformed quotas; the message is Chinese and names the stratum."""


class VerifyError(Exception):
    """A record and a population file that do not agree; the message names the first difference."""


# --- quotas ---------------------------------------------------------------------------------


def parse_quotas(quotas: Any) -> dict[str, dict[str, Any]]:
    """Check quotas and return them in canonical form (strata in ``STRATA`` order).

    A stratum's rule is exactly one of ``{"count": positive int}`` or ``{"ratio": "r"}``,
    a decimal string of percent with 0 < r ≤ 100 (at most 4 decimals).
    """
    if not isinstance(quotas, Mapping) or not quotas:
        raise QuotaError("抽查比例或数量未设置：至少为一个风险类别设置比例或数量")
    unknown = [key for key in quotas if key not in STRATA]
    if unknown:
        raise QuotaError(f"未知的风险类别“{unknown[0]}”（可用：A、B、C、D，未分类用“-”）")
    clean: dict[str, dict[str, Any]] = {}
    for stratum in STRATA:
        if stratum not in quotas:
            continue
        rule = quotas[stratum]
        name = _stratum_name(stratum)
        if not isinstance(rule, Mapping) or len(rule) != 1 or set(rule) - {"count", "ratio"}:
            raise QuotaError(f"{name}的设置须为“比例”或“数量”之一")
        if "count" in rule:
            count = rule["count"]
            if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_COUNT:
                raise QuotaError(f"{name}的抽查数量须为 1 到 {MAX_COUNT} 之间的整数")
            clean[stratum] = {"count": count}
        else:
            ratio = rule["ratio"]
            if not isinstance(ratio, str) or not _RATIO_RE.match(ratio):
                raise QuotaError(
                    f"{name}的抽查比例须为百分数的十进制文本，如“3”或“2.5”（收到 {ratio!r}）"
                )
            value = Decimal(ratio)
            if not Decimal(0) < value <= Decimal(100):
                raise QuotaError(f"{name}的抽查比例须大于 0 且不超过 100（收到“{ratio}”）")
            clean[stratum] = {"ratio": ratio}
    return clean


def _stratum_name(stratum: str) -> str:
    return "未分类主体" if stratum == UNCLASSIFIED else f"{stratum} 类"


def stratum_quota(rule: Mapping[str, Any], population: int) -> int:
    """k for a stratum of ``population`` entities: min(c, N), or min(N, ⌈N·r/100⌉)."""
    if "count" in rule:
        return min(int(rule["count"]), population)
    try:
        ratio = Decimal(rule["ratio"])
    except (InvalidOperation, TypeError):
        raise QuotaError(f"抽查比例无效：{rule['ratio']!r}") from None
    # Exact: N·r is an exact decimal; ceil of (N·r)/100 is done in integers.
    scaled = Decimal(population) * ratio
    numerator, denominator = scaled.as_integer_ratio()
    return min(population, -((-numerator) // (denominator * 100)))


# --- random integers and the shuffle ----------------------------------------------------------


class HashStream:
    """Uniform integers from SHA-256(prefix ‖ counter), the counter as 8 bytes big-endian.

    Each 32-byte block gives four 64-bit big-endian words, used in order. ``below(m)``
    rejects a word u ≥ ⌊2^64 / m⌋·m and returns u mod m, so every value is equally likely.
    The draw and the assignment (``assignalgo``) both use it, each with its own prefix.
    """

    def __init__(self, prefix: bytes) -> None:
        self._prefix = bytes(prefix)
        self._counter = 0
        self._words: list[int] = []
        self.used = 0  # words consumed, rejected ones included (for the record)

    def word(self) -> int:
        if not self._words:
            block = hashlib.sha256(self._prefix + self._counter.to_bytes(8, "big")).digest()
            self._counter += 1
            # Reversed so that pop() hands them out first to last.
            self._words = [int.from_bytes(block[i : i + 8], "big") for i in (24, 16, 8, 0)]
        self.used += 1
        return self._words.pop()

    def below(self, m: int) -> int:
        """A uniform integer in [0, m): reject words at or past the last multiple of m."""
        if not 1 <= m <= _TWO_64:
            raise ValueError("m must be in [1, 2^64]")
        limit = (_TWO_64 // m) * m
        while True:
            u = self.word()
            if u < limit:
                return u % m


class Stream(HashStream):
    """The draw's stream: SHA-256(seed ‖ DOMAIN ‖ stratum ‖ counter), one per stratum."""

    def __init__(self, seed: bytes, stratum: str) -> None:
        if len(seed) != SEED_BYTES:
            raise ValueError("the seed is 32 bytes")
        super().__init__(seed + DOMAIN + stratum.encode("ascii"))


def sample_indices(seed: bytes, stratum: str, population: int, k: int) -> list[int]:
    """k distinct indices of 0..population-1, in selection order (partial Fisher–Yates)."""
    stream = Stream(seed, stratum)
    swaps: dict[int, int] = {}
    chosen = []
    for i in range(k):
        j = i + stream.below(population - i)
        at_i, at_j = swaps.get(i, i), swaps.get(j, j)
        swaps[j] = at_i
        chosen.append(at_j)
    return chosen


# --- the population file --------------------------------------------------------------------


def population_chunk(stratum: str, codes_text: str) -> bytes:
    """The rows of one stratum, from its codes joined by LF in bytewise order."""
    if not codes_text:
        return b""
    suffix = f",{stratum}\n"
    return (codes_text.replace("\n", suffix) + suffix).encode("ascii")


def file_order(strata: Iterable[str]) -> list[str]:
    """Strata in the order their rows appear in population.csv: bytewise ("-" first)."""
    return sorted(strata, key=lambda s: s.encode("ascii"))


def parse_population(data: bytes) -> dict[str, list[str]]:
    """Codes per stratum from population.csv bytes, refusing anything not canonical."""
    if not data.startswith(HEADER):
        raise VerifyError("名录文件格式错误：第 1 行须为“code,stratum”")
    body = data[len(HEADER) :]
    if body and not body.endswith(b"\n"):
        raise VerifyError("名录文件格式错误：最后一行须以换行（LF）结束")
    try:
        text = body.decode("ascii")
    except UnicodeDecodeError:
        raise VerifyError("名录文件格式错误：含有非 ASCII 字符") from None
    strata: dict[str, list[str]] = {}
    previous: tuple[str, str] | None = None
    for number, line in enumerate(text.split("\n")[:-1] if text else [], start=2):
        code, comma, stratum = line.partition(",")
        if not comma or stratum not in STRATA or not CODE_RE.match(code):
            raise VerifyError(f"名录文件格式错误：第 {number} 行“{line[:40]}”不是“代码,类别”")
        key = (stratum, code)
        if previous is not None and key <= previous:
            what = "重复" if key == previous else "未按（类别，代码）字节序排列"
            raise VerifyError(f"名录文件格式错误：第 {number} 行 {code} {what}")
        previous = key
        strata.setdefault(stratum, []).append(code)
    return strata


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- the whole draw -------------------------------------------------------------------------


@dataclass(frozen=True)
class Selection:
    strata: dict[str, dict[str, int]]  # {"A": {"population": N, "selected": k}, ...}
    selected: list[str]


def select(
    seed: bytes, quotas: Mapping[str, Mapping[str, Any]], codes: Mapping[str, Any]
) -> Selection:
    """The selection from codes per stratum (each a sequence in bytewise order).

    ``codes[s]`` may be any sequence supporting ``len`` and indexing; strata named in the
    quotas are drawn in ``STRATA`` order.
    """
    strata: dict[str, dict[str, int]] = {}
    selected: list[str] = []
    for stratum in STRATA:
        if stratum not in quotas:
            continue
        members = codes.get(stratum) or ()
        n = len(members)
        k = stratum_quota(quotas[stratum], n)
        strata[stratum] = {"population": n, "selected": k}
        selected.extend(members[i] for i in sample_indices(seed, stratum, n, k))
    return Selection(strata=strata, selected=selected)


# --- verification ---------------------------------------------------------------------------


def load_record(data: bytes) -> dict[str, Any]:
    try:
        record = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise VerifyError("抽取记录格式错误：不是 UTF-8 编码的 JSON") from None
    if not isinstance(record, dict):
        raise VerifyError("抽取记录格式错误：顶层须为 JSON 对象")
    if record.get("format") != RECORD_FORMAT or record.get("format_version") != (
        RECORD_FORMAT_VERSION
    ):
        raise VerifyError(
            f"抽取记录格式错误：format 须为“{RECORD_FORMAT}”，format_version 须为 "
            f"{RECORD_FORMAT_VERSION}"
        )
    if record.get("algorithm") != ALGORITHM or record.get("algorithm_version") != (
        ALGORITHM_VERSION
    ):
        raise VerifyError(
            f"未知的算法或版本：{record.get('algorithm')!r} {record.get('algorithm_version')!r}"
            f"（本程序实现 {ALGORITHM} 版本 {ALGORITHM_VERSION}）"
        )
    for key, kind in (
        ("seed", str),
        ("parameters", dict),
        ("population_digest", str),
        ("population_size", int),
        ("strata", dict),
        ("selected", list),
    ):
        if not isinstance(record.get(key), kind) or isinstance(record.get(key), bool):
            raise VerifyError(f"抽取记录格式错误：缺少字段 {key} 或类型不对")
    if not re.fullmatch(r"[0-9a-f]{64}", record["seed"]):
        raise VerifyError("抽取记录格式错误：seed 须为 64 位小写十六进制")
    if not re.fullmatch(r"[0-9a-f]{64}", record["population_digest"]):
        raise VerifyError("抽取记录格式错误：population_digest 须为 64 位小写十六进制")
    if not all(isinstance(code, str) for code in record["selected"]):
        raise VerifyError("抽取记录格式错误：selected 须为代码文本的列表")
    return record


def verify(record_bytes: bytes, population_bytes: bytes) -> str:
    """Recompute a draw from its two files; return a summary or raise ``VerifyError``.

    The checks run in a fixed order and the first difference is reported: record format,
    algorithm, digest, population file format, counts, then the selection code by code.
    """
    record = load_record(record_bytes)
    try:
        quotas = parse_quotas(record["parameters"].get("quotas"))
    except QuotaError as exc:
        raise VerifyError(f"抽取记录参数错误：{exc}") from None
    actual = digest(population_bytes)
    if actual != record["population_digest"]:
        raise VerifyError(
            f"名录快照摘要不一致：记录为 {record['population_digest']}，文件为 {actual}"
        )
    codes = parse_population(population_bytes)
    extra = sorted(set(codes) - set(quotas))
    if extra:
        raise VerifyError(f"名录文件含有未设抽查比例的类别“{extra[0]}”")
    size = sum(len(c) for c in codes.values())
    if size != record["population_size"]:
        raise VerifyError(f"主体总数不一致：记录为 {record['population_size']}，文件为 {size}")
    result = select(bytes.fromhex(record["seed"]), quotas, codes)
    if record["strata"] != result.strata:
        for stratum in STRATA:
            if record["strata"].get(stratum) != result.strata.get(stratum):
                raise VerifyError(
                    f"{_stratum_name(stratum)}数量不一致：记录为 {record['strata'].get(stratum)}，"
                    f"重新计算为 {result.strata.get(stratum)}"
                )
        raise VerifyError("各类别数量不一致：记录含有多余的类别")
    recorded, expected = record["selected"], result.selected
    expected_set, recorded_set = set(expected), set(recorded)
    for position, (got, want) in enumerate(zip(recorded, expected, strict=False), start=1):
        if got == want:
            continue
        if got not in expected_set:
            raise VerifyError(f"第 {position} 位抽中的 {got} 不应被抽中（应为 {want}）")
        if want not in recorded_set:
            raise VerifyError(f"缺少应抽中的 {want}（第 {position} 位，记录为 {got}）")
        raise VerifyError(f"第 {position} 位顺序不符：记录为 {got}，应为 {want}")
    if len(recorded) != len(expected):
        raise VerifyError(
            f"抽中数量不一致：记录为 {len(recorded)} 户，重新计算为 {len(expected)} 户"
        )
    return f"一致：名录 {size} 户，摘要 {actual[:16]}…，抽中 {len(expected)} 户，顺序相同"
