"""消费投诉信息公示 on the portal: the list with its search, and one enterprise's periods.

Public, no login, cacheable for a minute; searches share the portal's per-address rate limit
(``core.ratelimit``, the same bucket as the results search). Every read is of
``PublishedComplaintStat`` rows through ``portal.selectors``: never a case table (ADR 0042).
"""

from __future__ import annotations

import re

from django import forms
from django.conf import settings
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe

from qcity.core import ratelimit
from qcity.portal import selectors
from qcity.portal.views import PAGE_SIZE, _public

_CODE = re.compile(r"^[0-9A-Z]{18}$")


def period_label(period: str) -> str:
    if len(period) == 7:
        return _("%(y)s年%(m)s月") % {"y": period[:4], "m": int(period[5:])}
    return _("%(y)s年") % {"y": period}


class ComplaintSearchForm(forms.Form):
    q = forms.CharField(
        label=_("经营者名称或统一社会信用代码"),
        required=False,
        max_length=100,
        error_messages={"max_length": _("搜索内容不能超过 %(limit_value)d 个字。")},
    )
    period = forms.ChoiceField(
        label=_("统计期间"),
        required=False,
        error_messages={"invalid_choice": _("没有这个统计期间的公示。")},
    )

    def __init__(self, *args, periods: list[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["period"].choices = [("", _("最近一期（查询时为全部期间）"))] + [
            (p, period_label(p)) for p in periods
        ]

    @property
    def searching(self) -> bool:
        return any(self.data.get(name) for name in self.fields)


def _rate_limited(request: HttpRequest) -> HttpResponse | None:
    bucket = f"portal_search:address:{ratelimit.client_ip(request)}"
    if ratelimit.hit(bucket) <= settings.PORTAL_SEARCH_RATE_LIMIT_PER_ADDRESS:
        return None
    retry = ratelimit._window()[1]
    response = render(
        request, "portal/rate_limited.html", {"minutes": max(1, round(retry / 60))}, status=429
    )
    response["Retry-After"] = str(retry)
    return response


def _labelled(rows):
    for row in rows:
        row.county = selectors.county_name(row.region_code)
        row.period_label = period_label(row.period)
    return rows


@require_safe
def complaint_list(request: HttpRequest) -> HttpResponse:
    periods = selectors.complaint_periods()
    form = ComplaintSearchForm(request.GET or None, periods=periods)
    status = 200
    rows = selectors.search_complaint_stats()
    if form.is_bound:
        if form.searching:
            refused = _rate_limited(request)
            if refused is not None:
                return refused
        if form.is_valid():
            rows = selectors.search_complaint_stats(**form.cleaned_data)
        else:
            rows, status = rows.none(), 400
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = _labelled(list(page.object_list))
    query = request.GET.copy()
    query.pop("page", None)
    latest = selectors.latest_month()
    response = render(
        request,
        "portal/complaint_list.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "latest": period_label(latest) if latest else "",
        },
        status=status,
    )
    return _public(response, 60) if status == 200 else response


@require_safe
def complaint_entity(request: HttpRequest, code: str) -> HttpResponse:
    if not _CODE.match(code):
        raise Http404
    rows = _labelled(selectors.complaint_stats_of(code))
    if not rows:
        raise Http404
    return _public(
        render(
            request,
            "portal/complaint_entity.html",
            {"rows": rows, "name": rows[0].entity_name, "code": code, "county": rows[0].county},
        )
    )
