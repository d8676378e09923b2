"""双随机、一公开 in the JSON API (/api/v1/inspections/…), under the same data scope as the pages.

Reads go through ``core.scope``: a county bureau sees its own plans, batches, draws, tasks
and follow-ups (and a department the joint batches it takes part in); an inspector sees the
tasks assigned to them and nothing else; an id outside the caller's scope is 404
``not_found``, exactly like an absent one. Writes call ``inspections.services`` (which
take the ``core.workflow`` steps, so each is locked, checked and audited in one place);
a refused step keeps its stable code through the ``WorkflowError`` handler of
``qcity/api.py``: ``forbidden`` 403 (e.g. a result entered by someone not assigned:
谁检查谁录入), ``not_found`` 404, ``step_not_allowed`` / ``stale`` 409, ``invalid`` /
``reason_required`` 422 and the steps' own codes (no eligible entity, too few inspectors,
a late publication without its reason …).
"""

import datetime as dt
from typing import Annotated, Any, Literal

from django.db.models import Count, Exists, OuterRef, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Body, Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from qcity.api import Error
from qcity.core import workflow
from qcity.core.api import TransitionOut
from qcity.core.models import OrgUnit, User
from qcity.core.paging import LimitOffset
from qcity.core.scope import get_scoped_or_404, may_change, scoped
from qcity.inspections import draw as draw_module
from qcity.inspections import services
from qcity.inspections.models import (
    Batch,
    CheckItem,
    Draw,
    FollowUp,
    InspectionPlan,
    Result,
    ResultCode,
    Task,
    TaskInspector,
)
from qcity.inspections.results import CLOSING_RESOLUTIONS

router = Router(tags=["inspections"])

# The closed vocabularies, as enums in the OpenAPI document (anything else is 422).
BatchStatus = Literal[tuple(Batch.Status.values)]
TaskStatus = Literal[tuple(Task.Status.values)]
FollowUpStatus = Literal[tuple(FollowUp.Status.values)]
CheckItemKind = Literal[tuple(CheckItem.Kind.values)]
# How a follow-up may be closed (not_needed is set only by a corrected result).
Resolution = Literal[tuple(r.value for r in CLOSING_RESOLUTIONS)]
RiskClassKey = Literal["A", "B", "C", "D", "-"]
# Ids in filters are bounded: a foreign key's lookup is not range-checked by Django, and
# 10**40 overflowed the database (500) on other endpoints before.
MAX_ID = 2**63 - 1
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
FIRST_YEAR, LAST_YEAR = 2000, 2100

BATCH_STATUS_LABELS = dict(Batch.Status.choices)
TASK_STATUS_LABELS = dict(Task.Status.choices)
FOLLOWUP_STATUS_LABELS = dict(FollowUp.Status.choices)

WRITE_RESPONSES: dict[int, Any] = {403: Error, 404: Error, 409: Error, 422: Error}


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


class InspectionStepOut(Schema):
    name: str
    label: str
    reason_required: bool


def _steps(flow: workflow.Workflow, obj: Any, user: User) -> list[dict[str, Any]]:
    # A joint department sees a batch it takes part in but may change none of it: the
    # step's role rule alone would offer it the owner's steps.
    if not may_change(user, obj):
        return []
    return [
        {"name": s.name, "label": str(s.label), "reason_required": s.reason_required}
        for s in flow.available_steps(obj, user)
    ]


# --- reference data: check items and result codes --------------------------------------------


