"""Pages of the annual assessment: list, scheme editor, results and ranking, unit details, export."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from qcity.assessment import exports, selectors, services
from qcity.assessment.models import AppliesTo, Group, Rule, Scheme
from qcity.assessment.services import SCHEME, AssessmentRefused
from qcity.core.workflow import WorkflowError, take
from qcity.plans import selectors as plan_selectors


def _assessable_plans(user) -> list:
    return [
        p
        for p in plan_selectors.visible_plans(user).select_related("owner_unit")
        if services.is_assessor(user, Scheme(plan=p))
    ]


@require_safe
@login_required
def scheme_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    return render(
        request,
        "assessment/scheme_list.html",
        {
            "schemes": selectors.visible_schemes(user),
            "plans": _assessable_plans(user),
            "this_year": timezone.localdate().year,
        },
    )


@require_POST
@login_required
def scheme_create(request: HttpRequest) -> HttpResponse:
    """Create a scheme; the default Tieling criteria come with it (one click)."""
    try:
        year = int(request.POST.get("year", ""))
    except ValueError:
        year = 0
    try:
        plan = plan_selectors.get_plan(request.user, request.POST.get("plan", ""))
    except Http404:  # absent, out of scope or a malformed id
        messages.error(request, _("请选择实施方案。"))
        return redirect("assessment_list")
    try:
        scheme = services.create_scheme(
            plan, year, by=request.user, default=request.POST.get("default", "1") == "1"
        )
    except AssessmentRefused as exc:
        messages.error(request, exc.message)
        return redirect("assessment_list")
    messages.success(request, _("已新建考核方案，并载入铁岭默认考核指标。"))
    return redirect("assessment_criteria", pk=scheme.pk)


def _assessor_scheme(request: HttpRequest, pk: int) -> Scheme:
    scheme = selectors.get_scheme(request.user, pk)
    if not services.is_assessor(request.user, scheme):
        raise PermissionDenied
    return scheme


def _posted_rows(request: HttpRequest) -> list[dict[str, str]]:
    post = request.POST
    columns = ("id", "name", "rule", "weight", "max_points", "applies_to")
    lists = {c: post.getlist(c) for c in columns}
    removed = set(post.getlist("remove"))
    rows = []
    for i in range(len(lists["name"])):
        row = {c: (lists[c][i] if i < len(lists[c]) else "").strip() for c in columns}
        if str(i) in removed or (not row["name"] and not row["weight"]):
            continue
        rows.append(row)
    return rows


@login_required
def scheme_criteria(request: HttpRequest, pk: int) -> HttpResponse:
    """The scheme editor: criteria, weights, rules, maximum points, which units."""
    scheme = _assessor_scheme(request, pk)
    error, rows = "", None
    if request.method == "POST":
        rows = _posted_rows(request)
        try:
            services.set_criteria(request.user, scheme.pk, rows)
        except AssessmentRefused as exc:
            error = exc.message
        else:
            messages.success(request, _("考核指标已保存。"))
            return redirect("assessment_criteria", pk=scheme.pk)
    elif request.method not in ("GET", "HEAD"):
        return HttpResponse(status=405)
    criteria = rows if rows is not None else list(selectors.criteria_of(request.user, scheme))
    return render(
        request,
        "assessment/criteria.html",
        {
            "scheme": scheme,
            "criteria": criteria,
            "rules": Rule.choices,
            "applies": AppliesTo.choices,
            "error": error,
            "steps": SCHEME.available_steps(scheme, request.user),
        },
        status=400 if error else 200,
    )


@require_POST
@login_required
def scheme_default(request: HttpRequest, pk: int) -> HttpResponse:
    scheme = _assessor_scheme(request, pk)
    try:
        services.load_default_criteria(request.user, scheme.pk)
    except AssessmentRefused as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已载入铁岭默认考核指标。"))
    return redirect("assessment_criteria", pk=scheme.pk)


@require_POST
@login_required
def scheme_step(request: HttpRequest, pk: int, step: str) -> HttpResponse:
    scheme = selectors.get_scheme(request.user, pk)
    if step not in ("compute", "revise", "publish", "reopen"):
        raise PermissionDenied
    try:
        take(
            SCHEME,
            step,
            scheme.pk,
            by=request.user,
            reason=request.POST.get("reason", "")[:1000],
            expected_state=request.POST.get("state") or None,
        )
    except WorkflowError as exc:
        messages.error(request, exc.message)
    else:
        done = {
            "compute": _("已计算得分和排名。"),
            "revise": _("方案已退回草稿，可以修改考核指标。"),
            "publish": _("考核结果已发布，所有内部用户可以查看排名。"),
            "reopen": _("考核已重新开启。"),
        }
        messages.success(request, done[step])
    if step == "revise":
        return redirect("assessment_criteria", pk=scheme.pk)
    return redirect("assessment_detail", pk=scheme.pk)


@require_safe
@login_required
def scheme_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Results and ranking: departments and counties ranked separately."""
    user = request.user
    scheme = selectors.get_scheme(user, pk)
    assessor = services.is_assessor(user, scheme)
    criteria = list(selectors.criteria_of(user, scheme))
    ranking = selectors.ranking(user, scheme)
    points: dict[tuple[int, int], object] = {}
    if assessor:
        points = {(s.unit_id, s.criterion_id): s for s in selectors.visible_scores(user, scheme)}
    groups = [
        (
            Group(group).label,
            group,
            [
                (r, [points.get((r.unit_id, c.pk)) for c in criteria if c.applies(group)])
                for r in rows
            ],
            [c for c in criteria if c.applies(group)],
        )
        for group, rows in ranking.items()
    ]
    return render(
        request,
        "assessment/scheme_detail.html",
        {
            "scheme": scheme,
            "assessor": assessor,
            "criteria": criteria,
            "groups": groups,
            "details_for": selectors.units_with_details(user, scheme),
            "steps": SCHEME.available_steps(scheme, user),
            "adjustments": list(selectors.visible_adjustments(user, scheme)) if assessor else [],
            "qualitative": [c for c in criteria if c.rule == Rule.QUALITATIVE],
            "assessed": [r for rows in ranking.values() for r in rows],
        },
    )


