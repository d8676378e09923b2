"""Acceptance to outcome of a complaint: the hooks of the COMPLAINT workflow's steps.

PLACEHOLDER of the skeleton: the mediation helper owns this module and completes it
(grounds by the case's rules, recusal, suspension in the rule's unit, notices).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from qcity.complaints.models import Case
from qcity.core import rulebook
from qcity.core.models import User
from qcity.core.workflow import Deadline, Invalid


def _today() -> dt.date:
    return timezone.localdate()


def mediation_deadline(case: Case, now: dt.datetime) -> Deadline:
    start = case.accepted_on or timezone.localtime(now).date()
    return rulebook.case_deadline(
        case.received_on, "complaint.mediation", start, suspended=case.suspended_days
    )


def termination_notice_deadline(case: Case, now: dt.datetime) -> Deadline:
    return rulebook.case_deadline(
        case.received_on, "complaint.termination_notice", timezone.localtime(now).date()
    )


def apply_accept(case: Case, user: User, **params: Any) -> dict[str, Any]:
    case.accepted_on = _today()
    return {"accepted_on": case.accepted_on.isoformat()}


def _ground(name: str, case: Case, ground: str) -> str:
    allowed = rulebook.grounds(name, case.received_on)
    if ground not in dict(allowed.items):
        raise Invalid(f"请选择{allowed.article}规定的情形之一")
    return ground


def validate_refusal(case: Case, user: User, *, ground: str = "", **params: Any) -> dict[str, Any]:
    return {"ground": _ground("complaint.refusal", case, str(ground))}


def apply_refusal(case: Case, user: User, *, ground: str, **params: Any) -> dict[str, Any]:
    case.outcome, case.outcome_ground, case.closed_at = Case.Outcome.REFUSED, ground, timezone.now()
    return {"ground": ground}


def validate_mediation(case: Case, user: User, **params: Any) -> dict[str, Any]:
    mode = params.get("mode") or Case.MediationMode.ONSITE
    if mode not in {m.value for m in Case.MediationMode if m.value}:
        raise Invalid("调解方式无效")
    return {"mode": mode}


def apply_mediation(case: Case, user: User, *, mode: str, **params: Any) -> dict[str, Any]:
    case.mediation_mode, case.mediator = mode, user
    return {"mode": mode}


def validate_mediator_change(case: Case, user: User, **params: Any) -> dict[str, Any]:
    raise Invalid("尚未实现")


def apply_mediator_change(case: Case, user: User, **params: Any) -> dict[str, Any]:
    return {}


def validate_suspension(case: Case, user: User, **params: Any) -> dict[str, Any]:
    raise Invalid("尚未实现")


def apply_suspension(case: Case, user: User, **params: Any) -> dict[str, Any]:
    return {}


def validate_resumption(case: Case, user: User, **params: Any) -> dict[str, Any]:
    raise Invalid("尚未实现")


def apply_resumption(case: Case, user: User, **params: Any) -> dict[str, Any]:
    return {}


def validate_agreement(case: Case, user: User, **params: Any) -> dict[str, Any]:
    kind = params.get("agreement_kind") or Case.AgreementKind.RECORD
    return {"agreement_kind": kind}


def apply_agreement(case: Case, user: User, *, agreement_kind: str, **params: Any) -> dict:
    case.outcome, case.agreement_kind, case.closed_at = (
        Case.Outcome.AGREEMENT,
        agreement_kind,
        timezone.now(),
    )
    return {"agreement_kind": agreement_kind}


def validate_termination(case: Case, user: User, *, ground: str = "", **params: Any) -> dict:
    return {"ground": _ground("complaint.termination", case, str(ground))}


def apply_termination(case: Case, user: User, *, ground: str, **params: Any) -> dict[str, Any]:
    case.outcome, case.outcome_ground = Case.Outcome.TERMINATED, ground
    return {"ground": ground}


def apply_withdrawal(case: Case, user: User, **params: Any) -> dict[str, Any]:
    case.outcome, case.closed_at = Case.Outcome.WITHDRAWN, timezone.now()
    return {}
