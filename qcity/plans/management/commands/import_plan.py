"""qcity import_plan FILE [--dry-run]: store a plan document, idempotently."""

from __future__ import annotations

import hashlib
from pathlib import Path

from django.core.management.base import CommandError

from qcity.core.management.base import QcityCommand, text_for
from qcity.core.models import OrgUnit, User
from qcity.core.services import resolve_unit_name
from qcity.plans.parser import PlanParseError, parse_plan_file
from qcity.plans.services import PlanImportError, import_plan


class Command(QcityCommand):
    help = "导入实施方案：章节、举措、责任单位、目标；重复导入同一文件不产生变化"

    def add_arguments(self, parser) -> None:
        parser.add_argument("file")
        parser.add_argument("--dry-run", action="store_true", help="只显示将发生的变化，不保存")
        parser.add_argument(
            "--owner-unit",
            default="市市场监管局",
            type=text_for(OrgUnit, "name"),
            help="负责该方案的单位（默认：市市场监管局）",
        )
        parser.add_argument(
            "--by",
            default="",
            type=text_for(User, "username"),
            help="以哪个用户的名义导入（用户名，记入审计）",
        )

    def handle(self, *args, file: str, dry_run: bool, owner_unit: str, by: str, **options) -> None:
        try:
            parsed = parse_plan_file(file)
        except PlanParseError as exc:
            raise CommandError(str(exc), returncode=2) from None
        owner = resolve_unit_name(owner_unit)
        if owner is None or not owner.confirmed:
            raise CommandError(f"找不到单位“{owner_unit}”，请先加载组织机构", returncode=2)
        actor = None
        if by:
            actor = User.objects.filter(username=by).first()
            if actor is None:
                raise CommandError(f"找不到用户“{by}”", returncode=2)
        for problem in parsed.problems:
            self.stderr.write(f"警告：{problem}")
        try:
            report = import_plan(
                parsed,
                by=actor,
                owner_unit=owner,
                source_name=Path(file).name,
                source_sha256=hashlib.sha256(Path(file).read_bytes()).hexdigest(),
                dry_run=dry_run,
            )
        except PlanImportError as exc:
            raise CommandError(str(exc), returncode=2) from None
        prefix = "（演练，未保存）" if dry_run else ""
        if not report.changes:
            self.stdout.write(f"{prefix}没有变化：{parsed.title}")
            return
        for change in report.changes:
            self.stdout.write(f"{prefix}{change}")
        for name in report.unconfirmed_units:
            self.stdout.write(f"{prefix}待确认单位：{name}（请在“待确认单位”页面确认或映射）")
        measures = sum(len(c.measures) for c in parsed.chapters)
        self.stdout.write(
            f"{prefix}{'新建' if report.created else '更新'}方案“{parsed.title}”："
            f"{len(parsed.chapters)} 章，{measures} 项举措，{len(parsed.targets)} 个目标"
        )
