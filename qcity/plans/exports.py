"""The plan's lists as XLSX, through core.exports (one row per measure or unit)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from qcity.core.exports import Column, xlsx_response
from qcity.plans.models import Measure, Plan

BREAKDOWN = [
    Column("章节", 28),
    Column("序号", 6),
    Column("具体举措", 30),
    Column("牵头单位", 20),
    Column("责任单位", 40),
    Column("目标", 40),
    Column("举措内容", 80),
]


def target_label(target) -> str:
    year = f"（{target.year}年）" if target.year else ""
    return f"{target.text}{year}"


def _breakdown_row(measure: Measure) -> list:
    units = list(measure.responsibilities.all())
    return [
        f"{measure.chapter.numbering}{measure.chapter.heading}",
        measure.number,
        measure.title,
        "、".join(r.written_name for r in units if r.is_lead),
        "、".join(r.written_name for r in units),
        "\n".join(target_label(t) for t in measure.targets.all()),
        measure.text,
    ]


def breakdown_response(request: HttpRequest, plan: Plan, measures: list[Measure]) -> HttpResponse:
    """The 任务分解表: one row per measure, with its chapter, units and targets."""
    return xlsx_response(
        request,
        what="plan.breakdown",
        obj=plan,
        title=plan.title,
        sheet="任务分解表",
        columns=BREAKDOWN,
        rows=(_breakdown_row(m) for m in measures),
        filename=f"任务分解表-{plan.issuer}.xlsx",
    )


def matrix_response(
    request: HttpRequest, plan: Plan, units, measures, cells, leads
) -> HttpResponse:
    """The unit × measure matrix: 牵 for lead, ● for responsible."""
    columns = (
        [Column("单位", 30)] + [Column(str(m.number), 5) for m in measures] + [Column("合计", 6)]
    )

    def rows():
        for unit in units:
            marks = [
                "牵" if (unit.pk, m.pk) in leads else "●" if (unit.pk, m.pk) in cells else ""
                for m in measures
            ]
            yield [unit.name, *marks, sum(1 for mark in marks if mark)]

    return xlsx_response(
        request,
        what="plan.matrix",
        obj=plan,
        title=f"{plan.title} 责任矩阵",
        sheet="责任矩阵",
        columns=columns,
        rows=rows(),
        filename=f"责任矩阵-{plan.issuer}.xlsx",
    )


def my_measures_response(request: HttpRequest, measures: list[Measure]) -> HttpResponse:
    unit = request.user.unit
    return xlsx_response(
        request,
        what="plan.my_measures",
        obj=unit,
        title=f"{unit.name if unit else ''} 负责的具体举措",
        sheet="我的任务",
        columns=BREAKDOWN,
        rows=(_breakdown_row(m) for m in measures),
        filename="我的任务.xlsx",
    )