class CheckItemOut(Schema):
    id: int
    code: str
    name: str
    sub_items: list[Any]
    legal_basis: str
    department: str
    object_type: str
    kind: str
    kind_label: str
    method: str
    inspector_requirement: str
    required_specialities: list[str]
    default_ratio: str | None = Field(..., description="默认抽查比例（%），重点事项可为空")
    default_frequency: str
    note: str
    enabled: bool

    @staticmethod
    def resolve_kind_label(obj: CheckItem) -> str:
        return str(obj.get_kind_display())

    @staticmethod
    def resolve_required_specialities(obj: CheckItem) -> list[str]:
        return [s.name for s in obj.required_specialities.all()]

    @staticmethod
    def resolve_default_ratio(obj: CheckItem) -> str | None:
        return None if obj.default_ratio is None else format(obj.default_ratio, "f")

    @staticmethod
    def resolve_enabled(obj: CheckItem) -> bool:
        return obj.is_enabled


class CheckItemFilter(Schema):
    kind: CheckItemKind | None = None
    enabled: bool | None = Field(None, description="true：在用；false：已停用；不填：全部")


class ResultCodeOut(Schema):
    id: int
    code: str
    name: str
    problem_found: bool
    opens_follow_up: bool
    enabled: bool

    @staticmethod
    def resolve_enabled(obj: ResultCode) -> bool:
        return obj.is_enabled


@router.get("/inspections/check-items", response=list[CheckItemOut])
@paginate(LimitOffset)
def list_check_items(request: HttpRequest, filters: Query[CheckItemFilter]):
    """The 抽查事项清单 (reference data: disabled items stay, marked ``enabled: false``)."""
    items = scoped(_user(request), CheckItem.objects.prefetch_related("required_specialities"))
    if filters.kind:
        items = items.filter(kind=filters.kind)
    if filters.enabled is not None:
        items = items.filter(disabled_on__isnull=filters.enabled)
    return items.order_by("sort_order", "code")


@router.get("/inspections/check-items/{item_id}", response=CheckItemOut)
def get_check_item(request: HttpRequest, item_id: int):
    return get_scoped_or_404(
        _user(request), CheckItem.objects.prefetch_related("required_specialities"), pk=item_id
    )


@router.get("/inspections/result-codes", response=list[ResultCodeOut])
def list_result_codes(request: HttpRequest):
    """The national result categories (检查结果) a result is coded with, several per result."""
    return list(scoped(_user(request), ResultCode.objects.order_by("sort_order", "code")))


# --- plans --------------------------------------------------------------------------------------


class InspectionPlanOut(Schema):
    id: int
    owner_unit_id: int
    owner_unit: str
    year: int
    title: str
    note: str
    created_at: dt.datetime
    batches: int = Field(..., description="批次数")

    @staticmethod
    def resolve_owner_unit(obj: InspectionPlan) -> str:
        return obj.owner_unit.name

    @staticmethod
    def resolve_batches(obj: InspectionPlan) -> int:
        count = getattr(obj, "batch_count", None)
        return obj.batches.count() if count is None else count


class PlanFilter(Schema):
    year: int | None = Field(None, ge=FIRST_YEAR, le=LAST_YEAR)
    owner_unit_id: int | None = Field(None, ge=1, le=MAX_ID, description="制定单位")


class PlanIn(Schema):
    year: int = Field(..., ge=FIRST_YEAR, le=LAST_YEAR, description="年度")
    title: str = Field(..., min_length=1, max_length=200, description="计划名称")
    note: str = Field("", max_length=5000, description="说明")


def _plans(user: User) -> QuerySet[InspectionPlan]:
    return scoped(
        user,
        InspectionPlan.objects.select_related("owner_unit").annotate(batch_count=Count("batches")),
    )


@router.get("/inspections/plans", response=list[InspectionPlanOut])
@paginate(LimitOffset)
def list_plans(request: HttpRequest, filters: Query[PlanFilter]):
    """The yearly plans (年度抽查工作计划) of the caller's units, newest year first."""
    plans = _plans(_user(request))
    if filters.year is not None:
        plans = plans.filter(year=filters.year)
    if filters.owner_unit_id is not None:
        plans = plans.filter(owner_unit_id=filters.owner_unit_id)
    return plans.order_by("-year", "owner_unit__path", "title", "pk")


