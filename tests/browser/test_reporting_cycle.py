"""One full reporting cycle in the browser (issue 7, "What must be shown", first bullet).

The coordinator opens Q1; two department liaisons submit, one with a PDF; the coordinator
returns one with a reason; the liaison reads the reason and resubmits; the coordinator
approves. The cycle page's completeness figures and the report's status follow each step.
"""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.menu import open_menu_if_folded
from tests.browser.test_plan_browser import _login, live_data_screenshot
from tests.reporting.conftest import pdf_bytes

NONGYE_TEXT = "本季度完成农产品质量安全例行监测 320 批次，合格率 98.4%。"


def _switch_to(page, base, username) -> None:
    page.context.clear_cookies()
    _login(page, base, username)


def _go_to_reporting(page, assert_accessible) -> None:
    open_menu_if_folded(page)
    page.locator("#nav").get_by_role("link", name="进展报送").click()
    page.wait_for_url(re.compile(r"/reporting/$"))
    assert page.locator(".navbar [aria-current=page]").inner_text() == "进展报送"
    assert_accessible(page)


def _write_first_report(page, base, assert_accessible, text, evidence=None) -> str:
    """The liaison opens 我的报告, writes its first report and submits it; returns its URL."""
    page.get_by_role("link", name="我的报告").click()
    assert "填写并报送" in page.locator("[data-testid=my-report]").first.inner_text()
    assert_accessible(page)
    page.locator("[data-testid=my-report] a").first.click()
    assert_accessible(page)
    page.get_by_label("按计划推进").check()
    page.get_by_label("进展情况").fill(text)
    page.get_by_label("第 1 项名称").fill("监测批次")
    page.get_by_label("第 1 项数值").fill("320")
    page.get_by_label("第 1 项单位").fill("批次")
    if evidence is not None:
        page.get_by_label("上传佐证材料").set_input_files(str(evidence))
    page.get_by_role("button", name="报送", exact=True).click()
    expect(page.get_by_role("alert").first).to_contain_text("已完成“报送”")
    expect(page.locator("[data-testid=report-status]")).to_have_text("已报送")
    assert_accessible(page)
    return page.url


def _completeness(page) -> str:
    return page.locator("[data-testid=completeness]").inner_text()


