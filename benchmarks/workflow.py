"""core.workflow.take against the same transition written by hand.

Both sides do the same work per step: one transaction, lock the row, check the state,
save the change, write a Transition row and an audit event. What ``take`` adds is the
scope check, the declaration lookups and the hooks; the ratio is that overhead.
"""

from __future__ import annotations

from collections.abc import Iterator

from benchmarks._common import best_of, case

N = 100


def cases() -> Iterator[dict]:
    from django.contrib.contenttypes.models import ContentType
    from django.db import transaction
    from django.utils import timezone

    from qcity.core import audit
    from qcity.core.models import OrgUnit, Role, Transition, User
    from qcity.core.workflow import Step, Workflow, take

    actor, _ = User.objects.get_or_create(
        username="bench-coordinator",
        defaults={"role": Role.COORDINATOR, "unit": OrgUnit.objects.get(name="市市场监管局")},
    )
    units = [
        OrgUnit.objects.get_or_create(
            name=f"基准单位{i}",
            defaults={"kind": "unconfirmed", "confirmed": False, "status": "unconfirmed"},
        )[0].pk
        for i in range(2 * N)
    ]
    # Every run starts from the same state, also on a database a previous run used.
    OrgUnit.objects.filter(pk__in=units).update(confirmed=False, status="unconfirmed")
    ours_units, hand_units = units[:N], units[N:]

    def set_confirmed(value: bool):
        return lambda obj, user: setattr(obj, "confirmed", value)

    # Confirm and un-confirm: a round trip, so every repeat starts from the same state.
    toggle = Workflow(
        OrgUnit,
        name="bench.toggle",
        steps=[
            Step(
                name="on",
                label="on",
                sources={"unconfirmed"},
                target="confirmed",
                roles={Role.COORDINATOR},
                apply=set_confirmed(True),
            ),
            Step(
                name="off",
                label="off",
                sources={"confirmed"},
                target="unconfirmed",
                roles={Role.COORDINATOR},
                apply=set_confirmed(False),
            ),
        ],
    )

    def ours() -> None:
        for step in ("on", "off"):
            for pk in ours_units:
                take(toggle, step, pk, by=actor)

    content_type = ContentType.objects.get_for_model(OrgUnit)

    def by_hand() -> None:
        for source, target, confirmed in (
            ("unconfirmed", "confirmed", True),
            ("confirmed", "unconfirmed", False),
        ):
            for pk in hand_units:
                with transaction.atomic():
                    unit = OrgUnit.objects.select_for_update().get(pk=pk)
                    if unit.status != source:
                        raise RuntimeError("wrong state")
                    unit.status, unit.confirmed = target, confirmed
                    unit.save()
                    row = Transition.objects.create(
                        content_type=content_type,
                        object_id=str(pk),
                        workflow="bench.hand",
                        step=target,
                        from_state=source,
                        to_state=target,
                        actor=actor,
                        time=timezone.now(),
                    )
                    audit.record(
                        "bench.hand",
                        by=actor,
                        obj=unit,
                        details={"from": source, "to": target, "transition": row.pk},
                    )

    # Alternate the two sides so that a busy moment on the machine hits both alike.
    ours_s, hand_s = float("inf"), float("inf")
    for _ in range(5):
        ours_s = min(ours_s, best_of(ours, 1))
        hand_s = min(hand_s, best_of(by_hand, 1))
    yield case("workflow: take() vs the same transition by hand", 2 * N, ours_s, hand_s)
