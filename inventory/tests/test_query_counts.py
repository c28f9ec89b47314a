"""Query counts of the device list and the dashboard: an N+1 fails the suite (issue #7).

Measured with one device, then with a full page of 50 (holders, locations, models) and more
beyond it; the count must not grow, and stays under an upper bound.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from core.testing import DeviceFactory, LocationFactory, PersonFactory
from custody.services import device_check_out
from custody.tests.test_query_counts import count_queries

pytestmark = pytest.mark.django_db

LIST_MAX = 20
DASHBOARD_MAX = 20


def _fill(world, n: int) -> None:
    """``n`` more devices at site A, in a room, each held by a student of its own (a page of
    50 with holders), and as many at site B (not on the page)."""
    room = LocationFactory(site=world.site_a, name="Room 101")
    for i in range(n):
        device = DeviceFactory(asset_tag=f"AQ-{i:05d}", model=world.device_a.model, owner_site=world.site_a)
        device.location = room
        device.save(update_fields=["location"])
        device_check_out(device=device, person=PersonFactory(home_site=world.site_a), actor=world.district_tech)
        DeviceFactory(asset_tag=f"BQ-{i:05d}", model=world.device_a.model, owner_site=world.site_b)


@pytest.mark.parametrize("htmx", [False, True])
def test_device_list_page_does_not_grow_with_its_rows(client_for, world, htmx):
    client = client_for(world.site_tech)
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    url = reverse("device_list")
    one, response = count_queries(lambda: client.get(url, {"exact": "0"}, **headers))
    assert world.device_a.asset_tag in response.content.decode()
    _fill(world, 60)
    many, response = count_queries(lambda: client.get(url, {"exact": "0"}, **headers))
    body = response.content.decode()
    assert body.count("AQ-") >= 49 and "Family" in body  # a full page, with holders
    assert one == many, (one, many)
    assert many <= LIST_MAX, many
    # A search by name (holders matched through the gate) costs the same whatever matches.
    searched, _ = count_queries(lambda: client.get(url, {"q": "Family", "exact": "0"}, **headers))
    assert searched <= LIST_MAX, searched


def test_dashboard_does_not_grow_with_the_inventory(client_for, world):
    client = client_for(world.site_tech)
    one, response = count_queries(lambda: client.get(reverse("dashboard")))
    assert response.status_code == 200
    _fill(world, 30)
    many, _ = count_queries(lambda: client.get(reverse("dashboard")))
    assert one == many, (one, many)
    assert many <= DASHBOARD_MAX, many
