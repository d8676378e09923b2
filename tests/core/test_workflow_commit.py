"""core.workflow with real commits: racing steps, and notices sent only after commit.

These tests use ``transactional_db``: every thread has its own database connection and
every transaction really commits, on SQLite (writers serialised by BEGIN IMMEDIATE)
and on PostgreSQL (the row lock, SELECT … FOR UPDATE).
"""

from __future__ import annotations

import os
import threading

import pytest
from django.core.management import call_command
from django.db import connection, connections, transaction

from qcity.core import workflow
from qcity.core.dbguards import install_audit_guards, remove_audit_guards
from qcity.core.models import AuditEvent, OrgUnit, Role, Transition, UnitAlias
from qcity.core.services import confirm_unit, create_unconfirmed_unit, map_unit
from qcity.core.workflow import Step, Workflow, take
from tests.conftest import make_user


@pytest.fixture
def world(transactional_db):
    install_audit_guards(connection)
    call_command("load_org_units", stdout=open(os.devnull, "w"))
    coordinators = [make_user(name, Role.COORDINATOR, "市市场监管局") for name in ("zhang", "wang")]
    yield coordinators
    # The test database is emptied after a transactional test; the guards would refuse it.
    remove_audit_guards(connection)


def _race(*calls):
    """Run each call in its own thread and connection, released together by a barrier."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[object] = [None] * len(calls)

    def run(i, call):
        try:
            barrier.wait(timeout=10)
            outcomes[i] = call()
        except Exception as error:  # the outcome under test, success or refusal
            outcomes[i] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


@pytest.mark.parametrize("attempt", range(3))
def test_a_confirm_and_a_map_racing_on_one_unit_leave_exactly_one_outcome(world, attempt):
    zhang, wang = world
    unit = create_unconfirmed_unit(f"市交通局{attempt}", by=None, source="test")
    transport = OrgUnit.objects.get(name="市交通运输局")
    city = OrgUnit.objects.get(name="铁岭市人民政府")
    events_before = AuditEvent.objects.count()

    outcomes = _race(
        lambda: confirm_unit(unit.pk, by=zhang, kind=OrgUnit.Kind.DEPARTMENT, parent=city),
        lambda: map_unit(unit.pk, onto=transport, by=wang),
    )

    succeeded = [o for o in outcomes if isinstance(o, OrgUnit)]
    refused = [o for o in outcomes if isinstance(o, workflow.StepNotAllowed)]
    assert len(succeeded) == 1 and len(refused) == 1, outcomes
    unit.refresh_from_db()
    history = list(Transition.objects.filter(object_id=str(unit.pk)))
    assert len(history) == 1
    events = AuditEvent.objects.filter(
        object_id=str(unit.pk), action__in=["org_unit.confirmed", "org_unit.mapped"]
    )
    assert events.count() == 1
    assert AuditEvent.objects.count() == events_before + 1
    if history[0].step == "confirm":
        assert unit.status == OrgUnit.Status.CONFIRMED and unit.confirmed
        assert unit.disabled_on is None and not UnitAlias.objects.filter(name=unit.name).exists()
        assert "“已确认”" in refused[0].message and "“映射到已有单位”" in refused[0].message
    else:
        assert unit.status == OrgUnit.Status.MAPPED and not unit.confirmed
        assert unit.disabled_on is not None and unit.kind == OrgUnit.Kind.UNCONFIRMED
        assert UnitAlias.objects.get(name=unit.name).unit == transport
        assert "“已映射”" in refused[0].message and "“确认为新单位”" in refused[0].message


def _notifying_workflow(sent: list) -> Workflow:
    return Workflow(
        OrgUnit,
        name="test.orgunit.notify",
        steps=[
            Step(
                name="confirm",
                label="确认",
                sources={OrgUnit.Status.UNCONFIRMED},
                target=OrgUnit.Status.CONFIRMED,
                roles={Role.COORDINATOR},
                apply=lambda obj, user: setattr(obj, "confirmed", True),
                # What a notice would read: the committed row, seen from another connection.
                notify=lambda obj, transition: sent.append(
                    (transition.pk, _status_seen_elsewhere(obj.pk))
                ),
            )
        ],
    )


def _status_seen_elsewhere(pk: int) -> str:
    seen: list[str] = []

    def read():
        try:
            seen.append(OrgUnit.objects.get(pk=pk).status)
        finally:
            connections.close_all()

    thread = threading.Thread(target=read)
    thread.start()
    thread.join(timeout=30)
    return seen[0]


def test_a_notice_is_sent_once_and_only_after_the_step_commits(world):
    zhang, _ = world
    sent: list = []
    unit = create_unconfirmed_unit("市交通局", by=None, source="test")
    with transaction.atomic():
        transition = take(_notifying_workflow(sent), "confirm", unit, by=zhang)
        assert sent == []  # not yet: the step could still roll back
    assert sent == [(transition.pk, OrgUnit.Status.CONFIRMED)]


def test_a_step_that_rolls_back_sends_nothing_and_leaves_nothing(world):
    zhang, _ = world
    sent: list = []
    unit = create_unconfirmed_unit("市交通局", by=None, source="test")
    events_before = AuditEvent.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        take(_notifying_workflow(sent), "confirm", unit, by=zhang)
        raise RuntimeError("a later part of the caller's work failed")
    assert sent == []
    unit.refresh_from_db()
    assert unit.status == OrgUnit.Status.UNCONFIRMED
    assert not Transition.objects.exists()
    assert AuditEvent.objects.count() == events_before


def test_a_refused_step_sends_nothing(world):
    zhang, _ = world
    sent: list = []
    unit = create_unconfirmed_unit("市交通局", by=None, source="test")
    take(_notifying_workflow(sent), "confirm", unit, by=zhang)
    with pytest.raises(workflow.StepNotAllowed):
        take(_notifying_workflow(sent), "confirm", unit, by=zhang)
    assert len(sent) == 1
