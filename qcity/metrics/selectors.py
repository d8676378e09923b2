"""Reads of the metrics app, all through the data scope."""

from __future__ import annotations

from django.db.models import QuerySet

from qcity.core.models import User
from qcity.core.scope import get_scoped_or_404, scoped
from qcity.metrics.models import Indicator, IndicatorValue, IndicatorValueRevision


def visible_indicators(user: User) -> QuerySet[Indicator]:
    return scoped(user, Indicator.objects.select_related("owner_unit")).order_by(
        "sort_order", "code"
    )


def get_indicator(user: User, indicator_id: object) -> Indicator:
    return get_scoped_or_404(user, Indicator.objects.select_related("owner_unit"), pk=indicator_id)


def visible_values(user: User, indicator: Indicator) -> QuerySet[IndicatorValue]:
    return scoped(
        user,
        IndicatorValue.objects.filter(indicator=indicator).select_related(
            "org_unit", "entered_by", "indicator"
        ),
    ).order_by("-period_end", "org_unit__path", "id")


def value_history(user: User, indicator: Indicator) -> QuerySet[IndicatorValueRevision]:
    return scoped(
        user,
        IndicatorValueRevision.objects.filter(indicator_value__indicator=indicator).select_related(
            "indicator_value__org_unit", "entered_by"
        ),
    ).order_by("-id")


def series(indicator: Indicator, org_unit_id: int) -> QuerySet[IndicatorValue]:
    """One unit's values of one indicator in period order (for target status: the
    caller has already checked that it may see the target and so its figures)."""
    return IndicatorValue.objects.filter(indicator=indicator, org_unit_id=org_unit_id).order_by(
        "period_end"
    )
