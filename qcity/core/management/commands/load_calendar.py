"""qcity load_calendar: copy chinese-calendar's holidays into the editable table."""

from __future__ import annotations

from qcity.core import audit
from qcity.core.management.base import QcityCommand
from qcity.core.workdays import load_chinese_calendar


class Command(QcityCommand):
    help = "把 chinese-calendar 的节假日数据复制到可编辑的节假日表（可重复执行，不覆盖手工修改）"

    def handle(self, *args, **options) -> None:
        years, days = load_chinese_calendar()
        if years or days:
            audit.record(
                "calendar.loaded",
                by=None,
                actor_label="system",
                details={"years": years, "days": days},
            )
        self.stdout.write(f"节假日表：新增 {years} 个年度，{days} 天")
