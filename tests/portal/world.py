"""Hand-made inspection data for the publication and portal tests.

Every personal detail carries a distinctive marker (``PERSONAL_MARKERS``) so a test can
assert that none of it ever reaches a public page or download.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
from dataclasses import dataclass, field

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from qcity.core import files
from qcity.core.models import OrgUnit, User
from qcity.inspections.models import (
    Batch,
    CheckItem,
    Draw,
    InspectionPlan,
    Result,
    ResultCode,
    Task,
    TaskInspector,
)
from qcity.registry.models import Inspector, MarketEntity

USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]

INSPECTOR_NAME = "检查员甲MARKNAME"
CERTIFICATE = "CERTMARK0001"
FINDINGS = "现场发现FINDINGSMARK问题"
PHONE = "13912345678"
ENTERED_BY = "inspectoruserMARK"
PERSONAL_MARKERS = (INSPECTOR_NAME, "MARKNAME", CERTIFICATE, "FINDINGSMARK", PHONE, ENTERED_BY)

KAIYUAN = "开原市市场监督管理局"
XIFENG = "西丰县市场监督管理局"
REGION = {KAIYUAN: "211282", XIFENG: "211223"}


def uscc(body17: str) -> str:
    """A valid 统一社会信用代码 from its first 17 characters (GB 32100 check digit)."""
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(body17, USCC_WEIGHTS, strict=True))
    return body17 + USCC_CHARS[(31 - total % 31) % 31]


def entity(
    code_tail: int, name: str, unit_name: str, *, risk="B", industry="F5211"
) -> MarketEntity:
    unit = OrgUnit.objects.get(name=unit_name)
    return MarketEntity.objects.create(
        code=uscc(f"9121{REGION[unit_name][2:]}MA{code_tail:07d}"[:17]),
        name=name,
        kind=MarketEntity.Kind.ENTERPRISE,
        region_code=REGION[unit_name],
        owner_unit=unit,
        industry_code=industry,
        risk_class=risk,
    )


def result_codes() -> tuple[ResultCode, ResultCode]:
    ok, _ = ResultCode.objects.get_or_create(
        code="01", defaults={"name": "未发现问题", "problem_found": False}
    )
    bad, _ = ResultCode.objects.get_or_create(
        code="05", defaults={"name": "发现问题已责令改正", "problem_found": True}
    )
    return ok, bad


def check_item() -> CheckItem:
    item, _ = CheckItem.objects.get_or_create(
        code="TL-001",
        defaults={
            "name": "食品经营者经营条件检查",
            "legal_basis": "《中华人民共和国食品安全法》第三十三条",
            "department": "市场监管部门",
            "object_type": "食品经营者",
            "kind": CheckItem.Kind.KEY,
        },
    )
    return item


def store_population(text: str, name: str) -> tuple[str, str]:
    data = text.encode()
    stored = files.storage().save(name, ContentFile(gzip.compress(data)))
    return stored, hashlib.sha256(data).hexdigest()


@dataclass
class World:
    unit: OrgUnit
    plan: InspectionPlan
    batch: Batch
    draw: Draw
    tasks: list[Task] = field(default_factory=list)
    entities: list[MarketEntity] = field(default_factory=list)


def make_world(
    owner: User,
    unit_name: str = KAIYUAN,
    *,
    names: tuple[str, ...] = ("开原市恒信超市有限公司", "开原市百味食品店"),
    check_date: dt.date = dt.date(2026, 9, 1),
    codes: str = "ok",
    tail: int = 1,
    with_result: bool = True,
) -> World:
    """A plan of ``unit_name`` with one drawn batch, tasks with inspectors and results."""
    unit = OrgUnit.objects.get(name=unit_name)
    plan = InspectionPlan.objects.create(
        owner_unit=unit, year=2026, title=f"{unit.name}2026年度抽查计划{tail}", created_by=owner
    )
    batch = Batch.objects.create(
        plan=plan,
        number=1,
        title="食品经营专项",
        quotas={"B": {"count": len(names)}},
        window_start=dt.date(2026, 8, 1),
        window_end=dt.date(2026, 9, 30),
        status=Batch.Status.ASSIGNED,
    )
    batch.check_items.add(check_item())
    entities = [entity(tail * 100 + i, name, unit_name) for i, name in enumerate(names)]
    population = "code,stratum\n" + "".join(
        f"{e.code},B\n" for e in sorted(entities, key=lambda e: e.code)
    )
    stored, digest = store_population(population, f"draws/{batch.pk}/1-test.csv.gz")
    draw = Draw.objects.create(
        batch=batch,
        attempt=1,
        seed="ab" * 32,
        algorithm="qcity-keyed-shuffle",
        algorithm_version="1",
        parameters={"quotas": batch.quotas},
        population_digest=digest,
        population_size=len(entities),
        strata={"B": {"population": len(entities), "selected": len(entities)}},
        selected_codes=[e.code for e in entities],
        population_file=stored,
        drawn_by=owner,
        drawn_at=timezone.now(),
    )
    ok, bad = result_codes()
    inspector_user = User.objects.filter(username=ENTERED_BY).first()
    if inspector_user is None:
        inspector_user = User.objects.create(
            username=ENTERED_BY, full_name=INSPECTOR_NAME, role="inspector", unit=unit, phone=PHONE
        )
    inspectors = []
    for i in range(2):
        inspectors.append(
            Inspector.objects.get_or_create(
                certificate_no=f"{CERTIFICATE}{unit.pk}{i}",
                defaults={"name": f"{INSPECTOR_NAME}{i}", "org_unit": unit},
            )[0]
        )
    tasks = []
    for position, each in enumerate(entities, start=1):
        task = Task.objects.create(
            batch=batch,
            draw=draw,
            entity=each,
            position=position,
            owner_unit=unit,
            status=Task.Status.CHECKED if with_result else Task.Status.PENDING,
        )
        for i, inspector in enumerate(inspectors, start=1):
            TaskInspector.objects.create(task=task, inspector=inspector, unit=unit, position=i)
        if with_result:
            result = Result.objects.create(
                task=task,
                findings=FINDINGS,
                check_date=check_date,
                entered_by=inspector_user,
                entered_at=timezone.now(),
            )
            result.codes.add(bad if codes == "bad" else ok)
        tasks.append(task)
    return World(unit=unit, plan=plan, batch=batch, draw=draw, tasks=tasks, entities=entities)


@pytest.fixture
def file_stores(settings, tmp_path):
    """Attachments and published files in this test's own directories."""
    settings.STORAGES = {
        **settings.STORAGES,
        "attachments": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "attachments")},
        },
        "publication": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "publication")},
        },
    }
    return tmp_path
