"""The dashboard (驾驶舱) in the browser: charts drawn from the page's data under the CSP,
tables as their text alternative, axe at desktop and phone widths, for two roles."""

from __future__ import annotations

import pytest

from qcity.core.models import User
from qcity.core.workflow import take
from qcity.metrics import services as metric_services
from qcity.metrics.models import Indicator
from qcity.plans import target_links
from qcity.plans.models import Plan, Target
from qcity.reporting import services as reporting
from qcity.reporting.models import ProgressReport
from qcity.reporting.services import REPORT
from tests.browser.menu import open_menu_if_folded
from tests.browser.test_plan_browser import _login, live_data_screenshot

WIDTHS = (1366, 390)


@pytest.fixture
def living_plan(live_data):
    """Four quarters of reports and a linked target with figures (before the browser starts:
    the ORM is refused beside Playwright's event loop)."""
    plan = Plan.objects.get()
    coordinator = User.objects.get(username="coordinator")
    indicator = Indicator.objects.get(name="农产品质量安全例行监测合格率")
    target = Target.objects.get(plan=plan, indicator_name=indicator.name)
    target_links.link_indicator(target.pk, indicator.pk, by=coordinator)
    owner = User.objects.get(username="nongye")
    for period, value in (("2022", "96.5"), ("2023", "97.1"), ("2024", "97.4"), ("2025", "97.8")):
        metric_services.enter_value(
            indicator.pk, period=period, value=value, unit=indicator.unit, by=owner
        )
    reporters = {u.unit_id: u for u in User.objects.filter(role="department_liaison")}
    for quarter in (1, 2, 3):
        cycle = reporting.open_cycle(plan, "quarterly", 2026, quarter, by=coordinator).cycle
        for i, report in enumerate(
            ProgressReport.objects.filter(cycle=cycle, org_unit_id__in=reporters).order_by("pk")
        ):
            if (i + quarter) % 3 == 0:
                continue  # some reports never come
            user = reporters[report.org_unit_id]
            progress = ("on_track", "at_risk", "done", "blocked")[i % 4]
            reporting.save_report(user, report.pk, progress=progress, narrative="本期进展。")
            take(REPORT, "submit", report.pk, by=user)
    return live_data


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("username", ["coordinator", "nongye"])
def test_the_dashboard_draws_its_charts_and_passes_axe(
    living_plan, page, assert_accessible, username, width
):
    base = living_plan.url
    page.set_viewport_size({"width": width, "height": 900})
    _login(page, base, username)
    open_menu_if_folded(page)
    page.get_by_role("link", name="驾驶舱").click()
    page.wait_for_url(f"{base}/dashboard/")
    # The navigation marks where one is (collapsed on a phone, so not by role).
    assert page.locator('#nav a[href="/dashboard/"]').get_attribute("aria-current") == "page"
    # Every chart box got a canvas from ECharts, which read the json_script data.
    charts = page.locator("[data-chart]")
    assert charts.count() >= 4
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-chart]')].every(e => e.querySelector('canvas'))"
    )
    assert page.get_by_test_id("latest-cycle").inner_text() == "2026年第3季度"
    assert page.get_by_test_id("target-card").count() == 1
    rows = page.get_by_test_id("heat-row")
    if username == "nongye":
        assert [r.get_attribute("data-unit") for r in rows.all()] == ["市农业农村局"]
    else:
        assert rows.count() > 5
    # The tables carry the same numbers as the charts.
    for summary in page.locator("details summary").all():
        summary.click()
    assert_accessible(page)
    page.screenshot(path=str(live_data_screenshot(f"dashboard-{username}-{width}")), full_page=True)

    # Drill-down: chapter → measure → report.
    page.get_by_test_id("chapter-row").first.get_by_role("link").click()
    page.wait_for_url(f"{base}/dashboard/chapters/**")
    assert page.get_by_test_id("measure").count() > 0
    assert page.get_by_test_id("report-row").count() > 0
    if username == "nongye":
        units = {r.get_attribute("data-unit") for r in page.get_by_test_id("report-row").all()}
        assert units == {"市农业农村局"}
    assert_accessible(page)
    assert page.console_errors == []
