"""Writes of the reporting app: cycles, reports, evidence and the report workflow.

Every write records an audit event: the steps through ``core.workflow.take``, the others
through ``core.audit.record`` in the same transaction (zulip's one-action-function rule).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from qcity.core import audit, files, workdays
from qcity.core.models import Attachment, OrgUnit, Role, User
from qcity.core.scope import get_for_write
from qcity.core.workflow import Deadline, Invalid, Step, Workflow, take
from qcity.plans.models import Plan, Responsibility
from qcity.reporting.models import Progress, ProgressReport, ReportingCycle
from qcity.reporting.periods import PeriodInvalid, period

# Working days a reviewer has to review a report, and a unit to resubmit a returned one.
REVIEW_WORKDAYS = 5
RESUBMIT_WORKDAYS = 5
MAX_DUE_WORKDAYS = 60
MAX_EVIDENCE_FILES = 20
MAX_NARRATIVE = 5000
MAX_FIGURES = 20

REPORTER_ROLES = frozenset({Role.DEPARTMENT_LIAISON, Role.COUNTY_OFFICER, Role.LAB})


class ReportingRefused(Exception):
    """A write the reporting app refuses: ``code`` is stable for the API, ``message`` Chinese."""

    def __init__(self, code: str, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, str(message), status


# --- who may do what --------------------------------------------------------------------------


def is_reporter(user: User | None, report: ProgressReport) -> bool:
    """The reporting unit's own staff write and submit its report."""
    return bool(
        user is not None
        and user.role in REPORTER_ROLES
        and user.unit_id is not None
        and user.unit_id == report.org_unit_id
    )


def is_county_reviewer(user: User | None, report: ProgressReport) -> bool:
    return bool(
        user is not None
        and user.role == Role.COUNTY_OFFICER
        and report.county_review_unit_id is not None
        and user.unit_id == report.county_review_unit_id
    )


def is_city_reviewer(user: User | None, report_or_cycle: ProgressReport | ReportingCycle) -> bool:
    """A coordinator of the plan's owner unit (or of a unit below it, e.g. 质量发展科)."""
    if user is None or user.role != Role.COORDINATOR or user.unit_id is None:
        return False
    cycle = (
        report_or_cycle.cycle if isinstance(report_or_cycle, ProgressReport) else report_or_cycle
    )
    owner = cycle.plan.owner_unit
    return user.unit_id == owner.pk or user.unit.path.startswith(owner.path)


def county_review_unit(unit: OrgUnit) -> OrgUnit | None:
    """The county market-supervision bureau that approves ``unit``'s reports first.

    A unit inside a county (the county government, one of its departments or stations)
    is reviewed by that county's bureau; the bureau itself, and every unit outside a
    county, goes straight to the city.
    """
    ids = [int(part) for part in unit.path.strip("/").split("/") if part]
    county = OrgUnit.objects.filter(pk__in=ids, kind=OrgUnit.Kind.COUNTY).order_by("-path").first()
    if county is None:
        return None
    bureau = (
        OrgUnit.objects.enabled()
        .filter(parent=county, kind=OrgUnit.Kind.DEPARTMENT, confirmed=True)
        .filter(Q(name__contains="市场监督管理局") | Q(name__contains="市场监管局"))
        .order_by("pk")
        .first()
    )
    if bureau is None or unit.pk == bureau.pk:
        return None
    return bureau


# --- cycles -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Opened:
    cycle: ReportingCycle
    reports: int
    skipped_units: list[str]


