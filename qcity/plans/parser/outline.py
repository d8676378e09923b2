"""Lines → numbered outline tree: markers, Chinese numerals and section kinds.

The tree (``_Node``) is the structure every later step reads: which numbered
items are chapters and measures, and which sections hold goals or safeguards.
It knows nothing about 责任单位 or targets, so it sits at the bottom of the
package's imports.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

# ---------------------------------------------------------------------------
# Markers and numerals
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


def _to_ascii_digits(text: str) -> str:
    return text.translate(str.maketrans("０１２３４５６７８９", "0123456789"))


# ---------------------------------------------------------------------------
# Tree
# ---------------------------------------------------------------------------


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
