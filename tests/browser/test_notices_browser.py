"""The in-app notices: the unread count in the navigation, the list, marking read."""

import pytest

from qcity.core.demo import DEMO_PASSWORD
from qcity.core.models import OrgUnit, User
from qcity.core.notices import notify
from tests.browser.menu import open_menu_if_folded


@pytest.fixture
def two_notices(live_data):
    # Before the browser starts: the ORM is refused beside Playwright's event loop.
    nongye = User.objects.get(username="nongye")
    unit = OrgUnit.objects.get(name="市农业农村局")
    notify([nongye], unit, "催报：第一季度进展报告将于3月31日截止", "请于截止日前提交。")
    notify([nongye], None, "报告已退回：请补充佐证材料")
    notify([User.objects.get(username="gongxin")], None, "工信局的催报")
    return live_data


def test_a_liaison_sees_the_unread_count_reads_and_marks_notices(
    two_notices, page, assert_accessible
):
    base = two_notices.url
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("用户名").fill("nongye")
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}/")

    open_menu_if_folded(page)
    assert page.get_by_test_id("unread-count").inner_text().startswith("2")
    page.get_by_test_id("notices-link").click()
    page.wait_for_url(f"{base}/notices/")
    notices = page.get_by_test_id("notices")
    assert "催报：第一季度进展报告将于3月31日截止" in notices.inner_text()
    assert "工信局的催报" not in page.content()
    assert_accessible(page)

    page.get_by_role("button", name="标为已读", exact=True).first.click()
    page.wait_for_url(f"{base}/notices/")
    open_menu_if_folded(page)
    assert page.get_by_test_id("unread-count").inner_text().startswith("1")
    page.get_by_test_id("mark-all-read").click()
    page.wait_for_url(f"{base}/notices/")
    assert page.get_by_test_id("unread-count").count() == 0
    page.screenshot(path="var/screenshots/notices-390.png", full_page=True)
    assert page.console_errors == []
