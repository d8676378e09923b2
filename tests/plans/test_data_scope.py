"""The data-scope matrix: every page, export and API endpoint, for every persona.

Expected visibility is derived from the truth file (which measures name which
unit), not from the database the code under test wrote. Since ADR 0020 every
internal business role reads the whole plan (a public document); what a unit is
responsible for decides its 我的任务 and what it may change.
"""

import io

import pytest
from openpyxl import load_workbook

from qcity.plans.models import Measure
from tests.conftest import measures_of, truth

pytestmark = pytest.mark.django_db

ALL = {m["number"] for c in truth()["chapters"] for m in c["measures"]}
# What each persona reads: all of the plan, or (administrators, enterprises) nothing.
EXPECTED = {
    "coordinator": ALL,
    "nongye": ALL,
    "gongxin": ALL,
    "kaiyuan": ALL,
    "xifeng": ALL,
    "outsider": set(),
    "sysadmin": set(),
    "secadmin": set(),
    "auditadmin": set(),
    "inspector": ALL,
    "lab": ALL,
    "enterprise": set(),
}
# What each persona may change (and, with reporting, report on): the owner all, a unit its own.
OWN = {
    "coordinator": ALL,
    "nongye": measures_of("市农业农村局"),
    "gongxin": measures_of("市工业和信息化局"),
    "kaiyuan": set(),
    "xifeng": set(),
    "outsider": set(),
    "sysadmin": set(),
    "secadmin": set(),
    "auditadmin": set(),
    "inspector": set(),
    "lab": measures_of("铁岭检验检测中心"),
    "enterprise": set(),
}


@pytest.fixture
def world(plan, personas):
    return plan, personas


def _client(client, user):
    client.force_login(user)
    return client


def _measure_numbers_in(html: str, plan) -> set[int]:
    return {m.number for m in Measure.objects.filter(plan=plan) if f'/measures/{m.pk}/"' in html}


def test_the_expectations_are_not_trivial():
    assert OWN["nongye"] == {5, 7, 8, 15, 24}
    assert OWN["gongxin"] and OWN["gongxin"] != OWN["nongye"]
    assert len(OWN["lab"]) == 5
    assert len(ALL) == 27


@pytest.mark.parametrize("persona", EXPECTED)
def test_each_persona_may_change_exactly_its_own_measures(world, persona):
    from django.db import transaction

    from qcity.core.scope import get_for_write

    plan, users = world
    changeable = set()
    for measure in Measure.objects.filter(plan=plan):
        if measure.number not in EXPECTED[persona]:
            continue
        with transaction.atomic():
            _, may_change = get_for_write(users[persona], Measure.objects.all(), pk=measure.pk)
        if may_change:
            changeable.add(measure.number)
    assert changeable == OWN[persona]


@pytest.mark.parametrize("persona", ["sysadmin", "enterprise", "outsider"])
def test_an_empty_plan_list_says_why_and_what_to_do(client, world, persona):
    _, users = world
    html = _client(client, users[persona]).get("/plans/").content.decode()
    assert 'data-testid="empty-reason"' in html
    reason = html.split('data-testid="empty-reason"', 1)[1].split("</", 1)[0]
    if persona == "sysadmin":
        assert "三员分立" in reason
    else:
        assert "企业账户" in reason


@pytest.mark.parametrize("persona", EXPECTED)
def test_plan_pages_show_exactly_the_measures_in_scope(client, world, persona):
    plan, users = world
    c = _client(client, users[persona])
    expected = EXPECTED[persona]
    overview = c.get(f"/plans/{plan.pk}/")
    if not expected:
        assert overview.status_code == 404
        assert plan.title not in c.get("/plans/").content.decode()
        for path in ("matrix/", "search/?q=质量", "export.xlsx"):
            assert c.get(f"/plans/{plan.pk}/{path}").status_code == 404
        return
    assert overview.status_code == 200
    assert _measure_numbers_in(overview.content.decode(), plan) == expected
    assert plan.title in c.get("/plans/").content.decode()
    matrix = c.get(f"/plans/{plan.pk}/matrix/").content.decode()
    assert _measure_numbers_in(matrix, plan) == expected
    search = c.get(f"/plans/{plan.pk}/search/", {"q": "质量"}).content.decode()
    assert _measure_numbers_in(search, plan) <= expected


@pytest.mark.parametrize("persona", EXPECTED)
def test_measure_pages_open_only_in_scope(client, world, persona):
    plan, users = world
    c = _client(client, users[persona])
    for measure in Measure.objects.filter(plan=plan):
        status = c.get(f"/plans/{plan.pk}/measures/{measure.pk}/").status_code
        assert status == (200 if measure.number in EXPECTED[persona] else 404), measure.number


