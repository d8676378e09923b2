"""qcity load_complaint_defaults: 12315 reference data (qcity.complaints.defaults), idempotent."""

from __future__ import annotations

from qcity.complaints import defaults
from qcity.core.management.base import QcityCommand


class Command(QcityCommand):
    help = "加载投诉举报参考数据：商品服务类别、问题类别（已有的保持不变）"

    def handle(self, *args, **options) -> None:
        self.stdout.write(str(defaults.load()))
