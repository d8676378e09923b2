"""Every qcity command refuses bad arguments in one line with exit status 2, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command, get_commands, load_command_class
from django.core.management.base import CommandError
from django.db import connection

from qcity.core.dbguards import remove_audit_guards
from qcity.core.management.base import QcityCommand
from qcity.core.models import ApiToken, User

REPO = Path(__file__).resolve().parents[2]
NEW_ADMIN = ["create_admin", "boss", "--role", "system_admin", "--unit", "市市场监管局"]


def _qcity_commands() -> dict[str, str]:
    return {name: app for name, app in get_commands().items() if app.startswith("qcity.")}


def test_every_qcity_command_uses_the_shared_base():
    commands = _qcity_commands()
    assert {"issue_token", "create_admin", "import_plan", "parse_plan"} <= set(commands)
    for name, app in commands.items():
        assert isinstance(load_command_class(app, name), QcityCommand), name


def _refused(*args: str) -> str:
    with pytest.raises(CommandError) as excinfo:
        call_command(*args, stdout=StringIO(), stderr=StringIO())
    assert excinfo.value.returncode == 2
    message = str(excinfo.value)
    assert message and "\n" not in message
    return message


BAD_ARGUMENTS = {
    "days far too many": (
        ["issue_token", "nongye", "--name", "对接", "--by", "secadmin", "--days", "99999999999"],
        "参数 --days：须为 1 到 3650 之间的整数",
    ),
    "days zero": (
        ["issue_token", "nongye", "--name", "对接", "--by", "secadmin", "--days", "0"],
        "须为 1 到 3650 之间的整数",
    ),
    "days not a number": (
        ["issue_token", "nongye", "--name", "对接", "--by", "secadmin", "--days", "十"],
        "收到“十”",
    ),
    "token name too long": (
        ["issue_token", "nongye", "--name", "名" * 101, "--by", "secadmin"],
        "不能超过 100 个字符",
    ),
    "token issuer missing": (["issue_token", "nongye", "--name", "对接"], "缺少必需的参数：--by"),
    "admin role unknown": (
        ["create_admin", "boss", "--role", "superuser", "--unit", "市市场监管局"],
        "参数 --role 的取值 'superuser' 无效",
    ),
    "admin name too long": (
        ["create_admin", "u" * 151, "--role", "system_admin", "--unit", "市市场监管局"],
        "不能超过 150 个字符",
    ),
    "admin full name too long": (
        [*NEW_ADMIN, "--full-name", "张" * 51],
        "不能超过 50 个字符",
    ),
    "password file missing": (
        [*NEW_ADMIN, "--password-file", "/nonexistent/password"],
        "文件不存在",
    ),
    "unit name too long": (
        ["import_plan", "plan.txt", "--owner-unit", "局" * 101],
        "不能超过 100 个字符",
    ),
    "verbosity out of range": (["load_calendar", "--verbosity", "9"], "参数 -v/--verbosity"),
    "parse_plan without a file": (["parse_plan"], "缺少必需的参数：file"),
    "unknown option": (["verify_audit", "--fix"], "无法识别的参数：--fix"),
}


@pytest.mark.django_db
@pytest.mark.parametrize("case", BAD_ARGUMENTS)
def test_bad_arguments_are_one_line_and_exit_2(case, personas):
    args, words = BAD_ARGUMENTS[case]
    assert words in _refused(*args)
    assert not ApiToken.objects.exists()


@pytest.mark.django_db
def test_a_password_file_that_is_not_utf8_is_refused(org_units, tmp_path):
    path = tmp_path / "password"
    path.write_bytes(b"\xff\xfe\x00bad")
    message = _refused(*NEW_ADMIN, "--password-file", str(path))
    assert "不是UTF-8文本" in message


@pytest.mark.django_db
def test_the_longest_token_lifetime_is_still_issued(personas):
    out = StringIO()
    call_command(
        "issue_token", "nongye", "--name", "对接", "--by", "secadmin", "--days", "3650", stdout=out
    )
    assert out.getvalue().startswith("qc_")


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "qcity.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (
            ["issue_token", "nobody", "--name", "x", "--by", "nobody", "--days", "99999999999"],
            "issue_token：参数 --days：须为 1 到 3650 之间的整数（收到“99999999999”）",
        ),
        (
            ["create_admin", "boss", "--unit", "市市场监管局"],
            "create_admin：缺少必需的参数：--role",
        ),
        (["load_org_units", "extra"], "load_org_units：无法识别的参数：extra"),
    ],
)
def test_on_the_command_line_a_bad_argument_is_one_line_and_exit_2(args, words):
    result = _cli(*args)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == words
    assert result.stdout == ""


@pytest.fixture
def committed_org_units(transactional_db):
    call_command("load_org_units", stdout=StringIO())
    yield
    # The flush after a transactional test deletes audit events; the guards refuse that.
    remove_audit_guards(connection)


def test_create_admin_without_a_terminal_or_password_file_is_one_line_and_exit_2(
    committed_org_units, tmp_path
):
    from tests.core.test_calendar_processes import _database_url_for_other_processes

    # Run from a script or cron (no terminal, stdin at its end), getpass raised EOFError.
    result = subprocess.run(
        [sys.executable, "-m", "qcity.cli", *NEW_ADMIN],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        start_new_session=True,  # no controlling terminal for getpass to open
        env={
            **os.environ,
            "PYTHONWARNINGS": "ignore",
            "DATABASE_URL": _database_url_for_other_processes(tmp_path),
        },
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        "CommandError: 未输入初始密码：请在终端中运行，或用 --password-file 指定密码文件"
    )
    assert not User.objects.filter(username="boss").exists()
