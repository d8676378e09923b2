"""Quantified targets: indicator, value, unit, comparator and deadline year.

Targets are read sentence by sentence from the goals section and from each
measure's text ("到2025年，…合格率稳定在98%以上"). The phrase grammar (verbs,
units, comparators, deadlines) is large and self-contained, hence its own module.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from qcity.plans.parser.model import ParsedTarget
from qcity.plans.parser.outline import _marker, _Node, _to_ascii_digits
from qcity.plans.parser.units import _split_top

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
# Goals sections
# ---------------------------------------------------------------------------


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


# "公共服务质量满意度达到全省平均水平", "政府质量奖获奖企业数量实现突破": a goal stated
# without a number; a person, not a comparison, decides whether it was reached.
_QUALITATIVE_RE = re.compile(
    r"^(?P<ind>.{2,60}?)(?:达到|实现|进入|保持在?|走在)"
    r"(?P<goal>(?:全国|全省|省内|全市|同类城市)?(?:平均|先进|领先|较高)?水平|新?突破|前列)$"
)


def _qualitative_goals(root: _Node, default_year: int | None) -> list[ParsedTarget]:
    """Qualitative goals of the goals section, in order (numeric ones are _goal_targets')."""
    found: list[ParsedTarget] = []
    for node in _goal_nodes(root):
        for sentence in _sentences("\n".join(node.lines())):
            year = _deadline(sentence) or default_year
            for clause in _split_top(sentence.rstrip("。！？!?"), "，,；;"):
                clause = _LEADING_FRAME_RE.sub("", clause.strip())
                match = _QUALITATIVE_RE.match(clause)
                if match is None or _VALUE_END_RE.search(clause):
                    continue
                indicator = _INDICATOR_PREFIX_RE.sub("", match["ind"]).strip()
                found.append(
                    ParsedTarget(
                        text=clause,
                        indicator=indicator,
                        value=None,
                        unit="",
                        comparator="",
                        year=year,
                        sentence=sentence.strip(),
                    )
                )
    return found
