from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from qcity.core.models import OrgUnit, Role
from qcity.core.scope import effective_scope
from qcity.plans import exports, selectors


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The dashboard. It lives here because the plan is what it summarises; core
    must not depend on plans."""
    user = request.user
    return render(
        request,
        "plans/home.html",
        {
            "plan_count": selectors.visible_plans(user).count(),
            "measure_count": selectors.visible_measures(user).count(),
            "mine_count": selectors.my_measures(user).count(),
            "scope": effective_scope(user),
            "pending_units": OrgUnit.objects.enabled().filter(confirmed=False).count()
            if user.role == Role.COORDINATOR
            else 0,
        },
    )


@login_required
def plan_list(request: HttpRequest) -> HttpResponse:
    return render(request, "plans/plan_list.html", {"plans": selectors.visible_plans(request.user)})


@login_required
def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    plan = selectors.get_plan(request.user, pk)
    return render(
        request,
        "plans/plan_detail.html",
        {
            "plan": plan,
            "chapters": selectors.chapters_with_measures(request.user, plan),
            "targets": selectors.visible_targets(request.user, plan),
        },
    )


@login_required
def measure_detail(request: HttpRequest, pk: int, measure_pk: int) -> HttpResponse:
    plan = selectors.get_plan(request.user, pk)
    measure = selectors.get_measure(request.user, measure_pk)
    if measure.plan_id != plan.pk:
        raise Http404
    return render(request, "plans/measure_detail.html", {"plan": plan, "measure": measure})


@login_required
def my_measures(request: HttpRequest) -> HttpResponse:
    measures = selectors.my_measures(request.user)
    return render(request, "plans/my_measures.html", {"measures": measures})


@login_required
def matrix(request: HttpRequest, pk: int) -> HttpResponse:
    plan = selectors.get_plan(request.user, pk)
    units, measures, cells, leads = selectors.responsibility_matrix(request.user, plan)
    rows = [
        (
            unit,
            [
                ("lead" if (unit.pk, m.pk) in leads else "yes" if (unit.pk, m.pk) in cells else "")
                for m in measures
            ],
            sum(1 for m in measures if (unit.pk, m.pk) in cells),
        )
        for unit in units
    ]
    return render(request, "plans/matrix.html", {"plan": plan, "measures": measures, "rows": rows})


@login_required
def search(request: HttpRequest, pk: int) -> HttpResponse:
    plan = selectors.get_plan(request.user, pk)
    query = request.GET.get("q", "").strip()[:100]
    results = selectors.search_measures(request.user, plan, query) if query else []
    template = (
        "plans/_search_results.html" if request.headers.get("HX-Request") else "plans/search.html"
    )
    return render(request, template, {"plan": plan, "query": query, "results": results})


@login_required
def export_xlsx(request: HttpRequest, pk: int) -> HttpResponse:
    plan = selectors.get_plan(request.user, pk)
    return exports.breakdown_response(
        request, plan, list(selectors.visible_measures(request.user, plan))
    )


@login_required
def export_matrix(request: HttpRequest, pk: int) -> HttpResponse:
    plan = selectors.get_plan(request.user, pk)
    return exports.matrix_response(
        request, plan, *selectors.responsibility_matrix(request.user, plan)
    )


@login_required
def export_my_measures(request: HttpRequest) -> HttpResponse:
    return exports.my_measures_response(request, list(selectors.my_measures(request.user)))
