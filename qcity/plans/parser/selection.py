"""Which outline nodes are the chapters, and at which outline rank the measures sit.

Numbering varies from plan to plan, so the measure rank is chosen by scoring:
measures carry exactly one 责任单位 clause. Plans without any clause fall back
to the paragraphs of a 重点任务-like section. This decides structure only;
``assembly`` turns the chosen nodes into ParsedChapter/ParsedMeasure.
"""

from __future__ import annotations

from collections.abc import Iterable

from qcity.plans.parser.outline import _Node
from qcity.plans.parser.units import _clause_count


def _find_chapters(root: _Node, plan_like: bool) -> tuple[list[_Node], int]:
    """Chapter nodes (in order) and the outline rank of their measures."""
    candidates = [n for n in root.walk() if n.area not in ("goals", "support", "general")]
    clause_counts = {id(n): _clause_count(n.lines()) for n in candidates}
    scores: dict[int, float] = {}
    for node in candidates:
        count = clause_counts[id(node)]
        # Measures carry exactly one clause; chapters several; sub-items mostly none.
        delta = 1.0 if count == 1 else (-0.5 if count == 0 else -1.0)
        scores[node.rank] = scores.get(node.rank, 0.0) + delta
    bearing = [n for n in candidates if clause_counts[id(n)] == 1]
    if bearing and max(scores.values()) > 0:
        best = max(scores.values())
        measure_rank = max(rank for rank, score in scores.items() if score == best)
        anchors = [n for n in bearing if n.rank == measure_rank]
    else:
        measure_rank, anchors = _fallback_measures(root, plan_like)
        if not anchors:
            return [], measure_rank
    parents = _dedupe_nodes(n.parent for n in anchors if n.parent is not None)
    chapters = _fill_between(root, parents, measure_rank)
    return chapters, measure_rank


def _fallback_measures(root: _Node, plan_like: bool) -> tuple[int, list[_Node]]:
    """Without any 责任单位, measures are the body paragraphs under a 重点任务-like section.

    A plan with a plan title and 总体要求/保障措施-like sections but no such section
    name (纲要 style: 二、…  三、… are the chapters) uses all its other sections.
    """
    tasks = [n for n in root.walk() if n.kind == "tasks"]
    nodes = [d for t in tasks for d in t.walk()]
    if not tasks and plan_like and any(n.kind for n in root.walk()):
        nodes = [n for n in root.walk() if n.area is None]
    for rank in sorted({n.rank for n in nodes}):
        at_rank = [n for n in nodes if n.rank == rank]
        # Chapter headings are a bare phrase; measures have sentences of their own.
        with_body = [n for n in at_rank if "。" in "".join([n.first, *n.content]).rstrip("。")]
        if len(with_body) * 2 >= len(at_rank):
            return rank, at_rank
    return -1, []


def _dedupe_nodes(nodes: Iterable[_Node]) -> list[_Node]:
    seen: dict[int, _Node] = {}
    for node in nodes:
        seen.setdefault(id(node), node)
    return list(seen.values())


def _fill_between(root: _Node, parents: list[_Node], measure_rank: int) -> list[_Node]:
    """Add chapters whose measures all lack 责任单位 when they sit between found chapters."""
    order = {id(n): i for i, n in enumerate(root.walk())}
    order[id(root)] = -1
    ranks = {p.rank for p in parents}
    low = min(order[id(p)] for p in parents)
    high = max(order[id(p)] for p in parents)
    extra = [
        n
        for n in root.walk()
        if n.rank in ranks
        and low < order[id(n)] < high
        and n.area not in ("goals", "support", "general")
        and any(c.rank == measure_rank for c in n.children)
    ]
    return sorted(_dedupe_nodes([*parents, *extra]), key=lambda n: order[id(n)])
