"""Database triggers that make the audit tables append-only.

The models refuse save-after-insert and delete, but a raw UPDATE would not go
through them; these triggers refuse it for every connection:

- ``core_auditevent``: no DELETE (or TRUNCATE); an UPDATE only of a row not yet
  chained, only setting its ``seq``/``prev_hash``/``hash`` (to a seq beyond the
  head) and leaving every other column as it was. A chained row never changes.
- ``core_auditchainhead``: no DELETE/TRUNCATE, no second row; an UPDATE only
  raises ``seq``, and only to an event already chained with that seq and hash.
- ``core_auditcheckpoint``: no UPDATE, DELETE or TRUNCATE.

Someone allowed to drop the triggers (a DBA) can still edit rows: that is what
the hash chain, the signed checkpoints and ``qcity verify_audit`` are for.
"""

from __future__ import annotations

from django.db.backends.base.base import BaseDatabaseWrapper

# Every column an event keeps from its insert; the chaining step may not touch them.
_KEPT = (
    "id",
    "time",
    "actor_id",
    "actor_label",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "success",
    "ip",
    "details",
)
_SQLITE_KEPT = " AND ".join(f"NEW.{c} IS OLD.{c}" for c in _KEPT)
_PG_KEPT = " AND ".join(f"NEW.{c} IS NOT DISTINCT FROM OLD.{c}" for c in _KEPT)
_CHAINING = (
    "OLD.seq IS NULL AND OLD.prev_hash IS NULL AND OLD.hash IS NULL"
    " AND NEW.seq IS NOT NULL AND NEW.prev_hash IS NOT NULL AND NEW.hash IS NOT NULL"
    " AND NEW.seq > (SELECT seq FROM core_auditchainhead WHERE id = 1)"
)

