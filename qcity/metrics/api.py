"""Indicators and their values in the JSON API, under the same data scope as the pages."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.pagination import paginate

from qcity.api import Error
from qcity.core.paging import LimitOffset
from qcity.metrics import selectors, services
from qcity.metrics.models import Indicator, IndicatorValue

router = Router(tags=["metrics"])


class IndicatorOut(Schema):
    id: int
    code: str
    name: str
    unit: str
    direction: str
    period_type: str
    owner_unit_id: int
    owner_unit: str
    source: str
    calculator: str
    min_value: Decimal | None
    max_value: Decimal | None
    enabled: bool

    @staticmethod
    def resolve_owner_unit(obj: Indicator) -> str:
        return obj.owner_unit.name

    @staticmethod
    def resolve_enabled(obj: Indicator) -> bool:
        return obj.is_enabled


class ValueOut(Schema):
    id: int
    indicator_id: int
    period: str
    period_end: dt.date
    org_unit_id: int
    org_unit: str
    value: Decimal
    source: str
    entered_by: str | None
    entered_at: dt.datetime
    evidence_note: str

    @staticmethod
    def resolve_org_unit(obj: IndicatorValue) -> str:
        return obj.org_unit.name

    @staticmethod
    def resolve_entered_by(obj: IndicatorValue) -> str | None:
        return obj.entered_by.username if obj.entered_by else None


class ValueIn(Schema):
    period: str = Field(
        ..., max_length=7, description="统计期：2025（年度）、2025Q1（季度）、2025-03（月度）"
    )
    value: Decimal = Field(..., description="数值（至多 14 位整数、4 位小数）")
    unit: str = Field(..., max_length=20, description="计量单位，须与指标一致")
    org_unit_id: int | None = Field(None, description="单位；默认指标的责任单位")
    evidence_note: str = Field("", max_length=2000, description="佐证说明")


@router.get("/indicators", response=list[IndicatorOut])
@paginate(LimitOffset)
def list_indicators(request: HttpRequest):
    return selectors.visible_indicators(request.user)


@router.get("/indicators/{indicator_id}", response=IndicatorOut)
def get_indicator(request: HttpRequest, indicator_id: int):
    return selectors.get_indicator(request.user, indicator_id)


@router.get("/indicators/{indicator_id}/values", response=list[ValueOut])
@paginate(LimitOffset)
def list_values(request: HttpRequest, indicator_id: int):
    indicator = selectors.get_indicator(request.user, indicator_id)
    return selectors.visible_values(request.user, indicator)


@router.post(
    "/indicators/{indicator_id}/values",
    response={200: ValueOut, 403: Error, 404: Error, 422: Error},
)
def enter_value(request: HttpRequest, indicator_id: int, payload: ValueIn):
    """Enter or correct one value (the indicator's owner unit or the coordinator).

    200 with the stored value, whether it was new or replaced an earlier figure for
    the same period and unit (the change is kept in the value's history).

    422 codes: ``wrong_unit``, ``out_of_range``, ``invalid_value``, ``invalid_period``,
    ``calculated_indicator``, ``indicator_disabled``; 403 ``forbidden``.
    """
    row = services.enter_value(
        indicator_id,
        period=payload.period,
        value=payload.value,
        unit=payload.unit,
        org_unit_id=payload.org_unit_id,
        evidence_note=payload.evidence_note,
        by=request.user,
    )
    return row
