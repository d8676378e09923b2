"""Writes for plans: importing a parsed plan text, idempotently."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import models, transaction
from django.db.backends.base.operations import BaseDatabaseOperations
from django.utils import timezone, translation

from qcity.core import audit
from qcity.core.models import ADMIN_ROLES, DataScope, OrgUnit, User
from qcity.core.scope import effective_scope, get_for_write, may_change, units_in_scope
from qcity.core.services import create_unconfirmed_unit, resolve_unit_name
from qcity.plans.models import (
    Chapter,
    Measure,
    Plan,
    PlanUpload,
    Responsibility,
    SubTask,
    Target,
)
from qcity.plans.parser import (
    ParsedMeasure,
    ParsedPlan,
    ParsedTarget,
    PlanParseError,
    parse_plan_text,
    read_plan_bytes,
)


class PlanImportError(Exception):
    """A parsed plan the database cannot store as it is; nothing has been written.

    ``code`` is stable (``too_long``, ``out_of_range``, ``invalid_character``);
    ``message`` is one line of Chinese naming the item, the field and the limit.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return self.message


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

    Raises ``PlanImportError`` before any write (dry run or not) when a value
    does not fit its column: SQLite would store it, PostgreSQL would fail.
    """
    check_storable(parsed, source_name=source_name, source_sha256=source_sha256)
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
            owner_unit=owner_unit, **_plan_fields(parsed, source_name, source_sha256)
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
                plan=plan, number=chapter.number, heading=chapter.heading, label=chapter.label
            )
            if not report.created:
                report.changes.append(f"新增章节（{chapter.number}）{chapter.heading}")
            continue
        if current.heading != chapter.heading:
            report.changes.append(
                f"章节（{chapter.number}）标题：{current.heading} → {chapter.heading}"
            )
            current.heading = chapter.heading
            current.save(update_fields=["heading"])
        if current.label != chapter.label:
            # Filling in a label a plan imported before labels were kept is not a change.
            if current.label:
                report.changes.append(
                    f"章节（{chapter.number}）编号写法：{current.label} → {chapter.label}"
                )
            current.label = chapter.label
            current.save(update_fields=["label"])
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
                **_measure_fields(parsed_measure),
                "withdrawn": False,
            }
            measure, changed = _upsert(Measure, existing.get(seq), plan=plan, seq=seq, **fields)
            if changed is None and not report.created:
                report.changes.append(f"新增措施 {measure}")
            elif changed:
                # Field names a reader understands (责任单位原文, not units_text).
                with translation.override("zh-hans"):
                    labels = [str(Measure._meta.get_field(name).verbose_name) for name in changed]
                report.changes.append(f"措施 {measure.number} 变更：{'、'.join(labels)}")
            if measure.units_edited:
                # The coordinator's division of labour wins over the text (ADR 0020);
                # a changed 责任单位 clause is reported, not applied.
                if changed and "units_text" in changed:
                    report.changes.append(
                        f"措施 {measure.number} 责任单位已手工调整，保留手工设置"
                        f"（文本现写作：{parsed_measure.units_text}）"
                    )
            else:
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

    # Numeric targets first, then the qualitative goals, so a numeric target's position
    # (its identity on re-import, ADR 0006) does not move.
    every = [*parsed.targets, *parsed.qualitative_targets]
    for seq, target in enumerate(every, start=1):
        fields = {
            "measure": measure_for(target.sentence, target.measure_number),
            **_target_fields(target),
            "withdrawn": False,
        }
        _, changed = _upsert(Target, existing.get(seq), plan=plan, seq=seq, **fields)
        if changed is None and not report.created:
            report.changes.append(f"新增目标：{target.text}")
        elif changed:
            report.changes.append(f"目标 {seq} 变更：{target.text}")
    for stale in _withdraw(plan.targets.filter(seq__gt=len(every), withdrawn=False)):
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


# What each parsed item becomes in the database. The writes above and
# check_storable below both use these, so the check cannot drift from the import.


def _plan_fields(parsed: ParsedPlan, source_name: str, source_sha256: str) -> dict[str, Any]:
    return {
        "title": parsed.title,
        "issuer": parsed.issuer,
        "source_name": source_name,
        "source_sha256": source_sha256,
    }


def _measure_fields(measure: ParsedMeasure) -> dict[str, Any]:
    return {
        "number": measure.number,
        "title": measure.title,
        "text": measure.text,
        "units_text": measure.units_text,
    }


def _target_fields(target: ParsedTarget) -> dict[str, Any]:
    return {
        "indicator_name": target.indicator,
        "text": target.text,
        "sentence": target.sentence,
        "value": None if target.value is None else Decimal(str(target.value)),
        "unit": target.unit,
        "comparator": target.comparator,
        "year": target.year,
        "qualitative": target.value is None,
    }


def check_storable(parsed: ParsedPlan, *, source_name: str = "", source_sha256: str = "") -> None:
    """Refuse, before any write, a value its column cannot hold, on every database alike.

    Every value the import would write is checked against its model field:
    text against ``max_length`` and for NUL (PostgreSQL refuses both; SQLite
    stores them silently), integers against the portable integer ranges,
    decimals against their digits. The first problem is raised as a
    ``PlanImportError`` naming the item, the field and the limit.
    """
    with translation.override("zh-hans"):
        _check_fields(Plan, _plan_fields(parsed, source_name, source_sha256), "方案")
        seq = 0
        for chapter in parsed.chapters:
            where = f"第 {chapter.number} 章"
            _check_fields(
                Chapter,
                {"number": chapter.number, "heading": chapter.heading, "label": chapter.label},
                where,
            )
            for measure in chapter.measures:
                seq += 1
                where = f"第 {measure.number} 项举措"
                _check_fields(Measure, {"seq": seq, **_measure_fields(measure)}, where)
                for name in measure.responsible_units:
                    # The written name is stored as is, and as the name of an unconfirmed unit.
                    for model, field in ((Responsibility, "written_name"), (OrgUnit, "name")):
                        _check_value(model, field, name, where, label="责任单位名称")
        every = [*parsed.targets, *parsed.qualitative_targets]
        for seq, target in enumerate(every, start=1):
            _check_fields(Target, {"seq": seq, **_target_fields(target)}, f"第 {seq} 个目标")


def _check_fields(model: type[models.Model], fields: dict[str, Any], where: str) -> None:
    for name, value in fields.items():
        _check_value(model, name, value, where)


def _check_value(
    model: type[models.Model], name: str, value: Any, where: str, *, label: str = ""
) -> None:
    field = model._meta.get_field(name)
    label = label or str(field.verbose_name)
    if isinstance(value, str):
        if "\x00" in value:
            raise PlanImportError(
                "invalid_character", f"{where}的{label}含有无法保存的空字符（NUL）"
            )
        limit = getattr(field, "max_length", None)
        if limit and len(value) > limit:
            raise PlanImportError(
                "too_long", f"{where}的{label}超过 {limit} 字（实际 {len(value)} 字）"
            )
    elif isinstance(field, models.IntegerField) and value is not None:
        # Django's portable ranges (PostgreSQL's), so SQLite refuses exactly what PostgreSQL would.
        low, high = BaseDatabaseOperations.integer_field_ranges[field.get_internal_type()]
        if not low <= value <= high:
            raise PlanImportError(
                "out_of_range", f"{where}的{label}超出范围（{value}，应在 {low} 到 {high} 之间）"
            )
    elif isinstance(field, models.DecimalField) and value is not None:
        whole_digits = field.max_digits - field.decimal_places
        if not value.is_finite() or abs(value) >= Decimal(10) ** whole_digits:
            raise PlanImportError(
                "out_of_range",
                f"{where}的{label}超出范围（{value}，整数部分最多 {whole_digits} 位）",
            )


# --- The plan, worked on in the browser (upload, review, confirm; units per measure) ----------

UPLOAD_TTL = timedelta(hours=24)  # an unconfirmed upload is refused after this


class PlanEditError(Exception):
    """A browser edit of the plan that cannot be made; nothing has been written.

    ``code`` is stable (``expired``, ``forbidden``, ``no_unit``, ``no_lead``,
    ``duplicate_unit``, ``unknown_unit``); ``message`` is one line of Chinese.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def purge_expired_uploads(now: datetime | None = None) -> int:
    """Drop the file content of uploads older than UPLOAD_TTL; return how many were purged.

    An upload is only needed for its review and confirmation, and a plan file may be
    20 MiB: after the TTL the bytes go, the row stays (name, sha256, who, when,
    whether it was confirmed), so the audit trail still names what was uploaded.
    Run hourly by ``core.jobs`` (registered in ``plans.apps``).
    """
    cutoff = (now or timezone.now()) - UPLOAD_TTL
    with transaction.atomic():
        stale = PlanUpload.objects.filter(uploaded_at__lt=cutoff).exclude(content=b"")
        ids = list(stale.values_list("pk", flat=True))
        if ids:
            PlanUpload.objects.filter(pk__in=ids).update(content=b"")
            audit.record(
                "plan.uploads_purged", by=None, actor_label="system", details={"uploads": ids}
            )
    return len(ids)


