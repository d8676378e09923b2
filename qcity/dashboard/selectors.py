"""The dashboard's reads, all through the data scope (ADR 0023).

Counts come from the precomputed ``UnitCycleCount`` rows (three GROUP BYs whatever the
number of years); overdue units and the drill-down read the reports of one cycle or of
the open cycles only; targets read the indicators' values, scoped like every figure.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, Min, Q, QuerySet, Sum
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from qcity.core import workdays
from qcity.core.models import Attachment, OrgUnit, User
from qcity.core.scope import effective_scope, get_scoped_or_404, scoped
from qcity.dashboard.models import ChapterCycleCount, UnitCycleCount
from qcity.metrics.models import IndicatorValue
from qcity.plans import selectors as plan_selectors
from qcity.plans.models import Chapter, Measure, Plan
from qcity.plans.target_links import status_of, visible_plan_targets
from qcity.reporting.models import ProgressReport, ReportingCycle
from qcity.reporting.selectors import late_q

# The heat map shows the latest cycles; older years stay in the trend line.
HEAT_CYCLES = 12
PROGRESS_KEYS = ("on_track", "at_risk", "blocked", "done")


def percent(part: int, whole: int) -> float | None:
    return None if not whole else round(100 * part / whole, 1)


@dataclass
class ChapterProgress:
    chapter: Chapter
    expected: int = 0
    received: int = 0
    on_track: int = 0
    at_risk: int = 0
    blocked: int = 0
    done: int = 0

    @property
    def unrated(self) -> int:
        return self.received - self.on_track - self.at_risk - self.blocked - self.done

    @property
    def missing(self) -> int:
        return self.expected - self.received

    def share(self, key: str) -> float | None:
        return percent(getattr(self, key), self.expected)


@dataclass
class CycleRate:
    cycle: ReportingCycle
    expected: int
    received: int
    on_time: int

    @property
    def completeness(self) -> float | None:
        return percent(self.received, self.expected)

    @property
    def timeliness(self) -> float | None:
        return percent(self.on_time, self.expected)


@dataclass
class HeatRow:
    unit: OrgUnit
    cells: list[CycleRate | None]


@dataclass
class OverdueUnit:
    unit_id: int
    name: str
    reports: int
    since: dt.date
    workdays_late: int | None


class _Point(NamedTuple):
    period_end: dt.date
    value: Decimal


@dataclass
class TargetTrend:
    target: object
    status: str | None
    status_label: str
    owner: OrgUnit
    # (period end, value) of the owner unit's values the user may see; empty: none visible.
    points: list[tuple[dt.date, Decimal]] = field(default_factory=list)
    deadline: dt.date | None = None

    @property
    def path(self) -> list[tuple[dt.date, Decimal]]:
        """The straight path from the (first visible) baseline to the target."""
        if not self.points or self.deadline is None or self.points[0][0] >= self.deadline:
            return []
        return [self.points[0], (self.deadline, self.target.value)]


@dataclass
class Dashboard:
    plan: Plan | None
    plans: list[Plan]
    cycles: list[ReportingCycle]
    latest: ReportingCycle | None
    chapters: list[ChapterProgress]
    trend: list[CycleRate]
    heat_cycles: list[ReportingCycle]
    heat: list[HeatRow]
    overdue: list[OverdueUnit]
    targets: list[TargetTrend]
    latest_totals: CycleRate | None


def visible_cycles(user: User, plan: Plan) -> QuerySet[ReportingCycle]:
    return scoped(user, ReportingCycle.objects.filter(plan=plan)).order_by("period_end", "pk")


def visible_unit_counts(user: User, plan: Plan) -> QuerySet[UnitCycleCount]:
    return scoped(user, UnitCycleCount.objects.filter(plan=plan))


def visible_chapter_counts(user: User, plan: Plan) -> QuerySet[ChapterCycleCount]:
    return scoped(user, ChapterCycleCount.objects.filter(plan=plan))


def open_cycle_ids(plan: Plan) -> list[int]:
    return list(
        ReportingCycle.objects.filter(plan=plan, status=ReportingCycle.Status.OPEN).values_list(
            "pk", flat=True
        )
    )


def choose_plan(user: User, plan_id: object = None) -> tuple[Plan | None, list[Plan]]:
    plans = list(plan_selectors.visible_plans(user))
    if plan_id not in (None, ""):
        return plan_selectors.get_plan(user, plan_id), plans
    return (plans[0] if plans else None), plans


def chapter_progress(
    counts: QuerySet[ChapterCycleCount], plan: Plan, cycle
) -> list[ChapterProgress]:
    sums = {
        row["chapter_id"]: row
        for row in counts.filter(cycle_id=cycle.pk)
        .values("chapter_id")
        .annotate(**{key: Sum(key) for key in ("expected", "received", *PROGRESS_KEYS)})
    }
    result = []
    for chapter in plan.chapters.only("pk", "number", "heading", "label").order_by("number"):
        row = sums.get(chapter.pk)
        if row is None:
            continue
        result.append(
            ChapterProgress(
                chapter,
                expected=row["expected"],
                received=row["received"],
                **{key: row[key] for key in PROGRESS_KEYS},
            )
        )
    return result


def cycle_rates(counts: QuerySet[UnitCycleCount], cycles: list[ReportingCycle]) -> list[CycleRate]:
    by_cycle = {
        row["cycle_id"]: row
        for row in counts.values("cycle_id").annotate(
            expected=Sum("expected"), received=Sum("received"), on_time=Sum("on_time")
        )
    }
    return [
        CycleRate(
            c, by_cycle[c.pk]["expected"], by_cycle[c.pk]["received"], by_cycle[c.pk]["on_time"]
        )
        for c in cycles
        if c.pk in by_cycle
    ]


def heat_map(counts: QuerySet[UnitCycleCount], cycles: list[ReportingCycle]) -> list[HeatRow]:
    rows = (
        counts.filter(cycle_id__in=[c.pk for c in cycles])
        .values("cycle_id", "org_unit_id")
        .annotate(expected=Sum("expected"), received=Sum("received"), on_time=Sum("on_time"))
    )
    cells: dict[int, dict[int, dict]] = {}
    for row in rows:
        cells.setdefault(row["org_unit_id"], {})[row["cycle_id"]] = row
    units = OrgUnit.objects.filter(pk__in=list(cells)).only("pk", "name", "path").order_by("path")
    result = []
    for unit in units:
        mine = cells[unit.pk]
        result.append(
            HeatRow(
                unit,
                [
                    CycleRate(
                        c, mine[c.pk]["expected"], mine[c.pk]["received"], mine[c.pk]["on_time"]
                    )
                    if c.pk in mine
                    else None
                    for c in cycles
                ],
            )
        )
    return result


def overdue_units(user: User, plan: Plan, today: dt.date | None = None) -> list[OverdueUnit]:
    """Units with reports of an open cycle not received by the cycle's due date
    (``reporting.selectors.late_q``, the late flag of the report pages)."""
    today = today or timezone.localdate()
    rows = (
        scoped(
            user,
            ProgressReport.objects.filter(
                late_q(today), cycle__plan=plan, cycle__status=ReportingCycle.Status.OPEN
            ),
        )
        .values("org_unit_id", "org_unit__name")
        .annotate(n=Count("id"), since=Min("cycle__due_date"))
        .order_by("since", "org_unit__name")
    )
    calendar = workdays.snapshot()
    # Units of one cycle share its due date: count the working days once per date.
    late_by_date: dict[dt.date, int | None] = {}
    result = []
    for row in rows:
        since = row["since"]
        if since not in late_by_date:
            try:
                late_by_date[since] = calendar.between(since, today, allow_provisional=True)
            except workdays.CalendarUnknown:
                late_by_date[since] = None
        late = late_by_date[since]
        result.append(
            OverdueUnit(row["org_unit_id"], row["org_unit__name"], row["n"], row["since"], late)
        )
    return result


def target_trends(user: User, plan: Plan) -> list[TargetTrend]:
    """Linked numeric targets: derived status, and the owner unit's values in scope."""
    targets = [
        t
        for t in visible_plan_targets(user, plan).filter(indicator__isnull=False)
        if t.value is not None
    ]
    if not targets:
        return []
    owners = Q(pk__in=[])
    for t in targets:
        owners |= Q(indicator_id=t.indicator_id, org_unit_id=t.indicator.owner_unit_id)
    series = IndicatorValue.objects.filter(owners)
    # The status is derived from the owner's whole series, as on the plan's targets page
    # (every plan reader sees every target's status) ...
    owned_series: dict[int, list[tuple[dt.date, Decimal]]] = {}
    for indicator_id, end, value in series.order_by("period_end", "pk").values_list(
        "indicator_id", "period_end", "value"
    ):
        owned_series.setdefault(indicator_id, []).append((end, value))
    # ... the figures themselves only as far as the user may see them. An owner's
    # series is seen whole or not at all (IndicatorValue.scope_q: its unit is the owner),
    # so asking the scope which series it lets through is enough.
    visible = set(scoped(user, series).order_by().values_list("indicator_id", flat=True).distinct())
    result = []
    for t in targets:
        owned = owned_series.get(t.indicator_id, [])
        # status_of reads the first (baseline) and the last (latest) value of the series.
        ends = [_Point(*owned[0]), _Point(*owned[-1])] if owned else []
        status, _baseline, _latest = status_of(t, ends)
        result.append(
            TargetTrend(
                target=t,
                status=str(status) if status else None,
                status_label=status.label if status else "",
                owner=t.indicator.owner_unit,
                points=owned if t.indicator_id in visible else [],
                deadline=dt.date(t.year, 12, 31) if t.year else None,
            )
        )
    return result


