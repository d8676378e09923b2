"""The public portal (no login): published check results and draw records (ADR 0031).

Every page reads publication rows only (``portal.selectors``). Pages are public and
cacheable for a short while; searches are rate-limited per address (``core.ratelimit``).
"""

from __future__ import annotations

import json

from django.conf import settings
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_cache_control
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from qcity.core import ratelimit
from qcity.portal import selectors
from qcity.portal.forms import ResultSearchForm

PAGE_SIZE = 20
# record.json's keys in the order docs/draw-algorithm.md lists them.
RECORD_KEYS = (
    "format",
    "format_version",
    "algorithm",
    "algorithm_version",
    "seed",
    "parameters",
    "population_digest",
    "population_size",
    "strata",
    "selected",
    "batch",
    "attempt",
    "reason",
    "drawn_at",
)
CACHE_SECONDS = 300


def _public(response: HttpResponse, seconds: int = CACHE_SECONDS) -> HttpResponse:
    patch_cache_control(response, public=True, max_age=seconds)
    return response


def _pk(number: int) -> int:
    # A number past the database's integer range is absent, not a database error.
    if number > 2**62:
        raise Http404
    return number


@require_safe
def index(request: HttpRequest) -> HttpResponse:
    """The first page: the latest published results, and the search over them."""
    form = ResultSearchForm(request.GET or None)
    status = 200
    rows = selectors.search_results()
    if form.is_bound:
        if form.searching:
            bucket = f"portal_search:address:{ratelimit.client_ip(request)}"
            if ratelimit.hit(bucket) > settings.PORTAL_SEARCH_RATE_LIMIT_PER_ADDRESS:
                retry = ratelimit._window()[1]
                response = render(
                    request,
                    "portal/rate_limited.html",
                    {"minutes": max(1, round(retry / 60))},
                    status=429,
                )
                response["Retry-After"] = str(retry)
                return response
        if form.is_valid():
            rows = selectors.search_results(**form.cleaned_data)
        else:
            rows, status = rows.none(), 400
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    for row in page.object_list:
        row.county = selectors.county_name(row.region_code)
    query = request.GET.copy()
    query.pop("page", None)
    response = render(
        request,
        "portal/index.html",
        {"form": form, "page": page, "query": query.urlencode()},
        status=status,
    )
    return _public(response, 60) if status == 200 else response


@require_safe
def result_detail(request: HttpRequest, pk: int) -> HttpResponse:
    row = selectors.result(_pk(pk))
    if row is None:
        raise Http404
    return _public(
        render(
            request,
            "portal/result_detail.html",
            {"row": row, "county": selectors.county_name(row.region_code)},
        )
    )


@require_safe
def draw_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.draws(), PAGE_SIZE).get_page(request.GET.get("page"))
    return _public(render(request, "portal/draw_list.html", {"page": page}), 60)


@require_safe
def draw_detail(request: HttpRequest, pk: int) -> HttpResponse:
    row = selectors.draw(_pk(pk))
    if row is None:
        raise Http404
    record = row.record if isinstance(row.record, dict) else {}
    return _public(
        render(
            request,
            "portal/draw_detail.html",
            {
                "row": row,
                "record": record,
                "strata": sorted((record.get("strata") or {}).items()),
                "selected": record.get("selected") or [],
                "others": selectors.other_attempts(row),
            },
        )
    )


@require_safe
def draw_record(request: HttpRequest, pk: int) -> HttpResponse:
    row = selectors.draw(_pk(pk))
    if row is None:
        raise Http404
    # The record as `qcity export_draw` writes it (UTF-8 JSON, its keys in the documented
    # order: PostgreSQL's jsonb does not keep the order they were stored in).
    record = row.record if isinstance(row.record, dict) else {}
    ordered = {key: record[key] for key in RECORD_KEYS if key in record}
    ordered.update({key: record[key] for key in sorted(record) if key not in ordered})
    body = json.dumps(ordered, ensure_ascii=False, indent=2) + "\n"
    response = HttpResponse(body.encode(), content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename="record.json"
    )
    return response


@require_safe
def draw_population(request: HttpRequest, pk: int) -> HttpResponse:
    row = selectors.draw(_pk(pk))
    if row is None:
        raise Http404
    try:
        handle = selectors.open_population(row)
    except OSError:
        raise Http404(_("名录快照文件暂时无法读取。")) from None
    response = FileResponse(handle, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename="population.csv"
    )
    return response
