"""Check-out and check-in rules: happy paths, wrong states, bundles, loaners, double submits."""

from __future__ import annotations

import datetime

import pytest
from django.http import Http404
from django.utils import timezone

from core.errors import ConflictError, NotCheckedOutWarning, WrongStateError
from core.testing import DeviceFactory, DeviceModelFactory, PersonFactory
from custody.models import Assignment
from custody.rules import district_today, latest_due_on
from custody.services import bulk_apply, device_check_in, device_check_out
from inventory.models import Device, DeviceEvent, DeviceModel
from inventory.services import device_mark_lost, device_mark_stolen, device_retire
from people.models import Person

pytestmark = pytest.mark.django_db


def test_check_out_then_in_writes_assignment_status_and_events(world):
    result = device_check_out(
        device=world.device_a, person=world.person_a, actor=world.site_tech, due_on=timezone.localdate()
    )
    device = Device.objects.get(pk=world.device_a.pk)
    assert device.status == Device.Status.ASSIGNED
    assert result.assignment.is_open and result.assignment.holder_label == "Ana Ruiz #0041873"
    out_event = DeviceEvent.objects.filter(device=device, kind=DeviceEvent.Kind.CHECKED_OUT).get()
    assert out_event.before == {"status": "in_stock", "holder": None}
    assert out_event.after["holder"] == "Ana Ruiz #0041873"
    assert out_event.actor == world.site_tech and out_event.person == world.person_a

    back = device_check_in(device=device, actor=world.site_tech, condition=Assignment.Condition.DAMAGED)
    device.refresh_from_db()
    assert device.status == Device.Status.IN_STOCK
    assert back.assignment.checked_in_at is not None and back.assignment.condition_in == "damaged"
    in_event = DeviceEvent.objects.filter(device=device, kind=DeviceEvent.Kind.CHECKED_IN).get()
    assert in_event.before["holder"] == "Ana Ruiz #0041873" and in_event.after["status"] == "in_stock"


@pytest.mark.parametrize("status", ["lost", "stolen", "retired", "in_repair"])
def test_cannot_check_out_device_in_wrong_state(world, status):
    Device.objects.filter(pk=world.device_a.pk).update(status=status)
    with pytest.raises(WrongStateError, match="cannot be checked out"):
        device_check_out(device=world.device_a, person=world.person_a, actor=world.site_tech)
    assert not Assignment.objects.exists()
    assert not DeviceEvent.objects.exists()


def test_cannot_check_out_a_device_that_is_already_out(world):
    device_check_out(device=world.device_a, person=world.person_a, actor=world.site_tech)
    other = PersonFactory(home_site=world.site_a)
    with pytest.raises(ConflictError, match="already checked out to Ana Ruiz"):
        device_check_out(device=world.device_a, person=other, actor=world.site_tech)
    assert Assignment.objects.count() == 1


@pytest.mark.parametrize("status", ["inactive", "withdrawn", "graduated"])
def test_cannot_check_out_to_person_who_left(world, status):
    Person.objects.filter(pk=world.person_a.pk).update(status=status)
    world.person_a.refresh_from_db()
    with pytest.raises(WrongStateError, match="devices can only be checked out to active students and staff") as info:
        device_check_out(device=world.device_a, person=world.person_a, actor=world.site_tech)
    assert info.value.field == "person"
    assert Device.objects.get(pk=world.device_a.pk).status == Device.Status.IN_STOCK


def test_due_date_in_the_past_is_refused(world):
    with pytest.raises(WrongStateError) as info:
        device_check_out(
            device=world.device_a,
            person=world.person_a,
            actor=world.site_tech,
            due_on=district_today() - datetime.timedelta(days=1),  # the district's yesterday
        )
    assert info.value.field == "due_on"


def test_due_date_is_judged_in_the_districts_local_date(world):
    """custody.rules.due_date_in_past with the district's today (America/Chicago), not the
    server's (UTC): at 03:00 UTC on 10 March it is still 9 March in the district."""
    at = datetime.datetime(2025, 3, 10, 3, 0, tzinfo=datetime.UTC)
    with pytest.raises(WrongStateError) as info:
        device_check_out(device=world.device_a, person=world.person_a, actor=world.site_tech,
                         due_on=datetime.date(2025, 3, 8), at=at)  # fmt: skip
    assert info.value.field == "due_on"
    result = device_check_out(
        device=world.device_a, person=world.person_a, actor=world.site_tech, due_on=datetime.date(2025, 3, 9), at=at
    )
    assert result.assignment.due_on == datetime.date(2025, 3, 9)


def test_due_date_too_far_ahead_is_refused_naming_the_latest_allowed(world):
    today = district_today()
    with pytest.raises(WrongStateError) as info:
        device_check_out(device=world.device_a, person=world.person_a, actor=world.site_tech,
                         due_on=datetime.date(9999, 12, 31))  # fmt: skip
    assert info.value.field == "due_on"
    latest = latest_due_on(today=today)
    assert info.value.message == (
        f"The due date 9999-12-31 is more than 5 years ahead: the latest allowed is {latest.isoformat()}."
    )
    assert not Assignment.objects.exists()
    result = device_check_out(device=world.device_a, person=world.person_a, actor=world.site_tech, due_on=latest)
    assert result.assignment.due_on == latest


