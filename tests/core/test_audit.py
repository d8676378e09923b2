import base64
import os
import stat
import subprocess
import sys

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from qcity.core import audit, auditkeys
from qcity.core.dbguards import install_audit_guards, remove_audit_guards
from qcity.core.models import AuditChainHead, AuditCheckpoint, AuditEvent

KEY_VARS = (
    "QCITY_AUDIT_SIGNING_KEY",
    "QCITY_AUDIT_SIGNING_KEY_FILE",
    "QCITY_AUDIT_VERIFY_KEY",
    "QCITY_AUDIT_VERIFY_KEY_FILE",
)


@pytest.fixture(autouse=True)
def _guards(db):
    # A transactional test elsewhere may have removed them to empty the database.
    install_audit_guards(connection)


@pytest.fixture(autouse=True)
def signing_key_file(tmp_path, monkeypatch):
    """Every test signs with its own key file, outside the database, as `make run` sets up."""
    for name in KEY_VARS:
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "audit-signing.key"
    auditkeys.generate(path)
    monkeypatch.setenv("QCITY_AUDIT_SIGNING_KEY_FILE", str(path))
    return path


def _events(n: int, user=None) -> None:
    for i in range(n):
        audit.record("test.event", by=user, details={"i": i, "名称": "测试"})
    # Test transactions never commit, so do what the commit would have done.
    audit.chain_pending()


def _checkpoint() -> None:
    call_command("audit_checkpoint", stdout=open(os.devnull, "w"))
    audit.chain_pending()  # its own audit event, chained at commit outside tests


