"""Reads of the public portal. Only publication rows (portal models) are ever queried here:
the portal never touches case tables (DESIGN §4.6, ADR 0031)."""

from __future__ import annotations

import datetime as dt
import gzip
from typing import IO

from django.core.files.storage import storages
from django.db.models import Q, QuerySet

from qcity.core.orgdata import COUNTIES
from qcity.portal.models import PublishedDraw, PublishedInspection

COUNTY_NAMES: dict[str, str] = dict(COUNTIES)


def county_name(region_code: str) -> str:
    return COUNTY_NAMES.get(region_code, region_code)


def search_results(
    *,
    q: str = "",
    county: str = "",
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> QuerySet[PublishedInspection]:
    """Published results, newest first, matching a name or code, a county and check dates."""
    rows = PublishedInspection.objects.all()
    q = q.strip()
    if q:
        code = q.upper()
        rows = rows.filter(
            Q(entity_name__contains=q) | Q(entity_code=code) | Q(entity_code__startswith=code)
        )
    if county:
        rows = rows.filter(region_code=county)
    if date_from:
        rows = rows.filter(check_date__gte=date_from)
    if date_to:
        rows = rows.filter(check_date__lte=date_to)
    return rows.order_by("-published_at", "entity_code", "pk")


def result(pk: int) -> PublishedInspection | None:
    return PublishedInspection.objects.filter(pk=pk).first()


def draws() -> QuerySet[PublishedDraw]:
    # Every attempt of a batch, in order, under the batch's latest publication.
    return PublishedDraw.objects.order_by("-published_at", "batch_title", "attempt", "pk")


def draw(pk: int) -> PublishedDraw | None:
    return PublishedDraw.objects.filter(pk=pk).first()


def other_attempts(row: PublishedDraw) -> list[PublishedDraw]:
    """The other published attempts of the same batch (same authority and batch title)."""
    return list(
        PublishedDraw.objects.filter(authority=row.authority, batch_title=row.batch_title)
        .exclude(pk=row.pk)
        .order_by("attempt")
    )


def open_population(row: PublishedDraw) -> IO[bytes]:
    """The published population.csv, decompressed as it is read."""
    return gzip.open(storages["publication"].open(row.population_file, "rb"))  # type: ignore[return-value]


# --- 投诉信息公示 (complaints.disclosure writes these rows; ADR 0042) -------------------------


def complaint_periods() -> list[str]:
    """The published periods, newest first: months before years of the same year."""
    from qcity.portal.models import PublishedComplaintStat

    periods = PublishedComplaintStat.objects.order_by().values_list("period", flat=True).distinct()
    # "2026-10" sorts after "2026" as text; a year's rows come after its months.
    return sorted(set(periods), key=lambda p: (p[:4], len(p) == 7, p), reverse=True)


def latest_month() -> str:
    return next((p for p in complaint_periods() if len(p) == 7), "")


def search_complaint_stats(*, q: str = "", period: str = ""):
    """Published complaint rows matching a name or credit code, in one period or all.

    Without a search the latest published month is shown; a search without a period
    looks through every period, so an enterprise is found whenever it was published.
    """
    from qcity.portal.models import PublishedComplaintStat

    rows = PublishedComplaintStat.objects.all()
    q = q.strip()
    if q:
        code = q.upper()
        rows = rows.filter(
            Q(entity_name__contains=q) | Q(entity_code=code) | Q(entity_code__startswith=code)
        )
    if period:
        rows = rows.filter(period=period)
    elif not q:
        rows = rows.filter(period=latest_month())
    return rows.order_by("-period", "-complaints", "entity_code", "pk")


def complaint_stats_of(code: str):
    """Every published period of one enterprise, newest first (months before their year)."""
    from qcity.portal.models import PublishedComplaintStat

    rows = list(PublishedComplaintStat.objects.filter(entity_code=code))
    return sorted(rows, key=lambda r: (r.period[:4], len(r.period) == 7, r.period), reverse=True)
