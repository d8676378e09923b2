"""Acceptance to outcome of a complaint: the hooks of the COMPLAINT workflow's steps.

Each hook is called by ``core.workflow.take`` inside its transaction, on the locked case:
``validate_*`` refuses bad parameters before anything is written (``Invalid`` or one of the
specific subclasses below, each with a stable code), ``apply_*`` makes the step's own changes
and returns the details kept in the history row and the audit event. The notice writer
(``casenotices.after_step``) reads those details, so their keys are a contract:

- ``refuse``: ``ground``, ``ground_text``, ``article``, ``rules``, ``routes`` (codes),
  ``routes_text`` and ``routes_basis`` (the other ways to settle the dispute, 消保法 Art.39);
- ``terminate``: ``ground``, ``ground_text``, ``article``, ``rules``;
- ``mediate``: ``mode``, ``mediator``, and for entrusted mediation ``entrusted_to``;
- ``agree``: ``agreement_kind``, ``amount_recovered``, ``attachment``.

Which grounds a case may use is decided by its received date (``core.rulebook.grounds``):
Order 20 Art.15 / Art.21(1) before 2026-04-15, Order 121 Art.16 / Art.23(1) from then.
The mediation clock runs from ``accepted_on`` with the rule of the case's rules; time off
the clock (appraisal and testing, a recusal application awaiting its decision) is counted
in the rule's own unit and added to ``suspended_days`` when the case resumes (ADR 0038).
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from qcity.complaints.models import Case, Recusal, Suspension
from qcity.core import audit, files, rulebook, workdays
from qcity.core.models import Role, User
from qcity.core.scope import get_for_write
from qcity.core.workflow import Deadline, Forbidden, Invalid, NotFound
from qcity.registry.models import Conflict

# 《消费者权益保护法》第三十九条: the ways to settle a consumer dispute. A refusal under
# Order 121 Art.15 (and, since 2024-07-01, 实施条例 Art.46(2)) must name the other ones.
ROUTES = (
    ("negotiate", "与经营者协商和解"),
    ("association", "请求消费者协会或者依法成立的其他调解组织调解"),
    ("complaint", "向有关行政部门投诉"),
    ("arbitration", "根据与经营者达成的仲裁协议提请仲裁机构仲裁"),
    ("litigation", "向人民法院提起诉讼"),
)
ROUTES_BASIS_ORDER121 = (
    "《市场监督管理投诉举报处理办法》第十五条、《中华人民共和国消费者权益保护法》第三十九条"
)
ROUTES_BASIS_REGULATION = "《消费者权益保护法实施条例》第四十六条第二款"
# The termination ground that the mediation period's end gives (第五项 in both Orders).
GROUND_PERIOD_ENDED = "5"
MAX_AMOUNT = Decimal("9999999999.99")  # Case.amount_recovered: 12 digits, 2 decimals
# Who may mediate: the bureau's officers and the inspectors of its stations (市场监管所);
# never the 三员 administrators or another department's liaison, whatever their unit.
MEDIATOR_ROLES = frozenset({Role.COUNTY_OFFICER, Role.COORDINATOR, Role.INSPECTOR})


class MediatorConflict(Invalid):
    """The chosen mediator must recuse: a declared conflict or a granted recusal."""

    code = "mediator_conflict"


class GroundNotInRules(Invalid):
    """The ground is not one the case's rules enumerate (or belongs to the other Order)."""

    code = "ground_not_in_rules"


class PeriodNotEnded(Invalid):
    """Ground (5), the mediation period's end, used before the period has ended."""

    code = "mediation_period_not_ended"


def _today() -> dt.date:
    return timezone.localdate()


def _date(value: Any, label: str, *, default: dt.date) -> dt.date:
    """A date parameter (a date or ``YYYY-MM-DD``); never in the future."""
    if value in (None, ""):
        return default
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    if not isinstance(value, dt.date):
        try:
            value = dt.date.fromisoformat(str(value).strip())
        except ValueError:
            raise Invalid(
                _("%(field)s不是有效日期（格式：2026-06-01）") % {"field": label}
            ) from None
    if value > _today():
        raise Invalid(_("%(field)s不能晚于今天") % {"field": label})
    return value


