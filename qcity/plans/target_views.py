"""The targets of a plan with their indicators and derived status; the coordinator
confirms, corrects or rejects the proposed links here (plans.target_links)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from qcity.core.models import Role
from qcity.core.permissions import role_required
from qcity.metrics import selectors as metric_selectors
from qcity.plans import selectors, target_links


@require_safe
@login_required
def plan_targets(request: HttpRequest, pk: int) -> HttpResponse:
    plan = selectors.get_plan(request.user, pk)
    return render(
        request,
        "plans/plan_targets.html",
        {
            "plan": plan,
            "states": target_links.target_states(request.user, plan),
            "indicators": metric_selectors.visible_indicators(request.user).filter(
                disabled_on__isnull=True
            ),
            "may_link": request.user.role == Role.COORDINATOR,
        },
    )


def _target_of_plan(request: HttpRequest, pk: int, target_pk: int):
    target = target_links.get_target(request.user, target_pk)
    if target.plan_id != pk:
        raise Http404
    return target


@require_POST
@role_required(Role.COORDINATOR)
def link_target(request: HttpRequest, pk: int, target_pk: int) -> HttpResponse:
    target = _target_of_plan(request, pk, target_pk)
    indicator_id = request.POST.get("indicator", "")
    # isascii: "²" is a digit to isdigit() but not to int().
    if not (indicator_id.isascii() and indicator_id.isdigit() and len(indicator_id) <= 18):
        messages.error(request, _("请选择要关联的指标。"))
        return redirect("plan_targets", pk=pk)
    try:
        target_links.link_indicator(target.pk, int(indicator_id), by=request.user)
    except target_links.LinkRefused as exc:
        messages.error(request, exc.message)
    except Http404:
        # The target was found above, so it is the chosen indicator that is absent.
        messages.error(request, _("所选指标不存在。"))
    else:
        messages.success(request, _("已确认目标“%(t)s”的关联指标。") % {"t": target.text})
    return redirect("plan_targets", pk=pk)


@require_POST
@role_required(Role.COORDINATOR)
def unlink_target(request: HttpRequest, pk: int, target_pk: int) -> HttpResponse:
    target = _target_of_plan(request, pk, target_pk)
    try:
        target_links.unlink_indicator(target.pk, by=request.user)
    except target_links.LinkRefused as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已取消目标“%(t)s”的关联指标。") % {"t": target.text})
    return redirect("plan_targets", pk=pk)
