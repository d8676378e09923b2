"""Rows for the tasks tests: a county's batch with drawn tasks and assigned inspectors.

Until the draw and assignment helpers' work is merged, Draw, Task and TaskInspector rows
are created directly here (the brief's instruction); everything else is the real model.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field

from django.utils import timezone

from qcity.core.models import OrgUnit, Role, User
from qcity.inspections.models import (
    Batch,
    CheckItem,
    Draw,
    InspectionPlan,
    ResultCode,
    Task,
    TaskInspector,
)
from qcity.registry.models import Inspector, MarketEntity
from tests.conftest import make_user

# regulations.md §1.4, with the flags a result needs (code, name, problem_found, opens_follow_up).
RESULT_CODES = [
    ("01", "未发现问题", False, False),
    ("02", "未按规定公示应当公示的信息", True, False),
    ("04", "通过登记的住所（经营场所）无法联系", True, False),
    ("05", "发现问题已责令改正", True, False),
    ("06", "发现问题待后续处理", True, True),
    ("08", "未发现开展本次抽查涉及的经营活动", False, False),
    ("10", "注销", False, False),
]

_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_WEIGHTS = [pow(3, i, 31) for i in range(17)]
_serial = itertools.count(1)


def uscc(region: str, serial: int) -> str:
    """A 统一社会信用代码 with valid check digits (GB 32100 and GB 11714), regulations §6."""
    body8 = f"{serial:08d}"
    org_check = (
        11 - sum(int(c) * w for c, w in zip(body8, [3, 7, 9, 10, 5, 8, 4, 2], strict=True)) % 11
    )
    org = body8 + {10: "X", 11: "0"}.get(org_check, str(org_check))
    first17 = f"91{region}{org}"
    total = sum(_CHARS.index(c) * w for c, w in zip(first17, _WEIGHTS, strict=True))
    return first17 + _CHARS[(31 - total % 31) % 31]


def result_codes() -> dict[str, ResultCode]:
    rows = {}
    for i, (code, name, problem, follow) in enumerate(RESULT_CODES):
        rows[code], _created = ResultCode.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "problem_found": problem,
                "opens_follow_up": follow,
                "sort_order": i,
            },
        )
    return rows


@dataclass
class County:
    bureau: OrgUnit
    officer: User
    batch: Batch
    tasks: list[Task] = field(default_factory=list)
    inspectors: list[Inspector] = field(default_factory=list)


def inspector_for(user: User | None, unit: OrgUnit, name: str, *, active: bool = True):
    return Inspector.objects.create(
        user=user,
        name=name,
        certificate_no=f"ZF{next(_serial):06d}",
        org_unit=unit,
        active=active,
    )


def county_batch(
    county: str,
    region: str,
    officer: User,
    *,
    entities: int = 2,
    window=(dt.date(2026, 9, 1), dt.date(2026, 10, 31)),
    inspector_users: tuple[User | None, ...] = (None, None),
) -> County:
    """A county's assigned batch: ``entities`` tasks, each with the same two inspectors."""
    bureau = OrgUnit.objects.get(name=f"{county}市场监督管理局")
    station = OrgUnit.objects.get(name=f"{county}城区市场监督管理所")
    plan, _created = InspectionPlan.objects.get_or_create(
        owner_unit=bureau,
        year=2026,
        title=f"{county}2026年度抽查计划",
        defaults={"created_by": officer},
    )
    item, _created = CheckItem.objects.get_or_create(
        code="SJ-001",
        defaults={
            "name": "企业公示信息情况检查",
            "sub_items": ["年度报告公示信息", "即时公示信息"],
            "legal_basis": "《企业信息公示暂行条例》第十四条",
            "department": "市场监督管理部门",
            "object_type": "企业",
            "kind": CheckItem.Kind.GENERAL,
        },
    )
    batch = Batch.objects.create(
        plan=plan,
        number=plan.batches.count() + 1,
        title="企业公示信息抽查",
        quotas={"B": {"count": entities}},
        window_start=window[0],
        window_end=window[1],
        status=Batch.Status.ASSIGNED,
    )
    batch.check_items.add(item)
    draw = Draw.objects.create(
        batch=batch,
        attempt=1,
        seed="0" * 64,
        algorithm="test-rows",
        algorithm_version="0",
        population_digest="0" * 64,
        population_size=entities,
        drawn_by=officer,
        drawn_at=timezone.now(),
    )
    inspectors = [
        inspector_for(user, station, f"{county}检查员{i + 1}")
        for i, user in enumerate(inspector_users)
    ]
    result = County(bureau=bureau, officer=officer, batch=batch, inspectors=inspectors)
    for position in range(1, entities + 1):
        entity = MarketEntity.objects.create(
            code=uscc(region, next(_serial)),
            name=f"{county}第{position}家商贸有限公司",
            kind=MarketEntity.Kind.ENTERPRISE,
            region_code=region,
            owner_unit=bureau,
            industry_code="F5211",
            address=f"{county}新华路{position}号",
            risk_class="B",
        )
        task = Task.objects.create(
            batch=batch, draw=draw, entity=entity, position=position, owner_unit=bureau
        )
        for i, inspector in enumerate(inspectors):
            TaskInspector.objects.create(
                task=task, inspector=inspector, unit=station, position=i + 1
            )
        result.tasks.append(task)
    return result


def kaiyuan_with_inspector(personas) -> County:
    """开原市's batch; the inspector persona is assigned to every task with a colleague."""
    colleague = make_user("inspector2", Role.INSPECTOR, "开原市城区市场监督管理所")
    return county_batch(
        "开原市",
        "211282",
        personas["kaiyuan"],
        inspector_users=(personas["inspector"], colleague),
    )