def _flag(value: Any) -> bool:
    """A yes/no parameter from a form, the API or Python."""
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "on", "yes", "是"}
    return bool(value)


def _text(value: Any, label: str, limit: int, *, required: bool) -> str:
    text = str(value or "").strip()
    if required and not text:
        raise Invalid(_("请填写%(field)s") % {"field": label})
    if len(text) > limit:
        raise Invalid(_("%(field)s不能超过%(limit)s个字") % {"field": label, "limit": limit})
    return text


# --- the clocks -----------------------------------------------------------------------------


def _mediation_rule_deadline(case: Case, suspended: int) -> Deadline:
    start = case.accepted_on or _today()
    return rulebook.case_deadline(
        case.received_on, "complaint.mediation", start, suspended=suspended
    )


def mediation_deadline(case: Case, now: dt.datetime) -> Deadline:
    """The mediation period of the case's rules, from acceptance, plus the days off the clock.

    Order 20 Art.21(1)(5): 45 working days; Order 121 Art.23(1)(5): 60 days (or the
    regulation's 60 days, ``COMPLAINT_MEDIATION_FROM_2024``).
    """
    return _mediation_rule_deadline(case, case.suspended_days)


def termination_notice_deadline(case: Case, now: dt.datetime) -> Deadline:
    """Tell both parties within 7 working days of the termination decision (Art.21(2)/23(2))."""
    return rulebook.case_deadline(
        case.received_on, "complaint.termination_notice", timezone.localtime(now).date()
    )


def days_off_clock(case: Case, started_on: dt.date, ended_on: dt.date) -> int:
    """The days between ``started_on`` and ``ended_on`` in the mediation rule's unit.

    Counted as a period is (Art.45): the start day is not, the end day is. Working days
    for Order 20's 45 working days, calendar days for the 60 days of Order 121.
    """
    # The version the mediation clock uses (rulebook.case_deadline), so the units agree.
    on = rulebook.rules_date(case.received_on, case.accepted_on)
    unit = rulebook.rule("complaint.mediation", on).unit
    if unit == "workdays":
        return max(0, workdays.snapshot().between(started_on, ended_on, allow_provisional=True))
    return max(0, (ended_on - started_on).days)


def _open_suspension(case: Case) -> Suspension | None:
    return case.suspensions.filter(ended_on__isnull=True).order_by("-started_on", "-id").first()


def _close_suspension(case: Case, ended_on: dt.date) -> Suspension | None:
    """End the running suspension, if any, and add its days to the case's total."""
    open_one = _open_suspension(case)
    if open_one is None:
        return None
    open_one.ended_on = max(ended_on, open_one.started_on)
    open_one.days = days_off_clock(case, open_one.started_on, open_one.ended_on)
    open_one.save(update_fields=["ended_on", "days"])
    case.suspended_days += open_one.days
    return open_one


# --- accept ---------------------------------------------------------------------------------


def apply_accept(case: Case, user: User, **params: Any) -> dict[str, Any]:
    """受理: the mediation clock starts on the day of acceptance."""
    case.accepted_on = _today()
    # The acceptance-on-time rate (Order 20 Art.14, Order 121 Art.15) reads this; None when
    # the case ran no acceptance clock (a row written without intake).
    on_time = None if case.due_on is None else case.accepted_on <= case.due_on
    return {
        "accepted_on": case.accepted_on.isoformat(),
        "accept_due": case.due_on.isoformat() if case.due_on else None,
        "on_time": on_time,
    }


# --- grounds (refuse, terminate) ------------------------------------------------------------


