"""qcity verify_audit: recompute the audit hash chain against the signed checkpoints.

Exit 0: intact. Exit 1: the first broken row is named. Exit 2: the checkpoint
key is missing, unreadable or wrong (or a checkpoint's signature does not verify
with it): without a key that verifies, no chain is ever reported as verified.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from qcity.core.audit import verify
from qcity.core.auditkeys import KeyProblem


class Command(BaseCommand):
    help = "校验审计日志哈希链与签名检查点，指出第一条被篡改或删除的记录"

    def handle(self, *args, **options) -> None:
        try:
            result = verify()
        except KeyProblem as exc:
            raise CommandError(str(exc), returncode=2) from None
        if result.broken is not None:
            raise CommandError(str(result.broken), returncode=1)
        self.stdout.write(
            f"审计链完整：共 {result.checked} 条，{result.checkpoints} 个签名检查点有效"
        )
