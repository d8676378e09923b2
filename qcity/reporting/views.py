"""The reporting pages: cycles, a cycle's reports, one report, my reports, my review queue.

Thin views: reads through ``reporting.selectors`` (data scope), writes through
``reporting.services`` and ``core.workflow.take``; a refusal is shown as its Chinese
message, and an out-of-scope object is 404 like an absent one.
"""

from __future__ import annotations

from itertools import groupby
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from qcity.core import files, workflow
from qcity.core.exports import Column, xlsx_response
from qcity.core.models import Role, User
from qcity.reporting import selectors, services
from qcity.reporting.forms import CycleForm, ReportForm, figures_from
from qcity.reporting.models import ProgressReport, ReportingCycle
from qcity.reporting.services import CYCLE, REPORT, ReportingRefused

PAGE_SIZE = 50
# Blank key-figure rows offered under the unit's own (up to services.MAX_FIGURES).
BLANK_FIGURE_ROWS = 2
REPORTER_STEPS = frozenset({"submit", "resubmit"})
S = ProgressReport.Status


def _may_open_cycles(user: User) -> bool:
    return user.role == Role.COORDINATOR


# --- cycles -----------------------------------------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def cycle_list(request: HttpRequest) -> HttpResponse:
    """The cycles of the plans one can read; the coordinator opens a cycle here."""
    user = request.user
    may_open = _may_open_cycles(user)
    form = CycleForm(request.POST or None, user=user) if may_open else None
    if request.method == "POST":
        if form is None:
            raise PermissionDenied
        if form.is_valid():
            data = form.cleaned_data
            try:
                opened = services.open_cycle(
                    data["plan"],
                    data["frequency"],
                    data["year"],
                    data["period"],
                    by=user,
                    due_workdays=data["due_workdays"],
                    on_time_workdays=data["on_time_workdays"],
                    reminder_workdays=data["reminder_workdays"],
                    escalation_workdays=data["escalation_workdays"],
                )
            except ReportingRefused as exc:
                form.add_error(_field_of(exc.code), exc.message)
            else:
                messages.success(
                    request,
                    _("已开启“%(label)s”，共生成 %(n)d 份报告。")
                    % {"label": opened.cycle.label, "n": opened.reports},
                )
                if opened.skipped_units:
                    messages.warning(
                        request,
                        _("以下单位尚未确认，暂不生成报告：%(units)s")
                        % {"units": "、".join(opened.skipped_units)},
                    )
                return redirect("reporting:cycle_detail", pk=opened.cycle.pk)
    page = Paginator(
        selectors.cycles_for(user).order_by("-period_start", "frequency", "plan_id"), PAGE_SIZE
    ).get_page(request.GET.get("page"))
    counts = selectors.cycle_counts(user, page.object_list)
    rows = [(cycle, counts.get(cycle.pk)) for cycle in page.object_list]
    return render(
        request,
        "reporting/cycle_list.html",
        {"page": page, "rows": rows, "form": form, "may_open": may_open},
        status=400 if form is not None and form.errors else 200,
    )


def _field_of(code: str) -> str | None:
    # Where the service's refusal belongs on the form (None: above the form).
    return {"invalid_period": "period", "invalid_workdays": "due_workdays"}.get(code)


def _filtered_reports(
    request: HttpRequest, cycle: ReportingCycle
) -> tuple[QuerySet[ProgressReport], dict[str, Any]]:
    """The cycle's reports in scope, filtered by ?status= &unit= &chapter= (bad values ignored)."""
    status = request.GET.get("status", "")
    status = status if status in S.values else ""
    unit = request.GET.get("unit", "")
    # isascii: "²" is a digit to isdigit() but not to int().
    unit_id = int(unit) if unit.isascii() and unit.isdigit() and len(unit) < 10 else None
    chapter = request.GET.get("chapter", "")
    chapter_id = (
        int(chapter) if chapter.isascii() and chapter.isdigit() and len(chapter) < 10 else None
    )
    reports = selectors.reports_for(request.user, cycle=cycle, status=status, unit_id=unit_id)
    if chapter_id is not None:
        reports = reports.filter(measure__chapter_id=chapter_id)
    chosen = {"status": status, "unit": unit_id, "chapter": chapter_id}
    return reports, chosen