@router.post("/inspections/plans", response={201: InspectionPlanOut, **WRITE_RESPONSES})
def create_plan(request: HttpRequest, payload: PlanIn):
    """Create a yearly plan owned by the caller's unit (coordinator, county bureau, department).

    403 ``forbidden``; 409 a plan of that title and year exists; 422 bad fields.
    """
    user = _user(request)
    plan = services.create_plan(user, year=payload.year, title=payload.title, note=payload.note)
    return Status(201, _plans(user).get(pk=plan.pk))


@router.get("/inspections/plans/{plan_id}", response=InspectionPlanOut)
def get_plan(request: HttpRequest, plan_id: int):
    return get_scoped_or_404(_user(request), _plans(_user(request)), pk=plan_id)


# --- batches ------------------------------------------------------------------------------------


class QuotaIn(Schema):
    ratio: str | None = Field(None, pattern=r"^\d{1,3}(\.\d{1,2})?$", description="比例（%）")
    count: int | None = Field(None, ge=1, le=1_000_000, description="户数")


class PopulationFilterIn(Schema):
    region_codes: list[str] = Field(default_factory=list, max_length=50, description="区县代码")
    industry_prefixes: list[str] = Field(
        default_factory=list, max_length=100, description="行业代码前缀（GB/T 4754）"
    )
    kinds: list[str] = Field(default_factory=list, max_length=10, description="主体类型")
    statuses: list[str] = Field(default_factory=list, max_length=10, description="登记状态")


class ParticipantIn(Schema):
    unit_id: int = Field(..., ge=1, le=MAX_ID, description="参与部门")
    inspectors_per_task: int = Field(1, ge=1, le=10, description="每户派出人数")


class BatchIn(Schema):
    plan_id: int = Field(..., ge=1, le=MAX_ID)
    title: str = Field(..., min_length=1, max_length=200, description="批次名称")
    check_item_ids: list[Id] = Field(..., min_length=1, max_length=100, description="抽查事项")
    population_filter: PopulationFilterIn = Field(default_factory=PopulationFilterIn)
    quotas: dict[RiskClassKey, QuotaIn] = Field(
        ..., description="各风险类别（A–D，“-”为未分类）的抽查比例或户数"
    )
    exclude_checked_within_days: int = Field(365, ge=0, le=3650)
    min_inspectors: int = Field(2, ge=2, le=10, description="每户检查人员数（至少 2 名）")
    window_start: dt.date
    window_end: dt.date
    participants: list[ParticipantIn] = Field(
        default_factory=list, max_length=50, description="联合抽查参与部门"
    )


class ParticipantOut(Schema):
    unit_id: int
    unit: str
    inspectors_per_task: int

    @staticmethod
    def resolve_unit(obj) -> str:
        return obj.unit.name


class DrawSummaryOut(Schema):
    id: int
    attempt: int
    is_current: bool
    reason: str
    seed: str
    algorithm: str
    algorithm_version: str
    population_digest: str
    population_size: int
    selected: int
    strata: dict[str, Any]
    drawn_at: dt.datetime

    @staticmethod
    def resolve_selected(obj: Draw) -> int:
        return len(obj.selected_codes)


class BatchOut(Schema):
    id: int
    plan_id: int
    plan: str
    owner_unit: str
    number: int
    title: str
    status: str
    status_label: str
    window_start: dt.date
    window_end: dt.date
    min_inspectors: int
    created_at: dt.datetime

    @staticmethod
    def resolve_plan(obj: Batch) -> str:
        return obj.plan.title

    @staticmethod
    def resolve_owner_unit(obj: Batch) -> str:
        return obj.plan.owner_unit.name

    @staticmethod
    def resolve_status_label(obj: Batch) -> str:
        return str(BATCH_STATUS_LABELS.get(obj.status, obj.status))


