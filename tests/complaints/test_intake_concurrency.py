"""Case numbers and idempotency under concurrent submissions, with real threads and their
own connections (PostgreSQL runs them concurrently; SQLite serialises the writers)."""

from __future__ import annotations

import threading

from django.db import connection

from qcity.complaints.intake import submit
from qcity.complaints.models import Case, Submission
from tests.complaints.test_intake import complaint_fields
from tests.core.test_audit_concurrency import live_db  # noqa: F401 - a fixture

WRITERS = 6
EACH = 4


def _run_all(target, count: int) -> list[BaseException]:
    errors: list[BaseException] = []
    barrier = threading.Barrier(count)

    def run(n: int) -> None:
        try:
            barrier.wait()
            target(n)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return errors


def test_concurrent_submissions_get_unique_consecutive_numbers(live_db, personas, calendar):  # noqa: F811
    def writer(n: int) -> None:
        for i in range(EACH):
            submit(complaint_fields(kinds="both", facts=f"第{n}-{i}件"), channel="web")

    assert _run_all(writer, WRITERS) == []
    total = WRITERS * EACH
    for prefix in ("TS", "JB"):
        serials = sorted(
            int(number[-6:])
            for number in Case.objects.filter(number__startswith=prefix).values_list(
                "number", flat=True
            )
        )
        assert serials == list(range(1, total + 1))


def test_concurrent_replays_of_one_key_make_one_submission(live_db, personas, calendar):  # noqa: F811
    client = personas["coordinator"]
    results = []

    def writer(n: int) -> None:
        results.append(
            submit(
                complaint_fields(),
                channel="api",
                by=client,
                client=client,
                idempotency_key="same-key",
            )
        )

    assert _run_all(writer, WRITERS) == []
    assert Submission.objects.count() == 1 and Case.objects.count() == 1
    assert len({r.numbers[0] for r in results}) == 1
    assert sum(not r.replayed for r in results) == 1
    assert len({r.receipt_code for r in results}) == 1
