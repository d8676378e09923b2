"""qcity refresh_dashboard [--all] [--plan ID]: rebuild the dashboard's counts."""

from __future__ import annotations

from qcity.core.management.base import QcityCommand, int_between
from qcity.dashboard import services


class Command(QcityCommand):
    help = "重新计算驾驶舱的报送统计（默认：开启中的周期；--all：全部周期）"

    def add_arguments(self, parser) -> None:
        parser.add_argument("--all", action="store_true", help="重新计算全部周期")
        parser.add_argument(
            "--plan", type=int_between(1, 2**31 - 1), help="只计算这个实施方案（编号）的周期"
        )

    def handle(self, *args, **options) -> None:
        if options["all"] or options["plan"]:
            n = services.refresh_all(options["plan"])
        else:
            n = services.refresh_open_cycles()
        self.stdout.write(f"驾驶舱统计：已重新计算 {n} 个周期")