class BatchDetailOut(BatchOut):
    check_items: list[dict[str, Any]]
    population_filter: dict[str, Any]
    quotas: dict[str, Any]
    exclude_checked_within_days: int
    participants: list[ParticipantOut]
    current_draw: DrawSummaryOut | None
    task_counts: dict[str, int] = Field(..., description="调用方可见的任务数，按状态")
    available_steps: list[InspectionStepOut]

    @staticmethod
    def resolve_check_items(obj: Batch) -> list[dict[str, Any]]:
        return [
            {"id": item.pk, "code": item.code, "name": item.name}
            for item in obj.check_items.order_by("sort_order", "code")
        ]

    @staticmethod
    def resolve_participants(obj: Batch) -> list[Any]:
        return list(obj.participants.select_related("unit").order_by("unit__path"))

    @staticmethod
    def resolve_current_draw(obj: Batch) -> Draw | None:
        return obj.draws.filter(is_current=True).first()

    @staticmethod
    def resolve_task_counts(obj: Batch, context) -> dict[str, int]:
        counts = dict.fromkeys(Task.Status.values, 0)
        rows = (
            scoped(context["request"].user, Task.objects.filter(batch=obj))
            .order_by()
            .values_list("status")
            .annotate(n=Count("pk"))
        )
        counts.update(dict(rows))
        return counts

    @staticmethod
    def resolve_available_steps(obj: Batch, context) -> list[dict[str, Any]]:
        return _steps(services.BATCH, obj, context["request"].user)


class BatchCreatedOut(BatchDetailOut):
    warnings: list[str] = Field(..., description="允许但值得复核的参数（如一般事项比例偏高）")


class BatchFilter(Schema):
    plan_id: int | None = Field(None, ge=1, le=MAX_ID)
    status: BatchStatus | None = None


class DrawIn(Schema):
    reason: str = Field("", max_length=2000, description="重新抽取理由（必填，随抽取记录公示）")


class CompleteIn(Schema):
    expected_state: BatchStatus | None = Field(
        None, description="调用方看到的状态；已被他人改变时拒绝（409 stale）"
    )


def _batches(user: User) -> QuerySet[Batch]:
    return scoped(user, Batch.objects.select_related("plan__owner_unit"))


def _batch_detail(user: User, batch_id: int) -> Batch:
    return get_scoped_or_404(user, _batches(user), pk=batch_id)


@router.get("/inspections/batches", response=list[BatchOut])
@paginate(LimitOffset)
def list_batches(request: HttpRequest, filters: Query[BatchFilter]):
    """The batches of the plans the caller sees (and the joint batches its unit takes part in)."""
    user = _user(request)
    batches = _batches(user)
    if filters.plan_id is not None:
        batches = batches.filter(plan_id=filters.plan_id)
    if filters.status:
        batches = batches.filter(status=filters.status)
    return batches.order_by("-plan__year", "plan_id", "number", "pk")


