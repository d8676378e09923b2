"""A year of demo reporting activity, so that ``make run`` shows a living plan.

``load_demo_activity()`` (the ``qcity load_demo_activity`` command, run by ``make run``
after ``load_defaults``) gives every responsible unit of the Tieling plan a liaison
account, opens the quarterly cycles of the last year up to the current quarter and
has the units' own people write, submit and resubmit their reports and the coordinator
return, approve and close them, all through ``reporting.services`` and
``core.workflow.take``: every report that left its draft has its transitions and audit
events, exactly as if the people had used the pages.

Only the clock is borrowed. The services stamp "now"; ``backdate()`` then moves the
stamps of the demo rows (transition times and their deadlines, the reports' submission,
approval and change times, the cycles' opening and closing times, the notices) to the
past days the story chose. The audit log is left alone: it says, truthfully, that the
demo was loaded today, by whom and what it did.

Deterministic: every choice comes from a ``random.Random`` seeded with the seed, the
period and the measure and unit, so the same day gives the same year. Never under
production settings (``core.demo.DemoDataRefused``), and idempotent: a plan that already
has reporting cycles is left as it is.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import groupby

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone

from qcity.core import audit, workdays
from qcity.core.demo import DEMO_PASSWORD, DemoDataRefused, create_demo_users
from qcity.core.models import Notice, OrgUnit, Role, Transition, User
from qcity.core.workflow import take
from qcity.plans.models import Plan, Responsibility
from qcity.reporting import demo_text as text
from qcity.reporting import services
from qcity.reporting.models import Progress, ProgressReport, ReportingCycle
from qcity.reporting.periods import Frequency, period

SEED = 2026
# The current quarter and the four before it: a year of reports up to today.
QUARTERS = 5
REPORT_WORKFLOW = services.REPORT.name
# Steps whose notices (reporting.services' notify hooks) are kept with the report.
NOTIFYING_STEPS = ("submit", "resubmit", "county_approve", "return", "approve")
# Deadline rules the report steps use, and their lengths, to recompute from the past day.
RULE_WORKDAYS = {
    "reporting.review": services.REVIEW_WORKDAYS,
    "reporting.resubmit": services.RESUBMIT_WORKDAYS,
}
# A notice older than this was read by its recipient; newer ones are still unread.
READ_AFTER = dt.timedelta(days=3)


@dataclass(frozen=True)
class Loaded:
    """What one run did; ``already`` when the plan had its cycles and nothing was written."""

    users: int = 0
    cycles: int = 0
    reports: int = 0
    received: int = 0
    returns: int = 0
    approved: int = 0
    already: bool = False


@dataclass
class Stamps:
    """When the things the services stamped "now" happened in the demo story."""

    transitions: dict[int, dt.datetime] = field(default_factory=dict)
    report_written: dict[int, dt.datetime] = field(default_factory=dict)
    cycles: dict[int, tuple[dt.datetime, dt.datetime | None]] = field(default_factory=dict)


# --- people -----------------------------------------------------------------------------------


def demo_liaison_units(plan: Plan) -> list[OrgUnit]:
    """The confirmed, enabled units responsible for a measure of ``plan``, by name."""
    ids = Responsibility.objects.filter(
        measure__plan=plan, measure__withdrawn=False, org_unit__confirmed=True
    ).values("org_unit_id")
    return list(OrgUnit.objects.enabled().filter(pk__in=ids).order_by("name"))


def create_demo_liaisons(plan: Plan) -> int:
    """One liaison account for each responsible unit that has no reporter yet (audited)."""
    units = demo_liaison_units(plan)
    staffed = set(
        User.objects.filter(unit__in=units, role__in=services.REPORTER_ROLES).values_list(
            "unit_id", flat=True
        )
    )
    # One hash for all: the demo accounts share the published demo password, and argon2
    # per account would cost most of the load's time.
    password = None
    created = 0
    for unit in units:
        if unit.pk in staffed:
            continue
        username, full_name = text.LIAISONS.get(unit.name, (f"liaison{unit.pk}", ""))
        if User.objects.filter(username=username).exists():
            continue
        role = Role.LAB if unit.kind == OrgUnit.Kind.INSTITUTION else Role.DEPARTMENT_LIAISON
        password = password or make_password(DEMO_PASSWORD)
        user = User.objects.create(
            username=username,
            full_name=full_name or f"{unit.name}联络员",
            role=role,
            unit=unit,
            password=password,
        )
        audit.record(
            "user.created",
            by=None,
            obj=user,
            actor_label="system",
            details={"role": role, "unit": unit.name, "demo": True},
        )
        created += 1
    return created


# --- the story --------------------------------------------------------------------------------


@dataclass
class _Event:
    step: str  # "save" or a step of services.REPORT
    at: dt.datetime
    reason: str = ""


@dataclass
class _Unit:
    reliability: float  # chance a report is sent at all
    late: float  # chance a sent report is late
    returned: float  # chance the coordinator returns it


def _unit_profile(seed: int, unit: OrgUnit, owner: bool) -> _Unit:
    rng = random.Random(f"{seed}:unit:{unit.name}")
    # Most units report dependably; a few (often those outside the government's own
    # departments) are slow, which is what the rates and the assessment should show.
    # The plan's owner, whose coordinator chases the others, is never one of them.
    weak = not owner and rng.random() < (0.5 if unit.kind == OrgUnit.Kind.EXTERNAL else 0.12)
    if weak:
        return _Unit(rng.uniform(0.55, 0.8), rng.uniform(0.3, 0.5), rng.uniform(0.2, 0.35))
    return _Unit(rng.uniform(0.93, 1.0), rng.uniform(0.03, 0.15), rng.uniform(0.05, 0.15))


def _at(rng: random.Random, day: dt.date) -> dt.datetime:
    """A moment of office hours (08:40–17:20) on ``day``, in the local time zone."""
    minutes = rng.randint(8 * 60 + 40, 17 * 60 + 20)
    moment = dt.datetime.combine(day, dt.time(minutes // 60, minutes % 60, rng.randint(0, 59)))
    return timezone.make_aware(moment)


# The story asks about thousands of days: it reads one snapshot of the calendar
# (core.workdays' module functions check the calendar's version on every call).
Calendar = workdays.Calendar


def _after(cal: Calendar, day: dt.date, low: int, high: int, rng: random.Random) -> dt.date:
    return cal.add(day, rng.randint(low, high), allow_provisional=True)


def _workday_between(cal: Calendar, rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    """A random working day after ``start`` up to ``end`` (``end`` itself if none)."""
    days = []
    day = start
    while day < end:
        day += dt.timedelta(days=1)
        if cal.is_workday(day, allow_provisional=True):
            days.append(day)
    return rng.choice(days) if days else end


def _content(
    rng: random.Random, report: ProgressReport, cycle: ReportingCycle
) -> tuple[str, str, list[dict[str, str]]]:
    """Progress, narrative and key figures of one unit's report on one measure."""
    late_in_year = cycle.period >= 3
    progress = rng.choices(
        [Progress.ON_TRACK, Progress.AT_RISK, Progress.BLOCKED, Progress.DONE],
        weights=[70, 14, 4, 12 if late_in_year else 3],
    )[0]
    actions, figure_kinds = text.MEASURES.get(report.measure.number, text.GENERIC_MEASURE)
    unit_work = rng.choice(text.UNIT_WORK.get(report.org_unit.name, text.GENERIC_UNIT_WORK))
    chosen = rng.sample(actions, k=min(2, len(actions)))
    figures = []
    for name, unit, low, high, decimals in rng.sample(
        figure_kinds, k=rng.randint(1, len(figure_kinds))
    ):
        value = round(rng.uniform(low, high), decimals)
        figures.append({"name": name, "value": f"{value:.{decimals}f}", "unit": unit})
    said = "，".join(f"{f['name']}{f['value']}{f['unit']}" for f in figures)
    if progress == Progress.AT_RISK:
        closing = f"存在风险：{rng.choice(text.RISKS)}，已制定应对措施，加强调度。"
    elif progress == Progress.BLOCKED:
        closing = f"工作受阻：{rng.choice(text.BLOCKS)}，请市质量强市工作领导小组办公室协调。"
    elif progress == Progress.DONE:
        closing = f"{rng.choice(text.DONE)}。"
    else:
        closing = f"{rng.choice(text.NEXT_STEPS)}。"
    narrative = (
        f"{cycle.year}年{text.QUARTER_NAMES.get(cycle.period, '')}，{report.org_unit.name}"
        f"{unit_work}，推进“{report.measure.title}”各项任务：{'；'.join(chosen)}。"
        f"本季度{said}。{closing}"
    )
    return progress, narrative, figures


