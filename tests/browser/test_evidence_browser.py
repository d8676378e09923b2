"""The owner enters a figure with an evidence file in the browser and downloads it back."""

from tests.browser.test_plan_browser import _login
from tests.core.test_files import pdf_bytes


def test_the_owner_attaches_evidence_to_a_figure_and_a_bad_file_is_refused_beside_it(
    page, live_data, assert_accessible, settings, tmp_path
):
    settings.STORAGES = {
        **settings.STORAGES,
        "attachments": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "attachments")},
        },
    }
    base = live_data.url
    _login(page, base, "nongye")
    page.goto(f"{base}/indicators/")
    page.get_by_role("link", name="农产品质量安全例行监测合格率").click()
    form = page.locator("[data-testid=value-form]")
    form.get_by_label("统计期").fill("2024")
    form.get_by_label("数值").fill("97.5")
    form.get_by_label("计量单位").fill("%")
    form.get_by_label("佐证材料").set_input_files(
        [{"name": "监测报告.txt.pdf", "mimeType": "application/pdf", "buffer": b"not a pdf"}]
    )
    form.get_by_role("button", name="保存").click()
    error = page.locator("#id_evidence-error")
    assert "监测报告.txt.pdf" in error.inner_text()
    assert page.locator("[data-testid=value]").count() == 0  # nothing stored
    assert_accessible(page)

    form = page.locator("[data-testid=value-form]")
    form.get_by_label("佐证材料").set_input_files(
        [{"name": "监测报告.pdf", "mimeType": "application/pdf", "buffer": pdf_bytes()}]
    )
    form.get_by_role("button", name="保存").click()
    link = page.locator("[data-testid=evidence] a")
    assert link.inner_text() == "监测报告.pdf"
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == "监测报告.pdf"
    assert_accessible(page)
    assert page.console_errors == []