def _ground(name: str, case: Case, ground: Any) -> tuple[str, rulebook.Grounds]:
    allowed = rulebook.grounds(name, case.received_on)
    code = str(ground or "").strip()
    if not code:
        raise GroundNotInRules(
            _("请选择%(source)s%(article)s规定的情形之一")
            % {"source": _rules_title(case), "article": allowed.article}
        )
    if code not in dict(allowed.items):
        raise GroundNotInRules(
            _("情形“%(ground)s”不是%(source)s%(article)s规定的情形（本件适用该规章）")
            % {"ground": code, "source": _rules_title(case), "article": allowed.article}
        )
    return code, allowed


def _rules_title(case: Case) -> str:
    return rulebook.VERSION_LABELS.get(rulebook.version_on(case.received_on), "")


def _ground_details(case: Case, code: str, allowed: rulebook.Grounds) -> dict[str, Any]:
    return {
        "ground": code,
        "ground_text": allowed.label(code),
        "article": allowed.article,
        "rules": allowed.version,
    }


def routes_required(case: Case) -> bool:
    """Must a refusal name the other routes? Order 121 Art.15; 实施条例 Art.46(2) from 2024-07-01."""
    return (
        rulebook.version_on(case.received_on) == rulebook.ORDER121
        or _today() >= rulebook.REGULATION_FROM
    )


def _routes(value: Any) -> list[str]:
    if value in (None, ""):
        return []
    items = value.split(",") if isinstance(value, str) else list(value)
    known = dict(ROUTES)
    codes: list[str] = []
    for item in items:
        code = str(item).strip()
        if not code:
            continue
        if code not in known:
            raise Invalid(_("未知的争议解决途径：%(code)s") % {"code": code[:20]})
        if code not in codes:
            codes.append(code)
    # In the order of Art.39, whatever order they were ticked in.
    return [code for code, _label in ROUTES if code in codes]


def validate_refusal(case: Case, user: User, **params: Any) -> dict[str, Any]:
    """不予受理: exactly one ground of the case's rules; the other routes where required."""
    code, _allowed = _ground("complaint.refusal", case, params.get("ground"))
    routes = _routes(params.get("routes"))
    if not routes and routes_required(case):
        # The notice must name them; unless the officer narrowed them, it names all five.
        routes = [code for code, _label in ROUTES]
    return {"ground": code, "routes": routes}


def apply_refusal(
    case: Case, user: User, *, ground: str, routes: list[str], **params: Any
) -> dict[str, Any]:
    allowed = rulebook.grounds("complaint.refusal", case.received_on)
    case.outcome, case.outcome_ground, case.closed_at = Case.Outcome.REFUSED, ground, timezone.now()
    labels = dict(ROUTES)
    basis = ""
    if routes:
        order121 = rulebook.version_on(case.received_on) == rulebook.ORDER121
        basis = ROUTES_BASIS_ORDER121 if order121 else ROUTES_BASIS_REGULATION
    return {
        **_ground_details(case, ground, allowed),
        "routes": routes,
        "routes_text": [labels[code] for code in routes],
        "routes_basis": basis,
    }


def validate_termination(case: Case, user: User, **params: Any) -> dict[str, Any]:
    """终止调解: one ground of the case's rules; ground (5) only once the period has ended."""
    code, _allowed = _ground("complaint.termination", case, params.get("ground"))
    # Without an acceptance date (a row not accepted through ``accept``) there is no period
    # to measure, so the officer's reading stands.
    if code == GROUND_PERIOD_ENDED and case.accepted_on is not None:
        running = _open_suspension(case)
        suspended = case.suspended_days
        if running is not None:
            suspended += days_off_clock(case, running.started_on, _today())
        due = _mediation_rule_deadline(case, suspended).due
        if _today() <= due:
            raise PeriodNotEnded(
                _("调解期限至%(due)s届满，届满前不能以“期满未达成调解协议”终止调解")
                % {"due": due.isoformat()}
            )
    return {"ground": code}


