"""Locations are managed on the site page (issue #8, "Staff and settings"): list, add,
rename, deactivate, delete an empty one; each through sites.services (logged on the site)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from core.changelog import change_log_for
from core.testing import DeviceFactory
from inventory.models import Device
from sites.models import Location

pytestmark = pytest.mark.django_db


def _post(client, site, action, **data):
    return client.post(reverse("location_action", args=[site.pk, action]), data, follow=True)


def test_a_site_technician_manages_their_sites_locations(client_for, world):
    client = client_for(world.site_tech)
    page = client.get(reverse("site_detail", args=[world.site_a.pk])).content.decode()
    assert "Library cart" in page and "Add location" in page
    _post(client, world.site_a, "add", name=" Room 101 ", kind="room")
    room = Location.objects.get(site=world.site_a, name="Room 101")
    _post(client, world.site_a, "rename", location=room.pk, name="Room 101A", kind="cart")
    room.refresh_from_db()
    assert (room.name, room.kind) == ("Room 101A", "cart")
    _post(client, world.site_a, "deactivate", location=room.pk)
    room.refresh_from_db()
    assert not room.active
    _post(client, world.site_a, "reactivate", location=room.pk)
    _post(client, world.site_a, "delete", location=room.pk)
    assert not Location.objects.filter(pk=room.pk).exists()
    entries = change_log_for(obj=world.site_a, user=world.site_tech)
    assert [e.action for e in entries] == ["deleted", "changed", "changed", "changed", "created"]


def test_refusals_come_back_as_messages(client_for, world):
    client = client_for(world.site_tech)
    DeviceFactory(asset_tag="LOC-1", owner_site=world.site_a, location=world.location_a)
    body = _post(client, world.site_a, "delete", location=world.location_a.pk).content.decode()
    assert "still holds 1 device" in body and Location.objects.filter(pk=world.location_a.pk).exists()
    assert Device.objects.get(asset_tag="LOC-1").location_id == world.location_a.pk
    body = _post(client, world.site_a, "add", name="Library cart", kind="cart").content.decode()
    assert "already has a location named" in body
    body = _post(client, world.site_a, "add", name="", kind="zzz").content.decode()
    assert "This field is required" in body and Location.objects.filter(site=world.site_a).count() == 1


def test_others_cannot_change_a_sites_locations(client_for, world):
    # Site A's technician, given site B's location with site A's URL, or site B's: 404.
    client = client_for(world.site_tech)
    assert _post(client, world.site_a, "deactivate", location=world.location_b.pk).status_code == 404
    assert _post(client, world.site_b, "add", name="X", kind="room").status_code == 404
    world.location_b.refresh_from_db()
    assert world.location_b.active
    # A principal sees the locations but no forms, and is refused.
    principal = client_for(world.principal)
    page = principal.get(reverse("site_detail", args=[world.site_a.pk])).content.decode()
    assert "Library cart" in page and "Add location" not in page
    assert _post(principal, world.site_a, "add", name="X", kind="room").status_code == 403


@pytest.mark.parametrize("value", ["", "abc", "-1", "99999999999999999999", "\x00", "a" * 500])
def test_location_posts_never_500(client_for, world, value):
    client = client_for(world.district_admin)
    for action in ("add", "rename", "deactivate", "reactivate", "delete", "nope"):
        response = client.post(
            reverse("location_action", args=[world.site_a.pk, action]),
            {"location": value, "name": value, "kind": value},
        )
        assert response.status_code in (302, 404), (action, value, response.status_code)
