"""Template helpers for deadlines: the 暂定 mark and the calendar notice.

``{% load deadlines %}`` then ``{{ step.deadline|deadline_display }}`` shows
"2027-01-12（暂定）" for a provisional deadline, and
``{% calendar_notice as notice %}`` gives the system administrator the year
whose holiday arrangement is still to be entered (or None).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import template
from django.utils import timezone
from django.utils.translation import gettext as _

from qcity.core import workdays
from qcity.core.models import Role

register = template.Library()


def _field(value: Any, name: str) -> Any:
    return value.get(name) if isinstance(value, dict) else getattr(value, name, None)


@register.filter
def deadline_display(value: Any) -> str:
    """A deadline (``workdays.Deadline``, or anything with ``due``/``provisional``,
    or the API dict) as text; provisional ones carry （暂定）."""
    if value in (None, ""):
        return ""
    due = _field(value, "due") if not isinstance(value, dt.date) else value
    if due is None:
        return ""
    text = due if isinstance(due, str) else due.isoformat()
    return f"{text}{_('（暂定）')}" if _field(value, "provisional") else text


@register.simple_tag(takes_context=True)
def calendar_notice(context) -> int | None:
    """The year to enter, shown to the system administrator only (from 1 November)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or user.role != Role.SYSTEM_ADMIN:
        return None
    return workdays.first_unentered_year(timezone.localdate())
