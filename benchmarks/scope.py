"""A liaison's scoped measure list against a bare scan of the same table."""

from __future__ import annotations

import os
from collections.abc import Iterator

from benchmarks._common import best_of, case, grow_plan


def cases() -> Iterator[dict]:
    from qcity.core.models import Role, User
    from qcity.core.scope import scoped
    from qcity.plans.models import Measure

    grow_plan(int(os.environ.get("QCITY_BENCH_MEASURES", "5000")))
    liaison = User.objects.filter(role=Role.DEPARTMENT_LIAISON).first()
    n = Measure.objects.count()
    bare = best_of(lambda: list(Measure.objects.values_list("id", flat=True)))
    ours = best_of(
        lambda: list(scoped(liaison, Measure.objects.all()).values_list("id", flat=True))
    )
    yield case("scope: liaison's scoped measure list vs bare scan", n, ours, bare)