def _story(
    rng: random.Random,
    report: ProgressReport,
    cycle: ReportingCycle,
    unit: _Unit,
    opened: dt.date,
    phase: str,
    now: dt.datetime,
    cal: Calendar,
) -> list[_Event]:
    """What happens to one report: saves and steps with their times, all before ``now``.

    ``phase``: ``current`` (the quarter under way), ``reviewing`` (the last quarter,
    still being chased and reviewed: late reports arrive up to today) or ``closed``.
    """
    events: list[_Event] = []
    reviewing = phase == "reviewing"
    if phase == "current":
        # The current quarter: some units have drafts, a few have sent theirs early.
        roll = rng.random()
        if roll < 0.45:
            day = _workday_between(cal, rng, opened, timezone.localdate(now))
            events.append(_Event("save", _at(rng, day)))
            if roll < 0.15:
                events.append(_Event("submit", events[-1].at + dt.timedelta(minutes=25)))
                if roll < 0.07:
                    events.append(_Event("approve", _at(rng, _after(cal, day, 1, 4, rng))))
    elif rng.random() > unit.reliability:
        # Never sent: now and then a draft was begun and left.
        if rng.random() < 0.4:
            events.append(
                _Event("save", _at(rng, _workday_between(cal, rng, opened, cycle.due_date)))
            )
    else:
        late = rng.random() < unit.late
        if late:
            day = _after(cal, cycle.on_time_by, *((3, 30) if reviewing else (1, 18)), rng)
        else:
            day = _workday_between(cal, rng, opened, cycle.on_time_by)
        submitted = _at(rng, day)
        events += [
            _Event("save", submitted - dt.timedelta(minutes=rng.randint(15, 90))),
            _Event("submit", submitted),
        ]
        returns = 0
        while returns < 2 and rng.random() < (unit.returned if returns == 0 else 0.2):
            day = _after(cal, day, 1, 4, rng)
            events.append(_Event("return", _at(rng, day), rng.choice(text.RETURN_REASONS)))
            day = _after(cal, day, 1, 4, rng)
            resubmitted = _at(rng, day)
            events += [
                _Event("save", resubmitted - dt.timedelta(minutes=rng.randint(10, 60))),
                _Event("resubmit", resubmitted),
            ]
            returns += 1
        events.append(
            _Event(
                "approve",
                _at(rng, _after(cal, day, *((3, 25) if reviewing and late else (1, 5)), rng)),
            )
        )
    # Nothing happens in the future; events on one day keep their order.
    kept: list[_Event] = []
    for event in events:
        if event.at >= now or (kept and event.at <= kept[-1].at):
            break
        kept.append(event)
    return kept


