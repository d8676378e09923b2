import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from qcity.core import audit
from qcity.core.dbguards import install_audit_guards
from qcity.core.models import AuditEvent


@pytest.fixture(autouse=True)
def _guards(db):
    # A transactional test elsewhere may have removed them to empty the database.
    install_audit_guards(connection)


def _events(n: int, user=None) -> None:
    for i in range(n):
        audit.record("test.event", by=user, details={"i": i, "名称": "测试"})


def _disable_triggers() -> None:
    """What a DBA with superuser rights could do; verify_audit must still catch the edit."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Fire the deferred foreign-key checks first: PostgreSQL will not alter a
            # table with trigger events pending in the transaction.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE core_auditevent DISABLE TRIGGER USER")
        else:
            cursor.execute("DROP TRIGGER core_auditevent_no_update")
            cursor.execute("DROP TRIGGER core_auditevent_no_delete")


@pytest.mark.django_db
def test_it_reports_an_intact_chain(capsys):
    _events(5)
    call_command("verify_audit")
    assert "审计链完整：共 5 条" in capsys.readouterr().out


@pytest.mark.django_db
def test_it_names_the_first_tampered_row():
    _events(6)
    _disable_triggers()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditevent SET action = 'forged' WHERE seq IN (3, 5)")
    with pytest.raises(CommandError, match="第 3 条") as excinfo:
        call_command("verify_audit")
    assert excinfo.value.returncode == 1


@pytest.mark.django_db
def test_it_detects_a_deleted_row_in_the_middle():
    _events(5)
    _disable_triggers()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditevent WHERE seq = 2")
    with pytest.raises(CommandError, match="第 2 条"):
        call_command("verify_audit")


@pytest.mark.django_db
def test_it_detects_rows_cut_off_the_end():
    _events(5)
    _disable_triggers()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditevent WHERE seq >= 4")
    with pytest.raises(CommandError, match="第 4 条"):
        call_command("verify_audit")


@pytest.mark.django_db
def test_it_detects_a_rehashed_row_by_the_next_link():
    _events(4)
    _disable_triggers()
    forged = AuditEvent.objects.get(seq=2)
    forged.action = "forged"
    new_hash = audit.compute_hash(forged)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE core_auditevent SET action = 'forged', hash = %s WHERE seq = 2", [new_hash]
        )
    with pytest.raises(CommandError, match="第 3 条"):
        call_command("verify_audit")


@pytest.mark.django_db
def test_it_refuses_updates_and_deletes_in_the_database():
    _events(2)
    for statement in ("UPDATE core_auditevent SET action = 'x'", "DELETE FROM core_auditevent"):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    assert AuditEvent.objects.count() == 2


@pytest.mark.django_db
def test_it_refuses_updates_through_the_model():
    event = audit.record("test.event", by=None)
    event.action = "changed"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()


@pytest.mark.django_db
def test_it_leaves_no_event_when_the_action_rolls_back():
    class Boom(Exception):
        pass

    with pytest.raises(Boom), transaction.atomic():
        audit.record("test.event", by=None)
        raise Boom
    assert AuditEvent.objects.count() == 0
    audit.record("test.event", by=None)
    call_command("verify_audit")


@pytest.mark.django_db
def test_it_detects_a_rehashed_last_row_through_the_head():
    _events(3)
    _disable_triggers()
    last = AuditEvent.objects.get(seq=3)
    last.action = "forged"
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE core_auditevent SET action = 'forged', hash = %s WHERE seq = 3",
            [audit.compute_hash(last)],
        )
    with pytest.raises(CommandError, match="第 3 条"):
        call_command("verify_audit")
