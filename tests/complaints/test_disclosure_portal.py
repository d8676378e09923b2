"""消费投诉信息公示 on the portal: anonymous, searchable, rate-limited, rows only."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from qcity.complaints import disclosure
from tests.complaints.test_disclosure import PERSONAL, complaint, october  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("calendar")]


@pytest.fixture
def published(october, personas):  # noqa: F811
    coordinator = personas["coordinator"]
    for period, today in (
        ("2026-09", dt.date(2026, 10, 9)),
        ("2026-10", dt.date(2026, 11, 2)),
        ("2026", dt.date(2027, 1, 4)),
    ):
        disclosure.publish(period, by=coordinator, today=today)
    return october


def _html(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def test_the_public_sees_the_latest_month_without_logging_in(client, published):
    response = client.get("/portal/complaints/")
    html = _html(response)
    assert "public" in response["Cache-Control"] and not response.cookies
    assert html.count('data-testid="published-complaint"') == 2  # October's two enterprises
    assert "2026年10月" in html and "最近一期：2026年10月" in html
    assert "开原市示例家电有限公司" in html and "西丰县示例超市有限公司" in html
    assert "+50.0%" in html and "66.7%" in html and "家用电器、服装鞋帽、食品" in html
    assert "未入驻ODR" in html and "上期无投诉" in html
    for marker in PERSONAL:
        assert marker not in html
    assert 'href="/portal/complaints/"' in _html(client.get("/portal/"))  # linked from the index


def test_a_search_by_name_or_code_looks_through_every_period(client, published):
    a = published["a"]
    html = _html(client.get("/portal/complaints/", {"q": "示例家电"}))
    # September, October and the year 2026.
    assert html.count('data-testid="published-complaint"') == 3
    assert "找到 3 条公示信息" in html
    by_code = _html(client.get("/portal/complaints/", {"q": a.code[:10].lower()}))
    assert by_code.count('data-testid="published-complaint"') == 3
    one = _html(client.get("/portal/complaints/", {"q": "示例", "period": "2026"}))
    assert one.count('data-testid="published-complaint"') == 2
    none = _html(client.get("/portal/complaints/", {"q": "没有这家"}))
    assert "没有符合条件的公示信息" in none


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"period": "2025-01"}, "没有这个统计期间的公示"),
        ({"q": "长" * 101}, "搜索内容不能超过 100 个字"),
    ],
)
def test_a_bad_search_says_what_is_wrong(client, published, params, message):
    response = client.get("/portal/complaints/", params)
    assert response.status_code == 400
    assert message in response.content.decode()


def test_searches_share_the_portals_rate_limit_per_address(client, published, settings):
    settings.PORTAL_SEARCH_RATE_LIMIT_PER_ADDRESS = 2
    assert client.get("/portal/complaints/", {"q": "示例"}).status_code == 200
    assert client.get("/portal/", {"q": "示例"}).status_code == 200
    refused = client.get("/portal/complaints/", {"q": "示例"})
    assert refused.status_code == 429
    assert "查询过于频繁" in refused.content.decode() and int(refused["Retry-After"]) > 0
    assert client.get("/portal/complaints/").status_code == 200  # browsing is not counted


def test_an_enterprise_page_shows_every_published_period(client, published):
    a = published["a"]
    response = client.get(f"/portal/complaints/{a.code}/")
    html = _html(response)
    assert "public" in response["Cache-Control"]
    assert html.count('data-testid="published-period"') == 3
    assert html.index("2026年10月") < html.index("2026年9月") < html.index("2026年<")
    assert "开原市市场监督管理局" in html
    for marker in PERSONAL:
        assert marker not in html
    assert client.get("/portal/complaints/91211282MA0000000X/").status_code == 404
    assert client.get("/portal/complaints/not-a-code/").status_code == 404


def test_the_pages_read_only_publication_rows(client, published):
    """A new complaint is invisible until the period is published again; no case table is read."""
    complaint(published["b"], dt.date(2026, 10, 30))
    queries: list[str] = []

    def guard(execute, sql, params, many, context):
        lowered = sql.lower()
        for table in ("complaints_", "registry_", "core_user", "core_orgunit"):
            assert table not in lowered, sql
        queries.append(lowered)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(guard):
        html = _html(client.get("/portal/complaints/", {"q": "西丰县示例超市"}))
        _html(client.get(f"/portal/complaints/{published['b'].code}/"))
    assert any("portal_publishedcomplaintstat" in sql for sql in queries)
    assert 'data-testid="complaint-count">1<' in html
