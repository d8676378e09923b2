"""The registers in the browser: entity search and the inspector pool, desktop and phone."""

from __future__ import annotations

import pytest

from qcity.core.models import OrgUnit, User
from qcity.registry.models import Inspector, MarketEntity, Speciality
from tests.browser.menu import open_menu_if_folded
from tests.browser.test_plan_browser import _login, live_data_screenshot
from tests.registry.helpers import make_code

WIDTHS = {"desktop": (1366, 900), "phone": (390, 844)}


@pytest.fixture
def kaiyuan_register(live_data):
    """Sixty kaiyuan entities (two pages), two xifeng ones, three inspectors (before the browser)."""
    kaiyuan = OrgUnit.objects.get(name="开原市市场监督管理局")
    xifeng = OrgUnit.objects.get(name="西丰县市场监督管理局")
    words = ["奶粉店", "食品超市", "大药房", "五金商店", "饭店"]
    MarketEntity.objects.bulk_create(
        [
            MarketEntity(
                code=make_code("211282", i),
                name=f"开原市{'金鑫宏达恒泰顺发'[i % 8]}{'兴隆福瑞'[i % 4]}{words[i % 5]}",
                kind=MarketEntity.Kind.ENTERPRISE,
                region_code="211282",
                owner_unit=kaiyuan,
                industry_code="F5221",
                risk_class="ABCD"[i % 4],
                on_abnormal_list=i % 7 == 0,
            )
            for i in range(60)
        ]
        + [
            MarketEntity(
                code=make_code("211223", i),
                name=f"西丰县鹿茸奶粉店{i}",
                kind=MarketEntity.Kind.INDIVIDUAL,
                region_code="211223",
                owner_unit=xifeng,
            )
            for i in range(2)
        ]
    )
    food, _ = Speciality.objects.get_or_create(code="food", defaults={"name": "食品"})
    station = OrgUnit.objects.get(name="开原市城区市场监督管理所")
    own = Inspector.objects.create(
        name="吴执法",
        certificate_no="KY-0001",
        org_unit=station,
        user=User.objects.get(username="inspector"),
    )
    own.specialities.add(food)
    Inspector.objects.create(name="孙检查", certificate_no="KY-0002", org_unit=kaiyuan)
    Inspector.objects.create(name="周检查", certificate_no="XF-0001", org_unit=xifeng)
    return live_data


@pytest.mark.parametrize("size", list(WIDTHS))
def test_a_county_officer_searches_the_register_and_keeps_the_pool(
    kaiyuan_register, page, assert_accessible, size
):
    base = kaiyuan_register.url
    width, height = WIDTHS[size]
    page.set_viewport_size({"width": width, "height": height})
    _login(page, base, "kaiyuan")
    page.goto(f"{base}/registry/entities/")
    assert page.get_by_test_id("result-count").inner_text() == "共 60 个市场主体"
    assert "鹿茸" not in page.content()
    page.get_by_label("名称或统一社会信用代码").fill("奶粉")
    page.get_by_label("信用风险分类").select_option("A")
    page.get_by_role("button", name="搜索").click()
    rows = page.get_by_test_id("entity-row")
    assert rows.count() == 3 and all("奶粉" in t for t in rows.all_inner_texts())
    assert_accessible(page)
    page.screenshot(path=live_data_screenshot(f"registry-entities-{size}"), full_page=True)

    # One character is refused with a reason and a way forward, not an error.
    page.get_by_label("名称或统一社会信用代码").fill("奶")
    page.get_by_role("button", name="搜索").click()
    assert "两个字" in page.get_by_test_id("search-refused").inner_text()

    page.get_by_role("link", name="清除条件").click()
    page.get_by_test_id("entity-row").first.get_by_role("link").click()
    assert page.get_by_test_id("entity-name").is_visible()
    assert_accessible(page)

    page.goto(f"{base}/registry/inspectors/")
    assert page.get_by_test_id("inspector-row").count() == 2
    assert "周检查" not in page.content()
    assert_accessible(page)
    page.screenshot(path=live_data_screenshot(f"registry-inspectors-{size}"), full_page=True)

    page.get_by_role("link", name="孙检查").click()
    page.get_by_label("停用原因").fill("调离")
    page.get_by_role("button", name="停用", exact=True).click()
    assert page.get_by_test_id("inactive").is_visible()
    assert page.get_by_label("市场主体统一社会信用代码").count() == 0  # none for the inactive


def test_an_inspector_declares_a_conflict_on_the_phone(kaiyuan_register, page, assert_accessible):
    base = kaiyuan_register.url
    _login(page, base, "inspector")
    open_menu_if_folded(page)
    page.get_by_role("link", name="执法人员", exact=True).click()
    page.get_by_test_id("own-record").click()
    page.get_by_label("市场主体统一社会信用代码").fill(make_code("211282", 5).lower())
    page.get_by_label("回避事由").fill("配偶在该企业任职")
    page.get_by_role("button", name="申报回避").click()
    assert page.get_by_test_id("conflict").count() == 1
    assert "配偶在该企业任职" in page.get_by_test_id("conflict").inner_text()
    assert_accessible(page)
    page.screenshot(path=live_data_screenshot("registry-conflict-phone"), full_page=True)
