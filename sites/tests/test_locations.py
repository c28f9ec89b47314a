"""A location that still holds devices is not deleted: the devices would lose where they are
without a device event (issue #7: every change of a device's place leaves a trail)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from core.errors import DomainError
from core.testing import DeviceFactory
from inventory.models import Device
from sites import services
from sites.models import Location

pytestmark = pytest.mark.django_db


def test_a_location_with_devices_is_not_deleted(world):
    device = DeviceFactory(asset_tag="LOC-T1", owner_site=world.site_a, location=world.location_a)
    with pytest.raises(DomainError) as refused:
        services.location_delete(location=world.location_a, actor=world.district_admin)
    assert world.location_a.name in str(refused.value) and "1 device" in str(refused.value)
    assert Location.objects.filter(pk=world.location_a.pk).exists()
    assert Device.objects.get(pk=device.pk).location_id == world.location_a.pk


def test_an_empty_location_is_deleted(world):
    Device.objects.filter(location=world.location_a).update(location=None)
    services.location_delete(location=world.location_a, actor=world.district_admin)
    assert not Location.objects.filter(pk=world.location_a.pk).exists()


def test_the_admin_refuses_deleting_a_location_with_devices_without_an_error_page(world, client_for):
    """Deleting the location in the site's admin page (inline) shows a form error; nothing is deleted."""
    DeviceFactory(asset_tag="LOC-T1", owner_site=world.site_a, location=world.location_a)
    site = world.site_a
    data = {
        "code": site.code, "name": site.name, "kind": site.kind, "grades": "", "state_id": "", "sourced_id": "",
        "active": "on",
        "locations-TOTAL_FORMS": "1", "locations-INITIAL_FORMS": "1",
        "locations-MIN_NUM_FORMS": "0", "locations-MAX_NUM_FORMS": "1000",
        "locations-0-id": str(world.location_a.pk), "locations-0-site": str(site.pk),
        "locations-0-name": world.location_a.name, "locations-0-kind": world.location_a.kind,
        "locations-0-active": "on", "locations-0-DELETE": "on",
    }  # fmt: skip
    world.district_admin.is_staff = world.district_admin.is_superuser = True  # as the Django admin needs
    world.district_admin.save()
    response = client_for(world.district_admin).post(reverse("admin:sites_site_change", args=[site.pk]), data)
    assert response.status_code == 200
    assert "protected" in response.content.decode() or "device" in response.content.decode()
    assert Location.objects.filter(pk=world.location_a.pk).exists()
