"""Staff page of 一公开: results due or overdue for publication, publishing, draw records, export.

For plan runners (county bureaus, the city bureau, departments with their own plans), each
seeing the tasks of its own units only (``publication.due_tasks``). Publishing goes through
``services.publish_result`` / ``services.publish_draw``: the page never writes itself.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from qcity.core import workdays, workflow
from qcity.inspections import provincial, publication, services

PAGE_SIZE = 100
MAX_SELECTED = 500


def _runner(request: HttpRequest) -> None:
    if request.user.role not in services.PLAN_RUNNERS:
        raise PermissionDenied


def _ids(values: list[str]) -> list[int]:
    ids = []
    for value in values[: MAX_SELECTED + 1]:
        if value.isascii() and value.isdigit() and len(value) < 19:
            ids.append(int(value))
    return ids


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def publication_list(request: HttpRequest) -> HttpResponse:
    _runner(request)
    if request.method == "POST":
        return _publish(request)
    today = timezone.localdate()
    calendar = workdays.snapshot()
    page = Paginator(publication.due_tasks(request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    rows = [(task, publication.due_state(task, calendar, today)) for task in page]
    return render(
        request,
        "inspections/publication.html",
        {
            "page": page,
            "rows": rows,
            "overdue": sum(1 for _task, state in rows if state["overdue"]),
            "draws": list(publication.unpublished_draws(request.user)[:200]),
            "today": today,
        },
    )


def _publish(request: HttpRequest) -> HttpResponse:
    only = request.POST.get("only")
    ids = _ids([only] if only else request.POST.getlist("tasks"))
    if not ids:
        messages.error(request, _("请先勾选要公示的检查结果。"))
        return redirect("inspections:publication")
    if len(ids) > MAX_SELECTED:
        messages.error(request, _("一次最多公示 %(n)s 条。") % {"n": MAX_SELECTED})
        return redirect("inspections:publication")
    reason = request.POST.get("late_reason", "")
    done, refused = 0, []
    for pk in ids:
        try:
            services.publish_result(request.user, pk, late_reason=reason)
        except workflow.WorkflowError as exc:
            refused.append(f"#{pk}：{exc.message}")
        else:
            done += 1
    if done:
        messages.success(request, _("已公示 %(n)s 条检查结果。") % {"n": done})
    for line in refused[:20]:
        messages.error(request, line)
    return redirect("inspections:publication")


@login_required
@require_POST
def publish_draw(request: HttpRequest, pk: int) -> HttpResponse:
    _runner(request)
    try:
        rows = services.publish_draw(request.user, pk)
    except workflow.NotFound:
        raise Http404 from None
    except workflow.Forbidden:
        raise PermissionDenied from None
    except workflow.WorkflowError as exc:
        messages.error(request, exc.message)
    else:
        if rows:
            messages.success(
                request,
                _("已公示 %(n)s 次抽取的记录（含此前各次抽取）。") % {"n": len(rows)},
            )
        else:
            messages.info(request, _("该抽取记录已公示。"))
    return redirect("inspections:publication")


@login_required
@require_safe
def export(request: HttpRequest, kind: str, fmt: str) -> HttpResponse:
    _runner(request)
    if kind not in provincial.KINDS or fmt not in ("xlsx", "csv"):
        raise Http404
    return provincial.response(request, kind, fmt)
