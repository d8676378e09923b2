"""The assessment's XLSX: the ranking sheet and the details sheet, through core.exports.

Headers are written in Chinese like the plan's exports: the workbook is a document
of the Chinese administration, whatever the reader's interface language.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from qcity.assessment import selectors
from qcity.assessment.models import Group, Scheme
from qcity.core.exports import Column, Sheet, xlsx_response

RANKING_COLUMNS = [
    Column("类别", 12),
    Column("名次", 8),
    Column("单位", 24),
    Column("计算得分", 12),
    Column("加减分", 10),
    Column("总分", 10),
    Column("加减分理由", 40),
]
DETAIL_COLUMNS = [
    Column("单位", 24),
    Column("考核指标", 16),
    Column("计分规则", 18),
    Column("权重", 8),
    Column("分子", 10),
    Column("分母", 10),
    Column("比率", 10),
    Column("得分", 10),
    Column("说明", 40),
]


def _number(value):
    # Numbers stay numbers in the workbook, so a reader can check the sums in it.
    return None if value is None else float(value)


def ranking_response(request: HttpRequest, scheme: Scheme) -> HttpResponse:
    """Ranking (every line the user may see) and details (only the scores it may see)."""
    user = request.user
    reasons: dict[int, list[str]] = {}
    adjustments = list(selectors.visible_adjustments(user, scheme))
    for adj in adjustments:
        reasons.setdefault(adj.unit_id, []).append(f"{adj.points:+}：{adj.reason}")
    ranking = [
        [
            str(Group(r.group).label),
            r.rank,
            r.unit.name,
            _number(r.computed),
            _number(r.adjustment),
            _number(r.total),
            "；".join(reasons.get(r.unit_id, [])),
        ]
        for group_rows in selectors.ranking(user, scheme).values()
        for r in group_rows
    ]
    details = [
        [
            s.unit.name,
            s.criterion.name,
            str(s.criterion.get_rule_display()),
            _number(s.criterion.weight),
            _number(s.numerator),
            _number(s.denominator),
            _number(s.ratio),
            _number(s.points),
            s.note,
        ]
        for s in selectors.visible_scores(user, scheme)
    ] + [
        [adj.unit.name, "加减分", "", None, None, None, None, _number(adj.points), adj.reason]
        for adj in adjustments
    ]
    return xlsx_response(
        request,
        what="assessment.ranking",
        obj=scheme,
        title=f"{scheme.title}（{scheme.get_status_display()}）",
        sheet="排名",
        columns=RANKING_COLUMNS,
        rows=ranking,
        filename=f"{scheme.title}.xlsx",
        extra_sheets=[Sheet("得分明细", DETAIL_COLUMNS, details)],
    )
