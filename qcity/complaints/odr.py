"""ODR (在线消费纠纷解决) and 先行赔付: enterprises settle first; the clock hands back.

An entity with an enterprise account (``registry.EntityAccount``) may be enrolled in the
ODR scheme by the bureau (``enrol``; ``leave`` ends it; rows are never deleted, so who was
enrolled when stays answerable). A complaint about an enrolled entity is dispatched to it
first (``dispatch``, called by intake): status 企业自行和解中, clock ``odr.settle`` =
``COMPLAINT_ODR_WORKDAYS`` working days (a local rule, marked configured in the rulebook).
Within that time the enterprise settles (``odr_settle``: what was agreed, and an optional
amount, which becomes a ``Payment`` of kind odr) or declines (``odr_decline``, with its
reason). When the period has passed, the timer ``complaints.odr_return`` takes
``odr_return`` with ``by=TIMER``: the case goes to the bureau.

The bureau's 7-working-day clock to accept (Order 20 Art.14 / Order 121 Art.15, "自收到投诉
之日起") starts on the day the case reaches it: the day of the decline, or the day after
the ODR period's last day, even if the timer runs late (a stopped timer must not lengthen
the bureau's time). ADR 0039.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from qcity.complaints.models import Case, OdrEnrolment, Payment
from qcity.core import audit, jobs, rulebook
from qcity.core.models import Role, User
from qcity.core.scope import get_scoped_or_404, scoped
from qcity.core.workflow import Deadline, Forbidden, Invalid, NotFound
from qcity.registry.models import EntityAccount, MarketEntity

logger = logging.getLogger(__name__)

RETURN_JOB = "complaints.odr_return"
ODR_RULE = "odr.settle"
# Who enrols entities: the bureaus that handle complaints (and see the entity's register row).
ENROLLERS = frozenset({Role.COUNTY_OFFICER, Role.COORDINATOR})
MAX_AMOUNT = Decimal("9999999999.99")  # Payment.amount: 12 digits, 2 decimals


# --- who acts -------------------------------------------------------------------------------


def is_respondent_account(user: User, case: Case) -> bool:
    """The enterprise account of the complaint's respondent (never a report's)."""
    return (
        user.role == Role.ENTERPRISE
        and case.kind == Case.Kind.COMPLAINT
        and case.respondent_entity_id is not None
        and EntityAccount.objects.filter(user=user, entity_id=case.respondent_entity_id).exists()
    )


def entity_of(user: User | None) -> MarketEntity | None:
    """The market entity an enterprise account acts for, or None."""
    if user is None or not user.is_authenticated or user.role != Role.ENTERPRISE:
        return None
    account = EntityAccount.objects.filter(user=user).select_related("entity").first()
    return account.entity if account else None


# --- enrolment ------------------------------------------------------------------------------


def active_enrolment(entity_id: int, on: dt.date | None = None) -> OdrEnrolment | None:
    """The enrolment of an entity in force on ``on`` (default today), if any."""
    on = on or timezone.localdate()
    return (
        OdrEnrolment.objects.filter(entity_id=entity_id, joined_on__lte=on)
        .exclude(left_on__isnull=False, left_on__lte=on)
        .order_by("-joined_on", "-pk")
        .first()
    )


def is_enrolled(entity_id: int | None, on: dt.date | None = None) -> bool:
    return entity_id is not None and active_enrolment(entity_id, on) is not None


def _entity_for_officer(user: User, entity_id: Any) -> MarketEntity:
    if user is None or user.role not in ENROLLERS:
        raise Forbidden
    try:
        return get_scoped_or_404(user, MarketEntity.objects.all(), pk=entity_id)
    except Http404:  # outside the officer's scope looks like absent
        raise NotFound from None


def enrol(entity_id: Any, *, by: User, joined_on: dt.date | None = None) -> OdrEnrolment:
    """Enrol an entity in ODR (it must have an enterprise account to answer on its page).

    :raises Forbidden: not a bureau officer. :raises NotFound: outside their scope.
    :raises Invalid: no enterprise account, already enrolled, or a date in the future.
    """
    today = timezone.localdate()
    joined_on = joined_on or today
    with transaction.atomic():
        entity = _entity_for_officer(by, entity_id)
        if joined_on > today:
            raise Invalid(_("入驻日期不能晚于今天。"))
        if not EntityAccount.objects.filter(entity=entity).exists():
            raise Invalid(_("该企业尚未开通企业账户，不能入驻ODR（企业须在自己的页面上和解）。"))
        if OdrEnrolment.objects.filter(entity=entity, left_on__isnull=True).exists():
            raise Invalid(_("该企业已入驻ODR。"))
        try:
            with transaction.atomic():
                enrolment = OdrEnrolment.objects.create(
                    entity=entity, joined_on=joined_on, enrolled_by=by
                )
        except IntegrityError:  # a concurrent enrolment won the unique constraint
            raise Invalid(_("该企业已入驻ODR。")) from None
        audit.record(
            "complaints.odr.enrolled",
            by=by,
            obj=entity,
            details={"joined_on": joined_on.isoformat(), "enrolment": enrolment.pk},
        )
    return enrolment


def leave(entity_id: Any, *, by: User, left_on: dt.date | None = None, reason: str = "") -> None:
    """End an entity's enrolment (kept, with its dates); open ODR cases stay with it."""
    today = timezone.localdate()
    left_on = left_on or today
    with transaction.atomic():
        entity = _entity_for_officer(by, entity_id)
        enrolment = (
            OdrEnrolment.objects.select_for_update()
            .filter(entity=entity, left_on__isnull=True)
            .first()
        )
        if enrolment is None:
            raise Invalid(_("该企业未入驻ODR。"))
        if left_on > today or left_on < enrolment.joined_on:
            raise Invalid(_("退出日期须在入驻日期和今天之间。"))
        enrolment.left_on = left_on
        enrolment.save(update_fields=["left_on"])
        audit.record(
            "complaints.odr.left",
            by=by,
            obj=entity,
            details={
                "left_on": left_on.isoformat(),
                "enrolment": enrolment.pk,
                "reason": str(reason)[:300],
            },
        )


