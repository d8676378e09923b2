"""The public portal: anonymous, public data only, reads publication rows only."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json

import pytest
import time_machine
from django.db import connection

from qcity.inspections import publication, services
from qcity.portal.models import PublishedInspection
from tests.portal.world import (
    PERSONAL_MARKERS,
    XIFENG,
    file_stores,  # noqa: F401
    make_world,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("file_stores", "calendar")]

SHANGHAI = dt.timezone(dt.timedelta(hours=8))


@pytest.fixture
def published(personas):
    world = make_world(personas["kaiyuan"], codes="bad")
    west = make_world(personas["xifeng"], XIFENG, names=("西丰县鹿城药房",), tail=2)
    with time_machine.travel(dt.datetime(2026, 10, 30, 10, tzinfo=SHANGHAI)):
        late = services.publish_result(
            personas["kaiyuan"], world.tasks[0].pk, late_reason="系统升级延误LATEMARK"
        )
        services.publish_result(personas["kaiyuan"], world.tasks[1].pk, late_reason="同上")
        services.publish_result(personas["xifeng"], west.tasks[0].pk, late_reason="同上")
    draws = services.publish_draw(personas["kaiyuan"], world.draw.pk)
    return world, late, draws[0]


def _pages(client, late, draw_row) -> dict[str, object]:
    urls = [
        "/portal/",
        "/portal/?q=恒信",
        f"/portal/?q={late.entity_code}",
        "/portal/?county=211282&date_from=2026-09-01&date_to=2026-09-30",
        f"/portal/results/{late.pk}/",
        "/portal/draws/",
        f"/portal/draws/{draw_row.pk}/",
        f"/portal/draws/{draw_row.pk}/record.json",
        f"/portal/draws/{draw_row.pk}/population.csv",
    ]
    return {url: client.get(url) for url in urls}


def _body(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


def test_every_portal_page_works_anonymously_and_shows_no_personal_data(client, published):
    _, late, draw_row = published
    for url, response in _pages(client, late, draw_row).items():
        assert response.status_code == 200, url
        body = _body(response)
        for marker in (*PERSONAL_MARKERS, "kaiyuan", "xifeng", "coordinator"):
            assert marker not in body, (url, marker)
        assert "Content-Security-Policy" in response.headers
        if not url.endswith((".json", ".csv")):
            # Public pages may be cached; downloads get core's no-store like every attachment.
            assert "public" in response["Cache-Control"], url
            assert not response.cookies, url  # no session, no CSRF cookie: cacheable


@pytest.mark.usefixtures("published")
def test_the_first_page_lists_the_latest_results_and_links_to_the_login(client):
    page = client.get("/portal/").content.decode()
    assert "开原市恒信超市有限公司" in page and "西丰县鹿城药房" in page
    assert "发现问题已责令改正" in page and "逾期公示" in page
    assert "public" in client.get("/portal/")["Cache-Control"]
    login = client.get("/accounts/login/").content.decode()
    assert 'href="/portal/"' in login


def test_search_by_name_code_county_and_date(client, published):
    _, late, _ = published

    def names(query: str) -> set[str]:
        response = client.get("/portal/", {"q": query} if isinstance(query, str) else query)
        assert response.status_code == 200
        return {
            row.entity_name
            for row in PublishedInspection.objects.all()
            if f">{row.entity_name}</a>" in response.content.decode()
        }

    assert names("恒信") == {"开原市恒信超市有限公司"}
    assert names(late.entity_code.lower()) == {"开原市恒信超市有限公司"}
    assert names({"county": "211223"}) == {"西丰县鹿城药房"}
    assert names({"date_from": "2026-09-02"}) == set()
    assert names({"date_to": "2026-09-01", "county": "211282"}) == {
        "开原市恒信超市有限公司",
        "开原市百味食品店",
    }


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"county": "999999"}, "没有这个县"),
        ({"date_from": "2026-13-01"}, "日期格式应为"),
        ({"date_from": "2026-09-10", "date_to": "2026-09-01"}, "结束日期不能早于开始日期"),
        ({"q": "名" * 101}, "搜索内容不能超过"),
        ({"date_to": "1900-01-01"}, "日期应在 2000 至 2099 年之间"),
    ],
)
def test_bad_search_input_gets_a_specific_chinese_error(client, published, query, message):
    response = client.get("/portal/", query)
    assert response.status_code == 400
    assert message in response.content.decode()


def test_a_result_detail_shows_the_late_reason(client, published):
    _, late, _ = published
    page = client.get(f"/portal/results/{late.pk}/").content.decode()
    assert "系统升级延误LATEMARK" in page and "逾期理由" in page
    assert client.get("/portal/results/999999999/").status_code == 404
    assert client.get(f"/portal/results/{10**30}/").status_code == 404
    assert client.get("/portal/results/abc/").status_code == 404


def test_draw_downloads_are_the_record_and_the_population_snapshot(client, published):
    world, _, draw_row = published
    record = json.loads(client.get(f"/portal/draws/{draw_row.pk}/record.json").content)
    assert record["selected"] == world.draw.selected_codes
    assert record["seed"] == world.draw.seed
    population = _body(client.get(f"/portal/draws/{draw_row.pk}/population.csv"))
    assert hashlib.sha256(population.encode()).hexdigest() == world.draw.population_digest
    page = client.get(f"/portal/draws/{draw_row.pk}/").content.decode()
    assert "qcity verify_draw record.json population.csv" in page
    assert "docs/draw-algorithm.md" in page


def test_portal_pages_read_only_publication_rows(client, published):
    """Publish, then read every page while refusing any query on a case table."""
    _, late, draw_row = published
    tables: list[str] = []

    def guard(execute, sql, params, many, context):
        lowered = sql.lower()
        for case_table in ("inspections_", "registry_", "core_user", "core_orgunit"):
            assert case_table not in lowered, sql
        tables.append(lowered)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(guard):
        responses = _pages(client, late, draw_row)
    assert all(r.status_code == 200 for r in responses.values())
    assert any("portal_publishedinspection" in sql for sql in tables)
    assert any("portal_publisheddraw" in sql for sql in tables)


def test_searches_are_rate_limited_per_address(client, published, settings):
    settings.PORTAL_SEARCH_RATE_LIMIT_PER_ADDRESS = 3
    for _ in range(3):
        assert client.get("/portal/", {"q": "恒信"}).status_code == 200
    refused = client.get("/portal/", {"q": "恒信"})
    assert refused.status_code == 429
    assert "查询过于频繁" in refused.content.decode() and int(refused["Retry-After"]) > 0
    # Browsing without a search is not counted.
    assert client.get("/portal/").status_code == 200


def test_the_population_download_is_the_stored_gzip_decompressed(published):
    _, _, draw_row = published
    with publication.publication_storage().open(draw_row.population_file, "rb") as handle:
        assert gzip.decompress(handle.read()).startswith(b"code,stratum\n")
