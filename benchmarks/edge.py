"""The request edge: the rate-limit counter and the NUL guard, against the least work
that does the same job."""

from __future__ import annotations

import json
from collections.abc import Iterator

from benchmarks._common import best_of, case

N = 500


def cases() -> Iterator[dict]:
    from django.db import connection, transaction
    from django.test import RequestFactory

    from qcity.core import edge, ratelimit
    from qcity.core.models import RateLimitCounter

    # One attempt counted: an upsert that returns the new total, against a bare UPDATE of
    # one existing row by primary key (what any counter needs at the least).
    row = RateLimitCounter.objects.create(bucket="bench:baseline", window_start=0, hits=0)
    table = connection.ops.quote_name(RateLimitCounter._meta.db_table)

    def counted() -> None:
        with transaction.atomic():
            for i in range(N):
                ratelimit.hit(f"bench:{i % 50}")

    def bare_update() -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            for _ in range(N):
                cursor.execute(f"UPDATE {table} SET hits = hits + 1 WHERE id = %s", [row.pk])

    yield case(
        "edge: rate-limit hit (upsert + returning) vs bare UPDATE by pk",
        N,
        best_of(counted),
        best_of(bare_update),
    )

    # The NUL guard over a 1 MB JSON body: parsing plus walking every string, against
    # parsing alone (which any view reading the body does anyway).
    body = json.dumps(
        {
            "rows": [
                {"title": f"举措 {i}", "units": ["市农业农村局", "市工信局"]} for i in range(12000)
            ]
        },
        ensure_ascii=False,
    ).encode()
    request = RequestFactory().post("/api/v1/bench", body, content_type="application/json")
    request.body  # noqa: B018  (read once, as Django caches it for the view)

    def guarded() -> None:
        assert not any(edge.unstorable(t) for t in edge._request_texts(request))

    yield case(
        "edge: NUL guard over a JSON body vs json.loads alone",
        len(body),
        best_of(guarded),
        best_of(lambda: json.loads(request.body)),
    )
