"""A session that ends during an action (move, transfer, status change on the device page;
check-out, check-in, bulk) sends the user to log in and back to the form they were on, with
what they entered offered again (``core.views.login_to_resume``) — never a bare 405."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from accounts.models import StaffRole
from core.testing import PASSWORD, make_user
from core.views import PENDING_FORM
from inventory.models import Device

pytestmark = pytest.mark.django_db


def _log_in(client, user, next_url: str = ""):
    """Log in through the log-in page (as a browser does: it sets the last-user cookie)."""
    data = {"username": user.username, "password": PASSWORD}
    url = reverse("login") + (f"?next={next_url}" if next_url else "")
    if next_url:
        data["next"] = next_url
    return client.post(url, data)


def _session_ends(client, user):
    """``user`` logs in in this browser, then the session ends (logged out in another tab)."""
    assert _log_in(client, user).status_code == 302
    client.post(reverse("logout"))


def _resume_data(html: str) -> dict:
    start = html.index('<script id="resume-form" type="application/json">') + len(
        '<script id="resume-form" type="application/json">'
    )
    return json.loads(html[start : html.index("</script>", start)])


def test_transfer_sent_after_the_session_ended_comes_back_to_the_device_page(client, world):
    _session_ends(client, world.site_tech)
    device_page = reverse("device_detail", args=[world.device_a.pk])
    action = reverse("device_action", args=[world.device_a.pk, "transfer"])
    sent = client.post(
        action,
        {"site": world.site_b.pk, "note": "to the depot", "csrfmiddlewaretoken": "x"},
        HTTP_REFERER=f"http://testserver{device_page}",
    )
    assert sent.status_code == 302
    assert sent.url == f"{reverse('login')}?next={device_page}"
    login_page = client.get(sent.url).content.decode()
    assert "The session in this browser ended before the last change was saved" in login_page
    logged_in = client.post(sent.url, {"username": world.site_tech.username, "password": PASSWORD, "next": device_page})
    assert logged_in.status_code == 302 and logged_in.url == device_page
    page = client.get(device_page).content.decode()
    assert "What you entered is filled in again below" in page
    data = _resume_data(page)
    assert data["action"] == action
    assert ["note", "to the depot"] in data["fields"] and ["site", str(world.site_b.pk)] in data["fields"]
    assert all(name != "csrfmiddlewaretoken" for name, _ in data["fields"])
    # Nothing was done, and the fields are offered once.
    assert Device.objects.get(pk=world.device_a.pk).current_site_id == world.site_a.pk
    assert PENDING_FORM not in client.session
    assert "resume-form" not in client.get(device_page).content.decode()


def test_check_out_scan_after_the_session_ended_keeps_the_page_and_its_query(client, world):
    _session_ends(client, world.site_tech)
    page = f"{reverse('check_out')}?person={world.person_a.pk}"
    sent = client.post(
        reverse("check_out"),
        {"person": world.person_a.pk, "code": "CB-000001", "condition": "fair"},
        HTTP_REFERER=f"http://testserver{page}",
        HTTP_HX_REQUEST="true",
    )
    assert sent.status_code == 302 and "next=/check-out/%3Fperson%3D" in sent.url
    client.force_login(world.site_tech, backend="django.contrib.auth.backends.ModelBackend")
    data = _resume_data(client.get(page).content.decode())
    assert ["code", "CB-000001"] in data["fields"] and ["condition", "fair"] in data["fields"]


def test_without_a_same_site_referer_the_post_address_is_the_page(client, world):
    _session_ends(client, world.site_tech)
    sent = client.post(
        reverse("bulk", args=["check-in"]), {"lines": "CB-000001"}, HTTP_REFERER="https://evil.example/x"
    )
    assert sent.url == f"{reverse('login')}?next={reverse('bulk', args=['check-in'])}"
    client.force_login(world.site_tech, backend="django.contrib.auth.backends.ModelBackend")
    data = _resume_data(client.get(reverse("bulk", args=["check-in"])).content.decode())
    assert data["fields"] == [["lines", "CB-000001"]]


def test_get_after_the_session_ended_logs_in_to_the_same_page(client, world):
    url = f"{reverse('device_list')}?q=CB"
    response = client.get(url)
    assert response.status_code == 302 and response.url == f"{reverse('login')}?next=/devices/%3Fq%3DCB"
    assert PENDING_FORM not in client.session


def _bulk_sent_after_session_end(client, world):
    _session_ends(client, world.site_tech)
    page = reverse("bulk", args=["check-out"])
    sent = client.post(page, {"lines": "CB-009187, 0019925"}, HTTP_REFERER=f"http://testserver{page}")
    assert sent.status_code == 302
    return page


def test_another_user_logging_in_never_gets_the_form_of_the_user_whose_session_ended(client, world):
    page = _bulk_sent_after_session_end(client, world)
    other = make_user("tech-at-birch", [(StaffRole.Role.SITE_TECHNICIAN, world.site_b)])
    logged_in = _log_in(client, other, page)
    assert logged_in.status_code == 302 and logged_in.url == reverse("dashboard")
    assert PENDING_FORM not in client.session
    for url in (page, reverse("dashboard")):
        html = client.get(url).content.decode()
        assert "0019925" not in html and "resume-form" not in html and "NOT saved" not in html
    # It is gone for good: the first user logging in later gets nothing either.
    client.post(reverse("logout"))
    _log_in(client, world.site_tech, page)
    assert "0019925" not in client.get(page).content.decode()


def test_the_same_user_logging_in_gets_the_form_back_once(client, world):
    page = _bulk_sent_after_session_end(client, world)
    logged_in = _log_in(client, world.site_tech, page)
    assert logged_in.status_code == 302 and logged_in.url == page
    html = client.get(page).content.decode()
    assert "What you entered is filled in again below" in html
    assert _resume_data(html)["fields"] == [["lines", "CB-009187, 0019925"]]
    assert PENDING_FORM not in client.session
    assert "0019925" not in client.get(page).content.decode()


def test_a_kept_form_older_than_thirty_minutes_is_dropped(client, world, monkeypatch):
    import time

    from core import views as core_views

    page = _bulk_sent_after_session_end(client, world)
    later = time.time() + core_views.PENDING_FORM_MAX_AGE + 60
    monkeypatch.setattr(time, "time", lambda: later)
    _log_in(client, world.site_tech, page)
    assert PENDING_FORM not in client.session
    assert "0019925" not in client.get(page).content.decode()


def test_a_browser_naming_no_user_keeps_nothing(client, world):
    page = reverse("bulk", args=["check-out"])
    client.post(page, {"lines": "CB-009187"}, HTTP_REFERER=f"http://testserver{page}")
    assert PENDING_FORM not in client.session
    client.cookies["deviceledger_last_user"] = str(world.site_tech.pk)  # unsigned: forged
    client.post(page, {"lines": "CB-009187"}, HTTP_REFERER=f"http://testserver{page}")
    assert PENDING_FORM not in client.session
