"""qcity pii_keygen: create the personal-data key file, or add a new current key to it.

The file (``QCITY_PII_KEY_FILE``, default ``var/pii.key``, mode 0600) is never in the
database. Outside production it is created on first use; in production a missing file
stops start-up, so the first deployment runs this command (and backs the file up).
``--add`` starts a rotation (docs/personal-data.md): the new key encrypts from now on, the
old ones keep decrypting until ``qcity rotate_pii_key --prune`` retires them.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import CommandError

from qcity.core import audit, pii
from qcity.core.management.base import QcityCommand


class Command(QcityCommand):
    help = "生成个人信息加密密钥文件（SM4 + HMAC-SM3，权限 0600），或添加新的当前密钥"

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--if-missing", action="store_true", help="密钥文件已存在时什么也不做（供 make run）"
        )
        parser.add_argument(
            "--add",
            action="store_true",
            help="在已有密钥文件中添加新的当前加密密钥（密钥轮换的第一步）",
        )

    def handle(self, *args, if_missing: bool = False, add: bool = False, **options) -> None:
        path = settings.PII_KEY_FILE
        try:
            if add:
                if not path.exists():
                    raise CommandError(f"密钥文件 {path} 不存在，无法添加密钥", returncode=2)
                key_id = pii.add_key(path)
                audit.record(
                    "pii.key_added", by=None, actor_label="system", details={"key": key_id}
                )
                self.stdout.write(
                    f"已添加新的当前密钥 {key_id}：请备份 {path} 并分发到每台服务器，"
                    "再运行 qcity rotate_pii_key"
                )
                return
            if path.exists():
                if if_missing:
                    return
                raise CommandError(f"密钥文件 {path} 已存在，不会覆盖", returncode=2)
            pii.create_key_file(path)
        except pii.PiiKeyProblem as exc:
            raise CommandError(str(exc), returncode=2) from None
        except FileExistsError:
            if if_missing:
                return
            raise CommandError(f"密钥文件 {path} 已存在，不会覆盖", returncode=2) from None
        except OSError as exc:
            raise CommandError(
                f"无法写入密钥文件 {path}：{exc.strerror or exc}", returncode=2
            ) from None
        self.stdout.write(f"已生成个人信息密钥文件 {path}（0600）：请立即备份，丢失后密文无法恢复")
