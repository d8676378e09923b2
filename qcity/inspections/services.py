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