@router.post("/inspections/batches", response={201: BatchCreatedOut, **WRITE_RESPONSES})
def create_batch(request: HttpRequest, payload: BatchIn):
    """Add a batch (草稿) to a plan of the caller's unit: items, scope, quotas, window, joint
    departments. The same checks as the batch form (``services.check_batch_spec``):
    422 ``invalid_batch`` with the form's message; 404 ``not_found`` (the plan); 403
    ``forbidden``. ``warnings`` says what was allowed but is worth a second look."""
    user = _user(request)
    items = {i.pk: i for i in scoped(user, CheckItem.objects.filter(pk__in=payload.check_item_ids))}
    unknown = [pk for pk in payload.check_item_ids if pk not in items]
    if unknown:
        raise services.BatchInvalid(
            _("抽查事项不存在：%(ids)s") % {"ids": "、".join(map(str, unknown))},
            field="check_items",
        )
    units = OrgUnit.objects.in_bulk([p.unit_id for p in payload.participants])
    missing = [p.unit_id for p in payload.participants if p.unit_id not in units]
    if missing:
        raise services.BatchInvalid(
            _("联合参与部门不存在：%(ids)s") % {"ids": "、".join(map(str, missing))},
            field="participants",
        )
    quotas = {}
    for cls, quota in payload.quotas.items():
        if (quota.ratio is None) == (quota.count is None):
            raise services.BatchInvalid(
                _("“%(cls)s”须给出抽查比例（ratio）或户数（count）之一")
                % {"cls": services.quota_class_label(cls)},
                field=f"quota_{cls}",
            )
        quotas[cls] = (
            ("ratio", quota.ratio) if quota.ratio is not None else ("count", str(quota.count))
        )
    population = payload.population_filter
    saved = services.create_batch(
        user,
        payload.plan_id,
        services.BatchSpec(
            title=payload.title,
            check_items=[items[pk] for pk in dict.fromkeys(payload.check_item_ids)],
            region_codes=population.region_codes,
            industry_prefixes=population.industry_prefixes,
            kinds=population.kinds,
            statuses=population.statuses,
            window_start=payload.window_start,
            window_end=payload.window_end,
            quotas=quotas,
            exclude_checked_within_days=payload.exclude_checked_within_days,
            min_inspectors=payload.min_inspectors,
            participants=[(units[p.unit_id], p.inspectors_per_task) for p in payload.participants],
        ),
    )
    batch = _batch_detail(user, saved.batch.pk)
    batch.warnings = [str(w) for w in saved.warnings]
    return Status(201, batch)


@router.get("/inspections/batches/{batch_id}", response=BatchDetailOut)
def get_batch(request: HttpRequest, batch_id: int):
    return _batch_detail(_user(request), batch_id)


def _draw(user: User, batch_id: int, step: str, reason: str) -> Batch:
    """Draw (``draw``) or draw again (``redraw``): ``services.draw_batch`` takes whichever the
    batch's state calls for, so the endpoint the caller chose is checked against it first; a
    first draw is never taken for a redraw, nor the other way round."""
    batch = _batch_detail(user, batch_id)
    if batch.status not in services.BATCH.step(step).sources:
        raise workflow.StepNotAllowed(
            state_label=services.BATCH.state_label(batch.status),
            step_label=services.BATCH.step(step).label,
        )
    services.draw_batch(user, batch.pk, reason=reason)
    return _batch_detail(user, batch_id)


@router.post(
    "/inspections/batches/{batch_id}/draw", response={200: BatchDetailOut, **WRITE_RESPONSES}
)
def draw_batch(request: HttpRequest, batch_id: int):
    """Draw the batch's entities (草稿 → 已抽取): reproducible, every attempt recorded.

    422 when no entity is eligible; 409 ``step_not_allowed`` once drawn (use ``redraw``).
    """
    return _draw(_user(request), batch_id, "draw", "")


@router.post(
    "/inspections/batches/{batch_id}/redraw", response={200: BatchDetailOut, **WRITE_RESPONSES}
)
def redraw_batch(request: HttpRequest, batch_id: int, payload: Body[DrawIn] = None):
    """Draw again before assignment; the reason is required and published with the record
    (422 ``reason_required``). The earlier attempts stay visible."""
    return _draw(_user(request), batch_id, "redraw", (payload or DrawIn()).reason)


@router.post(
    "/inspections/batches/{batch_id}/assign", response={200: BatchDetailOut, **WRITE_RESPONSES}
)
def assign_batch(request: HttpRequest, batch_id: int):
    """Draw the inspectors of every task (已抽取 → 已分派): at least two each, recusal respected.

    422 when a task cannot be staffed (the message names the task and the constraint);
    nothing is assigned then.
    """
    user = _user(request)
    services.assign_batch(user, batch_id)
    return _batch_detail(user, batch_id)


