"""双随机、一公开 end to end, through the pages only: a county bureau makes a plan and a batch,
draws the entities, assigns the inspectors; an inspector enters a result on a phone; the
bureau publishes it and the draw record; the public reads both on the portal, without login
and without anybody's personal data. axe runs on every page visited."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.menu import open_menu_if_folded
from tests.browser.test_plan_browser import _login, live_data_screenshot

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}
# Distinctive markers: none of them may ever reach a public page.
SECOND_INSPECTOR = "端木检查员"
CERTIFICATES = ("21128201E2E001", "21128201E2E002")
FINDINGS = "现场核查E2E标记：账簿齐全"


@pytest.fixture
def kaiyuan_register(live_data, settings, tmp_path):
    """Eight entities of 开原市 (four D, four A) and its two inspectors, one of them the demo
    inspector. Created before the browser starts (no ORM beside Playwright's event loop)."""
    from django.utils import timezone

    from qcity.core.models import OrgUnit, User
    from qcity.registry.codes import make_uscc
    from qcity.registry.models import Inspector, MarketEntity, Speciality

    settings.STORAGES = {
        **settings.STORAGES,
        "attachments": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "attachments")},
        },
    }
    bureau = OrgUnit.objects.get(name="开原市市场监督管理局")
    names = ["金穗", "兴隆", "福源", "康达", "顺发", "华联", "益民", "鑫盛"]
    for serial, name in enumerate(names, start=1):
        MarketEntity.objects.create(
            code=make_uscc("211282", 880_000 + serial),
            name=f"开原市{name}食品有限公司",
            kind=MarketEntity.Kind.ENTERPRISE,
            region_code="211282",
            owner_unit=bureau,
            industry_code="F5221",
            address=f"开原市新华街{serial}号",
            risk_class="D" if serial <= 4 else "A",
        )
    inspector = User.objects.get(username="inspector")
    # SJ-001 (企业公示信息) asks for the 登记注册 speciality (inspections.defaults).
    registration = Speciality.objects.get(code="registration")
    for user, name, certificate in (
        (inspector, inspector.full_name, CERTIFICATES[0]),
        (None, SECOND_INSPECTOR, CERTIFICATES[1]),
    ):
        pooled = Inspector.objects.create(
            user=user, name=name, certificate_no=certificate, org_unit=bureau
        )
        pooled.specialities.add(registration)
    # The server's today (Asia/Shanghai), not the browser's UTC date: the batch window
    # starts on it and a check may not be dated before the window.
    return timezone.localdate().isoformat()


def _logout(page, base) -> None:
    # Not via /portal/: its pages may be cached for a few minutes, by design.
    page.context.clear_cookies()
    page.goto(f"{base}/accounts/login/")


