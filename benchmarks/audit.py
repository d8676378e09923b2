"""The audit chain: appending and verifying, against plain inserts and a plain scan.

- ``record`` in one transaction (insert each event, one chaining pass at commit)
  against the same number of plain ORM inserts in one transaction;
- ``record`` in autocommit, one event per transaction as a login does (insert +
  its own chaining pass), against one plain insert per transaction;
- ``record_many`` (one bulk insert, one chaining pass) against a plain
  ``bulk_create`` of the same number of rows;
- ``verify_chain`` against a plain ordered scan of the table.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

from benchmarks._common import best_of, case

N = 300
BULK = 5000
SINGLE = 100


def cases() -> Iterator[dict]:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from django.db import transaction

    from qcity.core import audit, auditkeys
    from qcity.core.models import AuditEvent, DictionaryItem

    counter = iter(range(10**9))
    run = uuid.uuid4().hex[:12]  # a database kept from an earlier run already has codes 0…n

    def plain_rows(n: int) -> list[DictionaryItem]:
        return [
            DictionaryItem(dictionary="bench", code=f"{run}-{next(counter)}", label="x")
            for _ in range(n)
        ]

    def plain() -> None:
        with transaction.atomic():
            for item in plain_rows(N):
                item.save()

    def chained() -> None:
        with transaction.atomic():
            for i in range(N):
                audit.record("bench.event", by=None, details={"i": i}, ip="10.0.0.1")

    yield case(
        "audit: record ×N in one transaction vs plain ORM inserts",
        N,
        best_of(chained),
        best_of(plain),
    )

    def plain_single() -> None:
        for item in plain_rows(SINGLE):
            item.save()

    def chained_single() -> None:
        for i in range(SINGLE):
            audit.record("bench.login", by=None, details={"i": i}, ip="10.0.0.1")

    yield case(
        "audit: record in autocommit (a login) vs plain autocommit insert",
        SINGLE,
        best_of(chained_single, 3),
        best_of(plain_single, 3),
    )

    def plain_bulk() -> None:
        with transaction.atomic():
            DictionaryItem.objects.bulk_create(plain_rows(BULK), batch_size=1000)

    def chained_bulk() -> None:
        with transaction.atomic():
            audit.record_many(
                ({"action": "bench.row", "details": {"row": i}} for i in range(BULK)),
                by=None,
                ip="10.0.0.1",
            )

    yield case(
        "audit: record_many (bulk insert + one chaining pass) vs plain bulk_create",
        BULK,
        best_of(chained_bulk, 3),
        best_of(plain_bulk, 3),
    )

    try:
        # The database's own checkpoints verify only with its key (when one is configured).
        key = auditkeys.verify_key()
    except auditkeys.KeyProblem:
        key = Ed25519PrivateKey.generate().public_key()
    rows = AuditEvent.objects.count()
    scan = best_of(lambda: sum(1 for _ in AuditEvent.objects.order_by("seq").iterator(2000)), 3)
    verify = best_of(lambda: audit.verify_chain(key), 3)
    yield case("audit: verify_audit vs plain ordered scan", rows, verify, scan)
