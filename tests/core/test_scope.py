"""Scope v2: the doors from a user to rows (scoped, get_scoped_or_404, get_for_write)
and the system check that keeps every model behind them.

The per-page and per-endpoint matrix is tests/plans/test_data_scope.py; this file
holds what the mechanism itself promises.
"""

from __future__ import annotations

import os
import threading
import time

import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db import DatabaseError, connection, connections, models, transaction
from django.db.transaction import TransactionManagementError
from django.http import Http404

from qcity.core.dbguards import remove_audit_guards
from qcity.core.models import AuditEvent, DataScope, OrgUnit, UnitAlias
from qcity.core.scope import get_for_write, is_scoped_model, scoped
from qcity.plans.models import Chapter, Measure, Plan, Responsibility, Target
from tests.conftest import PERSONAS, measures_of


def only_on_postgresql(reason: str) -> pytest.MarkDecorator:
    return pytest.mark.skipif(connection.vendor != "postgresql", reason=reason)


on_postgresql = only_on_postgresql(
    "row locks: SQLite has none (its IMMEDIATE transactions serialise writers)"
)


# --- the system check -------------------------------------------------------------------------


@pytest.fixture
def model_in_plans():
    """Define a model in the real `plans` app, as a developer adding one would, and
    remove it again so no other test sees it."""
    made: list[type[models.Model]] = []

    def make(name: str, **attrs: object) -> type[models.Model]:
        meta = type("Meta", (), {"app_label": "plans"})
        model = type(
            name, (models.Model,), {"__module__": "qcity.plans.models", "Meta": meta, **attrs}
        )
        made.append(model)
        return model

    yield make
    for model in made:
        del apps.all_models["plans"][model._meta.model_name]
    apps.clear_cache()


def test_the_project_passes_the_scope_check():
    call_command("check")


def test_a_model_without_scope_q_fails_the_system_check(model_in_plans):
    model_in_plans("ForgottenRegister")
    with pytest.raises(SystemCheckError) as excinfo:
        call_command("check")
    assert "qcity.E001" in str(excinfo.value)
    assert "plans.ForgottenRegister 没有 scope_q" in str(excinfo.value)


def test_a_model_passes_with_scope_q_or_a_reasoned_exemption(model_in_plans):
    model_in_plans(
        "OwnedRegister",
        scope_q=classmethod(lambda cls, units: models.Q(pk__in=[])),
    )
    model_in_plans("LookupTable", scope_exempt="参考数据，不按单位区分")
    call_command("check")


@pytest.mark.parametrize(
    ("attrs", "code"),
    [
        ({"scope_exempt": ""}, "qcity.E004"),
        ({"scope_exempt": "原因", "scope_q": classmethod(lambda cls, u: models.Q())}, "qcity.E002"),
        ({"scope_q": "owner_unit"}, "qcity.E003"),
    ],
)
def test_a_malformed_scope_declaration_fails_the_check(model_in_plans, attrs, code):
    model_in_plans("BadlyDeclared", **attrs)
    with pytest.raises(SystemCheckError, match=code):
        call_command("check")


# --- scoped ------------------------------------------------------------------------------------


@pytest.fixture
def world(plan, personas):
    return plan, personas


@pytest.mark.django_db
def test_a_model_without_scope_q_is_invisible_even_to_the_all_scope(world):
    _, users = world
    assert AuditEvent.objects.exists() and UnitAlias.objects.exists()
    coordinator = users["coordinator"]
    assert list(scoped(coordinator, AuditEvent.objects.all())) == []
    assert list(scoped(coordinator, UnitAlias.objects.all())) == []
    assert scoped(coordinator, Measure.objects.all()).count() == Measure.objects.count()


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
def test_scope_never_repeats_a_row_and_needs_no_distinct(world, persona):
    _, users = world
    scoped_models = [m for m in apps.get_models() if is_scoped_model(m)]
    assert {Plan, Chapter, Measure, Responsibility, Target, OrgUnit} <= set(scoped_models)
    for model in scoped_models:
        queryset = scoped(users[persona], model._default_manager.all())
        pks = list(queryset.values_list("pk", flat=True))
        assert len(pks) == len(set(pks)), model
        assert not queryset.query.distinct, model


