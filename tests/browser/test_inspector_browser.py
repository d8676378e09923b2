"""An inspector on a phone (390 px): opens a task, enters a result with two codes and a
photo, sees it done; the county bureau then closes a follow-up. axe on every page."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from tests.browser.menu import open_menu_if_folded
from tests.browser.test_plan_browser import _login, live_data_screenshot
from tests.core.test_files import png_bytes


@pytest.fixture
def inspection_rows(live_data, settings, tmp_path):
    """开原市's assigned batch: the demo inspector on both tasks; the second has a follow-up.

    Created before the browser starts (no ORM beside Playwright's event loop).
    """
    from qcity.core.models import User
    from qcity.inspections import services
    from tests.inspections.tasks_data import county_batch, result_codes

    settings.STORAGES = {
        **settings.STORAGES,
        "attachments": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "attachments")},
        },
    }
    result_codes()
    inspector = User.objects.get(username="inspector")
    county = county_batch(
        "开原市",
        "211282",
        User.objects.get(username="kaiyuan"),
        inspector_users=(inspector, None),
    )
    services.enter_result(
        inspector,
        county.tasks[1].pk,
        codes=["06"],
        findings="店内销售的预包装食品标签不全，涉嫌违法，待核查立案。",
        check_date=dt.date(2026, 9, 25),
    )
    return {
        "first": county.tasks[0].entity.name,
        "second": county.tasks[1].entity.name,
    }


def test_an_inspector_enters_a_result_with_two_codes_and_a_photo_on_a_phone(
    live_data, inspection_rows, page, assert_accessible
):
    base = live_data.url
    assert page.viewport_size["width"] == 390
    _login(page, base, "inspector")
    open_menu_if_folded(page)
    page.locator("#nav").get_by_role("link", name="我的检查任务").click()
    page.wait_for_url(re.compile(r"/inspections/tasks/$"))
    pending = page.locator("[data-testid=task-group-pending]")
    expect(pending).to_contain_text(inspection_rows["first"])
    expect(page.locator("[data-testid=task-group-checked]")).to_contain_text(
        inspection_rows["second"]
    )
    assert_accessible(page)
    page.screenshot(path=str(live_data_screenshot("tasks-list")), full_page=True)

    pending.get_by_role("link", name=inspection_rows["first"]).click()
    expect(page.locator("[data-testid=task-title]")).to_have_text(inspection_rows["first"])
    expect(page.locator("[data-testid=check-items]")).to_contain_text("企业信息公示暂行条例")
    assert_accessible(page)
    page.screenshot(path=str(live_data_screenshot("tasks-detail")), full_page=True)

    # A contradictory choice is refused with a message beside the choices; nothing is kept.
    form = page.locator("[data-testid=result-form]")
    form.get_by_label("未发现问题").check()
    form.get_by_label("发现问题已责令改正").check()
    form.get_by_label("检查情况").fill("年度报告未公示股东出资信息，已当场责令改正。")
    form.get_by_label("检查日期").fill("2026-09-25")
    form.get_by_role("button", name="提交检查结果").click()
    expect(page.locator("[data-testid=error-codes]")).to_contain_text("不能与其他检查结果同时选择")
    expect(page.locator("[data-testid=task-status]")).to_have_text("待检查")
    assert_accessible(page)

    form = page.locator("[data-testid=result-form]")
    form.get_by_label("未发现问题").uncheck()
    form.get_by_label("未按规定公示应当公示的信息").check()
    expect(form.get_by_label("发现问题已责令改正")).to_be_checked()
    expect(form.get_by_label("检查情况")).to_have_value(
        "年度报告未公示股东出资信息，已当场责令改正。"
    )
    form.get_by_label("检查日期").fill("2026-09-25")
    form.get_by_label("检查记录（照片或 PDF）").set_input_files(
        [{"name": "现场照片.png", "mimeType": "image/png", "buffer": png_bytes()}]
    )
    page.screenshot(path=str(live_data_screenshot("tasks-form")), full_page=True)
    form.get_by_role("button", name="提交检查结果").click()

    expect(page.get_by_role("alert").first).to_contain_text("检查结果已保存")
    expect(page.locator("[data-testid=task-status]")).to_have_text("已录入结果")
    codes = page.locator("[data-testid=result-codes]")
    expect(codes).to_contain_text("未按规定公示应当公示的信息")
    expect(codes).to_contain_text("发现问题已责令改正")
    expect(page.locator("[data-testid=record-files]")).to_contain_text("现场照片.png")
    # 20 working days after 2026-09-25 across 国庆 (tests/inspections/test_results.py).
    expect(page.locator("[data-testid=publish-due]")).to_contain_text("2026-10-29")
    assert_accessible(page)
    page.screenshot(path=str(live_data_screenshot("tasks-done")), full_page=True)

    page.get_by_role("link", name="我的检查任务").first.click()
    expect(page.locator("[data-testid=task-group-pending]")).to_have_count(0)
    expect(page.locator("[data-testid=task-group-checked] [data-testid=task]")).to_have_count(2)
    # The one refused submission answered 400 (the browser logs it); nothing else failed.
    assert len(page.console_errors) == 1 and "status of 400" in page.console_errors[0]


def test_the_county_bureau_sees_its_tasks_and_closes_a_follow_up(
    live_data, inspection_rows, page, assert_accessible
):
    base = live_data.url
    _login(page, base, "kaiyuan")
    page.goto(f"{base}/inspections/tasks/")
    expect(page.locator("[data-testid=filters]")).to_be_visible()
    expect(page.locator("[data-testid=task]")).to_have_count(2)
    assert_accessible(page)
    page.goto(f"{base}/inspections/tasks/?q=不存在的名称")
    expect(page.locator("[data-testid=empty-reason]")).to_contain_text("没有符合筛选条件")
    assert_accessible(page)

    page.get_by_role("link", name="后续处理").click()
    expect(page.locator("[data-testid=follow-up]")).to_contain_text(inspection_rows["second"])
    assert_accessible(page)
    page.screenshot(path=str(live_data_screenshot("tasks-followups")), full_page=True)
    page.locator("[data-testid=follow-up] a").first.click()
    close = page.locator("[data-testid=close-form]")
    close.get_by_label("已立案查处").check()
    close.get_by_label("处理结果").fill("已立案调查，案号开市监立〔2026〕12号。")
    assert_accessible(page)
    close.get_by_role("button", name="办结").click()
    expect(page.get_by_role("alert").first).to_contain_text("后续处理已办结")
    expect(page.locator("[data-testid=followup-status]")).to_have_text("已办结")
    expect(page.locator("[data-testid=followup-resolution]")).to_have_text("已立案查处")
    assert_accessible(page)
    assert page.console_errors == []
