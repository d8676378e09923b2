from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from qcity.core.models import OrgUnit, Role
from qcity.core.permissions import role_required
from qcity.core.scope import effective_scope, may_change
from qcity.plans import exports, selectors, services
from qcity.plans.forms import SubTaskForm
from qcity.plans.models import Measure
from qcity.plans.parser import PlanParseError, limits


@require_safe
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


@require_safe
@login_required
def plan_list(request: HttpRequest) -> HttpResponse:
    return render(request, "plans/plan_list.html", {"plans": selectors.visible_plans(request.user)})


@require_safe
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


@require_safe
@login_required
def measure_detail(request: HttpRequest, pk: int, measure_pk: int) -> HttpResponse:
    plan = selectors.get_plan(request.user, pk)
    measure = selectors.get_measure(request.user, measure_pk)
    if measure.plan_id != plan.pk:
        raise Http404
    return _measure_page(request, plan, measure)


def _measure_page(
    request: HttpRequest, plan, measure: Measure, subtask_form: SubTaskForm | None = None
) -> HttpResponse:
    context = _units_form_context(request.user, measure)
    may_split = services.may_split(request.user, measure)
    return render(
        request,
        "plans/measure_detail.html",
        {
            "plan": plan,
            "measure": measure,
            # Contacts' phones in full only for those who coordinate the measure.
            "show_phones": may_change(request.user, measure),
            "may_split": may_split,
            "subtask_form": subtask_form or (SubTaskForm() if may_split else None),
            **context,
        },
        status=400 if subtask_form is not None and subtask_form.errors else 200,
    )


@require_safe
@login_required
def my_measures(request: HttpRequest) -> HttpResponse:
    measures = selectors.my_measures(request.user)
    return render(request, "plans/my_measures.html", {"measures": measures})


@require_safe
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


@require_safe
@login_required
def search(request: HttpRequest, pk: int) -> HttpResponse:
    plan = selectors.get_plan(request.user, pk)
    query = request.GET.get("q", "").strip()[:100]
    results = selectors.search_measures(request.user, plan, query) if query else []
    template = (
        "plans/_search_results.html" if request.headers.get("HX-Request") else "plans/search.html"
    )
    return render(request, template, {"plan": plan, "query": query, "results": results})


@require_safe
@login_required
def export_xlsx(request: HttpRequest, pk: int) -> HttpResponse:
    plan = selectors.get_plan(request.user, pk)
    return exports.breakdown_response(
        request,
        plan,
        list(selectors.visible_measures(request.user, plan)),
        list(selectors.visible_targets(request.user, plan)),
        show_phones=may_change(request.user, plan),
    )


@require_safe
@login_required
def export_matrix(request: HttpRequest, pk: int) -> HttpResponse:
    plan = selectors.get_plan(request.user, pk)
    return exports.matrix_response(
        request, plan, *selectors.responsibility_matrix(request.user, plan)
    )


@require_safe
@login_required
def export_my_measures(request: HttpRequest) -> HttpResponse:
    return exports.my_measures_response(request, list(selectors.my_measures(request.user)))


# --- The plan, worked on in the browser -------------------------------------------------------


