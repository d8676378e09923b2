"""Pages of 双随机、一公开 for the bureaus: the check-item list, yearly plans and batches.

Thin views: reads through ``inspections.selectors`` (data scope: county B sees nothing of
county A's plans and batches, out of scope is 404 like absent), writes through
``inspections.services``; the draw and the assignment are steps of ``services.BATCH``,
and a refused step is shown as its ``WorkflowError`` message with nothing changed.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from qcity.core import workflow
from qcity.core.exports import xlsx_response
from qcity.core.models import OrgUnit, User
from qcity.core.scope import may_change
from qcity.inspections import draw as draw_module
from qcity.inspections import selectors, services
from qcity.inspections.exports import TASK_COLUMNS, task_rows, team_of
from qcity.inspections.forms import BatchForm, PlanForm, form_field_of, quota_label
from qcity.inspections.models import Batch, CheckItem, Draw, InspectionPlan
from qcity.inspections.services import BATCH, QUOTA_CLASSES, BatchInvalid
from qcity.registry.models import MarketEntity

PAGE_SIZE = 50
# The batch steps these pages offer (services.draw_batch itself tells draw from redraw).
PAGE_STEPS = frozenset({"draw", "redraw", "assign"})


# --- check items ------------------------------------------------------------------------------


@require_safe
@login_required
def checkitem_list(request: HttpRequest) -> HttpResponse:
    """The 抽查事项清单, read-only (the system administrator maintains it in the admin)."""
    kind = request.GET.get("kind", "")
    kind = kind if kind in CheckItem.Kind.values else ""
    include_disabled = request.GET.get("disabled") == "1"
    items = selectors.check_items(request.user, kind=kind, include_disabled=include_disabled)
    return render(
        request,
        "inspections/checkitem_list.html",
        {
            "items": items,
            "kind": kind,
            "kinds": CheckItem.Kind.choices,
            "include_disabled": include_disabled,
        },
    )


# --- plans ------------------------------------------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def plan_list(request: HttpRequest) -> HttpResponse:
    """The yearly plans in scope; a plan maker creates one for its own unit here."""
    user = request.user
    may_make = selectors.may_make_plans(user)
    form = PlanForm(request.POST or None) if may_make else None
    if request.method == "POST":
        if form is None:
            raise PermissionDenied
        if form.is_valid():
            data = form.cleaned_data
            try:
                plan = services.create_plan(
                    user, year=data["year"], title=data["title"], note=data["note"]
                )
            except BatchInvalid as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            except workflow.WorkflowError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("已新建计划“%(title)s”。") % {"title": plan.title})
                return redirect("inspections:inspection_plan", pk=plan.pk)
    page = Paginator(selectors.plans_for(user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "inspections/plan_list.html",
        {"page": page, "form": form, "may_make": may_make},
        status=400 if form is not None and form.errors else 200,
    )


@require_safe
@login_required
def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    plan = selectors.get_plan(user, pk)
    batches = selectors.batches_of(user, plan).prefetch_related("check_items")
    return render(
        request,
        "inspections/plan_detail.html",
        {"plan": plan, "batches": batches, "may_add": _may_write_plan(user, plan)},
    )


def _may_write_plan(user: User, plan: InspectionPlan) -> bool:
    return user.role in selectors.PLAN_MAKERS and may_change(user, plan)


# --- batches ----------------------------------------------------------------------------------


def _saved(request: HttpRequest, saved: services.SavedBatch, text: str) -> HttpResponse:
    messages.success(request, text)
    for warning in saved.warnings:
        messages.warning(request, warning)
    return redirect("inspections:inspection_batch", pk=saved.batch.pk)


def _batch_form_page(request: HttpRequest, form: BatchForm, plan, batch: Batch | None):
    return render(
        request,
        "inspections/batch_form.html",
        {"form": form, "plan": plan, "batch": batch},
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def batch_create(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    plan = selectors.get_plan(user, pk)
    if not _may_write_plan(user, plan):
        raise PermissionDenied
    form = BatchForm(request.POST or None, plan=plan)
    if request.method == "POST" and form.is_valid() and form.spec is not None:
        try:
            saved = services.create_batch(user, plan.pk, form.spec)
        except BatchInvalid as exc:
            form.add_error(form_field_of(exc), exc.message)
        except workflow.WorkflowError as exc:
            form.add_error(None, exc.message)
        else:
            return _saved(
                request,
                saved,
                _("已新建第 %(n)d 批“%(title)s”（草稿）。")
                % {"n": saved.batch.number, "title": saved.batch.title},
            )
    return _batch_form_page(request, form, plan, None)


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def batch_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    batch = selectors.get_batch(user, pk)
    if not selectors.may_edit_batch(user, batch):
        if batch.status != Batch.Status.DRAFT:
            messages.error(request, _("批次已抽取，参数不能再修改。"))
            return redirect("inspections:inspection_batch", pk=batch.pk)
        raise PermissionDenied
    form = BatchForm(request.POST or None, plan=batch.plan, batch=batch)
    if request.method == "POST" and form.is_valid() and form.spec is not None:
        try:
            saved = services.update_batch(user, batch.pk, form.spec)
        except BatchInvalid as exc:
            form.add_error(form_field_of(exc), exc.message)
        except workflow.WorkflowError as exc:
            form.add_error(None, exc.message)
        else:
            return _saved(request, saved, _("已保存批次参数。"))
    return _batch_form_page(request, form, batch.plan, batch)


def _quota_rows(batch: Batch) -> list[tuple[str, str]]:
    rows = []
    for cls in QUOTA_CLASSES:
        quota = (batch.quotas or {}).get(cls)
        if not quota:
            text = _("不抽取")
        elif "ratio" in quota:
            text = _("按比例 %(r)s%%") % {"r": quota["ratio"]}
        else:
            text = _("按数量 %(n)s 户") % {"n": quota.get("count")}
        rows.append((quota_label(cls), text))
    return rows


def _draw_rows(batch: Batch) -> list[dict[str, Any]]:
    rows = []
    for draw in selectors.draws_of(batch):
        strata = []
        for cls in QUOTA_CLASSES:
            counts = (draw.strata or {}).get(cls)
            if counts:
                strata.append((quota_label(cls), counts.get("population"), counts.get("selected")))
        rows.append({"draw": draw, "strata": strata})
    return rows


@require_safe
@login_required
def batch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    batch = selectors.get_batch(user, pk)
    tasks = selectors.tasks_of(user, batch)
    page = Paginator(tasks, PAGE_SIZE).get_page(request.GET.get("page"))
    may_run = selectors.may_run_batch(user, batch)
    steps = (
        [s for s in BATCH.available_steps(batch, user) if s.name in PAGE_STEPS] if may_run else []
    )
    population = batch.population_filter or {}
    return render(
        request,
        "inspections/batch_detail.html",
        {
            "batch": batch,
            "plan": batch.plan,
            "may_edit": selectors.may_edit_batch(user, batch),
            "steps": steps,
            "quota_rows": _quota_rows(batch),
            "population": population,
            "kinds": _labels(population.get("kinds"), dict(MarketEntity.Kind.choices)),
            "statuses": _labels(population.get("statuses"), dict(MarketEntity.Status.choices)),
            "counties": _county_names(population.get("region_codes") or []),
            "draws": _draw_rows(batch),
            "page": page,
            "rows": [(t, team_of(t)) for t in page.object_list],
        },
    )


def _labels(values: list[str] | None, labels: dict[str, Any]) -> str:
    return "、".join(str(labels.get(v, v)) for v in values or []) or _("不限")


def _county_names(codes: list[str]) -> str:
    names = dict(OrgUnit.objects.filter(code__in=codes).values_list("code", "name"))
    return "、".join(names.get(c, c) for c in codes) or _("不限")


@require_POST
@login_required
def batch_step(request: HttpRequest, pk: int) -> HttpResponse:
    """随机抽取 / 重新抽取 / 分派检查人员: one workflow step, its refusal shown as said."""
    user = request.user
    batch = selectors.get_batch(user, pk)
    step = request.POST.get("step", "")
    if step not in PAGE_STEPS:
        raise Http404
    reason = request.POST.get("reason", "")[:2000].strip()
    try:
        if step == "assign":
            tasks = services.assign_batch(user, batch.pk)
            done = _("已为 %(n)d 个检查任务随机分派检查人员。") % {"n": tasks}
        else:
            drawn = services.draw_batch(user, batch.pk, reason=reason)
            done = _("第 %(attempt)d 次抽取完成：从 %(population)d 户中抽中 %(selected)d 户。") % {
                "attempt": drawn.attempt,
                "population": drawn.population_size,
                "selected": len(drawn.selected_codes),
            }
    except workflow.NotFound:
        raise Http404 from None
    except workflow.WorkflowError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect("inspections:inspection_batch", pk=batch.pk)


@require_safe
@login_required
def batch_export(request: HttpRequest, pk: int) -> HttpResponse:
    """The batch's task table as XLSX: the same rows and scope as the page."""
    batch = selectors.get_batch(request.user, pk)
    tasks = selectors.tasks_of(request.user, batch)
    return xlsx_response(
        request,
        what="inspections.batch_tasks",
        obj=batch,
        title=f"{batch.plan.title[:60]} · 第{batch.number}批 {batch.title[:60]} 检查任务",
        sheet="检查任务",
        columns=TASK_COLUMNS,
        rows=task_rows(tasks.iterator(chunk_size=500)),
        filename=f"{batch.plan.year}年第{batch.number}批检查任务.xlsx",
    )


