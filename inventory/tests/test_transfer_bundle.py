"""A transfer takes the device's bundled accessories along, or refuses and says which one
stays behind; a device page never lists another site's accessory (issue #7)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from core.errors import WrongStateError
from core.testing import DeviceFactory, DeviceModelFactory
from custody.services import device_check_out
from inventory.models import Device, DeviceEvent, DeviceModel
from inventory.services import device_bundle, device_transfer

pytestmark = pytest.mark.django_db


@pytest.fixture
def charger_model(db):
    return DeviceModelFactory(name="USB-C 45W", category=DeviceModel.Category.CHARGER)


@pytest.fixture
def bundle(world, charger_model):
    """Site A's Chromebook with a charger and a case bundled, both at site A."""
    accessories = [
        DeviceFactory(asset_tag=tag, model=charger_model, owner_site=world.site_a) for tag in ("CH-A1", "CH-A2")
    ]
    for accessory in accessories:
        device_bundle(accessory=accessory, primary=world.device_a, actor=world.site_tech)
    return accessories


def _site(device: Device) -> int:
    return Device.objects.values_list("current_site_id", flat=True).get(pk=device.pk)


def test_transfer_moves_the_bundled_accessories_in_the_same_transaction(world, bundle):
    device_transfer(device=world.device_a, to_site=world.site_b, actor=world.site_tech, note="to Birch")
    assert _site(world.device_a) == world.site_b.pk
    for accessory in bundle:
        assert _site(accessory) == world.site_b.pk
        event = DeviceEvent.objects.filter(device=accessory, kind=DeviceEvent.Kind.TRANSFERRED).get()
        assert event.before["current_site"] == "A" and event.after["current_site"] == "B"
        assert event.note == "with CB-000001: to Birch"
        assert Device.objects.get(pk=accessory.pk).bundled_with_id == world.device_a.pk
    assert DeviceEvent.objects.filter(kind=DeviceEvent.Kind.TRANSFERRED).count() == 3


def test_transfer_refuses_while_an_accessory_is_checked_out_on_its_own(world, bundle):
    device_check_out(device=bundle[0], person=world.person_a, actor=world.site_tech, with_bundle=False)
    with pytest.raises(WrongStateError) as refused:
        device_transfer(device=world.device_a, to_site=world.site_b, actor=world.site_tech)
    assert "CH-A1" in str(refused.value) and "checked out to Ana Ruiz #0041873" in str(refused.value)
    assert "unbundle" in str(refused.value)
    # Nothing moved, no event written.
    assert {_site(d) for d in (world.device_a, *bundle)} == {world.site_a.pk}
    assert not DeviceEvent.objects.filter(kind=DeviceEvent.Kind.TRANSFERRED).exists()


def test_transfer_refuses_while_an_accessory_is_at_another_site(world, bundle):
    # A district technician moved the charger on its own (an older split bundle).
    Device.objects.filter(pk=bundle[1].pk).update(current_site=world.site_b)
    with pytest.raises(WrongStateError) as refused:
        device_transfer(device=world.device_a, to_site=world.site_b, actor=world.district_tech)
    assert "CH-A2 is at Birch Middle" in str(refused.value)
    # For site A's technician, who may not change site B's charger (nor see it), the tag is not named.
    with pytest.raises(WrongStateError) as refused:
        device_transfer(device=world.device_a, to_site=world.site_b, actor=world.site_tech)
    assert "CH-A2" not in str(refused.value) and "site you may not change" in str(refused.value)
    assert _site(world.device_a) == world.site_a.pk


def test_retired_accessories_stay_behind(world, bundle):
    Device.objects.filter(pk=bundle[1].pk).update(status=Device.Status.RETIRED)
    device_transfer(device=world.device_a, to_site=world.site_b, actor=world.site_tech)
    assert _site(bundle[0]) == world.site_b.pk and _site(bundle[1]) == world.site_a.pk


def test_transfer_page_shows_the_refusal(client_for, world, bundle):
    device_check_out(device=bundle[0], person=world.person_a, actor=world.site_tech, with_bundle=False)
    client = client_for(world.site_tech)
    response = client.post(reverse("device_action", args=[world.device_a.pk, "transfer"]), {"site": world.site_b.pk})
    messages = [str(m) for m in response.wsgi_request._messages]
    assert any("CH-A1" in m and "checked out" in m for m in messages), messages


def test_device_page_never_lists_another_sites_accessory(client_for, world, charger_model):
    """A charger bundled with site A's device sits at site B (moved before transfers took
    accessories along): site A's technician sees that one accessory is elsewhere, not its tag."""
    charger = DeviceFactory(asset_tag="CH-BBB9", model=charger_model, owner_site=world.site_b)
    Device.objects.filter(pk=charger.pk).update(bundled_with=world.device_a)
    own = DeviceFactory(asset_tag="CH-AAA7", model=charger_model, owner_site=world.site_a)
    device_bundle(accessory=own, primary=world.device_a, actor=world.site_tech)
    page = client_for(world.site_tech).get(reverse("device_detail", args=[world.device_a.pk])).content.decode()
    assert "CH-AAA7" in page
    assert "CH-BBB9" not in page
    assert "1 accessory at another site" in page
    # The district technician sees both.
    page = client_for(world.district_tech).get(reverse("device_detail", args=[world.device_a.pk])).content.decode()
    assert "CH-AAA7" in page and "CH-BBB9" in page


def test_transfer_message_names_the_accessories_that_went_along(client_for, world, bundle):
    client = client_for(world.district_tech)
    response = client.post(reverse("device_action", args=[world.device_a.pk, "transfer"]), {"site": world.site_b.pk})
    messages = [str(m) for m in response.wsgi_request._messages]
    assert messages == ["CB-000001 (with CH-A1, CH-A2) transferred to Birch Middle."]


def test_bundle_refusal_names_the_other_device_only_to_those_who_may_see_it(world, charger_model):
    """An accessory left bundled with another site's device (as transfers left them before
    accessories moved along): re-bundling it at site A says it is bundled with "a device at
    another site", not site B's asset tag, to site A's technician; a district technician
    is told the tag."""
    accessory = DeviceFactory(asset_tag="CH-A9", model=charger_model, owner_site=world.site_a)
    Device.objects.filter(pk=accessory.pk).update(bundled_with=world.device_b)
    accessory.refresh_from_db()
    with pytest.raises(Exception) as refused:
        device_bundle(accessory=accessory, primary=world.device_a, actor=world.site_tech)
    assert "a device at another site" in str(refused.value)
    assert world.device_b.asset_tag not in str(refused.value)
    with pytest.raises(Exception) as refused:
        device_bundle(accessory=accessory, primary=world.device_a, actor=world.district_tech)
    assert world.device_b.asset_tag in str(refused.value)
