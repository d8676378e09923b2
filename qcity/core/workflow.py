"""Workflows: one mechanism for every step of every case type.

A case type declares its steps once::

    REVIEW = Workflow(
        Report,
        name="plans.report.review",
        steps=[
            Step(
                name="approve",
                label=_("审核通过"),
                sources={Report.Status.SUBMITTED},
                target=Report.Status.APPROVED,
                roles={Role.COORDINATOR},
            ),
            Step(
                name="return",
                label=_("退回"),
                sources={Report.Status.SUBMITTED},
                target=Report.Status.RETURNED,
                roles={Role.COORDINATOR},
                reason_required=True,
                deadline=resubmission_deadline,
                notify=tell_the_reporter,
            ),
        ],
    )

and every caller (page, API, command) takes a step with one call::

    take(REVIEW, "return", report_id, by=request.user, reason="数据缺少佐证")

``take`` runs in one transaction:

1. checks the row is visible to the actor (data scope) and locks it (SELECT … FOR UPDATE);
2. re-checks, on the locked row, the actor's right to the step and the current state;
3. runs the step's validation, then its ``apply`` (the step's own changes);
4. sets the status (and the optional changed-at / changed-by / deadline fields) and saves;
5. writes a ``Transition`` history row (who, when, from, to, reason, details, and the
   deadline with its rule and calendar version) and the audit event;
6. schedules the step's ``notify`` hook with ``transaction.on_commit``, so a step that
   rolls back notifies nobody.

A refused step raises a ``WorkflowError`` subclass with a stable ``code`` and a Chinese
message, before anything is written. Views and the API never assign a status themselves.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured, ValidationError
from django.db import models, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from qcity.core import audit
from qcity.core.models import Transition, User
from qcity.core.scope import get_for_write, scoped

# --- errors ---------------------------------------------------------------------------------


class WorkflowError(Exception):
    """A step that cannot be taken. ``code`` is stable for the API; ``message`` is for people."""

    code = "workflow_error"
    status = 400

    def __init__(self, message: str = "") -> None:
        self.message = str(message) or self.default_message()
        super().__init__(self.message)

    def default_message(self) -> str:
        return _("无法执行该操作。")


class NotFound(WorkflowError):
    """The object does not exist or lies outside the actor's data scope (indistinguishable)."""

    code = "not_found"
    status = 404

    def default_message(self) -> str:
        return _("对象不存在或无权访问。")


class Forbidden(WorkflowError):
    """The actor may see the object but may not take this step."""

    code = "forbidden"
    status = 403

    def default_message(self) -> str:
        return _("您无权执行此操作。")


class StepNotAllowed(WorkflowError):
    """The object's current state is not one the step starts from."""

    code = "step_not_allowed"
    status = 409

    def __init__(self, *, state_label: str, step_label: str) -> None:
        self.state_label, self.step_label = str(state_label), str(step_label)
        super().__init__(
            _("当前状态为“%(state)s”，不能执行“%(step)s”。")
            % {"state": self.state_label, "step": self.step_label}
        )


class Stale(WorkflowError):
    """The caller acted on a state the object is no longer in (someone else moved it)."""

    code = "stale"
    status = 409

    def default_message(self) -> str:
        return _("该记录已被他人处理，请刷新后重试。")


class Invalid(WorkflowError):
    """The step's own validation refused the parameters."""

    code = "invalid"
    status = 422


class ReasonRequired(WorkflowError):
    code = "reason_required"
    status = 422

    def __init__(self, *, step_label: str) -> None:
        super().__init__(_("执行“%(step)s”须填写理由。") % {"step": str(step_label)})


# --- declarations ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Deadline:
    """What a step's ``deadline`` hook returns: the due date and where it came from."""

    due: dt.date
    rule: str
    calendar_version: str = ""
    provisional: bool = False


@dataclass(frozen=True)
class Step:
    """One step of a workflow, declared once.

    :param sources: the states the step may start from.
    :param target: the state it leaves the object in.
    :param roles: roles that may take it; ``allowed(user, obj) -> bool`` refines or
        replaces that. A step with neither is refused at declaration (fail closed).
    :param validate: ``validate(obj, user, **params)`` raises ``Invalid``; it may return a
        dict of cleaned parameters, which replace the given ones for ``apply``.
    :param apply: ``apply(obj, user, **params)`` makes the step's own changes to ``obj``
        (not the status) and may return a dict of details for the history and audit.
    :param deadline: ``deadline(obj, now) -> Deadline | None``, the clock of the new state.
    :param notify: ``notify(obj, transition)``, run after commit only.
    :param action: the audit action; default ``<app_label>.<model>.<step>``.
    :param timer: the clock may take it (``take_on_timer``: an overdue ODR case goes back to
        the bureau); a timer-only step has ``roles=set()``.
    """

    name: str
    label: Any
    sources: Iterable[str]
    target: str
    roles: Iterable[str] | None = None
    allowed: Callable[[User, models.Model], bool] | None = None
    validate: Callable[..., dict[str, Any] | None] | None = None
    apply: Callable[..., dict[str, Any] | None] | None = None
    deadline: Callable[[models.Model, dt.datetime], Deadline | None] | None = None
    notify: Callable[[models.Model, Transition], None] | None = None
    reason_required: bool = False
    action: str = ""
    timer: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "sources", frozenset(self.sources))
        if self.roles is not None:
            object.__setattr__(self, "roles", frozenset(self.roles))


