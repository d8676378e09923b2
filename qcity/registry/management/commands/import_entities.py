"""qcity import_entities FILE [--dry-run] [--all-or-nothing] [--by USER]: the entity register.

Prints the human lines, then as its LAST line the JSON summary
``{"rows", "created", "updated", "unchanged", "errors", "warnings"}``. Exit status: 0 when
the import ran (even with row errors: they are in ``FILE.errors.csv``), 1 when
``--all-or-nothing`` refused the file because of a row error, 2 for bad arguments or a file
that cannot be read as a table (one line on stderr, nothing written).
"""

from __future__ import annotations

import json

from django.core.management.base import CommandError

from qcity.core.imports import ImportFileError, human_lines
from qcity.core.management.base import QcityCommand, text_for
from qcity.core.models import User
from qcity.registry.imports import import_entities


class Command(QcityCommand):
    help = "导入市场主体名录（CSV：UTF-8或GB18030；或XLSX），按统一社会信用代码新增或更新"

    def add_arguments(self, parser) -> None:
        parser.add_argument("file")
        parser.add_argument("--dry-run", action="store_true", help="完整运行后回滚，只报告结果")
        parser.add_argument(
            "--all-or-nothing", action="store_true", help="任何一行有错误则不写入任何数据"
        )
        parser.add_argument(
            "--by",
            default="",
            type=text_for(User, "username"),
            help="以哪个用户的名义导入（用户名；限于其管辖区县，记入审计）",
        )

    def handle(self, *args, file: str, dry_run: bool, all_or_nothing: bool, by: str, **options):
        actor = None
        if by:
            actor = User.objects.filter(username=by, is_active=True).first()
            if actor is None:
                raise CommandError(f"import_entities：找不到用户“{by}”", returncode=2)
        try:
            result = import_entities(file, by=actor, dry_run=dry_run, all_or_nothing=all_or_nothing)
        except ImportFileError as exc:
            raise CommandError(f"import_entities：{exc.message}", returncode=2) from None
        for line in human_lines(result):
            self.stdout.write(line)
        self.stdout.write(json.dumps(result.summary(), ensure_ascii=False))
        if result.refused:
            raise CommandError("import_entities：有错误行，未写入任何数据", returncode=1)
