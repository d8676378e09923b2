"""Search of the entity register over ``QCITY_BENCH_ENTITIES`` entities (default 1 000 000).

Synthetic but realistic names: county + 字号 (two characters from a pool of 120)
+ an industry phrase (奶粉店, 食品超市, 大药房 …) + a legal-form suffix, in the
seven Tieling counties, with valid 统一社会信用代码. Each case is what the entity
list page does for one query (count the matches, read the first page of 50 in code
order), through ``registry.search`` (ours) against the same page with a plain
``name LIKE '%q%'`` (for the code case: ``code LIKE '%q%' OR name LIKE '%q%'``), a
full scan, which is what a search box without an index does.

Cases: an exact code, a 2-character word (奶粉), a rare 2-character word (a 字号), a
4-character word (食品超市) and a name prefix (county + 字号). Timings are the
median (p50) of ``REPEATS`` runs; ``best_ours_s`` is the fastest. ``matches`` is
the count both found (they must agree: the run fails otherwise).

The entity table is emptied first: on PostgreSQL point DATABASE_URL at a database
you can spare.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
from collections.abc import Iterator

from benchmarks._common import case

REPEATS = 7
PAGE = 50
CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = [pow(3, i, 31) for i in range(17)]
BRAND = (
    "金鑫宏达恒泰顺发兴隆福瑞祥和盛源鸿运嘉华富康宁安永昌聚丰汇通华联天成万德润泽佳美新"
    "星光明利民惠众百合东方北辰辽北银河大众诚信广厦正大远航天宇海纳中兴鼎盛荣昌同仁济世"
    "龙凤春秋玉林松柏翠竹青山绿水金穗丰收平安吉庆"
)
INDUSTRY = [
    ("F5221", "奶粉店"),
    ("F5221", "食品超市"),
    ("F5211", "百货超市"),
    ("F5251", "大药房"),
    ("F5251", "药店"),
    ("H6210", "饭店"),
    ("H6210", "餐馆"),
    ("H6231", "烧烤店"),
    ("F5232", "服装店"),
    ("F5274", "五金商店"),
    ("F5124", "粮油商行"),
    ("F5223", "水果店"),
    ("F5226", "烟酒行"),
    ("F5165", "建材经销处"),
    ("F5162", "农资商店"),
    ("C1441", "乳制品厂"),
    ("C1391", "鹿茸加工厂"),
    ("O8010", "理发店"),
    ("F5264", "眼镜店"),
    ("F5222", "肉类批发部"),
]
SUFFIX = ["", "", "有限公司", "经营部", "（个体）", "门市部"]
COUNTIES = [
    ("211202", "银州区"),
    ("211204", "清河区"),
    ("211221", "铁岭县"),
    ("211223", "西丰县"),
    ("211224", "昌图县"),
    ("211281", "调兵山市"),
    ("211282", "开原市"),
]


def _code(region: str, serial: int) -> str:
    n, digits = serial, []
    for _ in range(9):
        n, r = divmod(n, 31)
        digits.append(CHARSET[r])
    first17 = f"91{region}" + "".join(reversed(digits))
    total = sum(CHARSET.index(c) * w for c, w in zip(first17, WEIGHTS, strict=True))
    return first17 + CHARSET[(31 - total % 31) % 31]


def _rows(n: int, unit_ids: dict[str, int]) -> Iterator[tuple]:
    rnd = random.Random(20261128)
    for i in range(n):
        region, county = COUNTIES[i % len(COUNTIES)]
        brand = rnd.choice(BRAND) + rnd.choice(BRAND)
        industry, phrase = rnd.choice(INDUSTRY)
        name = f"{county}{brand}{phrase}{rnd.choice(SUFFIX)}"
        yield (
            _code(region, i),
            name,
            region,
            unit_ids[region],
            industry,
            rnd.choice("ABCD") if i % 5 else "",
        )


def _load(n: int) -> None:
    """Empty the entity table and fill it with ``n`` entities through the database's bulk path."""
    from django.db import connection

    from qcity.core.models import OrgUnit
    from qcity.registry import search

    units = {u.code.split("-")[0]: u.pk for u in OrgUnit.objects.filter(code__endswith="-SCJG")}
    started = time.perf_counter()
    columns = (
        "code, name, region_code, owner_unit_id, industry_code, risk_class, code_kind, "
        "code_warning, kind, address, status, on_abnormal_list, on_serious_list, "
        "created_at, updated_at"
    )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("TRUNCATE registry_marketentity CASCADE")
            # Building the GIN index once after the load is faster than maintaining it per row.
            cursor.execute("DROP INDEX IF EXISTS registry_entity_name_bigrams")
            with cursor.cursor.copy(f"COPY registry_marketentity ({columns}) FROM STDIN") as copy:
                for row in _rows(n, units):
                    copy.write_row(
                        (*row, "uscc", "", "enterprise", "", "active", False, False, "now", "now")
                    )
            # The deferred foreign-key checks of the COPY run first: CREATE INDEX refuses
            # a table with pending trigger events.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(search.PG_INDEX)
            cursor.execute("ANALYZE registry_marketentity")
        else:
            cursor.execute("DELETE FROM registry_marketentity")
            # The triggers fill the FTS table row by row, as for any other writer.
            sql = (
                f"INSERT INTO registry_marketentity ({columns}) VALUES "
                "(%s, %s, %s, %s, %s, %s, 'uscc', '', 'enterprise', '', 'active', 0, 0, "
                "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
            batch: list[tuple] = []
            for row in _rows(n, units):
                batch.append(row)
                if len(batch) == 20_000:
                    cursor.executemany(sql, batch)
                    batch.clear()
            if batch:
                cursor.executemany(sql, batch)
            cursor.execute("ANALYZE")
    print(
        f"search: loaded {n} entities on {connection.vendor} in "
        f"{time.perf_counter() - started:.1f} s",
        file=sys.stderr,
    )


def _p50(fn, repeats: int = REPEATS) -> tuple[float, float, object]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times), result


