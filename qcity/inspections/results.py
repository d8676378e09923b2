"""Results (谁检查谁录入) and follow-ups: the hooks of the TASK and FOLLOWUP steps.

- **Who.** Only the login of an *active* inspector assigned to the task
  (``TaskInspector``) may enter or correct its result. The workflow checks it on the
  locked row (``Step.allowed``): the county officer and the coordinator see the task and
  are refused as ``forbidden``; an inspector of another task does not see it at all
  (``not_found``, as absent). Nothing is stored in either case.
- **What.** One or more enabled national result codes (regulations.md §1.4), findings
  (required when a code says a problem was found), the check date (not in the future, not
  before the batch window; after the window end it is kept with a warning), and the
  检查记录 as attachments through ``core.files`` (services.enter_result).
- **Exclusive codes.** 未发现问题 stands alone: combined with any other code the result
  would say two things at once, so it is refused (``codes_exclusive``).
- **Deadline.** ``Task.publish_due`` is the 20th working day after the check date
  (企业信息公示暂行条例第六条), with its rule, calendar version and 暂定 mark; a provisional
  one is recomputed when the year's holidays are entered.
- **Follow-up.** A code with ``opens_follow_up`` (发现问题待后续处理) opens a ``FollowUp``
  for the task's owner unit, due 15 working days after the check date (核查 period of
  《市场监督管理行政处罚程序规定》第十八条). A correction that drops the code closes the
  open follow-up as 结果更正，无需后续处理 with the correction's reason; one that adds it
  back reopens it. Both are audited; the follow-up row is never deleted.
- **Batch.** ``validate_complete`` lets a batch complete only when every task is
  published, and says how many are missing and why.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from typing import Any

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from qcity.core import audit, workdays
from qcity.core.workflow import Invalid
from qcity.inspections.models import FollowUp, Result, ResultCode, Task, TaskInspector

PUBLISH_WORKDAYS = 20
PUBLISH_RULE = "企业信息公示暂行条例第六条：自产生之日起20个工作日内公示"
FOLLOW_UP_WORKDAYS = 15
FOLLOW_UP_RULE = "市场监督管理行政处罚程序规定第十八条：自发现线索之日起15个工作日内核查"
# The national category that says nothing was found; it cannot share a result.
NO_PROBLEM_NAME = "未发现问题"
MAX_FINDINGS = 5000
MAX_CODES = 20


class ResultInvalid(Invalid):
    """A refused result. ``code`` is stable (API), ``field`` says which input is wrong."""

    def __init__(self, code: str, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.field = field


# --- who --------------------------------------------------------------------------------------


def is_assigned_inspector(user, task: Task) -> bool:
    """Is ``user`` the login of an active inspector assigned to ``task`` (谁检查谁录入)?"""
    if user is None or not getattr(user, "is_authenticated", False) or not user.pk:
        return False
    return TaskInspector.objects.filter(
        task_id=task.pk, inspector__user_id=user.pk, inspector__active=True
    ).exists()


# --- what -------------------------------------------------------------------------------------


def _parse_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value or "").strip())
    except ValueError:
        raise ResultInvalid(
            "check_date_invalid", _("检查日期格式不正确，应为 YYYY-MM-DD。"), field="check_date"
        ) from None


def clean_codes(task: Task, codes: Any) -> list[ResultCode]:
    """The chosen result codes, by their stable ``code``; refuse unknown, disabled, exclusive."""
    if isinstance(codes, str | bytes) or not isinstance(codes, Iterable):
        codes = [codes] if codes else []
    wanted = list(dict.fromkeys(str(c).strip() for c in codes if str(c or "").strip()))
    if not wanted:
        raise ResultInvalid("codes_required", _("请至少选择一项检查结果。"), field="codes")
    if len(wanted) > MAX_CODES:
        raise ResultInvalid("codes_unknown", _("检查结果选项过多。"), field="codes")
    # A code disabled since it was entered may stay on a corrected result; a new one may not.
    kept = set(Result.objects.filter(task_id=task.pk).values_list("codes__code", flat=True)) - {
        None
    }
    found = {
        rc.code: rc
        for rc in ResultCode.objects.filter(code__in=wanted).filter(
            Q(disabled_on__isnull=True) | Q(code__in=kept)
        )
    }
    unknown = [c for c in wanted if c not in found]
    if unknown:
        raise ResultInvalid(
            "codes_unknown",
            _("检查结果代码不存在或已停用：%(codes)s") % {"codes": "、".join(unknown)},
            field="codes",
        )
    chosen = [found[c] for c in wanted]
    alone = [rc for rc in chosen if rc.name == NO_PROBLEM_NAME]
    if alone and len(chosen) > 1:
        others = "、".join(rc.name for rc in chosen if rc.name != NO_PROBLEM_NAME)
        raise ResultInvalid(
            "codes_exclusive",
            _("“%(alone)s”不能与其他检查结果同时选择（已选：%(others)s）。")
            % {"alone": NO_PROBLEM_NAME, "others": others},
            field="codes",
        )
    return sorted(chosen, key=lambda rc: (rc.sort_order, rc.code))


def validate_result(task: Task, user, **params: Any) -> dict[str, Any]:
    """Check a result before anything is written; return the cleaned parameters.

    :raises ResultInvalid: ``codes_required``, ``codes_unknown``, ``codes_exclusive``,
        ``findings_required``, ``findings_too_long``, ``check_date_invalid``,
        ``check_date_future``, ``check_date_before_window``.
    """
    codes = clean_codes(task, params.get("codes"))
    findings = str(params.get("findings") or "").replace("\r\n", "\n").strip()
    if len(findings) > MAX_FINDINGS:
        raise ResultInvalid(
            "findings_too_long",
            _("检查情况不能超过 %(n)d 字。") % {"n": MAX_FINDINGS},
            field="findings",
        )
    problems = [rc.name for rc in codes if rc.problem_found]
    if problems and not findings:
        raise ResultInvalid(
            "findings_required",
            _("选择了“%(codes)s”，请填写检查情况（发现的问题）。") % {"codes": "、".join(problems)},
            field="findings",
        )
    check_date = _parse_date(params.get("check_date"))
    today = timezone.localdate()
    if check_date > today:
        raise ResultInvalid(
            "check_date_future",
            _("检查日期 %(date)s 晚于今天，不能录入。") % {"date": check_date.isoformat()},
            field="check_date",
        )
    batch = task.batch
    if check_date < batch.window_start:
        raise ResultInvalid(
            "check_date_before_window",
            _("检查日期 %(date)s 早于本批次检查开始日期 %(start)s。")
            % {"date": check_date.isoformat(), "start": batch.window_start.isoformat()},
            field="check_date",
        )
    warnings = []
    if check_date > batch.window_end:
        # Late checks happen (an entity not found at first); they are kept and marked.
        warnings.append("check_date_after_window")
    return {"codes": codes, "findings": findings, "check_date": check_date, "warnings": warnings}


WARNING_TEXT = {
    "check_date_after_window": gettext_lazy("检查日期晚于本批次检查结束日期"),
}


def warning_text(code: str) -> str:
    return str(WARNING_TEXT.get(code, code))


# --- applying a result ------------------------------------------------------------------------


def _deadline_dict(deadline: workdays.Deadline) -> dict[str, Any]:
    return deadline.as_api()


def apply_result(task: Task, user, **params: Any) -> dict[str, Any]:
    """Write the result (1:1, updated on correction), the publish deadline and the follow-up."""
    codes: list[ResultCode] = params["codes"]
    check_date: dt.date = params["check_date"]
    now = timezone.now()
    result = Result.objects.filter(task_id=task.pk).first()
    previous = None
    if result is not None:
        previous = {
            "codes": sorted(result.codes.values_list("code", flat=True)),
            "check_date": result.check_date.isoformat(),
            "findings": result.findings,
        }
    else:
        result = Result(task=task)
    result.findings = params["findings"]
    result.check_date = check_date
    result.entered_by = user
    result.entered_at = now
    result.save()
    result.codes.set(codes)

    due = workdays.deadline(check_date, PUBLISH_WORKDAYS, rule=PUBLISH_RULE)
    task.publish_due = due.due
    task.publish_due_rule = due.rule
    task.publish_due_calendar_version = due.calendar_version
    task.publish_due_provisional = due.provisional

    details: dict[str, Any] = {
        "result": result.pk,
        "codes": [rc.code for rc in codes],
        "check_date": check_date.isoformat(),
        "publish_due": _deadline_dict(due),
    }
    if params.get("warnings"):
        details["warnings"] = list(params["warnings"])
    if previous is not None:
        details["previous"] = previous
    follow_up = _follow_up_for(task, user, codes, check_date, params.get("note", ""), now)
    if follow_up:
        details["follow_up"] = follow_up
    return details


def _follow_up_for(
    task: Task, user, codes: list[ResultCode], check_date: dt.date, note: str, now: dt.datetime
) -> str:
    """Open, reopen or withdraw the task's follow-up to match the codes; say what was done."""
    needed = any(rc.opens_follow_up for rc in codes)
    follow_up = FollowUp.objects.select_for_update().filter(task_id=task.pk).first()
    if needed and follow_up is None:
        due = workdays.deadline(check_date, FOLLOW_UP_WORKDAYS, rule=FOLLOW_UP_RULE)
        follow_up = FollowUp.objects.create(
            task=task,
            owner_unit_id=task.owner_unit_id,
            status=FollowUp.Status.OPEN,
            opened_at=now,
            due_date=due.due,
            due_rule=due.rule,
            due_calendar_version=due.calendar_version,
            due_provisional=due.provisional,
            status_changed_at=now,
            status_changed_by=user,
        )
        audit.record(
            "inspections.followup.opened",
            by=user,
            obj=follow_up,
            details={"task": task.pk, "deadline": due.as_api()},
        )
        _tell_owner(follow_up, task, user)
        return "opened"
    if needed and follow_up.status == FollowUp.Status.CLOSED:
        due = workdays.deadline(check_date, FOLLOW_UP_WORKDAYS, rule=FOLLOW_UP_RULE)
        previous = {"resolution": follow_up.resolution, "outcome": follow_up.outcome}
        follow_up.status = FollowUp.Status.OPEN
        follow_up.due_date, follow_up.due_rule = due.due, due.rule
        follow_up.due_calendar_version, follow_up.due_provisional = (
            due.calendar_version,
            due.provisional,
        )
        follow_up.resolution, follow_up.outcome = "", ""
        follow_up.status_changed_at, follow_up.status_changed_by = now, user
        follow_up.save()
        audit.record(
            "inspections.followup.reopened",
            by=user,
            obj=follow_up,
            details={"task": task.pk, "previous": previous, "deadline": due.as_api()},
        )
        _tell_owner(follow_up, task, user)
        return "reopened"
    if not needed and follow_up is not None and follow_up.status == FollowUp.Status.OPEN:
        follow_up.status = FollowUp.Status.CLOSED
        follow_up.resolution = FollowUp.Resolution.NOT_NEEDED
        follow_up.outcome = _("检查结果已更正，不再需要后续处理。理由：%(reason)s") % {
            "reason": note or "—"
        }
        follow_up.status_changed_at, follow_up.status_changed_by = now, user
        follow_up.save()
        audit.record(
            "inspections.followup.withdrawn",
            by=user,
            obj=follow_up,
            details={"task": task.pk, "reason": note},
        )
        return "withdrawn"
    return ""


