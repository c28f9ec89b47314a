"""Browser test: a district admin uploads a roster, sees the preview with its row errors,
commits the valid rows and watches the progress bar finish (real background thread + htmx).

Drives Debian's Chromium (/usr/bin/chromium) with Playwright, like custody/tests/test_browser.py.
"""

from __future__ import annotations

import os
import shutil

import pytest

from core.testing import PASSWORD
from imports.models import ImportRun
from imports.tasks import wait_for_threads
from imports.tests.roster import manifest, orgs_csv, roster_zip, user, users_csv
from people.models import Person

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed (apt install chromium)"
    ),
]


@pytest.fixture
def page():
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop in this thread
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-quic"],
        )  # fmt: skip
        context = browser.new_context()
        yield context.new_page()
        context.close()
        browser.close()


@pytest.mark.django_db(transaction=True)
def test_upload_preview_commit_and_progress(live_server, page, world, settings, tmp_path):
    settings.IMPORTS_RUN_INLINE = False  # the real thing: a background thread, polled by htmx
    settings.CELERY_BROKER_URL = ""
    lines = [user(f"r{n:05d}", f"Given{n}", f"Family{n}") for n in range(3000)]
    lines.insert(10, user("bad1", "Wiz", "Ard", role="wizard"))
    upload = roster_zip(
        tmp_path / "nightly-roster.zip",
        {"manifest.csv": manifest(), "orgs.csv": orgs_csv(), "users.csv": users_csv(*lines)},
    )

    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "district-admin")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")

    page.goto(f"{live_server.url}/imports/new/")
    page.select_option("#id_kind", "oneroster")
    page.set_input_files("#id_file", str(upload))
    page.click("main button[type=submit]")  # (the header's "Log out" is a submit button too)
    page.wait_for_url(f"{live_server.url}/imports/*/")
    assert page.locator("#import-progress").count() == 1
    page.wait_for_selector("text=What would change", timeout=60_000)  # htmx reloads the page when checked
    text = page.inner_text("main")
    assert "wizard" in text and "expected one of student" in text and "users.csv" in text
    assert Person.objects.filter(sourced_id__startswith="r0").count() == 0

    confirm = page.locator("input[name=confirm_deactivation]")
    if confirm.count():  # the fixture's people are not in the file: "Yes, deactivate …"
        assert "Warning: this bulk file would make" in text
        confirm.check()
    page.click("button:has-text('Apply the valid rows')")
    page.wait_for_selector("text=What was changed", timeout=60_000)
    run = ImportRun.objects.get()
    assert run.status == ImportRun.Status.DONE
    assert run.counts["people"]["created"] == 3000 and run.counts["people"]["rejected"] == 1
    progress = page.locator("#import-progress progress")
    assert progress.get_attribute("value") == progress.get_attribute("max")
    assert Person.objects.filter(sourced_id__startswith="r0").count() == 3000
    wait_for_threads()  # the job's thread closes its database connection before the test database goes
    page.screenshot(path=str(tmp_path / "import-done.png"), full_page=True)
    shutil.copy(tmp_path / "import-done.png", os.path.join(os.environ.get("DEVICELEDGER_VAR_DIR", "var"), "browser-import.png"))  # fmt: skip
