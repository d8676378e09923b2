"""`qcity deadline RULE START`: one JSON line, or one Chinese line and exit status 2.

Expected dates are counted by hand from the holiday table (see tests/core/test_rulebook.py
for the 2026 calendar): the start day never counts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from qcity.core import workdays
from qcity.core.dbguards import remove_audit_guards
from tests.core.test_calendar_processes import _database_url_for_other_processes

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db


def run(*args: str) -> dict:
    out = StringIO()
    call_command("deadline", *args, stdout=out, stderr=StringIO())
    lines = out.getvalue().splitlines()
    assert len(lines) == 1, lines
    return json.loads(lines[0])


def refused(*args: str) -> str:
    with pytest.raises(CommandError) as excinfo:
        call_command("deadline", *args, stdout=StringIO(), stderr=StringIO())
    assert excinfo.value.returncode == 2
    message = str(excinfo.value)
    assert message and "\n" not in message
    return message


# rule, start, extra arguments → version, article, due (counted by hand).
CASES = {
    # Received Wed 4-15: 4-16, 4-17, 4-20 … 4-24 = 7 working days.
    "accept under Order 121": (
        ["complaint.accept", "2026-04-15"],
        ("order121", "《市场监督管理投诉举报处理办法》第十五条", "2026-04-24"),
    ),
    # Received Tue 4-14: 4-15 … 4-17, 4-20 … 4-23 = 7.
    "accept under Order 20": (
        ["complaint.accept", "2026-04-14"],
        ("order20", "《市场监督管理投诉举报处理暂行办法》第十四条", "2026-04-23"),
    ),
    # Accepted Mon 2026-01-05: 45 working days across 春节 → 3-13 (counted in test_rulebook).
    "mediation under Order 20": (
        ["complaint.mediation", "2026-01-05"],
        ("order20", "《市场监督管理投诉举报处理暂行办法》第二十一条第一款第（五）项", "2026-03-13"),
    ),
    # Accepted Mon 8-3: day 60 is Fri 10-2 (国庆, to 10-7) → Thu 10-8.
    "mediation under Order 121 ending in 国庆": (
        ["complaint.mediation", "2026-08-03"],
        ("order121", "《市场监督管理投诉举报处理办法》第二十三条第一款第（五）项", "2026-10-08"),
    ),
    # 60 + 10 suspended days from Wed 6-3: 7-31 is day 58, 8-12 day 70.
    "mediation suspended": (
        ["complaint.mediation", "2026-06-03", "--suspended", "10"],
        ("order121", "《市场监督管理投诉举报处理办法》第二十三条第一款第（五）项", "2026-08-12"),
    ),
    # Decided Wed 6-17: 6-18 (1), 6-19…6-21 端午, 6-22 … 6-26 (2-6), 6-29 (7).
    "termination notice": (
        ["complaint.termination_notice", "2026-06-17"],
        ("order121", "《市场监督管理投诉举报处理办法》第二十三条第二款", "2026-06-29"),
    ),
    # Found Thu 9-24: 9-28 … 9-30 (1-3), 10-8, 10-9, 10-10 W (4-6), 10-12 … 10-22 (7-15);
    # extended: 10-23 … 11-12 (16-30).
    "lead check extended": (
        ["complaint.lead_check", "2026-09-24", "--extended"],
        ("order121", "《市场监督管理投诉举报处理办法》第二十七条", "2026-11-12"),
    ),
    # Received Wed 4-15: 15 working days end on Sat 5-9 (调休上班); +2 suspended: 5-11, 5-12.
    "report verify suspended": (
        ["report.verify", "2026-04-15", "--suspended", "2"],
        (
            "order121",
            "《市场监督管理投诉举报处理办法》第三十五条、《市场监督管理行政处罚程序规定》第十八条",
            "2026-05-12",
        ),
    ),
    # Decided Tue 4-14: 4-15, 4-16, 4-17, 4-20, 4-21 = 5.
    "report notify on the last day of Order 20": (
        ["report.notify", "2026-04-14"],
        ("order20", "《市场监督管理投诉举报处理暂行办法》第三十一条第二款", "2026-04-21"),
    ),
    # From Wed 9-30: 10-8, 10-9, 10-10 W, 10-12 … 10-15 = 7.
    "jurisdiction dispute": (
        ["jurisdiction.dispute", "2026-09-30"],
        ("order121", "《市场监督管理投诉举报处理办法》第三十三条", "2026-10-15"),
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_it_prints_the_due_date_of_the_rule_in_force_on_the_start_date(case, calendar):
    args, (version, article, due) = CASES[case]
    out = run(*args)
    assert (out["rule"], out["version"], out["article"]) == (args[0], version, article)
    assert (out["start"], out["due"]) == (args[1], due)
    assert out["provisional"] is False
    assert out["calendar_version"] == str(workdays.current_version())


def test_the_output_names_the_unit_and_count_and_marks_a_configured_rule(calendar):
    out = run("odr.settle", "2026-09-30")
    # 10-8, 10-9, 10-10 W, 10-12 … 10-16, 10-19, 10-20 = 10 working days.
    assert (out["due"], out["unit"], out["count"], out["configured"]) == (
        "2026-10-20",
        "workdays",
        10,
        True,
    )
    assert run("complaint.mediation", "2026-06-03")["unit"] == "days"


def test_received_applies_the_pending_cases_setting(calendar, settings):
    # A case received 4-14 whose mediation starts Mon 4-20: Order 20 by default (45 working
    # days → 6-25), Order 121 under "current" (day 60 is 6-19, 端午 to 6-21 → 6-22).
    kept = run("complaint.mediation", "2026-04-20", "--received", "2026-04-14")
    assert (kept["version"], kept["due"], kept["received"]) == (
        "order20",
        "2026-06-25",
        "2026-04-14",
    )
    settings.COMPLAINT_PENDING_CASES_RULES = "current"
    moved = run("complaint.mediation", "2026-04-20", "--received", "2026-04-14")
    assert (moved["version"], moved["due"]) == ("order121", "2026-06-22")
    assert "早于收到日期" in refused("complaint.accept", "2026-04-13", "--received", "2026-04-14")


def test_on_a_database_without_the_holiday_table_the_result_is_provisional_and_says_so():
    # No `calendar` fixture: the table is empty, every year is unknown. By the Decree alone
    # 2026-04-15 + 7 working days is still 4-24 (no holiday in between).
    out = run("complaint.accept", "2026-04-15")
    assert (out["due"], out["provisional"]) == ("2026-04-24", True)
    assert "暂定" in out["note"]


def test_a_start_past_the_known_calendar_is_provisional(calendar):
    # 2027 is not in the table: 12-29 … 12-31 (1-3), 2027-01-01 元旦, 1-4 … 1-7 (4-7).
    out = run("complaint.accept", "2026-12-28")
    assert (out["due"], out["provisional"]) == ("2027-01-07", True)
    assert "note" in out
    assert "note" not in run("complaint.accept", "2026-04-15")


REFUSALS = {
    "report.notify under Order 121": (
        ["report.notify", "2026-04-15"],
        "规则 report.notify 在 2026-04-15 不适用",
    ),
    "before Order 20": (["complaint.accept", "2019-12-31"], "在 2019-12-31 不适用"),
    "unknown rule": (
        ["complaint.acceptance", "2026-04-15"],
        "没有名为“complaint.acceptance”的规则",
    ),
    "not a date": (["complaint.accept", "2026-02-30"], "须为 YYYY-MM-DD 格式的有效日期"),
    "not ISO": (["complaint.accept", "15/04/2026"], "收到“15/04/2026”"),
    "ISO week": (["complaint.accept", "2026-W16-3"], "须为 YYYY-MM-DD"),
    "negative suspension": (
        ["report.verify", "2026-04-15", "--suspended", "-1"],
        "参数 --suspended：须为 0 到 3650 之间的整数（收到“-1”）",
    ),
    "suspension of a rule that has none": (
        ["complaint.accept", "2026-04-15", "--suspended", "2"],
        "不因鉴定、检测而扣除",
    ),
    "extension of a rule that has none": (
        ["complaint.mediation", "2026-04-15", "--extended"],
        "没有可以延长的期限",
    ),
    "beyond the computable years": (["complaint.mediation", "2099-12-01"], "无法计算"),
    "missing start": (["complaint.accept"], "缺少必需的参数：start"),
}


@pytest.mark.parametrize("case", REFUSALS)
def test_it_refuses_in_one_specific_line_with_exit_status_2(case, calendar):
    args, words = REFUSALS[case]
    assert words in refused(*args)


@pytest.fixture
def committed_calendar(transactional_db):
    # Loaded without the command: no audit event, so the database can be emptied after.
    workdays.load_chinese_calendar()
    yield
    remove_audit_guards(connection)


def _cli(database_url: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "qcity.cli", "deadline", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        env={**os.environ, "PYTHONWARNINGS": "ignore", "DATABASE_URL": database_url},
    )


def test_on_the_command_line_it_prints_one_line_or_exits_2(committed_calendar, tmp_path):
    url = _database_url_for_other_processes(tmp_path)
    ok = _cli(url, "complaint.accept", "2026-09-29")
    assert ok.returncode == 0, ok.stderr
    assert ok.stderr == ""
    [line] = ok.stdout.splitlines()
    # Received Tue 9-29: 9-30 (1), 10-8 (2), 10-9 (3), 10-10 W (4), 10-12 … 10-14 (5-7).
    assert json.loads(line)["due"] == "2026-10-14"
    gone = _cli(url, "report.notify", "2026-04-15")
    assert gone.returncode == 2
    assert gone.stdout == ""
    [message] = gone.stderr.strip().splitlines()
    assert "report.notify 在 2026-04-15 不适用" in message
    bad = _cli(url, "complaint.accept", "2026-13-01")
    assert bad.returncode == 2
    assert (
        bad.stderr.strip()
        == "deadline：参数 start：须为 YYYY-MM-DD 格式的有效日期（收到“2026-13-01”）"
    )


def test_on_a_fresh_clone_before_migrate_it_counts_with_the_packages_holidays(tmp_path):
    # An empty SQLite file: no table at all. The answer is the one the loaded table gives.
    url = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    ok = _cli(url, "complaint.accept", "2026-09-29")
    assert ok.returncode == 0, ok.stderr
    [line] = ok.stdout.splitlines()
    answer = json.loads(line)
    # Received Tue 9-29: 9-30 (1), 10-8 (2), 10-9 (3), 10-10 W (4), 10-12 … 10-14 (5-7).
    assert answer["due"] == "2026-10-14"
    assert answer["calendar_version"] == "package" and "qcity migrate" in answer["note"]
    gone = _cli(url, "report.notify", "2026-04-15")
    assert gone.returncode == 2 and len(gone.stderr.strip().splitlines()) == 1
