"""What the response-hygiene middleware costs (ADR 0016).

Every HTML page passes ``BidiNeutralisingMiddleware`` and ``NoStoreMiddleware``;
the question is whether a page gets noticeably slower. The baseline is the same
page through the same stack with those two classes removed.
"""

from __future__ import annotations

from collections.abc import Iterator

from benchmarks._common import best_of, case

PAGES = 20


def cases() -> Iterator[dict]:
    from django.conf import settings
    from django.test import Client, override_settings

    from qcity.core.display import neutralise_bidi_bytes
    from qcity.core.models import User
    from qcity.plans.models import Plan

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    plan = Plan.objects.get()
    coordinator = User.objects.get(username="coordinator")
    ours_stack = list(settings.MIDDLEWARE)
    bare_stack = [
        m
        for m in ours_stack
        if m.rsplit(".", 1)[1] not in ("NoStoreMiddleware", "BidiNeutralisingMiddleware")
    ]

    def client_for(stack: list[str]) -> Client:
        # A test client builds its middleware chain on its first request and keeps it.
        with override_settings(MIDDLEWARE=stack):
            client = Client()
            client.force_login(coordinator)
            assert client.get(f"/plans/{plan.pk}/").status_code == 200
        return client

    ours_client, bare_client = client_for(ours_stack), client_for(bare_stack)

    def pages(client: Client) -> None:
        for _ in range(PAGES):
            assert client.get(f"/plans/{plan.pk}/").status_code == 200

    # Interleaved, so a neighbour's burst on the shared machine hits both alike.
    ours, bare = [], []
    for round_ in range(6):
        order = [(ours, ours_client), (bare, bare_client)]
        for times, client in order if round_ % 2 else reversed(order):
            times.append(best_of(lambda client=client: pages(client), 1))
    yield case(
        "display: plan overview with bidi + no-store middleware vs without",
        PAGES,
        min(ours),
        min(bare),
    )

    # A worst case: a 1 MB page full of hostile names, against one bytes.replace pass.
    hostile = ("<td>市农业\u202e局村农</td>" * 40_000).encode()
    yield case(
        "display: neutralise a 1 MB page of bidi names vs one bytes.replace",
        len(hostile),
        best_of(lambda: neutralise_bidi_bytes(hostile)),
        best_of(lambda: hostile.replace("\u202e".encode(), b"[U+202E]")),
    )