@router.post(
    "/inspections/batches/{batch_id}/complete", response={200: BatchDetailOut, **WRITE_RESPONSES}
)
def complete_batch(request: HttpRequest, batch_id: int, payload: Body[CompleteIn] = None):
    """Close a batch whose every task is published (422 says how many are not)."""
    user = _user(request)
    workflow.take(
        services.BATCH,
        "complete",
        batch_id,
        by=user,
        expected_state=(payload or CompleteIn()).expected_state,
    )
    return _batch_detail(user, batch_id)


@router.get("/inspections/batches/{batch_id}/transitions", response=list[TransitionOut])
def batch_transitions(request: HttpRequest, batch_id: int):
    return workflow.history(_user(request), Batch, batch_id)


# --- draws --------------------------------------------------------------------------------------


@router.get("/inspections/batches/{batch_id}/draws", response=list[DrawSummaryOut])
def list_draws(request: HttpRequest, batch_id: int):
    """Every draw attempt of the batch, first to last (a redraw never hides an earlier one)."""
    user = _user(request)
    batch = get_scoped_or_404(user, Batch.objects.all(), pk=batch_id)
    return list(scoped(user, Draw.objects.filter(batch=batch)).order_by("attempt"))


@router.get("/inspections/draws/{draw_id}/record", response=dict[str, Any])
def draw_record(request: HttpRequest, draw_id: int):
    """The draw's ``record.json`` as ``qcity export_draw`` writes it (docs/draw-algorithm.md):
    seed, algorithm and version, parameters, population digest, selected codes in order."""
    found = get_scoped_or_404(_user(request), Draw.objects.select_related("batch"), pk=draw_id)
    return draw_module.draw_record(found)


# --- tasks --------------------------------------------------------------------------------------


class TaskEntityOut(Schema):
    id: int
    code: str
    name: str
    kind: str
    region_code: str
    industry_code: str
    address: str
    status: str
    risk_class: str


class TeamMemberOut(Schema):
    position: int
    name: str
    certificate_no: str
    unit: str

    @staticmethod
    def resolve_name(obj: TaskInspector) -> str:
        return obj.inspector.name

    @staticmethod
    def resolve_certificate_no(obj: TaskInspector) -> str:
        return obj.inspector.certificate_no

    @staticmethod
    def resolve_unit(obj: TaskInspector) -> str:
        return obj.unit.name


class TaskResultOut(Schema):
    codes: list[str]
    code_names: list[str]
    findings: str
    check_date: dt.date
    entered_by: str
    entered_at: dt.datetime

    @staticmethod
    def resolve_codes(obj) -> list[str]:
        return [c.code for c in obj.codes.order_by("sort_order", "code")]

    @staticmethod
    def resolve_code_names(obj) -> list[str]:
        return [c.name for c in obj.codes.order_by("sort_order", "code")]

    @staticmethod
    def resolve_entered_by(obj) -> str:
        return obj.entered_by.get_username()


class TaskOut(Schema):
    id: int
    batch_id: int
    batch: str
    position: int
    entity: TaskEntityOut
    owner_unit: str
    status: str
    status_label: str
    publish_due: dt.date | None = Field(..., description="公示期限：检查日期起 20 个工作日")
    publish_due_provisional: bool
    status_changed_at: dt.datetime | None

    @staticmethod
    def resolve_batch(obj: Task) -> str:
        return obj.batch.title

    @staticmethod
    def resolve_owner_unit(obj: Task) -> str:
        return obj.owner_unit.name

    @staticmethod
    def resolve_status_label(obj: Task) -> str:
        return str(TASK_STATUS_LABELS.get(obj.status, obj.status))


