"""The demo data of ``make run``: a synthetic register of Tieling, its inspectors, and (once
the services are in) a completed batch and open tasks for the demo inspector."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter

import pytest
import time_machine

from qcity.core.demo import DemoDataRefused, create_demo_users
from qcity.core.models import AuditEvent, Role, User
from qcity.core.orgdata import COUNTIES
from qcity.inspections import defaults
from qcity.inspections.demo import load_demo_inspections
from qcity.inspections.models import Batch, FollowUp, InspectionPlan, Task
from qcity.portal.models import PublishedDraw, PublishedInspection
from qcity.registry import demo
from qcity.registry.codes import is_valid_uscc
from qcity.registry.models import Conflict, Inspector, MarketEntity
from tests.inspections.draw_helpers import use_tmp_store

pytestmark = pytest.mark.django_db

USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def passes_gb32100(code: str) -> bool:
    """Both check digits of regulations §6, computed here independently of the demo module."""
    if len(code) != 18 or any(c not in USCC_CHARS for c in code):
        return False
    weights = [3**i % 31 for i in range(17)]
    final = (
        31 - sum(USCC_CHARS.index(c) * w for c, w in zip(code[:17], weights, strict=True)) % 31
    ) % 31
    inner = (
        11
        - sum(int(c, 36) * w for c, w in zip(code[8:16], [3, 7, 9, 10, 5, 8, 4, 2], strict=True))
        % 11
    )
    return USCC_CHARS[final] == code[17] and {10: "X", 11: "0"}.get(inner, str(inner)) == code[16]


def test_the_check_digit_of_this_test_is_the_published_one():
    assert passes_gb32100("914403001922038216") and passes_gb32100("91110108551385082Q")
    assert not passes_gb32100("914403001922038217")


@pytest.fixture
def demo_users(org_units):
    create_demo_users()
    return User.objects


def test_the_register_is_realistic_and_valid(demo_users):
    loaded = demo.load_demo_register()
    entities = list(MarketEntity.objects.all())
    assert loaded.entities == len(entities) >= 2500
    assert all(passes_gb32100(e.code) and is_valid_uscc(e.code) for e in entities)
    assert len({e.code for e in entities}) == len(entities)
    # Real county codes of Tieling, each entity owned by its county's bureau.
    counties = dict(COUNTIES)
    assert {e.region_code for e in entities} == set(counties)
    assert all(e.owner_unit.name == f"{counties[e.region_code]}市场监督管理局" for e in entities)
    assert all(e.name.startswith(counties[e.region_code]) for e in entities)
    # The category digit follows the kind: 1 企业, 2 个体工商户, 3 农民专业合作社.
    category = {"enterprise": "1", "individual": "2", "cooperative": "3"}
    assert all(e.code[1] == category[e.kind] for e in entities)
    # Names say the trade the industry code says.
    for e in entities:
        if "中药" in e.name:
            assert e.industry_code == "F5252", e.name
        elif "药房" in e.name:
            assert e.industry_code == "F5251", e.name
        if "汽修" in e.name or "汽车维修" in e.name:
            assert e.industry_code == "O8111", e.name
        if "专业合作社" in e.name:
            assert e.industry_code.startswith("A0") and e.kind == "cooperative"
    risk = Counter(e.risk_class for e in entities if e.risk_class)
    classified = sum(risk.values())
    for cls, share in {"A": 0.30, "B": 0.50, "C": 0.15, "D": 0.05}.items():
        assert abs(risk[cls] / classified - share) < 0.03, (cls, risk)
    statuses = Counter(e.status for e in entities)
    assert 0.85 < statuses["active"] / len(entities) < 0.96
    assert len({e.name for e in entities}) > 0.95 * len(entities)


def test_inspectors_have_logins_certificates_and_specialities(demo_users):
    loaded = demo.load_demo_register()
    inspectors = list(Inspector.objects.select_related("user", "org_unit"))
    assert loaded.inspectors == len(inspectors) > 80
    units = {i.org_unit.name for i in inspectors}
    assert {"市市场监管局", "开原市市场监督管理局", "开原市城区市场监督管理所"} <= units
    assert all(i.user is not None and i.user.role == Role.INSPECTOR for i in inspectors)
    assert all(i.user.unit_id == i.org_unit_id for i in inspectors)
    # The README's demo inspector is in the pool.
    mine = Inspector.objects.get(user__username="inspector")
    assert mine.org_unit.name == "开原市城区市场监督管理所"
    # Declared conflicts: an inspector and a firm of the county it works in.
    conflicts = list(Conflict.objects.select_related("inspector__org_unit", "entity__owner_unit"))
    assert 0 < len(conflicts) == loaded.conflicts
    for c in conflicts:
        unit = c.inspector.org_unit
        assert c.entity.owner_unit_id in (unit.pk, unit.parent_id)


def test_a_second_run_writes_nothing(demo_users):
    demo.load_demo_register()
    counts = (MarketEntity.objects.count(), Inspector.objects.count(), User.objects.count())
    events = AuditEvent.objects.count()
    again = demo.load_demo_register()
    assert again.already and again.entities == 0
    assert (MarketEntity.objects.count(), Inspector.objects.count(), User.objects.count()) == counts
    assert AuditEvent.objects.count() == events


def test_it_is_the_same_register_every_time(org_units):
    def register() -> list[tuple[str, str, str]]:
        rows = demo._entities(random.Random(f"{demo.SEED}:register"), 400)
        return [(e.code, e.name, e.risk_class) for e in rows]

    assert register() == register()


def test_it_is_refused_in_production(org_units, settings):
    settings.QCITY_DEMO_DATA = False
    with pytest.raises(DemoDataRefused):
        demo.load_demo_register()
    assert not MarketEntity.objects.exists()


# --- the batches ------------------------------------------------------------------------------


@pytest.fixture
def demo_world(demo_users, calendar, settings, tmp_path):
    use_tmp_store(settings, tmp_path)
    defaults.load()
    demo.load_demo_register()


TODAY = dt.date(2026, 11, 25)


@time_machine.travel(dt.datetime(2026, 11, 25, 2, tzinfo=dt.UTC), tick=False)
def test_the_demo_runs_a_batch_to_the_portal_and_leaves_work_for_the_inspector(demo_world, client):
    loaded = load_demo_inspections(TODAY)
    plan = InspectionPlan.objects.get()
    assert plan.owner_unit.name == "开原市市场监督管理局" and plan.year == 2026
    done, open_ = Batch.objects.order_by("number")
    # The completed batch: drawn, assigned, every result entered by an assigned inspector,
    # published (some late, with the reason) and the batch completed.
    assert done.status == Batch.Status.COMPLETED
    tasks = list(done.tasks.select_related("result__entered_by"))
    assert len(tasks) == loaded.tasks == 15
    for task in tasks:
        assert task.status == Task.Status.PUBLISHED
        assert task.assignments.filter(inspector__user=task.result.entered_by).exists()
    published = PublishedInspection.objects.all()
    assert published.count() == 15 == loaded.published
    late = published.filter(late=True)
    assert 0 < late.count() == loaded.late < 15
    assert all(p.late_reason for p in late)
    assert PublishedDraw.objects.filter(batch_title__contains="食品销售").exists()
    assert FollowUp.objects.filter(status=FollowUp.Status.CLOSED).count() == loaded.follow_ups > 0
    # The open batch: assigned, nothing checked; the demo inspector has tasks waiting.
    assert open_.status == Batch.Status.ASSIGNED
    assert open_.tasks.filter(status=Task.Status.PENDING).count() == loaded.open_tasks > 0
    mine = Task.objects.filter(batch=open_, assignments__inspector__user__username="inspector")
    assert mine.exists()
    # The portal (no login) shows the published results.
    page = client.get("/portal/")
    assert page.status_code == 200
    assert published.order_by("-published_at").first().entity_name in page.content.decode()
    # And logging in as the inspector shows the work.
    client.force_login(User.objects.get(username="inspector"))
    tasks_page = client.get("/inspections/tasks/")
    assert mine.first().entity.name in tasks_page.content.decode()


@time_machine.travel(dt.datetime(2026, 11, 25, 2, tzinfo=dt.UTC), tick=False)
def test_the_demo_batches_load_once_and_the_same_way(demo_world):
    load_demo_inspections(TODAY)
    codes = list(Task.objects.order_by("batch__number", "position").values_list("entity__code"))
    events = AuditEvent.objects.count()
    assert load_demo_inspections(TODAY).already
    assert AuditEvent.objects.count() == events
    assert (
        list(Task.objects.order_by("batch__number", "position").values_list("entity__code"))
        == codes
    )


def test_the_demo_batches_are_refused_in_production(demo_world, settings):
    settings.QCITY_DEMO_DATA = False
    with pytest.raises(DemoDataRefused):
        load_demo_inspections(TODAY)
    assert not InspectionPlan.objects.exists()