def _act(
    rng: random.Random,
    report: ProgressReport,
    cycle: ReportingCycle,
    events: list[_Event],
    reporter: User,
    coordinator: User,
    stamps: Stamps,
) -> None:
    """Play one report's story through the services, as its unit and the coordinator."""
    progress, narrative, figures = _content(rng, report, cycle)
    for event in events:
        if event.step == "save":
            if any(e.step == "return" for e in events if e.at < event.at):
                narrative = f"{narrative}{rng.choice(text.RESUBMIT_ADDENDA)}"
            services.save_report(
                reporter, report.pk, progress=progress, narrative=narrative, figures=figures
            )
            stamps.report_written[report.pk] = event.at
            continue
        actor = reporter if event.step in ("submit", "resubmit") else coordinator
        transition = take(services.REPORT, event.step, report.pk, by=actor, reason=event.reason)
        stamps.transitions[transition.pk] = event.at
        stamps.report_written[report.pk] = event.at


def quarters(today: dt.date, count: int = QUARTERS) -> list[tuple[int, int]]:
    """(year, quarter) of the current quarter and the ``count - 1`` before it, oldest first."""
    year, quarter = today.year, (today.month - 1) // 3 + 1
    found = []
    for _ in range(count):
        found.append((year, quarter))
        year, quarter = (year, quarter - 1) if quarter > 1 else (year - 1, 4)
    return found[::-1]


def _opened_day(cal: Calendar, start: dt.date, end: dt.date, today: dt.date) -> dt.date:
    """Cycles are opened about six weeks before the period ends (never after today)."""
    day = max(start, min(end - dt.timedelta(days=42), today - dt.timedelta(days=1)))
    while not cal.is_workday(day, allow_provisional=True) and day < today:
        day += dt.timedelta(days=1)
    return day