@role_required(Role.COORDINATOR)
def upload(request: HttpRequest) -> HttpResponse:
    """Upload a plan file; a readable one goes on to the review of its dry run."""
    error = ""
    if request.method == "POST":
        file = request.FILES.get("file")
        if file is None:
            error = _("请选择要上传的方案文件（.txt、.docx 或 .pdf）。")
        else:
            name = (file.name or "plan")[-255:]
            try:
                # Refuse by the declared size before reading a byte of a too-large file.
                limits.check_file_size(file.size or 0, name)
                data = file.read(limits.MAX_FILE_BYTES + 1)
                staged, _report = services.stage_upload(by=request.user, name=name, data=data)
            except (PlanParseError, services.PlanImportError, services.PlanEditError) as exc:
                error = exc.message
            else:
                return redirect("plan_upload_review", token=staged.token)
    return render(
        request,
        "plans/upload.html",
        {"error": error, "max_mb": limits.MAX_FILE_BYTES // limits.MiB},
        status=400 if error else 200,
    )


@role_required(Role.COORDINATOR)
def upload_review(request: HttpRequest, token: str) -> HttpResponse:
    """The dry run of a staged upload: what confirming it would change."""
    try:
        with transaction.atomic():
            staged = services.get_upload_for_write(request.user, token)
        parsed, report = services.preview_upload(staged, by=request.user)
    except (PlanParseError, services.PlanImportError, services.PlanEditError) as exc:
        messages.error(request, exc.message)
        return redirect("plan_upload")
    return render(
        request,
        "plans/upload_review.html",
        {
            "upload": staged,
            "parsed": parsed,
            "report": report,
            "measure_count": sum(len(c.measures) for c in parsed.chapters),
        },
    )


@require_POST
@role_required(Role.COORDINATOR)
def upload_confirm(request: HttpRequest, token: str) -> HttpResponse:
    try:
        report = services.confirm_upload(token, by=request.user)
    except (PlanParseError, services.PlanImportError, services.PlanEditError) as exc:
        messages.error(request, exc.message)
        return redirect("plan_upload")
    if report.changes:
        messages.success(request, _("已导入，共 %(n)d 项变化。") % {"n": len(report.changes)})
    else:
        messages.info(request, _("没有变化：方案与上次导入的内容相同。"))
    return redirect("plan_detail", pk=report.plan_id)


@require_POST
@login_required
def measure_units(request: HttpRequest, pk: int, measure_pk: int) -> HttpResponse:
    """Set a measure's 牵头/配合 units (the coordinator's htmx form on the measure page)."""
    plan = selectors.get_plan(request.user, pk)
    measure = selectors.get_measure(request.user, measure_pk)
    if measure.plan_id != plan.pk:
        raise Http404
    error = ""
    try:
        rows = _responsibility_rows(request)
        changes = services.set_responsibilities(measure.pk, rows, by=request.user)
    except services.PlanEditError as exc:
        error = exc.message
        changes = []
    measure = selectors.get_measure(request.user, measure_pk)
    context = {
        "plan": plan,
        "measure": measure,
        "units_error": error,
        "units_saved": bool(changes),
        **_units_form_context(request.user, measure),
    }
    if request.headers.get("HX-Request"):
        return render(request, "plans/_measure_units.html", context, status=400 if error else 200)
    if error:
        messages.error(request, error)
    elif changes:
        messages.success(request, _("责任单位已保存。"))
    return redirect("measure_detail", pk=plan.pk, measure_pk=measure.pk)


def _responsibility_rows(request: HttpRequest) -> list[tuple[OrgUnit, bool]]:
    """The posted list: ``unit``/``role`` pairs in order, then an optional added unit."""
    wanted: list[tuple[str, str]] = list(
        zip(request.POST.getlist("unit"), request.POST.getlist("role"), strict=False)
    )
    added = request.POST.get("add_unit", "")
    if added:
        wanted.append((added, request.POST.get("add_role", "support")))
    ids: list[int] = []
    roles: list[str] = []
    for unit_id, role in wanted:
        if role == "remove":
            continue
        # ASCII and at most 18 digits: "²" is a digit to isdigit() but not to int(), and
        # a 40-digit id overflows the database's integer.
        if (
            role not in ("lead", "support")
            or not (unit_id.isascii() and unit_id.isdigit())
            or len(unit_id) > 18
        ):
            raise services.PlanEditError("unknown_unit", "提交的单位或角色无效，请刷新页面后重试")
        ids.append(int(unit_id))
        roles.append(role)
    units = OrgUnit.objects.in_bulk(ids)
    if len(units) != len(set(ids)):
        raise services.PlanEditError("unknown_unit", "提交的单位不存在，请刷新页面后重试")
    return [(units[i], role == "lead") for i, role in zip(ids, roles, strict=True)]


def _units_form_context(user, measure: Measure) -> dict:
    """What the 牵头/配合 form needs; nothing for someone who may not change the plan."""
    if not may_change(user, measure.plan):
        return {"may_edit_units": False}
    taken = {r.org_unit_id for r in measure.responsibilities.all()}
    choices = [
        u
        for u in OrgUnit.objects.enabled().filter(confirmed=True).order_by("path")
        if u.pk not in taken
    ]
    return {"may_edit_units": True, "unit_choices": choices}


@require_POST
@login_required
def subtask_add(request: HttpRequest, pk: int, measure_pk: int) -> HttpResponse:
    """Split a measure into a sub-task (分解任务): the plan owner, or the measure's lead unit."""
    plan = selectors.get_plan(request.user, pk)
    measure = selectors.get_measure(request.user, measure_pk)
    if measure.plan_id != plan.pk:
        raise Http404
    form = SubTaskForm(request.POST)
    if form.is_valid():
        try:
            services.add_subtask(measure.pk, by=request.user, **form.cleaned_data)
        except services.PlanEditError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("已添加分解任务。"))
            return redirect("measure_detail", pk=plan.pk, measure_pk=measure.pk)
    return _measure_page(request, plan, measure, subtask_form=form)


@require_POST
@login_required
def subtask_remove(request: HttpRequest, pk: int, measure_pk: int, subtask_pk: int) -> HttpResponse:
    plan = selectors.get_plan(request.user, pk)
    measure = selectors.get_measure(request.user, measure_pk)
    if measure.plan_id != plan.pk or not measure.subtasks.filter(pk=subtask_pk).exists():
        raise Http404
    try:
        services.remove_subtask(subtask_pk, by=request.user)
    except services.PlanEditError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已删除分解任务。"))
    return redirect("measure_detail", pk=plan.pk, measure_pk=measure.pk)


@login_required
def subtask_edit(request: HttpRequest, pk: int, measure_pk: int, subtask_pk: int) -> HttpResponse:
    """Change a sub-task in place (whoever may split its measure; others get 404)."""
    plan = selectors.get_plan(request.user, pk)
    measure = selectors.get_measure(request.user, measure_pk)
    subtask = measure.subtasks.filter(pk=subtask_pk).first()
    if measure.plan_id != plan.pk or subtask is None or not may_change(request.user, subtask):
        raise Http404
    form = SubTaskForm(request.POST or None, instance=subtask)
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in form.fields}
        try:
            changed = services.update_subtask(subtask.pk, by=request.user, **fields)
        except services.PlanEditError as exc:
            form.add_error(None, exc.message)
        else:
            if changed:
                messages.success(request, _("分解任务已保存。"))
            return redirect("measure_detail", pk=plan.pk, measure_pk=measure.pk)
    return render(
        request,
        "plans/subtask_edit.html",
        {"plan": plan, "measure": measure, "form": form},
        status=400 if form.errors else 200,
    )