def apply_termination(case: Case, user: User, *, ground: str, **params: Any) -> dict[str, Any]:
    allowed = rulebook.grounds("complaint.termination", case.received_on)
    closed = _close_suspension(case, _today())
    case.outcome, case.outcome_ground = Case.Outcome.TERMINATED, ground
    details = _ground_details(case, ground, allowed)
    if closed is not None:
        details["suspension_ended"] = closed.ended_on.isoformat()
    return details


# --- mediate, mediator, recusal -------------------------------------------------------------


def _mediator(case: Case, value: Any, *, default: User | None) -> User:
    """A mediator for this case: an active user of the owner unit (or a unit below it)."""
    if value in (None, ""):
        if default is None:
            raise Invalid(_("请选择调解人员"))
        chosen = default
    elif isinstance(value, User):
        chosen = value
    else:
        key = str(value).strip()
        # A key past the column's range would be a database error on PostgreSQL, not a 422.
        valid = key.isascii() and key.isdigit() and int(key) < 2**63
        chosen = User.objects.select_related("unit").filter(pk=int(key)).first() if valid else None
        if chosen is None:
            raise Invalid(_("调解人员不存在"))
    unit = chosen.unit
    if (
        not chosen.is_active
        or chosen.role not in MEDIATOR_ROLES
        or unit is None
        or not unit.is_within(case.owner_unit)
    ):
        raise Invalid(
            _("调解人员须为承办单位（%(unit)s）的在岗人员") % {"unit": case.owner_unit.name}
        )
    _check_recusal(case, chosen)
    return chosen


def _check_recusal(case: Case, mediator: User) -> None:
    """Refuse a mediator who must recuse (Order 20 Art.19, Order 121 Art.21)."""
    if case.recusals.filter(mediator=mediator, granted=True).exists():
        raise MediatorConflict(
            _("%(name)s已在本件中回避，不能担任调解人员") % {"name": mediator.full_name}
        )
    if case.respondent_entity_id is not None:
        conflict = Conflict.objects.filter(
            inspector__user=mediator,
            entity_id=case.respondent_entity_id,
            withdrawn_at__isnull=True,
        ).first()
        if conflict is not None:
            raise MediatorConflict(
                _("%(name)s与被投诉人%(entity)s存在回避情形（%(reason)s），应当回避")
                % {
                    "name": mediator.full_name,
                    "entity": case.respondent_name,
                    "reason": conflict.reason,
                }
            )


def validate_mediation(case: Case, user: User, **params: Any) -> dict[str, Any]:
    """开始调解: the mode, the mediator, and for entrusted mediation the association and consent.

    Entrusting the mediation to a 消费者协会 needs both parties' consent (实施条例 Art.46(4)).
    """
    mode = str(params.get("mode") or Case.MediationMode.ONSITE)
    if mode not in {m.value for m in Case.MediationMode if m.value}:
        raise Invalid(_("调解方式无效：请选择现场调解、远程调解或委托消费者协会调解"))
    cleaned: dict[str, Any] = {"mode": mode, "entrusted_to": "", "consented_on": None}
    if mode == Case.MediationMode.ENTRUSTED:
        cleaned["entrusted_to"] = _text(
            params.get("entrusted_to"), _("受托调解组织名称"), 200, required=True
        )
        if not (
            _flag(params.get("complainant_consents")) and _flag(params.get("respondent_consents"))
        ):
            raise Invalid(_("委托消费者协会调解须经投诉人和被投诉人双方同意"))
        cleaned["consented_on"] = _date(params.get("consented_on"), _("同意日期"), default=_today())
    cleaned["mediator"] = _mediator(case, params.get("mediator"), default=user)
    return cleaned


def apply_mediation(
    case: Case,
    user: User,
    *,
    mode: str,
    mediator: User,
    entrusted_to: str = "",
    consented_on: dt.date | None = None,
    **params: Any,
) -> dict[str, Any]:
    case.mediation_mode, case.mediator = mode, mediator
    case.entrusted_to, case.entrustment_consented_on = entrusted_to, consented_on
    details: dict[str, Any] = {"mode": mode, "mediator": mediator.pk}
    if entrusted_to:
        details["entrusted_to"] = entrusted_to
        details["consented_on"] = consented_on.isoformat() if consented_on else None
    return details


