"""Target status in the JSON API (derived from the linked indicator's values)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.http import HttpRequest
from ninja import Router, Schema

from qcity.plans import selectors, target_links

router = Router(tags=["plans"])


class IndicatorRef(Schema):
    id: int
    code: str
    name: str
    unit: str
    direction: str
    period_type: str


class TargetStatusOut(Schema):
    target_id: int
    indicator_name: str
    text: str
    # Qualitative goals (满意度达到全省平均水平) have no number: a person assesses them.
    qualitative: bool
    target_value: Decimal | None
    comparator: str
    year: int | None
    indicator_id: int | None
    proposed_indicator_id: int | None
    status: str | None  # null: not linked to an indicator yet
    status_label: str | None
    baseline_period: str | None
    baseline_value: Decimal | None
    latest_period: str | None
    latest_value: Decimal | None
    indicator: IndicatorRef | None  # the confirmed link (null: none yet)
    # 31 December of the target year: where the straight path from the baseline ends.
    deadline: dt.date | None
    # The path's value at the latest value's date: what the status compared against.
    path_value: Decimal | None


def _out(state: target_links.TargetState) -> dict:
    target = state.target
    return {
        "target_id": target.pk,
        "indicator_name": target.indicator_name,
        "text": target.text,
        "qualitative": target.qualitative,
        "target_value": target.value,
        "comparator": target.comparator,
        "year": target.year,
        "indicator_id": target.indicator_id,
        "proposed_indicator_id": state.proposal.indicator.pk if state.proposal else None,
        "status": state.status.value if state.status else None,
        "status_label": str(state.status.label) if state.status else None,
        "baseline_period": state.baseline.period if state.baseline else None,
        "baseline_value": state.baseline.value if state.baseline else None,
        "latest_period": state.latest.period if state.latest else None,
        "latest_value": state.latest.value if state.latest else None,
        "indicator": target.indicator,
        "deadline": dt.date(target.year, 12, 31) if target.year else None,
        "path_value": state.path_value,
    }


@router.get("/plans/{plan_id}/targets/status", response=list[TargetStatusOut])
def plan_targets_status(request: HttpRequest, plan_id: int):
    """Every visible target of the plan: its indicator, latest value, derived status
    (已实现 / 进展正常 / 存在风险 / 严重滞后 / 暂无数据) and the path value it was judged by."""
    plan = selectors.get_plan(request.user, plan_id)
    return [_out(state) for state in target_links.target_states(request.user, plan)]


@router.get("/plans/{plan_id}/target-status", response=list[TargetStatusOut], deprecated=True)
def plan_target_status(request: HttpRequest, plan_id: int):
    """The same as ``/plans/{plan_id}/targets/status`` (its first path, kept for clients)."""
    return plan_targets_status(request, plan_id)


@router.get("/targets/{target_id}/status", response=TargetStatusOut)
def target_status(request: HttpRequest, target_id: int):
    target = target_links.get_target(request.user, target_id)
    return _out(target_links.state_of(request.user, target))