def load_demo_activity(today: dt.date | None = None, *, seed: int = SEED) -> Loaded:
    """Load the demo year into the Tieling plan (see the module's docstring).

    :raises DemoDataRefused: under production settings, or when there is no plan yet.
    """
    if not settings.QCITY_DEMO_DATA:
        raise DemoDataRefused("生产环境不加载演示数据")
    today = today or timezone.localdate()
    plan = Plan.objects.filter(owner_unit__isnull=False).order_by("pk").first()
    if plan is None:
        raise DemoDataRefused("还没有方案：请先运行 qcity load_defaults")
    create_demo_users()
    coordinator = User.objects.get(username="coordinator")
    stamps = Stamps()
    with transaction.atomic():
        users = create_demo_liaisons(plan)
        if ReportingCycle.objects.filter(plan=plan).exists():
            return Loaded(users=users, already=True)
        loaded = _load_cycles(plan, coordinator, today, seed, stamps)
        backdate(stamps)
    # The notify hooks of the steps ran at the commit above; their notices exist now.
    backdate_notices(list(stamps.report_written), now=timezone.now())
    return Loaded(users=users, **loaded)


def _load_cycles(
    plan: Plan, coordinator: User, today: dt.date, seed: int, stamps: Stamps
) -> dict[str, int]:
    now = timezone.now()
    cal = workdays.snapshot()
    reporters = {}
    for user in User.objects.filter(role__in=services.REPORTER_ROLES, is_active=True).order_by(
        "pk"
    ):
        reporters.setdefault(user.unit_id, user)
    profiles: dict[int, _Unit] = {}
    counts = {"cycles": 0, "reports": 0, "received": 0, "returns": 0, "approved": 0}
    for year, quarter in quarters(today):
        p = period(Frequency.QUARTERLY, year, quarter)
        opened = _opened_day(cal, p.start, p.end, today)
        phase = (
            "current"
            if p.end >= today
            else "reviewing"
            if (year, quarter) == quarters(today)[-2]
            else "closed"
        )
        cycle = services.open_cycle(plan, Frequency.QUARTERLY, year, quarter, by=coordinator).cycle
        opened_at = _at(random.Random(f"{seed}:{p.label}:opened"), opened)
        opened_at = min(opened_at, now - dt.timedelta(hours=1))
        counts["cycles"] += 1
        last = opened_at
        reports = list(
            cycle.reports.select_related("measure", "org_unit").order_by("measure__seq", "pk")
        )
        for report in reports:
            reporter = reporters.get(report.org_unit_id)
            if reporter is None:
                continue  # a unit without a reporter account writes nothing (shows as missing)
            unit = profiles.get(report.org_unit_id) or profiles.setdefault(
                report.org_unit_id,
                _unit_profile(seed, report.org_unit, report.org_unit_id == plan.owner_unit_id),
            )
            rng = random.Random(f"{seed}:{p.label}:{report.measure.number}:{report.org_unit.name}")
            events = _story(rng, report, cycle, unit, opened, phase, now, cal)
            if events and events[0].at <= opened_at:
                events = []  # only where "today" squeezes the opening day (a new quarter)
            _act(rng, report, cycle, events, reporter, coordinator, stamps)
            if events:
                last = max(last, events[-1].at)
            steps = [e.step for e in events]
            counts["received"] += "submit" in steps
            counts["returns"] += steps.count("return")
            counts["approved"] += "approve" in steps
        counts["reports"] += len(reports)
        closed_at = None
        # A past quarter is closed once its last report was approved, a few days later;
        # the last one before the current quarter is still being reviewed.
        if phase == "closed":
            rng = random.Random(f"{seed}:{p.label}:closed")
            day = _after(cal, max(cycle.due_date, timezone.localdate(last)), 2, 6, rng)
            closed_at = _at(rng, day)
            if closed_at < now:
                close = services.close_cycle(coordinator, cycle.pk)
                stamps.transitions[close.pk] = closed_at
                for pk in Transition.objects.filter(
                    workflow=REPORT_WORKFLOW,
                    step="lock",
                    object_id__in=[str(r.pk) for r in reports],
                ).values_list("pk", flat=True):
                    stamps.transitions[pk] = closed_at
            else:
                closed_at = None
        stamps.cycles[cycle.pk] = (opened_at, closed_at)
    return counts


# --- the borrowed clock -----------------------------------------------------------------------


