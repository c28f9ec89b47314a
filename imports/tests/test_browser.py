"""Browser test: a district admin uploads a roster, sees the preview with its row errors,
commits the valid rows and watches the progress bar finish (real background thread + htmx).

Drives Debian's Chromium (/usr/bin/chromium) with Playwright, like custody/tests/test_browser.py.
"""

from __future__ import annotations

import os
import shutil

import pytest
from django.db import connections

from conftest import needs_chromium
from core.testing import PASSWORD
from imports.models import ImportRun
from imports.tasks import wait_for_threads
from imports.tests.roster import manifest, orgs_csv, roster_zip, user, users_csv
from people.models import Person

pytestmark = [pytest.mark.browser, needs_chromium]


@pytest.fixture
def connections_seen():
    """Database connections the test used while the browser ran; after the shared ``page``
    fixture is torn down (this fixture is set up before it, so it ends after it) they must be
    closed, else PostgreSQL cannot drop the test database at the end of the run."""
    seen: list = []
    yield seen
    assert seen and [conn.connection for conn in seen] == [None] * len(seen)


@pytest.mark.django_db(transaction=True)
def test_the_browser_fixture_closes_the_connections_the_test_opened(connections_seen, page):
    # Playwright's sync API runs an event loop in this thread: Django then keeps the test's
    # connections apart from the thread's own, which the database teardown closes.
    assert Person.objects.count() == 0
    connections_seen.append(connections["default"])
    assert connections["default"].connection is not None


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