def open_cycle(
    plan: Plan | int,
    frequency: str,
    year: int,
    number: int,
    *,
    by: User | None,
    due_workdays: int = 10,
    on_time_workdays: int | None = None,
    reminder_workdays: int = 3,
    escalation_workdays: int = 2,
    period_start: dt.date | None = None,
    period_end: dt.date | None = None,
) -> Opened:
    """Open one reporting period of a plan: one report per measure and responsible unit.

    :raises ReportingRefused: ``forbidden`` (not the plan's coordinator),
        ``invalid_period``, ``invalid_workdays``, ``cycle_overlap``.
    """
    try:
        p = period(frequency, int(year), int(number))
    except (PeriodInvalid, TypeError, ValueError) as exc:
        raise ReportingRefused("invalid_period", str(exc) or "报送期无效") from None
    start, end = period_start or p.start, period_end or p.end
    if end < start:
        raise ReportingRefused("invalid_period", f"期间结束日 {end} 早于开始日 {start}")
    on_time_workdays = due_workdays if on_time_workdays is None else on_time_workdays
    for name, value, low in (
        ("报送时限", due_workdays, 1),
        ("按时报送时限", on_time_workdays, 1),
        ("截止前提醒", reminder_workdays, 0),
        ("逾期督办间隔", escalation_workdays, 1),
    ):
        if not isinstance(value, int) or not low <= value <= MAX_DUE_WORKDAYS:
            raise ReportingRefused(
                "invalid_workdays",
                f"{name}应为 {low}–{MAX_DUE_WORKDAYS} 个工作日，填写的是 {value}",
            )
    if on_time_workdays > due_workdays:
        raise ReportingRefused("invalid_workdays", "按时报送时限不能晚于报送截止日期")
    with transaction.atomic():
        plan_pk = plan.pk if isinstance(plan, Plan) else plan
        try:
            # Locking the plan serialises openings, so two overlapping cycles cannot
            # both pass the overlap check below.
            locked, may_change = get_for_write(by, Plan.objects.all(), pk=plan_pk)
        except Http404:
            raise ReportingRefused("not_found", "方案不存在或无权访问", 404) from None
        probe = ReportingCycle(plan=locked)
        if not may_change or not is_city_reviewer(by, probe):
            raise ReportingRefused("forbidden", "只有方案牵头管理单位的协调员可以开启报送周期", 403)
        overlap = (
            ReportingCycle.objects.filter(plan=locked, frequency=frequency)
            .filter(period_start__lte=end, period_end__gte=start)
            .first()
        )
        if overlap is not None:
            raise ReportingRefused(
                "cycle_overlap",
                f"与已有的报送周期“{overlap.label}”（{overlap.period_start}至{overlap.period_end}）"
                "日期重叠",
                409,
            )
        due = workdays.deadline(end, due_workdays, rule="reporting.cycle.due")
        on_time = workdays.deadline(end, on_time_workdays, rule="reporting.cycle.on_time")
        now = timezone.now()
        cycle = ReportingCycle.objects.create(
            plan=locked,
            frequency=frequency,
            year=p.year,
            period=p.number,
            label=p.label,
            period_start=start,
            period_end=end,
            due_workdays=due_workdays,
            due_date=due.due,
            due_rule=due.rule,
            due_calendar_version=str(due.calendar_version),
            due_provisional=due.provisional,
            on_time_workdays=on_time_workdays,
            on_time_by=on_time.due,
            reminder_workdays=reminder_workdays,
            escalation_workdays=escalation_workdays,
            opened_by=by if by is not None and by.pk else None,
            opened_at=now,
        )
        responsibilities = (
            Responsibility.objects.filter(measure__plan=locked, measure__withdrawn=False)
            .select_related("org_unit", "measure")
            .order_by("measure__seq", "order")
        )
        reviewers: dict[int, OrgUnit | None] = {}
        reports, skipped, seen = [], [], set()
        for r in responsibilities:
            unit = r.org_unit
            if not unit.confirmed or unit.disabled_on is not None:
                skipped.append(unit.name)
                continue
            if (r.measure_id, unit.pk) in seen:
                continue
            seen.add((r.measure_id, unit.pk))
            if unit.pk not in reviewers:
                reviewers[unit.pk] = county_review_unit(unit)
            reports.append(
                ProgressReport(
                    cycle=cycle,
                    measure=r.measure,
                    org_unit=unit,
                    is_lead=r.is_lead,
                    county_review_unit=reviewers[unit.pk],
                    due_date=due.due,
                )
            )
        ProgressReport.objects.bulk_create(reports, batch_size=500)
        audit.record(
            "reporting.cycle.opened",
            by=by,
            obj=cycle,
            details={
                "plan": locked.pk,
                "label": cycle.label,
                "frequency": frequency,
                "period": [start.isoformat(), end.isoformat()],
                "due": due.as_api(),
                "on_time_by": on_time.due.isoformat(),
                "reports": len(reports),
                "skipped_units": sorted(set(skipped)),
            },
        )
    return Opened(cycle, len(reports), sorted(set(skipped)))


