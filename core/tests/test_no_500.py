"""No form input, query string or URL reaches a 500 page."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

JUNK = ["", " ", "abc", "-1", "0", "99999999999999999999", "1.5", "' OR 1=1 --", "\x00", "🙂" * 50, "a" * 5000, "[]"]


@pytest.mark.parametrize("value", JUNK)
def test_query_strings_never_500(client_for, world, value):
    client = client_for(world.district_admin)
    for name in ("device_list", "person_list", "check_out", "person_lookup", "dashboard", "site_list", "check_in"):
        for key in ("q", "site", "model", "status", "after", "before", "person", "find", "role", "exact", "condition"):
            response = client.get(reverse(name), {key: value})
            assert response.status_code in (200, 302, 404), (name, key, value, response.status_code)


@pytest.mark.parametrize("value", JUNK)
def test_form_posts_never_500(client_for, world, value):
    client = client_for(world.district_admin)
    d = world.device_a.pk
    posts = [
        (reverse("check_out"), {"person": value, "code": value, "due_on": value, "condition": value, "submission_key": value}),
        (reverse("check_out"), {"person": world.person_a.pk, "code": value, "due_on": value, "condition": "good"}),
        (reverse("check_in"), {"code": value, "condition": value, "notes": value}),
        (reverse("bulk", args=["check-out"]), {"lines": value, "condition": value}),
        (reverse("bulk", args=["check-in"]), {"lines": f"{value}\n{value}", "condition": "good"}),
        (reverse("device_create"), {"asset_tag": value, "model": value, "owner_site": value, "purchase_cost": value, "purchase_date": value}),
        (reverse("device_edit", args=[d]), {"asset_tag": value, "model": world.device_a.model_id, "owner_site": world.site_a.pk, "wifi_mac": value}),
        (reverse("device_action", args=[d, "transfer"]), {"site": value, "note": value}),
        (reverse("device_action", args=[d, "move"]), {"location": value}),
        (reverse("device_action", args=[d, "status"]), {"action": value, "note": value}),
        (reverse("device_action", args=[d, "bundle"]), {"accessory_tag": value}),
        (reverse("device_action", args=[d, "unbundle"]), {"accessory": value}),
        (reverse("device_action", args=[d, value or "x"]) if "/" not in value and value.strip() and value.isascii() and value.replace("-", "").isalnum() else reverse("device_action", args=[d, "nope"]), {}),
        (reverse("district_settings"), {"name": value, "time_zone": value, "ownership_mode": value, "school_year_start_month": value, "school_year_start_day": value}),
        (reverse("login"), {"username": value, "password": value}),
    ]  # fmt: skip
    for url, data in posts:
        response = client.post(url, data)
        assert response.status_code in (200, 302, 403, 404), (url, data, response.status_code)
        client = client_for(world.district_admin)


@pytest.mark.parametrize(
    "path",
    [
        "/devices/abc/",
        "/devices/0/",
        "/devices/99999999999999999999/",
        "/people/-1/",
        "/sites/x/",
        "/bulk/nope/",
        "/nothing/",
    ],
)
def test_odd_urls_give_404(client_for, world, path):
    assert client_for(world.district_admin).get(path).status_code == 404


def test_district_settings_rejects_bad_day_naming_the_field(client_for, world):
    response = client_for(world.district_admin).post(
        reverse("district_settings"),
        {"name": "X", "time_zone": "America/Chicago", "ownership_mode": "centralized", "fee_collector": "district",
         "school_year_start_month": "2", "school_year_start_day": "30"},
    )  # fmt: skip
    assert "school_year_start_day" in response.context["form"].errors
