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
