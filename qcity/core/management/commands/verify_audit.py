"""qcity verify_audit: recompute the audit hash chain and name the first broken row."""

from __future__ import annotations

from django.core.management.base import CommandError

from qcity.core.audit import verify_chain
from qcity.core.management.base import QcityCommand


class Command(QcityCommand):
    help = "校验审计日志哈希链，指出第一条被篡改或删除的记录"

    def handle(self, *args, **options) -> None:
        checked, broken = verify_chain()
        if broken is not None:
            raise CommandError(f"审计链在第 {broken.seq} 条处断开：{broken.reason}", returncode=1)
        self.stdout.write(f"审计链完整：共 {checked} 条")
