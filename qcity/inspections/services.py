"""Writes of 双随机、一公开. Every state change is a step of one of three workflows.

``BATCH``: 草稿 →draw→ 已抽取 (→redraw, with a reason, published with the record) →assign→
已分派 →complete→ 已完成. ``TASK``: 待检查 →enter_result→ 已录入结果 (→correct_result)
→publish→ 已公示. ``FOLLOWUP``: 待处理 →close→ 已办结. The steps' own work lives in
``draw`` (the reproducible draw), ``assignment`` (inspectors with recusal), ``results``
(谁检查谁录入, follow-ups) and ``publication`` (一公开); this module declares the steps
once, so each is locked, checked and audited by ``core.workflow.take``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from qcity.core import audit
from qcity.core.models import OrgUnit, Role, Transition, User
from qcity.core.scope import get_for_write
from qcity.core.workflow import (
    Forbidden,
    Invalid,
    NotFound,
    Step,
    StepNotAllowed,
    Workflow,
    take,
)
from qcity.inspections import assignment, draw, publication, results
from qcity.inspections.models import (
    Batch,
    BatchParticipant,
    CheckItem,
    FollowUp,
    InspectionPlan,
    Task,
)
from qcity.registry.models import MarketEntity

# Whoever owns the plan (write scope) may run its batches: a county bureau, the city
# bureau, or a department running its own plan.
PLAN_RUNNERS = {Role.COORDINATOR, Role.COUNTY_OFFICER, Role.DEPARTMENT_LIAISON}

BATCH = Workflow(
    Batch,
    name="inspections.batch",
    changed_at_field="status_changed_at",
    changed_by_field="status_changed_by",
    select_related=("plan",),
    steps=[
        Step(
            name="draw",
            label=_("随机抽取检查对象"),
            sources={Batch.Status.DRAFT},
            target=Batch.Status.DRAWN,
            roles=PLAN_RUNNERS,
            validate=draw.validate_draw,
            apply=draw.apply_draw,
        ),
        Step(
            name="redraw",
            label=_("重新抽取"),
            sources={Batch.Status.DRAWN},
            target=Batch.Status.DRAWN,
            roles=PLAN_RUNNERS,
            reason_required=True,
            validate=draw.validate_draw,
            apply=draw.apply_draw,
        ),
        Step(
            name="assign",
            label=_("随机分派检查人员"),
            sources={Batch.Status.DRAWN},
            target=Batch.Status.ASSIGNED,
            roles=PLAN_RUNNERS,
            apply=assignment.apply_assignment,
        ),
        Step(
            name="complete",
            label=_("完成批次"),
            sources={Batch.Status.ASSIGNED},
            target=Batch.Status.COMPLETED,
            roles=PLAN_RUNNERS,
            validate=results.validate_complete,
        ),
    ],
)

TASK = Workflow(
    Task,
    name="inspections.task",
    changed_at_field="status_changed_at",
    changed_by_field="status_changed_by",
    select_related=("batch", "entity"),
    steps=[
        Step(
            name="enter_result",
            label=_("录入检查结果"),
            sources={Task.Status.PENDING},
            target=Task.Status.CHECKED,
            allowed=results.is_assigned_inspector,
            validate=results.validate_result,
            apply=results.apply_result,
        ),
        Step(
            name="correct_result",
            label=_("更正检查结果"),
            sources={Task.Status.CHECKED},
            target=Task.Status.CHECKED,
            allowed=results.is_assigned_inspector,
            reason_required=True,
            validate=results.validate_result,
            apply=results.apply_result,
        ),
        Step(
            name="publish",
            label=_("公示检查结果"),
            sources={Task.Status.CHECKED},
            target=Task.Status.PUBLISHED,
            roles=PLAN_RUNNERS,
            validate=publication.validate_publish,
            apply=publication.apply_publish,
        ),
    ],
)

FOLLOWUP = Workflow(
    FollowUp,
    name="inspections.followup",
    changed_at_field="status_changed_at",
    changed_by_field="status_changed_by",
    select_related=("task",),
    steps=[
        Step(
            name="close",
            label=_("办结后续处理"),
            sources={FollowUp.Status.OPEN},
            target=FollowUp.Status.CLOSED,
            roles=PLAN_RUNNERS,
            validate=results.validate_close,
            apply=results.apply_close,
        ),
    ],
)


# --- yearly plans and batches (pages, API and commands call these) ---------------------------
# Plans and batch parameters are not workflow states: creating a plan or a batch and
# editing a 草稿 batch record their own audit events. Every rule lives in
# ``check_batch_spec``, which the batch form also calls, so a page and the API refuse the
# same input with the same message.

QUOTA_CLASSES = ("A", "B", "C", "D", "-")
# Classes whose ratio may exceed a 一般检查事项's limit (with a warning): provincial rules
# raise the ratio for 较高/高 risk (regulations.md §1.5); A, B and unclassified may not.
RAISED_CLASSES = frozenset({"C", "D"})
INDUSTRY_PREFIX = re.compile(r"^[A-T](?:[0-9]{2}(?:[0-9]{1,2})?)?$")
MAX_COUNT = 1_000_000
MAX_EXCLUSION_DAYS = 3650
MAX_INSPECTORS = 10
MAX_PER_TASK = 5


class BatchInvalid(Invalid):
    """A plan or batch parameter refused; ``field`` names the form field it belongs to."""

    code = "invalid_batch"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        self.field = field
        super().__init__(message)


def quota_class_label(cls: str) -> str:
    if cls == "-":
        return str(_("未分类"))
    return str(MarketEntity.RiskClass(cls).label)


@dataclass
class BatchSpec:
    """What a batch form or API call asks for, before checking (strings as typed)."""

    title: str
    check_items: list[CheckItem]
    region_codes: list[str]
    industry_prefixes: list[str]
    kinds: list[str]
    statuses: list[str]
    window_start: dt.date
    window_end: dt.date
    # {"A": ("ratio", "3"), "B": ("count", "20"), "C": ("default", ""), "D": ("", "")}
    quotas: dict[str, tuple[str, str]]
    exclude_checked_within_days: int
    min_inspectors: int
    # (department, inspectors it sends per task)
    participants: list[tuple[OrgUnit, int]] = field(default_factory=list)


@dataclass
class CheckedBatch:
    quotas: dict[str, dict[str, Any]]
    warnings: list[str]


def _ratio(text: str, cls: str) -> Decimal:
    label = quota_class_label(cls)
    try:
        value = Decimal(text.strip().rstrip("%％"))
    except (InvalidOperation, ValueError):
        value = None
    if value is None or not value.is_finite():
        raise BatchInvalid(_("“%(cls)s”的抽查比例须为数字") % {"cls": label}, field=f"quota_{cls}")
    if not Decimal(0) < value <= Decimal(100):
        raise BatchInvalid(
            _("“%(cls)s”的抽查比例须大于 0 且不超过 100（%%）") % {"cls": label},
            field=f"quota_{cls}",
        )
    if value != value.quantize(Decimal("0.01")):
        raise BatchInvalid(
            _("“%(cls)s”的抽查比例最多两位小数") % {"cls": label}, field=f"quota_{cls}"
        )
    return value.normalize()


def _count(text: str, cls: str) -> int:
    text = text.strip()
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_COUNT:
        raise BatchInvalid(
            _("“%(cls)s”的抽查数量须为 1 到 %(max)d 之间的整数")
            % {"cls": quota_class_label(cls), "max": MAX_COUNT},
            field=f"quota_{cls}",
        )
    return int(text)


def check_batch_spec(
    plan: InspectionPlan, spec: BatchSpec, batch: Batch | None = None
) -> CheckedBatch:
    """Check a batch's parameters against its plan; return the quotas to store and warnings.

    :raises BatchInvalid: the first refused parameter, with its Chinese message.
    """
    from qcity.inspections import selectors

    if not spec.title.strip():
        raise BatchInvalid(_("请填写批次名称"), field="title")
    if len(spec.title.strip()) > 200:
        raise BatchInvalid(_("批次名称不能超过 200 个字"), field="title")
    if not spec.check_items:
        raise BatchInvalid(_("请至少选择一个抽查事项"), field="check_items")
    kept = set(batch.check_items.values_list("pk", flat=True)) if batch is not None else set()
    # Read now, not from the caller's instances: an item may have been disabled since.
    disabled = set(
        CheckItem.objects.filter(
            pk__in=[i.pk for i in spec.check_items], disabled_on__isnull=False
        ).values_list("pk", flat=True)
    )
    for item in spec.check_items:
        # An item disabled since it was chosen stays on the batch; it cannot be newly added.
        if item.pk in disabled and item.pk not in kept:
            raise BatchInvalid(
                _("抽查事项“%(item)s”已停用，不能再选") % {"item": item.name}, field="check_items"
            )
    allowed = {c.code: c.name for c in selectors.jurisdiction_counties(plan.owner_unit)}
    if not spec.region_codes:
        raise BatchInvalid(_("请至少选择一个区县"), field="region_codes")
    for code in spec.region_codes:
        if code not in allowed:
            raise BatchInvalid(
                _("区划代码“%(code)s”不在%(unit)s的管辖范围内")
                % {"code": code, "unit": plan.owner_unit.name},
                field="region_codes",
            )
    for prefix in spec.industry_prefixes:
        if not INDUSTRY_PREFIX.match(prefix):
            raise BatchInvalid(
                _(
                    "行业代码“%(code)s”无效：应为国民经济行业分类（GB/T 4754）的门类字母，"
                    "或字母加 2–4 位数字，如 F、C14、F5211"
                )
                % {"code": prefix},
                field="industry_prefixes",
            )
    if not set(spec.kinds) <= set(MarketEntity.Kind.values):
        raise BatchInvalid(_("主体类型无效"), field="kinds")
    if not set(spec.statuses) <= set(MarketEntity.Status.values):
        raise BatchInvalid(_("登记状态无效"), field="statuses")
    if spec.window_end < spec.window_start:
        raise BatchInvalid(_("检查结束日期不能早于开始日期"), field="window_end")
    if spec.window_start.year != plan.year:
        raise BatchInvalid(
            _("检查开始日期须在计划年度（%(year)d年）内") % {"year": plan.year},
            field="window_start",
        )
    if not 0 <= spec.exclude_checked_within_days <= MAX_EXCLUSION_DAYS:
        raise BatchInvalid(
            _("排除期须在 0 到 %(max)d 天之间") % {"max": MAX_EXCLUSION_DAYS},
            field="exclude_checked_within_days",
        )
    if not 2 <= spec.min_inspectors <= MAX_INSPECTORS:
        raise BatchInvalid(
            _("每户检查人员须为 2 到 %(max)d 人（《行政处罚法》第四十二条：执法人员不得少于两人）")
            % {"max": MAX_INSPECTORS},
            field="min_inspectors",
        )
    seen: set[int] = set()
    for unit, per_task in spec.participants:
        if unit.pk == plan.owner_unit_id:
            raise BatchInvalid(
                _("%(unit)s是计划的制定单位，总是参加检查，不必列为联合参与部门")
                % {"unit": unit.name},
                field="participants",
            )
        if unit.pk in seen:
            raise BatchInvalid(
                _("联合参与部门“%(unit)s”重复") % {"unit": unit.name}, field="participants"
            )
        if unit.kind != OrgUnit.Kind.DEPARTMENT or not unit.confirmed or unit.disabled_on:
            raise BatchInvalid(
                _("“%(unit)s”不是可参与联合抽查的部门") % {"unit": unit.name},
                field="participants",
            )
        if not 1 <= per_task <= MAX_PER_TASK:
            raise BatchInvalid(
                _("“%(unit)s”每户派出人数须在 1 到 %(max)d 之间")
                % {"unit": unit.name, "max": MAX_PER_TASK},
                field="participants",
            )
        seen.add(unit.pk)
    return _check_quotas(spec)


def _check_quotas(spec: BatchSpec) -> CheckedBatch:
    general = [i for i in spec.check_items if i.kind == CheckItem.Kind.GENERAL]
    general_ratios = [i.default_ratio for i in general if i.default_ratio is not None]
    # The default is the strictest general item's ratio; a batch of key items only has none.
    default_ratio = min(general_ratios) if general_ratios else None
    # Only a batch of general items is limited (a key item has no upper limit).
    limit = max(general_ratios) if general and len(general) == len(spec.check_items) else None
    quotas: dict[str, dict[str, Any]] = {}
    warnings: list[str] = []
    for cls in QUOTA_CLASSES:
        mode, text = spec.quotas.get(cls, ("", ""))
        if mode == "":
            continue
        if mode == "default":
            if default_ratio is None:
                raise BatchInvalid(
                    _(
                        "所选事项没有默认抽查比例（重点检查事项不设上限）：请为“%(cls)s”填写比例或数量"
                    )
                    % {"cls": quota_class_label(cls)},
                    field=f"quota_{cls}",
                )
            ratio = default_ratio.normalize()
        elif mode == "ratio":
            ratio = _ratio(text, cls)
        elif mode == "count":
            quotas[cls] = {"count": _count(text, cls)}
            continue
        else:
            raise BatchInvalid(_("抽查方式无效"), field=f"quota_{cls}")
        if limit is not None and ratio > limit:
            values = {
                "cls": quota_class_label(cls),
                "ratio": format(ratio, "f"),
                "limit": format(limit.normalize(), "f"),
            }
            if cls not in RAISED_CLASSES:
                raise BatchInvalid(
                    _(
                        "一般检查事项的抽查比例应严格控制：“%(cls)s”的 %(ratio)s%% 超过了所选事项的"
                        "默认比例 %(limit)s%%"
                    )
                    % values,
                    field=f"quota_{cls}",
                )
            warnings.append(
                str(
                    _(
                        "“%(cls)s”的 %(ratio)s%% 高于一般检查事项的默认比例 %(limit)s%%"
                        "（较高风险类别可适当提高）"
                    )
                    % values
                )
            )
        quotas[cls] = {"ratio": format(ratio, "f")}
    if not quotas:
        raise BatchInvalid(_("请至少为一个风险类别设定抽查比例或数量"), field="quota_A")
    return CheckedBatch(quotas=quotas, warnings=warnings)


def create_plan(user: User, *, year: int, title: str, note: str = "") -> InspectionPlan:
    """A yearly plan (年度抽查工作计划) owned by the user's own unit."""
    from qcity.inspections import selectors

    if not selectors.may_make_plans(user):
        raise Forbidden
    title = (title or "").strip()
    if not title:
        raise BatchInvalid(_("请填写计划名称"), field="title")
    if len(title) > 200:
        raise BatchInvalid(_("计划名称不能超过 200 个字"), field="title")
    if not 2000 <= year <= 2100:
        raise BatchInvalid(_("计划年度须在 2000 到 2100 之间"), field="year")
    with transaction.atomic():
        if InspectionPlan.objects.filter(owner_unit=user.unit, year=year, title=title).exists():
            raise BatchInvalid(
                _("本单位 %(year)d 年已有名为“%(title)s”的计划") % {"year": year, "title": title},
                field="title",
            )
        plan = InspectionPlan.objects.create(
            owner_unit=user.unit, year=year, title=title, note=note.strip(), created_by=user
        )
        audit.record(
            "inspections.plan.created", by=user, obj=plan, details={"year": year, "title": title}
        )
    return plan


