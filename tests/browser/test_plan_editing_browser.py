"""The plan worked on in the browser: an amended plan uploaded, reviewed and confirmed."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.menu import open_menu_if_folded
from tests.browser.test_plan_browser import _login, live_data_screenshot
from tests.conftest import BUNDLED_SEED

AMENDED = BUNDLED_SEED.read_bytes().replace(
    "(责任单位:市科技局、市工业和信息化局、市市场监管局)".encode(),
    "(责任单位:市科技局、市工业和信息化局、市农业农村局、市市场监管局)".encode(),
    1,
)


def test_an_amended_plan_is_uploaded_reviewed_and_confirmed_and_a_liaisons_tasks_update(
    page, live_data, assert_accessible
):
    base = live_data.url
    _login(page, base, "nongye")
    page.goto(f"{base}/plans/mine/")
    assert page.locator("[data-testid=measure-row]").count() == 5
    assert_accessible(page)
    page.context.clear_cookies()

    _login(page, base, "coordinator")
    open_menu_if_folded(page)
    page.get_by_role("link", name="实施方案").first.click()
    current = page.locator("nav [aria-current=page]")
    assert current.count() == 1 and current.inner_text() == "实施方案"
    page.get_by_role("link", name="上传方案文件").click()
    assert_accessible(page)
    # A wrong file first: a specific message, and the form is still there.
    page.get_by_label("方案文件").set_input_files(
        {"name": "照片.png", "mimeType": "image/png", "buffer": b"\x89PNG\r\n\x1a\n" + bytes(64)}
    )
    page.get_by_role("button", name="上传并预览变化").click()
    assert "不是文本" in page.locator("[data-testid=upload-error]").inner_text()

    page.get_by_label("方案文件").set_input_files(
        {"name": "方案修订稿.txt", "mimeType": "text/plain", "buffer": AMENDED}
    )
    page.get_by_role("button", name="上传并预览变化").click()
    changes = page.locator("[data-testid=change]")
    assert changes.count() >= 1
    assert "措施 1 责任单位" in page.locator("[data-testid=changes]").inner_text()
    assert "市农业农村局" in page.locator("[data-testid=changes]").inner_text()
    assert_accessible(page)
    page.screenshot(path=str(live_data_screenshot("upload-review-390")), full_page=True)
    page.set_viewport_size({"width": 1366, "height": 900})
    page.screenshot(path=str(live_data_screenshot("upload-review-1366")), full_page=True)
    page.get_by_role("button", name="确认导入").click()
    assert "已导入" in page.get_by_role("alert").first.inner_text()

    # The coordinator makes 市科技局 the lead unit of measure 1, in place (htmx).
    page.get_by_role("link", name="1. 打造质量创新发展新高地").click()
    assert page.locator("[data-testid=lead-units]").inner_text() == "未指定"
    page.get_by_text("调整牵头和配合单位").click()
    page.get_by_label("市科技局的职责").select_option("lead")
    page.get_by_role("button", name="保存责任单位").click()
    page.get_by_text("责任单位已保存。").wait_for()
    assert page.locator("[data-testid=lead-units]").inner_text() == "市科技局"
    assert_accessible(page)
    # …and splits it into a sub-task with a unit, a deadline, a contact and outputs.
    page.get_by_text("添加分解任务").click()
    page.get_by_label("任务").fill("组织科技成果对接会")
    page.get_by_label("责任单位", exact=True).select_option(label="市科技局")
    page.get_by_label("完成时限").fill("2026-09-30")
    page.get_by_label("联系人").fill("赵联络")
    page.get_by_label("联系电话").fill("13900001111")
    page.get_by_label("预期成果").fill("对接会纪要")
    page.get_by_role("button", name="保存分解任务").click()
    assert "组织科技成果对接会" in page.locator("[data-testid=subtasks]").inner_text()
    assert_accessible(page)
    page.screenshot(path=str(live_data_screenshot("measure-units-1366")), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(live_data_screenshot("measure-units-390")), full_page=True)

    # Log out through the user menu, which also leads to 修改密码.
    open_menu_if_folded(page)
    page.locator("[data-testid=whoami]").click()
    # Waits: the folded menu and the dropdown open with a transition.
    expect(page.get_by_role("link", name="修改密码")).to_be_visible()
    page.get_by_role("button", name="退出").click()

    _login(page, base, "nongye")
    page.goto(f"{base}/plans/mine/")
    rows = page.locator("[data-testid=measure-row]")
    assert rows.count() == 6
    assert "1. 打造质量创新发展新高地" in rows.first.inner_text()
    # The refused upload answered 400 on purpose; nothing else may have failed.
    assert [e for e in page.console_errors if "/plans/upload/" not in e] == []
