"""Jurisdiction: which county bureau handles a case, transfers and disputes.

PLACEHOLDER of the skeleton: the routing helper owns this module and completes it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from qcity.complaints.models import Case, Transfer
from qcity.core import rulebook
from qcity.core.models import OrgUnit, User
from qcity.core.workflow import Deadline, Invalid
from qcity.registry.models import MarketEntity


def validate_transfer(case: Case, user: User, *, to_unit: Any = None, **params: Any) -> dict:
    unit = OrgUnit.objects.filter(pk=to_unit).first() if str(to_unit or "").isdigit() else None
    if unit is None or unit.pk == case.owner_unit_id:
        raise Invalid("请选择另一个承办单位")
    return {"to_unit": unit}


def apply_transfer(case: Case, user: User, *, to_unit: OrgUnit, **params: Any) -> dict:
    Transfer.objects.create(
        case=case,
        kind=Transfer.Kind.TRANSFER,
        from_unit=case.owner_unit,
        to_unit=to_unit,
        reason=params.get("reason", ""),
        at=timezone.now(),
        by=user,
    )
    old = case.owner_unit
    case.owner_unit = to_unit
    return {"from_unit": old.name, "to_unit": to_unit.name}


def apply_designation(case: Case, user: User, *, to_unit: OrgUnit, **params: Any) -> dict:
    return apply_transfer(case, user, to_unit=to_unit, **params)


def apply_dispute(case: Case, user: User, **params: Any) -> dict[str, Any]:
    return {}


def dispute_deadline(case: Case, now: dt.datetime) -> Deadline:
    return rulebook.case_deadline(
        case.received_on, "jurisdiction.dispute", timezone.localtime(now).date()
    )


def deadline_after_transfer(case: Case, now: dt.datetime) -> Deadline | None:
    if case.kind == Case.Kind.COMPLAINT:
        return rulebook.case_deadline(case.received_on, "complaint.accept", case.received_on)
    return rulebook.case_deadline(
        case.received_on,
        "complaint.lead_check" if case.kind == Case.Kind.LEAD else "report.verify",
        case.received_on,
        extended=case.extended,
    )


@dataclass(frozen=True)
class Route:
    """The competent bureau and why (shown on the case as 管辖依据)."""

    unit: OrgUnit
    basis: str


def city_bureau() -> OrgUnit:
    """Where a case goes when no county can be resolved: the city bureau routes it by hand."""
    return OrgUnit.objects.get(name="市市场监管局")


def resolve(
    *,
    rules: str,
    entity: MarketEntity | None = None,
    address: str = "",
    platform: MarketEntity | None = None,
) -> Route:
    """The county bureau competent for a respondent (register first, then the address)."""
    if entity is not None:
        return Route(entity.owner_unit, f"被投诉人登记管辖：{entity.owner_unit.name}")
    for county in OrgUnit.objects.filter(kind=OrgUnit.Kind.COUNTY).exclude(code=None):
        if county.name in (address or ""):
            bureau = OrgUnit.objects.filter(code=f"{county.code}-SCJG").first()
            if bureau is not None:
                return Route(bureau, f"按经营地址（{county.name}）确定管辖")
    return Route(city_bureau(), "未能确定管辖县区，由市局分送")
