"""The coordinator links a target, the owner enters figures, the status follows."""

from tests.browser.test_plan_browser import _login, live_data_screenshot

# Not by text: every row's indicator select lists every indicator's name.
AGRI_ROW = "[data-testid=target-link][data-name=农产品质量安全例行监测合格率]"


def test_the_coordinator_links_a_target_and_the_owner_enters_its_figures(
    page, live_data, assert_accessible
):
    base = live_data.url
    _login(page, base, "coordinator")
    page.goto(f"{base}/plans/")
    page.get_by_role("link", name="铁岭市关于贯彻落实").click()
    page.get_by_role("link", name="目标与指标").click()
    row = page.locator(AGRI_ROW)
    assert row.locator("[data-testid=proposal]").inner_text() == "农产品质量安全例行监测合格率"
    assert_accessible(page)
    row.get_by_role("button", name="确认").click()
    assert "的关联指标" in page.locator(".alert-success, .alert").first.inner_text()
    row = page.locator(AGRI_ROW)
    assert row.locator("[data-testid=status]").inner_text() == "暂无数据"
    page.context.clear_cookies()

    _login(page, base, "nongye")
    page.goto(f"{base}/indicators/")
    page.get_by_role("link", name="农产品质量安全例行监测合格率").click()
    assert_accessible(page)
    form = page.locator("[data-testid=value-form]")
    form.get_by_label("统计期").fill("2022")
    form.get_by_label("数值").fill("90")
    form.get_by_label("计量单位").fill("件")
    form.get_by_role("button", name="保存").click()
    assert "单位不符" in page.locator("[data-testid=error]").inner_text()
    assert_accessible(page)
    form = page.locator("[data-testid=value-form]")
    form.get_by_label("计量单位").fill("%")
    form.get_by_role("button", name="保存").click()
    form = page.locator("[data-testid=value-form]")
    form.get_by_label("统计期").fill("2024")
    form.get_by_label("数值").fill("98.6")
    form.get_by_role("button", name="保存").click()
    assert page.locator("[data-testid=value]").count() == 2
    page.screenshot(path=str(live_data_screenshot("indicator-detail")), full_page=False)

    page.goto(f"{base}/plans/")
    page.get_by_role("link", name="铁岭市关于贯彻落实").click()
    page.get_by_role("link", name="目标与指标").click()
    row = page.locator(AGRI_ROW)
    assert row.locator("[data-testid=status]").inner_text() == "已实现"
    assert_accessible(page)
    assert page.console_errors == []