def entity_by_code(user: User, code: str) -> MarketEntity:
    """The entity with this credit code in the officer's scope (for the enrolment form)."""
    if user is None or user.role not in ENROLLERS:
        raise Forbidden
    entity = scoped(user, MarketEntity.objects.filter(code=code)).first() if code else None
    if entity is None:
        raise Invalid(_("本单位管辖范围内没有统一社会信用代码为该值的市场主体。"))
    return entity


def enrolments(user: User) -> list[OdrEnrolment]:
    """Enrolments the user may see (their scope over the entities), newest first."""
    return list(scoped(user, OdrEnrolment.objects.all()).select_related("entity", "enrolled_by"))


# --- dispatch (intake) and the clock --------------------------------------------------------


def odr_deadline(case: Case, start: dt.date) -> Deadline:
    return rulebook.deadline(ODR_RULE, start, on=case.received_on)


def dispatch(case: Case, *, on: dt.date | None = None) -> bool:
    """Send a new complaint to its enrolled respondent first (intake calls this before saving).

    Sets status ODR, ``odr`` and the ODR clock on the unsaved or saved instance; the
    caller saves it and, after commit, ``casenotices.after_dispatch`` tells the enterprise.
    Returns False (and changes nothing) when the respondent is not enrolled on that day.
    """
    on = on or case.received_on
    if case.kind != Case.Kind.COMPLAINT or not is_enrolled(case.respondent_entity_id, on):
        return False
    deadline = odr_deadline(case, on)
    case.status = Case.Status.ODR
    case.odr = True
    case.due_on, case.due_rule = deadline.due, deadline.rule
    case.due_calendar_version = str(deadline.calendar_version or "")
    return True


def handover_start(case: Case, now: dt.datetime) -> dt.date:
    """The day an ODR case reaches the bureau: today for a decline; for the timer, the day
    after the ODR period's last day (``case.due_on`` still holds it while the step runs),
    even if the timer runs late."""
    today = timezone.localtime(now).date()
    if case.status == Case.Status.ODR and case.due_rule.startswith(ODR_RULE) and case.due_on:
        return min(today, case.due_on + dt.timedelta(days=1))
    return today


def apply_handover(case: Case, user: User | None, **params: Any) -> dict[str, Any]:
    """odr_decline / odr_return: the bureau's clock starts on the day the case reaches it."""
    case.clock_started_on = handover_start(case, timezone.now())
    return {"clock_started_on": case.clock_started_on.isoformat()}


