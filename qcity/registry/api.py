"""The two registers in the JSON API under /api/v1/registry/, under the same data scope as the pages.

Reads go through ``registry.selectors`` (an id outside the caller's scope is 404
``not_found``, exactly like an absent one); writes through ``registry.services``,
which audit them. Refusals keep the services' stable codes: ``RegistryRefused`` and
``search.SearchRefused`` are answered by the handlers in ``qcity/api.py``.
"""

import datetime as dt
from typing import Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from qcity.api import Error
from qcity.core.paging import LimitOffset
from qcity.registry import selectors, services
from qcity.registry.models import Conflict, Inspector, MarketEntity
from qcity.registry.search import MAX_QUERY_CHARS

router = Router(tags=["registry"])

# The closed vocabularies, as enums in the OpenAPI document (anything else is 422).
RiskClassName = Literal[(*MarketEntity.RiskClass.values, selectors.UNCLASSIFIED)]
StatusName = Literal[tuple(MarketEntity.Status.values)]
KindName = Literal[tuple(MarketEntity.Kind.values)]
RegionCode = Literal[tuple(code for code, _ in selectors.COUNTY_CHOICES)]
IndustrySection = Literal[tuple(code for code, _ in selectors.INDUSTRY_SECTIONS)]

KIND_LABELS = dict(MarketEntity.Kind.choices)
STATUS_LABELS = dict(MarketEntity.Status.choices)


class EntityOut(Schema):
    code: str
    code_kind: str
    code_warning: str
    name: str
    kind: str
    kind_label: str
    region_code: str
    owner_unit: str
    industry_code: str
    status: str
    status_label: str
    risk_class: str = Field(..., description="A–D，空字符串表示未分类")
    risk_classified_on: dt.date | None
    on_abnormal_list: bool
    on_serious_list: bool

    @staticmethod
    def resolve_owner_unit(obj: MarketEntity) -> str:
        return obj.owner_unit.name

    @staticmethod
    def resolve_kind_label(obj: MarketEntity) -> str:
        return str(KIND_LABELS.get(obj.kind, obj.kind))

    @staticmethod
    def resolve_status_label(obj: MarketEntity) -> str:
        return str(STATUS_LABELS.get(obj.status, obj.status))


class EntityTaskOut(Schema):
    id: int
    year: int
    batch: str
    owner_unit: str
    status: str


class EntityDetailOut(EntityOut):
    address: str
    tasks: list[EntityTaskOut]

    @staticmethod
    def resolve_tasks(obj: MarketEntity, context) -> list[dict]:
        user = context["request"].user
        return [
            {
                "id": t.pk,
                "year": t.batch.plan.year,
                "batch": t.batch.title,
                "owner_unit": t.owner_unit.name,
                "status": t.status,
            }
            for t in selectors.entity_tasks(user, obj)[:200]
        ]


class EntityFilterIn(Schema):
    q: str | None = Field(
        None,
        max_length=MAX_QUERY_CHARS,
        description="代码（全部或开头几位）或名称中连续两个及以上的字；空格分隔的词须同时出现",
    )
    region_code: RegionCode | None = Field(None, description="区县（GB/T 2260）")
    risk_class: RiskClassName | None = Field(None, description="信用风险分类；none 为未分类")
    status: StatusName | None = None
    kind: KindName | None = None
    industry: IndustrySection | None = Field(None, description="GB/T 4754 门类字母")
    abnormal: bool = Field(False, description="只看列入经营异常名录的")
    serious: bool = Field(False, description="只看列入严重违法失信名单的")


@router.get("/registry/entities", response=list[EntityOut])
@paginate(LimitOffset)
def list_entities(request: HttpRequest, filters: Query[EntityFilterIn]):
    """检查对象名录：搜索与筛选（按代码排序）。搜索词过短为 422 query_too_short。"""
    flags = [
        name for name, on in (("abnormal", filters.abnormal), ("serious", filters.serious)) if on
    ]
    f = selectors.EntityFilter(
        q=filters.q or "",
        region_code=filters.region_code or "",
        risk_class=filters.risk_class or "",
        status=filters.status or "",
        kind=filters.kind or "",
        industry=filters.industry or "",
        flags=flags,
    )
    return selectors.search_entities(request.user, f)


@router.get("/registry/entities/{code}", response=EntityDetailOut)
def get_entity(request: HttpRequest, code: str):
    """一个市场主体（按统一社会信用代码），含数据范围内的检查任务。"""
    return selectors.get_entity(request.user, code)


# --- inspectors ------------------------------------------------------------------------------


