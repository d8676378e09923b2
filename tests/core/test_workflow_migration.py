"""Migration core.0007_workflow derives OrgUnit.status from what was stored before it."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from qcity.core.dbguards import remove_audit_guards

AFTER = [("core", "0007_workflow")]


def _executor() -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    return executor


def _migrate(targets):
    executor = _executor()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_existing_units_get_the_status_their_stored_flags_mean():
    # Just before this migration, whatever the integrator chains it after.
    before = sorted(_executor().loader.graph.node_map[AFTER[0]].parents)
    old = _migrate([parent.key for parent in before])
    OrgUnit = old.get_model("core", "OrgUnit")
    UnitAlias = old.get_model("core", "UnitAlias")
    confirmed = OrgUnit.objects.create(name="市交通运输局", kind="department", confirmed=True)
    waiting = OrgUnit.objects.create(name="市交通局", kind="unconfirmed", confirmed=False)
    # What the old map_unit left: the name is an alias of the target, the unit disabled.
    mapped = OrgUnit.objects.create(
        name="市交通运输局市", kind="unconfirmed", confirmed=False, disabled_on=timezone.now()
    )
    UnitAlias.objects.create(name="市交通运输局市", unit=confirmed)
    # Disabled by an administrator without being mapped: still waiting for a decision.
    dropped = OrgUnit.objects.create(
        name="某某局", kind="unconfirmed", confirmed=False, disabled_on=timezone.now()
    )
    disabled_confirmed = OrgUnit.objects.create(
        name="市旧局", kind="department", confirmed=True, disabled_on=timezone.now()
    )

    new = _migrate(AFTER)
    status = dict(new.get_model("core", "OrgUnit").objects.values_list("pk", "status"))
    assert status == {
        confirmed.pk: "confirmed",
        waiting.pk: "unconfirmed",
        mapped.pk: "mapped",
        dropped.pk: "unconfirmed",
        disabled_confirmed.pk: "confirmed",
    }
    # Back to the full schema for the tests that follow; then let the database be emptied.
    executor = _executor()
    executor.migrate(executor.loader.graph.leaf_nodes())
    remove_audit_guards(connection)
