"""The audit chain: appending and verifying, against plain inserts and a plain scan."""

from __future__ import annotations

from collections.abc import Iterator

from benchmarks._common import best_of, case

N = 300


def cases() -> Iterator[dict]:
    from django.db import transaction

    from qcity.core import audit
    from qcity.core.models import AuditEvent, DictionaryItem

    counter = iter(range(10**9))

    def plain() -> None:
        with transaction.atomic():
            for _ in range(N):
                DictionaryItem(dictionary="bench", code=str(next(counter)), label="x").save()

    def chained() -> None:
        with transaction.atomic():
            for i in range(N):
                audit.record("bench.event", by=None, details={"i": i})

    yield case(
        "audit: record (hash chain) vs plain ORM inserts", N, best_of(chained), best_of(plain)
    )

    rows = AuditEvent.objects.count()
    scan = best_of(lambda: sum(1 for _ in AuditEvent.objects.order_by("seq").iterator(2000)), 3)
    verify = best_of(audit.verify_chain, 3)
    yield case("audit: verify_audit vs plain ordered scan", rows, verify, scan)
