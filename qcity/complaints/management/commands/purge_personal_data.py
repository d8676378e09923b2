"""qcity purge_personal_data: erase the identity of people in cases closed long enough ago.

``COMPLAINT_RETENTION_YEARS`` (default 3) after closing; the daily timer does the same.
``--dry-run`` does the real work in a transaction and rolls it back, printing the count.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

from qcity.complaints import retention
from qcity.core.management.base import QcityCommand, int_between


class _RolledBack(Exception):
    """Raised to undo a --dry-run's erasures after counting them."""


class Command(QcityCommand):
    help = "删除办结满保存期限的投诉举报件中的个人信息（姓名、电话、证件号码、地址）"

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="只统计将删除的件数，不作任何修改"
        )
        parser.add_argument(
            "--batch-size",
            type=int_between(1, 100000),
            default=500,
            help="每批处理的件数（默认 500）",
        )

    def handle(self, *args, dry_run: bool, batch_size: int, **options) -> None:
        years = settings.COMPLAINT_RETENTION_YEARS
        if dry_run:
            try:
                with transaction.atomic():
                    count = retention.erase_due(batch_size=batch_size)
                    raise _RolledBack
            except _RolledBack:
                pass  # the dry run's transaction is undone on purpose: only the count stays
            self.stdout.write(f"（试运行）办结满 {years} 年、将删除个人信息的件数：{count}")
            return
        count = retention.erase_due(batch_size=batch_size)
        self.stdout.write(f"已删除办结满 {years} 年的 {count} 件中的个人信息")