def test_check_in_of_device_not_checked_out_is_a_warning_and_changes_nothing(world):
    with pytest.raises(NotCheckedOutWarning, match="not checked out"):
        device_check_in(device=world.device_a, actor=world.site_tech)
    assert not DeviceEvent.objects.exists()


def test_same_submission_key_does_not_create_a_second_assignment(world):
    first = device_check_out(device=world.device_a, person=world.person_a, actor=world.site_tech, submission_key="k1")
    again = device_check_out(device=world.device_a, person=world.person_a, actor=world.site_tech, submission_key="k1")
    assert again.replayed and again.assignment.pk == first.assignment.pk
    assert Assignment.objects.count() == 1
    assert DeviceEvent.objects.filter(kind=DeviceEvent.Kind.CHECKED_OUT).count() == 1


def test_site_tech_cannot_check_out_another_sites_device_or_to_another_sites_student(world):
    with pytest.raises(Http404):
        device_check_out(device=world.device_b, person=world.person_a, actor=world.site_tech)
    with pytest.raises(Http404):
        device_check_out(device=world.device_a, person=world.person_b, actor=world.site_tech)
    with pytest.raises(Http404):
        device_check_out(device=world.device_a, person=world.person_a, actor=world.principal)
    assert not Assignment.objects.exists()


def test_bundle_goes_out_and_comes_back_together(world):
    charger_model = DeviceModelFactory(category=DeviceModel.Category.CHARGER, name="45W USB-C")
    charger = DeviceFactory(model=charger_model, owner_site=world.site_a, bundled_with=world.device_a)
    lost_case = DeviceFactory(
        model=DeviceModelFactory(category=DeviceModel.Category.CASE, name="Sleeve"),
        owner_site=world.site_a,
        bundled_with=world.device_a,
        status=Device.Status.LOST,
    )
    out = device_check_out(device=world.device_a, person=world.person_a, actor=world.site_tech)
    assert [a.device for a in out.accessory_assignments] == [charger]
    assert any(lost_case.asset_tag in w for w in out.warnings)
    charger.refresh_from_db()
    assert charger.status == Device.Status.ASSIGNED

    back = device_check_in(device=world.device_a, actor=world.site_tech)
    assert [a.device for a in back.accessory_assignments] == [charger]
    charger.refresh_from_db()
    assert charger.status == Device.Status.IN_STOCK
    assert not Assignment.objects.filter(checked_in_at__isnull=True).exists()


def test_loaner_returns_to_the_loaner_pool(world):
    Device.objects.filter(pk=world.device_a.pk).update(status=Device.Status.LOANER_POOL)
    out = device_check_out(device=world.device_a, person=world.person_a, actor=world.site_tech)
    assert out.assignment.is_loaner
    device_check_in(device=world.device_a, actor=world.site_tech)
    assert Device.objects.get(pk=world.device_a.pk).status == Device.Status.LOANER_POOL


def test_lost_device_keeps_its_holder_and_check_in_brings_it_back(world):
    device_check_out(device=world.device_a, person=world.person_a, actor=world.site_tech)
    device_mark_lost(device=world.device_a, actor=world.site_tech, note="left on bus")
    assert Assignment.objects.filter(device=world.device_a, checked_in_at__isnull=True).exists()
    with pytest.raises(WrongStateError, match="lost and cannot be checked out"):
        device_check_out(device=world.device_a, person=world.person_a, actor=world.site_tech)
    device_check_in(device=world.device_a, actor=world.site_tech)
    assert Device.objects.get(pk=world.device_a.pk).status == Device.Status.IN_STOCK


def test_stolen_device_with_open_assignment_can_be_retired(world):
    device_check_out(device=world.device_a, person=world.person_a, actor=world.site_tech)
    device_mark_stolen(device=world.device_a, actor=world.site_tech, note="police report 24-1183")
    device_retire(device=world.device_a, actor=world.site_tech)
    assert Device.objects.get(pk=world.device_a.pk).status == Device.Status.RETIRED


def test_bulk_reports_every_item_and_one_failure_does_not_undo_others(world):
    Device.objects.filter(pk=world.device_b.pk).update(current_site=world.site_a, owner_site=world.site_a)

    def op(device):
        device_check_out(device=device, person=world.person_a, actor=world.site_tech)
        return "ok"

    lost = DeviceFactory(owner_site=world.site_a, status=Device.Status.LOST)
    results = bulk_apply([("A", world.device_a), ("L", lost), ("B", world.device_b)], op)
    assert [(r.key, r.ok) for r in results] == [("A", True), ("L", False), ("B", True)]
    assert "lost" in results[1].message
    assert Assignment.objects.filter(checked_in_at__isnull=True).count() == 2


def test_cannot_check_out_to_a_person_who_transferred_away(world):
    Person.objects.filter(pk=world.person_a.pk).update(status=Person.Status.TRANSFERRED)
    world.person_a.refresh_from_db()
    with pytest.raises(WrongStateError, match="transferred"):
        device_check_out(device=world.device_a, person=world.person_a, actor=world.site_tech)


def test_checked_out_device_cannot_be_transferred(world):
    from inventory.services import device_transfer

    device_check_out(device=world.device_a, person=world.person_a, actor=world.district_tech)
    with pytest.raises(WrongStateError, match="check it in before transferring"):
        device_transfer(device=world.device_a, to_site=world.site_b, actor=world.district_tech)
