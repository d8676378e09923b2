"""The plan's lists as XLSX, through core.exports (one row per measure or unit)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from qcity.core.exports import Column, Sheet, xlsx_response
from qcity.plans.models import Measure, Plan, SubTask, Target

BREAKDOWN = [
    Column("章节", 28),
    Column("序号", 6),
    Column("具体举措", 30),
    Column("牵头单位", 20),
    Column("责任单位", 40),
    Column("目标", 40),
    Column("举措内容", 80),
    Column("配合单位", 30),
    Column("责任单位原文", 40),
    Column("分解任务（责任单位、完成时限、联系人、预期成果）", 60),
]

GOALS = [
    Column("指标", 30),
    Column("目标（原文）", 40),
    Column("比较", 6),
    Column("目标值", 10),
    Column("单位", 8),
    Column("年份", 8),
    Column("所属举措", 10),
    Column("出处", 60),
]


def target_label(target) -> str:
    year = f"（{target.year}年）" if target.year else ""
    return f"{target.text}{year}"


def _subtask_line(subtask: SubTask, show_phones: bool) -> str:
    phone = subtask.contact_phone if show_phones else subtask.masked_phone
    contact = f"{subtask.contact_name} {phone}".strip()
    outputs = f"；预期成果：{subtask.outputs}" if subtask.outputs else ""
    return (
        f"{subtask.title}（{subtask.unit.name}，{subtask.deadline:%Y-%m-%d}，{contact}）{outputs}"
    )


def _breakdown_row(measure: Measure, show_phones: bool = False) -> list:
    units = list(measure.responsibilities.all())
    # Canonical unit names (the written forms are in 责任单位原文), as on the pages.
    return [
        f"{measure.chapter.numbering}{measure.chapter.heading}",
        measure.number,
        measure.title,
        "、".join(r.org_unit.name for r in units if r.is_lead),
        "、".join(r.org_unit.name for r in units),
        "\n".join(target_label(t) for t in measure.targets.all()),
        measure.text,
        "、".join(r.org_unit.name for r in units if not r.is_lead),
        measure.units_text,
        "\n".join(_subtask_line(t, show_phones) for t in measure.subtasks.all()),
    ]


def _goal_row(target: Target) -> list:
    return [
        target.indicator_name,
        target.text,
        target.get_comparator_display() or "定性",
        target.value,
        target.unit,
        target.year,
        target.measure.number if target.measure else "总体",
        target.sentence,
    ]


def breakdown_response(
    request: HttpRequest,
    plan: Plan,
    measures: list[Measure],
    targets: list[Target] | None = None,
    *,
    show_phones: bool = False,
) -> HttpResponse:
    """The 任务分解表: one row per measure, with its chapter, units, targets and sub-tasks.

    A second sheet, 主要目标, lists the plan's targets when ``targets`` is given.
    Contacts' phones are masked unless ``show_phones`` (the plan's owner).
    """
    extra = (
        [Sheet("主要目标", GOALS, [_goal_row(t) for t in targets], f"{plan.title} 主要目标")]
        if targets is not None
        else []
    )
    return xlsx_response(
        request,
        what="plan.breakdown",
        obj=plan,
        title=plan.title,
        sheet="任务分解表",
        columns=BREAKDOWN,
        rows=(_breakdown_row(m, show_phones) for m in measures),
        filename=f"任务分解表-{plan.issuer}.xlsx",
        extra_sheets=extra,
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
