"""A location's name is unique per site ignoring case (issue #8 tester): "chromebook cart 1"
beside "Chromebook Cart 1" is the same cart to a person."""

from __future__ import annotations

import pytest
from django.urls import reverse

from core.errors import DomainError
from sites import services
from sites.models import Location

pytestmark = pytest.mark.django_db


def test_adding_a_name_that_differs_only_by_case_is_refused(world):
    services.location_create(site=world.site_a, name="Chromebook Cart 1", actor=world.district_admin)
    with pytest.raises(DomainError) as refused:
        services.location_create(site=world.site_a, name="  chromebook cart 1 ", actor=world.district_admin)
    assert "Chromebook Cart 1" in str(refused.value)
    assert Location.objects.filter(site=world.site_a, name__iexact="chromebook cart 1").count() == 1


def test_the_same_name_at_another_site_is_fine(world):
    services.location_create(site=world.site_a, name="Cart 1", actor=world.district_admin)
    services.location_create(site=world.site_b, name="cart 1", actor=world.district_admin)


def test_renaming_onto_another_locations_name_in_another_case_is_refused(world):
    services.location_create(site=world.site_a, name="Chromebook Cart 2", actor=world.district_admin)
    cart3 = services.location_create(site=world.site_a, name="Chromebook Cart 3", actor=world.district_admin)
    with pytest.raises(DomainError):
        services.location_update(location=cart3, name="chromebook cart 2", actor=world.district_admin)
    cart3.refresh_from_db()
    assert cart3.name == "Chromebook Cart 3"
    # changing only a location's own capitals is allowed
    services.location_update(location=cart3, name="CHROMEBOOK cart 3", actor=world.district_admin)


def test_the_page_says_the_name_is_taken_and_lists_names_ignoring_case(world, client_for):
    services.location_create(site=world.site_a, name="Chromebook Cart 1", actor=world.district_admin)
    services.location_create(site=world.site_a, name="annex shelf", actor=world.district_admin)
    client = client_for(world.district_admin)
    url = reverse("location_action", args=[world.site_a.pk, "add"])
    page = client.post(url, {"name": "chromebook cart 1", "kind": "cart"}, follow=True)
    text = page.content.decode()
    assert "already has a location named" in text
    assert Location.objects.filter(site=world.site_a, name__iexact="chromebook cart 1").count() == 1
    names = [loc.name for loc in page.context["locations"] if loc.active]
    assert names == sorted(names, key=str.lower)
