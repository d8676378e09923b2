"""qcity load_indicators: the default indicator catalogue for the Tieling targets, idempotent."""

from __future__ import annotations

from qcity.core.management.base import QcityCommand
from qcity.metrics.services import load_default_indicators


class Command(QcityCommand):
    help = "加载默认指标目录（铁岭市实施方案的量化目标），已有指标保持不变"

    def handle(self, *args, **options) -> None:
        created = load_default_indicators()
        self.stdout.write(f"指标目录：新建 {created}")