@dataclass
class SavedBatch:
    batch: Batch
    warnings: list[str]


def _store(batch: Batch, spec: BatchSpec, checked: CheckedBatch) -> None:
    batch.title = spec.title.strip()
    batch.population_filter = {
        "region_codes": sorted(set(spec.region_codes)),
        "industry_prefixes": sorted(set(spec.industry_prefixes)),
        "kinds": sorted(set(spec.kinds)),
        "statuses": sorted(set(spec.statuses)),
    }
    batch.quotas = checked.quotas
    batch.window_start, batch.window_end = spec.window_start, spec.window_end
    batch.exclude_checked_within_days = spec.exclude_checked_within_days
    batch.min_inspectors = spec.min_inspectors
    batch.save()
    batch.check_items.set(spec.check_items)
    BatchParticipant.objects.filter(batch=batch).delete()
    BatchParticipant.objects.bulk_create(
        BatchParticipant(batch=batch, unit=unit, inspectors_per_task=n)
        for unit, n in spec.participants
    )


def _batch_details(batch: Batch, spec: BatchSpec) -> dict[str, Any]:
    return {
        "title": batch.title,
        "check_items": sorted(i.code for i in spec.check_items),
        "population_filter": batch.population_filter,
        "quotas": batch.quotas,
        "window": [batch.window_start.isoformat(), batch.window_end.isoformat()],
        "exclude_checked_within_days": batch.exclude_checked_within_days,
        "min_inspectors": batch.min_inspectors,
        "participants": {u.name: n for u, n in spec.participants},
    }


