"""qcity verify_draw RECORD POPULATION_FILE: recompute a published draw from its two files.

Reads nothing else: no database, no settings that matter (``inspections.drawalgo`` is
pure Python). Exit 0 with "一致：…" when the record and the population agree; exit 1
naming the first difference (digest, a code that should not be selected, a missing one
with its position, counts, unknown algorithm or version, malformed files); exit 2 when a
file cannot be read.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import CommandError

from qcity.core.management.base import QcityCommand
from qcity.inspections import drawalgo


class Command(QcityCommand):
    help = "根据抽取记录和名录快照重新计算抽取结果，核对二者是否一致"
    requires_system_checks: list[str] = []
    requires_migrations_checks = False

    def add_arguments(self, parser) -> None:
        parser.add_argument("record", help="record.json")
        parser.add_argument("population", help="population.csv")

    def handle(self, *args, record: str, population: str, **options) -> None:
        record_bytes = _read(record)
        population_bytes = _read(population)
        try:
            summary = drawalgo.verify(record_bytes, population_bytes)
        except drawalgo.VerifyError as exc:
            raise CommandError(f"不一致：{exc}", returncode=1) from None
        self.stdout.write(summary)


def _read(name: str) -> bytes:
    path = Path(name)
    if not path.is_file():
        raise CommandError(f"verify_draw：文件不存在或不是普通文件：{name}", returncode=2)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise CommandError(
            f"verify_draw：无法读取 {name}（{exc.strerror}）", returncode=2
        ) from None
