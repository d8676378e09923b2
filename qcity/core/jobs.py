"""Scheduled jobs: django-tasks with the database backend, and one timer command (ADR 0019).

- A *task* is a django-tasks ``@task`` function; ``qcity db_worker`` (django-tasks-db)
  runs the enqueued ones, from the database, so they survive a restart.
- A *timer* says which items are due at a moment: ``register_timer(name, due, task)``
  with ``due(now) -> iterable of DueItem(item, due, kwargs)``. ``qcity run_timers`` (cron,
  a systemd timer, or the loop ``make run`` starts) asks every timer and, for each due
  item, inserts a ``JobRun`` (unique job + item + due) and enqueues the task in the same
  transaction. A second run, a second process or a run after a restart meets the unique
  key and enqueues nothing: each due item runs once.
- ``periodic(name, task, hours=…)`` is the timer of a job that has one item per period
  (the orphan-file sweep every hour, the audit checkpoint every hour when a signing key
  is configured). Reporting cycles register their reminders and escalations the same way,
  with one item per report and due date.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django_tasks import task

from qcity.core.models import JobRun

logger = logging.getLogger(__name__)


# --- tasks ----------------------------------------------------------------------------------


@task()
def deliver_notices(notice_ids: list[int]) -> dict[str, int]:
    from qcity.core import notices

    return notices.deliver(notice_ids)


@task()
def retry_failed_notices() -> dict[str, int]:
    from qcity.core import notices

    return notices.retry_failed()


@task()
def sweep_orphan_files() -> int:
    from qcity.core import files

    return len(files.sweep_orphans())


@task()
def audit_checkpoint() -> int:
    from qcity.core import audit

    return audit.checkpoint().seq


# --- timers ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DueItem:
    item: str  # what the job is about: a report's id, "-" for a periodic job
    due: str  # when it became due: a date, or the period ("2026-11-28T10")
    kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Timer:
    name: str
    due: Callable[[dt.datetime], Iterable[DueItem]]
    task: Any  # a django_tasks Task


TIMERS: dict[str, Timer] = {}


def register_timer(name: str, due: Callable[[dt.datetime], Iterable[DueItem]], job: Any) -> Timer:
    """Register a timer; an app calls this from its ``AppConfig.ready``."""
    timer = Timer(name, due, job)
    TIMERS[name] = timer
    return timer


def periodic(
    name: str, job: Any, *, hours: int = 1, enabled: Callable[[], bool] | None = None
) -> Timer:
    """A job due once per period of ``hours`` hours (periods counted from midnight UTC)."""

    def due(now: dt.datetime) -> Iterable[DueItem]:
        if enabled is not None and not enabled():
            return []
        now = now.astimezone(dt.UTC)
        start = now.replace(minute=0, second=0, microsecond=0, hour=now.hour - now.hour % hours)
        return [DueItem("-", start.strftime("%Y-%m-%dT%H"))]

    return register_timer(name, due, job)


@dataclass
class TimerRun:
    enqueued: list[JobRun] = field(default_factory=list)
    already: int = 0
    failed: list[str] = field(default_factory=list)


def run_timers(now: dt.datetime | None = None, names: Iterable[str] | None = None) -> TimerRun:
    """Enqueue every due item not enqueued before; safe in several processes at once."""
    now = now or timezone.now()
    result = TimerRun()
    for name in names if names is not None else list(TIMERS):
        timer = TIMERS[name]
        try:
            items = list(timer.due(now))
        except Exception:  # one broken timer must not stop the others
            logger.exception("timer %s failed to list its due items", name)
            result.failed.append(name)
            continue
        for item in items:
            try:
                with transaction.atomic():
                    run = JobRun.objects.create(
                        job=name, item=item.item[:100], due=item.due[:40], enqueued_at=now
                    )
                    # The task row is written in the same transaction (database backend):
                    # both exist or neither does.
                    queued = timer.task.enqueue(**item.kwargs)
                    run.task_id = str(queued.id)[:64]
                    run.save(update_fields=["task_id"])
            except IntegrityError:
                result.already += 1
                continue
            result.enqueued.append(run)
    return result


def _signing_key_configured() -> bool:
    from qcity.core import auditkeys

    try:
        auditkeys.signing_key()
    except Exception:
        return False
    return True


periodic("files.sweep_orphans", sweep_orphan_files, hours=1)
periodic("notices.retry_failed", retry_failed_notices, hours=1)
periodic("audit.checkpoint", audit_checkpoint, hours=1, enabled=_signing_key_configured)
