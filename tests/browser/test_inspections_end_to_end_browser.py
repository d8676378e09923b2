"""双随机、一公开 end to end in the browser: the county bureau makes a plan and a batch, draws
and assigns it (desktop); the inspector enters the results on a phone (390 px); the bureau
publishes them; the public portal, without login, shows them. axe on every page."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_plan_browser import _login, live_data_screenshot


@pytest.fixture
def kaiyuan_register(live_data, settings, tmp_path):
    """Six retailers of 开原 (class B) and two inspectors with the registration speciality:
    the demo inspector (login) and a colleague of the bureau. Made before the browser starts."""
    from qcity.core.models import OrgUnit, User
    from qcity.registry.codes import make_uscc
    from qcity.registry.models import Inspector, MarketEntity, Speciality

    # Draw snapshots and published population files in the test's own directories.
    local = {
        name: {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / name)},
        }
        for name in ("attachments", "publication")
        if name in settings.STORAGES
    }
    settings.STORAGES = {**settings.STORAGES, **local}
    bureau = OrgUnit.objects.get(name="开原市市场监督管理局")
    names = [f"开原市{w}超市有限公司" for w in ("福源", "鑫达", "惠民", "兴隆", "金穗", "龙泰")]
    MarketEntity.objects.bulk_create(
        MarketEntity(
            code=make_uscc("211282", n),
            name=name,
            kind=MarketEntity.Kind.ENTERPRISE,
            region_code="211282",
            owner_unit=bureau,
            industry_code="F5212",
            risk_class="B",
        )
        for n, name in enumerate(names, start=1)
    )
    registration = Speciality.objects.get(code="registration")
    inspector = User.objects.get(username="inspector")
    for user, name, unit in ((inspector, "吴执法", inspector.unit), (None, "孙执法", bureau)):
        Inspector.objects.create(
            user=user, name=name, certificate_no=f"E2E-{name}", org_unit=unit
        ).specialities.add(registration)
    return names


def test_plan_draw_assignment_result_on_a_phone_and_publication_on_the_portal(
    live_data, kaiyuan_register, page, assert_accessible
):
    base = live_data.url
    today = dt.date.today()
    page.set_viewport_size({"width": 1366, "height": 900})

    # 1. The county bureau: plan, batch (two of the six, class B), draw, assignment.
    _login(page, base, "kaiyuan")
    page.get_by_role("link", name="双随机抽查").click()
    new_plan = page.get_by_test_id("new-plan")
    new_plan.get_by_label("计划名称").fill("开原市年度双随机抽查工作计划")
    new_plan.get_by_role("button", name="新建").click()
    page.get_by_test_id("new-batch").click()
    page.get_by_label("批次名称").fill("企业公示信息抽查")
    page.get_by_label("检查结束日期").fill((today + dt.timedelta(days=30)).isoformat())
    page.get_by_label("SJ-001 企业公示信息情况检查", exact=False).check()
    page.get_by_label("B 信用风险一般", exact=True).select_option("count")
    page.get_by_label("B 信用风险一般：比例（%）或数量").fill("2")
    page.get_by_test_id("save-batch").click()
    expect(page.get_by_test_id("batch-status")).to_have_text("草稿")
    page.get_by_test_id("step-draw").click()
    expect(page.get_by_test_id("batch-status")).to_have_text("已抽取")
    expect(page.get_by_test_id("draw-row")).to_have_count(1)
    assert_accessible(page)
    page.get_by_test_id("step-assign").click()
    expect(page.get_by_test_id("batch-status")).to_have_text("已分派")
    expect(page.get_by_test_id("task-row")).to_have_count(2)
    drawn = [n for n in kaiyuan_register if n in page.get_by_test_id("tasks").inner_text()]
    assert len(drawn) == 2
    assert_accessible(page)
    page.screenshot(path=str(live_data_screenshot("e2e-batch")), full_page=True)

    # 2. The inspector, on a phone, enters both results (谁检查谁录入).
    page.context.clear_cookies()
    page.set_viewport_size({"width": 390, "height": 844})
    _login(page, base, "inspector")
    for name in drawn:
        page.goto(f"{base}/inspections/tasks/")
        page.locator("[data-testid=task-group-pending]").get_by_role("link", name=name).click()
        expect(page.locator("[data-testid=task-title]")).to_have_text(name)
        form = page.locator("[data-testid=result-form]")
        form.get_by_label("未发现问题").check()
        form.get_by_label("检查日期").fill(today.isoformat())
        assert_accessible(page)
        form.get_by_role("button", name="提交检查结果").click()
        expect(page.locator("[data-testid=task-status]")).to_have_text("已录入结果")
    page.screenshot(path=str(live_data_screenshot("e2e-result-phone")), full_page=True)

    # 3. The bureau publishes them (on time: no reason needed).
    page.context.clear_cookies()
    page.set_viewport_size({"width": 1366, "height": 900})
    _login(page, base, "kaiyuan")
    page.goto(f"{base}/inspections/publication/")
    expect(page.get_by_test_id("due-task")).to_have_count(2)
    assert_accessible(page)
    for _ in drawn:
        page.get_by_test_id("due-task").first.get_by_role("button", name="公示").click()
        page.wait_for_load_state()
    expect(page.get_by_test_id("due-task")).to_have_count(0)

    # 4. Anyone, without login, finds them on the portal; no inspector's name is there.
    page.context.clear_cookies()
    page.goto(f"{base}/portal/")
    text = page.locator("main").inner_text()
    for name in drawn:
        assert name in text
    assert "吴执法" not in page.content() and "孙执法" not in page.content()
    assert_accessible(page)
    page.screenshot(path=str(live_data_screenshot("e2e-portal")), full_page=True)
    assert re.search(r"/portal/", page.url)
    assert page.console_errors == []
