"""The quarterly report to the city government: one cycle of a plan, as PDF and XLSX.

``build(user, cycle)`` reads everything through the data scope (``reporting.selectors``,
``plans.target_links``): the coordinator of the plan gets every unit's reports, a liaison
who asks gets only its own unit's. The same ``QuarterlyReport`` is then written as a PDF
(``core.pdf``) and as a workbook (``core.exports``, one sheet per section), so both
files always say the same thing.

Sections: a cover (plan, period, date), a summary, each chapter with each measure's
status and the units' latest narratives, the late units, and the targets against their
indicators (``metrics.status``: latest value, target, status label).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.translation import gettext as _

from qcity.core.exports import Column, Sheet
from qcity.core.models import User
from qcity.core.pdf import PdfDocument
from qcity.plans import target_links
from qcity.plans.models import Plan
from qcity.reporting import selectors
from qcity.reporting.models import Progress, ProgressReport, ReportingCycle

# A measure's status across its units' received reports: the most serious one wins,
# and it is 已完成 only when every unit that reported says so.
_SERIOUSNESS = [Progress.BLOCKED, Progress.AT_RISK, Progress.ON_TRACK]


@dataclass(frozen=True)
class UnitLine:
    """One unit's report on one measure."""

    unit: str
    lead: bool
    status: str  # the report's workflow state, as a label
    progress: str  # 按计划推进 … as a label; "" until received
    narrative: str  # only from a received report
    submitted_on: dt.date | None
    late: bool


@dataclass
class MeasureSection:
    number: int
    title: str
    status: str
    lines: list[UnitLine]


@dataclass(frozen=True)
class ChapterSection:
    title: str
    measures: list[MeasureSection]


@dataclass(frozen=True)
class LateUnit:
    unit: str
    expected: int
    missing: int  # not received although the due date has passed
    submitted_late: int  # first received after the due date
    measures: list[int]


@dataclass(frozen=True)
class TargetLine:
    indicator_name: str
    target: str
    year: int | None
    indicator: str
    latest: str
    latest_period: str
    status: str


@dataclass
class QuarterlyReport:
    plan: Plan
    cycle: ReportingCycle
    today: dt.date
    whole_plan: bool  # False: only the asking unit's reports are in it
    expected: int = 0
    received: int = 0
    approved: int = 0
    missing: int = 0
    chapters: list[ChapterSection] = field(default_factory=list)
    late_units: list[LateUnit] = field(default_factory=list)
    targets: list[TargetLine] = field(default_factory=list)

    @property
    def title(self) -> str:
        return _("%(plan)s %(period)s工作进展报告") % {
            "plan": self.plan.title,
            "period": self.cycle.label,
        }

    @property
    def period(self) -> str:
        return _("%(start)s 至 %(end)s") % {
            "start": self.cycle.period_start.isoformat(),
            "end": self.cycle.period_end.isoformat(),
        }

    @property
    def filename_stem(self) -> str:
        return _("季度工作报告_%(period)s") % {"period": self.cycle.label}


