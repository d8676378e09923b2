import io

from openpyxl import load_workbook

from qcity.core.demo import DEMO_PASSWORD
from tests.browser.menu import open_menu_if_folded


def _login(page, base, username, assert_accessible=None):
    page.goto(f"{base}/")
    assert "/accounts/login/" in page.url
    if assert_accessible:
        assert_accessible(page)
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}/")


def test_it_logs_in_opens_the_plan_and_a_measure_and_downloads_the_breakdown(
    page, live_data, assert_accessible
):
    base = live_data.url
    _login(page, base, "coordinator", assert_accessible)
    assert_accessible(page)
    # On a phone the menu is folded away: open it as a user would.
    open_menu_if_folded(page)
    page.get_by_role("link", name="实施方案").first.click()
    page.get_by_role("link", name="铁岭市关于贯彻落实").click()
    assert page.locator("[data-testid=measure-row]").count() == 27
    assert page.locator("[data-testid=chapter]").count() == 8
    targets = page.locator("[data-testid=targets] tbody tr")
    assert targets.count() == 11  # 9 numeric targets and 2 qualitative goals
    page.screenshot(path=str(live_data_screenshot("plan-overview")), full_page=False)
    assert_accessible(page)

    page.get_by_role("link", name="16. 促进生活服务品质升级").click()
    assert page.locator("[data-testid=measure-title]").inner_text() == "16. 促进生活服务品质升级"
    units = page.locator("[data-testid=units]").inner_text()
    assert "市交通运输局市" in units and "市文旅广电局" in units
    assert_accessible(page)

    with page.expect_download() as download_info:
        page.locator("[data-testid=export-xlsx]").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".xlsx")
    workbook = load_workbook(io.BytesIO(open(download.path(), "rb").read()))
    rows = [r for r in workbook.active.iter_rows(min_row=3, values_only=True) if r[1] is not None]
    assert len(rows) == 27
    assert rows[0][2] == "打造质量创新发展新高地"
    assert page.console_errors == []


def test_a_department_liaison_reads_the_whole_plan_lists_its_own_tasks_and_can_search(
    page, live_data, assert_accessible
):
    base = live_data.url
    _login(page, base, "nongye")
    # The whole plan is readable (ADR 0020); 我的任务 holds the unit's own measures.
    assert page.locator("[data-testid=measure-count]").inner_text() == "27"
    assert page.locator("[data-testid=mine-count]").inner_text() == "5"
    page.get_by_role("link", name="我的任务").first.click()  # the card link on the dashboard
    assert page.locator("[data-testid=measure-row]").count() == 5
    assert_accessible(page)
    page.goto(f"{base}/plans/")
    page.get_by_role("link", name="铁岭市关于贯彻落实").click()
    page.get_by_role("link", name="搜索举措").click()
    page.get_by_role("searchbox").fill("农资打假")
    page.locator("[data-testid=result-count]").wait_for()
    assert "找到 1 项举措" in page.locator("[data-testid=result-count]").inner_text()
    assert_accessible(page)
    assert page.console_errors == []


def live_data_screenshot(name: str):
    import os
    from pathlib import Path

    folder = Path(os.environ.get("QCITY_SCREENSHOTS", "var/screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{name}.png"
