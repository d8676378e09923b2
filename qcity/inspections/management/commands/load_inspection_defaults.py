"""qcity load_inspection_defaults: 双随机 reference data (qcity.inspections.defaults), idempotent."""

from __future__ import annotations

from qcity.core.management.base import QcityCommand
from qcity.inspections import defaults


class Command(QcityCommand):
    help = "加载双随机参考数据：执法专业领域、检查结果代码、抽查事项清单（已有的保持不变）"

    def handle(self, *args, **options) -> None:
        self.stdout.write(str(defaults.load()))