def test_plan_draw_assignment_result_on_a_phone_and_publication_on_the_portal(
    live_data, kaiyuan_register, page, assert_accessible
):
    base = live_data.url

    # 1. The county bureau plans a batch on a desktop: D entities all, A at the item's 3 %.
    page.set_viewport_size(DESKTOP)
    _login(page, base, "kaiyuan")
    page.get_by_role("link", name="双随机抽查").click()
    new_plan = page.get_by_test_id("new-plan")
    new_plan.get_by_label("计划名称").fill("开原市2026年度双随机抽查工作计划")
    new_plan.get_by_role("button", name="新建").click()
    page.get_by_test_id("new-batch").click()
    page.get_by_label("批次名称").fill("食品经营企业公示信息抽查")
    page.get_by_label("检查结束日期").fill("2026-12-25")
    page.get_by_label("SJ-001 企业公示信息情况检查", exact=False).check()
    page.get_by_label("D 信用风险高", exact=True).select_option("ratio")
    page.get_by_label("D 信用风险高：比例（%）或数量").fill("100")
    page.get_by_test_id("save-batch").click()
    expect(page.get_by_test_id("batch-status")).to_have_text("草稿")
    assert_accessible(page)

    # 2. The draw: one attempt, recorded with its digest; then the assignment.
    page.get_by_test_id("step-draw").click()
    expect(page.get_by_test_id("batch-status")).to_have_text("已抽取")
    expect(page.get_by_test_id("draw-row")).to_have_count(1)
    draws = page.get_by_test_id("draws").inner_text()
    assert re.search(r"[0-9a-f]{16}", draws), draws  # the population digest is shown
    assert_accessible(page)
    page.get_by_test_id("step-assign").click()
    expect(page.get_by_test_id("batch-status")).to_have_text("已分派")
    # Four D entities (100 %) and one A entity (ceil(4 × 3 %) = 1).
    expect(page.get_by_test_id("task-row")).to_have_count(5)
    tasks = page.get_by_test_id("tasks").inner_text()
    assert "吴执法" in tasks and SECOND_INSPECTOR in tasks  # the team, to internal users
    assert_accessible(page)
    page.screenshot(path=str(live_data_screenshot("flow-batch-assigned-1366")), full_page=True)

    # 3. The inspector, on a phone, enters the result of one task (谁检查谁录入).
    _logout(page, base)
    page.set_viewport_size(PHONE)
    _login(page, base, "inspector")
    open_menu_if_folded(page)
    page.locator("#nav").get_by_role("link", name="我的检查任务").click()
    pending = page.get_by_test_id("task-group-pending")
    expect(pending.get_by_test_id("task")).to_have_count(5)
    assert_accessible(page)
    pending.get_by_test_id("task-link").first.click()
    entity = page.get_by_test_id("task-title").inner_text()
    form = page.get_by_test_id("result-form")
    form.get_by_label("未发现问题").check()
    form.get_by_label("检查情况").fill(FINDINGS)
    form.get_by_label("检查日期").fill(kaiyuan_register)
    assert_accessible(page)
    form.get_by_role("button", name="提交检查结果").click()
    expect(page.get_by_test_id("task-status")).to_have_text("已录入结果")
    assert_accessible(page)
    page.screenshot(path=str(live_data_screenshot("flow-result-390")), full_page=True)

    # 4. The bureau publishes the result and the draw record (一公开).
    _logout(page, base)
    page.set_viewport_size(DESKTOP)
    _login(page, base, "kaiyuan")
    page.goto(f"{base}/inspections/publication/")
    row = page.get_by_test_id("due-task").filter(has_text=entity)
    expect(row).to_have_count(1)
    assert_accessible(page)
    row.get_by_role("button", name="公示").click()
    expect(page.locator(".alert-success").first).to_contain_text("已公示 1 条检查结果")
    page.get_by_test_id("unpublished-draw").first.get_by_role("button", name="公示抽取记录").click()
    expect(page.get_by_test_id("unpublished-draw")).to_have_count(0)
    assert_accessible(page)

    # 5. The public, without login, on a phone: the result and the draw record, no personal data.
    _logout(page, base)
    page.set_viewport_size(PHONE)
    page.goto(f"{base}/portal/")
    assert "/accounts/login/" not in page.url
    expect(page.get_by_test_id("published-result").filter(has_text=entity)).to_have_count(1)
    assert_accessible(page)
    page.get_by_test_id("published-result").filter(has_text=entity).get_by_role(
        "link"
    ).first.click()
    expect(page.get_by_test_id("result")).to_contain_text("未发现问题")
    assert_accessible(page)
    page.goto(f"{base}/portal/draws/")
    expect(page.get_by_test_id("published-draw")).to_have_count(1)
    page.get_by_test_id("published-draw").get_by_role("link").first.click()
    expect(page.get_by_test_id("download-record")).to_be_visible()
    assert_accessible(page)
    page.screenshot(path=str(live_data_screenshot("flow-portal-draw-390")), full_page=True)
    for url in (f"{base}/portal/", page.url):
        page.goto(url)
        text = page.content()
        for private in (
            "吴执法",
            SECOND_INSPECTOR,
            FINDINGS,
            "inspector",
            "kaiyuan",
            *CERTIFICATES,
        ):
            assert private not in text, (url, private)
    assert page.console_errors == []
