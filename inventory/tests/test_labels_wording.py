"""What the labels page says about the choice (issue #8 tester): chosen ids outside the user's
sites are counted as left out (how many, never which); a bad list filter is not named."""

from __future__ import annotations

import pytest
from django.urls import reverse

from core.testing import DeviceFactory

pytestmark = pytest.mark.django_db


def test_ids_outside_the_users_sites_are_counted_as_left_out(client_for, world):
    other = DeviceFactory(asset_tag="CB-OTHER-9", owner_site=world.site_b)
    ids = [world.device_a.pk, world.device_b.pk, other.pk]
    body = client_for(world.site_tech).get(reverse("device_labels"), {"device": ids, "check": "1"}).content.decode()
    assert "1 device chosen" in body and "3 devices chosen" not in body
    assert "2 of the chosen devices are not at your sites and left out" in body
    assert world.device_b.asset_tag not in body and "CB-OTHER-9" not in body


def test_all_chosen_ids_visible_says_nothing_left_out(client_for, world):
    body = client_for(world.site_tech).get(reverse("device_labels"), {"device": [world.device_a.pk]}).content.decode()
    assert "1 device chosen." in body and "left out" not in body


@pytest.mark.parametrize("site", ["abc", "", "-1"])
def test_a_bad_site_value_is_not_named(client_for, world, site):
    body = client_for(world.site_tech).get(reverse("device_labels"), {"from_list": "1", "site": site}).content.decode()
    assert "for the chosen site" not in body
    assert "The devices the Devices list shows." in body


def test_a_good_site_value_is_named(client_for, world):
    params = {"from_list": "1", "site": str(world.site_a.pk), "q": "cb"}
    body = client_for(world.site_tech).get(reverse("device_labels"), params).content.decode()
    assert "for “cb”, the chosen site." in body
