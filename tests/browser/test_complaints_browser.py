"""A county officer on a phone (390 px) handles a complaint: list → case → 受理 → 开始调解 →
达成调解协议, and sees the complainant in full once; then the same pages at 1366 px.
axe on every page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.menu import open_menu_if_folded
from tests.browser.test_plan_browser import _login, live_data_screenshot

PHONE = "13800138000"


@pytest.fixture
def complaint(live_data):
    """One complaint received today at 开原 (created before the browser starts)."""
    from django.utils import timezone

    from qcity.core import rulebook
    from tests.complaints.helpers import make_case, make_entity

    today = timezone.localdate()
    due = rulebook.deadline("complaint.accept", today)
    entity = make_entity(name="开原家电城")
    case = make_case(
        entity=entity,
        received_on=today,
        due_on=due.due,
        due_rule=due.rule,
        due_calendar_version=due.calendar_version,
        name="张三丰",
        phone=PHONE,
        goods="电热水壶",
        facts="购买的电热水壶<script>alert(1)</script>使用三天后漏电，商家拒绝退货。",
    )
    return case.number


def test_a_county_officer_accepts_mediates_and_closes_a_complaint_on_a_phone(
    live_data, complaint, page, assert_accessible
):
    base = live_data.url
    _login(page, base, "kaiyuan")
    open_menu_if_folded(page)
    page.locator("#nav").get_by_role("link", name="投诉举报").click()
    page.wait_for_url(re.compile(r"/complaints/$"))
    row = page.locator("[data-testid=case-row]").filter(has_text=complaint)
    expect(row).to_contain_text("开原家电城")
    expect(page.locator("body")).not_to_contain_text(PHONE)
    assert_accessible(page)
    page.screenshot(path=str(live_data_screenshot("complaints-list-390")), full_page=True)

    row.get_by_role("link", name=complaint).click()
    expect(page.locator("[data-testid=case-title]")).to_contain_text(complaint)
    expect(page.locator("[data-testid=case-status]")).to_have_text("待受理")
    expect(page.locator("[data-testid=due-rule]")).to_contain_text("第十五条")
    # Hostile text is shown as text.
    expect(page.locator("[data-testid=facts]")).to_contain_text("<script>alert(1)</script>")
    assert_accessible(page)

    page.locator("[data-testid=step-accept] summary").click()
    page.get_by_test_id("take-accept").click()
    expect(page.locator("[data-testid=case-status]")).to_have_text("已受理待调解")
    expect(page.get_by_role("alert")).to_contain_text("已完成“受理”")
    expect(page.locator("[data-testid=due-rule]")).to_contain_text("第二十三条第一款第（五）项")

    page.locator("[data-testid=step-mediate] summary").click()
    page.locator("[data-testid=step-mediate]").get_by_label("调解方式").select_option(
        label="远程调解"
    )
    page.get_by_test_id("take-mediate").click()
    expect(page.locator("[data-testid=case-status]")).to_have_text("调解中")
    expect(page.locator("[data-testid=mediation-mode]")).to_contain_text("远程调解")
    assert_accessible(page)

    agree = page.locator("[data-testid=step-agree]")
    agree.locator("summary").click()
    agree.get_by_label("调解协议形式").select_option(label="调解书")
    agree.get_by_label("挽回经济损失（元）").fill("299.00")
    page.get_by_test_id("take-agree").click()
    expect(page.locator("[data-testid=case-status]")).to_have_text("已办结")
    expect(page.locator("[data-testid=case-outcome]")).to_have_text("调解成功")
    expect(page.locator("[data-testid=case-facts]")).to_contain_text("299.00")
    expect(page.locator("[data-testid=timeline-entry]")).to_have_count(3)
    expect(page.locator("[data-testid=no-steps]")).to_be_visible()
    assert_accessible(page)
    page.screenshot(path=str(live_data_screenshot("complaints-case-390")), full_page=True)

    # The handling officer sees the complainant once, on purpose (audited).
    page.get_by_test_id("reveal").click()
    expect(page.get_by_test_id("full-phone")).to_have_text(PHONE)
    assert_accessible(page)

    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(f"{base}/complaints/?status=closed")
    expect(page.locator("[data-testid=case-row]")).to_have_count(1)
    assert_accessible(page)
    page.screenshot(path=str(live_data_screenshot("complaints-list-1366")), full_page=True)
    page.goto(f"{base}/complaints/{complaint}/")
    expect(page.locator("[data-testid=timeline]")).to_contain_text("达成调解协议")
    assert_accessible(page)
    page.goto(f"{base}/complaints/rules/")
    expect(page.locator("[data-testid=rules-table]")).to_contain_text("complaint.mediation")
    assert_accessible(page)
    assert page.console_errors == []


def test_another_county_finds_nothing_in_the_browser(live_data, complaint, page):
    base = live_data.url
    _login(page, base, "xifeng")
    page.goto(f"{base}/complaints/")
    expect(page.get_by_test_id("empty-reason")).to_contain_text("本单位还没有投诉举报件")
    response = page.goto(f"{base}/complaints/{complaint}/")
    assert response.status == 404
