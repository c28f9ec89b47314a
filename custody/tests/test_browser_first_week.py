"""Browser tests of issue #8's custody items: a bulk form double-clicked runs once and shows
every line done; a device tag scanned ~150 ms after a student card is not glued onto the
card; name suggestions chosen with the arrow keys and Enter; the district's scanner prefix
and suffix removed; a session that ended during a device-page action comes back to the form
with what was entered.

Drives Debian's Chromium (/usr/bin/chromium) with Playwright.
"""

from __future__ import annotations

import os

import pytest

from conftest import needs_chromium
from core.testing import PASSWORD, DeviceFactory, PersonFactory
from custody.models import Assignment
from inventory.models import Device
from sites.models import District

pytestmark = [pytest.mark.browser, needs_chromium]


def _login(page, live_server, username: str = "site-tech", next_url: str = "/") -> None:
    page.goto(f"{live_server.url}/login/?next={next_url}")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server.url}{next_url}")


#: A USB scanner types a key every few milliseconds. Playwright's keyboard on a loaded machine
#: delivers keys 20-300 ms apart, so the scanner is played in the page on a fixed clock:
#: ``chunks`` are ``(text, pause_ms)``, each key 5 ms after the last, Enter as a newline, each
#: key a real keydown on the focused field (typed unless the page's script prevents it; Enter
#: submits the field's form as a browser does).
SCANNER = """(chunks) => {
  let fake = performance.now();
  performance.now = () => fake;
  for (const [text, pause] of chunks) {
    fake += pause;
    for (const ch of text) {
      fake += 5;
      const key = ch === "\\n" ? "Enter" : ch;
      const target = document.activeElement;
      const typed = target.dispatchEvent(new KeyboardEvent("keydown", {key, bubbles: true, cancelable: true}));
      if (!typed || target.tagName !== "INPUT") continue;
      if (key === "Enter") { if (target.form) target.form.requestSubmit(); }
      else { target.value += ch; target.dispatchEvent(new Event("input", {bubbles: true})); }
    }
  }
}"""


def _scanner(page, *chunks: tuple[str, int]) -> None:
    page.evaluate(SCANNER, [list(c) for c in chunks])


def _shot(page, name: str) -> None:
    page.screenshot(path=os.path.join(os.environ.get("DEVICELEDGER_VAR_DIR", "var"), f"browser-{name}.png"))


@pytest.mark.django_db(transaction=True)
def test_bulk_check_out_double_click_runs_once_and_shows_every_line(live_server, page, world):
    for n in (1, 2, 3):
        DeviceFactory(asset_tag=f"BK-{n}", model=world.device_a.model, owner_site=world.site_a)
    _login(page, live_server, next_url="/bulk/check-out/")
    page.fill("textarea[name=lines]", "BK-1, 0041873\nBK-2, 0041873\nBK-3, 0041873")
    page.dblclick("main form button[type=submit]")
    page.wait_for_selector("text=3 of 3 done")
    assert Assignment.objects.open().count() == 3
    # The box keeps what was pasted.
    assert "BK-3, 0041873" in page.input_value("textarea[name=lines]")
    assert not page.is_disabled("main form button[type=submit]")


@pytest.mark.django_db(transaction=True)
def test_tag_scanned_right_after_the_student_card_is_not_glued_onto_it(live_server, page, world):
    District.objects.filter(pk=District.get().pk).update(scanner_prefix="~")
    _login(page, live_server, next_url="/check-out/")
    # A scanner with an Enter suffix: the card, then the device ~150 ms later.
    _scanner(page, ("~0041873\n", 0), ("~CB-000001\n", 150))
    page.wait_for_selector(".result.ok", timeout=15000)
    assert "Ana Ruiz" in page.inner_text("#results")
    assert Device.objects.get(pk=world.device_a.pk).status == Device.Status.ASSIGNED
    # Holdings are refreshed with the scan.
    assert "CB-000001" in page.inner_text("#holdings")


@pytest.mark.django_db(transaction=True)
def test_scanner_without_a_suffix_two_bursts_are_two_scans(live_server, page, world):
    _login(page, live_server, next_url="/check-out/")
    _scanner(page, ("0041873", 0), ("CB-000001\n", 150))
    page.wait_for_selector(".result", timeout=15000)
    assert Device.objects.get(pk=world.device_a.pk).status == Device.Status.ASSIGNED
    assert "CB-000001" in page.inner_text("#results") and "Ana Ruiz" in page.inner_text("#results")


@pytest.mark.django_db(transaction=True)
def test_name_suggestions_are_chosen_with_arrow_keys_and_enter(live_server, page, world):
    PersonFactory(home_site=world.site_a, given_name="Anabel", family_name="Rivera", student_number="0041999")
    _login(page, live_server, next_url="/check-out/")
    page.keyboard.type("Ana", delay=120)
    page.wait_for_selector("#lookup li:nth-child(2) a")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    second = page.inner_text("#lookup li:nth-child(2) a")
    assert "active" in page.get_attribute("#lookup li:nth-child(2) a", "class")
    _shot(page, "lookup-keys")
    page.keyboard.press("Enter")
    page.wait_for_selector("text=Checking out to")
    assert second.split("\n")[0].split("  ")[0].strip().split(" ")[0] in page.inner_text("main")


