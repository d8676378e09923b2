"""qcity deadline RULE START [--suspended N] [--extended] [--received DATE]: one JSON line.

Prints the due date of a rulebook rule whose clock starts on START, using the version in
force on START (or, with ``--received``, the version a case received that day uses under
the settings), e.g.::

    $ qcity deadline complaint.accept 2026-04-15
    {"rule": "complaint.accept", "version": "order121", "article": "《市场监督管理投诉举报处理办法》第十五条", "start": "2026-04-15", "due": "2026-04-24", ...}

A rule not in force on that day (``report.notify`` from 2026-04-15), an unknown rule, a
malformed date or a negative count is one Chinese line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
from contextlib import nullcontext

from django.core.management.base import CommandError
from django.db import connection

from qcity.core import rulebook, workdays
from qcity.core.management.base import QcityCommand, int_between

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


def iso_date(value: str) -> dt.date:
    """An argparse type: a real calendar date written YYYY-MM-DD (nothing else Python reads)."""
    if _ISO_DATE.fullmatch(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass  # 2026-02-30 and the like: refused below with the same message
    raise argparse.ArgumentTypeError(f"须为 YYYY-MM-DD 格式的有效日期（收到“{value}”）")


iso_date.__name__ = "date"


class Command(QcityCommand):
    help = "按期限规则计算到期日，输出一行 JSON（rule、version、article、start、due 等）"

    def add_arguments(self, parser) -> None:
        parser.add_argument("rule", help="规则名，如 complaint.accept；见 docs/rulebook.md")
        parser.add_argument("start", type=iso_date, help="期限起算日（该日不计入），YYYY-MM-DD")
        parser.add_argument(
            "--suspended",
            type=int_between(0, rulebook.MAX_SUSPENDED),
            default=0,
            help="鉴定、检测等不计入期限的时间，按规则自身的单位（工作日或日）",
        )
        parser.add_argument(
            "--extended", action="store_true", help="加上规则允许的延长期限（如经负责人批准）"
        )
        parser.add_argument(
            "--received",
            type=iso_date,
            default=None,
            help="案件收到日期：按案件适用的规定（含 COMPLAINT_PENDING_CASES_RULES）选版本",
        )

    def handle(
        self,
        *args,
        rule: str,
        start: dt.date,
        suspended: int,
        extended: bool,
        received: dt.date | None,
        **options,
    ) -> None:
        # Before `qcity migrate` there is no holiday table: compute from the package's data,
        # the same data `load_calendar` would copy, and say so in the output.
        unmigrated = "core_calendarversion" not in connection.introspection.table_names()
        with workdays.using(workdays.PackageCalendar()) if unmigrated else nullcontext():
            computed = self._compute(rule, start, suspended, extended, received)
        self._print(computed, start, suspended, extended, unmigrated)

    def _compute(
        self,
        rule: str,
        start: dt.date,
        suspended: int,
        extended: bool,
        received: dt.date | None,
    ):
        try:
            if received is None:
                computed = rulebook.deadline(rule, start, suspended=suspended, extended=extended)
            else:
                if start < received:
                    raise CommandError(
                        f"起算日 {start.isoformat()} 早于收到日期 {received.isoformat()}",
                        returncode=2,
                    )
                computed = rulebook.case_deadline(
                    received, rule, start, suspended=suspended, extended=extended
                )
        except rulebook.RuleError as exc:
            raise CommandError(str(exc), returncode=2) from None
        return computed, received

    def _print(self, result, start: dt.date, suspended: int, extended: bool, unmigrated: bool):
        computed, received = result
        used = rulebook.describe(computed.rule)
        out = {
            "rule": used.name,
            "version": used.version,
            "article": used.citation,
            "start": start.isoformat(),
            "due": computed.due.isoformat(),
            "unit": used.unit,
            "count": used.count,
            "suspended": suspended,
            "extended": extended,
            "extension": used.extension if extended else 0,
            "configured": used.configured,
            "provisional": computed.provisional,
            "calendar_version": computed.calendar_version,
        }
        if received is not None:
            out["received"] = received.isoformat()
        if computed.provisional:
            out["note"] = (
                "节假日表中缺少所涉年度的放假安排，到期日按周末和法定节假日推算，为暂定结果"
            )
        elif unmigrated:
            out["note"] = "数据库尚未初始化（qcity migrate），按 chinese-calendar 的节假日数据计算"
        self.stdout.write(json.dumps(out, ensure_ascii=False))
