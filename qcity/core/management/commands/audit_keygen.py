"""qcity audit_keygen: create the Ed25519 key that signs audit checkpoints (mode 0600)."""

from __future__ import annotations

import base64
import os
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from qcity.core import auditkeys


class Command(BaseCommand):
    help = "生成审计检查点签名密钥（Ed25519，文件权限 0600），并打印验证公钥"

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--path",
            help="密钥文件路径（默认 QCITY_AUDIT_SIGNING_KEY_FILE 或 var/audit-signing.key）",
        )
        parser.add_argument(
            "--if-missing", action="store_true", help="密钥文件已存在时什么也不做（供 make run）"
        )

    def handle(self, *args, **options) -> None:
        path = Path(
            options["path"]
            or os.environ.get(f"{auditkeys.SIGNING_ENV}_FILE")
            or auditkeys.default_signing_key_file()
        )
        if path.exists():
            if options["if_missing"]:
                return
            raise CommandError(f"密钥文件 {path} 已存在，不会覆盖", returncode=2)
        try:
            public = auditkeys.generate(path)
        except OSError as exc:
            raise CommandError(
                f"无法写入密钥文件 {path}：{exc.strerror or exc}", returncode=2
            ) from None
        encoded = base64.b64encode(auditkeys.public_bytes(public)).decode()
        self.stdout.write(f"已生成审计签名密钥 {path}（0600）")
        self.stdout.write(f"验证公钥（QCITY_AUDIT_VERIFY_KEY）：{encoded}")
