"""The 12315 JSON API (/api/v1/complaints/…): intake with Idempotency-Key, cases, steps.

- ``POST complaints/submissions``: one submission through ``intake.submit`` (the same
  service as the portal form and the staff page), for a platform or hotline system with an
  API token (a county bureau's or the city bureau's account). The optional
  ``Idempotency-Key`` header makes a retry safe: the same key with the same body answers
  200 with the first submission's cases and ``replayed: true``; the same key with another
  body is 409 ``idempotency_conflict``. Refusals are 422 with intake's stable code and the
  ``field`` at fault (``missing_field``, ``invalid_phone``, ``invalid_credit_code`` …).
- ``GET complaints/cases`` and ``…/cases/{number}``: through the data scope (a county
  sees its own cases; an enterprise the complaints about itself, never a report or a
  lead; out of scope is 404 like absent). Personal data is always masked here: the full
  identity is shown only on the handling officer's page, and each showing is logged.
- ``POST complaints/cases/{number}/steps/{step}``: ``core.workflow.take`` (locked,
  checked, audited), refusals with the ``WorkflowError`` codes.
- ``GET complaints/cases/{number}/history``: the case's transitions.
"""

import base64
import binascii
import datetime as dt
from typing import Annotated, Any, Literal

from django.core.files.base import ContentFile
from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Header, Query, Router, Schema, Status
from ninja.pagination import paginate

from qcity.complaints import intake, services
from qcity.complaints.models import Case
from qcity.core import pii, workflow
from qcity.core.api import TransitionOut
from qcity.core.models import Role, User
from qcity.core.paging import LimitOffset
from qcity.core.ratelimit import client_ip
from qcity.core.scope import get_scoped_or_404, may_change, scoped

router = Router(tags=["complaints"])

# Who may file through the API: the bureaus' own accounts (a hotline or platform system
# is given one by the security admin, with a token).
SUBMITTERS = frozenset({Role.COORDINATOR, Role.COUNTY_OFFICER})
OFFICERS = services.OFFICERS
CaseKind = Literal[tuple(Case.Kind.values)]
CaseStatus = Literal[tuple(Case.Status.values)]
Number = Annotated[str, Field(min_length=1, max_length=24, pattern=r"^[A-Za-z0-9-]+$")]
StepName = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[a-z_]+$")]
# Parameters of a step reach its validate/apply hooks by name; these are take()'s own.
RESERVED_PARAMS = frozenset(
    {"by", "reason", "expected_state", "obj_or_pk", "workflow", "step_name"}
)
STATUS_LABELS = dict(Case.Status.choices)
KIND_LABELS = dict(Case.Kind.choices)
OUTCOME_LABELS = dict(Case.Outcome.choices)


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


# --- errors -----------------------------------------------------------------------------------


class ComplaintError(Schema):
    """A refusal: the stable ``code``, the Chinese ``message``, the ``field`` at fault.

    ``errors`` lists every problem: ``{code, message, field}`` for intake's refusals, the
    validator's ``{loc, msg, type}`` for a malformed request (422 ``invalid_request``).
    """

    code: str
    message: str
    field: str = ""
    errors: list[dict] | None = None


def _refusal(exc: intake.IntakeRefused) -> Status:
    status = 409 if exc.code == "idempotency_conflict" else 422
    return Status(
        status,
        {
            "code": exc.code,
            "message": exc.message,
            "field": exc.field,
            "errors": [
                {"code": e.code, "message": e.message, "field": e.field} for e in exc.errors
            ],
        },
    )


# --- intake -----------------------------------------------------------------------------------


class ComplaintAttachmentIn(Schema):
    name: str = Field(..., min_length=1, max_length=200, description="文件名（含扩展名）")
    content_base64: str = Field(..., description="文件内容，Base64 编码")


class ComplaintSubmissionIn(Schema):
    """One submission; the fields are those of the public form (intake.submit)."""

    kinds: Literal["complaint", "report", "both"] = Field(
        "complaint", description="complaint 投诉 / report 举报 / both 既投诉又举报（两件关联）"
    )
    channel: Literal["api", "platform"] = Field(
        "api", description="api 本接口 / platform 全国12315平台转来"
    )
    received_at: dt.datetime | None = Field(
        None, description="接收时间（平台转来时为平台接收时间）；默认为现在"
    )
    anonymous: bool = False
    person_name: str = ""
    person_phone: str = ""
    person_id_number: str = ""
    person_address: str = ""
    consents_to_publication: bool = False
    respondent_code: str = Field("", description="被投诉（举报）人统一社会信用代码")
    respondent_name: str = ""
    respondent_address: str = ""
    platform_code: str = ""
    platform_name: str = ""
    category: str = Field("", description="商品服务类别代码")
    issue_type: str = Field("", description="问题类别代码")
    goods: str = ""
    request: str = ""
    facts: str = ""
    amount: str | None = Field(None, description='涉及金额（元），如 "299.00"')
    incident_on: str | None = Field(None, description="消费（发现）日期，YYYY-MM-DD")
    attachments: list[ComplaintAttachmentIn] = Field(default_factory=list)


