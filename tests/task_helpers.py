"""Run django-tasks-db's real worker inside a test, until the queue is empty."""

from __future__ import annotations

from io import StringIO

from django.core.management import call_command
from django_tasks_db.management.commands import db_worker


def run_worker(monkeypatch) -> None:
    # The worker closes "old" connections between tasks, as a long-lived process must;
    # inside a test that would close the test's own connection and its transaction.
    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)
    call_command("db_worker", "--batch", "--interval", "0", stdout=StringIO(), stderr=StringIO())
