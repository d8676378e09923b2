"""Reads of the staff statistics page: volumes, outcomes and hotspots of 12315 cases.

Every figure starts from ``scoped(user, Case)``: a county bureau counts its own cases (本单位
及下级), the city bureau every case. Cases are chosen by their received date. A reporter's
identity never appears here (counts and respondent names only); respondents are named
because staff handle them, the portal's disclosure is ``complaints.disclosure``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.utils.translation import gettext as _

from qcity.complaints.models import Case
from qcity.core.models import User
from qcity.core.scope import scoped

HOTSPOT_TOP = 10
KINDS = [value for value, _label in Case.Kind.choices]
# The outcomes in the order a reader expects, "still open" first.
OUTCOMES = [value for value, _label in Case.Outcome.choices]


def cases(user: User, *, date_from: dt.date, date_to: dt.date, kind: str = "") -> QuerySet[Case]:
    rows = scoped(user, Case.objects.all()).filter(
        received_on__gte=date_from, received_on__lte=date_to
    )
    if kind:
        rows = rows.filter(kind=kind)
    return rows.order_by()


def _rate(part: int, whole: int) -> str:
    return f"{part * 100 / whole:.1f}%" if whole else "—"


def _kind_counts(rows: QuerySet[Case], key: str) -> list[dict]:
    """Per value of ``key``: the count of each kind, closed, agreements and mediations ended."""
    aggregates = {f"n_{kind}": Count("pk", filter=Q(kind=kind)) for kind in KINDS}
    aggregates["total"] = Count("pk")
    aggregates["closed"] = Count("pk", filter=Q(status=Case.Status.CLOSED))
    aggregates["agreements"] = Count("pk", filter=Q(outcome=Case.Outcome.AGREEMENT))
    aggregates["mediations"] = Count(
        "pk",
        filter=Q(
            outcome__in=[Case.Outcome.AGREEMENT, Case.Outcome.TERMINATED, Case.Outcome.WITHDRAWN],
            accepted_on__isnull=False,
        ),
    )
    found = list(rows.values(key).annotate(**aggregates).order_by("-total", key))
    for row in found:
        row["success"] = _rate(row["agreements"], row["mediations"])
    return found


@dataclass
class Statistics:
    date_from: dt.date
    date_to: dt.date
    total: int = 0
    by_kind: list[dict] = field(default_factory=list)  # kind, label, total, outcome counts
    by_category: list[dict] = field(default_factory=list)
    by_county: list[dict] = field(default_factory=list)
    by_month: list[dict] = field(default_factory=list)
    top_respondents: list[dict] = field(default_factory=list)
    top_goods: list[dict] = field(default_factory=list)
    top_issues: list[dict] = field(default_factory=list)
    outcome_labels: list[tuple[str, str]] = field(default_factory=list)


def statistics(user: User, *, date_from: dt.date, date_to: dt.date, kind: str = "") -> Statistics:
    rows = cases(user, date_from=date_from, date_to=date_to, kind=kind)
    stats = Statistics(date_from, date_to)
    stats.outcome_labels = [
        (value or "open", str(label) if value else _("办理中"))
        for value, label in Case.Outcome.choices
    ]
    kind_labels = dict(Case.Kind.choices)
    by_kind = {
        row["kind"]: row
        for row in rows.values("kind").annotate(
            total=Count("pk"),
            **{f"o_{o or 'open'}": Count("pk", filter=Q(outcome=o)) for o in OUTCOMES},
        )
    }
    for kind_value in KINDS:
        row = by_kind.get(kind_value)
        if row is None:
            continue
        row["label"] = str(kind_labels[kind_value])
        row["outcomes"] = [row[f"o_{value}"] for value, _label in stats.outcome_labels]
        stats.by_kind.append(row)
    stats.total = sum(row["total"] for row in stats.by_kind)

    for row in _kind_counts(rows, "category__name"):
        row["name"] = row.pop("category__name") or _("未分类")
        stats.by_category.append(row)
    for row in _kind_counts(rows, "owner_unit__name"):
        row["name"] = row.pop("owner_unit__name")
        stats.by_county.append(row)
    months = _kind_counts(rows.annotate(month=TruncMonth("received_on")), "month")
    for row in sorted(months, key=lambda r: r["month"]):
        row["name"] = f"{row.pop('month'):%Y-%m}"
        stats.by_month.append(row)

    stats.top_respondents = [
        {"name": r["respondent_name"], "code": r["respondent_code"], **r}
        for r in rows.values("respondent_name", "respondent_code")
        .annotate(
            total=Count("pk"),
            complaints=Count("pk", filter=Q(kind=Case.Kind.COMPLAINT)),
            reports=Count("pk", filter=~Q(kind=Case.Kind.COMPLAINT)),
        )
        .order_by("-total", "respondent_name", "respondent_code")[:HOTSPOT_TOP]
    ]
    stats.top_goods = list(
        rows.filter(category__isnull=False)
        .values(name=F("category__name"))
        .annotate(total=Count("pk"))
        .order_by("-total", "name")[:HOTSPOT_TOP]
    )
    stats.top_issues = list(
        rows.filter(issue_type__isnull=False)
        .values(name=F("issue_type__name"))
        .annotate(total=Count("pk"))
        .order_by("-total", "name")[:HOTSPOT_TOP]
    )
    return stats
