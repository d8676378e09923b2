"""The inspectors' pages (phone first): 我的检查任务, a task with its result form, follow-ups.

Thin views: reads through ``inspections.selectors`` (data scope), writes through
``inspections.services`` (``core.workflow.take``). A refusal is shown as its Chinese
message beside the field it concerns; a task out of scope is 404 like an absent one;
someone who sees the task but is not assigned to it gets 403 on a POST (谁检查谁录入).
"""

from __future__ import annotations

from itertools import groupby
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from qcity.core import files, workflow
from qcity.core.exports import Column, xlsx_response
from qcity.core.models import Role
from qcity.inspections import results, selectors, services
from qcity.inspections.models import FollowUp, Result, Task
from qcity.inspections.services import FOLLOWUP, TASK
from qcity.inspections.task_forms import CloseFollowUpForm, ResultForm

PAGE_SIZE = 50
# Inspectors see their own tasks grouped by status; a bureau's list can be long.
INSPECTOR_PAGE_SIZE = 200
S = Task.Status


def _is_inspector_view(user) -> bool:
    return user.role == Role.INSPECTOR


def _int_or_none(value: str) -> int | None:
    # isascii: "²" is a digit to isdigit() but not to int().
    return int(value) if value.isascii() and value.isdigit() and len(value) < 10 else None


def _filtered_tasks(request: HttpRequest):
    status = request.GET.get("status", "")
    status = status if status in S.values else ""
    batch_id = _int_or_none(request.GET.get("batch", ""))
    text = request.GET.get("q", "")[:50]
    tasks = selectors.tasks_for(request.user, status=status, batch_id=batch_id, text=text)
    return tasks, {"status": status, "batch": batch_id, "q": text.strip()}


def next_action(task: Task, user) -> str:
    """What happens next with the task, in a few words."""
    if task.status == S.PENDING:
        return _("实施检查并录入结果") if user.role == Role.INSPECTOR else _("等待检查人员录入结果")
    if task.status == S.CHECKED:
        return _("等待公示")
    return _("已公示")


@require_safe
@login_required
def task_list(request: HttpRequest) -> HttpResponse:
    """我的检查任务: an inspector's own tasks by status; a bureau's tasks with filters."""
    user = request.user
    tasks, chosen = _filtered_tasks(request)
    size = INSPECTOR_PAGE_SIZE if _is_inspector_view(user) else PAGE_SIZE
    page = Paginator(tasks, size).get_page(request.GET.get("page"))
    rows = [
        (task, selectors.is_overdue(task), next_action(task, user)) for task in page.object_list
    ]
    labels = dict(S.choices)
    groups = [
        (status, labels[status], list(items))
        for status, items in groupby(rows, key=lambda row: row[0].status)
    ]
    counts = selectors.task_status_counts(user)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "inspections/task_list.html",
        {
            "page": page,
            "groups": groups,
            "chosen": chosen,
            "filtered": any(v for v in chosen.values()),
            "statuses": S.choices,
            "batches": selectors.batches_with_tasks(user),
            "status_counts": [(v, label, counts.get(v, 0)) for v, label in S.choices],
            "is_inspector": _is_inspector_view(user),
            "query": query.urlencode(),
        },
    )


EXPORT_COLUMNS = [
    Column("批次", 30),
    Column("序号", 6),
    Column("统一社会信用代码", 22),
    Column("检查对象", 30),
    Column("住所（经营场所）", 36),
    Column("实施单位", 24),
    Column("状态", 10),
    Column("检查截止", 12),
    Column("检查日期", 12),
    Column("检查结果", 40),
    Column("公示期限", 14),
]


def _export_row(task: Task) -> list:
    result = getattr(task, "result", None)
    due = ""
    if task.publish_due:
        due = task.publish_due.isoformat() + ("（暂定）" if task.publish_due_provisional else "")
    return [
        str(task.batch),
        task.position,
        task.entity.code,
        task.entity.name,
        task.entity.address,
        task.owner_unit.name,
        task.get_status_display(),
        task.batch.window_end.isoformat(),
        result.check_date.isoformat() if result else "",
        "、".join(rc.name for rc in result.codes.all()) if result else "",
        due,
    ]


@require_safe
@login_required
def task_export(request: HttpRequest) -> HttpResponse:
    """The task list as XLSX: the same rows, filters and scope as the page."""
    tasks, _chosen = _filtered_tasks(request)
    tasks = tasks.select_related("batch__plan").prefetch_related("result__codes")
    return xlsx_response(
        request,
        what="inspections.tasks",
        obj=None,
        title=_("检查任务"),
        sheet=_("检查任务"),
        columns=EXPORT_COLUMNS,
        rows=(_export_row(t) for t in tasks.iterator(chunk_size=500)),
        filename="检查任务.xlsx",
    )


# --- one task -----------------------------------------------------------------------------------