@dataclass
class Workflow:
    """The steps of one case type, over one status field of one model."""

    model: type[models.Model]
    steps: list[Step]
    status_field: str = "status"
    name: str = ""
    changed_at_field: str | None = None
    changed_by_field: str | None = None
    deadline_field: str | None = None
    # Where the deadline's rule (``name@version``) and calendar version are kept, if anywhere.
    deadline_rule_field: str | None = None
    deadline_calendar_field: str | None = None
    # Related rows read by the steps' rules and by the audit label (str(obj)), fetched
    # with the locked row in one query instead of one lazy query each.
    select_related: tuple[str, ...] = ()
    _steps: dict[str, Step] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        meta = self.model._meta
        self.name = self.name or f"{meta.label_lower}.{self.status_field}"
        try:
            status = meta.get_field(self.status_field)
        except FieldDoesNotExist:
            raise ImproperlyConfigured(f"{meta.label} has no field {self.status_field!r}") from None
        if not status.choices:
            raise ImproperlyConfigured(f"{meta.label}.{self.status_field} needs choices")
        self._labels = {value: label for value, label in status.flatchoices}
        self._steps = {}
        for step in self.steps:
            problem = None
            if step.name in self._steps:
                problem = "is declared twice"
            elif step.roles is None and step.allowed is None and not step.timer:
                problem = "says nobody may take it (give roles or allowed)"
            elif not step.sources or not set(step.sources) <= set(self._labels):
                problem = f"starts from unknown states {sorted(step.sources)}"
            elif step.target not in self._labels:
                problem = f"ends in unknown state {step.target!r}"
            if problem:
                raise ImproperlyConfigured(f"{self.name}: step {step.name!r} {problem}")
            self._steps[step.name] = step

    @property
    def states(self) -> list[str]:
        return list(self._labels)

    def state_label(self, state: str) -> str:
        return str(self._labels.get(state, state))

    def step(self, name: str) -> Step:
        try:
            return self._steps[name]
        except KeyError:
            # A programming error (an undeclared step), not bad input.
            raise LookupError(f"{self.name} has no step {name!r}") from None

    def state_of(self, obj: models.Model) -> str:
        return getattr(obj, self.status_field)

    def may_take(self, step: Step, user: User | None, obj: models.Model) -> bool:
        """May ``user`` take ``step`` on ``obj``, whatever its state? (may change ≠ may see)"""
        if user is None or not user.is_authenticated or not user.is_active:
            return False
        if step.roles is not None and user.role not in step.roles:
            return False
        return step.allowed is None or bool(step.allowed(user, obj))

    def available_steps(self, obj: models.Model, user: User | None) -> list[Step]:
        """The steps ``user`` could take on ``obj`` now, for showing buttons (take re-checks)."""
        state = self.state_of(obj)
        return [s for s in self.steps if state in s.sources and self.may_take(s, user, obj)]

    def action_for(self, step: Step) -> str:
        return step.action or f"{self.model._meta.label_lower}.{step.name}"


# --- taking a step --------------------------------------------------------------------------


def _lock_visible(workflow: Workflow, user: User | None, pk: Any) -> models.Model:
    """The row, locked, if ``user`` may see it and change it.

    May see is the data scope (NotFound otherwise: absent looks the same); may change
    is the scope's write rule (Forbidden otherwise). The step's own actor rule is
    checked by the caller on the locked row.
    """
    try:
        rows = workflow.model._default_manager.all()
        if workflow.select_related:
            rows = rows.select_related(*workflow.select_related)
        obj, may_change = get_for_write(user, rows, pk=pk)
    except Http404:
        raise NotFound from None
    if not may_change:
        raise Forbidden
    return obj


class _Timer:
    """The clock as an actor: ``take(..., by=TIMER)`` takes a step declared ``timer=True``.

    No data scope applies (the clock acts for the system); the history row and the audit
    event have no actor, and the audit details say ``"by": "timer"``.
    """

    def __repr__(self) -> str:
        return "TIMER"


TIMER: Any = _Timer()


