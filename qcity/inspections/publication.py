"""一公开: the publish steps write the portal's publication rows (ADR 0031, DESIGN §4.6).

- A result is published by the ``TASK`` step ``publish`` (``services.publish_result``):
  ``validate_publish`` checks that a result exists and, past ``task.publish_due`` (20
  working days after the check, 企业信息公示暂行条例第六条), requires a late reason;
  ``apply_publish`` writes ONE ``PublishedInspection`` holding public fields only. A late
  publication is allowed, marked late, and its reason is on the portal row and in the
  audit event. Publishing twice is impossible: the step starts from 已录入结果 only and
  the row's ``source`` is unique.
- A draw record is published by ``publish_draw`` (an explicit action of the plan's owner):
  ``record.json`` as ``qcity export_draw`` writes it and a copy of ``population.csv`` in
  the public storage. Publishing an attempt also publishes every earlier attempt of the
  same batch not yet published, superseded ones included, each with its redraw reason:
  the portal always shows a batch's attempts from the first, so nobody can publish a
  favourable redraw and hide the attempt before it.

What is copied is decided here and nowhere else: never inspector names, certificate
numbers, findings, attachments, phones or any user's name.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import zlib
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import Storage, storages
from django.utils import timezone
from django.utils.translation import gettext as _

from qcity.core import audit, files, workdays
from qcity.core.models import User
from qcity.core.workflow import Invalid
from qcity.inspections.models import Draw, Result, Task
from qcity.portal.models import PublishedDraw, PublishedInspection

PUBLISH_WORKDAYS = 20
PUBLISH_RULE = "企业信息公示暂行条例第六条：自产生之日起20个工作日内公示"
LATE_REASON_MAX = 1000


class NoResult(Invalid):
    code = "no_result"


class LateReasonRequired(Invalid):
    code = "late_reason_required"


def task_source(task_pk: int) -> str:
    return f"inspections.task:{task_pk}"


def draw_source(draw_pk: int) -> str:
    return f"inspections.draw:{draw_pk}"


def publish_due_of(task: Task, check_date: dt.date) -> dt.date:
    """The task's deadline: as stored at result entry, else computed the same way."""
    if task.publish_due is not None:
        return task.publish_due
    return workdays.deadline(check_date, PUBLISH_WORKDAYS, rule=PUBLISH_RULE).due


def workdays_overdue(due: dt.date, today: dt.date) -> int:
    """Working days past ``due`` (0 when not overdue); never refuses an unknown year."""
    if today <= due:
        return 0
    return max(0, workdays.workdays_between(due, today, allow_provisional=True))


# --- results --------------------------------------------------------------------------------


def validate_publish(
    task: Task, user: User, *, late_reason: str = "", today: dt.date | None = None, **params: Any
) -> dict[str, Any]:
    result = Result.objects.filter(task=task).first()
    if result is None:
        raise NoResult(_("该任务尚未录入检查结果，不能公示。"))
    today = today or timezone.localdate()
    due = publish_due_of(task, result.check_date)
    reason = (late_reason or "").strip()
    late = today > due
    if late and not reason:
        raise LateReasonRequired(
            _("已超过公示期限 %(due)s（逾期 %(days)s 个工作日），逾期公示须填写逾期理由。")
            % {"due": due.isoformat(), "days": workdays_overdue(due, today)}
        )
    if len(reason) > LATE_REASON_MAX:
        raise Invalid(_("逾期理由不能超过 %(max)s 个字。") % {"max": LATE_REASON_MAX})
    # A reason typed for a publication on time is not a late reason: not kept.
    return {"late_reason": reason if late else "", "late": late, "publish_due": due, "today": today}


def apply_publish(
    task: Task,
    user: User,
    *,
    late_reason: str,
    late: bool,
    publish_due: dt.date,
    **params: Any,
) -> dict[str, Any]:
    full = Task.objects.select_related("entity", "owner_unit", "batch__plan").get(pk=task.pk)
    result = Result.objects.get(task=task)
    entity, batch = full.entity, full.batch
    items = "、".join(
        batch.check_items.order_by("sort_order", "code").values_list("name", flat=True)
    )
    codes = "、".join(result.codes.order_by("sort_order", "code").values_list("name", flat=True))
    row = PublishedInspection.objects.create(
        source=task_source(task.pk),
        entity_code=entity.code,
        entity_name=entity.name,
        region_code=entity.region_code,
        authority=full.owner_unit.full_name or full.owner_unit.name,
        batch_title=f"{batch.plan.title} 第{batch.number}批 {batch.title}"[:300],
        check_items=items,
        result=codes[:500],
        check_date=result.check_date,
        publish_due=publish_due,
        published_at=timezone.now(),
        late=late,
        late_reason=late_reason,
    )
    if task.publish_due is None:
        task.publish_due = publish_due  # saved by the workflow with the status
    details: dict[str, Any] = {
        "published": row.pk,
        "publish_due": publish_due.isoformat(),
        "late": late,
    }
    if late:
        details["late_reason"] = late_reason
    return details


# --- draws ----------------------------------------------------------------------------------


def publication_storage() -> Storage:
    return storages["publication"]


class DrawNotPublishable(Invalid):
    code = "draw_not_publishable"