class TaskDetailOut(TaskOut):
    window_start: dt.date
    window_end: dt.date
    check_items: list[CheckItemOut]
    team: list[TeamMemberOut]
    result: TaskResultOut | None
    available_steps: list[InspectionStepOut]

    @staticmethod
    def resolve_window_start(obj: Task) -> dt.date:
        return obj.batch.window_start

    @staticmethod
    def resolve_window_end(obj: Task) -> dt.date:
        return obj.batch.window_end

    @staticmethod
    def resolve_check_items(obj: Task) -> list[CheckItem]:
        return list(
            obj.batch.check_items.prefetch_related("required_specialities").order_by(
                "sort_order", "code"
            )
        )

    @staticmethod
    def resolve_team(obj: Task) -> list[TaskInspector]:
        return list(obj.assignments.select_related("inspector", "unit").order_by("position"))

    @staticmethod
    def resolve_result(obj: Task) -> Result | None:
        try:
            return obj.result
        except Result.DoesNotExist:
            return None

    @staticmethod
    def resolve_available_steps(obj: Task, context) -> list[dict[str, Any]]:
        return _steps(services.TASK, obj, context["request"].user)


class TaskFilter(Schema):
    mine: bool | None = Field(None, description="true：只列分派给我的任务（执法人员）")
    status: TaskStatus | None = None
    batch_id: int | None = Field(None, ge=1, le=MAX_ID)


class ResultIn(Schema):
    codes: list[str] = Field(
        ..., min_length=1, max_length=20, description="检查结果代码（可多选，见 result-codes）"
    )
    findings: str = Field("", max_length=5000, description="检查情况（发现问题时必填）")
    check_date: dt.date = Field(..., description="检查日期")


class CorrectionIn(ResultIn):
    reason: str = Field(..., min_length=1, max_length=2000, description="更正理由")


class PublishIn(Schema):
    late_reason: str = Field("", max_length=2000, description="逾期公示理由（超过公示期限时必填）")


def _tasks(user: User) -> QuerySet[Task]:
    return scoped(user, Task.objects.select_related("batch", "entity", "owner_unit"))


def _task_detail(user: User, task_id: int) -> Task:
    return get_scoped_or_404(user, _tasks(user), pk=task_id)


@router.get("/inspections/tasks", response=list[TaskOut])
@paginate(LimitOffset)
def list_tasks(request: HttpRequest, filters: Query[TaskFilter]):
    """Tasks the caller sees: an inspector's own (仅本人), a bureau's, the coordinator's all."""
    user = _user(request)
    tasks = _tasks(user)
    if filters.mine is True:
        mine = TaskInspector.objects.filter(task=OuterRef("pk"), inspector__user=user)
        tasks = tasks.filter(Exists(mine))
    elif filters.mine is False:
        mine = TaskInspector.objects.filter(task=OuterRef("pk"), inspector__user=user)
        tasks = tasks.filter(~Exists(mine))
    if filters.status:
        tasks = tasks.filter(status=filters.status)
    if filters.batch_id is not None:
        tasks = tasks.filter(batch_id=filters.batch_id)
    return tasks.order_by("-batch__plan__year", "batch_id", "position", "pk")


@router.get("/inspections/tasks/{task_id}", response=TaskDetailOut)
def get_task(request: HttpRequest, task_id: int):
    return _task_detail(_user(request), task_id)


@router.post(
    "/inspections/tasks/{task_id}/result", response={200: TaskDetailOut, **WRITE_RESPONSES}
)
def enter_result(request: HttpRequest, task_id: int, payload: ResultIn):
    """Enter the task's result: only an inspector assigned to it (谁检查谁录入; anyone else who
    sees the task gets 403 ``forbidden``). 422 for unknown or contradictory codes, missing
    findings, a check date in the future or before the window."""
    user = _user(request)
    services.enter_result(
        user,
        task_id,
        codes=payload.codes,
        findings=payload.findings,
        check_date=payload.check_date,
    )
    return _task_detail(user, task_id)


@router.put("/inspections/tasks/{task_id}/result", response={200: TaskDetailOut, **WRITE_RESPONSES})
def correct_result(request: HttpRequest, task_id: int, payload: CorrectionIn):
    """Correct an entered, unpublished result, with a reason (an assigned inspector only)."""
    user = _user(request)
    services.correct_result(
        user,
        task_id,
        codes=payload.codes,
        findings=payload.findings,
        check_date=payload.check_date,
        reason=payload.reason,
    )
    return _task_detail(user, task_id)


