"""qcity issue_token USERNAME --name NAME: create an API token (printed once)."""

from __future__ import annotations

from django.core.management.base import CommandError

from qcity.core.management.base import QcityCommand, int_between, text_for
from qcity.core.models import ApiToken, User
from qcity.core.services import MAX_TOKEN_DAYS, issue_api_token


class Command(QcityCommand):
    help = "为用户签发 API 令牌（明文只显示这一次）"

    def add_arguments(self, parser) -> None:
        parser.add_argument("username", type=text_for(User, "username"))
        parser.add_argument(
            "--name",
            required=True,
            type=text_for(ApiToken, "name"),
            help="令牌用途，如：统计局数据对接",
        )
        parser.add_argument(
            "--days",
            type=int_between(1, MAX_TOKEN_DAYS),
            default=None,
            help=f"有效天数，1 到 {MAX_TOKEN_DAYS}（默认 API_TOKEN_DAYS）",
        )
        parser.add_argument(
            "--by",
            required=True,
            type=text_for(User, "username"),
            help="签发人用户名（须为安全管理员），记入审计",
        )

    def handle(self, *args, username: str, name: str, days: int | None, by: str, **options) -> None:
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"找不到有效用户“{username}”", returncode=2)
        issuer = User.objects.filter(username=by, is_active=True, role="security_admin").first()
        if issuer is None:
            raise CommandError(f"“{by}”不是有效的安全管理员账户", returncode=2)
        self.stdout.write(issue_api_token(user, name=name, by=issuer, days=days))
