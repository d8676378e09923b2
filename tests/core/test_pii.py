"""Personal data at rest: SM4 tokens, keyed hashes, masks, the key file and its rotation."""

from __future__ import annotations

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from qcity.complaints.models import Case
from qcity.core import pii, pii_rotation
from qcity.core.models import AuditEvent
from tests.complaints.helpers import make_case

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def key_file(settings, tmp_path) -> Path:
    """A key file of the test's own (the cache is keyed by path, so each test reads its own)."""
    settings.PII_KEY_FILE = tmp_path / "keys" / "pii.key"
    pii.keyring()  # created on first use outside production
    return settings.PII_KEY_FILE


def _run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def _enc_ids(path: Path) -> list[str]:
    return [line.split()[1] for line in path.read_text().splitlines() if line.startswith("enc ")]


# --- tokens, hashes, masks --------------------------------------------------------------------


def test_a_token_hides_the_text_and_decrypts_back(key_file):
    token = pii.encrypt("13800138000")
    assert "13800138000" not in token and token.startswith("sm4gcm:")
    assert pii.decrypt(token) == "13800138000"
    # A fresh nonce each time: equal phones do not give equal tokens (the hash is for that).
    assert pii.encrypt("13800138000") != token
    assert pii.encrypt("") == "" and pii.decrypt("") == ""


def test_a_tampered_token_is_refused_not_decrypted_into_garbage(key_file):
    token = pii.encrypt("210282199001011234")
    prefix, key_id, blob = token.split(":", 2)
    flipped = blob[:-6] + ("A" if blob[-6] != "A" else "B") + blob[-5:]
    with pytest.raises(pii.PiiKeyProblem, match="校验失败"):
        pii.decrypt(f"{prefix}:{key_id}:{flipped}")
    with pytest.raises(pii.PiiKeyProblem, match="不在密钥文件中"):
        pii.decrypt(f"{prefix}:nosuchkey:{blob}")


def test_the_blind_index_finds_a_phone_however_it_was_written(key_file):
    index = pii.blind_index("phone", "13800138000")
    assert pii.blind_index("phone", "138-0013-8000") == index
    assert pii.blind_index("phone", "+86 138 0013 8000") == index
    assert pii.blind_index("phone", "１３８００１３８０００") == index  # full-width digits
    assert pii.blind_index("id_number", "13800138000") != index  # kinds never collide
    assert pii.blind_index("id_number", "21028219900101123x") == pii.blind_index(
        "id_number", "21028219900101123X"
    )
    assert "13800138000" not in index and len(index) == 64


def test_the_masks_show_what_12315_shows():
    assert pii.mask_phone("13800138000") == "138****8000"
    assert pii.mask_id_number("21028219900101123X") == "2102**********123X"
    assert pii.mask_name("欧阳修") == "欧**"
    assert pii.mask_name("") == ""


# --- the key file --------------------------------------------------------------------------


def test_outside_production_the_key_file_is_created_on_first_use_readable_by_its_owner_only(
    key_file,
):
    assert key_file.exists()
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert pii.key_problems() == []


def test_in_production_a_missing_key_file_is_an_error_and_never_created(settings, tmp_path):
    settings.PRODUCTION = True
    settings.PII_KEY_FILE = tmp_path / "pii.key"
    with pytest.raises(pii.PiiKeyProblem, match="生产环境不会自动生成"):
        pii.encrypt("13800138000")
    assert not settings.PII_KEY_FILE.exists()
    assert "qcity pii_keygen" in pii.key_problems()[0]


def test_a_malformed_key_file_names_its_line(key_file):
    key_file.write_text(key_file.read_text() + "enc short AAAA\n")
    with pytest.raises(pii.PiiKeyProblem, match="第 3 行格式错误"):
        pii.keyring()
    assert "第 3 行格式错误" in pii.key_problems()[0]


def test_pii_keygen_creates_once_and_refuses_to_overwrite(settings, tmp_path):
    settings.PII_KEY_FILE = tmp_path / "pii.key"
    assert "请立即备份" in _run("pii_keygen")
    first = settings.PII_KEY_FILE.read_text()
    assert _run("pii_keygen", "--if-missing") == ""
    with pytest.raises(CommandError) as refused:
        _run("pii_keygen")
    assert refused.value.returncode == 2 and "不会覆盖" in str(refused.value)
    assert settings.PII_KEY_FILE.read_text() == first


