"""qcity load_demo_activity: a year of demo reporting activity (never in production).

Run by ``make run`` after ``load_defaults``; a second run changes nothing and says so.
"""

from __future__ import annotations

import io
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from qcity.complaints.demo import load_demo_complaints
from qcity.core.demo import DemoDataRefused
from qcity.core.management.base import QcityCommand
from qcity.inspections.demo import load_demo_inspections
from qcity.plans.demo_values import load_demo_values
from qcity.registry.demo import load_demo_register
from qcity.reporting.demo import load_demo_activity


class Command(QcityCommand):
    help = (
        "加载演示报送活动：各责任单位联络员账号、近一年的季度报送周期和进展报告（生产环境不可用）"
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--if-enabled",
            action="store_true",
            help="生产环境（不加载演示数据）下只提示一行并正常退出，供 make run 使用",
        )

    def handle(self, *args, **options) -> None:
        if options["if_enabled"] and not settings.QCITY_DEMO_DATA:
            self.stdout.write("生产环境：不加载演示报送活动")
            return
        today = timezone.localdate()
        started = time.perf_counter()
        try:
            loaded = load_demo_activity(today)
            values = load_demo_values(today)
            inspections_started = time.perf_counter()
            register = load_demo_register()
            inspections = load_demo_inspections(today)
            inspections_seconds = time.perf_counter() - inspections_started
            complaints_started = time.perf_counter()
            complaints = load_demo_complaints(today)
            complaints_seconds = time.perf_counter() - complaints_started
        except DemoDataRefused as exc:
            raise CommandError(f"load_demo_activity：{exc}", returncode=2) from None
        if not loaded.already:
            # The story's past timestamps were written with update(), which no signal
            # sees: the dashboard's precomputed counts are rebuilt from the reports.
            # Called by name: reporting does not import the dashboard (it imports us).
            call_command("refresh_dashboard", "--all", stdout=io.StringIO())
        seconds = time.perf_counter() - started
        if values:
            self.stdout.write(f"演示指标数据：录入指标值 {values} 个")
        self._report_inspections(register, inspections, inspections_seconds)
        self._report_complaints(complaints, complaints_seconds)
        if loaded.already:
            self.stdout.write(f"演示报送活动已存在，未作改动（新建联络员 {loaded.users} 个）")
            return
        self.stdout.write(
            f"演示报送活动：新建联络员 {loaded.users} 个，报送周期 {loaded.cycles} 个，"
            f"报告 {loaded.reports} 份（已报送 {loaded.received}，审核通过 {loaded.approved}，"
            f"退回 {loaded.returns} 次），用时 {seconds:.1f} 秒"
        )

    def _report_inspections(self, register, inspections, seconds: float) -> None:
        if register.already:
            self.stdout.write("演示市场主体名录已存在，未作改动")
        else:
            self.stdout.write(
                f"演示市场主体名录：市场主体 {register.entities} 户，执法检查人员 "
                f"{register.inspectors} 名（新建账户 {register.users} 个），回避申报 "
                f"{register.conflicts} 条"
            )
        if inspections.already:
            self.stdout.write("演示双随机抽查已存在，未作改动")
        else:
            self.stdout.write(
                f"演示双随机抽查：已完成批次检查 {inspections.tasks} 户（公示 "
                f"{inspections.published}，其中逾期 {inspections.late}；后续处理办结 "
                f"{inspections.follow_ups}），进行中批次待检查 {inspections.open_tasks} 户，"
                f"用时 {seconds:.1f} 秒"
            )

    def _report_complaints(self, complaints, seconds: float) -> None:
        if complaints.already:
            self.stdout.write("演示投诉举报已存在，未作改动")
            return
        states = "，".join(f"{k} {v}" for k, v in sorted(complaints.states.items()))
        self.stdout.write(
            f"演示投诉举报：提交 {complaints.submissions} 件，生成案件 {complaints.cases} 件"
            f"（{states}），公示企业投诉信息 {complaints.published} 条，用时 {seconds:.1f} 秒"
        )
