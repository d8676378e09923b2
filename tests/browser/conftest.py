"""Browser tests: Playwright driving Debian's Chromium (never `playwright install`).

Playwright's sync API runs an event loop in the test thread while it is open,
and Django refuses ORM calls beside a running loop. So the browser lives only
inside each test: ``page`` depends on ``live_data``, which makes the database
ready before the browser starts and empties it after the browser has closed.
"""

from __future__ import annotations

import os
import shutil

import pytest
from django.core.management import call_command
from django.db import connection

from qcity.core.dbguards import install_audit_guards, remove_audit_guards

CHROMIUM = os.environ.get("QCITY_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture
def live_data(transactional_db, live_server):
    install_audit_guards(connection)
    call_command("load_defaults", stdout=open(os.devnull, "w"), stderr=open(os.devnull, "w"))
    yield live_server
    # The test database is emptied after a transactional test; the guards would refuse it.
    remove_audit_guards(connection)


@pytest.fixture
def page(live_data):
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}: install Debian's chromium (see .ci/run)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        context = browser.new_context(
            locale="zh-CN", accept_downloads=True, viewport={"width": 390, "height": 844}
        )
        page = context.new_page()
        errors: list[str] = []
        page.on(
            "console",
            lambda msg: (
                errors.append(f"{msg.text} {msg.location}") if msg.type == "error" else None
            ),
        )
        page.console_errors = errors
        yield page
        context.close()
        browser.close()
