"""qcity run_timers: enqueue every scheduled job that is due and not yet enqueued.

Run it from cron or a systemd timer (every minute is fine), or with ``--every N`` as a
loop (``make run`` does). Safe in several processes at once: each due item is enqueued
once (core.jobs). ``qcity db_worker`` runs what it enqueued. Exit 1 if a timer failed.
"""

from __future__ import annotations

import time

from django.core.management.base import CommandError

from qcity.core import jobs
from qcity.core.management.base import QcityCommand, int_between


class Command(QcityCommand):
    help = "为到期的定时任务排队（每个到期项只排一次；由 qcity db_worker 执行）"

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--every",
            type=int_between(5, 86400),
            default=None,
            help="每隔 N 秒运行一次，直到被停止（默认只运行一次）",
        )
        parser.add_argument(
            "--job",
            action="append",
            choices=sorted(jobs.TIMERS),
            help="只检查这些定时任务（可重复）",
        )

    def handle(self, *args, every: int | None = None, job: list[str] | None = None, **options):
        while True:
            result = jobs.run_timers(names=job)
            if result.enqueued or options["verbosity"] > 1:
                self.stdout.write(
                    f"已排队 {len(result.enqueued)} 项，此前已排队 {result.already} 项"
                )
            if result.failed and every is None:
                raise CommandError(f"定时任务出错：{'、'.join(result.failed)}", returncode=1)
            if every is None:
                return
            time.sleep(every)