def create_batch(user: User, plan_pk: Any, spec: BatchSpec) -> SavedBatch:
    """A new 草稿 batch of a plan the user's unit owns (numbered after the plan's last)."""
    from qcity.inspections import selectors

    with transaction.atomic():
        try:
            plan, writable = get_for_write(
                user, InspectionPlan.objects.select_related("owner_unit"), pk=plan_pk
            )
        except Http404:
            raise NotFound from None
        if not writable or user.role not in selectors.PLAN_MAKERS:
            raise Forbidden
        checked = check_batch_spec(plan, spec)
        last = Batch.objects.filter(plan=plan).aggregate(n=Max("number"))["n"] or 0
        batch = Batch(plan=plan, number=last + 1)
        _store(batch, spec, checked)
        audit.record(
            "inspections.batch.created", by=user, obj=batch, details=_batch_details(batch, spec)
        )
    return SavedBatch(batch, checked.warnings)


def update_batch(user: User, batch_pk: Any, spec: BatchSpec) -> SavedBatch:
    """Change a 草稿 batch's parameters (its plan's owner only; after the draw they are fixed)."""
    from qcity.inspections import selectors

    with transaction.atomic():
        try:
            batch, writable = get_for_write(
                user, Batch.objects.select_related("plan__owner_unit"), pk=batch_pk
            )
        except Http404:
            raise NotFound from None
        if not writable or user.role not in selectors.PLAN_MAKERS:
            raise Forbidden
        if batch.status != Batch.Status.DRAFT:
            raise StepNotAllowed(
                state_label=batch.get_status_display(), step_label=_("修改批次参数")
            )
        checked = check_batch_spec(batch.plan, spec, batch)
        _store(batch, spec, checked)
        audit.record(
            "inspections.batch.updated", by=user, obj=batch, details=_batch_details(batch, spec)
        )
    return SavedBatch(batch, checked.warnings)