class ComplaintCaseBrief(Schema):
    number: str
    kind: str
    kind_label: str
    status: str
    status_label: str
    owner_unit: str
    due_on: dt.date | None
    due_rule: str

    @staticmethod
    def resolve_kind_label(obj: Case) -> str:
        return str(KIND_LABELS.get(obj.kind, obj.kind))

    @staticmethod
    def resolve_status_label(obj: Case) -> str:
        return str(STATUS_LABELS.get(obj.status, obj.status))

    @staticmethod
    def resolve_owner_unit(obj: Case) -> str:
        return obj.owner_unit.name


class ComplaintSubmissionOut(Schema):
    replayed: bool
    receipt_code: str = Field(
        ..., description="查询码：与编号一起在门户网站查询办理进度；只在此处给出"
    )
    received_at: dt.datetime
    cases: list[ComplaintCaseBrief]


def _attachments(items: list[ComplaintAttachmentIn]) -> list[ContentFile]:
    files = []
    for i, item in enumerate(items):
        try:
            content = base64.b64decode(item.content_base64, validate=True)
        except (binascii.Error, ValueError):
            raise intake.IntakeRefused(
                "invalid_attachment",
                f"附件“{item.name}”的内容不是有效的 Base64",
                f"attachments.{i}",
            ) from None
        files.append(ContentFile(content, name=item.name))
    return files


@router.post(
    "/complaints/submissions",
    response={
        200: ComplaintSubmissionOut,
        201: ComplaintSubmissionOut,
        403: ComplaintError,
        409: ComplaintError,
        422: ComplaintError,
    },
)
def submit(
    request: HttpRequest,
    payload: ComplaintSubmissionIn,
    idempotency_key: str = Header("", alias="Idempotency-Key", max_length=100),
):
    """File a complaint, a report or both (201); a replayed ``Idempotency-Key`` answers 200."""
    user = _user(request)
    if user.role not in SUBMITTERS:
        return Status(403, {"code": "forbidden", "message": "该账户无权提交投诉举报"})
    fields = payload.model_dump(exclude={"attachments", "channel", "received_at"})
    try:
        result = intake.submit(
            fields,
            channel=payload.channel,
            by=user,
            client=user,
            idempotency_key=idempotency_key,
            files=_attachments(payload.attachments),
            received_at=payload.received_at,
            ip=client_ip(request),
        )
    except intake.IntakeRefused as exc:
        return _refusal(exc)
    body = {
        "replayed": result.replayed,
        "receipt_code": result.receipt_code,
        "received_at": result.submission.received_at,
        "cases": result.cases,
    }
    return Status(200 if result.replayed else 201, body)


# --- cases ------------------------------------------------------------------------------------


def _masked_phone(token: str) -> str:
    try:
        return pii.mask_phone(pii.decrypt(token))
    except pii.PiiKeyProblem:
        return "***"


def _masked_id(token: str) -> str:
    try:
        return pii.mask_id_number(pii.decrypt(token))
    except pii.PiiKeyProblem:
        return "***"


class ComplaintPersonOut(Schema):
    """The complainant or reporter, masked (full identity: the officer's page, logged)."""

    anonymous: bool
    name: str
    phone: str
    id_number: str
    erased: bool


class ComplaintCaseOut(ComplaintCaseBrief):
    # number, kind, status, owner unit and deadline (with their labels) come from the brief.
    outcome: str
    outcome_label: str
    received_at: dt.datetime
    received_on: dt.date
    rules: str
    respondent_name: str
    respondent_code: str
    platform_name: str
    category: str
    issue_type: str
    goods: str
    amount: str | None
    odr: bool
    person: ComplaintPersonOut

    @staticmethod
    def resolve_outcome_label(obj: Case) -> str:
        return str(OUTCOME_LABELS.get(obj.outcome, obj.outcome)) if obj.outcome else ""

    @staticmethod
    def resolve_category(obj: Case) -> str:
        return obj.category.name if obj.category_id else ""

    @staticmethod
    def resolve_issue_type(obj: Case) -> str:
        return obj.issue_type.name if obj.issue_type_id else ""

    @staticmethod
    def resolve_amount(obj: Case) -> str | None:
        return None if obj.amount is None else str(obj.amount)

    @staticmethod
    def resolve_person(obj: Case) -> dict[str, Any]:
        return {
            "anonymous": obj.anonymous,
            "name": pii.mask_name(obj.person_name),
            "phone": _masked_phone(obj.person_phone),
            "id_number": _masked_id(obj.person_id_number),
            "erased": obj.personal_data_erased_at is not None,
        }


class ComplaintStepOut(Schema):
    name: str
    label: str
    reason_required: bool


