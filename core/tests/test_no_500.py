"""No form input, query string or URL reaches a 500 page."""

from __future__ import annotations

import base64

import pytest
from django.urls import reverse

from core.paging import _encode

pytestmark = pytest.mark.django_db

JUNK = ["", " ", "abc", "-1", "0", "99999999999999999999", "1.5", "' OR 1=1 --", "\x00", "🙂" * 50, "a" * 5000, "[]"]


@pytest.mark.parametrize("value", JUNK)
def test_query_strings_never_500(client_for, world, value):
    client = client_for(world.district_admin)
    for name in ("device_list", "person_list", "check_out", "person_lookup", "dashboard", "site_list", "check_in",
                 "imports:run_list"):  # fmt: skip
        for key in ("q", "site", "model", "status", "after", "before", "person", "find", "role", "exact", "condition",
                    "sort", "per_page", "page"):  # fmt: skip
            response = client.get(reverse(name), {key: value})
            assert response.status_code in (200, 302, 404), (name, key, value, response.status_code)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


#: Paging cursors a user could craft: base64 JSON of the wrong shape, of wrong types for the
#: sort columns (text for an id, numbers for a name), ids beyond bigint, text with a NUL byte
#: (PostgreSQL refuses it in a query), and what is not base64 JSON at all.
CURSORS = [
    _encode(["x", 1]), _encode([1, 1]), _encode(["a\x00b", 1]), _encode(["a", "b"]), _encode(["a", 2**70]),
    _encode(["a", -(2**70)]), _encode(["a", True]), _encode([None, 1]), _encode([["x"], 1]), _encode([{"a": 1}, 1]),
    _encode(["a", 1.5]), _encode(["a", 1, 2, 3]), _encode([]), _encode({"a": 1}), _encode("x"), _encode(1),
    _encode(["x\x00", "y\x00", 1]), _encode([1, 2, 3]), _encode(["a" * 5000, 1]), _encode([2**70, 2**70]),
    _b64(b"\xff\xfe"), _b64(b"[" * 5000), _b64(b'["\\ud800", 1]'), "%%%", "====", "\x00", "a" * 20000,
]  # fmt: skip


@pytest.mark.parametrize("cursor", CURSORS)
def test_crafted_cursors_never_500(client_for, world, cursor):
    """Every keyset-paged page, every sort and page size, ``after`` and ``before``."""
    from imports.models import ImportIssue, ImportRun

    run = ImportRun.objects.create(kind="csv", file_name="d.csv", status=ImportRun.Status.PREVIEWED)
    ImportIssue.objects.create(run=run, reason="x", line=2)
    client = client_for(world.district_admin)
    pages = [
        (reverse("device_list"), ["", "-tag", "serial", "-status", "model"]),
        (reverse("person_list"), ["", "-name", "number", "-status"]),
        (reverse("imports:run_list"), ["", "file", "-started"]),
        (reverse("imports:run_detail", args=[run.pk]), [""]),
    ]
    for url, sorts in pages:
        for sort in sorts:
            for key in ("after", "before"):
                response = client.get(url, {key: cursor, "sort": sort, "per_page": "25", "exact": "0"})
                assert response.status_code == 200, (url, sort, key, cursor, response.status_code)


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