# --- the draw (docs/draw-algorithm.md) ------------------------------------------------------


def draw_batch(user, batch_pk, *, reason: str = "", _seed: bytes | None = None):
    """Draw the batch's entities: the step ``draw``, or ``redraw`` (reason required) when a
    current draw exists. Returns the new current ``Draw``.

    The seed is made on the server inside the step (``secrets``); ``_seed`` exists for tests
    only. A draw refused by its own rules (no eligible entity, malformed quotas or scope)
    changes nothing but is still audited, in its own transaction after the rollback, so
    every attempt is visible.
    """
    from qcity.core import audit
    from qcity.core.workflow import take
    from qcity.inspections.models import Draw

    try:
        step = (
            "redraw" if Draw.objects.filter(batch_id=batch_pk, is_current=True).exists() else "draw"
        )
    except (ValueError, TypeError):
        step = "draw"  # a malformed id: take() answers NotFound
    stored: list[str] = []
    try:
        transition = take(
            BATCH,
            step,
            batch_pk,
            by=user,
            reason=reason,
            reason_text=(reason or "").strip(),
            _seed=_seed,
            _stored=stored,
        )
    except draw.DrawRefused as exc:
        draw.delete_stored(stored)
        audit.record(
            "inspections.batch.draw_refused",
            by=user,
            obj=Batch.objects.filter(pk=batch_pk).first(),
            success=False,
            details={"step": step, "code": exc.code, "message": exc.message},
        )
        raise
    except BaseException:
        draw.delete_stored(stored)
        raise
    return Draw.objects.get(pk=transition.details["draw"])