def parse_upload(data: bytes, name: str) -> ParsedPlan:
    """The parsed plan of uploaded bytes, with the parser's limits; errors name the file."""
    text = read_plan_bytes(data, name)
    try:
        return parse_plan_text(text)
    except PlanParseError as exc:
        raise PlanParseError(exc.code, f"{exc.message}：{name}") from None


def stage_upload(*, by: User, name: str, data: bytes) -> tuple[PlanUpload, ImportReport]:
    """Keep an uploaded plan file for review and return the dry run of its import.

    The file is parsed and dry-run imported first: a file that cannot be read, parsed
    or stored raises (``PlanParseError`` / ``PlanImportError`` / ``PlanEditError``) and
    nothing is kept.
    """
    if by.unit is None:
        raise PlanEditError("no_unit", "您的账户没有所属单位，不能导入方案")
    parsed = parse_upload(data, name)
    sha256 = hashlib.sha256(data).hexdigest()
    _check_may_change_plan(by, parsed)
    report = import_plan(
        parsed, by=by, owner_unit=by.unit, source_name=name, source_sha256=sha256, dry_run=True
    )
    with transaction.atomic():
        upload = PlanUpload.objects.create(
            token=secrets.token_urlsafe(32),
            uploaded_by=by,
            owner_unit=by.unit,
            name=name,
            sha256=sha256,
            content=data,
            plan_id=report.plan_id if not report.created else None,
        )
        audit.record(
            "plan.uploaded",
            by=by,
            obj=upload,
            details={"source": name, "sha256": sha256, "changes": len(report.changes)},
        )
    return upload, report


