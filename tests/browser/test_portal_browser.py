"""The public portal, anonymously, on a desktop and a phone: results, search, a draw record."""

from __future__ import annotations

import datetime as dt

import pytest

from qcity.core.models import Role, User
from tests.browser.test_plan_browser import live_data_screenshot
from tests.conftest import make_user
from tests.portal.world import (
    KAIYUAN,
    PERSONAL_MARKERS,
    file_stores,  # noqa: F401
    make_world,
)


@pytest.fixture
def published_portal(live_data, file_stores):  # noqa: F811
    """Published results (one late) and a draw record, made before the browser starts."""
    import time_machine

    from qcity.inspections import services

    owner = User.objects.filter(username="portal_owner").first() or make_user(
        "portal_owner", Role.COUNTY_OFFICER, KAIYUAN
    )
    world = make_world(owner, codes="bad")
    with time_machine.travel(
        dt.datetime(2026, 10, 30, 10, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    ):
        services.publish_result(owner, world.tasks[0].pk, late_reason="系统升级，延迟公示")
    with time_machine.travel(
        dt.datetime(2026, 9, 3, 10, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    ):
        services.publish_result(owner, world.tasks[1].pk)
    services.publish_draw(owner, world.draw.pk)
    return world


@pytest.mark.parametrize("width", [1366, 390])
def test_the_public_reads_results_and_draw_records_without_logging_in(
    published_portal, page, live_data, assert_accessible, width
):
    base = live_data.url
    page.set_viewport_size({"width": width, "height": 900 if width > 400 else 844})

    # The login page links to the portal.
    page.goto(f"{base}/accounts/login/")
    page.get_by_test_id("portal-link").click()
    page.wait_for_url(f"{base}/portal/")
    assert page.get_by_test_id("published-result").count() == 2
    assert_accessible(page)
    page.screenshot(path=str(live_data_screenshot(f"portal-index-{width}")), full_page=True)

    page.get_by_label("市场主体名称或统一社会信用代码").fill("恒信")
    page.get_by_role("button", name="查询").click()
    assert page.get_by_test_id("published-result").count() == 1
    assert "找到 1 条公示结果" in page.get_by_test_id("result-count").inner_text()
    assert_accessible(page)

    page.get_by_label("检查日期自").fill("2026-09-10")
    page.get_by_label("检查日期至").fill("2026-09-01")
    page.get_by_role("button", name="查询").click()
    assert "结束日期不能早于开始日期" in page.get_by_test_id("search-error").inner_text()
    assert_accessible(page)
    page.screenshot(path=str(live_data_screenshot(f"portal-search-error-{width}")), full_page=True)

    page.goto(f"{base}/portal/?q=恒信")
    page.get_by_role("link", name="开原市恒信超市有限公司").click()
    assert "系统升级，延迟公示" in page.get_by_test_id("late-reason").inner_text()
    assert "发现问题已责令改正" in page.get_by_test_id("result").inner_text()
    assert_accessible(page)
    page.screenshot(path=str(live_data_screenshot(f"portal-result-{width}")), full_page=True)

    page.get_by_role("link", name="抽取记录", exact=True).click()
    page.get_by_test_id("published-draw").get_by_role("link").first.click()
    assert "qcity verify_draw record.json population.csv" in page.content()
    with page.expect_download() as download:
        page.get_by_test_id("download-record").click()
    assert download.value.suggested_filename == "record.json"
    with page.expect_download() as download:
        page.get_by_test_id("download-population").click()
    assert download.value.suggested_filename == "population.csv"
    assert_accessible(page)
    page.screenshot(path=str(live_data_screenshot(f"portal-draw-{width}")), full_page=True)

    text = page.content()
    for marker in PERSONAL_MARKERS:
        assert marker not in text
    # The search refused with 400 on purpose; nothing else failed.
    assert [e for e in page.console_errors if "status of 400" not in e] == []
