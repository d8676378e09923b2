"""Reporting cycles and progress reports in the JSON API, under the same data scope as the pages.

Reads go through ``reporting.selectors`` (an id outside the caller's scope is 404
``not_found``, exactly like an absent one); writes through ``reporting.services`` and
``core.workflow.take``, which audit them. Refusals keep the services' stable codes:
``ReportingRefused`` and ``core.files.AttachmentRefused`` are answered by the handlers
in ``qcity/api.py``, a refused step by the ``WorkflowError`` handler.
"""

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from django.db.models import Count
from django.http import HttpRequest
from django.urls import reverse
from ninja import Body, Field, File, Query, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from qcity.api import Error
from qcity.core import files, workflow
from qcity.core.api import DeadlineOut, TransitionOut
from qcity.core.models import Attachment, User
from qcity.core.paging import LimitOffset
from qcity.plans import selectors as plan_selectors
from qcity.reporting import selectors, services
from qcity.reporting.models import Progress, ProgressReport, ReportingCycle
from qcity.reporting.periods import FIRST_YEAR, LAST_YEAR, Frequency

router = Router(tags=["reporting"])

# The closed vocabularies, as enums in the OpenAPI document (anything else is 422).
FrequencyName = Literal[tuple(Frequency.values)]
CycleStatus = Literal[tuple(ReportingCycle.Status.values)]
ReportStatus = Literal[tuple(ProgressReport.Status.values)]
ProgressName = Literal[("", *Progress.values)]
CycleStepName = Literal[tuple(step.name for step in services.CYCLE.steps)]
ReportStepName = Literal[tuple(step.name for step in services.REPORT.steps)]

# Label lookups by value: ``get_FOO_display`` rebuilds and hashes the lazy choices on every
# call, which was a third of the time of a page of reports. str() translates per request.
REPORT_STATUS_LABELS = dict(ProgressReport.Status.choices)
PROGRESS_LABELS = dict(Progress.choices)

STEP_RESPONSES = {200: TransitionOut, 403: Error, 404: Error, 409: Error, 422: Error}


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


class StepOut(Schema):
    name: str
    label: str
    reason_required: bool


def _steps(flow: workflow.Workflow, obj: Any, user: User) -> list[dict[str, Any]]:
    return [
        {"name": s.name, "label": str(s.label), "reason_required": s.reason_required}
        for s in flow.available_steps(obj, user)
    ]


# --- cycles -----------------------------------------------------------------------------------


class CycleOut(Schema):
    id: int
    plan_id: int
    frequency: str
    frequency_label: str
    year: int
    period: int
    label: str
    period_start: dt.date
    period_end: dt.date
    due_workdays: int
    due: DeadlineOut
    on_time_workdays: int
    on_time_by: dt.date
    reminder_workdays: int
    escalation_workdays: int
    status: str
    status_label: str
    opened_at: dt.datetime

    @staticmethod
    def resolve_frequency_label(obj: ReportingCycle) -> str:
        return str(obj.get_frequency_display())

    @staticmethod
    def resolve_status_label(obj: ReportingCycle) -> str:
        return str(obj.get_status_display())

    @staticmethod
    def resolve_due(obj: ReportingCycle) -> dict[str, Any]:
        return {
            "due": obj.due_date,
            "rule": obj.due_rule,
            "provisional": obj.due_provisional,
            "calendar_version": int(obj.due_calendar_version or 0),
        }


class CycleDetailOut(CycleOut):
    # Reports of this cycle the caller may see, by status (every status, zero included).
    report_counts: dict[str, int]
    available_steps: list[StepOut]

    @staticmethod
    def resolve_report_counts(obj: ReportingCycle, context) -> dict[str, int]:
        user = context["request"].user
        counts = dict.fromkeys(ProgressReport.Status.values, 0)
        rows = (
            selectors.reports_for(user, cycle=obj)
            .order_by()
            .values_list("status")
            .annotate(n=Count("pk"))
        )
        counts.update(dict(rows))
        return counts

    @staticmethod
    def resolve_available_steps(obj: ReportingCycle, context) -> list[dict[str, Any]]:
        return _steps(services.CYCLE, obj, context["request"].user)


class CycleOpenedOut(CycleOut):
    reports: int = Field(..., description="为各责任单位生成的报告数")
    skipped_units: list[str] = Field(..., description="未确认或已停用、因而未生成报告的单位")

    # ``reports`` is the cycle's reverse relation: the counts come from services.Opened.
    @staticmethod
    def resolve_reports(obj: ReportingCycle) -> int:
        return obj.opened.reports

    @staticmethod
    def resolve_skipped_units(obj: ReportingCycle) -> list[str]:
        return obj.opened.skipped_units