def _draw_of(request: HttpRequest, pk: int, attempt: int) -> Draw:
    batch = selectors.get_batch(request.user, pk)
    draw = selectors.draws_of(batch).filter(attempt=attempt).first()
    if draw is None:
        raise Http404
    return draw


def _download(content: bytes, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=filename
    )
    return response


@require_safe
@login_required
def draw_record_file(request: HttpRequest, pk: int, attempt: int) -> HttpResponse:
    """record.json of one draw attempt, the same bytes as ``qcity export_draw`` writes."""
    content = draw_module.record_bytes(_draw_of(request, pk, attempt))
    return _download(content, "record.json", "application/json")


@require_safe
@login_required
def draw_population_file(request: HttpRequest, pk: int, attempt: int) -> HttpResponse:
    """population.csv of one draw attempt (``draw.population_bytes``), for verify_draw."""
    found = _draw_of(request, pk, attempt)
    try:
        content = draw_module.population_bytes(found)
    except (OSError, ValueError):
        # The snapshot kept with the draw is gone or damaged: say so, never a 500.
        return HttpResponse(
            _("该次抽取的名录快照无法读取，请联系系统管理员。"),
            status=410,
            content_type="text/plain; charset=utf-8",
        )
    return _download(content, "population.csv", "text/csv")
