"""责任单位 clauses: finding a measure's clause and reading its unit names.

A clause comes in many shapes ((责任单位：…), 【牵头单位】…, 牵头单位：…；配合单位：…,
or an unlabelled "(A牵头，B、C配合)"); this module finds its span, splits it
into unit names, tells lead units apart and rejects phrases that are not names.
It is separate because both the outline scoring (which rank carries exactly one
clause) and measure assembly depend on it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

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
