"""Data scope over a large measure table, against plain queries of the same table.

The plan grows to ``QCITY_BENCH_MEASURES`` measures (default 100 000, three
responsible departments each). Cases:

- the issue's case: a liaison's scoped measure list against a bare scan of the
  same table (every measure, same columns). Since ADR 0020 everyone internal reads
  every measure, so "scoped" here is the read scope narrowed by the write (and
  report) rule, ``Measure.scope_write_q``: the unit rule that scope still applies;
- the same list against the hand-written query for exactly the liaison's rows
  (a join on its unit id): what the generic mechanism costs over writing SQL;
- a county officer (本单位及下级, a prefix match on the tree) and the
  coordinator (全部) against the bare scan;
- the API's first page plus count, against the hand-written query's.

Extras: ``rows`` (what ours returned), ``v1_distinct_s`` (the old join +
DISTINCT for the same rows, timed in the same run) and, on PostgreSQL,
``uses_index`` (the scoped query's plan has an index scan); the EXPLAIN
(ANALYZE) text goes to stderr.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator

from benchmarks._common import best_of, case, grow_plan

COLUMNS = ("id", "number", "title")
# More repeats than the default: the machine is shared, and the best of nine is steadier.
REPEATS = 9


def _best(fn) -> float:
    return best_of(fn, REPEATS)


def _explain(queryset) -> tuple[str, bool]:
    from django.db import connection

    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0]
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        text = "\n".join(row[0] for row in cursor.fetchall())
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return text, "Index" in json.dumps(plan)


def cases() -> Iterator[dict]:
    from django.db import connection
    from django.db.models import Q

    from qcity.core.models import Role, User
    from qcity.core.scope import scoped, units_in_scope
    from qcity.plans.models import Measure, Responsibility

    wanted = int(os.environ.get("QCITY_BENCH_MEASURES", "100000"))
    # Grow to the wanted size, so a re-run on a kept PostgreSQL database does not double it.
    grow_plan(max(0, wanted - Measure.objects.count()))
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    liaison = User.objects.filter(role=Role.DEPARTMENT_LIAISON, unit__name="市农业农村局").first()
    county = User.objects.filter(role=Role.COUNTY_OFFICER).first()
    coordinator = User.objects.filter(role=Role.COORDINATOR).first()
    n = Measure.objects.count()

    def bare() -> list:
        return list(Measure.objects.values_list(*COLUMNS))

    bare_s = _best(bare)

    def responsible(user: User):
        # Since ADR 0020 every internal user reads the whole plan; the unit rule scope
        # still applies to measures is the write (and report) rule, so that is measured.
        units = units_in_scope(user)
        if units is None:
            return scoped(user, Measure.objects.all())
        # The write rule alone: what a unit may change is always within what it reads.
        return Measure.objects.filter(Measure.scope_write_q(units))

    def scoped_list(user: User):
        return responsible(user).values_list(*COLUMNS)

    def v1(user: User):
        units = units_in_scope(user)
        return (
            Measure.objects.filter(
                Q(plan__owner_unit__in=units) | Q(responsibilities__org_unit__in=units)
            )
            .distinct()
            .values_list(*COLUMNS)
        )

    for label, user in (
        ("liaison (本单位)", liaison),
        ("county officer (本单位及下级)", county),
        ("coordinator (全部)", coordinator),
    ):
        rows = len(list(scoped_list(user)))
        ours_s = _best(lambda user=user: list(scoped_list(user)))
        extra: dict[str, object] = {"rows": rows, "scope": label}
        if user is not coordinator:  # 全部 never filtered, in v1 either
            extra["v1_distinct_s"] = _best(lambda user=user: list(v1(user)))
        if connection.vendor == "postgresql":
            text, uses_index = _explain(scoped_list(user))
            extra["uses_index"] = uses_index
            print(f"\nEXPLAIN (ANALYZE) scoped list, {label}:\n{text}\n", file=sys.stderr)
        yield case(f"scope: {label} scoped measure list vs bare scan", n, ours_s, bare_s, **extra)

    # Against the hand-written query for exactly the liaison's rows.
    unit_id = liaison.unit_id

    def by_hand() -> list:
        mine = Responsibility.objects.filter(org_unit_id=unit_id).values("measure_id")
        return list(
            Measure.objects.filter(Q(plan__owner_unit_id=unit_id) | Q(pk__in=mine)).values_list(
                *COLUMNS
            )
        )

    assert sorted(by_hand()) == sorted(scoped_list(liaison))
    yield case(
        "scope: liaison scoped list vs hand-written query, same rows",
        n,
        _best(lambda: list(scoped_list(liaison))),
        _best(by_hand),
        rows=len(by_hand()),
    )

    # The API's first page and count (LimitOffsetPagination), ordered as the selectors
    # order, against the same page from the hand-written query.
    def page(queryset) -> None:
        queryset.count()
        list(queryset.order_by("plan_id", "seq").values_list(*COLUMNS)[:50])

    mine = Responsibility.objects.filter(org_unit_id=unit_id).values("measure_id")
    yield case(
        "scope: liaison API page (count + 50) vs hand-written page",
        n,
        _best(lambda: page(responsible(liaison))),
        _best(
            lambda: page(Measure.objects.filter(Q(plan__owner_unit_id=unit_id) | Q(pk__in=mine)))
        ),
    )