def assign_batch(user: User, batch_pk: Any) -> int:
    """Assign inspectors to every task of the batch's current draw; return the task count.

    Takes the BATCH step ``assign`` (inspections.assignment). A refusal for constraints that
    cannot be met leaves nothing written and the batch 已抽取, but the attempt is audited
    (``inspections.batch.assign_refused``) after the rollback, with the reason.

    :raises NotFound, Forbidden, StepNotAllowed, Invalid (``assignment_infeasible``,
        ``no_current_draw``, ``draw_entity_missing``).
    """
    try:
        transition = take(BATCH, "assign", batch_pk, by=user)
    except assignment.AssignmentInfeasible as refused:
        batch = Batch.objects.filter(pk=batch_pk).first()
        audit.record(
            "inspections.batch.assign_refused",
            by=user,
            obj=batch,
            success=False,
            details={"code": refused.code, "reason": refused.message},
        )
        raise
    return int(transition.details["tasks"])


# --- tasks: results (谁检查谁录入), follow-ups, completing a batch -----------------------------
# What pages, the API and commands call.

# The 检查记录 is photographed or scanned: images and PDF, not Office documents.
RESULT_FILE_TYPES = frozenset({"application/pdf", "image/png", "image/jpeg", "image/webp"})
MAX_RESULT_FILES = 10


