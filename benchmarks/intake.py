"""Intake throughput on the real server stack against the framework's ceiling (ADR 0041).

gunicorn (``benchmarks._http.serve``: the production server, several worker processes)
serves the database of the run. At the same concurrency, closed loop, it answers first
``GET /api/v1/ping`` (the trivial view: the whole middleware stack and the API framework,
no table) and then ``POST /api/v1/complaints/submissions`` (token auth, ``intake.submit``:
checks, routing, numbering, the case, its audit event, the chain). ``ours_s`` and
``baseline_s`` are seconds per request (1 ÷ answers per second), so ``ratio`` is the
ceiling's throughput ÷ intake's; the goal is at most 2. ``rps`` and ``p99_ms`` are
intake's. Every intake answer must be 201, or the case says how many were not.

``QCITY_BENCH_CONCURRENCY`` (16) and ``QCITY_BENCH_SECONDS`` (20) tune the run. The same
submissions (``submission(i, …)``) feed the load test (tests/load/test_intake_load.py).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from benchmarks._common import case

CONCURRENCY = int(os.environ.get("QCITY_BENCH_CONCURRENCY", "16"))
SECONDS = float(os.environ.get("QCITY_BENCH_SECONDS", "20"))
SUBMIT = "/api/v1/complaints/submissions"

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
COUNTIES = ("开原市", "西丰县", "昌图县", "铁岭县", "调兵山市", "银州区", "清河区")
GOODS = ("电热水壶", "羽绒服", "手机", "婴儿奶粉", "洗衣机", "预付卡健身服务", "二手车")


def id_number(i: int) -> str:
    """A valid 居民身份号码 (GB 11643 check character) for person ``i``."""
    first17 = f"211282{1960 + i % 45}{i % 12 + 1:02d}{i % 28 + 1:02d}{i % 1000:03d}"
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return first17 + "10X98765432"[total % 11]


def submission(
    i: int, entity_codes: Sequence[str], categories: Sequence[str], issues: Sequence[str]
) -> dict:
    """The ``i``-th of a plausible mix: 7 complaints, 2 reports, 1 of both in every 10;
    6 in 10 name a registered enterprise by its code, the others a name and address."""
    kind = ("complaint",) * 7 + ("report",) * 2 + ("both",)
    fields: dict = {
        "kinds": kind[i % 10],
        "person_name": "李小红" if i % 2 else "王建国",
        "person_phone": f"139{i % 100_000_000:08d}",
        "person_address": f"辽宁省铁岭市{COUNTIES[i % 7]}新华街{i % 300 + 1}号",
        "goods": GOODS[i % len(GOODS)],
        "request": "退货退款并赔偿损失",
        "facts": f"第{i}号：购买的{GOODS[i % len(GOODS)]}存在质量问题，商家拒绝处理。",
        "amount": f"{(i % 5000) + 1}.00",
        "incident_on": "2026-05-20",
    }
    if i % 3 == 0:
        fields["person_id_number"] = id_number(i)
    if categories:
        fields["category"] = categories[i % len(categories)]
    if issues:
        fields["issue_type"] = issues[i % len(issues)]
    if entity_codes and i % 10 < 6:
        fields["respondent_code"] = entity_codes[i % len(entity_codes)]
    else:
        fields["respondent_name"] = f"{COUNTIES[i % 7]}某某商店{i % 97}"
        fields["respondent_address"] = f"辽宁省铁岭市{COUNTIES[i % 7]}兴工街{i % 50 + 1}号"
    return fields


def reference_codes() -> tuple[list[str], list[str]]:
    from qcity.complaints.models import Category, IssueType

    return (
        list(Category.objects.enabled().values_list("code", flat=True)),
        list(IssueType.objects.enabled().values_list("code", flat=True)),
    )


def make_entities(per_county: int = 100) -> list[str]:
    """Registered enterprises in each county bureau (the respondents named by code)."""
    from qcity.core.models import OrgUnit
    from qcity.registry.codes import make_uscc
    from qcity.registry.models import MarketEntity

    codes = []
    rows = []
    for county in OrgUnit.objects.filter(kind=OrgUnit.Kind.COUNTY).exclude(code=None):
        bureau = OrgUnit.objects.filter(code=f"{county.code}-SCJG").first()
        if bureau is None:
            continue
        for n in range(per_county):
            code = make_uscc(county.code, 700000 + n)
            codes.append(code)
            rows.append(
                MarketEntity(
                    code=code,
                    name=f"{county.name}基准测试商贸有限公司{n}",
                    kind=MarketEntity.Kind.ENTERPRISE,
                    region_code=county.code,
                    owner_unit=bureau,
                    address=f"辽宁省铁岭市{county.name}工业街{n}号",
                )
            )
    MarketEntity.objects.bulk_create(rows, ignore_conflicts=True)
    return codes


def platform_client() -> str:
    """An API token of the account a platform or hotline system files with (city bureau)."""
    from qcity.core.models import OrgUnit, Role, User
    from qcity.core.services import issue_api_token

    unit = OrgUnit.objects.get(name="市市场监管局")
    client, _ = User.objects.get_or_create(
        username="bench-12315", defaults={"role": Role.COORDINATOR, "unit": unit}
    )
    issuer, _ = User.objects.get_or_create(
        username="bench-secadmin", defaults={"role": Role.SECURITY_ADMIN, "unit": unit}
    )
    return issue_api_token(client, name="基准测试", by=issuer)


def cases() -> Iterator[dict]:
    from django.db import connection

    from benchmarks._http import Request, database_url, json_request, saturate, serve

    codes = make_entities()
    categories, issues = reference_codes()
    token = platform_client()
    run_tag = os.urandom(4).hex()
    headers = {"Authorization": f"Bearer {token}"}

    def intake(phase: str):
        # Each phase its own keys: a key seen before would be answered as a replay (200).
        def make(i: int) -> Request:
            return json_request(
                SUBMIT,
                submission(i, codes, categories, issues),
                {**headers, "Idempotency-Key": f"bench-{run_tag}-{phase}-{i}"},
            )

        return make

    def ping(i: int) -> Request:
        return Request("GET", "/api/v1/ping")

    var_dir = Path(tempfile.mkdtemp(prefix="qcity-bench-server-"))
    connection.close()  # the server's workers are the ones writing now
    with serve(database_url(connection.settings_dict), var_dir=var_dir) as server:
        saturate(server.url, ping, concurrency=CONCURRENCY, seconds=2)  # warm up
        ceiling = saturate(server.url, ping, concurrency=CONCURRENCY, seconds=SECONDS / 2)
        saturate(server.url, intake("warm"), concurrency=CONCURRENCY, seconds=2)
        ours = saturate(server.url, intake("run"), concurrency=CONCURRENCY, seconds=SECONDS)
    statuses = ours.statuses()
    yield case(
        f"intake: POST submissions vs GET ping, gunicorn, concurrency {CONCURRENCY}",
        ours.sent,
        1 / ours.rate,
        1 / ceiling.rate,
        rps=round(ours.rate, 1),
        p99_ms=round(ours.percentile(99) * 1000, 1),
        p50_ms=round(ours.percentile(50) * 1000, 1),
        baseline_rps=round(ceiling.rate, 1),
        baseline_p99_ms=round(ceiling.percentile(99) * 1000, 1),
        not_201=sum(n for status, n in statuses.items() if status != 201),
        database=connection.vendor,
    )