def deadline_at_bureau(case: Case, now: dt.datetime) -> Deadline:
    """The bureau's 7 working days to accept (Order 20 Art.14 / Order 121 Art.15, "自收到
    投诉之日起") run from the day the case reaches it; the version is the one the case's
    received date gives, or (COMPLAINT_PENDING_CASES_RULES = current) the day the clock starts."""
    start = case.clock_started_on or handover_start(case, now)
    return rulebook.case_deadline(case.received_on, "complaint.accept", start)


def days_left(case: Case, today: dt.date | None = None) -> int | None:
    """Working days left on an ODR case's clock (0 on its last day; negative when overdue)."""
    if case.status != Case.Status.ODR or case.due_on is None:
        return None
    from qcity.core import workdays

    today = today or timezone.localdate()
    return workdays.snapshot().between(today, case.due_on, allow_provisional=True)


# --- the steps' hooks -----------------------------------------------------------------------


def _amount(value: Any, *, required: bool) -> Decimal | None:
    text = str(value if value is not None else "").strip().replace(",", "")
    if not text:
        if required:
            raise Invalid(_("请填写金额。"))
        return None
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise Invalid(_("金额须为数字（元，最多两位小数）。")) from None
    if not amount.is_finite() or amount <= 0:
        raise Invalid(_("金额须大于零。"))
    if amount > MAX_AMOUNT or amount != amount.quantize(Decimal("0.01")):
        raise Invalid(_("金额须为数字（元，最多两位小数）。"))
    return amount.quantize(Decimal("0.01"))


def parse_day(value: Any, *, default: dt.date | None, label: str) -> dt.date | None:
    """A date from a form or the API (YYYY-MM-DD only), not in the future."""
    if value in (None, ""):
        return default
    if isinstance(value, dt.datetime):
        value = value.date()
    if not isinstance(value, dt.date):
        text = str(value).strip()
        try:
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
                raise ValueError(text)
            value = dt.date.fromisoformat(text)
        except ValueError:
            raise Invalid(_("%(what)s格式应为 YYYY-MM-DD。") % {"what": label}) from None
    if value > timezone.localdate():
        raise Invalid(_("%(what)s不能晚于今天。") % {"what": label})
    return value


def validate_settle(
    case: Case, user: User, *, agreed: str = "", amount: Any = None, paid_on: Any = None, **_p
) -> dict[str, Any]:
    agreed = str(agreed or "").strip()
    if not agreed:
        raise Invalid(_("请填写和解内容（双方约定的处理方式）。"))
    if len(agreed) > 2000:
        raise Invalid(_("和解内容不能超过2000字。"))
    money = _amount(amount, required=False)
    return {
        "agreed": agreed,
        "amount": money,
        "paid_on": parse_day(paid_on, default=timezone.localdate(), label=_("支付日期")),
    }


def apply_settle(
    case: Case, user: User, *, agreed: str, amount: Decimal | None, paid_on: dt.date, **_p
) -> dict[str, Any]:
    case.outcome, case.closed_at = Case.Outcome.ODR_SETTLED, timezone.now()
    case.outcome_note = agreed
    details: dict[str, Any] = {"agreed": agreed}
    if amount is not None:
        payment = Payment.objects.create(
            case=case,
            kind=Payment.Kind.ODR,
            amount=amount,
            paid_on=paid_on,
            note=agreed[:300],
            recorded_by=user,
        )
        case.amount_recovered = (case.amount_recovered or Decimal("0")) + amount
        details |= {"amount": str(amount), "paid_on": paid_on.isoformat(), "payment": payment.pk}
    return details


# --- payments (services.record_payment) -----------------------------------------------------


def validate_payment(
    case: Case, user: User, *, kind: str, amount: Any, paid_on: Any, note: str
) -> dict[str, Any]:
    if case.kind != Case.Kind.COMPLAINT:
        raise Invalid(_("只有投诉件可以登记赔付。"))
    enterprise = user.role == Role.ENTERPRISE
    allowed = (
        {Payment.Kind.ADVANCE} if enterprise else {Payment.Kind.ADVANCE, Payment.Kind.AGREEMENT}
    )
    if kind not in allowed:
        raise Invalid(_("赔付类型无效。"))
    if enterprise and not is_respondent_account(user, case):
        raise Forbidden
    if not enterprise and user.role not in ENROLLERS:
        raise Forbidden
    note = str(note or "").strip()
    if len(note) > 300:
        raise Invalid(_("说明不能超过300字。"))
    return {
        "kind": kind,
        "amount": _amount(amount, required=True),
        "paid_on": parse_day(paid_on, default=timezone.localdate(), label=_("支付日期")),
        "note": note,
    }


