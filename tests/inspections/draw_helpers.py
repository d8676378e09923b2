"""Test data for the draw: entities with valid 统一社会信用代码, plans and batches."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from qcity.core.models import OrgUnit, User
from qcity.inspections.models import Batch, CheckItem, InspectionPlan
from qcity.registry.models import MarketEntity

USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = [pow(3, i, 31) for i in range(17)]
ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2]


def uscc(region: str, serial: int, *, category: str = "1") -> str:
    """A valid code (GB 32100 and GB 11714 check digits) for a market entity of ``region``."""
    body = f"{serial:08d}"
    org_sum = sum(int(c) * w for c, w in zip(body, ORG_WEIGHTS, strict=True))
    org_check = {10: "X", 11: "0"}.get(11 - org_sum % 11, str(11 - org_sum % 11))
    first17 = f"9{category}{region}{body}{org_check}"
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return first17 + USCC_CHARS[(31 - total % 31) % 31]


def county_bureau(county: str) -> OrgUnit:
    return OrgUnit.objects.get(name=f"{county}市场监督管理局")


def make_entities(
    county: str,
    region: str,
    classes: Iterable[str],
    *,
    start: int = 1,
    status: str = MarketEntity.Status.ACTIVE,
    kind: str = MarketEntity.Kind.ENTERPRISE,
    industry: str = "C1441",
) -> list[MarketEntity]:
    """One entity per class letter ("" for unclassified), inserted in non-sorted order."""
    unit = county_bureau(county)
    rows = [
        MarketEntity(
            code=uscc(region, start + i),
            name=f"{county}测试主体{start + i}",
            kind=kind,
            region_code=region,
            owner_unit=unit,
            industry_code=industry,
            status=status,
            risk_class=risk,
        )
        for i, risk in enumerate(classes)
    ]
    rows.reverse()  # the database, not the insertion order, must sort them
    return MarketEntity.objects.bulk_create(rows)


def make_batch(
    owner: OrgUnit,
    user: User,
    *,
    quotas: dict | None = None,
    population_filter: dict | None = None,
    number: int = 1,
    window: tuple[dt.date, dt.date] = (dt.date(2026, 12, 1), dt.date(2026, 12, 31)),
    items: Iterable[CheckItem] = (),
    exclude_days: int = 365,
) -> Batch:
    plan, _ = InspectionPlan.objects.get_or_create(
        owner_unit=owner,
        year=window[0].year,
        title=f"{owner.name}{window[0].year}年度抽查计划",
        defaults={"created_by": user},
    )
    batch = Batch.objects.create(
        plan=plan,
        number=number,
        title=f"第{number}批食品生产企业检查",
        population_filter=population_filter or {},
        quotas=quotas if quotas is not None else {"A": {"ratio": "50"}},
        exclude_checked_within_days=exclude_days,
        window_start=window[0],
        window_end=window[1],
    )
    batch.check_items.set(list(items))
    return batch


def check_item(code: str = "SC-001") -> CheckItem:
    return CheckItem.objects.create(
        code=code,
        name="食品生产企业监督检查",
        legal_basis="《中华人民共和国食品安全法》第一百一十条",
        department="市场监管部门",
        object_type="食品生产企业",
        kind=CheckItem.Kind.GENERAL,
    )


def use_tmp_store(settings, tmp_path):
    """Point the attachments storage (where draws keep their snapshots) at ``tmp_path``."""
    root = tmp_path / "attachments"
    settings.STORAGES = {
        **settings.STORAGES,
        "attachments": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(root)},
        },
    }
    return root