def backdate(stamps: Stamps) -> None:
    """Move the "now" the services stamped on the demo rows to the story's past times.

    The one place the demo rewrites history, and only rows it wrote itself in this run:

    - ``Transition.time`` and the deadline each step computed from "now" (review and
      resubmission deadlines are recomputed from the past day by the same rules);
    - on each report: ``first_submitted_at``, ``submitted_at``, ``on_time`` (first
      submission by the cycle's ``on_time_by``), ``approved_at``, ``status_changed_at``,
      ``due_date`` (the deadline of its last step, the cycle's due date if none) and
      ``updated_at``;
    - on each cycle: ``opened_at`` and ``status_changed_at`` (closing).

    Transitions are append-only for the application (``Transition.save`` refuses an
    update); this bulk update is the documented exception. Audit events are not touched.
    """
    moved = list(Transition.objects.filter(pk__in=list(stamps.transitions)))
    for t in moved:
        t.time = stamps.transitions[t.pk]
        if t.deadline_rule in RULE_WORKDAYS:
            d = workdays.deadline(
                timezone.localdate(t.time), RULE_WORKDAYS[t.deadline_rule], rule=t.deadline_rule
            )
            t.deadline_due, t.deadline_provisional = d.due, d.provisional
            t.deadline_calendar_version = str(d.calendar_version)
    Transition.objects.bulk_update(
        moved,
        ["time", "deadline_due", "deadline_provisional", "deadline_calendar_version"],
        batch_size=100,
    )
    cycles = ReportingCycle.objects.in_bulk(list(stamps.cycles))
    for pk, (opened_at, closed_at) in stamps.cycles.items():
        cycles[pk].opened_at = opened_at
        if closed_at is not None:
            cycles[pk].status_changed_at = closed_at
    ReportingCycle.objects.bulk_update(cycles.values(), ["opened_at", "status_changed_at"])

    report_type = ContentType.objects.get_for_model(ProgressReport)
    steps: dict[int, list[Transition]] = defaultdict(list)
    for t in sorted(
        (t for t in moved if t.content_type_id == report_type.pk), key=lambda t: (t.time, t.pk)
    ):
        steps[int(t.object_id)].append(t)
    reports = ProgressReport.objects.select_related("cycle").in_bulk(
        list(stamps.report_written) + list(steps)
    )
    for pk, report in reports.items():
        history = steps.get(pk, [])
        sent = [t.time for t in history if t.step in ("submit", "resubmit")]
        approved = [t.time for t in history if t.step == "approve"]
        report.first_submitted_at = sent[0] if sent else None
        report.submitted_at = sent[-1] if sent else None
        report.on_time = timezone.localdate(sent[0]) <= report.cycle.on_time_by if sent else None
        report.approved_at = approved[-1] if approved else None
        if history:
            report.status_changed_at = history[-1].time
            report.due_date = history[-1].deadline_due
        report.updated_at = max(
            [stamps.report_written.get(pk, report.cycle.opened_at)] + [t.time for t in history]
        )
    ProgressReport.objects.bulk_update(
        reports.values(),
        [
            "first_submitted_at",
            "submitted_at",
            "on_time",
            "approved_at",
            "status_changed_at",
            "due_date",
            "updated_at",
        ],
        batch_size=100,
    )


def backdate_notices(report_pks: list[int], *, now: dt.datetime) -> int:
    """Date the notices the report steps left (after commit) at their steps' times.

    Each notifying step wrote one batch of notices about its report (one per recipient,
    one ``created_at``), in the order the steps were taken, so the n-th batch belongs to
    the n-th notifying transition. A notice older than ``READ_AFTER`` counts as read.
    A report whose notices do not pair up so is left as it is. Returns the number moved.
    """
    report_type = ContentType.objects.get_for_model(ProgressReport)
    ids = [str(pk) for pk in report_pks]
    steps: dict[str, list[dt.datetime]] = defaultdict(list)
    for object_id, time in (
        Transition.objects.filter(
            content_type=report_type, object_id__in=ids, step__in=NOTIFYING_STEPS
        )
        .order_by("pk")
        .values_list("object_id", "time")
    ):
        steps[object_id].append(time)
    notices = Notice.objects.filter(content_type=report_type, object_id__in=ids).order_by(
        "object_id", "pk"
    )
    moved = []
    for object_id, rows in groupby(notices, key=lambda n: n.object_id):
        batches = [list(b) for _, b in groupby(rows, key=lambda n: n.created_at)]
        if len(batches) != len(steps[object_id]):
            continue
        for batch, time in zip(batches, steps[object_id], strict=True):
            for notice in batch:
                notice.created_at = time
                notice.read_at = time + dt.timedelta(hours=2) if now - time > READ_AFTER else None
                moved.append(notice)
    Notice.objects.bulk_update(moved, ["created_at", "read_at"], batch_size=100)
    return len(moved)
