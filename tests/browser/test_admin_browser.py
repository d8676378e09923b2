"""The administrators' side at a desktop width: one product with the pages, in Chinese."""

from tests.browser.test_plan_browser import _login, live_data_screenshot

DESKTOP = {"width": 1366, "height": 768}


def test_the_three_administrators_see_a_chinese_admin_in_the_products_colours(page, live_data):
    base = live_data.url
    page.set_viewport_size(DESKTOP)

    _login(page, base, "coordinator")
    page.goto(f"{base}/plans/")
    page.get_by_role("link", name="铁岭市关于贯彻落实").click()
    page.context.clear_cookies()

    _login(page, base, "auditadmin")
    page.get_by_role("link", name="系统管理").click()
    assert page.locator("#site-name").inner_text() == "质量强市数字化平台 · 系统管理"
    header_bg = page.locator("#header").evaluate("e => getComputedStyle(e).backgroundColor")
    assert header_bg == "rgb(13, 110, 253)"  # the pages' navbar blue (Bootstrap primary)
    page.screenshot(path=str(live_data_screenshot("admin-index-1366")))
    page.get_by_role("link", name="审计事件").first.click()
    page.wait_for_url("**/admin/core/auditevent/")
    headers = page.locator("#result_list thead th").all_inner_texts()
    assert [h.strip() for h in headers] == [
        "序号",
        "时间",
        "操作者",
        "操作者单位",
        "操作",
        "对象",
        "结果",
        "IP 地址",
    ]
    assert page.get_by_text("登录成功").count() > 0
    page.screenshot(path=str(live_data_screenshot("admin-audit-log-1366")), full_page=True)
    page.locator("#result_list tbody tr th a").first.click()
    page.wait_for_url("**/change/")
    page.screenshot(path=str(live_data_screenshot("admin-audit-event-1366")), full_page=True)
    assert page.get_by_text("前一条的哈希").count() == 1
    page.context.clear_cookies()

    _login(page, base, "secadmin")
    page.goto(f"{base}/admin/core/user/")
    headers = [h.strip() for h in page.locator("#result_list thead th").all_inner_texts()]
    assert "锁定至" in headers and "所属单位" in headers
    page.screenshot(path=str(live_data_screenshot("admin-users-1366")), full_page=True)
    page.get_by_role("link", name="kaiyuan").click()
    page.wait_for_url("**/change/")
    page.screenshot(path=str(live_data_screenshot("admin-user-secadmin-1366")), full_page=True)
    assert page.locator("select[name=unit]").count() == 1  # the security admin moves units
    page.context.clear_cookies()

    _login(page, base, "sysadmin")
    page.goto(f"{base}/admin/core/user/")
    page.get_by_role("link", name="kaiyuan").click()
    page.wait_for_url("**/change/")
    assert page.locator("select[name=unit]").count() == 0  # shown, not editable
    page.screenshot(path=str(live_data_screenshot("admin-user-sysadmin-1366")), full_page=True)
    page.goto(f"{base}/admin/core/calendarday/")
    page.screenshot(path=str(live_data_screenshot("admin-calendar-1366")))
    assert page.console_errors == []
