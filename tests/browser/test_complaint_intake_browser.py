"""The public files a complaint on the portal, gets a receipt and follows the case."""

from __future__ import annotations

import pytest

from tests.browser.test_plan_browser import live_data_screenshot
from tests.core.test_files import pdf_bytes


@pytest.fixture
def intake_settings(settings, tmp_path):
    # A lighter proof of work than production's: the test waits for the browser's real
    # WebCrypto loop, but on a shared CI machine.
    settings.COMPLAINT_POW_BITS = 10
    settings.STORAGES = {
        **settings.STORAGES,
        "attachments": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "attachments")},
        },
    }


@pytest.mark.parametrize("width", [1366, 390])
def test_the_public_files_a_complaint_gets_a_receipt_and_follows_it(
    intake_settings, page, live_data, assert_accessible, width
):
    base = live_data.url
    page.set_viewport_size({"width": width, "height": 900 if width > 400 else 844})
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(f"{base}/portal/")
    page.get_by_role("link", name="投诉举报", exact=True).click()
    page.wait_for_url(f"{base}/portal/complaints/new/")
    assert_accessible(page)

    page.get_by_label("姓名", exact=True).fill("王小明")
    page.get_by_label("联系电话").fill("13912345678")
    page.get_by_label("通讯地址").fill("辽宁省铁岭市开原市新华街道2号")
    page.get_by_label("被投诉（举报）人名称").fill("开原市<b>好运来</b>超市")
    page.get_by_label("被投诉（举报）人经营地址").fill("辽宁省铁岭市开原市新华路8号")
    page.get_by_label("商品服务类别").select_option(label="商品 · 家用电子电器类")
    page.get_by_label("投诉请求").fill("退货退款")
    page.get_by_label("事实与理由").fill("<script>alert(1)</script>电热水壶漏电。")
    page.get_by_label("证据材料（选填）").set_input_files(
        files=[{"name": "发票.pdf", "mimeType": "application/pdf", "buffer": pdf_bytes()}]
    )
    # Sent at once: the page finishes its proof of work first, then sends by itself.
    page.get_by_test_id("submit").click()
    page.get_by_test_id("receipt").wait_for(timeout=60_000)
    number = page.get_by_test_id("case-number").inner_text().strip()
    code = page.get_by_test_id("receipt-code").inner_text().strip()
    assert number.startswith("TS") and len(code) == 11
    assert_accessible(page)
    page.screenshot(path=str(live_data_screenshot(f"complaint-receipt-{width}")), full_page=True)

    page.get_by_role("link", name="查询办理进度").click()
    page.get_by_label("投诉举报编号").fill(number)
    page.get_by_label("查询码").fill(code)
    page.get_by_role("button", name="查询").click()
    assert page.get_by_test_id("follow-status").inner_text() == "已收到，等待受理"
    assert page.get_by_test_id("follow-due").count() == 1
    assert_accessible(page)
    assert page.console_errors == []
    assert dialogs == []  # the script typed into the facts never ran