@pytest.mark.django_db
def test_the_plan_text_is_read_by_every_internal_role_and_by_no_administrator(world):
    # ADR 0020: the plan is a public document; scope limits changes, not reading.
    _, users = world
    for persona in ("nongye", "xifeng", "inspector", "lab"):
        for model in (Plan, Chapter, Measure, Responsibility, Target):
            everything = model.objects.count()
            assert scoped(users[persona], model.objects.all()).count() == everything, (
                persona,
                model,
            )
    for persona in ("sysadmin", "auditadmin", "enterprise", "outsider"):
        for model in (Plan, Chapter, Measure, Responsibility, Target):
            assert not scoped(users[persona], model.objects.all()).exists(), (persona, model)


# --- get_for_write -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_get_for_write_refuses_to_run_outside_a_transaction(world):
    plan, users = world
    measure = Measure.objects.get(plan=plan, number=8)
    with pytest.raises(TransactionManagementError, match=r"transaction\.atomic"):
        get_for_write(users["nongye"], Measure.objects.all(), pk=measure.pk)


def _row(plan: Plan, what: str) -> models.Model:
    if what == "plan":
        return plan
    if what == "goal":
        return Target.objects.filter(plan=plan, measure__isnull=True).first()
    if what.startswith("measure"):
        return Measure.objects.get(plan=plan, number=int(what.removeprefix("measure")))
    return OrgUnit.objects.get(name=what)


MAY_SEE_AND_CHANGE = [
    # (persona, row, may change); every row here is visible to the persona.
    ("coordinator", "plan", True),
    ("coordinator", "measure8", True),
    ("coordinator", "goal", True),
    ("nongye", "measure8", True),
    # Responsible for some measures: sees the plan and its goals, does not own them.
    ("nongye", "plan", False),
    ("nongye", "goal", False),
    ("lab", "measure" + str(min(measures_of("铁岭检验检测中心"))), True),
    # A unit and those below it are the county's own (e.g. the coordinator confirms units);
    # which steps a role may take on them is the workflow's separate question.
    ("kaiyuan", "开原市城区市场监督管理所", True),
    ("coordinator", "市农业农村局", True),
    ("nongye", "市农业农村局", True),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("persona", "what", "expected"), MAY_SEE_AND_CHANGE)
def test_get_for_write_says_whether_a_visible_row_may_be_changed(world, persona, what, expected):
    plan, users = world
    row = _row(plan, what)
    with transaction.atomic():
        obj, may_change = get_for_write(users[persona], type(row).objects.all(), pk=row.pk)
    assert obj == row
    assert may_change is expected


@pytest.mark.django_db
def test_an_administrator_given_a_business_scope_still_changes_nothing(world):
    plan, users = world
    sysadmin = users["sysadmin"]
    sysadmin.data_scope = DataScope.ALL
    sysadmin.save()
    measure = Measure.objects.get(plan=plan, number=8)
    with transaction.atomic():
        obj, may_change = get_for_write(sysadmin, Measure.objects.all(), pk=measure.pk)
    assert obj == measure and may_change is False


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["xifeng", "gongxin", "inspector", "enterprise", "auditadmin"])
def test_a_change_to_a_row_outside_the_scope_is_refused_and_changes_nothing(world, persona):
    plan, users = world
    measure = Measure.objects.get(plan=plan, number=8)  # 市农业农村局's, not theirs
    readers = ("xifeng", "gongxin", "inspector")  # they read the plan, and may not change it
    if persona in readers:
        with transaction.atomic():
            row, may_change = get_for_write(users[persona], Measure.objects.all(), pk=measure.pk)
        assert row == measure and may_change is False
    else:
        with pytest.raises(Http404), transaction.atomic():
            row, _ = get_for_write(users[persona], Measure.objects.all(), pk=measure.pk)
            row.title = "被越权修改"
            row.save()
    assert Measure.objects.get(pk=measure.pk).title == measure.title
    with pytest.raises(Http404), transaction.atomic():
        get_for_write(users[persona], Measure.objects.all(), pk="not-a-number")