def dashboard(user: User, plan: Plan | None, plans: list[Plan]) -> Dashboard:
    empty = Dashboard(plan, plans, [], None, [], [], [], [], [], [], None)
    if plan is None or effective_scope(user) == "none":
        return empty
    cycles = list(visible_cycles(user, plan))
    empty.cycles = cycles
    empty.targets = target_trends(user, plan)
    if not cycles:
        return empty
    counts = visible_unit_counts(user, plan)
    latest = cycles[-1]
    heat_cycles = cycles[-HEAT_CYCLES:]
    trend = cycle_rates(counts, cycles)
    latest_totals = next((r for r in trend if r.cycle.pk == latest.pk), None)
    return Dashboard(
        plan=plan,
        plans=plans,
        cycles=cycles,
        latest=latest,
        chapters=chapter_progress(visible_chapter_counts(user, plan), plan, latest),
        trend=trend,
        heat_cycles=heat_cycles,
        heat=heat_map(counts, heat_cycles),
        overdue=overdue_units(user, plan),
        targets=empty.targets,
        latest_totals=latest_totals,
    )


# --- drill-down: chapter → measure → report → evidence -------------------------------------


@dataclass
class MeasureReports:
    measure: Measure
    reports: list[ProgressReport]


def page_url(name: str, pk: int) -> str:
    """The report pages' address (reporting:report_detail / cycle_detail), or "" while
    the reporting pages are not installed: the drill-down still lists the reports."""
    try:
        return reverse(name, args=[pk])
    except NoReverseMatch:
        return ""