def take(
    workflow: Workflow,
    step_name: str,
    obj_or_pk: models.Model | Any,
    *,
    by: User | None,
    reason: str = "",
    expected_state: str | None = None,
    **params: Any,
) -> Transition:
    """Take one step on one object, atomically; return the history row.

    :param obj_or_pk: the object or its primary key. An object is only used for its key:
        the row is re-read under the lock, so a stale instance cannot slip past the checks.
        The changed object is ``transition.subject``.
    :param expected_state: the state the caller's user saw; if the object has moved on
        since, the step is refused as ``Stale`` even where it would still be allowed.
    :param params: passed to the step's ``validate`` and ``apply``.
    :raises NotFound, Forbidden, Stale, StepNotAllowed, ReasonRequired, Invalid: nothing
        is changed when any of them is raised.
    """
    step = workflow.step(step_name)
    pk = obj_or_pk.pk if isinstance(obj_or_pk, models.Model) else obj_or_pk
    reason = (reason or "").strip()
    on_timer = by is TIMER
    with transaction.atomic():
        if on_timer:
            if not step.timer:
                raise Forbidden
            rows = workflow.model._default_manager.all()
            if workflow.select_related:
                rows = rows.select_related(*workflow.select_related)
            obj = rows.select_for_update(of=("self",)).filter(pk=pk).first()
            if obj is None:
                raise NotFound
            by = None
        else:
            obj = _lock_visible(workflow, by, pk)
        current = workflow.state_of(obj)
        if not on_timer and not workflow.may_take(step, by, obj):
            raise Forbidden
        if expected_state is not None and current != expected_state:
            raise Stale
        if current not in step.sources:
            raise StepNotAllowed(state_label=workflow.state_label(current), step_label=step.label)
        if step.reason_required and not reason:
            raise ReasonRequired(step_label=step.label)
        # The hooks read the reason here (a transfer keeps it on its own row too).
        obj.step_reason = reason
        if step.validate is not None:
            params = {**params, **(step.validate(obj, by, **params) or {})}
        now = timezone.now()
        details = (step.apply(obj, by, **params) if step.apply is not None else None) or {}
        deadline = step.deadline(obj, now) if step.deadline is not None else None
        setattr(obj, workflow.status_field, step.target)
        if workflow.changed_at_field:
            setattr(obj, workflow.changed_at_field, now)
        if workflow.changed_by_field:
            setattr(obj, workflow.changed_by_field, by)
        if workflow.deadline_field:
            # Each state runs its own clock: a step without a deadline rule clears it.
            setattr(obj, workflow.deadline_field, deadline.due if deadline else None)
        if workflow.deadline_rule_field:
            setattr(obj, workflow.deadline_rule_field, deadline.rule if deadline else "")
        if workflow.deadline_calendar_field:
            version = str(deadline.calendar_version or "") if deadline else ""
            setattr(obj, workflow.deadline_calendar_field, version)
        obj.save()
        transition = Transition(
            content_type=ContentType.objects.get_for_model(workflow.model),
            object_id=str(obj.pk),
            workflow=workflow.name,
            step=step.name,
            from_state=current,
            to_state=step.target,
            actor=by if by is not None and by.pk else None,
            time=now,
            reason=reason,
            details=details,
        )
        if deadline is not None:
            transition.deadline_due = deadline.due
            transition.deadline_rule = deadline.rule
            transition.deadline_calendar_version = str(deadline.calendar_version or "")
            transition.deadline_provisional = deadline.provisional
        transition.save()
        transition.subject = obj
        event_details: dict[str, Any] = {
            "step": step.name,
            "from": current,
            "to": step.target,
            "transition": transition.pk,
            **details,
        }
        if reason:
            event_details["reason"] = reason
        if on_timer:
            event_details["by"] = "timer"
        if deadline is not None:
            event_details["deadline"] = {
                "due": deadline.due.isoformat(),
                "rule": deadline.rule,
                "calendar_version": transition.deadline_calendar_version,
                "provisional": deadline.provisional,
            }
        audit.record(workflow.action_for(step), by=by, obj=obj, details=event_details)
        if step.notify is not None:
            notify = step.notify
            # robust: a failing notice is logged; it cannot undo a committed step.
            transaction.on_commit(lambda: notify(obj, transition), robust=True)
    return transition


def history(user: User | None, model: type[models.Model], pk: Any) -> list[Transition]:
    """The transitions of one object, if ``user`` may see the object (else NotFound)."""
    try:
        found = scoped(user, model._default_manager.filter(pk=pk)).values_list("pk", flat=True)
        key = found.first()
    except (ValueError, TypeError, ValidationError):
        key = None
    if key is None:
        raise NotFound
    return list(
        Transition.objects.filter(
            content_type=ContentType.objects.get_for_model(model), object_id=str(key)
        ).select_related("actor")
    )