@router.post(
    "/inspections/tasks/{task_id}/publish", response={200: TaskDetailOut, **WRITE_RESPONSES}
)
def publish_task(request: HttpRequest, task_id: int, payload: Body[PublishIn] = None):
    """Publish the result on the public portal (一公开). Past the 20-working-day deadline it is
    still allowed, marked late, but only with a reason (422 ``late_reason_required``)."""
    user = _user(request)
    services.publish_result(user, task_id, late_reason=(payload or PublishIn()).late_reason)
    return _task_detail(user, task_id)


@router.get("/inspections/tasks/{task_id}/transitions", response=list[TransitionOut])
def task_transitions(request: HttpRequest, task_id: int):
    return workflow.history(_user(request), Task, task_id)


# --- follow-ups ---------------------------------------------------------------------------------


class FollowUpOut(Schema):
    id: int
    task_id: int
    entity_code: str
    entity_name: str
    owner_unit: str
    status: str
    status_label: str
    opened_at: dt.datetime
    due_date: dt.date | None
    due_provisional: bool = Field(..., description="期限跨入尚未录入的年度日历时为暂定")
    resolution: str
    resolution_label: str
    outcome: str

    @staticmethod
    def resolve_resolution_label(obj: FollowUp) -> str:
        return str(obj.get_resolution_display()) if obj.resolution else ""

    @staticmethod
    def resolve_entity_code(obj: FollowUp) -> str:
        return obj.task.entity.code

    @staticmethod
    def resolve_entity_name(obj: FollowUp) -> str:
        return obj.task.entity.name

    @staticmethod
    def resolve_owner_unit(obj: FollowUp) -> str:
        return obj.owner_unit.name

    @staticmethod
    def resolve_status_label(obj: FollowUp) -> str:
        return str(FOLLOWUP_STATUS_LABELS.get(obj.status, obj.status))


class FollowUpFilter(Schema):
    status: FollowUpStatus | None = None


class CloseIn(Schema):
    resolution: Resolution = Field(
        ...,
        description="办结方式：filed 已立案查处 / rectified 已整改到位 / "
        "no_violation 经核查无违法行为 / transferred 已移送有关部门",
    )
    outcome: str = Field(..., min_length=1, max_length=5000, description="处理结果")


def _follow_ups(user: User) -> QuerySet[FollowUp]:
    return scoped(user, FollowUp.objects.select_related("task__entity", "owner_unit"))


@router.get("/inspections/follow-ups", response=list[FollowUpOut])
@paginate(LimitOffset)
def list_follow_ups(request: HttpRequest, filters: Query[FollowUpFilter]):
    """Follow-ups (发现问题待后续处理) of the caller's units, open ones first, by due date."""
    follow_ups = _follow_ups(_user(request))
    if filters.status:
        follow_ups = follow_ups.filter(status=filters.status)
    return follow_ups.order_by("status", "due_date", "pk")


@router.get("/inspections/follow-ups/{follow_up_id}", response=FollowUpOut)
def get_follow_up(request: HttpRequest, follow_up_id: int):
    return get_scoped_or_404(_user(request), _follow_ups(_user(request)), pk=follow_up_id)


@router.post(
    "/inspections/follow-ups/{follow_up_id}/close",
    response={200: FollowUpOut, **WRITE_RESPONSES},
)
def close_follow_up(request: HttpRequest, follow_up_id: int, payload: CloseIn):
    """Close a follow-up with its outcome (the owner unit)."""
    user = _user(request)
    services.close_follow_up(
        user, follow_up_id, resolution=payload.resolution, outcome=payload.outcome
    )
    return get_scoped_or_404(user, _follow_ups(user), pk=follow_up_id)