def _tell_owner(follow_up: FollowUp, task: Task, user) -> None:
    """Leave a notice for the owner unit's officers (delivered after commit)."""
    from qcity.core.models import Role, User
    from qcity.core.notices import notify

    officers = User.objects.filter(
        unit_id=follow_up.owner_unit_id,
        is_active=True,
        role__in=[Role.COUNTY_OFFICER, Role.COORDINATOR, Role.DEPARTMENT_LIAISON],
    )
    subject = _("后续处理：%(entity)s（办理期限 %(due)s）") % {
        "entity": task.entity.name,
        "due": follow_up.due_date.isoformat() if follow_up.due_date else "—",
    }
    notify(officers, follow_up, subject, by=user)


# --- completing a batch -----------------------------------------------------------------------


def missing_for_completion(batch) -> dict[str, int]:
    """How many of the batch's tasks still lack a result, and a publication."""
    counts = Task.objects.filter(batch_id=batch.pk).aggregate(
        total=Count("pk"),
        pending=Count("pk", filter=Q(status=Task.Status.PENDING)),
        checked=Count("pk", filter=Q(status=Task.Status.CHECKED)),
    )
    return {k: int(v or 0) for k, v in counts.items()}


def validate_complete(batch, user, **params: Any) -> None:
    """A batch completes when every task's result is entered and published."""
    counts = missing_for_completion(batch)
    parts = []
    if counts["pending"]:
        parts.append(_("还有 %(n)d 户未录入结果") % {"n": counts["pending"]})
    if counts["checked"]:
        parts.append(_("还有 %(n)d 户未公示") % {"n": counts["checked"]})
    if not counts["total"]:
        parts.append(_("本批次没有检查任务"))
    if parts:
        error = ResultInvalid("batch_incomplete", _("批次尚不能完成：") + "，".join(parts) + "。")
        error.details = counts
        raise error


