"""Reads of the reporting app; every one goes through the data scope."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from qcity.core.models import User
from qcity.core.scope import get_scoped_or_404, scoped
from qcity.reporting.models import ProgressReport, ReportingCycle

RECEIVED = Q(first_submitted_at__isnull=False)


def cycles_for(user: User | None, plan_id: int | None = None) -> QuerySet[ReportingCycle]:
    cycles = scoped(user, ReportingCycle.objects.select_related("plan"))
    return cycles.filter(plan_id=plan_id) if plan_id is not None else cycles


def get_cycle(user: User | None, pk: object) -> ReportingCycle:
    return get_scoped_or_404(user, ReportingCycle.objects.select_related("plan"), pk=pk)


def reports_for(
    user: User | None,
    *,
    cycle: ReportingCycle | int | None = None,
    unit_id: int | None = None,
    status: str | None = None,
) -> QuerySet[ProgressReport]:
    """The reports ``user`` may see, newest cycle first."""
    reports = scoped(
        user,
        ProgressReport.objects.select_related(
            "cycle", "cycle__plan", "measure", "measure__chapter", "org_unit", "county_review_unit"
        ),
    )
    if cycle is not None:
        reports = reports.filter(cycle=cycle)
    if unit_id is not None:
        reports = reports.filter(org_unit_id=unit_id)
    if status:
        reports = reports.filter(status=status)
    return reports


def get_report(user: User | None, pk: object) -> ProgressReport:
    return get_scoped_or_404(user, reports_for(user), pk=pk)


def is_late(report: ProgressReport, today: dt.date | None = None) -> bool:
    """Not yet received although the cycle's due date has passed."""
    today = today or timezone.localdate()
    return report.first_submitted_at is None and today > report.cycle.due_date


def late_q(today: dt.date | None = None) -> Q:
    today = today or timezone.localdate()
    return Q(first_submitted_at__isnull=True, cycle__due_date__lt=today)


@dataclass(frozen=True)
class UnitRate:
    unit_id: int
    unit_name: str
    expected: int
    received: int
    on_time: int
    late: int

    @property
    def completeness(self) -> float | None:
        """Reports received ÷ reports expected (DHIS2's reporting rate)."""
        return self.received / self.expected if self.expected else None

    @property
    def timeliness(self) -> float | None:
        """Reports received on time ÷ reports expected."""
        return self.on_time / self.expected if self.expected else None


def unit_rates(
    user: User | None,
    cycles: Iterable[ReportingCycle | int] | None = None,
    *,
    today: dt.date | None = None,
) -> list[UnitRate]:
    """Completeness and timeliness per reporting unit over ``cycles`` (default: all)."""
    reports = reports_for(user)
    if cycles is not None:
        reports = reports.filter(cycle__in=[getattr(c, "pk", c) for c in cycles])
    rows = (
        reports.order_by()
        .values("org_unit_id", "org_unit__name")
        .annotate(
            expected=Count("pk"),
            received=Count("pk", filter=RECEIVED),
            on_time=Count("pk", filter=Q(on_time=True)),
            late=Count("pk", filter=late_q(today)),
        )
        .order_by("org_unit__name")
    )
    return [
        UnitRate(
            r["org_unit_id"],
            r["org_unit__name"],
            r["expected"],
            r["received"],
            r["on_time"],
            r["late"],
        )
        for r in rows
    ]