class InspectorOut(Schema):
    id: int
    name: str
    certificate_no: str
    org_unit_id: int
    org_unit: str
    specialities: list[str]
    active: bool

    @staticmethod
    def resolve_org_unit(obj: Inspector) -> str:
        return obj.org_unit.name

    @staticmethod
    def resolve_specialities(obj: Inspector) -> list[str]:
        return [s.code for s in obj.specialities.all()]


class InspectorFilterIn(Schema):
    q: str | None = Field(None, max_length=MAX_QUERY_CHARS, description="姓名或执法证号开头")
    unit_id: int | None = Field(None, ge=1, le=2_147_483_647, description="单位及其下级")
    speciality_id: int | None = Field(None, ge=1, le=2_147_483_647)
    active: bool | None = Field(True, description="true 在库（默认），false 已停用；不传为 true")


@router.get("/registry/inspectors", response=list[InspectorOut])
@paginate(LimitOffset)
def list_inspectors(request: HttpRequest, filters: Query[InspectorFilterIn]):
    """执法人员名录（数据范围内）。"""
    return selectors.search_inspectors(
        request.user,
        selectors.InspectorFilter(
            q=filters.q or "",
            unit=filters.unit_id,
            speciality=filters.speciality_id,
            active=filters.active,
        ),
    )


@router.get("/registry/inspectors/{inspector_id}", response=InspectorOut)
def get_inspector(request: HttpRequest, inspector_id: int):
    return selectors.get_inspector(request.user, inspector_id)


# --- conflicts -------------------------------------------------------------------------------


class ConflictOut(Schema):
    id: int
    inspector_id: int
    inspector: str
    entity_code: str
    entity_name: str
    reason: str
    declared_at: dt.datetime
    withdrawn_at: dt.datetime | None
    active: bool

    @staticmethod
    def resolve_inspector(obj: Conflict) -> str:
        return obj.inspector.name

    @staticmethod
    def resolve_entity_code(obj: Conflict) -> str:
        return obj.entity.code

    @staticmethod
    def resolve_entity_name(obj: Conflict) -> str:
        return obj.entity.name

    @staticmethod
    def resolve_active(obj: Conflict) -> bool:
        return obj.withdrawn_at is None


class ConflictFilterIn(Schema):
    inspector_id: int | None = Field(None, ge=1, le=2**63 - 1)
    entity_code: str | None = Field(None, max_length=40)
    active: bool = Field(False, description="只看有效（未撤回）的申报")


@router.get("/registry/conflicts", response=list[ConflictOut])
@paginate(LimitOffset)
def list_conflicts(request: HttpRequest, filters: Query[ConflictFilterIn]):
    """回避申报：执法人员在数据范围内的（执法人员本人只看自己的）。"""
    user = request.user
    inspector = (
        selectors.get_inspector(user, filters.inspector_id) if filters.inspector_id else None
    )
    qs = selectors.visible_conflicts(user, inspector=inspector, active_only=filters.active)
    if filters.entity_code:
        qs = qs.filter(entity__code="".join(filters.entity_code.split()).upper())
    return qs


class DeclareIn(Schema):
    inspector_id: int = Field(..., ge=1, le=2**63 - 1)
    entity_code: str = Field(..., min_length=1, max_length=40)
    reason: str = Field(..., min_length=1, max_length=200)


class WithdrawIn(Schema):
    reason: str = Field(..., min_length=1, max_length=200)


@router.post(
    "/registry/conflicts",
    response={201: ConflictOut, 403: Error, 404: Error, 409: Error, 422: Error},
)
def declare_conflict(request: HttpRequest, data: DeclareIn):
    """申报回避：执法人员本人，或本单位及上级单位的监管人员为其登记。

    错误码：forbidden 403，not_found / entity_not_found 404，conflict_exists 409，
    reason_required / inspector_inactive 422。
    """
    conflict = services.declare_conflict(
        request.user,
        inspector_id=data.inspector_id,
        entity_code=data.entity_code,
        reason=data.reason,
    )
    return Status(201, selectors.get_conflict(request.user, conflict.pk))


@router.post(
    "/registry/conflicts/{conflict_id}/withdraw",
    response={200: ConflictOut, 403: Error, 404: Error, 409: Error, 422: Error},
)
def withdraw_conflict(request: HttpRequest, conflict_id: int, data: WithdrawIn):
    """撤回回避申报（保留记录）。错误码：forbidden 403，not_found 404，already_withdrawn 409。"""
    services.withdraw_conflict(request.user, conflict_id, reason=data.reason)
    return selectors.get_conflict(request.user, conflict_id)