@pytest.mark.django_db(transaction=True)
def test_session_ending_during_a_move_comes_back_to_the_form_filled_in(live_server, page, world):
    device_url = f"/devices/{world.device_a.pk}/"
    _login(page, live_server, next_url=device_url)
    page.fill("form[action$='/transfer/'] [name=note]", "to the depot")
    page.select_option("form[action$='/transfer/'] select[name=site]", str(world.site_b.pk))
    page.context.clear_cookies(name="sessionid")  # the session ends while the form is open
    page.click("form[action$='/transfer/'] button[type=submit]")
    page.wait_for_selector("text=The session in this browser ended before the last change was saved")
    page.fill("#id_username", "site-tech")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}{device_url}")
    assert "filled in again below" in page.inner_text("#resume-notice")
    assert page.input_value("form[action$='/transfer/'] [name=note]") == "to the depot"
    assert page.input_value("form[action$='/transfer/'] select[name=site]") == str(world.site_b.pk)
    _shot(page, "resume-transfer")
    assert Device.objects.get(pk=world.device_a.pk).current_site_id == world.site_a.pk


#: The scanner at full USB speed, on real timers: each key 3 ms after the last (``performance.now``
#: advances exactly 3 ms a key, so the page's script sees a steady scanner whatever the machine's
#: load), keys keep coming while the request the student card triggers is under way, and each key
#: goes to whatever has focus at that moment. Returns how many keys were typed while Check out's
#: device field did not exist yet (the student's page still loading).
FULL_SPEED_SCANNER = """async (text) => {
  let fake = performance.now();
  performance.now = () => fake;
  let whileLoading = 0;
  for (const ch of text) {
    await new Promise((done) => setTimeout(done, 3));
    fake += 3;
    const key = ch === "\\n" ? "Enter" : ch;
    const target = document.activeElement;
    if (!document.querySelector("form[data-scan-form]")) whileLoading += 1;
    const typed = target.dispatchEvent(new KeyboardEvent("keydown", {key, bubbles: true, cancelable: true}));
    if (!typed || target.tagName !== "INPUT") continue;
    if (key === "Enter") { if (target.form) target.form.requestSubmit(); }
    else { target.value += ch; target.dispatchEvent(new Event("input", {bubbles: true})); }
  }
  return whileLoading;
}"""

TAGS = ("CB-009234", "CB-009187", "CB-009001", "CB-000001")


@pytest.mark.django_db(transaction=True)
def test_tags_scanned_at_full_speed_after_the_card_lose_no_key(live_server, page, world):
    """The card, then four tags back to back at 3 ms a key, Enter after each: the tags typed
    while the student's page loads and those typed after are all checked out, none cut short."""
    for tag in TAGS[:3]:
        DeviceFactory(asset_tag=tag, model=world.device_a.model, owner_site=world.site_a)
    _login(page, live_server, next_url="/check-out/")
    typed_while_loading = page.evaluate(FULL_SPEED_SCANNER, "0041873\n" + "".join(f"{tag}\n" for tag in TAGS))
    assert typed_while_loading > len("0041873\n")  # keys did arrive while the student's page loaded
    page.wait_for_function("document.querySelectorAll('#results .result').length >= 4", timeout=20000)
    results = page.inner_text("#results")
    assert "No device" not in results and "NOT recorded" not in results, results
    assert Assignment.objects.open().filter(person=world.person_a).count() == 4
    assert set(Device.objects.filter(asset_tag__in=TAGS).values_list("status", flat=True)) == {Device.Status.ASSIGNED}
    assert page.input_value("input[data-scan]") == ""
    assert "?person=" in page.url  # the address is the student's page (reload/back work)
    _shot(page, "full-speed-scans")


@pytest.mark.django_db(transaction=True)
def test_a_pause_inside_a_tag_does_not_split_it(live_server, page, world):
    """A busy computer can hold a scanner's keys back: a 300 ms pause in the middle of a tag
    (after a fast burst) must not end the scan there; only Enter does."""
    DeviceFactory(asset_tag="CB-009234", model=world.device_a.model, owner_site=world.site_a)
    _login(page, live_server, next_url=f"/check-out/?person={world.person_a.pk}")
    _scanner(page, ("CB-00", 0), ("9234\n", 300))
    page.wait_for_selector(".result", timeout=15000)
    page.wait_for_timeout(500)  # a split scan would show a second result
    assert "No device" not in page.inner_text("#results")
    assert Device.objects.get(asset_tag="CB-009234").status == Device.Status.ASSIGNED
