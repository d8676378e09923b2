"""Indicators and their values in the JSON API, under the same data scope as the pages.

No ``from __future__ import annotations`` here: ninja reads ``Query[...]`` / ``Form[...]``
parameter annotations at import time, behind the pagination wrapper.
"""

import datetime as dt
from decimal import Decimal

from django.http import Http404, HttpRequest
from django.urls import reverse
from ninja import Field, File, Form, Query, Router, Schema, UploadedFile
from ninja.pagination import paginate

from qcity.api import Error
from qcity.core.models import Attachment
from qcity.core.paging import LimitOffset
from qcity.metrics import selectors, services
from qcity.metrics.models import Indicator, IndicatorValue, IndicatorValueRevision

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
    org_unit_id: int | None = Field(
        None, ge=1, le=2**63 - 1, description="单位；默认指标的责任单位"
    )
    evidence_note: str = Field("", max_length=2000, description="佐证说明")


class ValueFilters(Schema):
    period: str | None = Field(
        None, max_length=7, description="只列此统计期：2025、2025Q1 或 2025-03"
    )
    # Bounded: a foreign key's lookup is not range-checked, 10**40 overflowed the database.
    org_unit_id: int | None = Field(None, ge=1, le=2**63 - 1, description="只列此单位的数值")


class IndicatorEvidenceOut(Schema):
    id: int
    name: str
    media_type: str
    size: int
    sha256: str
    uploaded_at: dt.datetime
    # The page download (session login); it checks the revision's scope again.
    download_url: str

    @staticmethod
    def resolve_name(obj: Attachment) -> str:
        return obj.original_name

    @staticmethod
    def resolve_download_url(obj: Attachment) -> str:
        return reverse("download_file", args=[obj.pk])


class RevisionOut(Schema):
    id: int
    value: Decimal
    previous_value: Decimal | None
    source: str
    entered_by: str | None
    entered_at: dt.datetime
    evidence_note: str
    evidence: list[IndicatorEvidenceOut]


class ValueFormIn(Schema):
    """The multipart form of a value with evidence files (the fields of ``ValueIn``)."""

    period: str = Field(
        ..., max_length=7, description="统计期：2025（年度）、2025Q1（季度）、2025-03（月度）"
    )
    value: Decimal = Field(..., description="数值（至多 14 位整数、4 位小数）")
    unit: str = Field(..., max_length=20, description="计量单位，须与指标一致")
    org_unit_id: int | None = Field(
        None, ge=1, le=2**63 - 1, description="单位；默认指标的责任单位"
    )
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
def list_values(request: HttpRequest, indicator_id: int, filters: Query[ValueFilters]):
    """The indicator's values within the caller's data scope, newest period first."""
    indicator = selectors.get_indicator(request.user, indicator_id)
    return selectors.filter_values(
        selectors.visible_values(request.user, indicator),
        period=filters.period,
        org_unit_id=filters.org_unit_id,
    )


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


@router.post(
    "/indicators/{indicator_id}/values/with-evidence",
    response={200: ValueOut, 403: Error, 404: Error, 422: Error},
)
def enter_value_with_evidence(
    request: HttpRequest,
    indicator_id: int,
    payload: Form[ValueFormIn],
    evidence: File[list[UploadedFile]] = None,
):
    """Enter or correct one value with evidence files, as ``multipart/form-data``.

    The files (field ``evidence``, repeatable; PDF, images, Office documents) hang on
    the revision this entry writes. Value, revision and files are stored together or
    not at all. 422 codes: those of the JSON entry, plus ``too_many_files`` and the
    file checks' ``file_type_not_allowed``, ``file_extension_mismatch``,
    ``file_corrupted``, ``file_too_large``, ``file_empty``, ``zip_bomb``.
    """
    return services.enter_value(
        indicator_id,
        period=payload.period,
        value=payload.value,
        unit=payload.unit,
        org_unit_id=payload.org_unit_id,
        evidence_note=payload.evidence_note,
        evidence=evidence or [],
        by=request.user,
    )


@router.get(
    "/indicators/{indicator_id}/values/{value_id}/revisions",
    response={200: list[RevisionOut], 404: Error},
)
def list_revisions(request: HttpRequest, indicator_id: int, value_id: int):
    """A value's change history, newest first, each revision with its evidence files."""
    value = selectors.get_value(request.user, value_id)
    if value.indicator_id != indicator_id:
        raise Http404
    revisions: list[IndicatorValueRevision] = list(selectors.revisions_of(request.user, value))
    evidence = selectors.evidence_of(revisions)
    return [
        {
            "id": r.pk,
            "value": r.value,
            "previous_value": r.previous_value,
            "source": r.source,
            "entered_by": r.entered_by.username if r.entered_by else None,
            "entered_at": r.entered_at,
            "evidence_note": r.evidence_note,
            "evidence": evidence.get(r.pk, []),
        }
        for r in revisions
    ]