# --- closing a follow-up ----------------------------------------------------------------------

CLOSING_RESOLUTIONS = [r for r in FollowUp.Resolution if r != FollowUp.Resolution.NOT_NEEDED]


def validate_close(follow_up: FollowUp, user, **params: Any) -> dict[str, Any]:
    resolution = str(params.get("resolution") or "").strip()
    if resolution not in {r.value for r in CLOSING_RESOLUTIONS}:
        raise ResultInvalid("resolution_required", _("请选择办结方式。"), field="resolution")
    outcome = str(params.get("outcome") or "").replace("\r\n", "\n").strip()
    if not outcome:
        raise ResultInvalid("outcome_required", _("请填写处理结果。"), field="outcome")
    if len(outcome) > MAX_FINDINGS:
        raise ResultInvalid(
            "outcome_too_long",
            _("处理结果不能超过 %(n)d 字。") % {"n": MAX_FINDINGS},
            field="outcome",
        )
    return {"resolution": resolution, "outcome": outcome}


def apply_close(follow_up: FollowUp, user, **params: Any) -> dict[str, Any]:
    follow_up.resolution = params["resolution"]
    follow_up.outcome = params["outcome"]
    on_time = follow_up.due_date is None or timezone.localdate() <= follow_up.due_date
    return {"resolution": follow_up.resolution, "on_time": on_time}


