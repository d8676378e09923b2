"""Test helper: check a declared workflow's whole (state, step) table against the real thing.

``assert_step_table`` takes every step from every state on a fresh object, through
``core.workflow.take`` and the real database, and checks that the step succeeds exactly
when the declaration says so, and that a refused step changed nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.db import models

from qcity.core.models import AuditEvent, Transition, User
from qcity.core.workflow import StepNotAllowed, Workflow, take

Params = Mapping[str, Any] | Callable[[models.Model], Mapping[str, Any]]


def _row(obj: models.Model) -> dict[str, Any]:
    fresh = type(obj)._default_manager.get(pk=obj.pk)
    return {f.attname: getattr(fresh, f.attname) for f in fresh._meta.concrete_fields}


def assert_step_table(
    workflow: Workflow,
    make_obj_in_state: Callable[[str], models.Model],
    actor: User,
    *,
    expected: Mapping[str, set[str]] | None = None,
    params: Mapping[str, Params] | None = None,
) -> None:
    """For every (state, step): take the step; it must succeed iff declared.

    :param make_obj_in_state: returns a new object in the given state (called per pair).
    :param actor: a user who may take every step and see every object, so that the only
        reason for a refusal is the state.
    :param expected: the table as the test's author means it, ``{step: {source states}}``;
        checked against the declaration first, so a changed declaration fails the test.
    :param params: per step, the keyword arguments (or a function of the object giving them).
    """
    if expected is not None:
        declared = {step.name: set(step.sources) for step in workflow.steps}
        assert declared == {name: set(states) for name, states in expected.items()}, (
            f"{workflow.name}: declared {declared}, expected {dict(expected)}"
        )
    problems: list[str] = []
    for state in workflow.states:
        for step in workflow.steps:
            obj = make_obj_in_state(state)
            assert workflow.state_of(obj) == state, f"make_obj_in_state({state!r}) gave another"
            given = (params or {}).get(step.name, {})
            kwargs = dict(given(obj) if callable(given) else given)
            if step.reason_required:
                kwargs.setdefault("reason", "表格检查")
            before = (_row(obj), Transition.objects.count(), AuditEvent.objects.count())
            try:
                transition = take(workflow, step.name, obj, by=actor, **kwargs)
            except StepNotAllowed as error:
                if state in step.sources:
                    problems.append(f"{state} → {step.name}: declared, but refused: {error}")
                after = (_row(obj), Transition.objects.count(), AuditEvent.objects.count())
                if after != before:
                    problems.append(f"{state} → {step.name}: refused, but something changed")
                continue
            except Exception as error:  # anything else is a failure of the declared step
                problems.append(f"{state} → {step.name}: {type(error).__name__}: {error}")
                continue
            if state not in step.sources:
                problems.append(f"{state} → {step.name}: not declared, but it was taken")
                continue
            reloaded = type(obj)._default_manager.get(pk=obj.pk)
            if workflow.state_of(reloaded) != step.target:
                problems.append(f"{state} → {step.name}: left in {workflow.state_of(reloaded)}")
            if (transition.from_state, transition.to_state) != (state, step.target):
                problems.append(f"{state} → {step.name}: history says {transition}")
            if not AuditEvent.objects.filter(
                action=workflow.action_for(step), object_id=str(obj.pk)
            ).exists():
                problems.append(f"{state} → {step.name}: no audit event")
    assert not problems, "\n".join(problems)