def preview_upload(upload: PlanUpload, *, by: User) -> tuple[ParsedPlan, ImportReport]:
    """What confirming the upload would change now (the database may have moved on)."""
    parsed = parse_upload(bytes(upload.content), upload.name)
    _check_may_change_plan(by, parsed)
    report = import_plan(
        parsed,
        by=by,
        owner_unit=upload.owner_unit,
        source_name=upload.name,
        source_sha256=upload.sha256,
        dry_run=True,
    )
    return parsed, report


def confirm_upload(token: str, *, by: User) -> ImportReport:
    """Import a reviewed upload for real, once; audited by the import itself."""
    with transaction.atomic():
        upload = get_upload_for_write(by, token)
        parsed = parse_upload(bytes(upload.content), upload.name)
        _check_may_change_plan(by, parsed)
        report = import_plan(
            parsed,
            by=by,
            owner_unit=upload.owner_unit,
            source_name=upload.name,
            source_sha256=upload.sha256,
        )
        upload.confirmed_at = timezone.now()
        upload.plan_id = report.plan_id
        upload.save(update_fields=["confirmed_at", "plan"])
        audit.record(
            "plan.upload_confirmed",
            by=by,
            obj=upload,
            details={"source": upload.name, "changes": len(report.changes)},
        )
    return report


