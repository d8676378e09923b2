"""An ODR enterprise on a phone (390 px): opens its inbox, reads a complaint with the
complainant masked, is refused a bad amount, then settles. axe on every page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.menu import open_menu_if_folded
from tests.browser.test_plan_browser import _login


@pytest.fixture
def odr_rows(live_data):
    """An enrolled Kaiyuan shop with an account and one complaint in ODR (before the browser)."""
    from django.utils import timezone

    from qcity.complaints import odr
    from qcity.core.demo import DEMO_PASSWORD
    from qcity.core.models import User
    from tests.complaints.helpers import enterprise_user, make_case, make_entity

    entity = make_entity(name="开原市恒信商贸有限公司")
    user = enterprise_user(entity, "hengxin")
    user.set_password(DEMO_PASSWORD)
    user.save()
    odr.enrol(entity.pk, by=User.objects.get(username="kaiyuan"))
    case = make_case(
        entity=entity,
        received_on=timezone.localdate(),
        name="欧阳锋",
        phone="13912345678",
        request="退货退款",
    )
    assert odr.dispatch(case)
    case.save()
    return {"number": case.number, "days_left": odr.days_left(case)}


def test_an_odr_enterprise_settles_a_complaint_on_its_page(
    live_data, odr_rows, page, assert_accessible
):
    base = live_data.url
    _login(page, base, "hengxin")
    open_menu_if_folded(page)
    page.locator("#nav").get_by_role("link", name="ODR投诉处理").click()
    page.wait_for_url(re.compile(r"/complaints/odr/$"))
    row = page.locator("[data-testid=odr-case]")
    expect(row).to_contain_text(odr_rows["number"])
    expect(row.locator("[data-testid=days-left]")).to_have_text(
        f"剩余 {odr_rows['days_left']} 个工作日"
    )
    assert_accessible(page)

    row.get_by_role("link", name=odr_rows["number"]).click()
    expect(page.locator("[data-testid=person]")).to_have_text("欧** · 139****5678")
    expect(page.locator("[data-testid=request]")).to_have_text("退货退款")
    assert_accessible(page)

    form = page.locator("[data-testid=settle-form]")
    form.get_by_label("和解内容").fill("同意退货退款")
    form.get_by_label("赔付金额（元，可不填）").fill("-3")
    form.get_by_role("button", name="和解成功").click()
    expect(page.locator("[data-testid=error]")).to_contain_text("金额须大于零")
    expect(page.locator("[data-testid=case-status]")).to_have_text("企业自行和解中")
    assert_accessible(page)

    form = page.locator("[data-testid=settle-form]")
    expect(form.get_by_label("和解内容")).to_have_value("同意退货退款")
    form.get_by_label("赔付金额（元，可不填）").fill("299")
    form.get_by_role("button", name="和解成功").click()
    expect(page.get_by_role("alert").first).to_contain_text("已记录和解结果")
    expect(page.locator("[data-testid=case-status]")).to_have_text("已办结")
    expect(page.locator("[data-testid=payments]")).to_contain_text("299.00")
    expect(page.locator("[data-testid=agreed]")).to_have_text("同意退货退款")
    assert_accessible(page)
    # The one refused submission answered 400 (the browser logs it); nothing else failed.
    assert len(page.console_errors) == 1 and "status of 400" in page.console_errors[0]
