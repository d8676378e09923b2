"""Text → clean lines, and what surrounds the plan: portal cruft, title, issuer, annex.

Everything here works on flat lines before the outline tree is built: which
lines are website metadata, where the plan's own title is (after any 印发通知),
which place issued it, and where the attachments (附件) begin.
"""

from __future__ import annotations

import re

from qcity.plans.parser.outline import _CN, _marker

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
