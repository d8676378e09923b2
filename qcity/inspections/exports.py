"""XLSX export of a batch's tasks (core.exports: formula-safe cells, row cap, audited)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from qcity.core.exports import Column
from qcity.inspections.models import Task

TASK_COLUMNS = [
    Column("序号", 6),
    Column("统一社会信用代码", 22),
    Column("名称", 36),
    Column("行政区划代码", 12),
    Column("行业代码", 10),
    Column("信用风险分类", 14),
    Column("住所（经营场所）", 36),
    Column("检查人员", 40),
    Column("状态", 10),
]


def team_of(task: Task) -> str:
    """The task's inspectors with their units: 张三（开原市市场监督管理局）、李四（…）."""
    return "、".join(f"{a.inspector.name}（{a.unit.name}）" for a in task.assignments.all())


def task_rows(tasks: Iterable[Task]) -> Iterator[list]:
    for task in tasks:
        entity = task.entity
        yield [
            task.position,
            entity.code,
            entity.name,
            entity.region_code,
            entity.industry_code,
            entity.get_risk_class_display() if entity.risk_class else "未分类",
            entity.address,
            team_of(task),
            task.get_status_display(),
        ]