class CycleFilter(Schema):
    plan_id: int | None = None
    status: CycleStatus | None = None
    year: int | None = Field(None, ge=FIRST_YEAR, le=LAST_YEAR)


class CycleIn(Schema):
    plan_id: int
    frequency: FrequencyName = Field(..., description="monthly / quarterly / half_yearly / yearly")
    year: int = Field(..., description=f"年度（{FIRST_YEAR}–{LAST_YEAR}）")
    period: int = Field(..., description="期数：月报 1–12，季报 1–4，半年报 1–2，年报 1")
    due_workdays: int = Field(10, description="期末后第几个工作日截止（1–60）")
    on_time_workdays: int | None = Field(
        None, description="期末后第几个工作日前首次报送算按时（默认同截止日）"
    )
    reminder_workdays: int = Field(3, description="截止前几个工作日提醒（0–60）")
    escalation_workdays: int = Field(2, description="逾期后每隔几个工作日督办（1–60）")


class StepIn(Schema):
    reason: str = Field("", max_length=2000, description="理由（退回、重新开启时必填）")


class CycleStepIn(StepIn):
    expected_state: CycleStatus | None = Field(
        None, description="调用方看到的状态；已被他人改变时拒绝（409 stale）"
    )


class UnitRateOut(Schema):
    unit_id: int
    unit: str
    expected: int
    received: int
    on_time: int
    late: int
    completeness: float | None = Field(..., description="已报送 ÷ 应报送")
    timeliness: float | None = Field(..., description="按时报送 ÷ 应报送")


@router.get("/cycles", response=list[CycleOut])
@paginate(LimitOffset)
def list_cycles(request: HttpRequest, filters: Query[CycleFilter]):
    """Reporting cycles, newest period first (every internal user reads them)."""
    user = _user(request)
    if filters.plan_id is not None:
        plan_selectors.get_plan(user, filters.plan_id)
    cycles = selectors.cycles_for(user, filters.plan_id)
    if filters.status:
        cycles = cycles.filter(status=filters.status)
    if filters.year is not None:
        cycles = cycles.filter(year=filters.year)
    return cycles.order_by("-period_start", "frequency", "plan_id", "pk")


@router.post(
    "/cycles", response={201: CycleOpenedOut, 403: Error, 404: Error, 409: Error, 422: Error}
)
def open_cycle(request: HttpRequest, payload: CycleIn):
    """Open one reporting period of a plan (the plan owner's coordinator).

    422 ``invalid_period`` / ``invalid_workdays``; 409 ``cycle_overlap``; 403
    ``forbidden``; 404 ``not_found`` (the plan).
    """
    opened = services.open_cycle(
        payload.plan_id,
        payload.frequency,
        payload.year,
        payload.period,
        by=_user(request),
        due_workdays=payload.due_workdays,
        on_time_workdays=payload.on_time_workdays,
        reminder_workdays=payload.reminder_workdays,
        escalation_workdays=payload.escalation_workdays,
    )
    opened.cycle.opened = opened
    return Status(201, opened.cycle)


@router.get("/cycles/{cycle_id}", response=CycleDetailOut)
def get_cycle(request: HttpRequest, cycle_id: int):
    return selectors.get_cycle(_user(request), cycle_id)


@router.post("/cycles/{cycle_id}/steps/{step}", response=STEP_RESPONSES)
def cycle_step(
    request: HttpRequest, cycle_id: int, step: CycleStepName, payload: Body[CycleStepIn] = None
):
    """``close`` (its approved reports are locked) or ``reopen`` (reason required)."""
    payload = payload or CycleStepIn()
    return workflow.take(
        services.CYCLE,
        step,
        cycle_id,
        by=_user(request),
        reason=payload.reason,
        expected_state=payload.expected_state,
    )


@router.get("/cycles/{cycle_id}/transitions", response=list[TransitionOut])
def cycle_transitions(request: HttpRequest, cycle_id: int):
    return workflow.history(_user(request), ReportingCycle, cycle_id)


@router.get("/cycles/{cycle_id}/rates", response=list[UnitRateOut])
def cycle_rates(request: HttpRequest, cycle_id: int):
    """Completeness and timeliness per reporting unit, over the reports the caller sees."""
    user = _user(request)
    cycle = selectors.get_cycle(user, cycle_id)
    return [
        {
            "unit_id": rate.unit_id,
            "unit": rate.unit_name,
            "expected": rate.expected,
            "received": rate.received,
            "on_time": rate.on_time,
            "late": rate.late,
            "completeness": rate.completeness,
            "timeliness": rate.timeliness,
        }
        for rate in selectors.unit_rates(user, [cycle])
    ]


# --- reports ----------------------------------------------------------------------------------


class FigureOut(Schema):
    name: str
    value: str
    unit: str


