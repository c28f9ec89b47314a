"""Device services: every write records an event; wrong states are refused clearly."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from core.errors import DomainError, WrongStateError
from core.testing import DeviceFactory, DeviceModelFactory, LocationFactory
from custody.services import device_check_in, device_check_out
from inventory import services
from inventory.models import Device, DeviceEvent, DeviceModel

pytestmark = pytest.mark.django_db


def _events(device):
    return list(DeviceEvent.objects.filter(device=device).order_by("id"))


def test_every_write_records_exactly_one_event_with_before_and_after(world):
    """Event-on-every-write: each service adds one event whose after-state matches the row."""
    model = DeviceModelFactory()
    device = services.device_create(
        actor=world.district_tech, asset_tag="0041873", model=model, owner_site=world.site_a, serial_number="S-1"
    )
    other_room = LocationFactory(site=world.site_b, name="Back office")  # not a sequence name: "Room 12" is taken
    steps = [
        (lambda d: services.device_update(device=d, actor=world.district_tech, vendor="CDW-G"), "updated", {"vendor": "CDW-G"}),
        (lambda d: services.device_move(device=d, location=world.location_a, actor=world.district_tech), "moved", {"location": str(world.location_a)}),
        (lambda d: services.device_transfer(device=d, to_site=world.site_b, actor=world.district_tech), "transferred", {"current_site": "B", "location": None}),
        (lambda d: services.device_move(device=d, location=other_room, actor=world.district_tech), "moved", {"location": str(other_room)}),
        (lambda d: services.device_set_loaner_pool(device=d, in_pool=True, actor=world.district_tech), "status_changed", {"status": "loaner_pool"}),
        (lambda d: services.device_set_loaner_pool(device=d, in_pool=False, actor=world.district_tech), "status_changed", {"status": "in_stock"}),
        (lambda d: device_check_out(device=d, person=world.person_b, actor=world.district_tech), "checked_out", None),
        (lambda d: services.device_mark_lost(device=d, actor=world.district_tech), "status_changed", {"status": "lost"}),
        (lambda d: services.device_mark_found(device=d, actor=world.district_tech), "status_changed", {"status": "assigned"}),
        (lambda d: device_check_in(device=d, actor=world.district_tech), "checked_in", None),
        (lambda d: services.device_mark_stolen(device=d, actor=world.district_tech, note="report 77"), "status_changed", {"status": "stolen"}),
        (lambda d: services.device_mark_found(device=d, actor=world.district_tech), "status_changed", {"status": "in_stock"}),
        (lambda d: services.device_retire(device=d, actor=world.district_tech), "status_changed", {"status": "retired"}),
    ]  # fmt: skip
    assert [e.kind for e in _events(device)] == ["created"]
    for step, kind, after in steps:
        count = DeviceEvent.objects.filter(device=device).count()
        step(Device.objects.get(pk=device.pk))
        events = _events(device)
        assert len(events) == count + 1, kind
        assert events[-1].kind == kind
        assert events[-1].actor_label == "district-tech"
        if after is not None:
            assert events[-1].after == after
    assert Device.objects.get(pk=device.pk).status == Device.Status.RETIRED


def test_update_without_changes_writes_no_event(world):
    services.device_update(device=world.device_a, actor=world.site_tech, vendor="")
    assert not DeviceEvent.objects.exists()


def test_history_stays_readable_after_person_and_user_are_removed(world):
    device_check_out(device=world.device_a, person=world.person_a, actor=world.site_tech)
    device_check_in(device=world.device_a, actor=world.site_tech)
    from custody.models import Assignment

    Assignment.objects.filter(person=world.person_a).update(person=None)
    world.person_a.delete()
    world.site_tech.delete()
    events = _events(world.device_a)
    assert [e.person_label for e in events] == ["Ana Ruiz #0041873", "Ana Ruiz #0041873"]
    assert [e.actor_label for e in events] == ["site-tech", "site-tech"]
    assert all(e.person_id is None and e.actor_id is None for e in events)


@pytest.mark.parametrize(
    ("operation", "status", "message"),
    [
        ("transfer", Device.Status.RETIRED, "retired and cannot be transferred"),
        ("move", Device.Status.RETIRED, "retired"),
        ("lost", Device.Status.LOST, "lost and cannot be marked lost"),
        ("lost", Device.Status.RETIRED, "retired and cannot be marked lost"),
        ("stolen", Device.Status.STOLEN, "stolen and cannot be marked stolen"),
        ("found", Device.Status.IN_STOCK, "in stock and cannot be marked found"),
        ("loaner_in", Device.Status.ASSIGNED, "cannot be added to the loaner pool"),
        ("loaner_out", Device.Status.IN_STOCK, "cannot be taken out of the loaner pool"),
        ("retire", Device.Status.RETIRED, "retired and cannot be retired"),
    ],
)
def test_wrong_state_is_refused_without_changes(world, operation, status, message):
    Device.objects.filter(pk=world.device_a.pk).update(status=status)
    device = Device.objects.get(pk=world.device_a.pk)
    calls = {
        "transfer": lambda: services.device_transfer(device=device, to_site=world.site_b, actor=world.district_tech),
        "move": lambda: services.device_move(device=device, location=world.location_a, actor=world.district_tech),
        "lost": lambda: services.device_mark_lost(device=device, actor=world.district_tech),
        "stolen": lambda: services.device_mark_stolen(device=device, actor=world.district_tech),
        "found": lambda: services.device_mark_found(device=device, actor=world.district_tech),
        "loaner_in": lambda: services.device_set_loaner_pool(device=device, in_pool=True, actor=world.district_tech),
        "loaner_out": lambda: services.device_set_loaner_pool(device=device, in_pool=False, actor=world.district_tech),
        "retire": lambda: services.device_retire(device=device, actor=world.district_tech),
    }
    with pytest.raises(WrongStateError, match=message):
        calls[operation]()
    assert Device.objects.get(pk=device.pk).status == status
    assert not DeviceEvent.objects.exists()


def test_checked_out_device_cannot_be_retired(world):
    device_check_out(device=world.device_a, person=world.person_a, actor=world.site_tech)
    with pytest.raises(WrongStateError, match="check it in before retiring"):
        services.device_retire(device=world.device_a, actor=world.site_tech)


def test_move_to_a_location_at_another_site_is_refused(world):
    with pytest.raises(WrongStateError, match="transfer the device first") as info:
        services.device_move(device=world.device_a, location=world.location_b, actor=world.district_tech)
    assert info.value.field == "location"


def test_transfer_to_the_same_site_is_refused(world):
    with pytest.raises(WrongStateError, match="already at"):
        services.device_transfer(device=world.device_a, to_site=world.site_a, actor=world.district_tech)


def test_asset_tags_are_unique_among_live_devices_ignoring_case(world):
    with pytest.raises(DomainError, match="already used") as info:
        services.device_create(actor=None, asset_tag="cb-000001", model=world.device_a.model, owner_site=world.site_a)
    assert info.value.field == "asset_tag"
    Device.objects.filter(pk=world.device_a.pk).update(status=Device.Status.RETIRED)
    reused = services.device_create(
        actor=None, asset_tag="CB-000001", model=world.device_a.model, owner_site=world.site_a
    )
    assert reused.asset_tag == "CB-000001"


def test_serial_is_unique_per_manufacturer_only(world):
    with pytest.raises(DomainError, match="already has a device with serial") as info:
        services.device_create(
            actor=None, asset_tag="X-1", model=world.device_a.model, owner_site=world.site_a, serial_number="SNA1"
        )
    assert info.value.field == "serial_number"
    dell = DeviceModelFactory(manufacturer__name="Dell")
    services.device_create(actor=None, asset_tag="X-2", model=dell, owner_site=world.site_a, serial_number="SNA1")


def test_serial_is_unique_per_manufacturer_ignoring_case(world):
    """A tester created ``sna1`` beside ``SNA1`` (same maker); scanning then found two devices."""
    with pytest.raises(DomainError, match="already has a device with serial") as info:
        services.device_create(
            actor=None, asset_tag="X-1", model=world.device_a.model, owner_site=world.site_a, serial_number="sna1"
        )
    assert info.value.field == "serial_number"
    other = DeviceFactory(asset_tag="X-3", serial_number="SNX3", model=world.device_a.model, owner_site=world.site_a)
    with pytest.raises(DomainError, match="already has a device with serial"):
        services.device_update(device=other, actor=None, source=DeviceEvent.Source.IMPORT, serial_number="Sna1")
    # A device may change the case of its own serial number.
    services.device_update(device=world.device_a, actor=None, source=DeviceEvent.Source.IMPORT, serial_number="sna1")
    assert Device.objects.get(pk=world.device_a.pk).serial_number == "sna1"


def test_database_refuses_serials_differing_only_in_case(world):
    device = world.device_a
    with pytest.raises(IntegrityError), transaction.atomic():
        Device.objects.create(
            asset_tag="X-4", serial_number=device.serial_number.lower(), model=device.model, owner_site=world.site_a,
            current_site=world.site_a,
        )  # fmt: skip


def test_scanning_a_serial_finds_the_one_device(world):
    from inventory.selectors import device_find_exact

    assert device_find_exact(user=world.district_tech, code="sna1") == world.device_a
    with pytest.raises(DomainError):
        services.device_create(
            actor=None, asset_tag="X-5", model=world.device_a.model, owner_site=world.site_a, serial_number="sna1"
        )
    assert device_find_exact(user=world.district_tech, code="SNA1") == world.device_a


def test_asset_tag_keeps_leading_zeros(world):
    device = services.device_create(
        actor=None, asset_tag="0041873", model=world.device_a.model, owner_site=world.site_a
    )
    assert Device.objects.get(pk=device.pk).asset_tag == "0041873"


def test_bundle_rules(world):
    charger = DeviceFactory(model=DeviceModelFactory(category=DeviceModel.Category.CHARGER), owner_site=world.site_a)
    with pytest.raises(DomainError, match="not an accessory"):
        services.device_bundle(accessory=world.device_a, primary=charger, actor=world.site_tech)
    with pytest.raises(DomainError, match="same site"):
        services.device_bundle(accessory=charger, primary=world.device_b, actor=None)
    services.device_bundle(accessory=charger, primary=world.device_a, actor=world.site_tech)
    assert Device.objects.get(pk=charger.pk).bundled_with_id == world.device_a.pk


class TestDatabaseInvariants:
    """The database itself refuses what the code also refuses."""

    def test_duplicate_live_asset_tag_refused_by_database(self, world):
        with pytest.raises(IntegrityError), transaction.atomic():
            DeviceFactory(asset_tag="Cb-000001", owner_site=world.site_a)

    def test_negative_money_refused_by_database(self, world):
        with pytest.raises(IntegrityError), transaction.atomic():
            Device.objects.filter(pk=world.device_a.pk).update(purchase_cost=Decimal("-1.00"))
        with pytest.raises(IntegrityError), transaction.atomic():
            DeviceModel.objects.filter(pk=world.device_a.model_id).update(replacement_cost=Decimal("-0.01"))

    def test_event_log_is_append_only(self, world):
        device_check_out(device=world.device_a, person=world.person_a, actor=world.site_tech)
        event = DeviceEvent.objects.get()
        event.note = "rewritten"
        with pytest.raises(TypeError, match="append-only"):
            event.save()
        with pytest.raises(TypeError, match="append-only"):
            event.delete()
        with pytest.raises(TypeError, match="append-only"):
            DeviceEvent.objects.all().update(note="x")
        with pytest.raises(TypeError, match="append-only"):
            DeviceEvent.objects.all().delete()


def test_retiring_a_device_unbundles_its_accessories_with_an_event(world):
    charger = DeviceFactory(
        model=DeviceModelFactory(category=DeviceModel.Category.CHARGER),
        owner_site=world.site_a,
        bundled_with=world.device_a,
    )
    services.device_retire(device=world.device_a, actor=world.site_tech)
    charger.refresh_from_db()
    assert charger.bundled_with is None
    event = DeviceEvent.objects.get(device=charger)
    assert (event.kind, event.before, event.after) == ("bundled", {"bundled_with": "CB-000001"}, {"bundled_with": None})


def test_an_accessory_bundled_elsewhere_is_not_silently_taken(world):
    other = DeviceFactory(owner_site=world.site_a)
    charger = DeviceFactory(model=DeviceModelFactory(category=DeviceModel.Category.CHARGER), owner_site=world.site_a)
    services.device_bundle(accessory=charger, primary=world.device_a, actor=world.site_tech)
    with pytest.raises(DomainError, match="unbundle it there first"):
        services.device_bundle(accessory=charger, primary=other, actor=world.site_tech)
    with pytest.raises(DomainError, match="already bundled"):
        services.device_bundle(accessory=charger, primary=world.device_a, actor=world.site_tech)


def test_repair_round_trip(world):
    services.device_send_to_repair(device=world.device_a, actor=world.site_tech, note="cracked screen")
    assert Device.objects.get(pk=world.device_a.pk).status == Device.Status.IN_REPAIR
    with pytest.raises(WrongStateError, match="returned from repair"):
        services.device_return_from_repair(device=world.device_b, actor=world.district_tech)
    services.device_return_from_repair(device=world.device_a, actor=world.site_tech)
    assert Device.objects.get(pk=world.device_a.pk).status == Device.Status.IN_STOCK
    assert [e.after for e in _events(world.device_a)] == [{"status": "in_repair"}, {"status": "in_stock"}]
