"""Browser test at a 1024×768 tablet (issue #8, "Polish"): the navigation is one row of
separate items with the current page marked, the header names the user, status badges and
file names do not break mid-word, and the dashboard's Find button sits beside its box."""

from __future__ import annotations

import pytest

from conftest import needs_chromium
from core.testing import PASSWORD, DeviceFactory

pytestmark = [pytest.mark.browser, needs_chromium]

_ONE_LINE = """els => els.map(e => { const r = e.getClientRects(); const lh = parseFloat(getComputedStyle(e).fontSize) * 1.6;
  return r.length === 1 && r[0].height <= lh + 8; })"""


@pytest.mark.django_db(transaction=True)
def test_tablet_layout(live_server, page, world):
    world.district_admin.first_name, world.district_admin.last_name = "Renee", "Castillo"
    world.district_admin.save()
    for n in range(3):
        DeviceFactory(asset_tag=f"LP-{n:04d}", owner_site=world.site_a, status="loaner_pool")
    page.set_viewport_size({"width": 1024, "height": 768})
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "district-admin")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")

    tops = page.eval_on_selector_all(".topbar nav a", "els => els.map(e => Math.round(e.getBoundingClientRect().top))")
    assert len(tops) >= 9 and len(set(tops)) == 1, tops  # one row
    lefts = page.eval_on_selector_all(
        ".topbar nav a", "els => els.map(e => [e.getBoundingClientRect().left, e.getBoundingClientRect().right])"
    )
    assert all(b[0] - a[1] >= 2 for a, b in zip(lefts, lefts[1:], strict=False)), lefts  # kept apart
    assert page.get_attribute(".topbar nav a[aria-current=page]", "href") == "/"
    assert "Renee Castillo" in page.inner_text(".topbar") and "District admin" in page.inner_text(".topbar")

    box = page.locator("#scan").bounding_box()
    find = page.locator("form.card button[type=submit]").first.bounding_box()
    assert box and find and 0 <= find["x"] - (box["x"] + box["width"]) <= 16  # the button beside its box

    page.goto(f"{live_server.url}/devices/?status=loaner_pool&exact=0")
    assert page.get_attribute(".topbar nav a[aria-current=page]", "href") == "/devices/"
    badges = page.eval_on_selector_all("main .badge", _ONE_LINE)
    assert badges and all(badges), badges