def get_upload_for_write(by: User, token: str) -> PlanUpload:
    """The caller's own pending upload, locked; someone else's is indistinguishable from none."""
    upload, _ = get_for_write(
        by,
        PlanUpload.objects.select_related("owner_unit").filter(
            uploaded_by=by, confirmed_at__isnull=True
        ),
        token=token,
    )
    if upload.uploaded_at < timezone.now() - UPLOAD_TTL:
        raise PlanEditError("expired", "此上传已超过 24 小时未确认，已失效，请重新上传")
    return upload


def _check_may_change_plan(by: User, parsed: ParsedPlan) -> None:
    existing = Plan.objects.filter(issuer=parsed.issuer, title=parsed.title).first()
    if existing is not None and not may_change(by, existing):
        raise PlanEditError("forbidden", f"您无权修改方案“{parsed.title}”")


def set_responsibilities(
    measure_pk: int, rows: list[tuple[OrgUnit, bool]], *, by: User
) -> list[str]:
    """Set a measure's responsible units and which of them lead (牵头) or support (配合).

    ``rows`` is the new list in order, as (unit, is_lead). The written form of a unit
    the text already named is kept as its source text; a unit added by hand is
    written as its canonical name. The measure is marked as edited by hand, so a
    re-import keeps the edit (ADR 0020). Returns the changes, empty when none.
    """
    with transaction.atomic():
        measure, _ = get_for_write(
            by, Measure.objects.select_related("plan").filter(withdrawn=False), pk=measure_pk
        )
        # Responsibility's write rule: the division of labour is the plan owner's decision.
        if not may_change(by, measure.plan):
            raise PlanEditError("forbidden", "只有方案的管理单位可以调整责任单位")
        if not any(is_lead for _, is_lead in rows):
            raise PlanEditError("no_lead", "请至少指定一个牵头单位")
        ids = [unit.pk for unit, _ in rows]
        if len(ids) != len(set(ids)):
            raise PlanEditError("duplicate_unit", "同一单位不能重复列出")
        if any(not unit.confirmed or unit.disabled_on is not None for unit, _ in rows):
            raise PlanEditError("unknown_unit", "只能选择已确认且在用的单位")
        current = list(measure.responsibilities.select_related("org_unit").order_by("order"))
        written = {r.org_unit_id: r.written_name for r in current}
        before = [(r.org_unit_id, r.is_lead) for r in current]
        after = [(unit.pk, is_lead) for unit, is_lead in rows]
        if before == after:
            return []
        changes = [f"措施 {measure.number} 责任单位：{_describe(current)} → {_describe_rows(rows)}"]
        measure.responsibilities.all().delete()
        Responsibility.objects.bulk_create(
            Responsibility(
                measure=measure,
                org_unit=unit,
                written_name=written.get(unit.pk, unit.name),
                is_lead=is_lead,
                order=order,
            )
            for order, (unit, is_lead) in enumerate(rows, start=1)
        )
        if not measure.units_edited:
            measure.units_edited = True
            measure.save(update_fields=["units_edited"])
        audit.record(
            "plan.responsibilities_set",
            by=by,
            obj=measure,
            details={
                "changes": changes,
                "lead": [unit.name for unit, is_lead in rows if is_lead],
                "support": [unit.name for unit, is_lead in rows if not is_lead],
            },
        )
    return changes


def _describe(current: list[Responsibility]) -> str:
    return "、".join(f"{r.org_unit.name}{'（牵头）' if r.is_lead else ''}" for r in current) or "无"


