"""Scheduled jobs: each due item is enqueued once, survives a restart, and the worker runs it."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django_tasks_db.models import DBTaskResult

from qcity.core import auditkeys, jobs
from qcity.core.dbguards import remove_audit_guards
from qcity.core.models import AuditCheckpoint, JobRun
from tests.task_helpers import run_worker

REPO = Path(__file__).resolve().parents[2]
NOON = dt.datetime(2026, 3, 30, 4, 0, tzinfo=dt.UTC)  # 12:00 in Tieling


@pytest.fixture
def no_signing_key(monkeypatch, tmp_path):
    monkeypatch.delenv("QCITY_AUDIT_SIGNING_KEY", raising=False)
    monkeypatch.setenv("QCITY_AUDIT_SIGNING_KEY_FILE", str(tmp_path / "no-such.key"))


@pytest.fixture
def signing_key(monkeypatch, tmp_path):
    path = tmp_path / "audit-signing.key"
    auditkeys.generate(path)
    monkeypatch.delenv("QCITY_AUDIT_SIGNING_KEY", raising=False)
    monkeypatch.setenv("QCITY_AUDIT_SIGNING_KEY_FILE", str(path))
    return path


@pytest.fixture
def store(settings, tmp_path) -> Path:
    root = tmp_path / "attachments"
    settings.STORAGES = {
        **settings.STORAGES,
        "attachments": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(root)},
        },
    }
    return root


@pytest.mark.django_db
def test_a_due_item_is_enqueued_once_however_often_the_timer_runs(no_signing_key):
    first = jobs.run_timers(NOON)
    assert {(run.job, run.item, run.due) for run in first.enqueued} == {
        ("files.sweep_orphans", "-", "2026-03-30T04"),
        ("notices.retry_failed", "-", "2026-03-30T04"),
        ("plans.purge_expired_uploads", "-", "2026-03-30T04"),
        ("metrics.recompute_indicators", "-", "2026-03-30T00"),  # daily
        ("dashboard.refresh", "-", "2026-03-30T00"),  # daily
        ("complaints.erase_personal_data", "-", "2026-03-30T00"),  # daily
    }
    again = jobs.run_timers(NOON + dt.timedelta(minutes=59))
    assert again.enqueued == [] and again.already == 6
    assert DBTaskResult.objects.count() == 6
    sweep = JobRun.objects.get(job="files.sweep_orphans")
    assert DBTaskResult.objects.get(id=sweep.task_id).task_path.endswith("sweep_orphan_files")

    next_hour = jobs.run_timers(NOON + dt.timedelta(hours=1))
    assert {run.due for run in next_hour.enqueued} == {"2026-03-30T05"}
    assert len(next_hour.enqueued) == 3  # the hourly ones; the daily ones wait for tomorrow
    assert DBTaskResult.objects.count() == 9


@pytest.mark.django_db
def test_the_audit_checkpoint_is_due_hourly_only_with_a_signing_key(
    monkeypatch, signing_key, store
):
    result = jobs.run_timers(NOON)
    assert {run.job for run in result.enqueued} == {
        "files.sweep_orphans",
        "notices.retry_failed",
        "audit.checkpoint",
        "plans.purge_expired_uploads",
        "metrics.recompute_indicators",
        "dashboard.refresh",
        "complaints.erase_personal_data",
    }

    run_worker(monkeypatch)

    assert AuditCheckpoint.objects.count() == 1
    assert set(DBTaskResult.objects.values_list("status", flat=True)) == {"SUCCESSFUL"}
    # Already done for this hour: nothing new, and the worker has nothing to run.
    assert jobs.run_timers(NOON + dt.timedelta(minutes=30)).enqueued == []


@pytest.mark.django_db
def test_the_worker_sweeps_an_old_orphaned_file(monkeypatch, no_signing_key, store):
    orphan = store / "2026" / "01" / "0123abcd"
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"%PDF-1.7 left behind by a rolled-back upload")
    old = dt.datetime.now(dt.UTC).timestamp() - 7 * 3600
    os.utime(orphan, (old, old))

    jobs.run_timers(names=["files.sweep_orphans"])
    run_worker(monkeypatch)

    assert not orphan.exists()
    assert DBTaskResult.objects.get().return_value == 1


def test_a_timer_that_fails_does_not_stop_the_others(db, no_signing_key):
    def broken(now):
        raise RuntimeError("the reporting app's query failed")

    jobs.register_timer("test.broken", broken, jobs.sweep_orphan_files)
    try:
        result = jobs.run_timers(NOON)
    finally:
        del jobs.TIMERS["test.broken"]
    assert result.failed == ["test.broken"]
    assert "files.sweep_orphans" in {run.job for run in result.enqueued}


# --- several processes, and a restart -------------------------------------------------------


def _database_url() -> str:
    settings_dict = connection.settings_dict
    if connection.vendor == "postgresql":
        user = quote(settings_dict["USER"] or "", safe="")
        password = quote(settings_dict["PASSWORD"] or "", safe="")
        host, port = settings_dict["HOST"] or "127.0.0.1", settings_dict["PORT"] or 5432
        return f"postgres://{user}:{password}@{host}:{port}/{settings_dict['NAME']}"
    return f"sqlite:///{settings_dict['NAME']}"  # a WAL file (tests/conftest.py)


@pytest.fixture
def committed(transactional_db):
    yield
    # The database is emptied after a transactional test; the audit guards refuse that.
    remove_audit_guards(connection)


def test_two_timer_processes_enqueue_once_and_a_separate_worker_runs_it(committed, tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "QCITY_ATTACHMENT_DIR": str(tmp_path / "attachments"),
        "QCITY_AUDIT_SIGNING_KEY_FILE": str(tmp_path / "no-such.key"),
        "PYTHONWARNINGS": "ignore",
    }
    env.pop("QCITY_AUDIT_SIGNING_KEY", None)
    command = [sys.executable, "-m", "qcity.cli"]
    timers = [
        subprocess.Popen(
            [*command, "run_timers"], env=env, cwd=REPO, stdout=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outputs = [process.communicate(timeout=120)[0] for process in timers]
    assert [process.returncode for process in timers] == [0, 0]
    assert JobRun.objects.filter(job="files.sweep_orphans").count() == 1
    # One process enqueued all six due jobs, or each enqueued what the other had not yet.
    assert JobRun.objects.count() == 6
    assert sum(int(out.split()[1]) for out in outputs if out.startswith("已排队")) == 6
    queued = DBTaskResult.objects.get(id=JobRun.objects.get(job="files.sweep_orphans").task_id)
    assert DBTaskResult.objects.count() == 6
    assert queued.status == "READY"

    # The processes that enqueued are gone; a worker started afterwards finds the task.
    worker = subprocess.run(
        [*command, "db_worker", "--batch", "--interval", "0"],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert worker.returncode == 0, worker.stderr
    queued.refresh_from_db()
    assert queued.status == "SUCCESSFUL"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--every", "1"], "参数 --every：须为 5 到 86400 之间的整数"),
        (["--job", "nope"], "参数 --job 的取值 'nope' 无效"),
    ],
)
def test_run_timers_refuses_bad_arguments_in_one_line(args, words):
    with pytest.raises(CommandError) as excinfo:
        call_command("run_timers", *args, stdout=StringIO(), stderr=StringIO())
    assert excinfo.value.returncode == 2
    assert words in str(excinfo.value)
    assert not JobRun.objects.exists()
