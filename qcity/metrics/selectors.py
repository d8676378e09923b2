"""Reads of the metrics app, all through the data scope."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.contrib.contenttypes.models import ContentType
from django.db.models import QuerySet

from qcity.core.models import Attachment, User
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


def evidence_of(revisions: Iterable[IndicatorValueRevision]) -> dict[int, list[Attachment]]:
    """The evidence files of each revision, in upload order, in one query.

    The caller found the revisions through the scope; the download link
    (``/files/<id>/``) checks it again through the revision's own rule.
    """
    ids = [str(revision.pk) for revision in revisions]
    found: dict[int, list[Attachment]] = defaultdict(list)
    if not ids:
        return found
    content_type = ContentType.objects.get_for_model(IndicatorValueRevision)
    for attachment in Attachment.objects.filter(
        content_type=content_type, object_id__in=ids
    ).order_by("pk"):
        found[int(attachment.object_id)].append(attachment)
    return found


def get_value(user: User, value_id: object) -> IndicatorValue:
    return get_scoped_or_404(
        user,
        IndicatorValue.objects.select_related("indicator", "org_unit", "entered_by"),
        pk=value_id,
    )


def revisions_of(user: User, value: IndicatorValue) -> QuerySet[IndicatorValueRevision]:
    return scoped(
        user,
        IndicatorValueRevision.objects.filter(indicator_value=value).select_related(
            "entered_by", "indicator_value__org_unit"
        ),
    ).order_by("-id")


def filter_values(
    values: QuerySet[IndicatorValue], *, period: str | None = None, org_unit_id: int | None = None
) -> QuerySet[IndicatorValue]:
    if period:
        values = values.filter(period=period)
    if org_unit_id is not None:
        values = values.filter(org_unit_id=org_unit_id)
    return values