# --- provisional deadlines --------------------------------------------------------------------


def recompute_provisional(year: int) -> Iterator[workdays.Recomputed]:
    """Re-derive provisional publish and follow-up deadlines once ``year`` is entered."""
    tasks = (
        Task.objects.select_for_update(of=("self",))
        .filter(publish_due_provisional=True, result__isnull=False)
        .select_related("result", "entity")
        .order_by("pk")
    )
    for task in tasks:
        old = workdays.Deadline(
            task.publish_due,
            task.publish_due_rule or PUBLISH_RULE,
            int(task.publish_due_calendar_version or 0),
            True,
        )
        new = workdays.deadline(task.result.check_date, PUBLISH_WORKDAYS, rule=old.rule)
        task.publish_due, task.publish_due_provisional = new.due, new.provisional
        task.publish_due_calendar_version = new.calendar_version
        task.save(
            update_fields=["publish_due", "publish_due_provisional", "publish_due_calendar_version"]
        )
        yield workdays.Recomputed(obj=task, old=old, new=new, label=f"{task.entity.name}公示期限")
    follow_ups = (
        FollowUp.objects.select_for_update(of=("self",))
        .filter(due_provisional=True, status=FollowUp.Status.OPEN)
        .select_related("task__result", "task__entity")
        .order_by("pk")
    )
    for follow_up in follow_ups:
        result = getattr(follow_up.task, "result", None)
        if result is None:
            continue
        old = workdays.Deadline(
            follow_up.due_date,
            follow_up.due_rule or FOLLOW_UP_RULE,
            int(follow_up.due_calendar_version or 0),
            True,
        )
        new = workdays.deadline(result.check_date, FOLLOW_UP_WORKDAYS, rule=old.rule)
        follow_up.due_date, follow_up.due_provisional = new.due, new.provisional
        follow_up.due_calendar_version = new.calendar_version
        follow_up.save(update_fields=["due_date", "due_provisional", "due_calendar_version"])
        yield workdays.Recomputed(
            obj=follow_up, old=old, new=new, label=f"{follow_up.task.entity.name}后续处理期限"
        )
