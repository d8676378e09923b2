"""qcity load_demo_activity: a year of demo reporting activity (never in production).

Run by ``make run`` after ``load_defaults``; a second run changes nothing and says so.
"""

from __future__ import annotations

import time

from django.core.management.base import CommandError
from django.utils import timezone

from qcity.core.demo import DemoDataRefused
from qcity.core.management.base import QcityCommand
from qcity.reporting.demo import load_demo_activity


class Command(QcityCommand):
    help = (
        "加载演示报送活动：各责任单位联络员账号、近一年的季度报送周期和进展报告（生产环境不可用）"
    )

    def handle(self, *args, **options) -> None:
        today = timezone.localdate()
        started = time.perf_counter()
        try:
            loaded = load_demo_activity(today)
        except DemoDataRefused as exc:
            raise CommandError(f"load_demo_activity：{exc}", returncode=2) from None
        # integrator: call qcity.metrics.demo.load_demo_values(today) here
        seconds = time.perf_counter() - started
        if loaded.already:
            self.stdout.write(f"演示报送活动已存在，未作改动（新建联络员 {loaded.users} 个）")
            return
        self.stdout.write(
            f"演示报送活动：新建联络员 {loaded.users} 个，报送周期 {loaded.cycles} 个，"
            f"报告 {loaded.reports} 份（已报送 {loaded.received}，审核通过 {loaded.approved}，"
            f"退回 {loaded.returns} 次），用时 {seconds:.1f} 秒"
        )