def _save_result(
    step: str,
    user: User | None,
    task_pk: Any,
    *,
    files: Iterable[Any] = (),
    reason: str = "",
    expected_state: str | None = None,
    **params: Any,
) -> Transition:
    """Take ``enter_result`` or ``correct_result`` and attach the files, all or nothing.

    A refused file (type, size, corruption) rolls the result back, and the files already
    stored by this call are deleted at once, so nothing of the attempt is left.
    """
    from qcity.core import files as core_files
    from qcity.inspections.models import Result

    uploads = [upload for upload in (files or ()) if upload]
    stored: list = []
    try:
        with transaction.atomic():
            transition = take(
                TASK,
                step,
                task_pk,
                by=user,
                reason=reason,
                expected_state=expected_state,
                note=reason,
                **params,
            )
            result = Result.objects.get(task_id=transition.subject.pk)
            if core_files.attachments_of(result).count() + len(uploads) > MAX_RESULT_FILES:
                raise results.ResultInvalid(
                    "too_many_files",
                    _("每个检查结果最多 %(n)d 个附件。") % {"n": MAX_RESULT_FILES},
                    field="files",
                )
            for upload in uploads:
                attachment = core_files.attach(result, upload, by=user)
                stored.append(attachment.storage_name)
                if attachment.media_type not in RESULT_FILE_TYPES:
                    raise core_files.AttachmentRefused(
                        "file_type_not_allowed",
                        str(_("检查记录只接受照片（JPEG、PNG、WebP）或 PDF：%(name)s"))
                        % {"name": attachment.original_name},
                    )
    except BaseException:
        for name in stored:
            core_files.delete_quietly(name)
        raise
    return transition