def get_chapter(user: User, chapter_id: object) -> Chapter:
    return get_scoped_or_404(user, Chapter.objects.select_related("plan"), pk=chapter_id)


def get_cycle(user: User, plan: Plan, cycle_id: object) -> ReportingCycle:
    return get_scoped_or_404(user, ReportingCycle.objects.filter(plan=plan), pk=cycle_id)


def chapter_reports(user: User, chapter: Chapter, cycle: ReportingCycle) -> list[MeasureReports]:
    """Each measure of the chapter with the reports of ``cycle`` the user may see, and
    each report's evidence files (``report.evidence``)."""
    reports = list(
        scoped(
            user,
            ProgressReport.objects.filter(cycle=cycle, measure__chapter=chapter).select_related(
                "org_unit"
            ),
        ).order_by("measure__seq", "-is_lead", "org_unit__path")
    )
    evidence: dict[str, list[Attachment]] = {}
    if reports:
        for attachment in Attachment.objects.filter(
            content_type=ContentType.objects.get_for_model(ProgressReport),
            object_id__in=[str(r.pk) for r in reports],
        ).order_by("uploaded_at", "pk"):
            evidence.setdefault(attachment.object_id, []).append(attachment)
    by_measure: dict[int, list[ProgressReport]] = {}
    for report in reports:
        report.evidence = evidence.get(str(report.pk), [])
        report.detail_url = page_url("reporting:report_detail", report.pk)
        by_measure.setdefault(report.measure_id, []).append(report)
    measures = Measure.objects.filter(chapter=chapter, withdrawn=False).order_by("seq")
    return [MeasureReports(m, by_measure.get(m.pk, [])) for m in measures]
