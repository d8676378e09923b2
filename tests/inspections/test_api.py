"""双随机、一公开 through the JSON API with bearer tokens: plan → batch → draw → redraw →
assignment → result (谁检查谁录入) → publication → follow-up, and each refusal's stable code.

Every write goes through the same services as the pages (so it is audited and a refused one
changes nothing); tests/inspections/test_api_scope.py holds the scope matrix of the reads.
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client

from qcity.core.models import AuditEvent, OrgUnit
from qcity.core.services import issue_api_token
from qcity.inspections import defaults
from qcity.inspections.models import Batch, CheckItem, Draw, InspectionPlan, Task
from qcity.registry.codes import make_uscc
from qcity.registry.models import Inspector, MarketEntity, Speciality
from tests.inspections.draw_helpers import use_tmp_store

pytestmark = pytest.mark.django_db

KAIYUAN = "211282"
WINDOW = {"window_start": "2026-09-01", "window_end": "2026-11-20"}


@pytest.fixture
def api(personas):
    def client_for(name: str) -> Client:
        if name == "anonymous":
            return Client()
        token = issue_api_token(personas[name], name="对接", by=personas["secadmin"])
        return Client(headers={"Authorization": f"Bearer {token}"})

    return client_for


def post(client: Client, url: str, body: dict | None = None):
    return client.post(f"/api/v1/inspections/{url}", body or {}, content_type="application/json")


def refusal(response) -> tuple[int, str]:
    body = response.json()
    assert body["message"], body  # a person reads the message
    return response.status_code, body["code"]


@pytest.fixture
def kaiyuan_world(personas, settings, tmp_path):
    """The check-item list, 30 retailers of 开原 in four classes, five inspectors with the
    food speciality (bureau, station and the demo inspector), files in a temporary store."""
    use_tmp_store(settings, tmp_path)
    defaults.load()
    bureau = OrgUnit.objects.get(name="开原市市场监督管理局")
    classes = ["A"] * 10 + ["B"] * 12 + ["C"] * 5 + ["D"] * 3
    MarketEntity.objects.bulk_create(
        MarketEntity(
            code=make_uscc(KAIYUAN, n),
            name=f"开原市第{n}超市",
            kind=MarketEntity.Kind.ENTERPRISE,
            region_code=KAIYUAN,
            owner_unit=bureau,
            industry_code="F5212",
            risk_class=risk,
        )
        for n, risk in enumerate(classes, start=1)
    )
    food = Speciality.objects.get(code="food")
    station = personas["inspector"].unit
    for n, unit in enumerate([bureau, bureau, station, station]):
        Inspector.objects.create(
            name=f"执法员{n}", certificate_no=f"KY{n}", org_unit=unit
        ).specialities.add(food)
    mine = Inspector.objects.create(
        user=personas["inspector"], name="吴执法", certificate_no="KY-MINE", org_unit=station
    )
    mine.specialities.add(food)
    return {"item": CheckItem.objects.get(code="SJ-005"), "bureau": bureau}


def batch_body(plan_id: int, item: CheckItem, **changes) -> dict:
    body = {
        "plan_id": plan_id,
        "title": "食品销售第一批",
        "check_item_ids": [item.pk],
        "population_filter": {"region_codes": [KAIYUAN], "industry_prefixes": ["F52"]},
        "quotas": {"B": {"count": 4}, "D": {"ratio": "100"}},
        **WINDOW,
    }
    body.update(changes)
    return body


def make_plan(client: Client) -> dict:
    created = post(client, "plans", {"year": 2026, "title": "开原市2026年度抽查计划"})
    assert created.status_code == 201, created.content
    return created.json()


def test_a_county_runs_a_batch_from_plan_to_assignment(api, kaiyuan_world):
    kaiyuan = api("kaiyuan")
    plan = make_plan(kaiyuan)
    assert (plan["owner_unit"], plan["year"], plan["batches"]) == ("开原市市场监督管理局", 2026, 0)

    created = post(kaiyuan, "batches", batch_body(plan["id"], kaiyuan_world["item"]))
    assert created.status_code == 201, created.content
    batch = created.json()
    assert (batch["status"], batch["number"]) == ("draft", 1)
    assert batch["quotas"] == {"B": {"count": 4}, "D": {"ratio": "100"}}
    assert [s["name"] for s in batch["available_steps"]] == ["draw"]

    drawn = post(kaiyuan, f"batches/{batch['id']}/draw")
    assert drawn.status_code == 200, drawn.content
    first = drawn.json()["current_draw"]
    assert drawn.json()["status"] == "drawn"
    assert (first["attempt"], first["selected"], first["population_size"]) == (1, 7, 15)
    assert first["strata"]["D"] == {"population": 3, "selected": 3}

    # A second draw is a redraw, and a redraw needs its reason.
    assert refusal(post(kaiyuan, f"batches/{batch['id']}/draw")) == (409, "step_not_allowed")
    assert refusal(post(kaiyuan, f"batches/{batch['id']}/redraw")) == (422, "reason_required")
    redrawn = post(kaiyuan, f"batches/{batch['id']}/redraw", {"reason": "抽取范围漏选了乡镇"})
    assert redrawn.status_code == 200, redrawn.content
    attempts = kaiyuan.get(f"/api/v1/inspections/batches/{batch['id']}/draws").json()
    assert [(d["attempt"], d["is_current"], d["reason"]) for d in attempts] == [
        (1, False, ""),
        (2, True, "抽取范围漏选了乡镇"),
    ]
    # record.json is what export_draw writes: anyone can re-run the selection from it.
    record = kaiyuan.get(f"/api/v1/inspections/draws/{attempts[1]['id']}/record").json()
    current = Draw.objects.get(pk=attempts[1]["id"])
    assert record["seed"] == current.seed
    assert record["selected"] == current.selected_codes and record["reason"] == "抽取范围漏选了乡镇"
    assert record["population_digest"] == current.population_digest

    assigned = post(kaiyuan, f"batches/{batch['id']}/assign")
    assert assigned.status_code == 200, assigned.content
    assert assigned.json()["status"] == "assigned"
    assert assigned.json()["task_counts"] == {"pending": 7, "checked": 0, "published": 0}
    tasks = kaiyuan.get("/api/v1/inspections/tasks", {"batch_id": batch["id"]}).json()
    assert tasks["count"] == 7
    detail = kaiyuan.get(f"/api/v1/inspections/tasks/{tasks['items'][0]['id']}").json()
    assert len(detail["team"]) >= 2
    history = kaiyuan.get(f"/api/v1/inspections/batches/{batch['id']}/transitions").json()
    assert [t["step"] for t in history] == ["draw", "redraw", "assign"]
    assert history[1]["reason"] == "抽取范围漏选了乡镇"
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {
        "inspections.plan.created",
        "inspections.batch.created",
        "inspections.batch.draw",
        "inspections.batch.redraw",
        "inspections.batch.assign",
    } <= actions


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"quotas": {"B": {"count": 4, "ratio": "5"}}}, "invalid_batch"),
        ({"quotas": {"B": {}}}, "invalid_batch"),
        ({"check_item_ids": [10**6]}, "invalid_batch"),
        ({"window_start": "2026-12-01", "window_end": "2026-11-01"}, "invalid_batch"),
        ({"window_start": "2027-01-05", "window_end": "2027-02-01"}, "invalid_batch"),
        ({"population_filter": {"region_codes": ["211223"]}}, "invalid_batch"),
        ({"participants": [{"unit_id": 10**6}]}, "invalid_batch"),
        ({"quotas": {"E": {"count": 1}}}, "invalid_request"),
        ({"quotas": {"B": {"ratio": "abc"}}}, "invalid_request"),
        ({"min_inspectors": 1}, "invalid_request"),
        ({"title": ""}, "invalid_request"),
        ({"window_start": "2026-13-01"}, "invalid_request"),
    ],
)
def test_a_bad_batch_is_refused_with_its_code_and_nothing_is_stored(
    api, kaiyuan_world, change, code
):
    kaiyuan = api("kaiyuan")
    plan = make_plan(kaiyuan)
    events = AuditEvent.objects.count()
    response = post(kaiyuan, "batches", batch_body(plan["id"], kaiyuan_world["item"], **change))
    assert refusal(response) == (422, code)
    assert not Batch.objects.exists()
    assert AuditEvent.objects.count() == events


def test_a_batch_with_no_eligible_entity_cannot_be_drawn(api, kaiyuan_world):
    kaiyuan = api("kaiyuan")
    plan = make_plan(kaiyuan)
    body = batch_body(plan["id"], kaiyuan_world["item"])
    body["population_filter"]["industry_prefixes"] = ["H62"]  # no restaurant in the register
    batch = post(kaiyuan, "batches", body).json()
    status, code = refusal(post(kaiyuan, f"batches/{batch['id']}/draw"))
    assert (status, code) == (422, "no_eligible_entities")
    assert Batch.objects.get().status == "draft" and not Draw.objects.exists()


def test_other_units_cannot_run_kaiyuans_batch(api, kaiyuan_world):
    kaiyuan = api("kaiyuan")
    plan = make_plan(kaiyuan)
    batch = post(kaiyuan, "batches", batch_body(plan["id"], kaiyuan_world["item"])).json()
    # xifeng cannot even see it; the inspector neither.
    for name in ("xifeng", "inspector"):
        assert refusal(post(api(name), f"batches/{batch['id']}/draw")) == (404, "not_found")
        body = batch_body(plan["id"], kaiyuan_world["item"])
        assert refusal(post(api(name), "batches", body))[1] in ("not_found", "forbidden")
    assert refusal(api("anonymous").post("/api/v1/inspections/plans")) == (401, "unauthenticated")
    assert refusal(post(api("inspector"), "plans", {"year": 2026, "title": "x"})) == (
        403,
        "forbidden",
    )
    # Nothing moved.
    assert Batch.objects.get().status == "draft" and InspectionPlan.objects.count() == 1
    assert not Task.objects.exists()


def test_a_duplicate_plan_is_refused(api, kaiyuan_world):
    kaiyuan = api("kaiyuan")
    make_plan(kaiyuan)
    again = post(kaiyuan, "plans", {"year": 2026, "title": "开原市2026年度抽查计划"})
    assert refusal(again) == (422, "invalid_batch")
    assert refusal(post(kaiyuan, "plans", {"year": 1999, "title": "旧计划"})) == (
        422,
        "invalid_request",
    )
    assert InspectionPlan.objects.count() == 1


def test_reference_lists_filter_by_kind_and_state(api, kaiyuan_world):
    client = api("inspector")
    key = client.get("/api/v1/inspections/check-items", {"kind": "key"}).json()
    assert key["count"] > 0 and all(i["kind"] == "key" for i in key["items"])
    item = client.get(f"/api/v1/inspections/check-items/{kaiyuan_world['item'].pk}").json()
    assert item["legal_basis"] == "《中华人民共和国食品安全法》第一百一十条"
    assert item["required_specialities"] == ["食品"]
    codes = {c["name"]: c for c in client.get("/api/v1/inspections/result-codes").json()}
    assert codes["发现问题待后续处理"]["opens_follow_up"] is True
    assert codes["未发现问题"]["problem_found"] is False
    disabled = client.get("/api/v1/inspections/check-items", {"enabled": "false"}).json()
    assert disabled["count"] == 0


def test_a_plan_made_through_the_api_is_dated_and_counted(api, kaiyuan_world):
    kaiyuan = api("kaiyuan")
    plan = make_plan(kaiyuan)
    post(kaiyuan, "batches", batch_body(plan["id"], kaiyuan_world["item"]))
    listed = kaiyuan.get("/api/v1/inspections/plans", {"year": 2026}).json()
    assert [(p["id"], p["batches"]) for p in listed["items"]] == [(plan["id"], 1)]
    assert dt.datetime.fromisoformat(listed["items"][0]["created_at"])


# --- results (谁检查谁录入) and follow-ups ----------------------------------------------------


@pytest.fixture
def assigned(api, kaiyuan_world, calendar) -> dict:
    """kaiyuan's batch drawn and assigned; the demo inspector's tasks and the others."""
    kaiyuan = api("kaiyuan")
    plan = make_plan(kaiyuan)
    batch = post(kaiyuan, "batches", batch_body(plan["id"], kaiyuan_world["item"])).json()
    assert post(kaiyuan, f"batches/{batch['id']}/draw").status_code == 200
    assert post(kaiyuan, f"batches/{batch['id']}/assign").status_code == 200
    mine = api("inspector").get("/api/v1/inspections/tasks", {"mine": "true"}).json()["items"]
    others = Task.objects.exclude(pk__in=[t["id"] for t in mine])
    assert mine and others.exists()
    return {"batch": batch, "mine": mine[0]["id"], "other": others.first().pk}


RESULT = {"codes": ["06"], "findings": "散装熟食无标签，已抽样送检。", "check_date": "2026-11-10"}


@time_machine.travel(dt.datetime(2026, 11, 25, 2, tzinfo=dt.UTC), tick=False)
def test_the_assigned_inspector_enters_the_result_and_the_county_closes_the_follow_up(
    api, assigned
):
    inspector, kaiyuan = api("inspector"), api("kaiyuan")
    task = assigned["mine"]
    detail = inspector.get(f"/api/v1/inspections/tasks/{task}").json()
    assert [s["name"] for s in detail["available_steps"]] == ["enter_result"]

    entered = post(inspector, f"tasks/{task}/result", RESULT)
    assert entered.status_code == 200, entered.content
    body = entered.json()
    assert body["status"] == "checked"
    assert body["result"]["codes"] == ["06"] and body["result"]["entered_by"] == "inspector"
    assert body["result"]["code_names"] == ["发现问题待后续处理"]
    # 20 working days from the check date (2026-11-10), over the holiday calendar.
    assert body["publish_due"] == "2026-12-08"

    # 发现问题待后续处理 opened a follow-up for the county bureau, which closes it.
    follow_ups = kaiyuan.get("/api/v1/inspections/follow-ups", {"status": "open"}).json()
    assert [f["task_id"] for f in follow_ups["items"]] == [task]
    follow_up = follow_ups["items"][0]["id"]
    assert inspector.get(f"/api/v1/inspections/follow-ups/{follow_up}").status_code == 404
    no_resolution = post(kaiyuan, f"follow-ups/{follow_up}/close", {"outcome": "已立案"})
    assert refusal(no_resolution) == (422, "invalid_request")
    closed = post(
        kaiyuan,
        f"follow-ups/{follow_up}/close",
        {"resolution": "filed", "outcome": "检验不合格，已立案调查。"},
    )
    assert closed.status_code == 200, closed.content
    assert (closed.json()["status"], closed.json()["resolution_label"]) == ("closed", "已立案查处")
    again = post(kaiyuan, f"follow-ups/{follow_up}/close", {"resolution": "filed", "outcome": "x"})
    assert refusal(again) == (409, "step_not_allowed")

    # A correction needs its reason; then the result says what was corrected.
    corrected = api("inspector").put(
        f"/api/v1/inspections/tasks/{task}/result",
        {**RESULT, "codes": ["05"], "findings": "已责令改正。", "reason": "误选结果"},
        content_type="application/json",
    )
    assert corrected.status_code == 200, corrected.content
    assert corrected.json()["result"]["codes"] == ["05"]
    history = inspector.get(f"/api/v1/inspections/tasks/{task}/transitions").json()
    assert [t["step"] for t in history] == ["enter_result", "correct_result"]


@time_machine.travel(dt.datetime(2026, 11, 25, 2, tzinfo=dt.UTC), tick=False)
def test_only_an_assigned_inspector_may_enter_the_result(api, assigned):
    task, other = assigned["mine"], assigned["other"]
    # Those who see the task but are not assigned: 403 forbidden (谁检查谁录入).
    for name in ("kaiyuan", "coordinator"):
        assert refusal(post(api(name), f"tasks/{task}/result", RESULT)) == (403, "forbidden")
    # Those who do not see it: 404, as if it did not exist.
    assert refusal(post(api("xifeng"), f"tasks/{task}/result", RESULT)) == (404, "not_found")
    assert refusal(post(api("inspector"), f"tasks/{other}/result", RESULT)) == (404, "not_found")
    assert refusal(post(api("anonymous"), f"tasks/{task}/result", RESULT)) == (
        401,
        "unauthenticated",
    )
    assert not Task.objects.filter(status="checked").exists()


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"codes": []}, "invalid_request"),
        ({"codes": ["99"]}, "codes_unknown"),
        ({"codes": ["01", "06"]}, "codes_exclusive"),
        ({"findings": ""}, "findings_required"),
        ({"check_date": "2026-12-01"}, "check_date_future"),
        ({"check_date": "2026-08-01"}, "check_date_before_window"),
        ({"check_date": "yesterday"}, "invalid_request"),
        ({"findings": "x" * 5001}, "invalid_request"),
    ],
)
@time_machine.travel(dt.datetime(2026, 11, 25, 2, tzinfo=dt.UTC), tick=False)
def test_a_bad_result_is_refused_with_its_code(api, assigned, change, code):
    response = post(api("inspector"), f"tasks/{assigned['mine']}/result", {**RESULT, **change})
    assert refusal(response) == (422, code)
    task = Task.objects.get(pk=assigned["mine"])
    assert task.status == "pending" and not hasattr(task, "result")


# --- publication (一公开) and completing the batch --------------------------------------------


def test_results_are_published_late_only_with_a_reason_and_the_batch_completes(api, assigned):
    from qcity.portal.models import PublishedInspection

    inspector, kaiyuan = api("inspector"), api("kaiyuan")
    batch = assigned["batch"]["id"]
    with time_machine.travel(dt.datetime(2026, 11, 25, 2, tzinfo=dt.UTC), tick=False):
        ok = {"codes": ["01"], "findings": "", "check_date": "2026-11-10"}
        for task in Task.objects.filter(assignments__inspector__user__username="inspector"):
            assert post(inspector, f"tasks/{task.pk}/result", ok).status_code == 200
        mine = assigned["mine"]
        # Only the plan's runners publish: not the inspector, not another county.
        assert refusal(post(inspector, f"tasks/{mine}/publish")) == (403, "forbidden")
        assert refusal(post(api("xifeng"), f"tasks/{mine}/publish")) == (404, "not_found")
        published = post(kaiyuan, f"tasks/{mine}/publish")
        assert published.status_code == 200, published.content
        assert published.json()["status"] == "published"
        assert refusal(post(kaiyuan, f"tasks/{mine}/publish")) == (409, "step_not_allowed")
        # Not every task is published yet: the batch cannot complete.
        assert refusal(post(kaiyuan, f"batches/{batch}/complete")) == (422, "batch_incomplete")
    row = PublishedInspection.objects.get()
    assert (row.late, row.check_date) == (False, dt.date(2026, 11, 10))

    # The inspector's other results wait past their due date (2026-12-08): late, with a reason.
    waiting = list(Task.objects.filter(status="checked").values_list("pk", flat=True))
    assert waiting
    with time_machine.travel(dt.datetime(2026, 12, 21, 2, tzinfo=dt.UTC), tick=False):
        for task in waiting:
            assert refusal(post(kaiyuan, f"tasks/{task}/publish")) == (422, "late_reason_required")
            late = post(kaiyuan, f"tasks/{task}/publish", {"late_reason": "复核延误"})
            assert late.status_code == 200, late.content
    late_rows = PublishedInspection.objects.filter(late=True)
    assert late_rows.count() == len(waiting)
    assert {r.late_reason for r in late_rows} == {"复核延误"}
    # Published rows carry no personal data: no inspector's name.
    assert not PublishedInspection.objects.filter(result__contains="吴执法").exists()
