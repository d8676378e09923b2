"""Writes of 12315. Every state change of a case is a step of one of two workflows.

``COMPLAINT`` (投诉)::

    [ODR 企业自行和解中] --odr_settle--> 已办结 (企业和解成功)
          |--odr_decline / odr_return (the clock, after COMPLAINT_ODR_WORKDAYS)--> 待受理
    待受理 --accept--> 已受理待调解 --mediate--> 调解中 <--suspend/resume--> 调解中止
      |--refuse (a ground of Art.15 / Art.16)--> 已办结 (不予受理)
      |--transfer--> 待受理 (another bureau)     |--dispute--> 管辖争议待指定 --designate--> 待受理
    调解中 --agree--> 已办结 (调解成功)   --change_mediator--> 调解中 (回避)
    已受理/调解中/调解中止 --terminate (a ground of Art.21 / Art.23)--> 待告知 --notify--> 已办结
    any open state --withdraw--> 已办结 (撤回)

``REPORT`` (举报, and 违法线索 found in mediation)::

    核查中 --extend (+15 working days)/supplement (new facts restart the clock)--> 核查中
      |--file / not_file--> 待告知 --notify / close--> 已办结
      |--repeat (Order 121 Art.35)--> 已办结 (不再处理)
      |--transfer / dispute / designate--> as for complaints

The steps' own work lives in ``routing`` (jurisdiction), ``mediation`` (acceptance to
outcome), ``reports`` (verification), ``odr`` (ODR and 先行赔付) and ``casenotices`` (the
notices kept with the case); this module declares each step once, so it is locked, checked,
audited and clocked by ``core.workflow.take``. Public write functions that are not steps
(intake, payments, leads, enrolment) are at the end and record their own audit events.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from qcity.complaints import casenotices, mediation, odr, reports, routing
from qcity.complaints.models import Case, Payment
from qcity.core import audit
from qcity.core.models import Role, User
from qcity.core.scope import get_for_write
from qcity.core.workflow import Forbidden, NotFound, Step, Workflow

S = Case.Status
# Who handles cases: the county bureaus, and the city bureau (coordinator) for what it owns.
OFFICERS = frozenset({Role.COUNTY_OFFICER, Role.COORDINATOR})
OPEN_MEDIATION = {S.ACCEPTED, S.MEDIATING, S.SUSPENDED}


def _complaint(user: User, case: Case) -> bool:
    return case.kind == Case.Kind.COMPLAINT


def _report(user: User, case: Case) -> bool:
    return case.kind in (Case.Kind.REPORT, Case.Kind.LEAD)


def _officer(kind_check):
    def allowed(user: User, case: Case) -> bool:
        return user.role in OFFICERS and kind_check(user, case)

    return allowed


def _routing_steps(kind_check, state: str) -> list[Step]:
    """Transfer, dispute and designation: the same for both kinds, each from its own state."""
    return [
        Step(
            name="transfer",
            label=_("转办"),
            sources={state},
            target=state,
            allowed=_officer(kind_check),
            reason_required=True,
            validate=routing.validate_transfer,
            apply=routing.apply_transfer,
            deadline=routing.deadline_after_transfer,
            notify=casenotices.after_step,
        ),
        Step(
            name="dispute",
            label=_("提出管辖争议"),
            sources={state},
            target=S.DISPUTED,
            allowed=_officer(kind_check),
            reason_required=True,
            validate=routing.validate_dispute,
            apply=routing.apply_dispute,
            deadline=routing.dispute_deadline,
            notify=casenotices.after_step,
        ),
        Step(
            name="designate",
            label=_("指定管辖"),
            sources={S.DISPUTED},
            target=state,
            # The common superior decides (Order 20 Art.30, Order 121 Art.33): the city bureau.
            allowed=lambda user, case: user.role == Role.COORDINATOR and kind_check(user, case),
            reason_required=True,
            validate=routing.validate_transfer,
            apply=routing.apply_designation,
            deadline=routing.deadline_after_transfer,
            notify=casenotices.after_step,
        ),
    ]


COMPLAINT = Workflow(
    Case,
    name="complaints.complaint",
    changed_at_field="status_changed_at",
    changed_by_field="status_changed_by",
    deadline_field="due_on",
    deadline_rule_field="due_rule",
    deadline_calendar_field="due_calendar_version",
    select_related=("owner_unit", "respondent_entity"),
    steps=[
        Step(
            name="odr_settle",
            label=_("企业和解"),
            sources={S.ODR},
            target=S.CLOSED,
            allowed=odr.is_respondent_account,
            validate=odr.validate_settle,
            apply=odr.apply_settle,
            notify=casenotices.after_step,
        ),
        Step(
            name="odr_decline",
            label=_("企业未能和解，转市场监管部门"),
            sources={S.ODR},
            target=S.RECEIVED,
            allowed=odr.is_respondent_account,
            reason_required=True,
            deadline=odr.deadline_at_bureau,
            notify=casenotices.after_step,
        ),
        Step(
            name="odr_return",
            label=_("ODR期满转市场监管部门"),
            sources={S.ODR},
            target=S.RECEIVED,
            allowed=_officer(_complaint),
            timer=True,
            deadline=odr.deadline_at_bureau,
            notify=casenotices.after_step,
        ),
        *_routing_steps(_complaint, S.RECEIVED),
        Step(
            name="accept",
            label=_("受理"),
            sources={S.RECEIVED},
            target=S.ACCEPTED,
            allowed=_officer(_complaint),
            apply=mediation.apply_accept,
            deadline=mediation.mediation_deadline,
            notify=casenotices.after_step,
        ),
        Step(
            name="refuse",
            label=_("不予受理"),
            sources={S.RECEIVED},
            target=S.CLOSED,
            allowed=_officer(_complaint),
            reason_required=True,
            validate=mediation.validate_refusal,
            apply=mediation.apply_refusal,
            notify=casenotices.after_step,
        ),
        Step(
            name="mediate",
            label=_("开始调解"),
            sources={S.ACCEPTED},
            target=S.MEDIATING,
            allowed=_officer(_complaint),
            validate=mediation.validate_mediation,
            apply=mediation.apply_mediation,
            deadline=mediation.mediation_deadline,
            notify=casenotices.after_step,
        ),
        Step(
            name="change_mediator",
            label=_("更换调解人员（回避）"),
            sources={S.MEDIATING},
            target=S.MEDIATING,
            allowed=_officer(_complaint),
            reason_required=True,
            validate=mediation.validate_mediator_change,
            apply=mediation.apply_mediator_change,
            deadline=mediation.mediation_deadline,
        ),
        Step(
            name="suspend",
            label=_("中止调解计时（鉴定检测、回避）"),
            sources={S.MEDIATING},
            target=S.SUSPENDED,
            allowed=_officer(_complaint),
            validate=mediation.validate_suspension,
            apply=mediation.apply_suspension,
        ),
        Step(
            name="resume",
            label=_("恢复调解计时"),
            sources={S.SUSPENDED},
            target=S.MEDIATING,
            allowed=_officer(_complaint),
            validate=mediation.validate_resumption,
            apply=mediation.apply_resumption,
            deadline=mediation.mediation_deadline,
        ),
        Step(
            name="agree",
            label=_("达成调解协议"),
            sources={S.MEDIATING},
            target=S.CLOSED,
            allowed=_officer(_complaint),
            validate=mediation.validate_agreement,
            apply=mediation.apply_agreement,
            notify=casenotices.after_step,
        ),
        Step(
            name="terminate",
            label=_("终止调解"),
            sources=OPEN_MEDIATION,
            target=S.NOTIFYING,
            allowed=_officer(_complaint),
            reason_required=True,
            validate=mediation.validate_termination,
            apply=mediation.apply_termination,
            deadline=mediation.termination_notice_deadline,
            notify=casenotices.after_step,
        ),
        Step(
            name="withdraw",
            label=_("投诉人撤回投诉"),
            sources={S.ODR, S.RECEIVED, *OPEN_MEDIATION},
            target=S.CLOSED,
            allowed=_officer(_complaint),
            apply=mediation.apply_withdrawal,
            notify=casenotices.after_step,
        ),
        Step(
            name="notify",
            label=_("送达告知"),
            sources={S.NOTIFYING},
            target=S.CLOSED,
            allowed=_officer(_complaint),
            validate=casenotices.validate_delivery,
            apply=casenotices.apply_delivery,
        ),
    ],
)

REPORT = Workflow(
    Case,
    name="complaints.report",
    changed_at_field="status_changed_at",
    changed_by_field="status_changed_by",
    deadline_field="due_on",
    deadline_rule_field="due_rule",
    deadline_calendar_field="due_calendar_version",
    select_related=("owner_unit", "respondent_entity"),
    steps=[
        *_routing_steps(_report, S.VERIFYING),
        Step(
            name="extend",
            label=_("延长核查期限"),
            sources={S.VERIFYING},
            target=S.VERIFYING,
            allowed=_officer(_report),
            reason_required=True,
            validate=reports.validate_extension,
            apply=reports.apply_extension,
            deadline=reports.verify_deadline,
        ),
        Step(
            name="supplement",
            label=_("补充举报（重新计算期限）"),
            sources={S.VERIFYING},
            target=S.VERIFYING,
            allowed=_officer(_report),
            validate=reports.validate_supplement,
            apply=reports.apply_supplement,
            deadline=reports.verify_deadline,
        ),
        Step(
            name="repeat",
            label=_("重复举报不再处理"),
            sources={S.VERIFYING},
            target=S.CLOSED,
            allowed=_officer(_report),
            validate=reports.validate_repeat,
            apply=reports.apply_repeat,
        ),
        Step(
            name="file",
            label=_("立案"),
            sources={S.VERIFYING},
            target=S.NOTIFYING,
            allowed=_officer(_report),
            apply=reports.apply_filing,
            deadline=reports.notify_deadline,
            notify=casenotices.after_step,
        ),
        Step(
            name="not_file",
            label=_("不予立案"),
            sources={S.VERIFYING},
            target=S.NOTIFYING,
            allowed=_officer(_report),
            reason_required=True,
            apply=reports.apply_not_filing,
            deadline=reports.notify_deadline,
            notify=casenotices.after_step,
        ),
        Step(
            name="notify",
            label=_("告知举报人"),
            sources={S.NOTIFYING},
            target=S.CLOSED,
            allowed=_officer(_report),
            validate=casenotices.validate_delivery,
            apply=casenotices.apply_delivery,
        ),
        Step(
            name="close",
            label=_("办结（无需告知）"),
            sources={S.NOTIFYING},
            target=S.CLOSED,
            allowed=_officer(_report),
            reason_required=True,
            validate=reports.validate_close_without_notice,
            apply=reports.apply_close,
        ),
    ],
)


def workflow_for(case: Case) -> Workflow:
    """The workflow a case follows: complaints one, reports and leads the other."""
    return COMPLAINT if case.kind == Case.Kind.COMPLAINT else REPORT


# --- public write functions that are not steps (each records its own audit event) ----------


def record_lead(case_pk: object, by: User, facts: str) -> Case:
    """A violation lead found while mediating a complaint becomes a linked lead case.

    See ``mediation.record_lead``: same bureau, 核查中, ``complaint.lead_check`` from the day
    found, audited as ``complaints.case.lead_recorded``.
    """
    return mediation.record_lead(case_pk, by=by, facts=facts)


def record_payment(
    case_pk: Any,
    *,
    by: User,
    kind: str,
    amount: Any,
    paid_on: Any = None,
    note: str = "",
) -> Payment:
    """Record money paid to the consumer: 先行赔付 or an agreement's payment (ODR's own comes
    with ``odr_settle``). The respondent's enterprise account records 先行赔付 on its own
    complaint; a bureau officer records either kind on a complaint in scope. Amounts are
    above zero, dates not in the future; the case's 挽回经济损失 grows by the amount.

    :raises NotFound: the case is outside ``by``'s scope. :raises Forbidden, Invalid.
    """
    with transaction.atomic():
        try:
            case, may_change = get_for_write(by, Case.objects.all(), pk=case_pk)
        except Http404:
            raise NotFound from None
        if not may_change:
            raise Forbidden
        cleaned = odr.validate_payment(
            case, by, kind=str(kind or ""), amount=amount, paid_on=paid_on, note=note
        )
        payment = Payment.objects.create(case=case, recorded_by=by, **cleaned)
        case.amount_recovered = (case.amount_recovered or Decimal("0")) + payment.amount
        case.save(update_fields=["amount_recovered"])
        audit.record(
            "complaints.case.payment",
            by=by,
            obj=case,
            details={
                "payment": payment.pk,
                "kind": payment.kind,
                "amount": str(payment.amount),
                "paid_on": payment.paid_on.isoformat(),
            },
        )
    return payment