def build(user: User, cycle: ReportingCycle, *, today: dt.date | None = None) -> QuarterlyReport:
    """The report on ``cycle`` as ``user`` may see it."""
    today = today or timezone.localdate()
    plan = cycle.plan
    reports = list(
        selectors.reports_for(user, cycle=cycle).order_by(
            "measure__chapter__number", "measure__seq", "-is_lead", "org_unit__name", "pk"
        )
    )
    seen_units = {r.org_unit_id for r in reports}
    # Says on the cover whether this is the whole plan or one unit's part of it.
    whole_plan = not (
        ProgressReport.objects.filter(cycle=cycle).exclude(org_unit_id__in=seen_units).exists()
    )
    report = QuarterlyReport(plan=plan, cycle=cycle, today=today, whole_plan=whole_plan)
    report.expected = len(reports)
    chapters: dict[int, ChapterSection] = {}
    measures: dict[int, MeasureSection] = {}
    progress_of: dict[int, list[str]] = {}
    late: dict[int, dict] = {}
    for r in reports:
        received = r.status in ProgressReport.RECEIVED
        submitted_on = timezone.localdate(r.first_submitted_at) if r.first_submitted_at else None
        missing = r.first_submitted_at is None and today > cycle.due_date
        submitted_late = submitted_on is not None and submitted_on > cycle.due_date
        report.received += r.first_submitted_at is not None
        report.approved += r.status in (
            ProgressReport.Status.APPROVED,
            ProgressReport.Status.LOCKED,
        )
        report.missing += missing
        chapter = r.measure.chapter
        if chapter.pk not in chapters:
            chapters[chapter.pk] = ChapterSection(f"{chapter.numbering}{chapter.heading}", [])
        if r.measure_id not in measures:
            measures[r.measure_id] = MeasureSection(r.measure.number, r.measure.title, "", [])
            chapters[chapter.pk].measures.append(measures[r.measure_id])
        measures[r.measure_id].lines.append(
            UnitLine(
                unit=r.org_unit.name,
                lead=r.is_lead,
                status=str(r.get_status_display()),
                progress=str(r.get_progress_display()) if received and r.progress else "",
                narrative=r.narrative if received else "",
                submitted_on=submitted_on,
                late=missing or submitted_late,
            )
        )
        if received and r.progress:
            progress_of.setdefault(r.measure_id, []).append(r.progress)
        if missing or submitted_late:
            entry = late.setdefault(
                r.org_unit_id,
                {"unit": r.org_unit.name, "missing": 0, "late": 0, "measures": []},
            )
            entry["missing"] += missing
            entry["late"] += submitted_late
            entry["measures"].append(r.measure.number)
    expected_by_unit: dict[int, int] = {}
    for r in reports:
        expected_by_unit[r.org_unit_id] = expected_by_unit.get(r.org_unit_id, 0) + 1
    for pk, section in measures.items():
        section.status = _measure_status(progress_of.get(pk, []))
    report.chapters = list(chapters.values())
    report.late_units = sorted(
        (
            LateUnit(e["unit"], expected_by_unit[pk], e["missing"], e["late"], e["measures"])
            for pk, e in late.items()
        ),
        key=lambda u: (-u.missing, -u.submitted_late, u.unit),
    )
    report.targets = _targets(user, plan)
    return report


def _measure_status(progress: list[str]) -> str:
    if not progress:
        return _("暂无已报送的报告")
    if all(p == Progress.DONE for p in progress):
        return str(Progress.DONE.label)
    for candidate in _SERIOUSNESS:
        if candidate in progress:
            return str(candidate.label)
    return str(Progress.ON_TRACK.label)


def _targets(user: User, plan: Plan) -> list[TargetLine]:
    lines = []
    for target in target_links.visible_plan_targets(user, plan):
        status, _baseline, latest = target_links.status_of(target)
        indicator = target.indicator
        if target.value is None:
            label = _("定性目标（由协调员评定）")
        elif status is None:
            label = _("未关联指标")
        else:
            label = str(status.label)
        lines.append(
            TargetLine(
                indicator_name=target.indicator_name,
                target=target.text,
                year=target.year,
                indicator=indicator.name if indicator is not None else "",
                latest=(f"{latest.value_display}{indicator.unit}" if latest and indicator else ""),
                latest_period=latest.period if latest else "",
                status=label,
            )
        )
    return lines


# --- PDF ---------------------------------------------------------------------------------------


def _unit_columns() -> list[Column]:
    # Built per call so the headers follow the request's language.
    return [
        Column(_("报送单位"), 16),
        Column(_("报告状态"), 13),
        Column(_("推进情况"), 10),
        Column(_("进展情况"), 41),
    ]


def _late_columns() -> list[Column]:
    return [
        Column(_("单位"), 24),
        Column(_("应报"), 8),
        Column(_("逾期未报"), 10),
        Column(_("逾期报送"), 10),
        Column(_("涉及举措"), 30),
    ]


def _target_columns() -> list[Column]:
    return [
        Column(_("指标"), 19),
        Column(_("目标"), 28),
        Column(_("目标年份"), 9),
        Column(_("关联指标"), 17),
        Column(_("最新值"), 13),
        Column(_("状态"), 16),
    ]


def _unit_name(line: UnitLine) -> str:
    return f"{line.unit}（{_('牵头')}）" if line.lead else line.unit


def _unit_status(line: UnitLine) -> str:
    return f"{line.status}（{_('逾期')}）" if line.late else line.status


def _late_rows(report: QuarterlyReport) -> list[Sequence]:
    return [
        (u.unit, u.expected, u.missing, u.submitted_late, "、".join(str(n) for n in u.measures))
        for u in report.late_units
    ]


