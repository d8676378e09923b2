"""qcity load_calendar: copy chinese-calendar's holidays into the editable table."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import transaction

from qcity.core import audit, services
from qcity.core.models import CalendarYear
from qcity.core.workdays import load_chinese_calendar


class Command(BaseCommand):
    help = "把 chinese-calendar 的节假日数据复制到可编辑的节假日表（可重复执行，不覆盖手工修改）"

    def handle(self, *args, **options) -> None:
        with transaction.atomic():
            before = set(CalendarYear.objects.values_list("year", flat=True))
            years, days = load_chinese_calendar()
            if years or days:
                audit.record(
                    "calendar.loaded",
                    by=None,
                    actor_label="system",
                    details={"years": years, "days": days},
                )
            # A newer package that brings a year makes that year known like the admin
            # form does, so provisional deadlines into it are recomputed too.
            added = set(CalendarYear.objects.values_list("year", flat=True)) - before
            recomputed = sum(
                len(services.recompute_provisional_deadlines(year, by=None))
                for year in sorted(added)
            )
        self.stdout.write(f"节假日表：新增 {years} 个年度，{days} 天")
        if recomputed:
            self.stdout.write(f"重算暂定期限 {recomputed} 个")
