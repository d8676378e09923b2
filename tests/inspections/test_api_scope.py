"""The data-scope matrix of every inspections API endpoint, for every persona.

Two counties each run a batch: 开原市 (kaiyuan) with the demo inspector on one of its tasks and
市农业农村局 (nongye) taking part as a joint department, and 西丰县 (xifeng). The rows are
written as the workflow leaves them after draw, assignment and a result with a follow-up,
so the reads are tested on their own; tests/inspections/test_api.py takes the steps.

Expected visibility comes from the rules, not from what the code returns: the coordinator
sees both counties, a county bureau its own only (xifeng nothing of kaiyuan's), the joint
department the batch it takes part in (not the county's follow-ups), the inspector only the
task assigned to them, the administrators (三员分立) and the enterprise no business rows, and
an anonymous caller gets 401.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import Client
from django.utils import timezone

from qcity.core.models import OrgUnit
from qcity.core.services import issue_api_token
from qcity.inspections.models import (
    Batch,
    BatchParticipant,
    CheckItem,
    Draw,
    FollowUp,
    InspectionPlan,
    Result,
    ResultCode,
    Task,
    TaskInspector,
)
from qcity.registry.codes import make_uscc
from qcity.registry.models import Inspector, MarketEntity

pytestmark = pytest.mark.django_db

PERSONAS = [
    "coordinator",
    "kaiyuan",
    "xifeng",
    "inspector",
    "nongye",
    "gongxin",
    "sysadmin",
    "enterprise",
    "anonymous",
]


def api_client(personas, name: str) -> Client:
    if name == "anonymous":
        return Client()
    token = issue_api_token(personas[name], name="对接", by=personas["secadmin"])
    return Client(headers={"Authorization": f"Bearer {token}"})


def build_county(personas, county: str, region: str, officer: str, *, serial: int = 1) -> dict:
    """A plan, a batch drawn and assigned, two tasks (one with a result and a follow-up)."""
    bureau = OrgUnit.objects.get(name=f"{county}市场监督管理局")
    station = OrgUnit.objects.get(name=f"{county}城区市场监督管理所")
    item, _ = CheckItem.objects.get_or_create(
        code="SC-01",
        defaults={
            "name": "食品销售者监督检查",
            "legal_basis": "《中华人民共和国食品安全法》",
            "department": "市场监管部门",
            "object_type": "食品销售者",
            "kind": CheckItem.Kind.KEY,
        },
    )
    problem, _ = ResultCode.objects.get_or_create(
        code="06",
        defaults={"name": "发现问题待后续处理", "problem_found": True, "opens_follow_up": True},
    )
    entities = [
        MarketEntity.objects.create(
            code=make_uscc(region, serial + n, MarketEntity.Kind.ENTERPRISE),
            name=f"{county}测试食品有限公司{n}",
            kind=MarketEntity.Kind.ENTERPRISE,
            region_code=region,
            owner_unit=bureau,
            industry_code="F5212",
            risk_class="B",
        )
        for n in range(2)
    ]
    officer_user = personas[officer]
    plan = InspectionPlan.objects.create(
        owner_unit=bureau, year=2026, title=f"{county}2026年度抽查计划", created_by=officer_user
    )
    batch = Batch.objects.create(
        plan=plan,
        number=1,
        title="食品销售第一批",
        quotas={"B": {"count": 2}},
        window_start=dt.date(2026, 3, 1),
        window_end=dt.date(2026, 5, 31),
        status=Batch.Status.ASSIGNED,
    )
    batch.check_items.add(item)
    draw = Draw.objects.create(
        batch=batch,
        attempt=1,
        seed="0" * 64,
        algorithm="keyed-hash-rank",
        algorithm_version="1",
        population_digest="f" * 64,
        population_size=2,
        strata={"B": {"population": 2, "selected": 2}},
        selected_codes=[e.code for e in entities],
        drawn_by=officer_user,
        drawn_at=timezone.now(),
    )
    inspectors = [
        Inspector.objects.create(
            name=f"{county}执法员{n}", certificate_no=f"{region}{n}", org_unit=u
        )
        for n, u in enumerate([bureau, station])
    ]
    tasks = []
    for position, entity in enumerate(entities, start=1):
        task = Task.objects.create(
            batch=batch, draw=draw, entity=entity, position=position, owner_unit=bureau
        )
        for n, inspector in enumerate(inspectors, start=1):
            TaskInspector.objects.create(
                task=task, inspector=inspector, unit=inspector.org_unit, position=n
            )
        tasks.append(task)
    result = Result.objects.create(
        task=tasks[0],
        check_date=dt.date(2026, 4, 1),
        findings="过期食品未下架",
        entered_by=officer_user,
        entered_at=timezone.now(),
    )
    result.codes.add(problem)
    Task.objects.filter(pk=tasks[0].pk).update(status=Task.Status.CHECKED)
    follow_up = FollowUp.objects.create(
        task=tasks[0], owner_unit=bureau, opened_at=timezone.now(), due_date=dt.date(2026, 5, 1)
    )
    return {
        "plan": plan,
        "batch": batch,
        "draw": draw,
        "tasks": tasks,
        "follow_up": follow_up,
        "inspectors": inspectors,
        "item": item,
    }


@pytest.fixture
def counties(personas):
    kaiyuan = build_county(personas, "开原市", "211282", "kaiyuan", serial=1)
    xifeng = build_county(personas, "西丰县", "211223", "xifeng", serial=101)
    # The demo inspector (开原市城区市场监督管理所) is on kaiyuan's second task only.
    mine = Inspector.objects.create(
        user=personas["inspector"],
        name="吴执法",
        certificate_no="21128220190001",
        org_unit=personas["inspector"].unit,
    )
    TaskInspector.objects.create(
        task=kaiyuan["tasks"][1], inspector=mine, unit=mine.org_unit, position=3
    )
    # A joint check: 市农业农村局 takes part in kaiyuan's batch.
    BatchParticipant.objects.create(batch=kaiyuan["batch"], unit=personas["nongye"].unit)
    return {"kaiyuan": kaiyuan, "xifeng": xifeng}


def ids(rows, key: str = "id") -> set:
    return {row[key] for row in rows}


def visible(counties, persona: str) -> dict[str, set]:
    """What each persona may read, by kind of row: from the rules, not from the code."""
    k, x = counties["kaiyuan"], counties["xifeng"]

    def of(*worlds, what):
        found = set()
        for w in worlds:
            value = w[what]
            found |= {v.pk for v in value} if isinstance(value, list) else {value.pk}
        return found

    if persona == "coordinator":
        worlds = (k, x)
        return {w: of(*worlds, what=w) for w in ("plan", "batch", "draw", "tasks", "follow_up")}
    if persona in ("kaiyuan", "xifeng"):
        own = k if persona == "kaiyuan" else x
        return {w: of(own, what=w) for w in ("plan", "batch", "draw", "tasks", "follow_up")}
    if persona == "nongye":
        seen = {w: of(k, what=w) for w in ("plan", "batch", "draw", "tasks")}
        return {**seen, "follow_up": set()}
    if persona == "inspector":
        none = {w: set() for w in ("plan", "batch", "draw", "follow_up")}
        return {**none, "tasks": {k["tasks"][1].pk}}
    return {w: set() for w in ("plan", "batch", "draw", "tasks", "follow_up")}


@pytest.mark.parametrize("persona", PERSONAS)
def test_every_list_shows_exactly_what_the_persona_may_see(persona, personas, counties):
    client = api_client(personas, persona)
    lists = {
        "plan": "/api/v1/inspections/plans",
        "batch": "/api/v1/inspections/batches",
        "tasks": "/api/v1/inspections/tasks",
        "follow_up": "/api/v1/inspections/follow-ups",
    }
    for what, url in lists.items():
        response = client.get(url)
        if persona == "anonymous":
            assert response.status_code == 401, url
            assert response.json()["code"] == "unauthenticated"
            continue
        assert response.status_code == 200, (url, response.content)
        assert ids(response.json()["items"]) == visible(counties, persona)[what], (persona, url)


@pytest.mark.parametrize("persona", PERSONAS)
def test_every_detail_is_found_only_within_the_scope(persona, personas, counties):
    client = api_client(personas, persona)
    expected = visible(counties, persona)
    for world in counties.values():
        urls = {
            "plan": [f"/api/v1/inspections/plans/{world['plan'].pk}"],
            "batch": [
                f"/api/v1/inspections/batches/{world['batch'].pk}",
                f"/api/v1/inspections/batches/{world['batch'].pk}/draws",
                f"/api/v1/inspections/batches/{world['batch'].pk}/transitions",
            ],
            "tasks": [f"/api/v1/inspections/tasks/{t.pk}" for t in world["tasks"]]
            + [f"/api/v1/inspections/tasks/{t.pk}/transitions" for t in world["tasks"]],
            "follow_up": [f"/api/v1/inspections/follow-ups/{world['follow_up'].pk}"],
        }
        pks = {
            "plan": [world["plan"].pk],
            "batch": [world["batch"].pk] * 3,
            "tasks": [t.pk for t in world["tasks"]] * 2,
            "follow_up": [world["follow_up"].pk],
        }
        for what, paths in urls.items():
            for url, pk in zip(paths, pks[what], strict=True):
                response = client.get(url)
                if persona == "anonymous":
                    assert response.status_code == 401, url
                elif pk in expected[what]:
                    assert response.status_code == 200, (persona, url, response.content)
                else:
                    # Absent and out of scope look the same.
                    assert response.status_code == 404, (persona, url, response.content)
                    assert response.json()["code"] == "not_found"


def test_xifeng_sees_nothing_of_kaiyuan_by_any_filter(personas, counties):
    client = api_client(personas, "xifeng")
    k = counties["kaiyuan"]
    assert client.get("/api/v1/inspections/tasks", {"batch_id": k["batch"].pk}).json()["count"] == 0
    assert client.get("/api/v1/inspections/batches", {"plan_id": k["plan"].pk}).json()["count"] == 0
    plans = client.get("/api/v1/inspections/plans", {"owner_unit_id": k["plan"].owner_unit_id})
    assert plans.json()["count"] == 0
    assert client.get(f"/api/v1/inspections/draws/{k['draw'].pk}/record").status_code == 404
    # Nothing of kaiyuan's appears anywhere in xifeng's answers.
    body = json.dumps(
        [
            client.get(url).json()
            for url in (
                "/api/v1/inspections/plans",
                "/api/v1/inspections/batches",
                "/api/v1/inspections/tasks",
                "/api/v1/inspections/follow-ups",
            )
        ],
        ensure_ascii=False,
    )
    assert "开原" not in body and "西丰" in body


def test_the_inspector_lists_their_own_tasks_with_mine(personas, counties):
    client = api_client(personas, "inspector")
    mine = client.get("/api/v1/inspections/tasks", {"mine": "true"}).json()
    assert ids(mine["items"]) == {counties["kaiyuan"]["tasks"][1].pk}
    detail = client.get(f"/api/v1/inspections/tasks/{counties['kaiyuan']['tasks'][1].pk}").json()
    assert detail["entity"]["name"] == "开原市测试食品有限公司1"
    assert [m["name"] for m in detail["team"]] == ["开原市执法员0", "开原市执法员1", "吴执法"]
    assert detail["check_items"][0]["legal_basis"] == "《中华人民共和国食品安全法》"
    assert detail["result"] is None
    # The county officer's "mine" is empty: it is assigned to no task.
    officer = api_client(personas, "kaiyuan")
    assert officer.get("/api/v1/inspections/tasks", {"mine": "true"}).json()["count"] == 0
    assert officer.get("/api/v1/inspections/tasks", {"mine": "false"}).json()["count"] == 2


def test_filters_by_status_and_batch(personas, counties):
    client = api_client(personas, "coordinator")
    checked = client.get("/api/v1/inspections/tasks", {"status": "checked"}).json()
    assert ids(checked["items"]) == {w["tasks"][0].pk for w in counties.values()}
    batch = counties["xifeng"]["batch"]
    by_batch = client.get("/api/v1/inspections/tasks", {"batch_id": batch.pk}).json()
    assert ids(by_batch["items"]) == {t.pk for t in counties["xifeng"]["tasks"]}
    assert client.get("/api/v1/inspections/batches", {"status": "draft"}).json()["count"] == 0
    open_ = client.get("/api/v1/inspections/follow-ups", {"status": "open"}).json()
    assert open_["count"] == 2
    bad = client.get("/api/v1/inspections/tasks", {"status": "done"})
    assert (bad.status_code, bad.json()["code"]) == (422, "invalid_request")
    huge = client.get("/api/v1/inspections/tasks", {"batch_id": 10**40})
    assert (huge.status_code, huge.json()["code"]) == (422, "invalid_request")


def test_batch_detail_counts_the_tasks_the_caller_sees(personas, counties):
    batch = counties["kaiyuan"]["batch"]
    coordinator = api_client(personas, "coordinator").get(f"/api/v1/inspections/batches/{batch.pk}")
    body = coordinator.json()
    assert body["task_counts"] == {"pending": 1, "checked": 1, "published": 0}
    assert body["current_draw"]["selected"] == 2
    assert [p["unit"] for p in body["participants"]] == ["市农业农村局"]
    assert body["check_items"] == [
        {"id": counties["kaiyuan"]["item"].pk, "code": "SC-01", "name": "食品销售者监督检查"}
    ]
    # The joint department reads the batch but may take none of its steps.
    nongye = api_client(personas, "nongye").get(f"/api/v1/inspections/batches/{batch.pk}").json()
    assert nongye["available_steps"] == []


@pytest.mark.parametrize("persona", PERSONAS)
def test_reference_lists_are_read_by_internal_users_only(persona, personas, counties):
    client = api_client(personas, persona)
    items = client.get("/api/v1/inspections/check-items")
    codes = client.get("/api/v1/inspections/result-codes")
    if persona == "anonymous":
        assert (items.status_code, codes.status_code) == (401, 401)
    elif persona == "enterprise":
        assert items.json()["count"] == 0 and codes.json() == []
    else:
        assert [i["code"] for i in items.json()["items"]] == ["SC-01"]
        assert [c["name"] for c in codes.json()] == ["发现问题待后续处理"]