class FigureIn(Schema):
    name: str = Field(..., description="名称（不超过 50 字）")
    # Bounded digits: a value such as 1e-999999999 would otherwise be written out in full.
    value: Decimal = Field(..., max_digits=24, decimal_places=6, description="数值")
    unit: str = Field("", description="单位（不超过 20 字）")


class EvidenceOut(Schema):
    id: int
    name: str
    media_type: str
    size: int
    sha256: str
    uploaded_at: dt.datetime
    uploaded_by: str | None
    url: str = Field(..., description="下载地址（/files/<id>/，同样受数据范围限制）")

    @staticmethod
    def resolve_name(obj: Attachment) -> str:
        return obj.original_name

    @staticmethod
    def resolve_uploaded_by(obj: Attachment) -> str | None:
        return obj.uploaded_by.get_username() if obj.uploaded_by else None

    @staticmethod
    def resolve_url(obj: Attachment) -> str:
        return reverse("download_file", args=[obj.pk])


class ReportOut(Schema):
    id: int
    cycle_id: int
    cycle_label: str
    plan_id: int
    measure_id: int
    measure_number: int
    measure_title: str
    org_unit_id: int
    org_unit: str
    is_lead: bool
    county_review_unit_id: int | None
    county_review_unit: str | None
    status: str
    status_label: str
    progress: str
    progress_label: str
    due_date: dt.date | None = Field(..., description="当前办理方的办理时限")
    late: bool = Field(..., description="截止日已过仍未报送")
    first_submitted_at: dt.datetime | None
    submitted_at: dt.datetime | None
    on_time: bool | None
    approved_at: dt.datetime | None
    return_count: int
    updated_at: dt.datetime

    @staticmethod
    def resolve_cycle_label(obj: ProgressReport) -> str:
        return obj.cycle.label

    @staticmethod
    def resolve_plan_id(obj: ProgressReport) -> int:
        return obj.cycle.plan_id

    @staticmethod
    def resolve_measure_number(obj: ProgressReport) -> int:
        return obj.measure.number

    @staticmethod
    def resolve_measure_title(obj: ProgressReport) -> str:
        return obj.measure.title

    @staticmethod
    def resolve_org_unit(obj: ProgressReport) -> str:
        return obj.org_unit.name

    @staticmethod
    def resolve_county_review_unit(obj: ProgressReport) -> str | None:
        return obj.county_review_unit.name if obj.county_review_unit_id else None

    @staticmethod
    def resolve_status_label(obj: ProgressReport) -> str:
        return str(REPORT_STATUS_LABELS.get(obj.status, obj.status))

    @staticmethod
    def resolve_progress_label(obj: ProgressReport) -> str:
        return str(PROGRESS_LABELS.get(obj.progress, obj.progress))

    @staticmethod
    def resolve_late(obj: ProgressReport) -> bool:
        return selectors.is_late(obj)


class ReportDetailOut(ReportOut):
    narrative: str
    figures: list[FigureOut]
    evidence: list[EvidenceOut]
    editable: bool = Field(..., description="调用方现在能否修改（PUT/PATCH、上传或删除佐证）")
    available_steps: list[StepOut]

    @staticmethod
    def resolve_evidence(obj: ProgressReport) -> list[Attachment]:
        return list(
            files.attachments_of(obj).select_related("uploaded_by").order_by("uploaded_at", "pk")
        )

    @staticmethod
    def resolve_editable(obj: ProgressReport, context) -> bool:
        return obj.editable and services.is_reporter(context["request"].user, obj)

    @staticmethod
    def resolve_available_steps(obj: ProgressReport, context) -> list[dict[str, Any]]:
        return _steps(services.REPORT, obj, context["request"].user)


class ReportFilter(Schema):
    cycle_id: int | None = None
    # Bounded: a foreign key's lookup is not range-checked, 10**40 overflowed the database.
    unit_id: int | None = Field(None, ge=1, le=2**63 - 1, description="报送单位")
    status: ReportStatus | None = None
    late: bool | None = Field(None, description="true：截止日已过仍未报送；false：其余")


class ReportIn(Schema):
    progress: ProgressName = Field(
        ..., description="推进情况：on_track / at_risk / blocked / done（草稿可为空）"
    )
    narrative: str = Field(..., description="进展情况（不超过 5000 字）")
    figures: list[FigureIn] = Field(default_factory=list, description="关键数据（至多 20 项）")


class ReportPatch(Schema):
    progress: ProgressName | None = None
    narrative: str | None = None
    figures: list[FigureIn] | None = None


class ReportStepIn(StepIn):
    expected_state: ReportStatus | None = Field(
        None, description="调用方看到的状态；已被他人改变时拒绝（409 stale）"
    )


