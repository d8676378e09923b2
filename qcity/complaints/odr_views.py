"""Pages of ODR: the enterprise's inbox and case page, and the bureau's enrolment page.

Thin views. The enterprise (role enterprise, through its ``EntityAccount``) reads only
complaints about its own entity (``Case.scope_self_q``: never a report or a lead, never a
linked report), sees the complainant masked, and settles, declines or records 先行赔付
through the COMPLAINT workflow and ``services.record_payment``. Every refusal is the
service's own message (``WorkflowError``), shown with status 400 and nothing changed.
(These live beside the officer pages of ``views.py``, which another branch owns.)
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from qcity.complaints import odr, services
from qcity.complaints.models import Case
from qcity.core import workflow
from qcity.core.models import Role
from qcity.core.workflow import WorkflowError

TEXT_LIMIT = 2000


def _enterprise(request: HttpRequest):
    """The entity the signed-in enterprise account acts for; others may not use these pages."""
    if request.user.role != Role.ENTERPRISE:
        raise PermissionDenied
    entity = odr.entity_of(request.user)
    if entity is None:
        raise PermissionDenied
    return entity


@require_safe
@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    """Complaints about the enterprise: those waiting for its settlement first, with days left."""
    entity = _enterprise(request)
    cases = odr.inbox(request.user)
    return render(
        request,
        "complaints/odr/inbox.html",
        {
            "entity": entity,
            "cases": cases,
            "enrolment": odr.active_enrolment(entity.pk),
            "waiting": sum(1 for c in cases if c.status == Case.Status.ODR),
        },
    )


def _case_page(request: HttpRequest, case: Case, *, error: str = "", status: int = 200):
    view = odr.enterprise_view(request.user, case)
    return render(
        request,
        "complaints/odr/case.html",
        {
            **view,
            "error": error,
            "posted": request.POST if request.method == "POST" else {},
        },
        status=status,
    )


@require_safe
@login_required
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _enterprise(request)
    return _case_page(request, odr.enterprise_case(request.user, pk))


def _act(request: HttpRequest, pk: int, action, done: str) -> HttpResponse:
    _enterprise(request)
    case = odr.enterprise_case(request.user, pk)  # 404 before anything else is read
    try:
        action(case)
    except workflow.NotFound:
        raise Http404 from None
    except WorkflowError as exc:
        return _case_page(request, case, error=exc.message, status=400)
    messages.success(request, done)
    return redirect("complaints:odr_case", pk=case.pk)


def _text(request: HttpRequest, name: str) -> str:
    return (request.POST.get(name) or "")[: TEXT_LIMIT + 1]


@require_POST
@login_required
def settle(request: HttpRequest, pk: int) -> HttpResponse:
    def action(case: Case) -> Any:
        return workflow.take(
            services.COMPLAINT,
            "odr_settle",
            case.pk,
            by=request.user,
            expected_state=Case.Status.ODR,
            agreed=_text(request, "agreed"),
            amount=_text(request, "amount"),
            paid_on=_text(request, "paid_on"),
        )

    return _act(request, pk, action, _("已记录和解结果，投诉人将收到告知。"))


@require_POST
@login_required
def decline(request: HttpRequest, pk: int) -> HttpResponse:
    def action(case: Case) -> Any:
        return workflow.take(
            services.COMPLAINT,
            "odr_decline",
            case.pk,
            by=request.user,
            expected_state=Case.Status.ODR,
            reason=_text(request, "reason")[:500],
        )

    return _act(request, pk, action, _("已转市场监督管理部门处理。"))


@require_POST
@login_required
def pay(request: HttpRequest, pk: int) -> HttpResponse:
    def action(case: Case) -> Any:
        return services.record_payment(
            case.pk,
            by=request.user,
            kind="advance",
            amount=_text(request, "amount"),
            paid_on=_text(request, "paid_on"),
            note=_text(request, "note"),
        )

    return _act(request, pk, action, _("已登记先行赔付。"))


# --- the bureau: enrolment --------------------------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def enrolments(request: HttpRequest) -> HttpResponse:
    """Entities enrolled in ODR within the officer's scope; enrol one by its credit code."""
    user = request.user
    if user.role not in odr.ENROLLERS:
        raise PermissionDenied
    error, status = "", 200
    if request.method == "POST":
        code = (request.POST.get("code") or "").strip().upper()[:18]
        try:
            entity = odr.entity_by_code(user, code)
            if request.POST.get("action") == "leave":
                odr.leave(entity.pk, by=user, reason=_text(request, "reason")[:300])
                done = _("%(name)s 已退出ODR。")
            else:
                odr.enrol(
                    entity.pk,
                    by=user,
                    joined_on=odr.parse_day(
                        request.POST.get("joined_on"), default=None, label=_("入驻日期")
                    ),
                )
                done = _("%(name)s 已入驻ODR。")
        except WorkflowError as exc:
            error, status = exc.message, 400
        else:
            messages.success(request, done % {"name": entity.name})
            return redirect("complaints:odr_enrolments")
    return render(
        request,
        "complaints/odr/enrolments.html",
        {"rows": odr.enrolments(user), "error": error, "posted": request.POST},
        status=status,
    )
