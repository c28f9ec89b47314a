"""Browser test: a site technician logs in, scans a student card and a device to check it
out, scans it again to check it in, and sees both on the device's timeline.

Drives Debian's Chromium (/usr/bin/chromium) with Playwright; `.ci/run` installs it.
"""

from __future__ import annotations

import os

import pytest

from conftest import needs_chromium
from core.testing import PASSWORD, DeviceFactory
from custody.models import Assignment

pytestmark = [pytest.mark.browser, needs_chromium]


@pytest.mark.django_db(transaction=True)
def test_scan_check_out_and_check_in(live_server, page, world):
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "site-tech")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")

    page.goto(f"{live_server.url}/check-out/")
    # The scan field has focus: a scanner just types and presses Enter.
    page.keyboard.type("0041873")
    page.keyboard.press("Enter")
    page.wait_for_selector("text=Checking out to")
    assert page.evaluate("document.activeElement.name") == "code"
    page.keyboard.type("cb-000001")
    page.keyboard.press("Enter")
    page.wait_for_selector(".result.ok")
    assert f"CB-000001 ({world.device_a.model}) checked out to Ana Ruiz" in page.inner_text("#results")
    assert page.input_value("input[name=code]") == ""
    assert page.evaluate("document.activeElement.name") == "code"
    # A second scan of the same device is refused clearly, not a second assignment.
    page.keyboard.type("CB-000001")
    page.keyboard.press("Enter")
    page.wait_for_selector(".result.fail")
    assert "already checked out to Ana Ruiz" in page.inner_text("#results")
    assert Assignment.objects.filter(checked_in_at__isnull=True).count() == 1

    # Two fast scans, the second typed before the first reply: neither loses a character.
    for n in (3, 4):
        DeviceFactory(asset_tag=f"CB-00000{n}", owner_site=world.site_a)
    page.keyboard.type("CB-000003\n", delay=5)
    page.keyboard.type("CB-000004\n", delay=5)
    page.wait_for_function("document.querySelectorAll('#results .result.ok').length >= 3")
    assert Assignment.objects.filter(checked_in_at__isnull=True).count() == 3
    text = page.inner_text("#results")
    assert "CB-000003 (" in text and "CB-000004 (" in text and text.count("checked out to Ana Ruiz") >= 3

    page.goto(f"{live_server.url}/check-in/")
    page.keyboard.type("CB-000001")
    page.keyboard.press("Enter")
    page.wait_for_selector(".result.ok")
    assert "checked in from Ana Ruiz" in page.inner_text("#results")

    page.goto(f"{live_server.url}/devices/?q=CB-000001")
    timeline = page.inner_text(".timeline")
    assert "Checked out" in timeline and "Checked in" in timeline
    page.screenshot(path=os.path.join(os.environ.get("DEVICELEDGER_VAR_DIR", "var"), "browser-device.png"))
