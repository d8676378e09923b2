"""The audit chain under concurrent writers, with real threads and their own connections.

PostgreSQL runs writers concurrently (READ COMMITTED): these tests race them.
SQLite serialises writers (transaction_mode=IMMEDIATE): a second writer waits for
the first one's commit whatever the audit does, so there the tests assert what
holds on SQLite instead (ADR 0009).
"""

from __future__ import annotations

import os
import random
import threading

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from qcity.core import audit, auditkeys, services
from qcity.core.dbguards import install_audit_guards, remove_audit_guards
from qcity.core.models import AuditChainHead, AuditEvent, Role, User

WRITERS = 8
TRANSACTIONS = 12
VERIFIES = 30


@pytest.fixture
def live_db(transactional_db, tmp_path, monkeypatch):
    for name in (
        "QCITY_AUDIT_SIGNING_KEY",
        "QCITY_AUDIT_VERIFY_KEY",
        "QCITY_AUDIT_VERIFY_KEY_FILE",
    ):
        monkeypatch.delenv(name, raising=False)
    key = tmp_path / "audit-signing.key"
    auditkeys.generate(key)
    monkeypatch.setenv("QCITY_AUDIT_SIGNING_KEY_FILE", str(key))
    install_audit_guards(connection)
    # A transactional test before this one emptied the tables, the head row included.
    AuditChainHead.objects.get_or_create(pk=1, defaults={"seq": 0, "hash": audit.GENESIS})
    yield
    # The test database is emptied after a transactional test; the guards would refuse it.
    remove_audit_guards(connection)


def _in_thread(target, *args) -> threading.Thread:
    def run() -> None:
        try:
            target(*args)
        finally:
            connection.close()  # each thread has its own connection; give it back

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _assert_intact(expected_rows: int) -> None:
    result = audit.verify_chain(auditkeys.verify_key())
    assert result.broken is None
    assert result.checked == expected_rows
    assert list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True)) == list(
        range(1, expected_rows + 1)
    )
    assert AuditChainHead.objects.get().seq == expected_rows


def _writer(number: int, errors: list[BaseException]) -> None:
    rng = random.Random(number)
    try:
        for i in range(TRANSACTIONS):
            with transaction.atomic():
                audit.record("test.concurrent", by=None, details={"writer": number, "i": i})
                if i % 4 == 0:
                    audit.record_many(
                        [{"action": "test.bulk", "details": {"k": k}} for k in range(3)]
                    )
                if rng.random() < 0.3:
                    # Hold the transaction open a little, so commits interleave.
                    threading.Event().wait(rng.random() / 50)
    except BaseException as exc:  # reported in the main thread
        errors.append(exc)


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_keep_an_intact_chain(live_db, caplog):
    errors: list[BaseException] = []
    if connection.vendor == "postgresql":
        threads = [_in_thread(_writer, n, errors) for n in range(WRITERS)]
        for thread in threads:
            thread.join(timeout=120)
        assert not any(thread.is_alive() for thread in threads)
    else:
        # SQLite admits one writer at a time: the writers take turns.
        for n in range(WRITERS):
            _writer(n, errors)
    assert errors == []
    # No chaining pass failed (a failed on_commit pass is only logged, then redone).
    assert [r.getMessage() for r in caplog.records if r.levelname == "ERROR"] == []
    per_writer = TRANSACTIONS + 3 * len(range(0, TRANSACTIONS, 4))
    # Every committed event is chained by its own commit: nothing waits for verify_audit.
    assert not AuditEvent.objects.filter(seq__isnull=True).exists()
    _assert_intact(WRITERS * per_writer)
    call_command("verify_audit", stdout=open(os.devnull, "w"))


@pytest.mark.django_db(transaction=True)
def test_a_login_is_not_blocked_by_a_long_import(live_db):
    user = User.objects.create(username="liaison", role=Role.DEPARTMENT_LIAISON)
    if connection.vendor != "postgresql":
        # SQLite: the login's write waits for the import's commit (one writer at a
        # time); what the audit adds is nothing: the import holds no audit lock.
        with transaction.atomic():
            audit.record("plan.imported", by=None)
            assert AuditChainHead.objects.get().seq == 0
        services.record_login_success(user, ip="127.0.0.1")
        _assert_intact(2)
        return

    imported, login_done = threading.Event(), threading.Event()
    outcome: dict[str, bool] = {}

    def long_import() -> None:
        with transaction.atomic():
            audit.record("plan.imported", by=None, details={"rows": 5000})
            imported.set()
            # Keep the import's transaction open until the login is through; if the
            # login were waiting for this transaction, this would time out instead.
            outcome["login_finished_during_import"] = login_done.wait(timeout=15)

    def login() -> None:
        imported.wait(timeout=15)
        services.record_login_success(user, ip="127.0.0.1")
        login_done.set()

    threads = [_in_thread(long_import), _in_thread(login)]
    for thread in threads:
        thread.join(timeout=60)
    assert outcome == {"login_finished_during_import": True}
    # The login was chained first; the import's event took the next link at its commit.
    assert list(AuditEvent.objects.order_by("seq").values_list("action", flat=True)) == [
        "auth.login",
        "plan.imported",
    ]
    _assert_intact(2)


@pytest.mark.django_db(transaction=True)
def test_verify_reports_no_false_break_while_others_append(live_db):
    stop = threading.Event()
    errors: list[BaseException] = []

    def keep_appending() -> None:
        try:
            while not stop.is_set():
                audit.record("test.busy", by=None)  # autocommit: insert and chain
        except BaseException as exc:
            errors.append(exc)

    # Enough rows that a walk takes a while, so appends land during it.
    audit.record_many([{"action": "test.first"}] * 400)
    key = auditkeys.verify_key()
    if connection.vendor == "postgresql":
        writer = _in_thread(keep_appending)
        try:
            results = [audit.verify_chain(key, batch_size=7) for _ in range(VERIFIES)]
        finally:
            stop.set()
            writer.join(timeout=30)
    else:
        # SQLite: appends and reads alternate; the head still moves between two checks.
        results = []
        for _ in range(VERIFIES):
            audit.record("test.busy", by=None)
            results.append(audit.verify_chain(key, batch_size=7))
    assert errors == []
    assert [r.broken for r in results] == [None] * VERIFIES
    assert results[-1].checked > 1
