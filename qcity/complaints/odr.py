"""ODR (在线消费纠纷解决) and 先行赔付: enterprises settle first; the clock hands back.

PLACEHOLDER of the skeleton: the odr helper owns this module and completes it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from qcity.complaints.models import Case
from qcity.core import rulebook
from qcity.core.models import Role, User
from qcity.core.workflow import Deadline
from qcity.registry.models import EntityAccount


def is_respondent_account(user: User, case: Case) -> bool:
    return (
        user.role == Role.ENTERPRISE
        and case.kind == Case.Kind.COMPLAINT
        and case.respondent_entity_id is not None
        and EntityAccount.objects.filter(user=user, entity_id=case.respondent_entity_id).exists()
    )


def deadline_at_bureau(case: Case, now: dt.datetime) -> Deadline:
    """The bureau's 7 working days to accept run from the day the case reaches it."""
    return rulebook.case_deadline(
        case.received_on, "complaint.accept", timezone.localtime(now).date()
    )


def validate_settle(case: Case, user: User, **params: Any) -> dict[str, Any]:
    return {}


def apply_settle(case: Case, user: User, **params: Any) -> dict[str, Any]:
    case.outcome, case.closed_at = Case.Outcome.ODR_SETTLED, timezone.now()
    return {}
