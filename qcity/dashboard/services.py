"""Keeping the dashboard's precomputed counts true (ADR 0023).

Rows are rebuilt from the reports by a GROUP BY, then delete and insert, in one
transaction with the cycle's ``CycleCountState`` row locked: a whole cycle (about a
thousand reports at most), or one unit's rows of a cycle (a few dozen). Rebuilt:

- at once, in the transaction of any save of a report (a workflow step, a draft saved),
  that unit's rows of that cycle: ``signals.report_saved`` → ``refresh_unit``;
- when the dashboard is shown, for each open cycle whose reports changed without a
  save signal (bulk creation when a cycle opens, ``QuerySet.update``): ``refresh_stale``;
- daily for every open cycle (``jobs``), and on demand: ``qcity refresh_dashboard``.

The rows are derived data, not a record of anyone's act: rebuilding them is not audited
(what changed the reports was).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.db.models import Count, Max, Q
from django.utils import timezone

from qcity.dashboard.models import ChapterCycleCount, CycleCountState, UnitCycleCount
from qcity.reporting.models import ProgressReport, ReportingCycle
from qcity.reporting.selectors import RECEIVED

# Which report states count as "approved" for the dashboard.
APPROVED_STATES = (ProgressReport.Status.APPROVED, ProgressReport.Status.LOCKED)


def _fingerprint(cycle_ids: Iterable[int]) -> dict[int, tuple[int, object]]:
    """(number of reports, latest change) per cycle: what a rebuild was made from."""
    rows = (
        ProgressReport.objects.filter(cycle_id__in=list(cycle_ids))
        .values("cycle_id")
        .annotate(n=Count("id"), changed=Max("updated_at"))
        .order_by()
    )
    return {row["cycle_id"]: (row["n"], row["changed"]) for row in rows}


def _count_rows(
    cycle: ReportingCycle, now, **only: object
) -> tuple[list[UnitCycleCount], list[ChapterCycleCount]]:
    """One GROUP BY at the chapter grain; the unit rows are its sums."""
    # Received and on time as reporting.selectors.unit_rates counts them.
    received = RECEIVED
    groups = (
        ProgressReport.objects.filter(cycle_id=cycle.pk, **only)
        .values("org_unit_id", "measure__chapter_id", "county_review_unit_id")
        .annotate(
            expected=Count("id"),
            received=Count("id", filter=received),
            on_time=Count("id", filter=received & Q(on_time=True)),
            approved=Count("id", filter=Q(status__in=APPROVED_STATES)),
            # The progress the unit has *sent*: a draft's rating is not the unit's word yet.
            on_track=Count("id", filter=received & Q(progress="on_track")),
            at_risk=Count("id", filter=received & Q(progress="at_risk")),
            blocked=Count("id", filter=received & Q(progress="blocked")),
            done=Count("id", filter=received & Q(progress="done")),
        )
        .order_by()
    )
    common = {"cycle_id": cycle.pk, "plan_id": cycle.plan_id, "refreshed_at": now}
    chapters, units = [], {}
    for g in groups:
        whose = {"org_unit_id": g["org_unit_id"], "review_unit_id": g["county_review_unit_id"]}
        chapters.append(
            ChapterCycleCount(
                **common,
                **whose,
                chapter_id=g["measure__chapter_id"],
                expected=g["expected"],
                received=g["received"],
                on_track=g["on_track"],
                at_risk=g["at_risk"],
                blocked=g["blocked"],
                done=g["done"],
            )
        )
        key = (g["org_unit_id"], g["county_review_unit_id"])
        unit = units.setdefault(key, UnitCycleCount(**common, **whose))
        unit.expected += g["expected"]
        unit.received += g["received"]
        unit.on_time += g["on_time"]
        unit.approved += g["approved"]
    return list(units.values()), chapters


def _replace(cycle_id: int, rows: tuple[list, list], **only: object) -> int:
    units, chapters = rows
    UnitCycleCount.objects.filter(cycle_id=cycle_id, **only).delete()
    ChapterCycleCount.objects.filter(cycle_id=cycle_id, **only).delete()
    UnitCycleCount.objects.bulk_create(units, batch_size=1000)
    ChapterCycleCount.objects.bulk_create(chapters, batch_size=1000)
    return len(units)


def _locked_state(cycle_id: int) -> CycleCountState:
    # The lock that serialises rebuilds of one cycle (two concurrent deletes then inserts
    # would count twice); taken after a report's own lock, never before one.
    CycleCountState.objects.get_or_create(cycle_id=cycle_id)
    return CycleCountState.objects.select_for_update().get(pk=cycle_id)


def refresh_unit(report: ProgressReport, *, created: bool = False) -> int:
    """Rebuild the rows of ``report``'s unit in its cycle, after a save of ``report``."""
    with transaction.atomic():
        state = _locked_state(report.cycle_id)
        if state.refreshed_at is None:
            # Never counted: count the whole cycle instead.
            return refresh_cycle(report.cycle_id)
        cycle = ReportingCycle.objects.only("pk", "plan_id").get(pk=report.cycle_id)
        only = {"org_unit_id": report.org_unit_id}
        n = _replace(cycle.pk, _count_rows(cycle, timezone.now(), **only), **only)
        # The fingerprint follows the one change it has seen; a change made without a
        # save signal still shows as a difference (stale_cycles).
        if created:
            state.report_count += 1
        if state.reports_changed_at is None or report.updated_at > state.reports_changed_at:
            state.reports_changed_at = report.updated_at
        state.save()
        return n