SAVE_RESPONSES = {200: ReportDetailOut, 403: Error, 404: Error, 409: Error, 422: Error}


@router.get("/reports", response=list[ReportOut])
@paginate(LimitOffset)
def list_reports(request: HttpRequest, filters: Query[ReportFilter]):
    """The reports the caller may see: its unit's, those its county bureau reviews first, or
    (the plan owner's coordinator) all of the plan's; newest period first."""
    user = _user(request)
    cycle = selectors.get_cycle(user, filters.cycle_id) if filters.cycle_id is not None else None
    reports = selectors.reports_for(
        user, cycle=cycle, unit_id=filters.unit_id, status=filters.status
    )
    if filters.late is True:
        reports = reports.filter(selectors.late_q())
    elif filters.late is False:
        reports = reports.exclude(selectors.late_q())
    return reports.order_by(
        "-cycle__period_start", "cycle_id", "measure__seq", "-is_lead", "org_unit__name", "pk"
    )


@router.get("/reports/{report_id}", response=ReportDetailOut)
def get_report(request: HttpRequest, report_id: int):
    return selectors.get_report(_user(request), report_id)


def _save(request: HttpRequest, report_id: int, progress: str, narrative: str, figures) -> Any:
    user = _user(request)
    services.save_report(
        user,
        report_id,
        progress=progress,
        narrative=narrative,
        figures=[{"name": f.name, "value": format(f.value, "f"), "unit": f.unit} for f in figures],
    )
    return selectors.get_report(user, report_id)


@router.put("/reports/{report_id}", response=SAVE_RESPONSES)
def save_report(request: HttpRequest, report_id: int, payload: ReportIn):
    """Write the unit's report (its reporter, while it is a draft or returned).

    422 ``invalid_progress`` / ``narrative_too_long`` / ``invalid_figures``; 409
    ``cycle_closed`` / ``report_not_editable``; 403 ``forbidden``.
    """
    return _save(request, report_id, payload.progress, payload.narrative, payload.figures)


@router.patch("/reports/{report_id}", response=SAVE_RESPONSES)
def patch_report(request: HttpRequest, report_id: int, payload: ReportPatch):
    """Change only the fields given; the others keep what is stored."""
    current = selectors.get_report(_user(request), report_id)
    figures = (
        payload.figures
        if payload.figures is not None
        else [FigureIn(name=f["name"], value=f["value"], unit=f["unit"]) for f in current.figures]
    )
    return _save(
        request,
        report_id,
        current.progress if payload.progress is None else payload.progress,
        current.narrative if payload.narrative is None else payload.narrative,
        figures,
    )


@router.post(
    "/reports/{report_id}/evidence",
    response={201: EvidenceOut, 403: Error, 404: Error, 409: Error, 422: Error},
)
def upload_evidence(request: HttpRequest, report_id: int, file: File[UploadedFile]):
    """Attach one evidence file (multipart field ``file``): PDF, images, Office documents.

    422 ``file_type_not_allowed`` / ``file_extension_mismatch`` / ``file_corrupted`` /
    ``file_too_large`` / ``file_empty`` / ``zip_bomb`` / ``too_many_files``; 409
    ``cycle_closed`` / ``report_not_editable``; 403 ``forbidden``. A refused file leaves
    nothing stored.
    """
    return Status(201, services.add_evidence(_user(request), report_id, file))


@router.delete(
    "/reports/{report_id}/evidence/{evidence_id}",
    response={204: None, 403: Error, 404: Error, 409: Error},
)
def remove_evidence(request: HttpRequest, report_id: int, evidence_id: int):
    services.remove_evidence(_user(request), report_id, evidence_id)
    return Status(204, None)


@router.post("/reports/{report_id}/steps/{step}", response=STEP_RESPONSES)
def report_step(
    request: HttpRequest,
    report_id: int,
    step: ReportStepName,
    payload: Body[ReportStepIn] = None,
):
    """Take one step of the report workflow: ``submit``, ``resubmit`` (the unit's reporter),
    ``county_approve`` (the county bureau), ``return`` (reason required), ``approve``,
    ``lock`` (the plan owner's coordinator). Refusals: ``forbidden`` 403, ``not_found`` 404,
    ``step_not_allowed`` / ``stale`` 409, ``invalid`` / ``reason_required`` 422."""
    payload = payload or ReportStepIn()
    return workflow.take(
        services.REPORT,
        step,
        report_id,
        by=_user(request),
        reason=payload.reason,
        expected_state=payload.expected_state,
    )


@router.get("/reports/{report_id}/transitions", response=list[TransitionOut])
def report_transitions(request: HttpRequest, report_id: int):
    return workflow.history(_user(request), ProgressReport, report_id)