def _disable_triggers() -> None:
    """What a DBA with superuser rights could do; verify_audit must still catch the edit."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # Fire the deferred foreign-key checks first: PostgreSQL will not alter a
            # table with trigger events pending in the transaction.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    remove_audit_guards(connection)


def _sql(statement: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def _rehash_from(seq: int) -> None:
    """The attack of issue 5: rewrite every link from ``seq`` on, then the head."""
    prev = AuditEvent.objects.get(seq=seq - 1).hash if seq > 1 else audit.GENESIS
    rows = AuditEvent.objects.filter(seq__gte=seq).order_by("seq")
    for event in list(audit.stored_events(rows)):
        digest = event.digest(event.seq, prev)
        _sql(
            "UPDATE core_auditevent SET prev_hash = %s, hash = %s WHERE id = %s",
            [prev, digest, event.id],
        )
        prev = digest
    last = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    _sql("UPDATE core_auditchainhead SET seq = %s, hash = %s WHERE id = 1", [last, prev])


def _verify_fails(match: str, returncode: int = 1) -> str:
    with pytest.raises(CommandError, match=match) as excinfo:
        call_command("verify_audit")
    assert excinfo.value.returncode == returncode
    assert "\n" not in str(excinfo.value)
    return str(excinfo.value)


# --- an intact chain ------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_reports_an_intact_chain_with_its_checkpoints(capsys):
    _events(5)
    _checkpoint()
    _events(2)
    call_command("verify_audit")
    # 5 events, the checkpoint's own audit event, 2 more.
    assert "审计链完整：共 8 条，1 个签名检查点有效" in capsys.readouterr().out


@pytest.mark.django_db
def test_it_names_the_first_tampered_row():
    _events(6)
    _disable_triggers()
    _sql("UPDATE core_auditevent SET action = 'forged' WHERE seq IN (3, 5)")
    _verify_fails("第 3 条")


@pytest.mark.django_db
def test_it_detects_a_deleted_row_in_the_middle():
    _events(5)
    _disable_triggers()
    _sql("DELETE FROM core_auditevent WHERE seq = 2")
    _verify_fails("第 2 条")


@pytest.mark.django_db
def test_it_detects_rows_cut_off_the_end():
    _events(5)
    _disable_triggers()
    _sql("DELETE FROM core_auditevent WHERE seq >= 4")
    _verify_fails("第 4 条")


@pytest.mark.django_db
def test_it_detects_a_rehashed_row_by_the_next_link():
    _events(4)
    _disable_triggers()
    forged = AuditEvent.objects.get(seq=2)
    forged.action = "forged"
    _sql(
        "UPDATE core_auditevent SET action = 'forged', hash = %s WHERE seq = 2",
        [audit.compute_hash(forged)],
    )
    _verify_fails("第 3 条")


@pytest.mark.django_db
def test_it_detects_a_rehashed_last_row_through_the_head():
    _events(3)
    _disable_triggers()
    last = AuditEvent.objects.get(seq=3)
    last.action = "forged"
    _sql(
        "UPDATE core_auditevent SET action = 'forged', hash = %s WHERE seq = 3",
        [audit.compute_hash(last)],
    )
    _verify_fails("第 3 条")


# --- the attacks of issue 5 -----------------------------------------------------------------


@pytest.mark.django_db
def test_an_edit_rehashed_to_the_end_and_the_head_is_detected_after_a_checkpoint():
    _events(5)
    _checkpoint()  # signs seq 5
    _events(3)
    _disable_triggers()
    _sql("UPDATE core_auditevent SET action = 'forged' WHERE seq = 2")
    _rehash_from(2)
    # The rewritten chain is consistent in itself and with its head ...
    assert audit.verify_chain(auditkeys.verify_key(), 100).broken.reason.startswith("与签名检查点")
    # ... but the signed checkpoint still holds the old hash of row 5.
    _verify_fails("第 5 条.*签名检查点")


@pytest.mark.django_db
def test_rows_after_the_last_checkpoint_are_protected_by_the_chain_only():
    # What the ADR states: a rewrite of rows after the last checkpoint, head included,
    # is not detectable; the next checkpoint closes that window.
    _events(3)
    _checkpoint()  # signs seq 3; seq 4 is its own event
    _events(2)
    _disable_triggers()
    _sql("UPDATE core_auditevent SET action = 'forged' WHERE seq = 5")
    _rehash_from(5)
    call_command("verify_audit")


@pytest.mark.django_db
def test_deleting_the_checkpoint_before_rewriting_the_chain_is_detected():
    _events(5)
    _checkpoint()  # signs seq 5; seq 6 is the checkpoint's own event
    _events(2)
    _disable_triggers()
    # The attacker removes the signature that would expose the rewrite, then rewrites.
    _sql("DELETE FROM core_auditcheckpoint")
    _sql("UPDATE core_auditevent SET action = 'forged' WHERE seq = 2")
    _rehash_from(2)
    # Before, this chain verified: "审计链完整：共 8 条，0 个签名检查点有效".
    _verify_fails("第 6 条.*签名检查点（第 5 条处）已不存在")


@pytest.mark.django_db
def test_a_tail_cut_with_a_rewound_head_is_detected_by_the_checkpoint():
    _events(6)
    _checkpoint()  # signs seq 6
    _disable_triggers()
    _sql("DELETE FROM core_auditevent WHERE seq >= 4")
    _rehash_from(4)  # the head now says 3, as if nothing had followed
    _verify_fails("第 4 条.*末尾被删除")


@pytest.mark.django_db
def test_a_tail_cut_with_the_head_row_deleted_is_detected():
    _events(5)
    _disable_triggers()
    _sql("DELETE FROM core_auditevent WHERE seq >= 3")
    _sql("DELETE FROM core_auditchainhead")
    _verify_fails("链尾记录.*缺失")


@pytest.mark.django_db
def test_a_head_rewound_over_rows_left_in_place_is_detected():
    _events(5)
    _disable_triggers()
    row3 = AuditEvent.objects.get(seq=3).hash
    _sql("UPDATE core_auditchainhead SET seq = 3, hash = %s", [row3])
    _verify_fails("第 4 条.*链尾被改回")


@pytest.mark.django_db
def test_a_forged_checkpoint_does_not_verify(capsys):
    _events(3)
    _checkpoint()
    _disable_triggers()
    _sql("UPDATE core_auditevent SET action = 'forged' WHERE seq = 2")
    _rehash_from(2)
    # The attacker moves the checkpoint to the new hash, but cannot sign it.
    new_hash = AuditEvent.objects.get(seq=3).hash
    _sql("UPDATE core_auditcheckpoint SET hash = %s", [new_hash])
    _verify_fails("签名无效", returncode=2)
    assert "审计链完整" not in capsys.readouterr().out


# --- values as stored: no false alarms -----------------------------------------------------


@pytest.mark.django_db
def test_an_empty_ip_and_ipv6_addresses_give_no_false_alarm(capsys):
    addresses = [
        "",
        None,
        "2001:DB8:0:0:0:0:0:1",
        "2001:db8::0:1",
        "::ffff:10.0.0.1",
        "fe80::1%eth0",
        "127.0.0.1",
        "not-an-address",
    ]
    for ip in addresses:
        audit.record("auth.login", by=None, ip=ip, details={"float": 1.0, "n": None})
    audit.chain_pending()
    call_command("verify_audit")
    assert "共 8 条" in capsys.readouterr().out
    stored = list(AuditEvent.objects.order_by("seq").values_list("ip", "details"))
    assert stored[0][0] is None and stored[1][0] is None
    assert stored[2][0] == "2001:db8::1"
    assert stored[5] == ("fe80::1", {"float": 1.0, "n": None, "ip_raw": "fe80::1%eth0"})
    assert stored[7] == (None, {"float": 1.0, "n": None, "ip_raw": "not-an-address"})


@pytest.mark.django_db
def test_a_nul_character_in_a_typed_username_is_recorded_not_refused():
    details = {"x": "a\x00b", "k\x00": ["\x00"], "typed": "\\u0000"}
    audit.record("auth.login_failed", by=None, actor_label="adm\x00in", details=details)
    audit.chain_pending()
    call_command("verify_audit")
    event = AuditEvent.objects.get()
    assert event.actor_label == "adm\ufffdin"
    assert event.details == {"x": "a\ufffdb", "k\ufffd": ["\ufffd"], "typed": "\\u0000"}


# --- malformed rows (issue 6, item 10) -----------------------------------------------------


def _corrupt(column: str) -> None:
    corrupt = {
        "sqlite": {
            "time": "'not a time'",
            "details": "'\"just a string\"'",
            "seq": "'abc'",
        },
        "postgresql": {
            "time": "'infinity'",
            "details": """'"just a string"'::jsonb""",
            "seq": "-3",
        },
    }[connection.vendor][column]
    _sql(f"UPDATE core_auditevent SET {column} = {corrupt} WHERE seq = 3")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("column", "named"),
    [("time", "第 3 条.*时间"), ("details", "第 3 条.*details"), ("seq", "第 3 条|id=")],
)
def test_a_malformed_value_is_a_break_naming_its_row(column, named):
    _events(5)
    row_id = AuditEvent.objects.get(seq=3).id
    _disable_triggers()
    _corrupt(column)
    message = _verify_fails(named)
    if column == "seq":
        assert "第 3 条" in message or f"id={row_id}" in message


# --- keys -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_without_a_key_it_refuses_to_verify_in_one_line(signing_key_file, capsys):
    _events(2)
    signing_key_file.unlink()
    _verify_fails("未找到审计签名密钥", returncode=2)
    assert "审计链完整" not in capsys.readouterr().out


@pytest.mark.django_db
def test_a_wrong_key_is_refused_when_there_are_checkpoints(monkeypatch):
    _events(2)
    _checkpoint()
    other = Ed25519PrivateKey.generate().public_key()
    raw = other.public_bytes(Encoding.Raw, PublicFormat.Raw)
    monkeypatch.setenv("QCITY_AUDIT_VERIFY_KEY", base64.b64encode(raw).decode())
    _verify_fails("与当前验证公钥.*不符", returncode=2)


@pytest.mark.django_db
def test_it_verifies_with_the_public_key_alone(signing_key_file, monkeypatch, capsys):
    _events(2)
    _checkpoint()
    public = auditkeys.verify_key()
    signing_key_file.unlink()
    monkeypatch.delenv("QCITY_AUDIT_SIGNING_KEY_FILE")
    monkeypatch.setenv(
        "QCITY_AUDIT_VERIFY_KEY", base64.b64encode(auditkeys.public_bytes(public)).decode()
    )
    call_command("verify_audit")
    assert "1 个签名检查点有效" in capsys.readouterr().out


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("QCITY_AUDIT_SIGNING_KEY", "not base64!", "不是有效的 Ed25519 私钥"),
        ("QCITY_AUDIT_SIGNING_KEY", base64.b64encode(b"short").decode(), "不是有效的 Ed25519"),
        ("QCITY_AUDIT_VERIFY_KEY", "AAAA", "不是有效的 Ed25519 公钥"),
        ("QCITY_AUDIT_VERIFY_KEY_FILE", "/nonexistent/audit.pub", "不存在或为空"),
        ("QCITY_AUDIT_SIGNING_KEY_FILE", "/", "无法读取审计签名密钥文件"),
    ],
)
def test_a_malformed_or_unreadable_key_is_one_line_with_status_2(
    monkeypatch, variable, value, message
):
    _events(1)
    monkeypatch.setenv(variable, value)
    _verify_fails(message, returncode=2)


def test_the_command_line_says_a_missing_key_in_one_line_with_status_2(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in KEY_VARS and k != "DATABASE_URL"}
    env["QCITY_VAR_DIR"] = str(tmp_path / "var")  # no key there
    result = subprocess.run(
        [sys.executable, "-m", "qcity.cli", "verify_audit"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert "未找到审计签名密钥" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.django_db
def test_a_checkpoint_needs_the_signing_key_and_an_intact_chain(signing_key_file):
    _events(3)
    _disable_triggers()
    _sql("UPDATE core_auditevent SET action = 'forged' WHERE seq = 2")
    with pytest.raises(CommandError, match=r"未签名：.*第 2 条") as excinfo:
        _checkpoint()
    assert excinfo.value.returncode == 1
    signing_key_file.unlink()
    with pytest.raises(CommandError, match="未找到审计签名密钥") as excinfo:
        _checkpoint()
    assert excinfo.value.returncode == 2
    assert not AuditCheckpoint.objects.exists()


@pytest.mark.django_db
def test_a_checkpoint_is_audited():
    _events(2)
    _checkpoint()
    point = AuditCheckpoint.objects.get()
    assert (point.seq, point.hash) == (2, AuditEvent.objects.get(seq=2).hash)
    event = AuditEvent.objects.get(action="audit.checkpoint")
    assert event.details == {"seq": 2, "key_id": point.key_id}


def test_keygen_writes_a_private_key_readable_only_by_its_owner(tmp_path):
    path = tmp_path / "keys" / "audit-signing.key"
    call_command("audit_keygen", "--path", str(path), stdout=open(os.devnull, "w"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    before = path.read_bytes()
    call_command("audit_keygen", "--path", str(path), "--if-missing")
    with pytest.raises(CommandError, match="已存在") as excinfo:
        call_command("audit_keygen", "--path", str(path))
    assert excinfo.value.returncode == 2
    assert path.read_bytes() == before


# --- guards ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_refuses_updates_and_deletes_in_the_database():
    _events(2)
    for statement in (
        "UPDATE core_auditevent SET action = 'x'",
        "UPDATE core_auditevent SET seq = seq + 10, hash = 'x' || hash",
        "DELETE FROM core_auditevent",
        "DELETE FROM core_auditchainhead",
        "UPDATE core_auditchainhead SET seq = 0",
        "UPDATE core_auditchainhead SET seq = 50, hash = 'f'",
        "INSERT INTO core_auditchainhead (id, seq, hash) VALUES (2, 0, 'x')",
    ):
        with pytest.raises(DatabaseError), transaction.atomic():
            _sql(statement)
    assert AuditEvent.objects.count() == 2
    assert AuditChainHead.objects.get().seq == 2


@pytest.mark.django_db
def test_an_unchained_row_may_only_be_linked_never_edited():
    audit.record("test.event", by=None)  # inside the test transaction: not chained yet
    for statement in (
        "UPDATE core_auditevent SET action = 'x'",
        "UPDATE core_auditevent SET action = 'x', seq = 1, prev_hash = 'a', hash = 'b'",
        "UPDATE core_auditevent SET seq = 0, prev_hash = 'a', hash = 'b'",  # behind the head
    ):
        with pytest.raises(DatabaseError), transaction.atomic():
            _sql(statement)
    assert audit.chain_pending() == 1


@pytest.mark.django_db
def test_it_refuses_changes_to_checkpoints():
    _events(1)
    _checkpoint()
    for statement in (
        "UPDATE core_auditcheckpoint SET seq = 9",
        "DELETE FROM core_auditcheckpoint",
    ):
        with pytest.raises(DatabaseError), transaction.atomic():
            _sql(statement)
    point = AuditCheckpoint.objects.get()
    with pytest.raises(PermissionError):
        point.save()
    with pytest.raises(PermissionError):
        point.delete()


@pytest.mark.django_db
def test_it_refuses_updates_through_the_model():
    event = audit.record("test.event", by=None)
    event.action = "changed"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()


# --- appending at commit --------------------------------------------------------------------


@pytest.mark.django_db
def test_it_leaves_no_event_when_the_action_rolls_back():
    class Boom(Exception):
        pass

    with pytest.raises(Boom), transaction.atomic():
        audit.record("test.event", by=None)
        raise Boom
    assert AuditEvent.objects.count() == 0
    _events(1)
    call_command("verify_audit")


@pytest.mark.django_db
def test_the_callers_transaction_does_not_touch_the_head_until_it_commits(
    django_capture_on_commit_callbacks,
):
    # This is why a login is not blocked by a long import: the import's transaction
    # inserts its event unchained and never locks the head; chaining happens after commit.
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with transaction.atomic():
            event = audit.record("plan.imported", by=None)
            audit.record("plan.imported", by=None)
            assert AuditChainHead.objects.get().seq == 0
            assert AuditEvent.objects.get(pk=event.pk).seq is None
    assert len(callbacks) == 1  # one chaining pass per transaction
    assert AuditChainHead.objects.get().seq == 2
    assert AuditEvent.objects.get(pk=event.pk).seq == 1


@pytest.mark.django_db
def test_record_many_appends_in_one_insert_and_one_chaining_pass(
    django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    items = [{"action": "import.row", "details": {"row": i}} for i in range(50)]
    items.append({"action": "import.done", "success": False, "ip": "::1"})
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        with django_assert_max_num_queries(3), transaction.atomic():
            created = audit.record_many(items, by=None, ip="10.0.0.1")
    assert len(created) == 51 and len(callbacks) == 1
    with django_assert_max_num_queries(8):
        callbacks[0]()
    assert AuditChainHead.objects.get().seq == 51
    assert AuditEvent.objects.get(action="import.done").ip == "::1"
    assert AuditEvent.objects.filter(ip="10.0.0.1").count() == 50
    call_command("verify_audit")


@pytest.mark.django_db
def test_record_many_leaves_nothing_when_the_import_rolls_back():
    class Boom(Exception):
        pass

    with pytest.raises(Boom), transaction.atomic():
        audit.record_many([{"action": "import.row"}] * 10)
        raise Boom
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db
def test_migrations_run_without_the_guards_and_get_them_back():
    # SQLite rebuilds a table for a schema change, and a rebuild under the head's trigger
    # fails; so `migrate` lifts the guards first and reinstalls them when it is done.
    from django.apps import apps
    from django.db.models.signals import post_migrate, pre_migrate

    _events(1)
    core = apps.get_app_config("core")
    if connection.vendor == "postgresql":
        _sql("SET CONSTRAINTS ALL IMMEDIATE")
    pre_migrate.send(sender=core, app_config=core, using=connection.alias, verbosity=0)
    with transaction.atomic():
        _sql("UPDATE core_auditevent SET action = action")
    post_migrate.send(sender=core, app_config=core, using=connection.alias, verbosity=0)
    with pytest.raises(DatabaseError), transaction.atomic():
        _sql("UPDATE core_auditevent SET action = action")