def _recusal_reason(case: Case, params: dict[str, Any]) -> str:
    """回避事由: given on its own, or else the step's reason (``take`` hands it to the hooks)."""
    given = params.get("recusal_reason") or getattr(case, "step_reason", "")
    return _text(given, _("回避事由"), 300, required=True)


def validate_mediator_change(case: Case, user: User, **params: Any) -> dict[str, Any]:
    """更换调解人员: the current one recuses, on their own declaration or a party's application."""
    new = _mediator(case, params.get("mediator"), default=None)
    if new.pk == case.mediator_id:
        raise Invalid(_("请选择另一名调解人员"))
    return {
        "mediator": new,
        "applied_by_party": _flag(params.get("applied_by_party")),
        "recusal_reason": _recusal_reason(case, params),
    }


def apply_mediator_change(
    case: Case,
    user: User,
    *,
    mediator: User,
    applied_by_party: bool,
    recusal_reason: str,
    **params: Any,
) -> dict[str, Any]:
    old = case.mediator
    if old is not None:
        Recusal.objects.create(
            case=case,
            mediator=old,
            applied_by_party=applied_by_party,
            reason=recusal_reason,
            granted=True,
            decided_by=user,
            at=timezone.now(),
        )
    case.mediator = mediator
    return {
        "from_mediator": old.pk if old else None,
        "mediator": mediator.pk,
        "applied_by_party": applied_by_party,
    }


# --- suspend and resume ---------------------------------------------------------------------


def validate_suspension(case: Case, user: User, **params: Any) -> dict[str, Any]:
    """中止计时: appraisal or testing, or a party's recusal application awaiting its decision."""
    kind = str(params.get("kind") or "")
    if kind not in Suspension.Reason.values:
        raise Invalid(_("请选择中止原因：检定检验检测鉴定，或回避申请待决定"))
    started_on = _date(params.get("started_on"), _("中止开始日期"), default=_today())
    if case.accepted_on and started_on < case.accepted_on:
        raise Invalid(_("中止开始日期不能早于受理日期"))
    last_end = (
        case.suspensions.exclude(ended_on__isnull=True)
        .order_by("-ended_on")
        .values_list("ended_on", flat=True)
        .first()
    )
    if last_end is not None and started_on < last_end:
        raise Invalid(_("中止开始日期不能早于上一次中止的结束日期"))
    cleaned = {
        "kind": kind,
        "started_on": started_on,
        "note": _text(params.get("note"), _("说明"), 300, required=False),
    }
    if kind == Suspension.Reason.RECUSAL:
        if case.mediator_id is None:
            raise Invalid(_("本件尚未指定调解人员"))
        cleaned["recusal_reason"] = _recusal_reason(case, params)
    return cleaned


def apply_suspension(
    case: Case,
    user: User,
    *,
    kind: str,
    started_on: dt.date,
    note: str,
    recusal_reason: str = "",
    **params: Any,
) -> dict[str, Any]:
    suspension = Suspension.objects.create(case=case, reason=kind, note=note, started_on=started_on)
    details: dict[str, Any] = {
        "kind": kind,
        "suspension": suspension.pk,
        "started_on": started_on.isoformat(),
    }
    if kind == Suspension.Reason.RECUSAL:
        # A party applied (Order 20 Art.19(2), Order 121 Art.21): decided when mediation resumes.
        recusal = Recusal.objects.create(
            case=case,
            mediator=case.mediator,
            applied_by_party=True,
            reason=recusal_reason,
            granted=None,
            at=timezone.now(),
        )
        details["recusal"] = recusal.pk
    return details


def _pending_recusal(case: Case) -> Recusal | None:
    return case.recusals.filter(granted__isnull=True).order_by("-at", "-id").first()