def _describe_rows(rows: list[tuple[OrgUnit, bool]]) -> str:
    return "、".join(f"{unit.name}{'（牵头）' if is_lead else ''}" for unit, is_lead in rows)


SPLIT_REFUSED = "只有方案的管理单位或该举措的牵头单位可以分解任务"


def may_split(user: User | None, measure: Measure) -> bool:
    """Whether ``user`` may split ``measure`` into sub-tasks (``SubTask.measures_split_q``).

    ``core.scope.may_change`` answers this for an existing sub-task; before the first
    one exists there is no row to ask, so the same units are taken here: 全部 every
    unit, 本单位(及下级) the user's; 仅本人 and administrators change nothing.
    """
    if user is None or getattr(user, "role", None) in ADMIN_ROLES:
        return False
    scope = effective_scope(user)
    if scope == DataScope.ALL:
        units = OrgUnit.objects.all()
    elif scope in (DataScope.UNIT_AND_BELOW, DataScope.UNIT):
        units = units_in_scope(user)
    else:
        return False
    return (
        Measure.objects.filter(pk=measure.pk, withdrawn=False)
        .filter(SubTask.measures_split_q(units))
        .exists()
    )


def add_subtask(measure_pk: int, *, by: User, **fields: Any) -> SubTask:
    """Split a measure: add a sub-task (分解任务) with its unit, deadline and contact.

    The plan owner, or the measure's lead unit (牵头单位) for its own measure.
    """
    with transaction.atomic():
        measure, _ = get_for_write(
            by, Measure.objects.select_related("plan").filter(withdrawn=False), pk=measure_pk
        )
        if not may_split(by, measure):
            raise PlanEditError("forbidden", SPLIT_REFUSED)
        unit = fields["unit"]
        if not unit.confirmed or unit.disabled_on is not None:
            raise PlanEditError("unknown_unit", "只能选择已确认且在用的单位")
        order = (measure.subtasks.aggregate(models.Max("order"))["order__max"] or 0) + 1
        subtask = SubTask.objects.create(measure=measure, order=order, **fields)
        audit.record(
            "plan.subtask_added",
            by=by,
            obj=subtask,
            details={
                "measure": measure.number,
                "title": subtask.title,
                "unit": unit.name,
                "deadline": subtask.deadline.isoformat(),
            },
        )
    return subtask


def remove_subtask(subtask_pk: int, *, by: User) -> None:
    with transaction.atomic():
        subtask, allowed = get_for_write(
            by, SubTask.objects.select_related("measure", "unit"), pk=subtask_pk
        )
        if not allowed:
            raise PlanEditError("forbidden", SPLIT_REFUSED)
        audit.record(
            "plan.subtask_removed",
            by=by,
            obj=subtask,
            details={"measure": subtask.measure.number, "title": subtask.title},
        )
        subtask.delete()


def update_subtask(subtask_pk: int, *, by: User, **fields: Any) -> list[str]:
    """Change a sub-task; returns the names of the changed fields (audited when any)."""
    with transaction.atomic():
        subtask, allowed = get_for_write(
            by, SubTask.objects.select_related("measure", "unit"), pk=subtask_pk
        )
        if not allowed:
            raise PlanEditError("forbidden", SPLIT_REFUSED)
        unit = fields.get("unit", subtask.unit)
        if unit.pk != subtask.unit_id and (not unit.confirmed or unit.disabled_on is not None):
            raise PlanEditError("unknown_unit", "只能选择已确认且在用的单位")
        changed = [name for name, value in fields.items() if getattr(subtask, name) != value]
        if not changed:
            return []
        for name in changed:
            setattr(subtask, name, fields[name])
        subtask.save(update_fields=changed)
        audit.record(
            "plan.subtask_changed",
            by=by,
            obj=subtask,
            details={"measure": subtask.measure.number, "fields": changed},
        )
    return changed