@require_POST
@login_required
def adjust(request: HttpRequest, pk: int) -> HttpResponse:
    scheme = selectors.get_scheme(request.user, pk)
    try:
        result = services.add_adjustment(
            request.user,
            scheme.pk,
            request.POST.get("unit", ""),
            points=request.POST.get("points", ""),
            reason=request.POST.get("reason", ""),
        )
    except AssessmentRefused as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("已为%(unit)s加减分，总分 %(total)s。")
            % {"unit": result.unit.name, "total": result.total},
        )
    return redirect("assessment_detail", pk=scheme.pk)


@require_POST
@login_required
def qualitative(request: HttpRequest, pk: int) -> HttpResponse:
    scheme = selectors.get_scheme(request.user, pk)
    try:
        services.score_qualitative(
            request.user,
            scheme.pk,
            request.POST.get("criterion", ""),
            request.POST.get("unit", ""),
            points=request.POST.get("points", ""),
            comment=request.POST.get("comment", ""),
        )
    except AssessmentRefused as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("综合评价评分已保存。"))
    return redirect("assessment_detail", pk=scheme.pk)


@require_safe
@login_required
def unit_detail(request: HttpRequest, pk: int, unit_pk: int) -> HttpResponse:
    """One unit's scores with the inputs each was computed from, and its adjustments."""
    scheme = selectors.get_scheme(request.user, pk)
    details = selectors.unit_details(request.user, scheme, unit_pk)
    return render(request, "assessment/unit_detail.html", {"scheme": scheme, "details": details})


@require_safe
@login_required
def export_xlsx(request: HttpRequest, pk: int) -> HttpResponse:
    scheme = selectors.get_scheme(request.user, pk)
    return exports.ranking_response(request, scheme)
