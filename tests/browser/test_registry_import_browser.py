"""A county officer imports a register file in the browser: progress, result, errors list."""

from __future__ import annotations

import threading

import pytest
from django.db import connections
from django_tasks_db.management.commands.db_worker import Worker

from tests.browser.test_plan_browser import _login
from tests.registry.importfiles import XIFENG, row, write_csv


def _run_worker_in_a_thread() -> None:
    # The test thread runs Playwright's event loop, beside which Django refuses ORM calls;
    # the worker gets its own thread and connection, as the real worker process would.
    # django-tasks-db's own Worker, as ``db_worker --batch`` builds it, minus the signal
    # handlers (only the main thread may install them).
    def work() -> None:
        try:
            Worker(
                queue_names=["default"],
                interval=0,
                batch=True,
                backend_name="default",
                startup_delay=False,
                max_tasks=None,
                worker_id="browser-test",
                excluded_queue_names=[],
            ).run()
        finally:
            connections.close_all()

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(120)


@pytest.mark.parametrize("width,height", [(1366, 900), (390, 844)])
def test_a_county_officer_imports_a_register_file_and_downloads_the_errors(
    page, live_data, assert_accessible, settings, tmp_path, width, height
):
    settings.IMPORT_DIR = tmp_path / "imports"
    page.set_viewport_size({"width": width, "height": height})
    path = write_csv(
        tmp_path / "开原名录.csv",
        [row(1), row(2, **{"所属区县": "开原市"}), row(3, region=XIFENG)],
        encoding="gb18030",
    )
    base = live_data.url
    _login(page, base, "kaiyuan")
    page.goto(f"{base}/registry/import/")
    assert_accessible(page)
    page.get_by_label("名录文件").set_input_files(str(path))
    page.get_by_role("button", name="上传并导入").click()
    page.wait_for_url("**/registry/import/*/")
    progress = page.locator("[data-testid=import-progress]")
    assert progress.get_attribute("data-status") == "queued"
    assert page.get_by_role("progressbar", name="导入进度").count() == 1
    assert_accessible(page)

    _run_worker_in_a_thread()
    # htmx polls the fragment and swaps in the finished result without a reload.
    page.locator("[data-testid=import-progress][data-status=done]").wait_for(timeout=15_000)
    assert page.get_by_role("progressbar").get_attribute("aria-valuenow") == "100"
    assert page.locator("[data-testid=summary-created]").inner_text() == "2"
    assert page.locator("[data-testid=summary-errors]").inner_text() == "1"
    assert page.locator("[data-testid=summary-warnings]").inner_text() == "1"
    assert_accessible(page)
    with page.expect_download() as download:
        page.locator("[data-testid=errors-download]").click()
    assert download.value.suggested_filename == "开原名录.csv.errors.csv"
    content = open(download.value.path(), encoding="utf-8-sig").read()
    assert "county_out_of_scope" in content
    assert page.console_errors == []