@require_safe
@login_required
def cycle_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    cycle = selectors.get_cycle(user, pk)
    reports, chosen = _filtered_reports(request, cycle)
    page = Paginator(reports, PAGE_SIZE).get_page(request.GET.get("page"))
    in_scope = selectors.reports_for(user, cycle=cycle)
    units = list(
        in_scope.order_by("org_unit__name").values_list("org_unit_id", "org_unit__name").distinct()
    )
    rates = selectors.unit_rates(user, [cycle])
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "reporting/cycle_detail.html",
        {
            "cycle": cycle,
            "page": page,
            "rows": [(r, selectors.is_late(r)) for r in page.object_list],
            "chosen": chosen,
            "filtered": any(v for v in chosen.values()),
            "statuses": S.choices,
            "units": units,
            "chapters": cycle.plan.chapters.all(),
            "rates": rates,
            "late_units": [r for r in rates if r.late],
            "totals": selectors.cycle_counts(user, [cycle]).get(cycle.pk),
            "steps": CYCLE.available_steps(cycle, user),
            "query": query.urlencode(),
        },
    )


@require_POST
@login_required
def cycle_step(request: HttpRequest, pk: int) -> HttpResponse:
    """Close or reopen a cycle (the plan's coordinator; the workflow checks who)."""
    cycle = selectors.get_cycle(request.user, pk)
    step = request.POST.get("step", "")
    if step not in {s.name for s in CYCLE.steps}:
        raise Http404
    _take(request, CYCLE, step, cycle.pk, reason=request.POST.get("reason", "")[:2000])
    return redirect("reporting:cycle_detail", pk=cycle.pk)


EXPORT_COLUMNS = [
    Column("举措", 8),
    Column("具体举措", 30),
    Column("报送单位", 24),
    Column("牵头", 6),
    Column("状态", 12),
    Column("推进情况", 12),
    Column("进展情况", 60),
    Column("关键数据", 30),
    Column("首次报送时间", 18),
    Column("按时报送", 10),
    Column("办理时限", 12),
    Column("退回次数", 8),
]


def _export_row(report: ProgressReport) -> list:
    figures = "；".join(
        f"{f.get('name', '')} {f.get('value', '')}{f.get('unit', '')}" for f in report.figures
    )
    on_time = {True: "按时", False: "逾期"}.get(
        report.on_time, "逾期未报" if selectors.is_late(report) else ""
    )
    return [
        report.measure.number,
        report.measure.title,
        report.org_unit.name,
        "牵头" if report.is_lead else "",
        report.get_status_display(),
        report.get_progress_display() if report.progress else "",
        report.narrative,
        figures,
        report.first_submitted_at.strftime("%Y-%m-%d %H:%M") if report.first_submitted_at else "",
        on_time,
        report.due_date.isoformat() if report.due_date else "",
        report.return_count,
    ]


@require_safe
@login_required
def cycle_export(request: HttpRequest, pk: int) -> HttpResponse:
    """The cycle's report table as XLSX: the same rows, filters and scope as the page."""
    cycle = selectors.get_cycle(request.user, pk)
    reports, _chosen = _filtered_reports(request, cycle)
    return xlsx_response(
        request,
        what="reporting.cycle_reports",
        obj=cycle,
        title=f"{cycle.plan.title[:60]} · {cycle.label}{cycle.get_frequency_display()} 进展报告",
        sheet="进展报告",
        columns=EXPORT_COLUMNS,
        rows=(_export_row(r) for r in reports.iterator(chunk_size=500)),
        filename=f"{cycle.label}进展报告.xlsx",
    )


# --- one report -------------------------------------------------------------------------------


