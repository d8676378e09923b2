"""Targets ↔ indicators: the proposed link, the coordinator's decision, the derived status.

This lives in ``plans`` because plans point at indicators and metrics never imports
plans (ADR 0021). A proposal is computed from the target's indicator text each time
it is shown, so it follows a renamed or newly added indicator; only the
coordinator's confirmation is stored (``Target.indicator``), audited.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import QuerySet

from qcity.core import audit
from qcity.core.models import Role, User
from qcity.core.scope import get_for_write, get_scoped_or_404, scoped
from qcity.metrics import selectors as metric_selectors
from qcity.metrics.models import Indicator
from qcity.metrics.status import Status, meets, path_value, target_status
from qcity.plans.models import Plan, Target

MIN_RATIO = 0.75
_PUNCTUATION = re.compile(r"[\s、，,。.;；:：()（）“”\"'‘’《》·\-—]+")


def normalize_name(text: str) -> str:
    return _PUNCTUATION.sub("", unicodedata.normalize("NFKC", text or "")).lower()


@dataclass(frozen=True)
class Proposal:
    indicator: Indicator
    ratio: float  # 1.0 for an exact (normalised) match

    @property
    def exact(self) -> bool:
        return self.ratio >= 1.0


def propose(target: Target, indicators: list[Indicator]) -> Proposal | None:
    """The enabled indicator whose normalised name matches the target's indicator text:
    an exact match first, else the best ``difflib`` ratio of at least 0.75."""
    wanted = normalize_name(target.indicator_name)
    if not wanted:
        return None
    best: Proposal | None = None
    for indicator in indicators:
        name = normalize_name(indicator.name)
        if name == wanted:
            return Proposal(indicator, 1.0)
        ratio = difflib.SequenceMatcher(None, wanted, name).ratio()
        if ratio >= MIN_RATIO and (best is None or ratio > best.ratio):
            best = Proposal(indicator, ratio)
    return best


class LinkRefused(Exception):
    def __init__(self, code: str, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def _coordinator_only(by: User) -> None:
    if getattr(by, "role", None) != Role.COORDINATOR:
        raise LinkRefused("forbidden", "只有质量发展科协调员可以确认目标与指标的关联", 403)


def link_indicator(target_id: object, indicator_id: object, *, by: User) -> Target:
    """The coordinator confirms (or corrects) a target's indicator. Audited."""
    _coordinator_only(by)
    with transaction.atomic():
        target, allowed = get_for_write(by, Target.objects.all(), pk=target_id)
        if not allowed:
            raise LinkRefused("forbidden", "无权修改该目标", 403)
        indicator = metric_selectors.get_indicator(by, indicator_id)
        if not indicator.is_enabled:
            raise LinkRefused("indicator_disabled", f"指标“{indicator.name}”已停用，不能关联")
        old = target.indicator_id
        if old == indicator.pk:
            return target
        target.indicator = indicator
        target.save(update_fields=["indicator"])
        audit.record(
            "target.indicator_linked",
            by=by,
            obj=target,
            details={"indicator": indicator.code, "old_indicator_id": old},
        )
        return target


def unlink_indicator(target_id: object, *, by: User) -> Target:
    """The coordinator rejects a target's link (the proposal stays a proposal). Audited."""
    _coordinator_only(by)
    with transaction.atomic():
        target, allowed = get_for_write(by, Target.objects.all(), pk=target_id)
        if not allowed:
            raise LinkRefused("forbidden", "无权修改该目标", 403)
        if target.indicator_id is None:
            return target
        old = target.indicator_id
        target.indicator = None
        target.save(update_fields=["indicator"])
        audit.record(
            "target.indicator_unlinked", by=by, obj=target, details={"old_indicator_id": old}
        )
        return target


@dataclass(frozen=True)
class TargetState:
    target: Target
    proposal: Proposal | None
    status: Status | None  # None: not linked to an indicator
    baseline: object | None  # IndicatorValue
    latest: object | None  # IndicatorValue
    # Where the straight path from the baseline to the target stands at the latest
    # value's date (what the status compared against); None without a path.
    path_value: Decimal | None = None


def path_at_latest(target: Target, baseline, latest) -> Decimal | None:
    """The path's value at the latest value's date (``metrics.status.path_value``).

    No latest value, no year (no deadline) or a qualitative target: no path. Without
    an earlier baseline the path is the target itself, as ``target_status`` reads it.
    """
    if latest is None or target.year is None or target.value is None:
        return None
    deadline = dt.date(target.year, 12, 31)
    if baseline is None or baseline.period_end >= deadline:
        return target.value
    return path_value(
        baseline.value, baseline.period_end, target.value, deadline, latest.period_end
    )


def status_of(
    target: Target, values: list | None = None
) -> tuple[Status | None, object | None, object | None]:
    """Derive a linked target's status from its indicator's values for the owner unit.

    Baseline: the earliest value; latest: the most recent; deadline: 31 December of
    the target's year (no year: no path, so only 已实现 or 暂无数据). ``values``: that
    series already read (in period order), for a caller that reads many targets at once.
    """
    indicator = target.indicator
    # A qualitative target (no value) is assessed by a person, not by a figure.
    if indicator is None or target.value is None:
        return None, None, None
    if values is None:
        values = list(metric_selectors.series(indicator, indicator.owner_unit_id))
    if not values:
        return Status.NO_DATA, None, None
    baseline, latest = values[0], values[-1]
    if target.year is None:
        met = meets(latest.value, target.comparator, target.value, indicator.direction)
        return (Status.ACHIEVED if met else Status.NO_DATA), baseline, latest
    status = target_status(
        target.value,
        target.comparator,
        baseline.value,
        baseline.period_end,
        dt.date(target.year, 12, 31),
        latest.value,
        latest.period_end,
        direction=indicator.direction,
    )
    return status, baseline, latest


def target_states(user: User, plan: Plan) -> list[TargetState]:
    """Every visible, non-withdrawn target of ``plan`` with its proposal and status."""
    indicators = list(metric_selectors.visible_indicators(user).filter(disabled_on__isnull=True))
    targets = visible_plan_targets(user, plan)
    states = []
    for target in targets:
        status, baseline, latest = status_of(target)
        states.append(
            TargetState(
                target=target,
                proposal=propose(target, indicators),
                status=status,
                baseline=baseline,
                latest=latest,
                path_value=path_at_latest(target, baseline, latest),
            )
        )
    return states


def state_of(user: User, target: Target) -> TargetState:
    indicators = list(metric_selectors.visible_indicators(user).filter(disabled_on__isnull=True))
    status, baseline, latest = status_of(target)
    return TargetState(
        target,
        propose(target, indicators),
        status,
        baseline,
        latest,
        path_at_latest(target, baseline, latest),
    )


def visible_plan_targets(user: User, plan: Plan) -> QuerySet[Target]:
    return (
        scoped(user, Target.objects.filter(plan=plan, withdrawn=False))
        .select_related("indicator__owner_unit", "measure")
        .order_by("seq")
    )


def get_target(user: User, target_id: object) -> Target:
    return get_scoped_or_404(
        user, Target.objects.select_related("indicator__owner_unit", "plan"), pk=target_id
    )
