"""The coordinator adjusts and publishes the annual assessment; a liaison reads it."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from qcity.assessment import services
from qcity.assessment.models import Rule, Scheme
from qcity.assessment.services import SCHEME
from qcity.core.models import User
from qcity.core.workflow import take
from qcity.plans.models import Plan
from qcity.reporting import services as reporting
from qcity.reporting.models import ProgressReport
from qcity.reporting.services import REPORT
from tests.browser.menu import open_menu_if_folded
from tests.browser.test_plan_browser import _login, live_data_screenshot


@pytest.fixture
def computed_assessment(live_data) -> Scheme:
    """Q1 2026 with two departments' reports, and a computed default scheme (before the browser)."""
    coordinator = User.objects.get(username="coordinator")
    nongye = User.objects.get(username="nongye")
    plan = Plan.objects.get()
    with time_machine.travel(dt.datetime(2026, 4, 1, 10, tzinfo=dt.UTC), tick=False):
        cycle = reporting.open_cycle(plan, "quarterly", 2026, 1, by=coordinator).cycle
    with time_machine.travel(dt.datetime(2026, 4, 3, 10, tzinfo=dt.UTC), tick=False):
        for report in ProgressReport.objects.filter(cycle=cycle, org_unit=nongye.unit):
            reporting.save_report(nongye, report.pk, progress="on_track", narrative="按计划推进。")
            take(REPORT, "submit", report.pk, by=nongye)
            take(REPORT, "approve", report.pk, by=coordinator)
    scheme = services.create_scheme(plan, 2026, by=coordinator)
    take(SCHEME, "compute", scheme, by=coordinator)
    qualitative = scheme.criteria.get(rule=Rule.QUALITATIVE)
    for result in scheme.results.all():
        services.score_qualitative(
            coordinator, scheme.pk, qualitative.pk, result.unit_id, points=80, comment="良好"
        )
    return scheme


def test_the_coordinator_adjusts_and_publishes_and_a_liaison_reads_the_ranking(
    computed_assessment, page, live_data, assert_accessible
):
    base, scheme = live_data.url, computed_assessment
    _login(page, base, "coordinator")
    page.goto(f"{base}/assessment/")
    page.get_by_role("link", name=scheme.title).click()
    assert_accessible(page)
    form = page.locator("[data-testid=adjust-form]")
    form.get_by_label("单位").select_option(label="市农业农村局")
    form.get_by_label("分值（加分为正，减分为负）").fill("-1.5")
    form.get_by_role("button", name="保存加减分").click()
    # The reason is required in the browser too; nothing was stored.
    assert page.locator("[data-testid=adjustment]").count() == 0
    form.get_by_label("理由").fill("第一季度报告数据口径与统计局不一致")
    form.get_by_role("button", name="保存加减分").click()
    assert "已为市农业农村局加减分" in page.locator(".alert-success").inner_text()
    assert page.locator("[data-testid=adjustment]").count() == 1
    page.get_by_test_id("step-publish").click()
    assert page.get_by_test_id("scheme-status").inner_text() == "已发布"
    assert_accessible(page)
    page.screenshot(path=str(live_data_screenshot("assessment-ranking")), full_page=True)
    page.context.clear_cookies()

    _login(page, base, "nongye")
    open_menu_if_folded(page)
    page.get_by_role("link", name="年度考核").click()
    page.get_by_role("link", name=scheme.title).click()
    table = page.get_by_test_id("ranking-department")
    assert table.get_by_role("row").count() > 2
    table.get_by_role("link", name="市农业农村局").click()
    assert "第一季度报告数据口径与统计局不一致" in page.get_by_test_id("adjustment").inner_text()
    assert page.get_by_test_id("score").count() == 4
    assert_accessible(page)
    assert page.console_errors == []