def _figure_rows(figures: list[dict[str, str]]) -> list[dict[str, str]]:
    blanks = max(0, min(BLANK_FIGURE_ROWS, services.MAX_FIGURES - len(figures)))
    return [*figures, *({"name": "", "value": "", "unit": ""} for _i in range(blanks))]


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A report: the measure, the unit's form while editable, the steps, the history."""
    user = request.user
    report = selectors.get_report(user, pk)
    error, status = "", 200
    if request.method == "POST":
        # Bound to what was typed, so a refused save shows it again; the service checks it.
        form = ReportForm(request.POST)
        figures = figures_from(request.POST)
        step = request.POST.get("step", "")
        try:
            services.save_report_with_evidence(
                user,
                report.pk,
                progress=request.POST.get("progress", ""),
                narrative=request.POST.get("narrative", ""),
                figures=figures,
                upload=request.FILES.get("evidence"),
            )
        except ReportingRefused as exc:
            if exc.status == 404:
                raise Http404 from None
            error, status = exc.message, exc.status if exc.status in (403, 409) else 400
        except files.AttachmentRefused as exc:
            error, status = exc.message, 400
        else:
            if step in REPORTER_STEPS:
                # Saved either way; a refused step (e.g. 请先填写…) is shown as a message.
                _take(request, REPORT, step, report.pk)
            else:
                messages.success(request, _("已保存。"))
            return redirect("reporting:report_detail", pk=report.pk)
    else:
        form = ReportForm(initial={"progress": report.progress, "narrative": report.narrative})
        figures = report.figures
    may_write = services.is_reporter(user, report) and report.editable
    steps = REPORT.available_steps(report, user)
    history = workflow.history(user, ProgressReport, report.pk)
    for t in history:
        t.step_label = _step_label(REPORT, t.step)
        t.from_label = REPORT.state_label(t.from_state)
        t.to_label = REPORT.state_label(t.to_state)
    returns = [t for t in history if t.step == "return"]
    return render(
        request,
        "reporting/report_detail.html",
        {
            "report": report,
            "measure": report.measure,
            "form": form,
            "figure_rows": _figure_rows(figures),
            "error": error,
            "may_write": may_write,
            "reporter_steps": [s for s in steps if s.name in REPORTER_STEPS],
            "review_steps": [s for s in steps if s.name not in REPORTER_STEPS],
            "history": history,
            # The reason of the latest return, shown while the unit answers it.
            "return_reason": returns[-1].reason if returns and report.status == S.RETURNED else "",
            "evidence": files.attachments_of(report).select_related("uploaded_by"),
            "late": selectors.is_late(report),
            "accept": ",".join(ext for kind in files.allowed_kinds() for ext in kind.extensions),
            "max_figures": services.MAX_FIGURES,
        },
        status=status,
    )


@require_POST
@login_required
def report_step(request: HttpRequest, pk: int) -> HttpResponse:
    """A reviewer's step (县区初审通过, 退回 with a reason, 审核通过, 锁定) on a report."""
    report = selectors.get_report(request.user, pk)
    step = request.POST.get("step", "")
    if step not in {s.name for s in REPORT.steps}:
        raise Http404
    _take(
        request,
        REPORT,
        step,
        report.pk,
        reason=request.POST.get("reason", "")[:2000],
        expected_state=request.POST.get("state") or None,
    )
    return redirect("reporting:report_detail", pk=report.pk)


@require_POST
@login_required
def evidence_remove(request: HttpRequest, pk: int, attachment_pk: int) -> HttpResponse:
    report = selectors.get_report(request.user, pk)
    try:
        services.remove_evidence(request.user, report.pk, attachment_pk)
    except ReportingRefused as exc:
        if exc.status == 404:
            raise Http404 from None
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已删除佐证材料。"))
    return redirect("reporting:report_detail", pk=report.pk)


def _step_label(flow, name: str) -> str:
    try:
        return str(flow.step(name).label)
    except LookupError:
        return name


def _take(request: HttpRequest, flow, step: str, pk: int, **kwargs: Any) -> bool:
    """Take one workflow step for a page; a refusal becomes its Chinese message."""
    try:
        workflow.take(flow, step, pk, by=request.user, **kwargs)
    except workflow.NotFound:
        raise Http404 from None
    except workflow.WorkflowError as exc:
        messages.error(request, exc.message)
        return False
    messages.success(request, _("已完成“%(step)s”。") % {"step": flow.step(step).label})
    return True


# --- my reports, my review queue --------------------------------------------------------------


def next_action(report: ProgressReport) -> str:
    """What the reporting unit must do next, in a few words."""
    if (
        report.status in ProgressReport.EDITABLE
        and report.cycle.status != ReportingCycle.Status.OPEN
    ):
        return _("报送周期已关闭，未报送")
    if report.status == S.DRAFT:
        return _("填写并报送")
    if report.status == S.RETURNED:
        return _("按退回意见修改后重新报送")
    if report.status in (S.SUBMITTED, S.RESUBMITTED) and report.county_review_unit_id:
        return _("等待%(unit)s初审") % {"unit": report.county_review_unit.name}
    if report.status in (S.SUBMITTED, S.RESUBMITTED, S.COUNTY_APPROVED):
        return _("等待市级审核")
    return _("无需操作")


@require_safe
@login_required
def my_reports(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.my_reports(request.user), 100).get_page(request.GET.get("page"))
    groups = [
        (cycle, [(r, next_action(r), selectors.is_late(r)) for r in reports])
        for cycle, reports in groupby(page.object_list, key=lambda r: r.cycle)
    ]
    return render(
        request,
        "reporting/my_reports.html",
        {
            "page": page,
            "groups": groups,
            "writes_reports": request.user.role in services.REPORTER_ROLES,
        },
    )


@require_safe
@login_required
def review_queue(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.review_queue(request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "reporting/review_queue.html",
        {"page": page, "is_reviewer": request.user.role in (Role.COORDINATOR, Role.COUNTY_OFFICER)},
    )