def validate_resumption(case: Case, user: User, **params: Any) -> dict[str, Any]:
    """恢复计时: the end date; after a recusal application, the decision on it."""
    running = _open_suspension(case)
    if running is None:
        raise Invalid(_("本件没有正在进行的中止"))
    ended_on = _date(params.get("ended_on"), _("中止结束日期"), default=_today())
    if ended_on < running.started_on:
        raise Invalid(_("中止结束日期不能早于开始日期（%(day)s）") % {"day": running.started_on})
    cleaned: dict[str, Any] = {"ended_on": ended_on, "granted": None, "mediator": None}
    if running.reason == Suspension.Reason.RECUSAL and _pending_recusal(case) is not None:
        decision = params.get("granted")
        if decision in (None, ""):
            raise Invalid(_("请作出是否准予回避的决定"))
        cleaned["granted"] = _flag(decision)
        if cleaned["granted"]:
            new = _mediator(case, params.get("mediator"), default=None)
            if new.pk == case.mediator_id:
                raise Invalid(_("准予回避的，请选择另一名调解人员"))
            cleaned["mediator"] = new
    return cleaned


def apply_resumption(
    case: Case,
    user: User,
    *,
    ended_on: dt.date,
    granted: bool | None,
    mediator: User | None,
    **params: Any,
) -> dict[str, Any]:
    closed = _close_suspension(case, ended_on)
    details: dict[str, Any] = {
        "suspension": closed.pk if closed else None,
        "ended_on": ended_on.isoformat(),
        "days": closed.days if closed else 0,
        "suspended_days": case.suspended_days,
    }
    if granted is not None:
        pending = _pending_recusal(case)
        if pending is not None:
            pending.granted, pending.decided_by = granted, user
            pending.save(update_fields=["granted", "decided_by"])
        details["recusal_granted"] = granted
        if granted and mediator is not None:
            details["from_mediator"], case.mediator = case.mediator_id, mediator
            details["mediator"] = mediator.pk
    return details


# --- outcomes -------------------------------------------------------------------------------