def refresh_cycle(cycle_id: int) -> int:
    """Rebuild one cycle's rows from its reports; returns how many units it counts."""
    with transaction.atomic():
        cycle = ReportingCycle.objects.only("pk", "plan_id").get(pk=cycle_id)
        state = _locked_state(cycle_id)
        now = timezone.now()
        n = _replace(cycle_id, _count_rows(cycle, now))
        count, changed = _fingerprint([cycle_id]).get(cycle_id, (0, None))
        state.refreshed_at = now
        state.report_count = count
        state.reports_changed_at = changed
        state.save()
        return n


def stale_cycles(cycle_ids: Iterable[int]) -> list[int]:
    """The cycles among ``cycle_ids`` whose reports differ from what was counted."""
    cycle_ids = list(cycle_ids)
    if not cycle_ids:
        return []
    now_state = _fingerprint(cycle_ids)
    counted = {
        s.cycle_id: (s.report_count, s.reports_changed_at)
        for s in CycleCountState.objects.filter(cycle_id__in=cycle_ids)
    }
    return [
        cid
        for cid in cycle_ids
        if cid not in counted or counted[cid] != now_state.get(cid, (0, None))
    ]


def refresh_stale(cycle_ids: Iterable[int]) -> list[int]:
    """Rebuild the cycles among ``cycle_ids`` that are stale; returns their ids."""
    stale = stale_cycles(cycle_ids)
    for cycle_id in stale:
        refresh_cycle(cycle_id)
    return stale


def refresh_open_cycles() -> int:
    """Every open cycle (the daily job): returns how many were rebuilt."""
    ids = list(
        ReportingCycle.objects.filter(status=ReportingCycle.Status.OPEN).values_list(
            "pk", flat=True
        )
    )
    for cycle_id in ids:
        refresh_cycle(cycle_id)
    return len(ids)


def refresh_all(plan_id: int | None = None) -> int:
    """Every cycle (of one plan): after a restore, a bulk load or a change of rules."""
    cycles = ReportingCycle.objects.all()
    if plan_id is not None:
        cycles = cycles.filter(plan_id=plan_id)
    ids = list(cycles.order_by("period_end", "pk").values_list("pk", flat=True))
    for cycle_id in ids:
        refresh_cycle(cycle_id)
    return len(ids)
