"""qcity rotate_pii_key: re-encrypt every personal-data token under the current key.

Batches of ``--batch-size`` rows, each one transaction with one audit event; idempotent
(a second run finds nothing to do); ``--reindex`` recomputes the blind indexes too;
``--prune`` then removes the old keys no token uses from the key file. Exit 2, with one
line, when a token cannot be decrypted with the keys in the file (nothing of that batch
is written).
"""

from __future__ import annotations

from django.core.management.base import CommandError

from qcity.core import pii, pii_rotation
from qcity.core.management.base import QcityCommand, int_between


class Command(QcityCommand):
    help = "用当前密钥重新加密全部个人信息密文（分批、可重复执行、记入审计）"

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--batch-size",
            type=int_between(1, 100000),
            default=1000,
            help="每批处理的记录数（默认 1000）",
        )
        parser.add_argument(
            "--reindex", action="store_true", help="同时重新计算精确查询用的密钥哈希索引"
        )
        parser.add_argument(
            "--prune", action="store_true", help="完成后从密钥文件删除已无密文使用的旧密钥"
        )

    def handle(self, *args, batch_size: int, reindex: bool, prune: bool, **options) -> None:
        try:
            result = pii_rotation.rotate(batch_size=batch_size, reindex=reindex, prune=prune)
        except pii.PiiKeyProblem as exc:
            raise CommandError(f"密钥轮换中止：{exc}", returncode=2) from None
        except OSError as exc:
            raise CommandError(
                f"密钥轮换中止：无法改写密钥文件（{exc.strerror or exc}）", returncode=2
            ) from None
        line = f"当前密钥 {result.key_id}：重新加密 {result.total} 项"
        if reindex:
            line += f"，更新索引 {sum(result.reindexed.values())} 项"
        if result.retired:
            line += f"，已删除旧密钥 {'、'.join(result.retired)}"
        self.stdout.write(line)