# --- rotation ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_rotation_re_encrypts_every_token_under_the_new_key_in_audited_batches(key_file, personas):
    old_key = pii.keyring().current[0]
    cases = [make_case(phone=f"1380013800{i}", id_number="21028219900101123X") for i in range(5)]
    indexes = {c.pk: c.person_phone_index for c in cases}

    assert "请备份" in _run("pii_keygen", "--add")
    new_key = pii.keyring().current[0]
    assert new_key != old_key and _enc_ids(key_file) == [new_key, old_key]
    # Written before the rotation, still readable: the old key only decrypts now.
    assert pii.decrypt(Case.objects.get(pk=cases[0].pk).person_phone) == "13800138000"

    out = _run("rotate_pii_key", "--batch-size", "2")
    assert f"当前密钥 {new_key}：重新加密 10 项" in out
    for i, case in enumerate(Case.objects.filter(pk__in=indexes).order_by("pk")):
        assert pii.key_id_of(case.person_phone) == new_key
        assert pii.key_id_of(case.person_id_number) == new_key
        assert pii.decrypt(case.person_phone) == f"1380013800{i}"
        assert pii.decrypt(case.person_id_number) == "21028219900101123X"
        assert case.person_phone_index == indexes[case.pk]  # lookups keep working

    batches = AuditEvent.objects.filter(action="pii.reencrypted").order_by("id")
    # Five phones and five ID numbers, two per batch: three batches per field.
    assert [e.details["rows"] for e in batches] == [2, 2, 1, 2, 2, 1]
    summary = AuditEvent.objects.get(action="pii.key_rotated")
    assert summary.details["rows"] == 10 and summary.details["key"] == new_key
    for event in AuditEvent.objects.filter(action__startswith="pii."):
        assert "1380013800" not in str(event.details) and "21028219" not in str(event.details)

    # Idempotent: a second run (after an interruption, or by mistake) changes nothing.
    assert "重新加密 0 项" in _run("rotate_pii_key")
    assert AuditEvent.objects.filter(action="pii.reencrypted").count() == 6


@pytest.mark.django_db
def test_prune_retires_the_old_key_only_once_no_token_uses_it(key_file, personas):
    old_key = pii.keyring().current[0]
    case = make_case(phone="13900139000")
    _run("pii_keygen", "--add")
    new_key = pii.keyring().current[0]
    # Without re-encryption the old key is still in use: nothing to retire.
    assert pii_rotation.keys_in_use() == {old_key}

    out = _run("rotate_pii_key", "--prune")
    assert f"已删除旧密钥 {old_key}" in out
    assert _enc_ids(key_file) == [new_key]
    assert key_file.stat().st_mode & 0o777 == 0o600
    case.refresh_from_db()
    assert pii.decrypt(case.person_phone) == "13900139000"
    assert pii_rotation.keys_in_use() == {new_key}


@pytest.mark.django_db
def test_a_token_under_a_key_no_longer_in_the_file_stops_the_rotation_in_one_line(
    key_file, personas
):
    good = make_case(phone="13700137000")
    lost = make_case(phone="13600136000")
    # A token from a key that was dropped too early (or never backed up).
    Case.objects.filter(pk=lost.pk).update(person_phone="sm4gcm:gone:" + "A" * 60)
    _run("pii_keygen", "--add")
    with pytest.raises(CommandError) as refused:
        _run("rotate_pii_key", "--batch-size", "10")
    message = str(refused.value)
    assert refused.value.returncode == 2 and "\n" not in message
    assert f"complaints.Case.person_phone #{lost.pk}" in message
    # The batch that met it is rolled back whole: the good row is not half-rotated either.
    good.refresh_from_db()
    assert pii.key_id_of(good.person_phone) != pii.keyring().current[0]
    assert not AuditEvent.objects.filter(action="pii.reencrypted").exists()


@pytest.mark.django_db
def test_reindex_recomputes_the_blind_indexes_after_the_hash_key_is_replaced(key_file, personas):
    case = make_case(phone="13500135000", id_number="21028219900101123X")
    text = key_file.read_text().splitlines()
    new_hmac = "hmac " + "B" * 43 + "="
    key_file.write_text(
        "\n".join(line if not line.startswith("hmac") else new_hmac for line in text)
    )
    stale = case.person_phone_index
    assert pii.blind_index("phone", "13500135000") != stale

    _run("rotate_pii_key", "--reindex")
    case.refresh_from_db()
    assert case.person_phone_index == pii.blind_index("phone", "13500135000")
    assert case.person_id_index == pii.blind_index("id_number", "21028219900101123X")
    assert Case.objects.filter(
        person_phone_index=pii.blind_index("phone", "135-0013-5000")
    ).exists()


@pytest.mark.django_db
def test_rotation_on_the_command_line_refuses_a_bad_batch_size_in_one_line(key_file):
    result = subprocess.run(
        [sys.executable, "-m", "qcity.cli", "rotate_pii_key", "--batch-size", "0"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        env={**os.environ, "PYTHONWARNINGS": "ignore", "QCITY_PII_KEY_FILE": str(key_file)},
    )
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "须为 1 到 100000 之间的整数" in result.stderr
