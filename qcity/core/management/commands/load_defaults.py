"""qcity load_defaults: everything `make run` needs, idempotent.

Org units, the holiday calendar, the Tieling plan from the bundled seed text,
the indicator catalogue for its targets and, outside production, the demo users.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management import call_command

from qcity.core.demo import create_demo_users
from qcity.core.management.base import QcityCommand

SEED_PLAN = (
    Path(__file__).resolve().parents[3] / "plans" / "data" / "tieling-quality-city-plan-2023.txt"
)


class Command(QcityCommand):
    help = "加载默认数据：组织机构、节假日、铁岭市实施方案、指标目录，以及（非生产环境）演示用户"

    def handle(self, *args, **options) -> None:
        call_command("load_org_units", stdout=self.stdout)
        call_command("load_calendar", stdout=self.stdout)
        call_command("import_plan", str(SEED_PLAN), stdout=self.stdout, stderr=self.stderr)
        call_command("load_indicators", stdout=self.stdout)
        from qcity.inspections.calculators import load_indicators as load_inspection_indicators

        self.stdout.write(f"双随机指标：新建 {load_inspection_indicators()}")
        from qcity.complaints.calculators import load_indicators as load_complaint_indicators

        self.stdout.write(f"12315指标：新建 {load_complaint_indicators()}")
        if settings.QCITY_DEMO_DATA:
            created = create_demo_users()
            self.stdout.write(f"演示用户：新建 {created}")
        else:
            self.stdout.write("生产环境：不创建演示用户")
        call_command("load_inspection_defaults", stdout=self.stdout)
        call_command("load_complaint_defaults", stdout=self.stdout)
