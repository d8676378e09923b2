"""A county officer makes a yearly inspection plan and its first batch, on a desktop and a phone."""

from __future__ import annotations

import pytest

from tests.browser.menu import open_menu_if_folded
from tests.browser.test_plan_browser import _login, live_data_screenshot


@pytest.mark.parametrize("width", [1366, 390])
def test_kaiyuan_creates_a_plan_and_a_batch(page, live_data, assert_accessible, width):
    base = live_data.url
    page.set_viewport_size({"width": width, "height": 900 if width > 400 else 844})
    _login(page, base, "kaiyuan")
    open_menu_if_folded(page)
    page.get_by_role("link", name="双随机抽查").click()
    assert "还没有年度抽查工作计划" in page.get_by_test_id("empty-reason").inner_text()
    assert_accessible(page)

    new_plan = page.get_by_test_id("new-plan")
    new_plan.get_by_label("计划名称").fill("开原市2026年度双随机抽查工作计划")
    new_plan.get_by_role("button", name="新建").click()
    assert page.get_by_test_id("plan-title").inner_text() == "开原市2026年度双随机抽查工作计划"
    assert "计划中还没有批次" in page.get_by_test_id("empty-reason").inner_text()
    assert_accessible(page)

    page.get_by_test_id("new-batch").click()
    page.get_by_label("批次名称").fill("企业公示信息第一批")
    page.get_by_label("检查结束日期").fill("2026-12-25")
    # No check item: refused with its message, the typed values kept.
    page.get_by_test_id("save-batch").click()
    assert "请至少选择一个抽查事项" in page.get_by_test_id("error").first.inner_text()
    assert page.get_by_label("批次名称").input_value() == "企业公示信息第一批"
    assert_accessible(page)
    page.screenshot(path=str(live_data_screenshot(f"iplan-batch-form-{width}")), full_page=True)

    page.get_by_label("SJ-001 企业公示信息情况检查", exact=False).check()
    page.get_by_label("D 信用风险高", exact=True).select_option("ratio")
    page.get_by_label("D 信用风险高：比例（%）或数量").fill("5")
    page.get_by_test_id("save-batch").click()
    assert page.get_by_test_id("batch-status").inner_text() == "草稿"
    assert (
        "已新建第 1 批“企业公示信息第一批”（草稿）" in page.locator(".alert-success").inner_text()
    )
    assert "高于一般检查事项的默认比例 3%" in page.locator(".alert-warning").inner_text()
    quotas = page.get_by_test_id("quotas").inner_text()
    assert "A 信用风险低：按比例 3%" in quotas and "D 信用风险高：按比例 5%" in quotas
    assert page.get_by_test_id("step-draw").is_visible()
    assert "尚未抽取" in page.get_by_test_id("no-draws").inner_text()
    assert_accessible(page)
    page.screenshot(path=str(live_data_screenshot(f"iplan-batch-{width}")), full_page=True)

    page.get_by_role("link", name="开原市2026年度双随机抽查工作计划").click()
    assert page.get_by_test_id("batch-row").count() == 1
    page.screenshot(path=str(live_data_screenshot(f"iplan-plan-{width}")), full_page=True)

    page.goto(f"{base}/inspections/checkitems/")
    assert page.get_by_test_id("checkitem-row").count() >= 15
    assert_accessible(page)
    page.screenshot(path=str(live_data_screenshot(f"iplan-checkitems-{width}")), full_page=True)
    # The refused form answered 400 on purpose; nothing else failed.
    assert [e for e in page.console_errors if "status of 400" not in e] == []