def test_one_reporting_cycle_from_opening_to_approval(page, live_data, assert_accessible, tmp_path):
    base = live_data.url
    evidence = tmp_path / "农产品抽检结果通报.pdf"
    evidence.write_bytes(pdf_bytes())

    # The coordinator opens Q1 2026 of the plan.
    _login(page, base, "coordinator")
    _go_to_reporting(page, assert_accessible)
    assert "尚未开启报送周期" in page.locator("[data-testid=empty-reason]").inner_text()
    form = page.locator("[data-testid=open-cycle]")
    form.get_by_label("报送频次").select_option(label="季报")
    form.get_by_label("年度").fill("2026")
    form.get_by_label("期数").fill("1")
    form.get_by_role("button", name="开启").click()
    expect(page.get_by_role("alert").first).to_contain_text("已开启“2026年第1季度”")
    assert page.locator("[data-testid=cycle-title]").inner_text() == "2026年第1季度季报"
    expected = int(re.search(r"应报 (\d+)", _completeness(page)).group(1))
    assert _completeness(page).startswith("已报送 0 / 应报")
    assert_accessible(page)
    cycle_url = page.url
    # The dashboard counts the new cycle at once: nothing received yet.
    page.goto(f"{base}/dashboard/")
    assert page.locator("[data-testid=latest-cycle]").inner_text() == "2026年第1季度"
    assert page.locator("[data-testid=latest-received]").inner_text() == f"0 / {expected}"
    assert page.locator("[data-testid=latest-completeness]").inner_text() == "0.0%"
    assert_accessible(page)
    # Opening the same quarter again is refused on the form, in Chinese.
    page.goto(f"{base}/reporting/")
    form = page.locator("[data-testid=open-cycle]")
    form.locator("summary").click()
    form.get_by_label("期数").fill("1")
    form.get_by_role("button", name="开启").click()
    expect(page.locator("[data-testid=open-cycle] [data-testid=form-error]")).to_contain_text(
        "日期重叠"
    )
    assert_accessible(page)
    page.screenshot(path=str(live_data_screenshot("cycle-list-390")), full_page=True)

    # Two department liaisons submit; 农业农村局 with a PDF.
    _switch_to(page, base, "nongye")
    _go_to_reporting(page, assert_accessible)
    nongye_url = _write_first_report(page, base, assert_accessible, NONGYE_TEXT, evidence)
    assert page.locator("[data-testid=evidence-link]").inner_text() == evidence.name
    _switch_to(page, base, "gongxin")
    _go_to_reporting(page, assert_accessible)
    gongxin_url = _write_first_report(
        page, base, assert_accessible, "本季度开展工业产品质量提升行动，走访企业 45 家。"
    )

    # The coordinator sees both arrive and returns 农业农村局's with a reason.
    _switch_to(page, base, "coordinator")
    page.goto(cycle_url)
    assert _completeness(page).startswith(f"已报送 2 / 应报 {expected}")
    assert page.locator("[data-testid=approved-count]").inner_text() == f"0 / {expected}"
    page.goto(f"{base}/dashboard/")
    assert page.locator("[data-testid=latest-received]").inner_text() == f"2 / {expected}"
    assert page.locator("[data-testid=latest-completeness]").inner_text() == (
        f"{200 / expected:.1f}%"
    )
    _go_to_reporting(page, assert_accessible)
    page.get_by_role("link", name="待我审核").click()
    assert page.locator("[data-testid=queue-row]").count() == 2
    assert_accessible(page)
    page.goto(nongye_url)
    with page.expect_download() as download:
        page.locator("[data-testid=evidence-link]").click()
    assert download.value.suggested_filename == evidence.name
    page.get_by_label("退回理由").fill("请补充合格率的计算依据和不合格批次的处置情况")
    page.get_by_role("button", name="退回").click()
    expect(page.locator("[data-testid=report-status]")).to_have_text("已退回")
    assert_accessible(page)

    # The liaison reads the reason and resubmits.
    _switch_to(page, base, "nongye")
    page.goto(f"{base}/reporting/mine/")
    assert (
        "按退回意见修改后重新报送" in page.locator("[data-testid=next-action]").first.inner_text()
    )
    page.screenshot(path=str(live_data_screenshot("my-reports-390")), full_page=True)
    assert_accessible(page)
    page.goto(nongye_url)
    assert "请补充合格率的计算依据" in page.locator("[data-testid=return-reason]").inner_text()
    assert page.get_by_label("进展情况").input_value() == NONGYE_TEXT
    page.screenshot(path=str(live_data_screenshot("report-form-390")), full_page=True)
    page.get_by_label("进展情况").fill(
        NONGYE_TEXT + "合格率按《农产品质量安全监测管理办法》计算，5 批次不合格产品已依法处置。"
    )
    page.get_by_role("button", name="重新报送").click()
    expect(page.locator("[data-testid=report-status]")).to_have_text("重新报送")
    assert_accessible(page)

    # The coordinator approves both; the history shows every step with its actor.
    _switch_to(page, base, "coordinator")
    for url in (nongye_url, gongxin_url):
        page.goto(url)
        page.get_by_role("button", name="审核通过").click()
        expect(page.locator("[data-testid=report-status]")).to_have_text("审核通过")
    page.goto(nongye_url)
    steps = page.locator("[data-testid=transition]")
    assert steps.count() == 4
    assert "请补充合格率的计算依据" in steps.nth(1).inner_text()
    assert "王协调" in steps.nth(1).inner_text()
    assert_accessible(page)
    page.set_viewport_size({"width": 1366, "height": 900})
    page.screenshot(path=str(live_data_screenshot("report-detail-1366")), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(live_data_screenshot("report-detail-390")), full_page=True)

    page.goto(cycle_url)
    assert _completeness(page).startswith(f"已报送 2 / 应报 {expected}")
    assert page.locator("[data-testid=approved-count]").inner_text() == f"2 / {expected}"
    page.get_by_text("各单位完成率与及时率").click()
    rates = page.locator("[data-testid=unit-rate]")
    nongye_rate = rates.filter(has_text="市农业农村局").inner_text()
    assert re.search(r"市农业农村局\s+\d+\s+1\s", nongye_rate)
    page.get_by_label("状态").select_option(label="审核通过")
    page.get_by_role("button", name="筛选").click()
    expect(page.locator("[data-testid=report-row]")).to_have_count(2)
    assert_accessible(page)
    page.screenshot(path=str(live_data_screenshot("cycle-detail-390")), full_page=True)
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(cycle_url)
    page.screenshot(path=str(live_data_screenshot("cycle-detail-1366")), full_page=True)
    assert page.console_errors == [] or all("/reporting/" in e for e in page.console_errors)
