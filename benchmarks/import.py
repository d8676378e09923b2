"""The entity register import, end to end, against the database's own bulk load.

A real CSV file of ``QCITY_BENCH_IMPORT_ROWS`` entities (default 1,000,000; valid codes of
the seven Tieling counties, realistic names and addresses) is written once. Then, on an
empty register each time:

- **ours**: ``import_entities(FILE)``, what ``qcity import_entities FILE`` runs: decode and
  read the file, validate and normalise every row (check characters, county, dates …),
  detect duplicates, bulk upsert in batches of 50,000 with one audit event per batch;
- **baseline**: the database loading the same rows already parsed into tuples (PostgreSQL:
  ``COPY … FROM STDIN`` into the table; SQLite: ``executemany`` INSERT in one transaction).

``reimport_unchanged`` runs ours again on the full register (every row compared, nothing
written) against the same baseline. Goal: within 2×.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from benchmarks._common import case

KINDS = [("企业", "enterprise"), ("个体工商户", "individual"), ("农民专业合作社", "cooperative")]
STATUSES = [("存续", "active")] * 8 + [("注销", "deregistered"), ("吊销", "revoked")]
RISKS = ["A", "B", "B", "C", "D", ""]
INDUSTRIES = ["C1441", "F5221", "H6210", "C1391", "F5126", "I6513"]
WORDS = ["奶粉", "粮油", "食品", "超市", "餐饮", "药房", "五金", "建材", "农机", "服装"]


def _entities(n: int) -> Iterator[tuple]:
    from qcity.core.orgdata import COUNTIES
    from qcity.registry.codes import make_uscc

    day = dt.date(2026, 3, 31)
    for i in range(n):
        region, county = COUNTIES[i % len(COUNTIES)]
        kind_text, kind = KINDS[i % 7 % 3]
        status_text, status = STATUSES[i % 10]
        risk = RISKS[i % 6]
        yield (
            make_uscc(region, i, kind),
            f"{county}{WORDS[i % 10]}{i}号{'有限公司' if kind == 'enterprise' else '经营部'}",
            kind_text,
            kind,
            region,
            INDUSTRIES[i % 6],
            f"{county}人民路{i % 997 + 1}号",
            status_text,
            status,
            risk,
            day if risk else None,
            i % 50 == 0,
            i % 997 == 0,
        )


def _write_csv(path: Path, n: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(
            [
                "统一社会信用代码",
                "名称",
                "主体类型",
                "所属区县",
                "行业代码",
                "住所",
                "登记状态",
                "信用风险分类",
                "分类日期",
                "经营异常名录",
                "严重违法失信名单",
            ]
        )
        for e in _entities(n):
            writer.writerow(
                [
                    e[0],
                    e[1],
                    e[2],
                    e[4],
                    e[5],
                    e[6],
                    e[7],
                    e[9],
                    e[10].isoformat() if e[10] else "",
                    "是" if e[11] else "否",
                    "是" if e[12] else "否",
                ]
            )


def _empty_register() -> None:
    from django.db import connection

    from qcity.registry.models import MarketEntity

    table = MarketEntity._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"TRUNCATE {table} CASCADE")
        else:
            cursor.execute(f"DELETE FROM {table}")


def _prepared_rows(n: int) -> list[tuple]:
    """The same rows as the file, parsed and resolved (owner unit ids), as the table holds them."""
    from qcity.registry.imports import county_units

    bureaus, _ = county_units()
    return [
        (
            e[0],
            "uscc",
            "",
            e[1],
            e[3],
            e[4],
            bureaus[e[4]],
            e[5],
            e[6],
            e[8],
            e[9],
            e[10],
            e[11],
            e[12],
        )
        for e in _entities(n)
    ]


COLUMNS = (
    "code, code_kind, code_warning, name, kind, region_code, owner_unit_id, industry_code, "
    "address, status, risk_class, risk_classified_on, on_abnormal_list, on_serious_list, "
    "created_at, updated_at"
)


def _baseline(rows: list[tuple]) -> float:
    from django.db import connection, transaction
    from django.utils import timezone

    from qcity.registry.models import MarketEntity

    table = MarketEntity._meta.db_table
    _empty_register()
    now = timezone.now()
    start = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({COLUMNS}) FROM STDIN") as copy:
                for r in rows:
                    copy.write_row((*r, now, now))
        else:
            stamp = connection.ops.adapt_datetimefield_value(now)
            cursor.executemany(
                f"INSERT INTO {table} ({COLUMNS}) VALUES ({', '.join(['%s'] * 16)})",
                [
                    (*r[:11], r[11].isoformat() if r[11] else None, r[12], r[13], stamp, stamp)
                    for r in rows
                ],
            )
    return time.perf_counter() - start


def cases() -> Iterator[dict]:
    from django.db import connection

    from qcity.registry.imports import import_entities
    from qcity.registry.models import MarketEntity

    n = int(os.environ.get("QCITY_BENCH_IMPORT_ROWS", "1000000"))
    with tempfile.TemporaryDirectory(prefix="qcity-bench-import-") as tmp:
        path = Path(tmp) / "entities.csv"
        _write_csv(path, n)
        size_mb = round(path.stat().st_size / 1024 / 1024, 1)
        rows = _prepared_rows(n)
        baseline_s = _baseline(rows)
        del rows

        _empty_register()
        start = time.perf_counter()
        result = import_entities(str(path))
        ours_s = time.perf_counter() - start
        assert result.created == n and result.errors == 0, result.summary()
        assert MarketEntity.objects.count() == n
        yield case(
            f"import_entities CSV into an empty register ({connection.vendor})",
            n,
            ours_s,
            baseline_s,
            file_mb=size_mb,
            summary=result.summary(),
        )

        start = time.perf_counter()
        again = import_entities(str(path))
        reimport_s = time.perf_counter() - start
        assert again.unchanged == n, again.summary()
        yield case(
            f"import_entities re-import, all unchanged ({connection.vendor})",
            n,
            reimport_s,
            baseline_s,
            file_mb=size_mb,
        )
        _empty_register()
