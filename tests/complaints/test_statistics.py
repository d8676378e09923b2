"""The staff statistics page, its export and the publish button: each county sees its own."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import time_machine
from openpyxl import load_workbook

from qcity.complaints.models import Case
from qcity.core.models import AuditEvent
from qcity.portal.models import PublishedComplaintStat
from tests.complaints.helpers import XIFENG_BUREAU, make_case, make_entity
from tests.complaints.test_disclosure import category, issue

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("calendar")]

BEIJING = dt.timezone(dt.timedelta(hours=8))
REPORTER = "王举报"
URL = "/complaints/statistics/"
RANGE = {"date_from": "2026-09-01", "date_to": "2026-10-31"}


@pytest.fixture
def cases(personas):
    food, toys = category("食品", 1), category("玩具", 2)
    quality = issue("质量", 1)
    east = make_entity(name="开原市东方食品有限公司")
    west = make_entity(XIFENG_BUREAU, name="西丰县西山玩具店")
    for day in (dt.date(2026, 9, 3), dt.date(2026, 10, 8), dt.date(2026, 10, 9)):
        make_case(entity=east, received_on=day, category=food, issue_type=quality)
    make_case(
        entity=east,
        received_on=dt.date(2026, 10, 12),
        category=toys,
        status=Case.Status.CLOSED,
        outcome=Case.Outcome.AGREEMENT,
        accepted_on=dt.date(2026, 10, 13),
    )
    make_case(
        entity=east,
        received_on=dt.date(2026, 10, 14),
        status=Case.Status.CLOSED,
        outcome=Case.Outcome.TERMINATED,
        accepted_on=dt.date(2026, 10, 15),
    )
    make_case(kind=Case.Kind.REPORT, entity=east, received_on=dt.date(2026, 10, 2), name=REPORTER)
    make_case(received_on=dt.date(2026, 11, 2), entity=east)  # outside the range
    for _ in range(2):
        make_case(
            bureau=XIFENG_BUREAU, entity=west, received_on=dt.date(2026, 10, 5), category=toys
        )
    return {"east": east, "west": west}


def _get(client, user, url=URL, **params):
    client.force_login(user)
    return client.get(url, params or RANGE)


def test_a_county_counts_its_own_cases_only(client, personas, cases):
    html = _get(client, personas["kaiyuan"]).content.decode()
    assert 'data-testid="total">6<' in html
    assert "开原市东方食品有限公司" in html and "西丰县西山玩具店" not in html
    assert "西丰县市场监督管理局" not in html
    assert 'data-testid="nav-complaint-statistics"' in html  # reached from the navigation
    west = _get(client, personas["xifeng"]).content.decode()
    assert 'data-testid="total">2<' in west and "开原市东方食品有限公司" not in west
    city = _get(client, personas["coordinator"]).content.decode()
    assert 'data-testid="total">8<' in city
    for page in (html, west, city):
        assert REPORTER not in page and "张三丰" not in page


def test_the_figures_by_kind_outcome_category_county_and_month(client, personas, cases):
    from qcity.complaints import selectors_stats

    stats = selectors_stats.statistics(
        personas["coordinator"], date_from=dt.date(2026, 9, 1), date_to=dt.date(2026, 10, 31)
    )
    complaints = next(r for r in stats.by_kind if r["kind"] == "complaint")
    assert (complaints["total"], complaints["o_open"], complaints["o_agreement"]) == (7, 5, 1)
    assert complaints["o_terminated"] == 1
    county = {r["name"]: r for r in stats.by_county}
    east = county["开原市市场监督管理局"]
    assert (east["n_complaint"], east["n_report"], east["total"]) == (5, 1, 6)
    assert (east["closed"], east["agreements"], east["success"]) == (2, 1, "50.0%")
    assert county["西丰县市场监督管理局"]["success"] == "—"
    assert [(r["name"], r["total"]) for r in stats.by_category] == [
        ("玩具", 3),  # ties in the order of the names
        ("食品", 3),
        ("未分类", 2),
    ]
    assert [(r["name"], r["total"]) for r in stats.by_month] == [("2026-09", 1), ("2026-10", 7)]
    assert [(r["name"], r["total"]) for r in stats.top_respondents] == [
        ("开原市东方食品有限公司", 6),
        ("西丰县西山玩具店", 2),
    ]
    assert [(r["name"], r["total"]) for r in stats.top_goods] == [("玩具", 3), ("食品", 3)]
    assert [(r["name"], r["total"]) for r in stats.top_issues] == [("质量", 3)]


def test_the_export_holds_the_same_figures_in_the_county_scope_and_is_audited(
    client, personas, cases
):
    response = _get(client, personas["kaiyuan"], url=URL + "export.xlsx", kind="", **RANGE)
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == [
        "按类型和结果",
        "按商品服务类别",
        "按承办单位",
        "按月份",
        "热点被投诉举报对象",
        "热点商品服务",
        "热点问题",
    ]
    cells = [str(c) for ws in book for row in ws.iter_rows(values_only=True) for c in row if c]
    assert "开原市东方食品有限公司" in cells and "西丰县西山玩具店" not in cells
    assert REPORTER not in cells
    kinds = [row for row in book["按类型和结果"].iter_rows(min_row=3, values_only=True)]
    assert [(r[0], r[1]) for r in kinds] == [("投诉", 5), ("举报", 1)]
    event = AuditEvent.objects.get(action="export.xlsx")
    assert event.details == {"what": "complaints.statistics", "rows": 2}


@pytest.mark.parametrize("persona", ["inspector", "enterprise", "nongye", "sysadmin"])
def test_only_officers_open_the_statistics(client, personas, persona):
    assert _get(client, personas[persona]).status_code == 403
    assert _get(client, personas[persona], url=URL + "export.xlsx").status_code == 403


def test_a_bad_filter_says_what_is_wrong(client, personas):
    response = _get(client, personas["kaiyuan"], date_from="2026-10-31", date_to="2026-10-01")
    assert response.status_code == 400
    assert "结束日期不能早于开始日期" in response.content.decode()
    response = _get(client, personas["kaiyuan"], date_from="31/10/2026")
    assert "日期格式应为 2026-09-01" in response.content.decode()


def test_the_city_bureau_publishes_a_period_from_the_page_and_a_county_cannot(
    client, personas, cases
):
    client.force_login(personas["kaiyuan"])
    assert 'data-testid="publish-form"' not in client.get(URL).content.decode()
    assert client.post(URL + "publish/", {"period": "2026-10"}).status_code == 403
    assert not PublishedComplaintStat.objects.exists()
    client.force_login(personas["coordinator"])
    with time_machine.travel(dt.datetime(2026, 11, 5, 10, tzinfo=BEIJING)):
        assert 'data-testid="publish-form"' in client.get(URL).content.decode()
        done = client.post(URL + "publish/", {"period": "2026-10"}, follow=True)
        assert "已公示2026年10月的消费投诉信息：2 家经营者，6 件投诉" in done.content.decode()
        early = client.post(URL + "publish/", {"period": "2026-11"}, follow=True)
        assert "2026年11月尚未结束" in early.content.decode()
    assert set(PublishedComplaintStat.objects.values_list("period", "complaints")) == {
        ("2026-10", 4),
        ("2026-10", 2),
    }
