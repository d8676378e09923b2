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


# --- late flags and rates over time (reminders and escalation, ADR 0026) -----------------------


def overdue_workdays(report: ProgressReport, today: dt.date | None = None) -> int:
    """Working days past the deadline of whoever must act next (0: not overdue).

    The number the escalation notices name: the first working day after the due date is 1;
    a weekend or holiday in between adds nothing.
    """
    from qcity.core import workdays

    today = today or timezone.localdate()
    if report.due_date is None or today <= report.due_date:
        return 0
    if report.status in (ProgressReport.Status.APPROVED, ProgressReport.Status.LOCKED):
        return 0
    return max(workdays.workdays_between(report.due_date, today, allow_provisional=True), 0)


@dataclass(frozen=True)
class UnitPeriodRate:
    """One cell of the units × periods heat map: a unit's reports of one cycle."""

    unit_id: int
    unit_name: str
    cycle_id: int
    year: int
    period: int
    label: str
    due_date: dt.date
    expected: int
    received: int
    on_time: int
    late: int  # not received and the due date has passed

    @property
    def completeness(self) -> float | None:
        return self.received / self.expected if self.expected else None

    @property
    def timeliness(self) -> float | None:
        return self.on_time / self.expected if self.expected else None

    @property
    def received_late(self) -> int:
        return self.received - self.on_time


def unit_period_rates(
    user: User | None,
    plan: object,
    frequency: str,
    years: Iterable[int],
    *,
    today: dt.date | None = None,
) -> list[UnitPeriodRate]:
    """Completeness and timeliness per unit × cycle of one plan and frequency, in one query.

    Ordered by unit name, then period: the rows of the dashboard's heat map and the input
    of the annual assessment. Only the reports ``user`` may see are counted.
    """
    rows = (
        reports_for(user)
        .filter(
            cycle__plan_id=getattr(plan, "pk", plan),
            cycle__frequency=frequency,
            cycle__year__in=list(years),
        )
        .order_by()
        .values(
            "org_unit_id",
            "org_unit__name",
            "cycle_id",
            "cycle__year",
            "cycle__period",
            "cycle__label",
            "cycle__due_date",
        )
        .annotate(
            expected=Count("pk"),
            received=Count("pk", filter=RECEIVED),
            on_time=Count("pk", filter=Q(on_time=True)),
            late=Count("pk", filter=late_q(today)),
        )
        .order_by("org_unit__name", "org_unit_id", "cycle__year", "cycle__period")
    )
    return [
        UnitPeriodRate(
            r["org_unit_id"],
            r["org_unit__name"],
            r["cycle_id"],
            r["cycle__year"],
            r["cycle__period"],
            r["cycle__label"],
            r["cycle__due_date"],
            r["expected"],
            r["received"],
            r["on_time"],
            r["late"],
        )
        for r in rows
    ]


# --- for the pages (reporting.views) ----------------------------------------------------------


@dataclass(frozen=True)
class CycleCounts:
    expected: int
    received: int
    approved: int

    @property
    def completeness(self) -> float | None:
        return self.received / self.expected if self.expected else None


def cycle_counts(
    user: User | None, cycles: Iterable[ReportingCycle | int]
) -> dict[int, CycleCounts]:
    """Reports expected, received and approved per cycle, within ``user``'s scope."""
    ids = [getattr(c, "pk", c) for c in cycles]
    rows = (
        reports_for(user)
        .filter(cycle_id__in=ids)
        .order_by()
        .values("cycle_id")
        .annotate(
            expected=Count("pk"),
            received=Count("pk", filter=RECEIVED),
            approved=Count(
                "pk",
                filter=Q(status__in=[ProgressReport.Status.APPROVED, ProgressReport.Status.LOCKED]),
            ),
        )
    )
    return {r["cycle_id"]: CycleCounts(r["expected"], r["received"], r["approved"]) for r in rows}


def my_reports(user: User | None) -> QuerySet[ProgressReport]:
    """The reports the user's own unit must write (not those it only reviews or owns)."""
    if user is None or getattr(user, "unit_id", None) is None:
        return ProgressReport.objects.none()
    return reports_for(user, unit_id=user.unit_id).order_by(
        "-cycle__period_start", "cycle__frequency", "measure__seq"
    )


WAITING_FOR_REVIEW = (ProgressReport.Status.SUBMITTED, ProgressReport.Status.RESUBMITTED)


def review_queue(user: User | None) -> QuerySet[ProgressReport]:
    """What waits for ``user``'s review: a county bureau's pre-approvals, or the city's.

    A county officer pre-approves the reports of units in the county; a coordinator of
    a plan's owner unit (or a unit below it) reviews the reports that reach the city:
    those without a county reviewer, and those the county has approved.
    """
    from qcity.core.models import Role

    if user is None or getattr(user, "unit_id", None) is None:
        return ProgressReport.objects.none()
    reports = reports_for(user).filter(cycle__status=ReportingCycle.Status.OPEN)
    if user.role == Role.COUNTY_OFFICER:
        reports = reports.filter(county_review_unit_id=user.unit_id, status__in=WAITING_FOR_REVIEW)
    elif user.role == Role.COORDINATOR:
        # The plan's owner is the user's unit or one above it (services.is_city_reviewer).
        ancestors = [int(part) for part in user.unit.path.strip("/").split("/") if part]
        reports = reports.filter(cycle__plan__owner_unit_id__in=ancestors).filter(
            Q(county_review_unit__isnull=True, status__in=WAITING_FOR_REVIEW)
            | Q(status=ProgressReport.Status.COUNTY_APPROVED)
        )
    else:
        return ProgressReport.objects.none()
    return reports.order_by("due_date", "cycle__period_start", "measure__seq", "org_unit__name")
