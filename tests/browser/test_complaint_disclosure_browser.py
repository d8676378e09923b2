"""消费投诉信息公示 on the portal, anonymously, on a desktop and a phone, checked with axe."""

from __future__ import annotations

import datetime as dt

import pytest

from qcity.complaints import disclosure
from qcity.complaints.models import Case, OdrEnrolment
from qcity.core.models import Role
from tests.complaints.helpers import XIFENG_BUREAU, make_case, make_entity
from tests.complaints.test_disclosure import category, issue
from tests.conftest import make_user


@pytest.fixture
def disclosed(live_data):
    """Two enterprises' complaints of September and October 2026, published by the timer."""
    officer = make_user("disclosure_officer", Role.COUNTY_OFFICER, "开原市市场监督管理局")
    goods, issue_type = category("家用电器", 1), issue("质量", 1)
    shop = make_entity(name="开原市明亮家电商行")
    market = make_entity(XIFENG_BUREAU, name="西丰县丰收超市")
    OdrEnrolment.objects.create(entity=shop, joined_on=dt.date(2026, 1, 5), enrolled_by=officer)
    for day in (dt.date(2026, 9, 8), dt.date(2026, 10, 9), dt.date(2026, 10, 10)):
        make_case(entity=shop, received_on=day, category=goods, issue_type=issue_type)
    make_case(
        entity=shop,
        received_on=dt.date(2026, 10, 12),
        odr=True,
        status=Case.Status.CLOSED,
        outcome=Case.Outcome.ODR_SETTLED,
        category=goods,
    )
    make_case(entity=market, received_on=dt.date(2026, 10, 3), name="赵投诉")
    for period in ("2026-09", "2026-10"):
        disclosure.publish(period, by=None, today=dt.date(2026, 11, 2))
    return shop


@pytest.mark.parametrize("width", [1366, 390])
def test_the_public_finds_an_enterprises_complaint_figures(
    disclosed, page, live_data, assert_accessible, width
):
    base = live_data.url
    page.set_viewport_size({"width": width, "height": 900 if width > 400 else 844})
    page.goto(f"{base}/portal/")
    page.get_by_test_id("complaints-link").click()
    page.wait_for_url(f"{base}/portal/complaints/")
    rows = page.get_by_test_id("published-complaint")
    assert rows.count() == 2
    assert "开原市明亮家电商行" in rows.first.inner_text()
    assert "+200.0%" in page.get_by_test_id("growth").first.inner_text()  # 3 against 1
    assert page.get_by_test_id("odr-rate").first.inner_text().strip() == "100.0%"
    assert "赵投诉" not in page.content() and "张三丰" not in page.content()
    assert_accessible(page)

    page.get_by_label("经营者名称或统一社会信用代码").fill("明亮家电")
    page.get_by_role("button", name="查询").click()
    assert page.get_by_test_id("published-complaint").count() == 2  # September and October
    assert "找到 2 条公示信息" in page.get_by_test_id("result-count").inner_text()
    assert_accessible(page)

    page.get_by_role("link", name="开原市明亮家电商行").first.click()
    page.wait_for_url(f"{base}/portal/complaints/{disclosed.code}/")
    assert page.get_by_test_id("published-period").count() == 2
    assert page.get_by_role("heading", name="开原市明亮家电商行").is_visible()
    assert_accessible(page)
    assert page.console_errors == []
