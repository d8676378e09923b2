"""The staff statistics page of 12315 (/complaints/statistics/), its XLSX export, and the
button that publishes the portal's complaint disclosure (``complaints.disclosure``).

Officers only (county bureaus see their own cases, the city bureau all of them, through
``selectors_stats``); publishing is the city bureau's (``disclosure.PUBLISHERS``).
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Max
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST, require_safe

from qcity.complaints import disclosure, selectors_stats
from qcity.complaints.models import Case
from qcity.core import exports
from qcity.core.models import Role
from qcity.core.permissions import role_required
from qcity.core.workflow import Forbidden, WorkflowError
from qcity.portal.models import PublishedComplaintStat

VIEWERS = (Role.COORDINATOR, Role.COUNTY_OFFICER)
PUBLISH_CHOICES_MONTHS = 12


class StatisticsForm(forms.Form):
    date_from = forms.DateField(
        label=gettext_lazy("收到日期自"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": gettext_lazy("日期格式应为 2026-09-01。")},
    )
    date_to = forms.DateField(
        label=gettext_lazy("收到日期至"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": gettext_lazy("日期格式应为 2026-09-01。")},
    )
    kind = forms.ChoiceField(
        label=gettext_lazy("类型"),
        required=False,
        choices=[("", gettext_lazy("全部")), *Case.Kind.choices],
        error_messages={"invalid_choice": gettext_lazy("没有这个类型。")},
    )

    def clean(self):
        data = super().clean()
        for name in ("date_from", "date_to"):
            day = data.get(name)
            if day is not None and not dt.date(2000, 1, 1) <= day <= dt.date(2099, 12, 31):
                self.add_error(name, _("日期应在 2000 至 2099 年之间。"))
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("结束日期不能早于开始日期。"))
        return data

    def chosen(self) -> dict:
        """The filter, defaults filled in: this year to today, every kind."""
        today = timezone.localdate()
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        return {
            "date_from": data.get("date_from") or dt.date(today.year, 1, 1),
            "date_to": data.get("date_to") or today,
            "kind": data.get("kind") or "",
        }


def publishable_periods(today: dt.date) -> list[str]:
    """The ended periods offered by the button: the last 12 months and the last 2 years."""
    periods = []
    month = today.replace(day=1)
    for _n in range(PUBLISH_CHOICES_MONTHS):
        month = (month - dt.timedelta(days=1)).replace(day=1)
        periods.append(f"{month:%Y-%m}")
    periods += [str(today.year - 1), str(today.year - 2)]
    return periods


@require_safe
@role_required(*VIEWERS)
def statistics(request: HttpRequest) -> HttpResponse:
    form = StatisticsForm(request.GET or None)
    status = 200 if not form.is_bound or form.is_valid() else 400
    chosen = form.chosen()
    stats = selectors_stats.statistics(request.user, **chosen)
    publisher = request.user.role in disclosure.PUBLISHERS
    published = []
    if publisher:
        published = list(
            PublishedComplaintStat.objects.values("period")
            .annotate(rows=Count("pk"), at=Max("published_at"))
            .order_by("-period")[:24]
        )
    return render(
        request,
        "complaints/statistics.html",
        {
            "form": form,
            "stats": stats,
            "chosen": chosen,
            "query": request.GET.urlencode(),
            "publisher": publisher,
            "periods": publishable_periods(timezone.localdate()),
            "published": published,
        },
        status=status,
    )


def _sheets(stats: selectors_stats.Statistics) -> tuple[list, list, list[exports.Sheet]]:
    kinds = [str(label) for _v, label in Case.Kind.choices]
    breakdown = [
        exports.Column(_("名称"), 28),
        *[exports.Column(k, 10) for k in kinds],
        exports.Column(_("合计"), 10),
        exports.Column(_("已办结"), 10),
        exports.Column(_("调解成功"), 10),
        exports.Column(_("调解成功率"), 12),
    ]

    def rows_of(found: list[dict]) -> list[list]:
        return [
            [
                r["name"],
                *[r[f"n_{k}"] for k in selectors_stats.KINDS],
                r["total"],
                r["closed"],
                r["agreements"],
                r["success"],
            ]
            for r in found
        ]

    columns = [exports.Column(_("类型"), 14), exports.Column(_("合计"), 10)] + [
        exports.Column(label, 12) for _v, label in stats.outcome_labels
    ]
    rows = [[r["label"], r["total"], *r["outcomes"]] for r in stats.by_kind]
    top = [exports.Column(_("名称"), 36), exports.Column(_("件数"), 10)]
    extra = [
        exports.Sheet(_("按商品服务类别"), breakdown, rows_of(stats.by_category)),
        exports.Sheet(_("按承办单位"), breakdown, rows_of(stats.by_county)),
        exports.Sheet(_("按月份"), breakdown, rows_of(stats.by_month)),
        exports.Sheet(
            _("热点被投诉举报对象"),
            [
                exports.Column(_("名称"), 36),
                exports.Column(_("统一社会信用代码"), 22),
                exports.Column(_("投诉"), 10),
                exports.Column(_("举报及线索"), 12),
                exports.Column(_("合计"), 10),
            ],
            [
                [r["name"], r["code"], r["complaints"], r["reports"], r["total"]]
                for r in stats.top_respondents
            ],
        ),
        exports.Sheet(_("热点商品服务"), top, [[r["name"], r["total"]] for r in stats.top_goods]),
        exports.Sheet(_("热点问题"), top, [[r["name"], r["total"]] for r in stats.top_issues]),
    ]
    return columns, rows, extra


@require_safe
@role_required(*VIEWERS)
def statistics_export(request: HttpRequest) -> HttpResponse:
    form = StatisticsForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        return statistics(request)
    chosen = form.chosen()
    stats = selectors_stats.statistics(request.user, **chosen)
    columns, rows, extra = _sheets(stats)
    span = f"{chosen['date_from']:%Y-%m-%d}至{chosen['date_to']:%Y-%m-%d}"
    return exports.xlsx_response(
        request,
        what="complaints.statistics",
        obj=None,
        title=_("12315投诉举报统计（收到日期 %(span)s）") % {"span": span},
        sheet=_("按类型和结果"),
        columns=columns,
        rows=rows,
        filename=f"投诉举报统计-{span}.xlsx",
        extra_sheets=extra,
    )


@require_POST
@role_required(*VIEWERS)
def publish(request: HttpRequest) -> HttpResponse:
    try:
        result = disclosure.publish(request.POST.get("period", ""), by=request.user)
    except Forbidden:
        raise PermissionDenied from None
    except WorkflowError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("已公示%(period)s的消费投诉信息：%(rows)s 家经营者，%(n)s 件投诉。")
            % {"period": result.period.label, "rows": result.rows, "n": result.complaints},
        )
    return redirect("complaints:statistics")
