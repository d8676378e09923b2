"""qcity parse_plan FILE: print a plan document's structure as JSON (no database)."""

from __future__ import annotations

import json
import sys

from django.core.management.base import CommandError

from qcity.core.management.base import QcityCommand
from qcity.plans.parser import PlanParseError, parse_plan_file, plan_to_dict


class Command(QcityCommand):
    help = "解析实施方案（.txt UTF-8/GB18030、.docx、含文字层的 .pdf、网页 .html），以 JSON 输出章节、举措、责任单位和目标"
    requires_system_checks: list[str] = []
    requires_migrations_checks = False

    def add_arguments(self, parser) -> None:
        parser.add_argument("file")

    def handle(self, *args, file: str, **options) -> None:
        try:
            plan = parse_plan_file(file)
        except PlanParseError as exc:
            raise CommandError(str(exc), returncode=2) from None
        for problem in plan.problems:
            sys.stderr.write(f"警告：{problem}\n")
        self.stdout.write(json.dumps(plan_to_dict(plan), ensure_ascii=False, indent=2))