@pytest.mark.parametrize("persona", ["coordinator", "nongye", "gongxin"])
def test_the_export_holds_exactly_the_measures_in_scope(client, world, persona):
    plan, users = world
    response = _client(client, users[persona]).get(f"/plans/{plan.pk}/export.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    numbers = {row[1] for row in sheet.iter_rows(min_row=3, values_only=True)}
    assert numbers == EXPECTED[persona]


@pytest.mark.parametrize("persona", ["nongye", "gongxin", "lab"])
def test_my_measures_lists_the_units_own_measures(client, world, persona):
    plan, users = world
    html = _client(client, users[persona]).get("/plans/mine/").content.decode()
    assert _measure_numbers_in(html, plan) == OWN[persona]


@pytest.mark.parametrize("persona", EXPECTED)
def test_the_api_applies_the_same_scope(client, world, persona):
    plan, users = world
    c = _client(client, users[persona])
    expected = EXPECTED[persona]
    listed = c.get("/api/v1/measures", {"limit": 100}).json()["items"]
    assert {m["number"] for m in listed} == expected
    plans = c.get("/api/v1/plans").json()["items"]
    assert [p["id"] for p in plans] == ([plan.pk] if expected else [])
    for measure in Measure.objects.filter(plan=plan):
        response = c.get(f"/api/v1/measures/{measure.pk}")
        if measure.number in expected:
            assert response.status_code == 200
        else:
            assert response.status_code == 404
            assert response.json()["code"] == "not_found"
    for path in (
        f"/api/v1/plans/{plan.pk}",
        f"/api/v1/plans/{plan.pk}/chapters",
        f"/api/v1/plans/{plan.pk}/targets",
        f"/api/v1/plans/{plan.pk}/targets/status",
    ):
        assert c.get(path).status_code == (200 if expected else 404), path


def test_a_liaison_reads_every_target_and_changes_only_its_own_measures(client, world):
    from django.db import transaction

    from qcity.core.scope import get_for_write
    from qcity.plans.models import Target

    plan, users = world
    gongxin = users["gongxin"]
    targets = _client(client, gongxin).get(f"/api/v1/plans/{plan.pk}/targets").json()
    indicators = {t["indicator"] for t in targets}
    # 工信局 is responsible for measure 1 (the 4亿元 contract volume), not for measure 9.
    assert {
        "全市技术合同登记额",
        "农村地区食品经营店规范化建设比例",
        "食品抽检合格率",
    } <= indicators
    may = {}
    for name in ("全市技术合同登记额", "农村地区食品经营店规范化建设比例"):
        target = Target.objects.get(plan=plan, indicator_name=name)
        with transaction.atomic():
            may[name] = get_for_write(gongxin, Target.objects.all(), pk=target.pk)[1]
    assert may == {"全市技术合同登记额": True, "农村地区食品经营店规范化建设比例": False}


@pytest.mark.parametrize("persona", EXPECTED)
def test_org_units_in_the_api_follow_the_scope(client, world, persona):
    _, users = world
    user = users[persona]
    items = _client(client, user).get("/api/v1/org-units", {"limit": 1000}).json()["items"]
    names = {u["name"] for u in items}
    if persona == "coordinator":
        assert "开原市" in names and "市农业农村局" in names
    elif persona in ("nongye", "gongxin", "lab"):
        assert names == {user.unit.name}
    elif persona in ("kaiyuan", "xifeng"):
        assert user.unit.name in names and "市农业农村局" not in names
        assert all(n.startswith(user.unit.name[:2]) for n in names)
    else:
        assert names == set()


def test_the_api_refuses_anonymous_requests_with_a_stable_code(client, world):
    response = client.get("/api/v1/measures")
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"


def test_anonymous_pages_redirect_to_login(client, world):
    plan, _ = world
    for path in (
        "/",
        "/plans/",
        f"/plans/{plan.pk}/",
        f"/plans/{plan.pk}/export.xlsx",
        "/plans/mine/",
    ):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_a_token_authenticates_with_the_owners_scope(client, world):
    from qcity.core.models import ApiToken
    from qcity.core.services import issue_api_token, revoke_api_token

    _, users = world
    raw = issue_api_token(users["nongye"], name="测试", by=users["secadmin"])
    response = client.get("/api/v1/measures", {"limit": 100}, HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert {m["number"] for m in response.json()["items"]} == EXPECTED["nongye"]
    revoke_api_token(ApiToken.objects.get(), by=users["secadmin"])
    response = client.get("/api/v1/measures", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 401


def test_only_the_coordinator_manages_pending_units(client, world):
    _, users = world
    for persona in ("nongye", "kaiyuan", "sysadmin", "outsider"):
        client.force_login(users[persona])
        assert client.get("/units/pending/").status_code == 403
    client.force_login(users["coordinator"])
    assert "市交通运输局市" in client.get("/units/pending/").content.decode()


def test_the_openapi_schema_is_served_and_lists_the_read_endpoints(client, world):
    schema = client.get("/api/v1/openapi.json").json()
    for path in ("/api/v1/plans", "/api/v1/measures/{measure_id}", "/api/v1/org-units"):
        assert path in schema["paths"]


def test_api_search_works_across_plans(client, world):
    _, users = world
    items = (
        _client(client, users["xifeng"]).get("/api/v1/measures", {"q": "农资打假"}).json()["items"]
    )
    assert [m["number"] for m in items] == [8]


@pytest.mark.parametrize("persona", EXPECTED)
def test_the_dashboard_and_my_tasks_count_only_what_is_in_scope(client, world, persona):
    plan, users = world
    c = _client(client, users[persona])
    home = c.get("/").content.decode()
    assert f'data-testid="measure-count">{len(EXPECTED[persona])}<' in home
    mine = _measure_numbers_in(c.get("/plans/mine/").content.decode(), plan)
    own = measures_of(users[persona].unit.name) if users[persona].unit else set()
    assert mine <= own & EXPECTED[persona]


@pytest.mark.parametrize("persona", EXPECTED)
def test_single_org_units_in_the_api_follow_the_scope(client, world, persona):
    from qcity.core.models import OrgUnit

    _, users = world
    c = _client(client, users[persona])
    agriculture = OrgUnit.objects.get(name="市农业农村局")
    expected = 200 if persona in ("coordinator", "nongye") else 404
    assert c.get(f"/api/v1/org-units/{agriculture.pk}").status_code == expected


@pytest.mark.parametrize("persona", ["coordinator", "nongye", "kaiyuan", "outsider"])
def test_the_matrix_and_my_tasks_exports_follow_the_scope(client, world, persona):
    plan, users = world
    c = _client(client, users[persona])
    matrix = c.get(f"/plans/{plan.pk}/matrix/export.xlsx")
    if not EXPECTED[persona]:
        assert matrix.status_code == 404
    else:
        sheet = load_workbook(io.BytesIO(matrix.content)).active
        header = [cell for cell in next(sheet.iter_rows(min_row=2, max_row=2, values_only=True))]
        assert {int(h) for h in header[1:-1]} == EXPECTED[persona]
    mine = c.get("/plans/mine/export.xlsx")
    assert mine.status_code == 200
    rows = list(
        load_workbook(io.BytesIO(mine.content)).active.iter_rows(min_row=3, values_only=True)
    )
    own = measures_of(users[persona].unit.name) if users[persona].unit else set()
    assert {r[1] for r in rows} == own & EXPECTED[persona]


def test_every_export_is_audited(client, world):
    from qcity.core.models import AuditEvent

    plan, users = world
    c = _client(client, users["nongye"])
    for path in (
        f"/plans/{plan.pk}/export.xlsx",
        f"/plans/{plan.pk}/matrix/export.xlsx",
        "/plans/mine/export.xlsx",
    ):
        c.get(path)
    events = AuditEvent.objects.filter(action="export.xlsx", actor=users["nongye"])
    assert sorted(e.details["what"] for e in events) == [
        "plan.breakdown",
        "plan.matrix",
        "plan.my_measures",
    ]
    assert all(e.details["rows"] for e in events)


def test_a_county_officer_changes_what_a_unit_below_it_is_responsible_for(client, world):
    from django.db import transaction

    from qcity.core.models import OrgUnit
    from qcity.core.scope import get_for_write
    from qcity.plans.models import Responsibility

    plan, users = world
    station = OrgUnit.objects.get(name="开原市城区市场监督管理所")
    measure = Measure.objects.get(plan=plan, number=8)
    Responsibility.objects.create(
        measure=measure, org_unit=station, written_name=station.name, order=99
    )
    for persona, own in (("kaiyuan", True), ("xifeng", False), ("inspector", False)):
        c = _client(client, users[persona])
        # Everyone reads the measure; only the county whose station is responsible owns it.
        assert c.get(f"/plans/{plan.pk}/measures/{measure.pk}/").status_code == 200, persona
        with transaction.atomic():
            _, may_change = get_for_write(users[persona], Measure.objects.all(), pk=measure.pk)
        assert may_change is own, persona
    # The county's "my tasks" counts what its station does; the liaison's view is unchanged.
    mine = _client(client, users["kaiyuan"]).get("/plans/mine/").content.decode()
    assert _measure_numbers_in(mine, plan) == {8}
    mine = _client(client, users["nongye"]).get("/plans/mine/").content.decode()
    assert _measure_numbers_in(mine, plan) == OWN["nongye"]