# Statements per table, so the guards of a table are installed only once it exists
# (migration 0002 runs before the checkpoint table is created).
INSTALL = {
    "sqlite": {
        "core_auditevent": [
            "DROP TRIGGER IF EXISTS core_auditevent_no_update",
            f"""CREATE TRIGGER core_auditevent_no_update BEFORE UPDATE ON core_auditevent
               WHEN NOT ({_CHAINING} AND {_SQLITE_KEPT})
               BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END""",
            """CREATE TRIGGER IF NOT EXISTS core_auditevent_no_delete
               BEFORE DELETE ON core_auditevent
               BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END""",
        ],
        "core_auditchainhead": [
            """CREATE TRIGGER IF NOT EXISTS core_auditchainhead_no_delete
               BEFORE DELETE ON core_auditchainhead
               BEGIN SELECT RAISE(ABORT, 'the audit head cannot be deleted'); END""",
            """CREATE TRIGGER IF NOT EXISTS core_auditchainhead_one_row
               BEFORE INSERT ON core_auditchainhead
               WHEN NEW.id IS NOT 1 OR EXISTS (SELECT 1 FROM core_auditchainhead)
               BEGIN SELECT RAISE(ABORT, 'there is one audit head'); END""",
            """CREATE TRIGGER IF NOT EXISTS core_auditchainhead_advance_only
               BEFORE UPDATE ON core_auditchainhead
               WHEN NOT (NEW.id IS OLD.id AND NEW.seq > OLD.seq AND EXISTS (
                   SELECT 1 FROM core_auditevent WHERE seq = NEW.seq AND hash = NEW.hash))
               BEGIN SELECT RAISE(ABORT, 'the audit head only advances with the chain'); END""",
        ],
        "core_auditcheckpoint": [
            """CREATE TRIGGER IF NOT EXISTS core_auditcheckpoint_no_update
               BEFORE UPDATE ON core_auditcheckpoint
               BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END""",
            """CREATE TRIGGER IF NOT EXISTS core_auditcheckpoint_no_delete
               BEFORE DELETE ON core_auditcheckpoint
               BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END""",
        ],
    },
    "postgresql": {
        "core_auditevent": [
            """CREATE OR REPLACE FUNCTION core_auditevent_refuse() RETURNS trigger AS $$
               BEGIN RAISE EXCEPTION 'audit events are append-only'; END; $$ LANGUAGE plpgsql""",
            f"""CREATE OR REPLACE FUNCTION core_auditevent_guard() RETURNS trigger AS $$
               BEGIN
                 IF TG_OP = 'UPDATE' AND {_CHAINING} AND {_PG_KEPT} THEN RETURN NEW; END IF;
                 RAISE EXCEPTION 'audit events are append-only';
               END; $$ LANGUAGE plpgsql""",
            "DROP TRIGGER IF EXISTS core_auditevent_append_only ON core_auditevent",
            """CREATE TRIGGER core_auditevent_append_only BEFORE UPDATE OR DELETE ON core_auditevent
               FOR EACH ROW EXECUTE FUNCTION core_auditevent_guard()""",
            "DROP TRIGGER IF EXISTS core_auditevent_no_truncate ON core_auditevent",
            """CREATE TRIGGER core_auditevent_no_truncate BEFORE TRUNCATE ON core_auditevent
               FOR EACH STATEMENT EXECUTE FUNCTION core_auditevent_refuse()""",
        ],
        "core_auditchainhead": [
            """CREATE OR REPLACE FUNCTION core_auditchainhead_guard() RETURNS trigger AS $$
               BEGIN
                 IF TG_OP = 'INSERT' AND NEW.id = 1
                    AND NOT EXISTS (SELECT 1 FROM core_auditchainhead) THEN RETURN NEW; END IF;
                 IF TG_OP = 'UPDATE' AND NEW.id = OLD.id AND NEW.seq > OLD.seq AND EXISTS (
                      SELECT 1 FROM core_auditevent WHERE seq = NEW.seq AND hash = NEW.hash)
                    THEN RETURN NEW; END IF;
                 RAISE EXCEPTION 'the audit head only advances with the chain';
               END; $$ LANGUAGE plpgsql""",
            "DROP TRIGGER IF EXISTS core_auditchainhead_guard ON core_auditchainhead",
            """CREATE TRIGGER core_auditchainhead_guard
               BEFORE INSERT OR UPDATE OR DELETE ON core_auditchainhead
               FOR EACH ROW EXECUTE FUNCTION core_auditchainhead_guard()""",
            "DROP TRIGGER IF EXISTS core_auditchainhead_no_truncate ON core_auditchainhead",
            """CREATE TRIGGER core_auditchainhead_no_truncate BEFORE TRUNCATE ON core_auditchainhead
               FOR EACH STATEMENT EXECUTE FUNCTION core_auditevent_refuse()""",
        ],
        "core_auditcheckpoint": [
            "DROP TRIGGER IF EXISTS core_auditcheckpoint_append_only ON core_auditcheckpoint",
            """CREATE TRIGGER core_auditcheckpoint_append_only
               BEFORE UPDATE OR DELETE ON core_auditcheckpoint
               FOR EACH ROW EXECUTE FUNCTION core_auditevent_refuse()""",
            "DROP TRIGGER IF EXISTS core_auditcheckpoint_no_truncate ON core_auditcheckpoint",
            """CREATE TRIGGER core_auditcheckpoint_no_truncate
               BEFORE TRUNCATE ON core_auditcheckpoint
               FOR EACH STATEMENT EXECUTE FUNCTION core_auditevent_refuse()""",
        ],
    },
}
REMOVE = {
    "sqlite": {
        "core_auditevent": [
            "DROP TRIGGER IF EXISTS core_auditevent_no_update",
            "DROP TRIGGER IF EXISTS core_auditevent_no_delete",
        ],
        "core_auditchainhead": [
            "DROP TRIGGER IF EXISTS core_auditchainhead_no_delete",
            "DROP TRIGGER IF EXISTS core_auditchainhead_one_row",
            "DROP TRIGGER IF EXISTS core_auditchainhead_advance_only",
        ],
        "core_auditcheckpoint": [
            "DROP TRIGGER IF EXISTS core_auditcheckpoint_no_update",
            "DROP TRIGGER IF EXISTS core_auditcheckpoint_no_delete",
        ],
    },
    "postgresql": {
        "core_auditevent": [
            "DROP TRIGGER IF EXISTS core_auditevent_append_only ON core_auditevent",
            "DROP TRIGGER IF EXISTS core_auditevent_no_truncate ON core_auditevent",
        ],
        "core_auditchainhead": [
            "DROP TRIGGER IF EXISTS core_auditchainhead_guard ON core_auditchainhead",
            "DROP TRIGGER IF EXISTS core_auditchainhead_no_truncate ON core_auditchainhead",
        ],
        "core_auditcheckpoint": [
            "DROP TRIGGER IF EXISTS core_auditcheckpoint_append_only ON core_auditcheckpoint",
            "DROP TRIGGER IF EXISTS core_auditcheckpoint_no_truncate ON core_auditcheckpoint",
        ],
    },
}


def _execute(connection: BaseDatabaseWrapper, statements: dict[str, dict[str, list[str]]]) -> None:
    by_table = statements.get(connection.vendor, {})
    with connection.cursor() as cursor:
        present = set(connection.introspection.table_names(cursor))
        for table, table_statements in by_table.items():
            if table in present:
                for statement in table_statements:
                    cursor.execute(statement)


def install_audit_guards(connection: BaseDatabaseWrapper) -> None:
    _execute(connection, INSTALL)


def remove_audit_guards(connection: BaseDatabaseWrapper) -> None:
    """Only for emptying a test database; production never calls this."""
    _execute(connection, REMOVE)