class ComplaintCaseDetailOut(ComplaintCaseOut):
    request: str
    facts: str
    incident_on: dt.date | None
    respondent_address: str
    mediation_mode: str
    accepted_on: dt.date | None
    amount_recovered: str | None
    closed_at: dt.datetime | None
    linked_case: str | None = Field(
        None, description="同一次提交的另一件（投诉与举报），仅当调用者有权查看时给出"
    )
    available_steps: list[ComplaintStepOut]

    @staticmethod
    def resolve_amount_recovered(obj: Case) -> str | None:
        return None if obj.amount_recovered is None else str(obj.amount_recovered)

    @staticmethod
    def resolve_linked_case(obj: Case, context) -> str | None:
        # A complaint's enterprise must not learn that the same person also reported it:
        # the link is shown only to whom the other case is visible.
        if obj.linked_case_id is None:
            return None
        user = context["request"].user
        linked = scoped(user, Case.objects.filter(pk=obj.linked_case_id))
        return linked.values_list("number", flat=True).first()

    @staticmethod
    def resolve_available_steps(obj: Case, context) -> list[dict[str, Any]]:
        user = context["request"].user
        if not may_change(user, obj):
            return []
        return [
            {"name": s.name, "label": str(s.label), "reason_required": s.reason_required}
            for s in services.workflow_for(obj).available_steps(obj, user)
        ]


class ComplaintCaseFilter(Schema):
    kind: CaseKind | None = None
    status: CaseStatus | None = None
    received_from: dt.date | None = Field(None, description="收到日期不早于")
    received_to: dt.date | None = Field(None, description="收到日期不晚于")
    respondent_code: str | None = Field(None, max_length=18)
    phone: str | None = Field(
        None, max_length=30, description="投诉（举报）人电话，精确匹配（仅承办人员可用）"
    )


def _cases(user: User) -> QuerySet[Case]:
    return scoped(
        user, Case.objects.select_related("owner_unit", "category", "issue_type")
    ).order_by("-received_at", "-id")


@router.get("/complaints/cases", response=list[ComplaintCaseOut])
@paginate(LimitOffset)
def list_cases(request: HttpRequest, filters: Query[ComplaintCaseFilter]):
    """The cases in the caller's data scope, newest first, personal data masked."""
    user = _user(request)
    rows = _cases(user)
    if filters.kind:
        rows = rows.filter(kind=filters.kind)
    if filters.status:
        rows = rows.filter(status=filters.status)
    if filters.received_from:
        rows = rows.filter(received_on__gte=filters.received_from)
    if filters.received_to:
        rows = rows.filter(received_on__lte=filters.received_to)
    if filters.respondent_code:
        rows = rows.filter(respondent_code=filters.respondent_code.strip().upper())
    if filters.phone:
        # An exact-match lookup would let anyone else confirm a masked phone's hidden
        # digits by trying them all: only the bureaus' officers may search by phone.
        if user.role not in OFFICERS:
            return rows.none()
        rows = rows.filter(person_phone_index=pii.blind_index("phone", filters.phone))
    return rows


def _case(user: User, number: str) -> Case:
    rows = Case.objects.select_related("owner_unit", "category", "issue_type")
    return get_scoped_or_404(user, rows, number=number)


@router.get("/complaints/cases/{number}", response=ComplaintCaseDetailOut)
def get_case(request: HttpRequest, number: Number):
    return _case(_user(request), number)


class ComplaintStepIn(Schema):
    reason: str = Field("", max_length=2000)
    expected_state: CaseStatus | None = Field(
        None, description="调用者看到的状态；状态已变则 409 stale"
    )
    params: dict[str, str | int | float | bool | None] = Field(
        default_factory=dict, description="该步骤的参数（如 ground、to_unit、mode）"
    )


STEP_RESPONSES: dict[int, Any] = {
    200: TransitionOut,
    403: ComplaintError,
    404: ComplaintError,
    409: ComplaintError,
    422: ComplaintError,
}


@router.post("/complaints/cases/{number}/steps/{step}", response=STEP_RESPONSES)
def take_step(request: HttpRequest, number: Number, step: StepName, payload: ComplaintStepIn):
    """Take one workflow step (受理, 不予受理, 调解 …) on a case; refusals keep their codes."""
    user = _user(request)
    case = _case(user, number)
    flow = services.workflow_for(case)
    try:
        flow.step(step)
    except LookupError:
        return Status(
            422,
            {
                "code": "unknown_step",
                "message": f"该件没有“{step}”这一步骤",
                "field": "step",
            },
        )
    reserved = RESERVED_PARAMS & set(payload.params)
    if reserved:
        return Status(
            422,
            {
                "code": "invalid_request",
                "message": f"参数名 {'、'.join(sorted(reserved))} 不可用",
                "field": "params",
            },
        )
    return workflow.take(
        flow,
        step,
        case.pk,
        by=user,
        reason=payload.reason,
        expected_state=payload.expected_state,
        **payload.params,
    )


@router.get(
    "/complaints/cases/{number}/history",
    response={200: list[TransitionOut], 404: ComplaintError},
)
def case_history(request: HttpRequest, number: Number):
    user = _user(request)
    case = _case(user, number)
    return workflow.history(user, Case, case.pk)
