import datetime as dt
from decimal import Decimal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from qcity.core.paging import LimitOffset
from qcity.plans import selectors
from qcity.plans.models import Measure, Target

router = Router(tags=["plans"])


class PlanOut(Schema):
    id: int
    title: str
    issuer: str
    owner_unit: str
    imported_at: dt.datetime

    @staticmethod
    def resolve_owner_unit(obj) -> str:
        return obj.owner_unit.name


class ChapterOut(Schema):
    id: int
    number: int
    heading: str


class ResponsibilityOut(Schema):
    org_unit_id: int
    org_unit: str
    written_name: str
    is_lead: bool
    confirmed: bool

    @staticmethod
    def resolve_org_unit(obj) -> str:
        return obj.org_unit.name

    @staticmethod
    def resolve_confirmed(obj) -> bool:
        return obj.org_unit.confirmed


class TargetOut(Schema):
    id: int
    plan_id: int
    measure_id: int | None
    indicator: str
    text: str
    value: Decimal | None
    unit: str
    comparator: str
    year: int | None
    sentence: str
    qualitative: bool

    @staticmethod
    def resolve_indicator(obj: Target) -> str:
        return obj.indicator_name


class MeasureOut(Schema):
    id: int
    plan_id: int
    chapter_id: int
    chapter_number: int
    number: int
    title: str
    responsible_units: list[ResponsibilityOut]
    lead_units: list[str]

    @staticmethod
    def resolve_chapter_number(obj: Measure) -> int:
        return obj.chapter.number

    @staticmethod
    def resolve_responsible_units(obj: Measure):
        return list(obj.responsibilities.all())

    @staticmethod
    def resolve_lead_units(obj: Measure) -> list[str]:
        return obj.lead_names


class MeasureDetailOut(MeasureOut):
    text: str
    units_text: str
    targets: list[TargetOut]

    @staticmethod
    def resolve_targets(obj: Measure):
        return list(obj.targets.all())


class MeasureFilter(Schema):
    plan_id: int | None = None
    # The search page reads at most 100 characters too; longer is refused, not cut.
    q: str | None = Field(None, max_length=100, description="搜索词（空格分隔，至多 100 字）")


@router.get("/plans", response=list[PlanOut])
@paginate(LimitOffset)
def list_plans(request: HttpRequest):
    return selectors.visible_plans(request.user)


@router.get("/plans/{plan_id}", response=PlanOut)
def get_plan(request: HttpRequest, plan_id: int):
    return selectors.get_plan(request.user, plan_id)


@router.get("/plans/{plan_id}/chapters", response=list[ChapterOut])
def list_chapters(request: HttpRequest, plan_id: int):
    plan = selectors.get_plan(request.user, plan_id)
    return [chapter for chapter, _ in selectors.chapters_with_measures(request.user, plan)]


@router.get("/plans/{plan_id}/targets", response=list[TargetOut])
def list_targets(request: HttpRequest, plan_id: int):
    plan = selectors.get_plan(request.user, plan_id)
    return selectors.visible_targets(request.user, plan)


@router.get("/measures", response=list[MeasureOut])
@paginate(LimitOffset)
def list_measures(request: HttpRequest, filters: Query[MeasureFilter]):
    plan = selectors.get_plan(request.user, filters.plan_id) if filters.plan_id else None
    if filters.q:
        return selectors.search_measures(request.user, plan, filters.q)
    return selectors.visible_measures(request.user, plan)


@router.get("/measures/{measure_id}", response=MeasureDetailOut)
def get_measure(request: HttpRequest, measure_id: int):
    return selectors.get_measure(request.user, measure_id)