# --- the lock, on PostgreSQL -------------------------------------------------------------------


@pytest.fixture
def committed_units(transactional_db):
    """The org tree, committed, for tests with two connections.

    Teardown: the flush that empties a transactional test database deletes audit
    events, which the append-only triggers refuse, so they come off first.
    pytest-django runs transactional tests last; test_audit reinstalls the triggers
    it tests.
    """
    call_command("load_org_units", stdout=open(os.devnull, "w"))
    yield OrgUnit.objects
    remove_audit_guards(connection)


def _in_thread(target) -> threading.Thread:
    def run() -> None:
        try:
            target()
        finally:
            connections.close_all()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def _wait_until_a_session_waits_for_a_lock(timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return True
        time.sleep(0.05)
    return False


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_get_for_write_locks_the_scoped_row_on_postgresql(committed_units):
    from tests.conftest import make_user

    nongye = make_user("nongye", "department_liaison", "市农业农村局")
    plan = Plan.objects.create(
        title="锁测试方案",
        issuer="铁岭市人民政府",
        owner_unit=OrgUnit.objects.get(name="市市场监管局"),
    )
    chapter = Chapter.objects.create(plan=plan, number=1, heading="一")
    measure = Measure.objects.create(
        plan=plan, chapter=chapter, seq=1, number=1, title="举措", text="内容"
    )
    for order, name in enumerate(["市农业农村局", "市商务局"], start=1):
        Responsibility.objects.create(
            measure=measure, org_unit=OrgUnit.objects.get(name=name), written_name=name, order=order
        )
    locked, release, seen = threading.Event(), threading.Event(), {}

    def writer() -> None:
        with transaction.atomic():
            # select_related joins, and a unit that owns the row through two relations:
            # the old DISTINCT made PostgreSQL refuse FOR UPDATE here.
            row, may_change = get_for_write(
                nongye, Measure.objects.select_related("plan", "chapter"), pk=measure.pk
            )
            seen["row"], seen["may_change"] = row, may_change
            locked.set()
            release.wait(10)

    thread = _in_thread(writer)
    try:
        assert locked.wait(10), "get_for_write did not return"
        assert seen["row"].pk == measure.pk and seen["may_change"] is True
        with pytest.raises(DatabaseError, match="could not obtain lock"), transaction.atomic():
            Measure.objects.select_for_update(nowait=True).get(pk=measure.pk)
        # Only the measure's own row is locked, not the plan it was joined with.
        with transaction.atomic():
            Plan.objects.select_for_update(nowait=True).get(pk=plan.pk)
    finally:
        release.set()
        thread.join(10)
    with transaction.atomic():
        Measure.objects.select_for_update(nowait=True).get(pk=measure.pk)


# --- the org tree under concurrent moves -------------------------------------------------------


def _assert_the_tree_is_a_tree() -> None:
    units = {u.pk: u for u in OrgUnit.objects.all()}
    for unit in units.values():
        chain, node = [], unit
        while node is not None:
            assert node.pk not in chain, f"cycle through {node.name}"
            chain.append(node.pk)
            node = units.get(node.parent_id)
        assert unit.path == "".join(f"{pk:06d}/" for pk in reversed(chain)), unit.name


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_moves_cannot_close_a_cycle(committed_units):
    from qcity.core.models import OrgTreeCycleError

    kaiyuan, xifeng = OrgUnit.objects.get(name="开原市"), OrgUnit.objects.get(name="西丰县")
    kaiyuan_station = OrgUnit.objects.get(name="开原市城区市场监督管理所")
    xifeng_station = OrgUnit.objects.get(name="西丰县城区市场监督管理所")
    city = kaiyuan.parent
    first_saved, release, outcome = threading.Event(), threading.Event(), {}

    def move(key: str, unit: OrgUnit, parent: OrgUnit, hold: bool) -> None:
        try:
            with transaction.atomic():
                unit.parent = parent
                unit.save()
                if hold:
                    first_saved.set()
                    release.wait(10)
            outcome[key] = "moved"
        except OrgTreeCycleError as error:
            outcome[key] = error.messages[0]

    # Each move alone is fine; both together would put 开原市 and 西丰县 under each other.
    first = _in_thread(lambda: move("first", kaiyuan, xifeng_station, hold=True))
    assert first_saved.wait(10)
    second = _in_thread(lambda: move("second", xifeng, kaiyuan_station, hold=False))
    try:
        assert _wait_until_a_session_waits_for_a_lock(), "the second move did not wait"
    finally:
        release.set()
        first.join(10)
        second.join(10)
    assert outcome["first"] == "moved"
    assert outcome["second"].startswith("不能把“西丰县”移到“开原市城区市场监督管理所”之下")
    assert OrgUnit.objects.get(pk=xifeng.pk).parent_id == city.pk
    _assert_the_tree_is_a_tree()


# --- indexes -----------------------------------------------------------------------------------


def _plan_of(queryset, bitmap_only: bool = False) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        # Tiny test tables are cheapest to scan; ask whether an index *can* serve the query.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"SET LOCAL enable_indexscan = {'off' if bitmap_only else 'on'}")
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


@only_on_postgresql("EXPLAIN output and operator classes are PostgreSQL's")
@pytest.mark.django_db
def test_what_scope_filters_by_is_indexed_on_postgresql(world):
    from qcity.core.scope import units_in_scope

    _, users = world
    # 本单位及下级: a prefix match on the path (varchar_pattern_ops, as the collation is not C).
    # Both path indexes cost the same on a tiny table and the planner's pick varies (the
    # plain one serves the ordering); without plain index scans only a bitmap scan of an
    # index that can take the prefix as a range is left.
    prefix = _plan_of(units_in_scope(users["kaiyuan"]).order_by().values("pk"), bitmap_only=True)
    assert "core_orgunit_path_" in prefix and "_like" in prefix
    assert "~>=~" in prefix  # the prefix became an index range, not a filter
    # A unit's measures, and whether a measure is one of theirs: an index led by each
    # column. On tables this small either two-column index can serve either lookup and the
    # planner's pick between them varies, so the catalogue answers which indexes exist and
    # the plans only that an index (not a scan of the table) serves each lookup.
    leading = _leading_index_columns("plans_responsibility")
    assert ("org_unit_id", "measure_id") in leading
    assert ("measure_id", "org_unit_id") in leading
    mine = Responsibility.objects.filter(org_unit=users["nongye"].unit).order_by()
    one = Responsibility.objects.filter(measure_id=1, org_unit=users["nongye"].unit).order_by()
    for plan in (_plan_of(mine.values("measure_id")), _plan_of(one.values("measure_id"))):
        assert "Index" in plan and "Seq Scan" not in plan, plan


def _leading_index_columns(table: str) -> set[tuple[str, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT array_agg(a.attname ORDER BY k.ord) FROM pg_index i "
            "JOIN pg_class t ON t.oid = i.indrelid "
            "CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) "
            "JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum "
            "WHERE t.relname = %s GROUP BY i.indexrelid",
            [table],
        )
        return {tuple(row[0]) for row in cursor.fetchall()}


@only_on_postgresql("JIT is a PostgreSQL setting")
@pytest.mark.django_db
def test_postgresql_runs_without_jit():
    # With JIT, PostgreSQL compiled every scoped list over ~10 000 rows (ADR 0003).
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
