"""qcity create_admin USERNAME --role ROLE --unit UNIT: the first administrators.

Production has no demo users and `createsuperuser` grants nothing under
三员分立 (a superuser without a role reaches no admin page), so the three
administrator accounts of a new installation are created here. The password
is read from a file or prompted for, never taken from the command line.
"""

from __future__ import annotations

import getpass
import sys

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError
from django.db import transaction

from qcity.core import audit
from qcity.core.management.base import QcityCommand, text_file, text_for
from qcity.core.models import ADMIN_ROLES, OrgUnit, Role, User
from qcity.core.services import resolve_unit_name


class Command(QcityCommand):
    help = "创建系统管理员、安全管理员或审计管理员账户（三员分立）"

    def add_arguments(self, parser) -> None:
        parser.add_argument("username", type=text_for(User, "username"))
        parser.add_argument("--role", required=True, choices=sorted(ADMIN_ROLES))
        parser.add_argument(
            "--unit",
            required=True,
            type=text_for(OrgUnit, "name"),
            help="所属单位名称，如：市市场监管局",
        )
        parser.add_argument("--full-name", default="", type=text_for(User, "full_name"))
        parser.add_argument(
            "--password-file",
            type=text_file(),
            dest="password_text",
            help="从文件读取初始密码（否则交互输入）",
        )

    def handle(
        self,
        *args,
        username: str,
        role: str,
        unit: str,
        full_name: str,
        password_text: str | None,
        **options,
    ) -> None:
        if User.objects.filter(username=username).exists():
            raise CommandError(f"用户名“{username}”已存在", returncode=2)
        org_unit = resolve_unit_name(unit)
        if org_unit is None or not org_unit.confirmed or org_unit.disabled_on is not None:
            raise CommandError(f"找不到有效单位“{unit}”", returncode=2)
        if password_text is not None:
            password = password_text.strip()
        else:
            password = _prompt_password()
        user = User(username=username, full_name=full_name, role=role, unit=org_unit)
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise CommandError("；".join(exc.messages), returncode=2) from None
        with transaction.atomic():
            user.set_password(password)
            user.must_change_password = True
            user.save()
            audit.record(
                "user.created",
                by=None,
                obj=user,
                actor_label="cli:create_admin",
                details={"role": role, "unit": org_unit.name},
            )
        self.stdout.write(f"已创建{Role(role).label}“{username}”，首次登录须修改密码")


def _prompt_password() -> str:
    """The password typed twice at a terminal; without one (cron, a pipe) say what to do.

    getpass reads from stdin when there is no terminal and raises EOFError at its
    end, which would leave a traceback in place of the one-line refusal.
    """
    try:
        password = getpass.getpass("初始密码：")
        again = getpass.getpass("再次输入：")
    except (EOFError, KeyboardInterrupt):
        sys.stderr.write("\n")  # end the prompt's line: the refusal is a line of its own
        raise CommandError(
            "未输入初始密码：请在终端中运行，或用 --password-file 指定密码文件", returncode=2
        ) from None
    if password != again:
        raise CommandError("两次输入的密码不一致", returncode=2)
    return password