def _cycle_reviewer(user: User, cycle: ReportingCycle) -> bool:
    return is_city_reviewer(user, cycle)


def _lock_approved(cycle: ReportingCycle, user: User, **params: Any) -> dict[str, Any]:
    approved = list(
        ProgressReport.objects.filter(cycle=cycle, status=ProgressReport.Status.APPROVED)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for pk in approved:
        take(REPORT, "lock", pk, by=user)
    return {"locked_reports": len(approved)}


CYCLE = Workflow(
    ReportingCycle,
    name="reporting.cycle",
    changed_at_field="status_changed_at",
    changed_by_field="status_changed_by",
    select_related=("plan__owner_unit",),
    steps=[
        Step(
            name="close",
            label=_("关闭报送周期"),
            sources={ReportingCycle.Status.OPEN},
            target=ReportingCycle.Status.CLOSED,
            allowed=_cycle_reviewer,
            apply=_lock_approved,
            action="reporting.cycle.closed",
        ),
        Step(
            name="reopen",
            label=_("重新开启报送周期"),
            sources={ReportingCycle.Status.CLOSED},
            target=ReportingCycle.Status.OPEN,
            allowed=_cycle_reviewer,
            reason_required=True,
            action="reporting.cycle.reopened",
        ),
    ],
)


def close_cycle(user: User, pk: int) -> Any:
    """Close a cycle: its approved reports are locked; the others can no longer change."""
    return take(CYCLE, "close", pk, by=user)


# --- writing a report -------------------------------------------------------------------------


def _clean_figures(figures: Any) -> list[dict[str, str]]:
    if figures in (None, ""):
        return []
    if not isinstance(figures, list):
        raise ReportingRefused("invalid_figures", "关键数据应为列表")
    if len(figures) > MAX_FIGURES:
        raise ReportingRefused("invalid_figures", f"关键数据最多 {MAX_FIGURES} 项")
    cleaned = []
    for i, item in enumerate(figures, start=1):
        if not isinstance(item, dict):
            raise ReportingRefused("invalid_figures", f"第 {i} 项关键数据格式不正确")
        name = str(item.get("name") or "").strip()
        raw = str(item.get("value") if item.get("value") is not None else "").strip()
        unit = str(item.get("unit") or "").strip()
        if not name and not raw:
            continue
        if not name or len(name) > 50:
            raise ReportingRefused("invalid_figures", f"第 {i} 项关键数据须有名称（不超过 50 字）")
        try:
            value = Decimal(raw)
        except (InvalidOperation, ValueError):
            raise ReportingRefused(
                "invalid_figures", f"关键数据“{name}”的数值“{raw[:20]}”不是数字"
            ) from None
        # Bounded both ways: 1e-999999999 is a finite Decimal whose plain form has a
        # billion digits. Fourteen digits before the point and six after are plenty.
        if not value.is_finite() or abs(value) >= Decimal("1e14"):
            raise ReportingRefused("invalid_figures", f"关键数据“{name}”的数值超出范围")
        if value.as_tuple().exponent < -6 and value != value.quantize(Decimal("1e-6")):
            raise ReportingRefused(
                "invalid_figures", f"关键数据“{name}”的数值小数位过多（最多 6 位）"
            )
        if len(unit) > 20:
            raise ReportingRefused("invalid_figures", f"关键数据“{name}”的单位过长（不超过 20 字）")
        cleaned.append({"name": name, "value": format(value.normalize(), "f"), "unit": unit})
    return cleaned


def _lock_for_reporter(user: User | None, pk: Any) -> ProgressReport:
    """The report, locked, if ``user`` is its unit's reporter and it is still editable."""
    try:
        report, may_change = get_for_write(
            user, ProgressReport.objects.select_related("cycle", "measure", "org_unit"), pk=pk
        )
    except Http404:
        raise ReportingRefused("not_found", "报告不存在或无权访问", 404) from None
    if not may_change or not is_reporter(user, report):
        raise ReportingRefused("forbidden", "只有报送单位的联络员可以填写本单位的报告", 403)
    if report.cycle.status != ReportingCycle.Status.OPEN:
        raise ReportingRefused(
            "cycle_closed", f"报送周期“{report.cycle.label}”已关闭，报告不能再修改", 409
        )
    if report.status not in ProgressReport.EDITABLE:
        raise ReportingRefused(
            "report_not_editable",
            f"报告当前状态为“{report.get_status_display()}”，不能修改",
            409,
        )
    return report


def save_report(
    user: User | None,
    pk: Any,
    *,
    progress: str,
    narrative: str,
    figures: Any = None,
) -> ProgressReport:
    """Save the unit's draft (or its answer to a return)."""
    progress = (progress or "").strip()
    narrative = (narrative or "").strip()
    if progress and progress not in Progress.values:
        raise ReportingRefused("invalid_progress", f"推进情况“{progress}”不是可选项")
    if len(narrative) > MAX_NARRATIVE:
        raise ReportingRefused("narrative_too_long", f"进展情况不能超过 {MAX_NARRATIVE} 字")
    cleaned = _clean_figures(figures)
    with transaction.atomic():
        report = _lock_for_reporter(user, pk)
        changed = [
            field
            for field, value in (
                ("progress", progress),
                ("narrative", narrative),
                ("figures", cleaned),
            )
            if getattr(report, field) != value
        ]
        if not changed:
            return report
        report.progress, report.narrative, report.figures = progress, narrative, cleaned
        report.updated_by = user
        report.save(update_fields=["progress", "narrative", "figures", "updated_at", "updated_by"])
        audit.record(
            "reporting.report.saved",
            by=user,
            obj=report,
            details={"changed": changed, "progress": progress, "status": report.status},
        )
    return report


def add_evidence(user: User | None, pk: Any, upload, *, name: str | None = None) -> Attachment:
    """Attach one evidence file; a refused file leaves the report and its files unchanged.

    :raises ReportingRefused: the report may not be changed or has too many files.
    :raises core.files.AttachmentRefused: wrong type, too large, corrupted.
    """
    with transaction.atomic():
        report = _lock_for_reporter(user, pk)
        if files.attachments_of(report).count() >= MAX_EVIDENCE_FILES:
            raise ReportingRefused(
                "too_many_files", f"每份报告最多 {MAX_EVIDENCE_FILES} 个佐证材料"
            )
        return files.attach(report, upload, by=user, name=name)


def remove_evidence(user: User | None, pk: Any, attachment_pk: Any) -> None:
    """Remove an evidence file from a report the unit is still writing."""
    with transaction.atomic():
        report = _lock_for_reporter(user, pk)
        try:
            attachment = files.attachments_of(report).get(pk=attachment_pk)
        except (Attachment.DoesNotExist, ValueError, TypeError):
            raise ReportingRefused("not_found", "佐证材料不存在", 404) from None
        stored, details = (
            attachment.storage_name,
            {
                "attachment": attachment.pk,
                "name": attachment.original_name,
                "sha256": attachment.sha256,
            },
        )
        attachment.delete()
        audit.record("file.removed", by=user, obj=report, details=details)
        # The bytes go only once the row is gone for good.
        transaction.on_commit(lambda: files.storage().delete(stored), robust=True)


# --- the report workflow ----------------------------------------------------------------------


def _require_content(report: ProgressReport, user: User, **params: Any) -> None:
    if report.cycle.status != ReportingCycle.Status.OPEN:
        raise Invalid(f"报送周期“{report.cycle.label}”已关闭，不能报送")
    missing = [
        str(label)
        for label, value in ((_("推进情况"), report.progress), (_("进展情况"), report.narrative))
        if not value
    ]
    if missing:
        raise Invalid(f"请先填写{'和'.join(missing)}再报送")


def _mark_submitted(report: ProgressReport, user: User, **params: Any) -> dict[str, Any]:
    now = timezone.now()
    first = report.first_submitted_at is None
    report.submitted_at = now
    if first:
        report.first_submitted_at = now
        report.on_time = timezone.localdate(now) <= report.cycle.on_time_by
    return {"first": first, "on_time": report.on_time}


def _review_deadline(report: ProgressReport, now: dt.datetime) -> Deadline:
    d = workdays.deadline(timezone.localdate(now), REVIEW_WORKDAYS, rule="reporting.review")
    return Deadline(d.due, d.rule, str(d.calendar_version), d.provisional)


def _resubmit_deadline(report: ProgressReport, now: dt.datetime) -> Deadline:
    d = workdays.deadline(timezone.localdate(now), RESUBMIT_WORKDAYS, rule="reporting.resubmit")
    return Deadline(d.due, d.rule, str(d.calendar_version), d.provisional)


def _reviewer_of(user: User, report: ProgressReport) -> bool:
    return is_county_reviewer(user, report) or is_city_reviewer(user, report)


def _require_open_cycle(report: ProgressReport) -> None:
    # A closed cycle's reports stay as they are until it is reopened: a report returned
    # then could never be resubmitted, one approved then would never be locked.
    if report.cycle.status != ReportingCycle.Status.OPEN:
        raise Invalid(f"报送周期“{report.cycle.label}”已关闭，请先重新开启再审核")


def _check_county_approval(report: ProgressReport, user: User, **params: Any) -> None:
    _require_open_cycle(report)


def _check_return(report: ProgressReport, user: User, **params: Any) -> None:
    _require_open_cycle(report)
    waiting_for_county = (
        report.status
        in (
            ProgressReport.Status.SUBMITTED,
            ProgressReport.Status.RESUBMITTED,
        )
        and report.county_review_unit_id is not None
    )
    if waiting_for_county and not is_county_reviewer(user, report):
        raise Invalid(f"该报告须先由“{report.county_review_unit.name}”初审")
    if not waiting_for_county and not is_city_reviewer(user, report):
        raise Invalid("该报告已通过县区初审，由市级协调员审核")


def _check_city_approval(report: ProgressReport, user: User, **params: Any) -> None:
    _require_open_cycle(report)
    if (
        report.county_review_unit_id is not None
        and report.status != ProgressReport.Status.COUNTY_APPROVED
    ):
        raise Invalid(f"该报告须先由“{report.county_review_unit.name}”初审")


def _count_return(report: ProgressReport, user: User, **params: Any) -> dict[str, Any]:
    report.return_count += 1
    return {"return_count": report.return_count}


def _mark_approved(report: ProgressReport, user: User, **params: Any) -> dict[str, Any]:
    report.approved_at = timezone.now()
    return {}


def reporters_of(report: ProgressReport) -> list[User]:
    return list(
        User.objects.filter(unit_id=report.org_unit_id, role__in=REPORTER_ROLES, is_active=True)
    )


def reviewers_of(report: ProgressReport) -> list[User]:
    """Whoever must review the report now: the county bureau first, then the city."""
    if report.county_review_unit_id is not None and report.status in (
        ProgressReport.Status.SUBMITTED,
        ProgressReport.Status.RESUBMITTED,
    ):
        return list(
            User.objects.filter(
                unit_id=report.county_review_unit_id, role=Role.COUNTY_OFFICER, is_active=True
            )
        )
    owner = report.cycle.plan.owner_unit
    return list(
        User.objects.filter(
            role=Role.COORDINATOR, is_active=True, unit__path__startswith=owner.path
        )
    )


def _subject(report: ProgressReport, what: str) -> str:
    return f"{report.cycle.label}·举措{report.measure.number}（{report.org_unit.name}）{what}"


def _tell_reviewers(report: ProgressReport, transition: Any) -> None:
    from qcity.core.notices import notify

    notify(reviewers_of(report), report, _subject(report, "待审核"), report.narrative[:500])


def _tell_reporters(report: ProgressReport, transition: Any) -> None:
    from qcity.core.notices import notify

    what = {"return": "被退回", "approve": "已审核通过"}.get(transition.step, "状态已变更")
    body = f"退回理由：{transition.reason}" if transition.reason else ""
    notify(reporters_of(report), report, _subject(report, what), body)


S = ProgressReport.Status
REPORT = Workflow(
    ProgressReport,
    name="reporting.report",
    changed_at_field="status_changed_at",
    changed_by_field="status_changed_by",
    deadline_field="due_date",
    select_related=("cycle__plan__owner_unit", "measure", "org_unit", "county_review_unit"),
    steps=[
        Step(
            name="submit",
            label=_("报送"),
            sources={S.DRAFT},
            target=S.SUBMITTED,
            allowed=is_reporter,
            validate=_require_content,
            apply=_mark_submitted,
            deadline=_review_deadline,
            notify=_tell_reviewers,
            action="reporting.report.submitted",
        ),
        Step(
            name="resubmit",
            label=_("重新报送"),
            sources={S.RETURNED},
            target=S.RESUBMITTED,
            allowed=is_reporter,
            validate=_require_content,
            apply=_mark_submitted,
            deadline=_review_deadline,
            notify=_tell_reviewers,
            action="reporting.report.resubmitted",
        ),
        Step(
            name="county_approve",
            label=_("县区初审通过"),
            sources={S.SUBMITTED, S.RESUBMITTED},
            target=S.COUNTY_APPROVED,
            allowed=is_county_reviewer,
            validate=_check_county_approval,
            deadline=_review_deadline,
            notify=_tell_reviewers,
            action="reporting.report.county_approved",
        ),
        Step(
            name="return",
            label=_("退回"),
            sources={S.SUBMITTED, S.RESUBMITTED, S.COUNTY_APPROVED},
            target=S.RETURNED,
            allowed=_reviewer_of,
            validate=_check_return,
            apply=_count_return,
            reason_required=True,
            deadline=_resubmit_deadline,
            notify=_tell_reporters,
            action="reporting.report.returned",
        ),
        Step(
            name="approve",
            label=_("审核通过"),
            sources={S.SUBMITTED, S.RESUBMITTED, S.COUNTY_APPROVED},
            target=S.APPROVED,
            allowed=is_city_reviewer,
            validate=_check_city_approval,
            apply=_mark_approved,
            notify=_tell_reporters,
            action="reporting.report.approved",
        ),
        Step(
            name="lock",
            label=_("锁定"),
            sources={S.APPROVED},
            target=S.LOCKED,
            allowed=is_city_reviewer,
            action="reporting.report.locked",
        ),
    ],
)


def save_report_with_evidence(
    user: User | None,
    pk: Any,
    *,
    progress: str,
    narrative: str,
    figures: Any = None,
    upload=None,
) -> ProgressReport:
    """The report page's one form: the text and, optionally, one evidence file, together.

    All or nothing: a refused file rolls the text back too, so the report stays as it
    was and the page shows the typed text again with the file's error.

    :raises ReportingRefused: as ``save_report`` and ``add_evidence``.
    :raises core.files.AttachmentRefused: wrong type, too large, corrupted.
    """
    with transaction.atomic():
        report = save_report(user, pk, progress=progress, narrative=narrative, figures=figures)
        if upload is not None:
            add_evidence(user, pk, upload)
    return report
