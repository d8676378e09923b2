"""Verification of reports and leads: the hooks of the REPORT workflow's steps.

PLACEHOLDER of the skeleton: the reports helper owns this module and completes it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from qcity.complaints.models import Case
from qcity.core import rulebook
from qcity.core.models import User
from qcity.core.workflow import Deadline, Invalid


def rule_name(case: Case) -> str:
    return "complaint.lead_check" if case.kind == Case.Kind.LEAD else "report.verify"


def verify_deadline(case: Case, now: dt.datetime) -> Deadline:
    return rulebook.case_deadline(
        case.received_on,
        rule_name(case),
        case.received_on,
        suspended=case.suspended_days,
        extended=case.extended,
    )


def notify_deadline(case: Case, now: dt.datetime) -> Deadline | None:
    if case.anonymous or case.kind != Case.Kind.REPORT:
        return None
    try:
        return rulebook.case_deadline(
            case.received_on, "report.notify", timezone.localtime(now).date()
        )
    except rulebook.RuleNotInForce:
        return None  # Order 121 has no such duty (Art.36)


def validate_extension(case: Case, user: User, **params: Any) -> dict[str, Any]:
    if case.extended:
        raise Invalid("核查期限已经延长过一次")
    return {}


def apply_extension(case: Case, user: User, **params: Any) -> dict[str, Any]:
    case.extended = True
    return {}


def validate_supplement(case: Case, user: User, **params: Any) -> dict[str, Any]:
    raise Invalid("尚未实现")


def apply_supplement(case: Case, user: User, **params: Any) -> dict[str, Any]:
    return {}


def validate_repeat(case: Case, user: User, **params: Any) -> dict[str, Any]:
    raise Invalid("尚未实现")


def apply_repeat(case: Case, user: User, **params: Any) -> dict[str, Any]:
    return {}


def apply_filing(case: Case, user: User, **params: Any) -> dict[str, Any]:
    case.outcome = Case.Outcome.FILED
    return {}


def apply_not_filing(case: Case, user: User, **params: Any) -> dict[str, Any]:
    case.outcome = Case.Outcome.NOT_FILED
    return {}


def validate_close_without_notice(case: Case, user: User, **params: Any) -> dict[str, Any]:
    return {}
