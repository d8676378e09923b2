"""Two real qcity processes share one database: an edit in one is seen by the other at once."""

import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

from qcity.core import workdays
from qcity.core.dbguards import remove_audit_guards

REPO = Path(__file__).resolve().parents[2]


def _database_url_for_other_processes(tmp_path) -> str:
    settings_dict = connection.settings_dict
    if connection.vendor == "postgresql":
        user = quote(settings_dict["USER"] or "", safe="")
        password = quote(settings_dict["PASSWORD"] or "", safe="")
        host, port = settings_dict["HOST"] or "127.0.0.1", settings_dict["PORT"] or 5432
        return f"postgres://{user}:{password}@{host}:{port}/{settings_dict['NAME']}"
    # The SQLite test database lives in this process's memory: copy it to a file
    # that both other processes open (WAL, as in production).
    path = tmp_path / "second-process.sqlite3"
    connection.ensure_connection()
    target = sqlite3.connect(path)
    connection.connection.backup(target)
    target.close()
    return f"sqlite:///{path}"


class Probe:
    """A separate qcity process that keeps its own calendar cache between commands."""

    def __init__(self, database_url: str) -> None:
        env = {**os.environ, "DATABASE_URL": database_url, "PYTHONPATH": str(REPO)}
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("_calendar_probe.py"))],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            cwd=REPO,
        )

    def ask(self, line: str) -> list[str]:
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline()
        assert answer, f"the second process died on {line!r}"
        return answer.split()

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=30)


@pytest.fixture
def committed_calendar(transactional_db):
    # Loaded without the command: no audit event, so the database can be emptied after.
    workdays.load_chinese_calendar()
    yield
    # The test database is emptied after a transactional test; the guards would refuse it
    # (on PostgreSQL even an empty TRUNCATE). tests/core/test_audit.py reinstalls them.
    remove_audit_guards(connection)


def test_another_process_sees_a_calendar_edit_at_once(committed_calendar, tmp_path):
    url = _database_url_for_other_processes(tmp_path)
    reader, editor = Probe(url), Probe(url)
    try:
        answer, version = reader.ask("is_workday 2025-09-29")
        assert answer == "True"  # now cached in the reader process
        assert editor.ask("holiday 2025-09-29")[0] == "ok"
        answer, new_version = reader.ask("is_workday 2025-09-29")
        # Under the old 60-second cache the reader kept answering True here.
        assert answer == "False"
        assert int(new_version) == int(version) + 1
    finally:
        reader.close()
        editor.close()