def _amount(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        raise Invalid(_("挽回经济损失须为金额（元），如 1200.50")) from None
    if not amount.is_finite() or amount < 0 or amount > MAX_AMOUNT:
        raise Invalid(_("挽回经济损失须在0至9999999999.99元之间"))
    if amount != amount.quantize(Decimal("0.01")):
        raise Invalid(_("挽回经济损失最多保留两位小数"))
    return amount.quantize(Decimal("0.01"))


def validate_agreement(case: Case, user: User, **params: Any) -> dict[str, Any]:
    """达成调解协议: 调解书 or 调解记录, the money recovered, a note, a 调解书's scan."""
    # 调解记录 unless the officer says 调解书 (the skeleton's contract, which callers rely on).
    kind = str(params.get("agreement_kind") or Case.AgreementKind.RECORD)
    if kind not in {k.value for k in Case.AgreementKind if k.value}:
        raise Invalid(_("请选择调解协议形式：调解书或调解记录"))
    document = params.get("document")
    if document and kind != Case.AgreementKind.DOCUMENT:
        raise Invalid(_("只有调解书可以上传附件"))
    return {
        "agreement_kind": kind,
        "amount_recovered": _amount(params.get("amount_recovered")),
        "note": _text(params.get("note"), _("办理情况"), 2000, required=False),
        "document": document or None,
    }


def apply_agreement(
    case: Case,
    user: User,
    *,
    agreement_kind: str,
    amount_recovered: Decimal | None,
    note: str,
    document: Any = None,
    **params: Any,
) -> dict[str, Any]:
    closed = _close_suspension(case, _today())
    case.outcome, case.agreement_kind, case.closed_at = (
        Case.Outcome.AGREEMENT,
        agreement_kind,
        timezone.now(),
    )
    if amount_recovered is not None:
        case.amount_recovered = amount_recovered
    if note:
        case.outcome_note = note
    details: dict[str, Any] = {
        "agreement_kind": agreement_kind,
        "amount_recovered": str(amount_recovered) if amount_recovered is not None else None,
    }
    if document is not None:
        try:
            # Inside the step's transaction: a refused file leaves the case as it was.
            attachment = files.attach(case, document, by=user)
        except files.AttachmentRefused as refused:
            raise Invalid(refused.message) from None
        details["attachment"] = attachment.pk
    if closed is not None:
        details["suspension_ended"] = closed.ended_on.isoformat()
    return details


def apply_withdrawal(case: Case, user: User, **params: Any) -> dict[str, Any]:
    """撤回: the complainant withdraws; a running suspension ends today."""
    closed = _close_suspension(case, _today())
    case.outcome, case.closed_at = Case.Outcome.WITHDRAWN, timezone.now()
    return {"suspension_ended": closed.ended_on.isoformat()} if closed else {}


# --- violation leads found during mediation -------------------------------------------------

LEAD_FACTS_LIMIT = 5000
_IN_MEDIATION = {Case.Status.ACCEPTED, Case.Status.MEDIATING, Case.Status.SUSPENDED}


def record_lead(case_pk: object, *, by: User, facts: str) -> Case:
    """A violation lead (违法线索) found while mediating a complaint becomes a case of its own.

    The lead is checked like a report, by the same bureau, within 15 working days of the
    day it was found (Order 20 Art.23, Order 121 Art.27: ``complaint.lead_check``): its
    received date is that day and its rules are those in force then. It carries the
    respondent, never the complainant's identity, and is linked to the complaint
    (``linked_case``). An enterprise never sees it (``Case.scope_self_q``: complaints only).

    :raises NotFound: the complaint is not visible to ``by``.
    :raises Forbidden: ``by`` may not handle it.
    :raises Invalid: the case is not a complaint in mediation, or ``facts`` is empty or long.
    """
    text = str(facts or "").strip()
    with transaction.atomic():
        try:
            rows = Case.objects.select_related("owner_unit")
            source, may_change = get_for_write(by, rows, pk=case_pk)
        except Http404:
            raise NotFound from None
        if not may_change or by.role not in {Role.COUNTY_OFFICER, Role.COORDINATOR}:
            raise Forbidden
        if source.kind != Case.Kind.COMPLAINT or source.status not in _IN_MEDIATION:
            raise Invalid(_("只有受理后、调解结束前的投诉可以登记调解中发现的违法线索"))
        text = _text(text, _("违法线索的事实"), LEAD_FACTS_LIMIT, required=True)
        now = timezone.now()
        found_on = timezone.localtime(now).date()
        due = rulebook.deadline("complaint.lead_check", found_on)
        lead = Case.objects.create(
            # A unique stand-in until the row has its key, from which the number is built.
            number=f"XS{uuid.uuid4().hex[:20]}",
            kind=Case.Kind.LEAD,
            submission=source.submission,
            linked_case=source,
            received_at=now,
            received_on=found_on,
            rules=rulebook.version_on(found_on),
            owner_unit=source.owner_unit,
            routing_basis=_("调解中发现的违法线索，由原投诉承办单位核查"),
            status=Case.Status.VERIFYING,
            status_changed_at=now,
            status_changed_by=by,
            due_on=due.due,
            due_rule=due.rule,
            due_calendar_version=str(due.calendar_version or ""),
            respondent_entity=source.respondent_entity,
            respondent_code=source.respondent_code,
            respondent_name=source.respondent_name,
            respondent_address=source.respondent_address,
            platform_entity=source.platform_entity,
            platform_name=source.platform_name,
            category=source.category,
            issue_type=source.issue_type,
            goods=source.goods,
            facts=text,
            incident_on=found_on,
            created_by=by,
        )
        lead.number = f"XS{found_on:%Y%m%d}{lead.pk:08d}"
        lead.save(update_fields=["number"])
        audit.record(
            "complaints.case.lead_recorded",
            by=by,
            obj=lead,
            details={
                "from_case": source.number,
                "found_on": found_on.isoformat(),
                "due_on": due.due.isoformat(),
                "rule": due.rule,
            },
        )
    return lead