def publish_draw_rows(draw: Draw, user: User) -> list[PublishedDraw]:
    """Publish ``draw`` and every earlier unpublished attempt of its batch (caller: a service).

    Runs inside the caller's transaction, after it checked the actor. Population files
    are written before the rows and deleted again if anything here fails.
    """
    from qcity.inspections.draw import draw_record, population_bytes

    attempts = list(
        Draw.objects.filter(batch_id=draw.batch_id, attempt__lte=draw.attempt)
        .select_related("batch__plan__owner_unit")
        .order_by("attempt")
    )
    done = set(
        PublishedDraw.objects.filter(source__in=[draw_source(d.pk) for d in attempts]).values_list(
            "source", flat=True
        )
    )
    stored: list[str] = []
    published: list[PublishedDraw] = []
    try:
        for each in attempts:
            source = draw_source(each.pk)
            if source in done:
                continue
            record = draw_record(each)
            try:
                population = population_bytes(each)
            except (OSError, ValueError, EOFError, zlib.error) as exc:
                raise DrawNotPublishable(
                    _("第%(n)s次抽取的名录快照文件无法读取，不能公示。") % {"n": each.attempt}
                ) from exc
            digest = hashlib.sha256(population).hexdigest()
            name = publication_storage().save(
                f"draws/{each.batch_id}/{each.attempt}-{digest[:16]}.csv.gz",
                ContentFile(gzip.compress(population, compresslevel=6, mtime=0)),
            )
            stored.append(name)
            batch = each.batch
            row = PublishedDraw.objects.create(
                source=source,
                authority=batch.plan.owner_unit.full_name or batch.plan.owner_unit.name,
                batch_title=f"{batch.plan.title} 第{batch.number}批 {batch.title}"[:300],
                attempt=each.attempt,
                reason=each.reason,
                drawn_at=each.drawn_at,
                population_size=each.population_size,
                selected_count=len(each.selected_codes),
                record=record,
                population_file=name,
                published_at=timezone.now(),
            )
            audit.record(
                "inspections.draw.published",
                by=user,
                obj=each,
                details={
                    "published": row.pk,
                    "attempt": each.attempt,
                    "current": each.is_current,
                    "population_sha256": digest,
                    **({"reason": each.reason} if each.reason else {}),
                },
            )
            published.append(row)
    except BaseException:
        for name in stored:
            files.delete_quietly(name, publication_storage())
        raise
    # A rollback of the caller's transaction after this point would leave files that no
    # row names: never linked from anywhere, so harmless (ADR 0031).
    return published


# --- reads for the staff page and the provincial export --------------------------------------


DUE_SOON_WORKDAYS = 3


def publishing_units(user: User):
    """The units whose results ``user`` publishes: the write scope of a plan runner.

    ``None`` means every unit (全部); anything else is an OrgUnit queryset (maybe empty).
    Joint-check participants see a task but do not publish it (谁检查、谁录入、谁公开 is
    the owner's duty here), so the page and exports follow the owner unit only.
    """
    from qcity.core.models import OrgUnit
    from qcity.core.scope import units_in_scope
    from qcity.inspections.services import PLAN_RUNNERS

    if getattr(user, "role", None) not in PLAN_RUNNERS:
        return OrgUnit.objects.none()
    return units_in_scope(user)


def _owned_tasks(user: User):
    from qcity.core.scope import scoped

    units = publishing_units(user)
    tasks = scoped(user, Task.objects.all())
    if units is not None:
        tasks = tasks.filter(owner_unit__in=units)
    return tasks


def due_tasks(user: User):
    """Tasks with a result waiting for publication, in ``user``'s units, earliest due first."""
    return (
        _owned_tasks(user)
        .filter(status=Task.Status.CHECKED)
        .select_related("entity", "batch__plan", "owner_unit", "result")
        .prefetch_related("result__codes", "batch__check_items")
        .order_by("publish_due", "batch_id", "position", "pk")
    )


def unpublished_draws(user: User):
    """Draw attempts of ``user``'s plans not yet on the portal."""
    from django.db.models import CharField, Exists, OuterRef, Value
    from django.db.models.functions import Cast, Concat

    from qcity.inspections.models import Batch

    units = publishing_units(user)
    batches = (
        Batch.objects.all() if units is None else Batch.objects.filter(plan__owner_unit__in=units)
    )
    published = PublishedDraw.objects.filter(
        source=Concat(Value("inspections.draw:"), Cast(OuterRef("pk"), CharField()))
    )
    return (
        Draw.objects.filter(batch__in=batches)
        .annotate(on_portal=Exists(published))
        .filter(on_portal=False)
        .select_related("batch__plan")
        .order_by("batch_id", "attempt")
    )


def published_rows(user: User):
    """The portal rows of the results ``user``'s units published (for the provincial export)."""
    from django.db.models import CharField, Value
    from django.db.models.functions import Cast, Concat

    sources = (
        _owned_tasks(user)
        .filter(status=Task.Status.PUBLISHED)
        .annotate(source=Concat(Value("inspections.task:"), Cast("pk", CharField())))
        .values("source")
    )
    return PublishedInspection.objects.filter(source__in=sources).order_by(
        "published_at", "entity_code", "pk"
    )


def due_state(task: Task, calendar, today: dt.date) -> dict[str, Any]:
    """Due date, working days overdue (>0) or left, for one waiting task."""
    due = task.publish_due
    if due is None:
        result = getattr(task, "result", None)
        due = publish_due_of(task, result.check_date) if result is not None else None
    if due is None:
        return {"due": None, "overdue": 0, "left": None, "soon": False}
    between = calendar.between(due, today, allow_provisional=True)
    overdue = max(0, between) if today > due else 0
    left = -between if today <= due else 0
    return {
        "due": due,
        "overdue": overdue,
        "left": left,
        "soon": today <= due and left <= DUE_SOON_WORKDAYS,
    }
