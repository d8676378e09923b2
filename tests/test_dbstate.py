"""The fixtures' replay (tests/dbstate.py) writes what the real commands write, or runs them."""

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.db import connection, transaction

from qcity.core import audit
from qcity.core.models import AuditEvent, OrgUnit
from qcity.plans.models import Plan, Responsibility
from tests import dbstate
from tests.conftest import BUNDLED_SEED, run_quietly

pytestmark = pytest.mark.django_db


def _chain_is_intact() -> bool:
    # No checkpoint is signed in these tests, so any key verifies them; rows recorded
    # inside the test's transaction are linked first, as they would be at commit.
    audit.chain_pending()
    return audit.verify_chain(Ed25519PrivateKey.generate().public_key()).broken is None


def _load_world() -> None:
    dbstate.load("test.org_units", lambda: run_quietly("load_org_units"))
    dbstate.load("test.plan", lambda: run_quietly("import_plan", str(BUNDLED_SEED)))


def _world() -> dict:
    """The business rows and the audit trail, without keys and times (they may differ)."""
    return {
        "units": sorted(OrgUnit.objects.values_list("name", "parent__name", "kind", "confirmed")),
        "plans": sorted(Plan.objects.values_list("title", "issuer", "source_sha256")),
        "responsibilities": sorted(
            Responsibility.objects.values_list("measure__number", "written_name", "org_unit__name")
        ),
        "audit": list(AuditEvent.objects.values_list("seq", "action", "details")),
    }


def _in_rolled_back_transaction(work):
    with transaction.atomic():
        result = work()
        transaction.set_rollback(True)
    return result


def test_a_replay_writes_the_same_rows_as_the_real_commands():
    def real():
        run_quietly("load_org_units")
        run_quietly("import_plan", str(BUNDLED_SEED))
        return _world()

    def replayed():
        _load_world()
        return _world()

    expected = _in_rolled_back_transaction(real)
    _in_rolled_back_transaction(replayed)  # records, if no test did before
    assert _in_rolled_back_transaction(replayed) == expected
    assert len(expected["units"]) > 50 and expected["responsibilities"]


def test_a_replay_continues_the_audit_chain_and_the_keys():
    if connection.vendor == "postgresql":
        # As a transactional test with reset_sequences leaves it (setval is not rolled back).
        with connection.cursor() as cursor:
            cursor.execute("SELECT setval(pg_get_serial_sequence('core_orgunit', 'id'), 1, false)")
    _load_world()
    assert _chain_is_intact()
    # New rows get fresh keys after rows written with recorded ones (PostgreSQL sequences).
    unit = OrgUnit.objects.create(name="测试新单位", kind=OrgUnit.Kind.DEPARTMENT)
    assert unit.pk > max(OrgUnit.objects.exclude(pk=unit.pk).values_list("pk", flat=True))
    audit.record("test.after_replay", by=None)
    assert _chain_is_intact()


def test_the_real_loader_runs_when_the_database_differs_from_the_recorded_state():
    calls = []

    def loader():
        calls.append(1)
        run_quietly("load_org_units")

    _in_rolled_back_transaction(lambda: dbstate.load("test.counted", loader))
    _in_rolled_back_transaction(lambda: dbstate.load("test.counted", loader))
    assert len(calls) == 1  # the second time, the same empty state: replayed

    audit.record("test.before", by=None)  # another state: the recording does not apply
    dbstate.load("test.counted", loader)
    assert len(calls) == 2
    assert _chain_is_intact()
    assert OrgUnit.objects.filter(name="市农业农村局").exists()
