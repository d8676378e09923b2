"""qcity export_draw DRAW_ID DIR: write a draw's record.json and population.csv.

The two files are what ``qcity verify_draw`` (or anyone's own program, from
docs/draw-algorithm.md) recomputes the draw from. population.csv is the exact snapshot
taken at the draw, read back from its stored gzip copy.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import CommandError

from qcity.core.management.base import QcityCommand, int_between
from qcity.inspections import draw
from qcity.inspections.models import Draw


class Command(QcityCommand):
    help = "导出一次抽取的记录（record.json）和名录快照（population.csv），供任何人复核"

    def add_arguments(self, parser) -> None:
        parser.add_argument("draw_id", type=int_between(1, 2**63 - 1), help="抽取记录编号")
        parser.add_argument("directory", help="输出目录（不存在则创建）")

    def handle(self, *args, draw_id: int, directory: str, **options) -> None:
        found = Draw.objects.select_related("batch__plan").filter(pk=draw_id).first()
        if found is None:
            raise CommandError(f"export_draw：抽取记录 {draw_id} 不存在", returncode=2)
        target = Path(directory)
        if target.exists() and not target.is_dir():
            raise CommandError(f"export_draw：{directory} 已存在且不是目录", returncode=2)
        try:
            population = draw.population_bytes(found)
        except (OSError, ValueError) as exc:
            raise CommandError(
                f"export_draw：抽取记录 {draw_id} 的名录快照无法读取（{exc}）", returncode=2
            ) from None
        try:
            target.mkdir(parents=True, exist_ok=True)
            (target / "record.json").write_bytes(draw.record_bytes(found))
            (target / "population.csv").write_bytes(population)
        except OSError as exc:
            raise CommandError(
                f"export_draw：无法写入 {directory}（{exc.strerror}）", returncode=2
            ) from None
        self.stdout.write(
            f"已导出第 {found.attempt} 次抽取（{found.batch}）：{target / 'record.json'}、"
            f"{target / 'population.csv'}"
        )
