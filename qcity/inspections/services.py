"""Writes of 双随机、一公开. Every state change is a step of one of three workflows.

``BATCH``: 草稿 →draw→ 已抽取 (→redraw, with a reason, published with the record) →assign→
已分派 →complete→ 已完成. ``TASK``: 待检查 →enter_result→ 已录入结果 (→correct_result)
→publish→ 已公示. ``FOLLOWUP``: 待处理 →close→ 已办结. The steps' own work lives in
``draw`` (the reproducible draw), ``assignment`` (inspectors with recusal), ``results``
(谁检查谁录入, follow-ups) and ``publication`` (一公开); this module declares the steps
once, so each is locked, checked and audited by ``core.workflow.take``.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from qcity.core.models import Role
from qcity.core.workflow import Step, Workflow
from qcity.inspections import assignment, draw, publication, results
from qcity.inspections.models import Batch, FollowUp, Task

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


# --- tasks: results (谁检查谁录入), follow-ups, completing a batch -----------------------------
# What pages, the API and commands call. Imports are local (and the annotations strings,
# thanks to ``from __future__ import annotations``) so that the other helpers' additions
# to this module merge without touching the same lines.
import typing  # noqa: E402

if typing.TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Iterable
    from typing import Any

    from qcity.core.models import Transition, User

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
    from django.db import transaction

    from qcity.core import files as core_files
    from qcity.core.workflow import take
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
            try:
                core_files.storage().delete(name)
            except Exception:  # the orphan sweep will find it
                pass
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
    from qcity.core.workflow import take

    return take(FOLLOWUP, "close", follow_up_pk, by=user, resolution=resolution, outcome=outcome)


def complete_batch(user: User | None, batch_pk: Any) -> Transition:
    """Complete a batch once every task is published (else 还有 N 户未录入结果 / 未公示)."""
    from qcity.core.workflow import take

    return take(BATCH, "complete", batch_pk, by=user)
