"""Database triggers that make the audit table append-only.

The model refuses save-after-insert and delete, but a raw UPDATE would not go
through the model; these triggers refuse it for every connection. Someone
allowed to drop them (a DBA) can still edit rows: that is what the hash chain
and ``qcity verify_audit`` are for.
"""

from __future__ import annotations

from django.db.backends.base.base import BaseDatabaseWrapper

INSTALL = {
    "sqlite": [
        """CREATE TRIGGER IF NOT EXISTS core_auditevent_no_update BEFORE UPDATE ON core_auditevent
           BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END""",
        """CREATE TRIGGER IF NOT EXISTS core_auditevent_no_delete BEFORE DELETE ON core_auditevent
           BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END""",
    ],
    "postgresql": [
        """CREATE OR REPLACE FUNCTION core_auditevent_refuse() RETURNS trigger AS $$
           BEGIN RAISE EXCEPTION 'audit events are append-only'; END; $$ LANGUAGE plpgsql""",
        "DROP TRIGGER IF EXISTS core_auditevent_append_only ON core_auditevent",
        """CREATE TRIGGER core_auditevent_append_only BEFORE UPDATE OR DELETE ON core_auditevent
           FOR EACH ROW EXECUTE FUNCTION core_auditevent_refuse()""",
        "DROP TRIGGER IF EXISTS core_auditevent_no_truncate ON core_auditevent",
        """CREATE TRIGGER core_auditevent_no_truncate BEFORE TRUNCATE ON core_auditevent
           FOR EACH STATEMENT EXECUTE FUNCTION core_auditevent_refuse()""",
    ],
}
REMOVE = {
    "sqlite": [
        "DROP TRIGGER IF EXISTS core_auditevent_no_update",
        "DROP TRIGGER IF EXISTS core_auditevent_no_delete",
    ],
    "postgresql": [
        "DROP TRIGGER IF EXISTS core_auditevent_append_only ON core_auditevent",
        "DROP TRIGGER IF EXISTS core_auditevent_no_truncate ON core_auditevent",
    ],
}


def _execute(connection: BaseDatabaseWrapper, statements: dict[str, list[str]]) -> None:
    with connection.cursor() as cursor:
        for statement in statements.get(connection.vendor, []):
            cursor.execute(statement)


def install_audit_guards(connection: BaseDatabaseWrapper) -> None:
    _execute(connection, INSTALL)


def remove_audit_guards(connection: BaseDatabaseWrapper) -> None:
    """Only for emptying a test database; production never calls this."""
    _execute(connection, REMOVE)
