"""qcity recompute_indicators [--period P]: run the registered calculators (idempotent)."""

from __future__ import annotations

import argparse
import re

from django.core.management.base import CommandError

from qcity.core.management.base import QcityCommand
from qcity.metrics.services import recompute_indicators

_PERIOD = re.compile(r"^\d{4}(Q[1-4]|-(0[1-9]|1[0-2]))?$")


def period_arg(value: str) -> str:

    if not _PERIOD.match(value):
        raise argparse.ArgumentTypeError(f"统计期“{value[:20]}”应写作 2025、2025Q1 或 2025-03")
    return value


class Command(QcityCommand):
    help = "运行已注册的指标计算器，保存自动计算的指标值（可重复运行）"

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--period", type=period_arg, help="统计期（2025、2025Q1、2025-03）；默认当前统计期"
        )

    def handle(self, *args, **options) -> None:
        result = recompute_indicators(period=options["period"])
        self.stdout.write(
            f"指标计算：保存 {result.stored}，未变 {result.unchanged}，无数据 {result.empty}"
        )
        if result.missing_calculators:
            self.stderr.write("未注册的计算器：" + "、".join(result.missing_calculators))
        for code, message in result.rejected:
            self.stderr.write(f"未保存 {code}：{message}")
        if result.rejected:
            raise CommandError(
                f"recompute_indicators：{len(result.rejected)} 个计算结果未通过检查", returncode=1
            )
