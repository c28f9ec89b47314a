"""The device edit form: the current owner site stays a choice; no stray "Version" label.

Found by a tester: in a centralized district, a site technician editing a device another
school owns (now at their site) saw "---------" as its owner site, and saving a notes change
failed with "This field is required."; the form also showed a "Version:" label with no field.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from core.testing import DeviceFactory, SiteFactory
from inventory.forms import DeviceForm
from inventory.models import Device

pytestmark = pytest.mark.django_db


@pytest.fixture
def visiting(world) -> Device:
    """A device owned by site B, now at site A (centralized: site A's technician edits it)."""
    return DeviceFactory(
        asset_tag="VIS-0001", model=world.device_a.model, owner_site=world.site_b, current_site=world.site_a
    )


def _data(device: Device, **changes) -> dict:
    data = {"asset_tag": device.asset_tag, "serial_number": device.serial_number, "model": device.model_id,
            "owner_site": device.owner_site_id, "notes": ""}  # fmt: skip
    return {**data, **changes}


def test_the_owner_site_of_another_school_stays_selected_and_named(client_for, world, visiting):
    page = client_for(world.site_tech).get(reverse("device_edit", args=[visiting.pk])).content.decode()
    assert f'<option value="{world.site_b.pk}" selected>{world.site_b}</option>' in page


def test_a_notes_change_saves_on_a_device_another_school_owns(client_for, world, visiting):
    response = client_for(world.site_tech).post(
        reverse("device_edit", args=[visiting.pk]), _data(visiting, notes="Cracked hinge")
    )
    assert response.status_code == 302, response.context["form"].errors
    visiting.refresh_from_db()
    assert (visiting.notes, visiting.owner_site_id) == ("Cracked hinge", world.site_b.pk)


def test_the_owner_cannot_be_changed_to_a_site_outside_the_users_scope(client_for, world, visiting):
    site_c = SiteFactory(code="C", name="Cedar High")
    client = client_for(world.site_tech)
    for device, to in ((visiting, site_c), (world.device_a, world.site_b), (world.device_a, site_c)):
        response = client.post(reverse("device_edit", args=[device.pk]), _data(device, owner_site=to.pk))
        assert response.status_code == 200
        assert "owner_site" in response.context["form"].errors, (device, to)
        device.refresh_from_db()
        assert device.owner_site_id != to.pk
    # Handing site B's device over to site A (a site the technician manages) is allowed.
    response = client.post(reverse("device_edit", args=[visiting.pk]), _data(visiting, owner_site=world.site_a.pk))
    assert response.status_code == 302
    visiting.refresh_from_db()
    assert visiting.owner_site_id == world.site_a.pk


def test_a_new_device_offers_only_the_users_sites(world):
    form = DeviceForm(user=world.site_tech)
    assert list(form.fields["owner_site"].queryset) == [world.site_a]


def test_the_hidden_version_has_no_label(client_for, world, visiting):
    page = client_for(world.site_tech).get(reverse("device_edit", args=[visiting.pk])).content.decode()
    assert "Version" not in page
    assert 'type="hidden" name="version"' in page