def cases() -> Iterator[dict]:
    from django.db import connection, transaction
    from django.db.models import Q

    from qcity.registry.models import MarketEntity
    from qcity.registry.search import filter_entities

    n = int(os.environ.get("QCITY_BENCH_ENTITIES", "1000000"))
    with transaction.atomic():
        _load(n)
    if connection.vendor == "postgresql":
        # What autovacuum does to a table after a bulk load (hint bits, visibility map,
        # statistics); without it the first reads of each page write it back.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE) registry_marketentity")
    sample = MarketEntity.objects.order_by("pk")[n // 2]
    prefix = sample.name[:5]  # county + 字号, e.g. 开原市金鑫
    queries = [
        ("code", sample.code),
        ("word2", "奶粉"),
        ("word2_rare", sample.name[3:5]),  # a 字号: a few dozen entities
        ("word4", "食品超市"),
        ("name_prefix", prefix),
    ]
    base = MarketEntity.objects.all()
    for label, q in queries:

        def ours(q=q):
            qs = filter_entities(base, q).order_by("code")
            return qs.count(), [e.code for e in qs.only("code", "name")[:PAGE]]

        def baseline(q=q, label=label):
            cond = Q(name__contains=q)
            if label == "code":
                cond |= Q(code__contains=q)
            qs = base.filter(cond).order_by("code")
            return qs.count(), [e.code for e in qs.only("code", "name")[:PAGE]]

        ours_p50, ours_best, (count, page) = _p50(ours)
        base_p50, _, (base_count, base_page) = _p50(baseline)
        if count != base_count or page != base_page:
            raise SystemExit(f"search {label} {q!r}: ours {count} ≠ baseline {base_count}")
        yield case(
            f"search_{label}_{connection.vendor}",
            n,
            ours_p50,
            base_p50,
            query=q,
            matches=count,
            best_ours_s=ours_best,
            vendor=connection.vendor,
        )