def _target_rows(report: QuarterlyReport) -> list[Sequence]:
    return [
        (
            t.indicator_name,
            t.target,
            t.year or "",
            t.indicator or "—",
            f"{t.latest}（{t.latest_period}）" if t.latest else "—",
            t.status,
        )
        for t in report.targets
    ]


def _summary(report: QuarterlyReport) -> list[tuple[str, str]]:
    cycle = report.cycle
    rows = [
        (_("实施方案"), report.plan.title),
        (_("报送期"), f"{cycle.label}（{report.period}）"),
        (_("报送截止日期"), cycle.due_date.isoformat()),
        (_("生成日期"), report.today.isoformat()),
        (_("应报报告"), str(report.expected)),
        (_("已报送"), str(report.received)),
        (_("审核通过"), str(report.approved)),
        (_("逾期未报"), str(report.missing)),
    ]
    if not report.whole_plan:
        rows.append((_("范围"), _("仅含本单位权限范围内的报告")))
    return rows


def to_pdf(report: QuarterlyReport) -> PdfDocument:
    doc = PdfDocument(report.title, author=report.plan.issuer, subject=report.cycle.label)
    cover_lines = [report.cycle.label, report.period, report.plan.issuer]
    cover_lines.append(_("生成日期：%(date)s") % {"date": report.today.isoformat()})
    if not report.whole_plan:
        cover_lines.append(_("（仅含本单位权限范围内的报告）"))
    doc.cover(report.title, cover_lines)
    doc.heading(_("一、总体情况"))
    doc.table([Column(_("项目"), 12), Column(_("内容"), 40)], _summary(report))
    doc.heading(_("二、各项举措进展"))
    if not report.chapters:
        doc.paragraph(_("本报送期没有可见的进展报告。"))
    for chapter in report.chapters:
        doc.heading(chapter.title, 2)
        for measure in chapter.measures:
            doc.heading(
                _("%(number)s. %(title)s（%(status)s）")
                % {"number": measure.number, "title": measure.title, "status": measure.status},
                3,
            )
            doc.table(
                _unit_columns(),
                (
                    (_unit_name(line), _unit_status(line), line.progress or "—", line.narrative)
                    for line in measure.lines
                ),
            )
    doc.heading(_("三、逾期单位"))
    if report.late_units:
        doc.table(_late_columns(), _late_rows(report))
    else:
        doc.paragraph(_("截至生成日期，没有逾期未报或逾期报送的单位。"))
    doc.heading(_("四、主要目标与指标"))
    if report.targets:
        doc.table(_target_columns(), _target_rows(report))
    else:
        doc.paragraph(_("方案没有可见的目标。"))
    return doc


# --- XLSX --------------------------------------------------------------------------------------


def _measure_columns() -> list[Column]:
    return [
        Column(_("章节"), 24),
        Column(_("举措编号"), 8),
        Column(_("举措"), 30),
        Column(_("举措状态"), 12),
        Column(_("报送单位"), 20),
        Column(_("牵头"), 6),
        Column(_("报告状态"), 12),
        Column(_("推进情况"), 12),
        Column(_("进展情况"), 60),
        Column(_("首次报送日期"), 12),
        Column(_("逾期"), 6),
    ]


def _measure_rows(report: QuarterlyReport):
    yes, no = _("是"), _("否")
    for chapter in report.chapters:
        for measure in chapter.measures:
            for line in measure.lines:
                yield (
                    chapter.title,
                    measure.number,
                    measure.title,
                    measure.status,
                    line.unit,
                    yes if line.lead else no,
                    line.status,
                    line.progress,
                    line.narrative,
                    line.submitted_on,
                    yes if line.late else no,
                )


def xlsx_parts(report: QuarterlyReport) -> dict:
    """Keyword arguments of ``core.exports.xlsx_response`` (minus request, what, obj)."""
    return {
        "title": report.title,
        "sheet": _("概况"),
        "columns": [Column(_("项目"), 16), Column(_("内容"), 60)],
        "rows": _summary(report),
        "filename": f"{report.filename_stem}.xlsx",
        "extra_sheets": [
            Sheet(_("各项举措进展"), _measure_columns(), list(_measure_rows(report))),
            Sheet(_("逾期单位"), _late_columns(), _late_rows(report)),
            Sheet(_("主要目标与指标"), _target_columns(), _target_rows(report)),
        ],
    }
