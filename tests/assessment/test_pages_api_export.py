"""The assessment's pages, XLSX export and API, as each persona uses them."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.test import Client
from openpyxl import load_workbook

from qcity.assessment import services
from qcity.assessment.models import Adjustment, Result, Rule, Scheme
from qcity.assessment.services import SCHEME
from qcity.core.models import AuditEvent
from qcity.core.services import issue_api_token
from qcity.core.workflow import take

pytestmark = pytest.mark.django_db

RATES = [
    {"name": "报送完成率", "rule": Rule.COMPLETENESS, "weight": 50},
    {"name": "按时报送率", "rule": Rule.TIMELINESS, "weight": 50},
]


@pytest.fixture
def login(personas):
    def client_for(name: str) -> Client:
        client = Client()
        client.force_login(personas[name])
        return client

    return client_for


@pytest.fixture
def computed(plan, personas, year_of_reports) -> Scheme:
    coordinator = personas["coordinator"]
    scheme = services.create_scheme(plan, 2026, by=coordinator, default=False)
    services.set_criteria(coordinator, scheme.pk, RATES)
    take(SCHEME, "compute", scheme, by=coordinator)
    return scheme


def test_the_coordinator_creates_the_default_scheme_in_one_click(plan, personas, login):
    coordinator = login("coordinator")
    listing = coordinator.get("/assessment/")
    assert listing.status_code == 200 and "新建并载入铁岭默认方案" in listing.content.decode()
    created = coordinator.post("/assessment/new/", {"plan": plan.pk, "year": "2026"})
    scheme = Scheme.objects.get()
    assert (
        created.status_code == 302 and created["Location"] == f"/assessment/{scheme.pk}/criteria/"
    )
    editor = coordinator.get(created["Location"]).content.decode()
    assert editor.count('data-testid="criterion"') == 4 and "目标达成" in editor


def test_the_editor_refuses_weights_that_do_not_sum_to_100(plan, personas, login):
    scheme = services.create_scheme(plan, 2026, by=personas["coordinator"])
    ids = list(scheme.criteria.values_list("pk", flat=True))
    body = {
        "id": [*map(str, ids), ""],
        "name": ["报送完成率", "按时报送率", "目标达成", "综合评价", ""],
        "rule": ["completeness", "timeliness", "targets_achieved", "qualitative", "completeness"],
        "weight": ["25", "25", "30", "30", ""],
        "max_points": ["100", "100", "100", "100", "100"],
        "applies_to": ["both"] * 5,
    }
    refused = login("coordinator").post(f"/assessment/{scheme.pk}/criteria/", body)
    assert refused.status_code == 400
    assert "权重之和须为 100" in refused.content.decode()
    assert scheme.criteria.get(name="综合评价").weight == Decimal(20)
    body["remove"] = ["2"]  # drop 目标达成 and give its 30 points to 综合评价
    body["weight"][3] = "50"
    saved = login("coordinator").post(f"/assessment/{scheme.pk}/criteria/", body)
    assert saved.status_code == 302
    assert list(scheme.criteria.values_list("name", "weight")) == [
        ("报送完成率", Decimal(25)),
        ("按时报送率", Decimal(25)),
        ("综合评价", Decimal(50)),
    ]
    # A liaison may not open the editor of a scheme it cannot even see.
    assert login("nongye").get(f"/assessment/{scheme.pk}/criteria/").status_code == 404


def test_the_ranking_page_and_an_adjustment_without_reason(computed, personas, login):
    coordinator = login("coordinator")
    page = coordinator.get(f"/assessment/{computed.pk}/").content.decode()
    assert 'data-testid="ranking-department"' in page and 'data-testid="ranking-county"' in page
    nongye_unit = personas["nongye"].unit_id
    refused = coordinator.post(
        f"/assessment/{computed.pk}/adjust/",
        {"unit": nongye_unit, "points": "-2", "reason": ""},
        follow=True,
    )
    assert "加减分须填写理由" in refused.content.decode()
    assert not Adjustment.objects.exists()
    coordinator.post(
        f"/assessment/{computed.pk}/adjust/",
        {"unit": nongye_unit, "points": "-2", "reason": "报告数据口径有误"},
    )
    page = coordinator.get(f"/assessment/{computed.pk}/").content.decode()
    assert "报告数据口径有误" in page and "88.00" in page


@pytest.mark.parametrize("unit", ["9" * 40, str(2**63), "-1", "²"])
def test_an_adjustment_for_a_unit_id_out_of_range_is_refused(computed, personas, login, unit):
    coordinator = login("coordinator")
    coordinator.raise_request_exception = True
    refused = coordinator.post(
        f"/assessment/{computed.pk}/adjust/",
        {"unit": unit, "points": "-2", "reason": "口径有误"},
        follow=True,
    )
    assert "该单位不在本次考核的结果中" in refused.content.decode()
    token = issue_api_token(personas["coordinator"], name="probe", by=personas["secadmin"])
    answer = Client().post(
        f"/api/v1/assessment/schemes/{computed.pk}/adjustments",
        {"unit_id": int(unit) if unit.isascii() else 10**40, "points": "1", "reason": "x"},
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 422 and answer.json()["code"] == "unit_not_assessed"
    assert not Adjustment.objects.exists()


def test_a_liaison_sees_nothing_before_publication_and_the_ranking_after(computed, personas, login):
    nongye = login("nongye")
    assert 'data-testid="scheme"' not in nongye.get("/assessment/").content.decode()
    assert nongye.get(f"/assessment/{computed.pk}/").status_code == 404
    assert nongye.get(f"/assessment/{computed.pk}/export.xlsx").status_code == 404
    assert nongye.post(f"/assessment/{computed.pk}/step/publish/").status_code == 404
    own = personas["nongye"].unit_id
    assert nongye.get(f"/assessment/{computed.pk}/units/{own}/").status_code == 404
    login("coordinator").post(f"/assessment/{computed.pk}/step/publish/", {"state": "computed"})
    assert Scheme.objects.get().status == Scheme.Status.PUBLISHED
    page = nongye.get(f"/assessment/{computed.pk}/").content.decode()
    assert page.count('data-testid="rank-row"') == Result.objects.count()
    # Only its own line links to details; no forms for it.
    assert f"/assessment/{computed.pk}/units/{own}/" in page
    assert f"/units/{personas['gongxin'].unit_id}/" not in page
    assert 'data-testid="adjust-form"' not in page and "step-" not in page
    details = nongye.get(f"/assessment/{computed.pk}/units/{own}/").content.decode()
    assert details.count('data-testid="score"') == 2
    other = nongye.get(f"/assessment/{computed.pk}/units/{personas['gongxin'].unit_id}/")
    assert other.status_code == 404
    # Read-only for everyone but the coordinator.
    refused = nongye.post(f"/assessment/{computed.pk}/step/reopen/", {"reason": "x"}, follow=True)
    assert "您无权执行此操作" in refused.content.decode()
    assert Scheme.objects.get().status == Scheme.Status.PUBLISHED


def test_the_xlsx_export_has_the_ranking_and_the_details(computed, personas, login):
    coordinator = personas["coordinator"]
    services.add_adjustment(
        coordinator, computed.pk, personas["gongxin"].unit_id, points="1.5", reason="示范创建"
    )
    answer = login("coordinator").get(f"/assessment/{computed.pk}/export.xlsx")
    assert answer.status_code == 200
    book = load_workbook(io.BytesIO(answer.content))
    assert book.sheetnames == ["排名", "得分明细"]
    ranking = list(book["排名"].iter_rows(min_row=3, values_only=True))
    first = ranking[0]
    assert first[:6] == ("市直部门", 1, "市工业和信息化局", 90, 1.5, 91.5)
    assert first[6] == "+1.50：示范创建"
    assert ("市直部门", 2, "市农业农村局", 90, 0, 90) == ranking[1][:6]
    assert any(row[:3] == ("县（市）区", 1, "开原市") for row in ranking)
    details = list(book["得分明细"].iter_rows(min_row=3, values_only=True))
    assert ("市农业农村局", "按时报送率", "按时报送率", 50, 4, 5, 0.8, 40) == details[
        [d[:2] for d in details].index(("市农业农村局", "按时报送率"))
    ][:8]
    assert ("市工业和信息化局", "加减分") in [d[:2] for d in details]
    event = AuditEvent.objects.get(action="export.xlsx")
    assert event.details == {"what": "assessment.ranking", "rows": len(ranking)}
    # After publication a liaison's export carries the whole ranking but only its own details.
    take(SCHEME, "publish", computed, by=coordinator)
    book = load_workbook(
        io.BytesIO(login("nongye").get(f"/assessment/{computed.pk}/export.xlsx").content)
    )
    assert len(list(book["排名"].iter_rows(min_row=3))) == len(ranking)
    assert {row[0] for row in book["得分明细"].iter_rows(min_row=3, values_only=True)} == {
        "市农业农村局"
    }


@pytest.fixture
def api(personas):
    def client_for(name: str) -> Client:
        token = issue_api_token(personas[name], name="t", by=personas["secadmin"])
        return Client(headers={"Authorization": f"Bearer {token}"})

    return client_for


def test_the_api_lists_schemes_ranks_and_takes_adjustments_in_scope(computed, personas, api):
    coordinator, nongye = api("coordinator"), api("nongye")
    assert [s["id"] for s in coordinator.get("/api/v1/assessment/schemes").json()] == [computed.pk]
    assert nongye.get("/api/v1/assessment/schemes").json() == []
    assert nongye.get(f"/api/v1/assessment/schemes/{computed.pk}/ranking").status_code == 404
    url = f"/api/v1/assessment/schemes/{computed.pk}/adjustments"
    unit = personas["nongye"].unit_id
    body = {"unit_id": unit, "points": "-2", "reason": ""}
    refused = coordinator.post(url, body, content_type="application/json")
    assert refused.status_code == 422 and refused.json()["code"] == "reason_required"
    body["reason"] = "数据口径有误"
    assert nongye.post(url, body, content_type="application/json").status_code == 404
    done = coordinator.post(url, body, content_type="application/json")
    assert done.status_code == 200, done.content
    assert done.json()["total"] == "88.00" and done.json()["rank"] == 2
    ranking = coordinator.get(f"/api/v1/assessment/schemes/{computed.pk}/ranking").json()
    mine = next(r for r in ranking["departments"] if r["unit_id"] == unit)
    assert mine["adjustment"] == "-2.00" and len(mine["scores"]) == 2
    take(SCHEME, "publish", computed, by=personas["coordinator"])
    ranking = nongye.get(f"/api/v1/assessment/schemes/{computed.pk}/ranking").json()
    lines = {r["unit"]: r for r in ranking["departments"]}
    assert lines["市农业农村局"]["scores"] is not None
    assert lines["市工业和信息化局"]["scores"] is None
    assert ranking["counties"][0]["unit"] == "开原市"
    again = coordinator.post(url, body, content_type="application/json")
    assert again.status_code == 409 and again.json()["code"] == "scheme_published"


@pytest.mark.parametrize(
    ("field", "value"),
    [("id", "abc"), ("id", "9" * 40), ("weight", "NaN"), ("weight", "1e999"), ("rule", "<b>")],
)
def test_the_editor_refuses_tampered_rows_with_a_message(plan, personas, login, field, value):
    scheme = services.create_scheme(plan, 2026, by=personas["coordinator"])
    body = {
        "id": [""],
        "name": ["报送完成率"],
        "rule": ["completeness"],
        "weight": ["100"],
        "max_points": ["100"],
        "applies_to": ["both"],
    }
    body[field] = [value]
    refused = login("coordinator").post(f"/assessment/{scheme.pk}/criteria/", body)
    assert refused.status_code == 400 and 'data-testid="error"' in refused.content.decode()
    assert scheme.criteria.count() == 4