def _history(user, task: Task) -> list:
    history = workflow.history(user, Task, task.pk)
    for t in history:
        try:
            t.step_label = str(TASK.step(t.step).label)
        except LookupError:
            t.step_label = t.step
        t.from_label = TASK.state_label(t.from_state)
        t.to_label = TASK.state_label(t.to_state)
        t.warning_texts = [results.warning_text(w) for w in t.details.get("warnings", [])]
    return history


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def task_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A task: the entity, what to check, the team, the result, and the result form."""
    user = request.user
    task = selectors.get_task(user, pk)
    result: Result | None = getattr(task, "result", None)
    kept = list(result.codes.values_list("code", flat=True)) if result else []
    steps = {s.name: s for s in TASK.available_steps(task, user) if s.name != "publish"}
    error, status = "", 200
    if request.method == "POST":
        form = ResultForm(request.POST, kept_codes=kept)
        form.is_valid()  # only shapes the input; the service decides
        # The step the user's form was for, and the state they saw: if a colleague entered
        # the result meanwhile, the POST is refused as stale instead of becoming a correction.
        step = request.POST.get("step", "")
        if step not in ("enter_result", "correct_result"):
            step = "correct_result" if task.status == S.CHECKED else "enter_result"
        params: dict[str, Any] = {
            "codes": request.POST.getlist("codes"),
            "findings": request.POST.get("findings", ""),
            "check_date": request.POST.get("check_date", ""),
            "files": request.FILES.getlist("files"),
            "expected_state": request.POST.get("state") or None,
        }
        try:
            if step == "enter_result":
                services.enter_result(user, task.pk, **params)
            else:
                services.correct_result(
                    user, task.pk, reason=request.POST.get("reason", "")[:2000], **params
                )
        except workflow.NotFound:
            raise Http404 from None
        except results.ResultInvalid as exc:
            field = exc.field if exc.field in form.fields else None
            form.add_error(field, exc.message)
            status = 400
        except files.AttachmentRefused as exc:
            error, status = exc.message, 400
        except workflow.WorkflowError as exc:
            # forbidden (not assigned), step_not_allowed, stale, reason_required
            if exc.code == "reason_required":
                form.add_error("reason", exc.message)
            else:
                error = exc.message
            status = exc.status if exc.status in (403, 409) else 400
        else:
            messages.success(
                request,
                _("检查结果已保存。") if step == "enter_result" else _("检查结果已更正。"),
            )
            return redirect("inspections:inspection_task", pk=task.pk)
    else:
        initial: dict[str, Any] = {}
        if result is not None:
            initial = {
                "codes": kept,
                "findings": result.findings,
                "check_date": result.check_date.isoformat(),
            }
        form = ResultForm(initial=initial, kept_codes=kept)
    items = list(task.batch.check_items.all())
    return render(
        request,
        "inspections/task_detail.html",
        {
            "task": task,
            "entity": task.entity,
            "batch": task.batch,
            "result": result,
            "codes": list(result.codes.all()) if result else [],
            "items": items,
            "team": selectors.team_of(task, user),
            "form": form,
            "error": error,
            "step": steps.get("correct_result") or steps.get("enter_result"),
            "overdue": selectors.is_overdue(task),
            "check_by": selectors.check_by(task),
            "record_files": files.attachments_of(result).select_related("uploaded_by")
            if result
            else [],
            "history": _history(user, task),
            "follow_up": FollowUp.objects.filter(task=task).first()
            if user.role != Role.INSPECTOR
            else None,
            "accept": ".jpg,.jpeg,.png,.webp,.pdf",
            "max_files": services.MAX_RESULT_FILES,
        },
        status=status,
    )


# --- follow-ups ---------------------------------------------------------------------------------


@require_safe
@login_required
def followup_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    status = status if status in FollowUp.Status.values else ""
    rows = selectors.follow_ups_for(request.user, status=status)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "inspections/followup_list.html",
        {
            "page": page,
            "status": status,
            "statuses": FollowUp.Status.choices,
            "query": query.urlencode(),
            "is_inspector": _is_inspector_view(request.user),
        },
    )


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def followup_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    follow_up = selectors.get_follow_up(user, pk)
    error, status = "", 200
    form = CloseFollowUpForm(request.POST or None)
    if request.method == "POST":
        form.is_valid()
        try:
            services.close_follow_up(
                user,
                follow_up.pk,
                resolution=request.POST.get("resolution", ""),
                outcome=request.POST.get("outcome", ""),
            )
        except workflow.NotFound:
            raise Http404 from None
        except results.ResultInvalid as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            status = 400
        except workflow.WorkflowError as exc:
            error, status = exc.message, exc.status if exc.status in (403, 409) else 400
        else:
            messages.success(request, _("后续处理已办结。"))
            return redirect("inspections:inspection_followup", pk=follow_up.pk)
    history = workflow.history(user, FollowUp, follow_up.pk)
    for t in history:
        t.step_label = str(FOLLOWUP.step(t.step).label) if t.step == "close" else t.step
    task = follow_up.task
    return render(
        request,
        "inspections/followup_detail.html",
        {
            "follow_up": follow_up,
            "task": task,
            "result": getattr(task, "result", None),
            "codes": list(task.result.codes.all()) if hasattr(task, "result") else [],
            "form": form,
            "error": error,
            "may_close": bool(
                [s for s in FOLLOWUP.available_steps(follow_up, user) if s.name == "close"]
            ),
            "history": history,
        },
        status=status,
    )