def enter_result(
    user: User | None,
    task_pk: Any,
    *,
    codes: Iterable[str],
    findings: str,
    check_date: dt.date | str,
    files: Iterable[Any] = (),
    expected_state: str | None = None,
) -> Transition:
    """An assigned inspector enters the task's result (待检查 → 已录入结果).

    :raises core.workflow.WorkflowError: ``not_found`` (not visible), ``forbidden`` (not an
        active inspector assigned to it), ``step_not_allowed``, or a ``ResultInvalid``
        (results.validate_result's codes).
    :raises core.files.AttachmentRefused: a refused file; nothing is stored.
    """
    return _save_result(
        "enter_result",
        user,
        task_pk,
        files=files,
        codes=codes,
        findings=findings,
        check_date=check_date,
        expected_state=expected_state,
    )


def correct_result(
    user: User | None,
    task_pk: Any,
    *,
    codes: Iterable[str],
    findings: str,
    check_date: dt.date | str,
    reason: str,
    files: Iterable[Any] = (),
    expected_state: str | None = None,
) -> Transition:
    """An assigned inspector corrects an entered, unpublished result, with a reason."""
    return _save_result(
        "correct_result",
        user,
        task_pk,
        files=files,
        reason=reason,
        codes=codes,
        findings=findings,
        check_date=check_date,
        expected_state=expected_state,
    )


def close_follow_up(
    user: User | None, follow_up_pk: Any, *, resolution: str, outcome: str
) -> Transition:
    """The owner unit closes a follow-up with how it ended and what was done."""
    return take(FOLLOWUP, "close", follow_up_pk, by=user, resolution=resolution, outcome=outcome)


def complete_batch(user: User | None, batch_pk: Any) -> Transition:
    """Complete a batch once every task is published (else 还有 N 户未录入结果 / 未公示)."""
    return take(BATCH, "complete", batch_pk, by=user)


# --- 一公开 (publication) -------------------------------------------------------------------


def publish_result(user, task_pk, *, late_reason: str = ""):
    """Publish one task's result on the portal (TASK step ``publish``); past the deadline a
    late reason is required (``late_reason_required``) and shown with the row.

    Returns the ``PublishedInspection`` written.
    """
    from qcity.core.workflow import take
    from qcity.portal.models import PublishedInspection

    transition = take(TASK, "publish", task_pk, by=user, late_reason=late_reason)
    return PublishedInspection.objects.get(source=publication.task_source(transition.subject.pk))


def publish_draw(user, draw_pk) -> list:
    """Publish a draw record with its population file, and the batch's earlier attempts.

    Only the plan's owner (write scope on the batch, a plan-running role). Returns the
    rows written (empty when everything was already published). Audited per attempt as
    ``inspections.draw.published``.
    """
    from django.core.exceptions import ValidationError
    from django.db import transaction
    from django.http import Http404

    from qcity.core.scope import get_for_write
    from qcity.core.workflow import Forbidden, NotFound
    from qcity.inspections.models import Draw

    with transaction.atomic():
        try:
            draw = Draw.objects.get(pk=draw_pk)
        except (Draw.DoesNotExist, ValueError, TypeError, ValidationError):
            raise NotFound from None
        try:
            _batch, may_write = get_for_write(user, Batch.objects.all(), pk=draw.batch_id)
        except Http404:
            raise NotFound from None
        if not may_write or getattr(user, "role", None) not in PLAN_RUNNERS:
            raise Forbidden
        return publication.publish_draw_rows(draw, user)
