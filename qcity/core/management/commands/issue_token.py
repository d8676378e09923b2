"""qcity issue_token USERNAME --name NAME: create an API token (printed once)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from qcity.core.models import User
from qcity.core.services import issue_api_token


class Command(BaseCommand):
    help = "为用户签发 API 令牌（明文只显示这一次）"

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", required=True, help="令牌用途，如：统计局数据对接")
        parser.add_argument(
            "--days", type=int, default=None, help="有效天数（默认 API_TOKEN_DAYS）"
        )
        parser.add_argument("--by", required=True, help="签发人用户名（须为安全管理员），记入审计")

    def handle(self, *args, username: str, name: str, days: int | None, by: str, **options) -> None:
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"找不到有效用户“{username}”", returncode=2)
        issuer = User.objects.filter(username=by, is_active=True, role="security_admin").first()
        if issuer is None:
            raise CommandError(f"“{by}”不是有效的安全管理员账户", returncode=2)
        if days is not None and days < 1:
            raise CommandError("--days 必须是正整数", returncode=2)
        self.stdout.write(issue_api_token(user, name=name, by=issuer, days=days))
