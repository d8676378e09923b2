"""Writes for plans: importing a parsed plan text, idempotently."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction

from qcity.core import audit
from qcity.core.models import OrgUnit, User
from qcity.core.services import create_unconfirmed_unit, resolve_unit_name
from qcity.plans.models import Chapter, Measure, Plan, Responsibility, Target
from qcity.plans.parser import ParsedPlan


@dataclass
class ImportReport:
    plan_id: int | None
    created: bool
    dry_run: bool
    changes: list[str] = field(default_factory=list)
    unconfirmed_units: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.changes)


class _DryRun(Exception):
    """Raised inside the import transaction to roll a dry run back."""


def import_plan(
    parsed: ParsedPlan,
    *,
    by: User | None,
    owner_unit: OrgUnit,
    source_name: str = "",
    source_sha256: str = "",
    dry_run: bool = False,
) -> ImportReport:
    """Store a parsed plan; re-importing the same text changes nothing.

    1. Find the plan by (issuer, title) or create it.
    2. Reconcile chapters by number, measures and targets by their position in
       the text; records no longer in the text are marked withdrawn, never
       deleted, because progress reports will point at them.
    3. Resolve every written unit name to an org unit or alias; an unknown
       name becomes an *unconfirmed* unit for the coordinator to confirm or map.
    4. Record one audit event listing the changes, if there are any.

    With ``dry_run`` all of this runs in a real transaction that is rolled
    back, so the report is exactly what a real run would do.
    """
    report = ImportReport(plan_id=None, created=False, dry_run=dry_run)
    try:
        with transaction.atomic():
            _apply(
                parsed,
                report,
                by=by,
                owner_unit=owner_unit,
                source_name=source_name,
                source_sha256=source_sha256,
            )
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    return report


def _apply(
    parsed: ParsedPlan,
    report: ImportReport,
    *,
    by: User | None,
    owner_unit: OrgUnit,
    source_name: str,
    source_sha256: str,
) -> None:
    plan = Plan.objects.select_for_update().filter(issuer=parsed.issuer, title=parsed.title).first()
    if plan is None:
        plan = Plan.objects.create(
            title=parsed.title,
            issuer=parsed.issuer,
            owner_unit=owner_unit,
            source_name=source_name,
            source_sha256=source_sha256,
        )
        report.created = True
        report.changes.append(f"新建方案：{parsed.title}")
    elif source_sha256 and plan.source_sha256 != source_sha256:
        Plan.objects.filter(pk=plan.pk).update(source_name=source_name, source_sha256=source_sha256)
        report.changes.append(f"来源文件更新：{source_name}")
    report.plan_id = plan.pk

    chapters = _sync_chapters(plan, parsed, report)
    measures = _sync_measures(plan, parsed, chapters, report, by=by)
    _sync_targets(plan, parsed, measures, report)

    if report.changes:
        audit.record(
            "plan.imported" if report.created else "plan.reimported",
            by=by,
            obj=plan,
            actor_label="" if by else "system",
            details={
                "source": source_name,
                "sha256": source_sha256,
                "changes": report.changes,
                "unconfirmed_units": report.unconfirmed_units,
            },
        )


def _sync_chapters(plan: Plan, parsed: ParsedPlan, report: ImportReport) -> dict[int, Chapter]:
    existing = {c.number: c for c in plan.chapters.all()}
    for chapter in parsed.chapters:
        current = existing.get(chapter.number)
        if current is None:
            existing[chapter.number] = Chapter.objects.create(
                plan=plan, number=chapter.number, heading=chapter.heading
            )
            if not report.created:
                report.changes.append(f"新增章节（{chapter.number}）{chapter.heading}")
        elif current.heading != chapter.heading:
            report.changes.append(
                f"章节（{chapter.number}）标题：{current.heading} → {chapter.heading}"
            )
            current.heading = chapter.heading
            current.save(update_fields=["heading"])
    return existing


def _sync_measures(
    plan: Plan,
    parsed: ParsedPlan,
    chapters: dict[int, Chapter],
    report: ImportReport,
    *,
    by: User | None,
) -> list[Measure]:
    existing = {m.seq: m for m in plan.measures.prefetch_related("responsibilities")}
    stored: list[Measure] = []
    units: dict[str, OrgUnit] = {}  # one lookup per written name, not per mention
    seq = 0
    for chapter in parsed.chapters:
        for parsed_measure in chapter.measures:
            seq += 1
            fields = {
                "chapter": chapters[chapter.number],
                "number": parsed_measure.number,
                "title": parsed_measure.title,
                "text": parsed_measure.text,
                "units_text": parsed_measure.units_text,
                "withdrawn": False,
            }
            measure, changed = _upsert(Measure, existing.get(seq), plan=plan, seq=seq, **fields)
            if changed is None and not report.created:
                report.changes.append(f"新增措施 {measure}")
            elif changed:
                report.changes.append(f"措施 {measure.number} 变更：{'、'.join(changed)}")
            _sync_responsibilities(
                measure,
                parsed_measure.responsible_units,
                set(parsed_measure.lead_units),
                report,
                units,
                by=by,
            )
            stored.append(measure)
    for stale in _withdraw(plan.measures.filter(seq__gt=seq, withdrawn=False)):
        report.changes.append(f"措施 {stale} 已不在文本中，标记为撤销")
    return stored


def _sync_responsibilities(
    measure: Measure,
    names: list[str],
    leads: set[str],
    report: ImportReport,
    units: dict[str, OrgUnit],
    *,
    by: User | None,
) -> None:
    wanted = [(name, name in leads) for name in names]
    current = [(r.written_name, r.is_lead) for r in measure.responsibilities.all()]
    if wanted == current:
        return
    measure.responsibilities.all().delete()
    rows = []
    for order, (name, is_lead) in enumerate(wanted, start=1):
        if name not in units:
            units[name] = resolve_unit_name(name) or _unconfirmed(name, report, by=by)
        unit = units[name]
        if unit.disabled_on is not None and name not in report.unconfirmed_units:
            report.changes.append(f"措施 {measure.number} 引用了已停用的单位“{name}”，请核实")
            report.unconfirmed_units.append(name)
        if not unit.confirmed and name not in report.unconfirmed_units:
            report.unconfirmed_units.append(name)
        rows.append(
            Responsibility(
                measure=measure, org_unit=unit, written_name=name, is_lead=is_lead, order=order
            )
        )
    Responsibility.objects.bulk_create(rows)
    if not report.created:
        report.changes.append(
            f"措施 {measure.number} 责任单位：{'、'.join(n for n, _ in current) or '无'}"
            f" → {'、'.join(names) or '无'}"
        )


def _unconfirmed(name: str, report: ImportReport, *, by: User | None) -> OrgUnit:
    unit = create_unconfirmed_unit(name, by=by, source="plan import")
    report.changes.append(f"未知单位名称“{name}”存为待确认单位")
    return unit


def _sync_targets(
    plan: Plan, parsed: ParsedPlan, measures: list[Measure], report: ImportReport
) -> None:
    existing = {t.seq: t for t in plan.targets.all()}

    def measure_for(sentence: str, number: int | None) -> Measure | None:
        # Numbering may restart per chapter, so find the measure by its text first.
        if number is None:
            return None
        by_text = [m for m in measures if sentence and sentence in m.text]
        by_number = [m for m in measures if m.number == number]
        return (by_text or by_number or [None])[0]

    for seq, target in enumerate(parsed.targets, start=1):
        fields = {
            "measure": measure_for(target.sentence, target.measure_number),
            "indicator_name": target.indicator,
            "text": target.text,
            "sentence": target.sentence,
            "value": Decimal(str(target.value)),
            "unit": target.unit,
            "comparator": target.comparator,
            "year": target.year,
            "withdrawn": False,
        }
        _, changed = _upsert(Target, existing.get(seq), plan=plan, seq=seq, **fields)
        if changed is None and not report.created:
            report.changes.append(f"新增目标：{target.text}")
        elif changed:
            report.changes.append(f"目标 {seq} 变更：{target.text}")
    for stale in _withdraw(plan.targets.filter(seq__gt=len(parsed.targets), withdrawn=False)):
        report.changes.append(f"目标“{stale.text}”已不在文本中，标记为撤销")


def _upsert(model, current, *, plan: Plan, seq: int, **fields):
    """Create the row at ``seq`` or update only the fields that differ.

    Returns (row, changed field names), with None for a new row; saving only
    what changed is what keeps a re-import of the same text a no-op.
    """
    if current is None:
        return model.objects.create(plan=plan, seq=seq, **fields), None
    changed = [name for name, value in fields.items() if getattr(current, name) != value]
    for name in changed:
        setattr(current, name, fields[name])
    if changed:
        current.save(update_fields=changed)
    return current, changed


def _withdraw(stale_rows):
    """Mark rows that left the text as withdrawn; never delete (reports will point at them)."""
    rows = list(stale_rows)
    for row in rows:
        row.withdrawn = True
        row.save(update_fields=["withdrawn"])
    return rows
