"""The dashboard (驾驶舱) and its drill-down: thin views over ``dashboard.selectors``."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from qcity.core.models import Role
from qcity.core.scope import effective_scope
from qcity.dashboard import selectors, services
from qcity.dashboard.charts import chart_data, progress_labels, text_tables


@require_safe
@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    user = request.user
    plan, plans = selectors.choose_plan(user, request.GET.get("plan"))
    if plan is not None:
        # Counts changed behind the reports' save signal (a cycle just opened: its
        # reports are bulk-created) are rebuilt before they are shown.
        services.refresh_stale(selectors.open_cycle_ids(plan))
    data = selectors.dashboard(user, plan, plans)
    return render(
        request,
        "dashboard/dashboard.html",
        {
            "d": data,
            "charts": chart_data(data),
            "tables": text_tables(data),
            "progress_labels": progress_labels(),
            "scope": effective_scope(user),
            # Administrators (无业务数据) and enterprises (no plan to read) have no dashboard.
            "no_business_data": effective_scope(user) == "none"
            or (not plans and user.role == Role.ENTERPRISE),
            "is_coordinator": user.role == Role.COORDINATOR,
        },
    )


@require_safe
@login_required
def chapter_detail(request: HttpRequest, chapter_pk: int) -> HttpResponse:
    user = request.user
    chapter = selectors.get_chapter(user, chapter_pk)
    cycles = list(selectors.visible_cycles(user, chapter.plan))
    cycle_id = request.GET.get("cycle")
    if cycle_id:
        cycle = selectors.get_cycle(user, chapter.plan, cycle_id)
    else:
        cycle = cycles[-1] if cycles else None
    if cycle is not None:
        cycle.cycle_url = selectors.page_url("reporting:cycle_detail", cycle.pk)
    return render(
        request,
        "dashboard/chapter.html",
        {
            "chapter": chapter,
            "plan": chapter.plan,
            "cycle": cycle,
            "cycles": cycles[::-1],
            "measures": selectors.chapter_reports(user, chapter, cycle) if cycle else [],
            "progress_labels": progress_labels(),
        },
    )
