"""qcity audit_checkpoint: sign the audit chain's tip with the key kept outside the database.

Run it periodically (cron / systemd timer). Exit 2 when the signing key is
missing or unusable, exit 1 when the chain is already broken (it is never signed).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from qcity.core.audit import ChainBroken, ChainHeadMissing, checkpoint
from qcity.core.auditkeys import KeyProblem


class Command(BaseCommand):
    help = "为审计链当前末端生成签名检查点（密钥保存在数据库之外）"

    def handle(self, *args, **options) -> None:
        try:
            point = checkpoint()
        except KeyProblem as exc:
            raise CommandError(str(exc), returncode=2) from None
        except ChainBroken as exc:
            raise CommandError(f"未签名：{exc}", returncode=1) from None
        except (ChainHeadMissing, DatabaseError) as exc:
            reason = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
            raise CommandError(f"未签名：{reason}", returncode=1) from None
        self.stdout.write(
            f"已签名检查点：第 {point.seq} 条，哈希 {point.hash[:16]}…，密钥 {point.key_id}"
        )