# --- the return timer -----------------------------------------------------------------------


def due_returns(now: dt.datetime) -> list[jobs.DueItem]:
    """ODR cases whose period has ended (due_on before today): one item per case and due date."""
    today = timezone.localtime(now).date()
    rows = (
        Case.objects.filter(status=Case.Status.ODR, due_on__lt=today)
        .order_by("due_on", "pk")
        .values_list("pk", "due_on")
    )
    return [
        jobs.DueItem(str(pk), due.isoformat(), {"case_id": pk, "due": due.isoformat()})
        for pk, due in rows.iterator(chunk_size=2000)
    ]


def return_to_bureau(case_id: int, due: str = "") -> str:
    """Take ``odr_return`` on one case if it is still in ODR past its period; else skip.

    Safe to run twice or in two processes: ``take`` locks the row and re-checks the state
    (a case settled, declined or already returned is ``StepNotAllowed``).
    """
    from qcity.complaints.services import COMPLAINT
    from qcity.core.workflow import TIMER, Stale, StepNotAllowed, take

    today = timezone.localdate()
    still = Case.objects.filter(pk=case_id, status=Case.Status.ODR, due_on__lt=today).values_list(
        "due_on", flat=True
    )
    due_on = still.first()
    if due_on is None or (due and due_on.isoformat() != due):
        return "skipped"
    try:
        take(COMPLAINT, "odr_return", case_id, by=TIMER, expected_state=Case.Status.ODR)
    except (StepNotAllowed, Stale, NotFound):  # settled, declined or returned in between
        return "skipped"
    return "returned"


@task()
def odr_return_task(case_id: int, due: str = "") -> str:
    return return_to_bureau(case_id, due)


def register() -> None:
    jobs.register_timer(RETURN_JOB, due_returns, odr_return_task)


# --- reads for the enterprise's pages -------------------------------------------------------


def inbox(user: User) -> list[Case]:
    """Complaints about the user's own entity: those in ODR first (soonest due), then newest.

    ``days_left`` (working days) is set on the ODR ones. Reports and leads never appear
    (``Case.scope_self_q``), nor does anything about a linked case.
    """
    rows = list(
        scoped(user, Case.objects.filter(kind=Case.Kind.COMPLAINT))
        .only(
            "pk",
            "number",
            "kind",
            "status",
            "outcome",
            "received_on",
            "received_at",
            "due_on",
            "goods",
            "request",
            "odr",
            "respondent_entity_id",
        )
        .order_by("-received_at", "-pk")[:500]
    )
    today = timezone.localdate()
    for case in rows:
        case.days_left = days_left(case, today)
    waiting = sorted((c for c in rows if c.status == Case.Status.ODR), key=lambda c: c.due_on)
    return waiting + [c for c in rows if c.status != Case.Status.ODR]


def enterprise_case(user: User, pk: Any) -> Case:
    """One complaint about the user's entity, or Http404 (a report looks like nothing)."""
    return get_scoped_or_404(
        user, Case.objects.filter(kind=Case.Kind.COMPLAINT).select_related("category"), pk=pk
    )


def enterprise_view(user: User, case: Case) -> dict[str, Any]:
    """What the respondent may read of its complaint: the complainant masked, never in full."""
    from qcity.complaints.models import CaseNotice
    from qcity.core import pii

    try:
        phone = pii.mask_phone(pii.decrypt(case.person_phone)) if case.person_phone else ""
    except pii.PiiKeyProblem:
        phone = "***"
    return {
        "case": case,
        "person_name": pii.mask_name(case.person_name),
        "person_phone": phone,
        "days_left": days_left(case),
        "may_settle": case.status == Case.Status.ODR,
        "notices": scoped(user, CaseNotice.objects.filter(case=case)).order_by("created_at", "pk"),
        "payments": scoped(user, Payment.objects.filter(case=case)).order_by("paid_on", "pk"),
        "today": timezone.localdate(),
    }
