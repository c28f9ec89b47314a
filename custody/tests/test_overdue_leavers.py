"""Overdue check-outs and devices held by people who left (issue #8): the rules
(``custody.rules.is_overdue`` / ``overdue_q``, ``holder_left`` / ``holder_left_q``) agree with
their queryset forms, and the dashboard, device list, person and device pages say the same."""

from __future__ import annotations

import datetime
import itertools
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from core.scoping import HIDDEN_PERSON
from core.testing import make_world
from custody import rules
from custody.models import Assignment
from custody.services import device_check_out
from inventory.models import Device
from people.models import Person
from sites.models import District

S = Device.Status


def _open(device: Device, person: Person, *, due_on: datetime.date | None, status: str = S.ASSIGNED) -> Assignment:
    """An open check-out in any state (rows written directly: the rule is judged, not the services)."""
    Device.objects.filter(pk=device.pk).update(status=status)
    return Assignment.objects.create(
        device=device, person=person, holder_label=person.label, checked_out_at=timezone.now(), due_on=due_on
    )


# --------------------------------------------------------------------------- rule agreement

OVERDUE_STATUSES = [S.ASSIGNED, S.LOST, S.STOLEN, S.IN_REPAIR]
OVERDUE_DUES = [None, -3, -1, 0, 5]  # days from today


@pytest.mark.django_db
def test_overdue_rule_and_its_queryset_form_agree(world):
    today = rules.district_today()
    cases = []
    for status, due in itertools.product(OVERDUE_STATUSES, OVERDUE_DUES):
        device = Device.objects.create(
            asset_tag=f"OD-{status}-{due}", serial_number=f"S{status}{due}", model=world.device_a.model,
            owner_site=world.site_a, current_site=world.site_a,
        )  # fmt: skip
        due_on = None if due is None else today + datetime.timedelta(days=due)
        a = _open(device, world.person_a, due_on=due_on, status=status)
        cases.append((a.pk, rules.is_overdue(checked_in=False, due_on=due_on, device_status=status, today=today)))
    by_q = set(Assignment.objects.filter(rules.overdue_q(today=today)).values_list("pk", flat=True))
    assert {pk for pk, overdue in cases if overdue} == by_q
    # only a checked-out device past its due date: lost and stolen are their own figures
    assert len(by_q) == 2


def test_days_overdue():
    today = datetime.date(2025, 3, 10)
    assert rules.days_overdue(due_on=datetime.date(2025, 3, 9), today=today) == 1
    assert rules.days_overdue(due_on=datetime.date(2025, 2, 28), today=today) == 10
    assert rules.days_overdue(due_on=today, today=today) == 0
    assert rules.days_overdue(due_on=None, today=today) == 0


@pytest.mark.parametrize("mode", list(District.OwnershipMode.values))
@pytest.mark.django_db
def test_holder_left_rule_and_its_queryset_form_agree(mode):
    world = make_world(mode=mode)
    expected = {}
    combos = itertools.product(Person.Status.values, Person.Role.values, ("a", "b"))
    for n, (status, role, home) in enumerate(combos, start=1):
        person = Person.objects.create(
            given_name="P", family_name=f"N{n}", role=role, status=status,
            home_site=world.site_a if home == "a" else world.site_b,
        )  # fmt: skip
        # owner site A; current site B every other row: where the device belongs is no part of the rule
        device = Device.objects.create(
            asset_tag=f"HL-{n}", serial_number=f"HL{n}", model=world.device_a.model,
            owner_site=world.site_a, current_site=world.site_b if n % 2 else world.site_a,
        )  # fmt: skip
        a = _open(device, person, due_on=None)
        expected[a.pk] = (rules.holder_left(person_status=status), status)
    by_q = set(Assignment.objects.filter(rules.holder_left_q()).values_list("pk", flat=True))
    assert {pk for pk, (left, _) in expected.items() if left} == by_q
    # the person's status only: every status that may not receive devices, and no other
    assert {status for left, status in expected.values() if left} == set(Person.Status.values) - {Person.Status.ACTIVE}


# --------------------------------------------------------------------------- overdue on the pages


def _stat(page: str, label: str) -> int:
    """The number of the dashboard tile whose label is ``label``."""
    head = page[: page.index(f'<div class="l">{label}</div>')]
    return int(head[head.rindex('<div class="n">') + len('<div class="n">') :].split("<", 1)[0].replace(",", ""))


def test_lost_device_with_an_open_check_out_is_lost_not_overdue(client_for, world):
    yesterday = rules.district_today() - datetime.timedelta(days=1)
    _open(world.device_a, world.person_a, due_on=yesterday, status=S.LOST)
    page = client_for(world.site_tech).get(reverse("dashboard")).content.decode()
    assert _stat(page, "check-outs overdue") == 0
    assert _stat(page, "Lost") == 1
    listing = client_for(world.site_tech).get(reverse("device_list"), {"overdue": "1", "exact": "0"})
    assert list(listing.context["page"].items) == []


def test_overdue_list_shows_due_date_and_days_overdue_and_matches_the_count(client_for, world):
    today = rules.district_today()
    _open(world.device_a, world.person_a, due_on=today - datetime.timedelta(days=4))
    # site A's student holds site B's device, overdue: the assignment is visible to site A
    # (its person) but the device is not; the count and the list agree on what site A sees
    _open(world.device_b, world.person_a, due_on=today - datetime.timedelta(days=2))
    client = client_for(world.site_tech)
    page = client.get(reverse("dashboard")).content.decode()
    listing = client.get(reverse("device_list"), {"overdue": "1", "exact": "0"})
    tags = [d.asset_tag for d in listing.context["page"].items]
    assert _stat(page, "check-outs overdue") == len(tags) == 1
    body = listing.content.decode()
    assert f"due {(today - datetime.timedelta(days=4)).isoformat()}" in body and "4 days overdue" in body
    # the person page shows both (its holdings), with days overdue
    person_page = client.get(reverse("person_detail", args=[world.person_a.pk])).content.decode()
    assert "4 days overdue" in person_page and "2 days overdue" in person_page


def test_overdue_is_judged_in_the_district_calendar(client_for, world):
    district = District.get()
    district.time_zone = "America/Los_Angeles"
    district.save()
    # 23:30 in Los Angeles on 10 March is 06:30 UTC on 11 March: a device due on 10 March is not overdue yet
    late_evening = datetime.datetime(2025, 3, 10, 23, 30, tzinfo=ZoneInfo("America/Los_Angeles"))
    _open(world.device_a, world.person_a, due_on=datetime.date(2025, 3, 10))
    with mock.patch("django.utils.timezone.now", return_value=late_evening.astimezone(datetime.UTC)):
        page = client_for(world.site_tech).get(reverse("dashboard")).content.decode()
        assert _stat(page, "check-outs overdue") == 0
    next_morning = late_evening + datetime.timedelta(hours=8)
    with mock.patch("django.utils.timezone.now", return_value=next_morning.astimezone(datetime.UTC)):
        page = client_for(world.site_tech).get(reverse("dashboard")).content.decode()
        assert _stat(page, "check-outs overdue") == 1


# --------------------------------------------------------------------------- people who left


def test_withdrawn_holder_shows_on_dashboard_list_person_and_device_pages(client_for, world):
    device_check_out(device=world.device_a, person=world.person_a, actor=world.site_tech)
    Person.objects.filter(pk=world.person_a.pk).update(status=Person.Status.WITHDRAWN)
    client = client_for(world.site_tech)
    page = client.get(reverse("dashboard")).content.decode()
    assert _stat(page, "held by people who left") == 1
    listing = client.get(reverse("device_list"), {"left": "1", "exact": "0"})
    assert [d.asset_tag for d in listing.context["page"].items] == ["CB-000001"]
    person_page = client.get(reverse("person_detail", args=[world.person_a.pk])).content.decode()
    assert "This person left (withdrawn) and still holds CB-000001." in person_page
    device_page = client.get(reverse("device_detail", args=[world.device_a.pk])).content.decode()
    assert "has left (withdrawn)" in device_page


def _loaner(world, tag: str, site) -> Device:
    """A loaner-pool device of ``site`` (owner and current site)."""
    return Device.objects.create(
        asset_tag=tag, serial_number=f"S-{tag}", model=world.device_a.model, owner_site=site, current_site=site,
        status=S.LOANER_POOL,
    )  # fmt: skip


@pytest.mark.parametrize("mode", list(District.OwnershipMode.values))
@pytest.mark.django_db
def test_active_student_holding_another_sites_loaner_has_not_left(client_for, mode):
    """Lending across sites is routine: a district technician lends a warehouse loaner (District
    Office) and site B's technician lends a site B device to site A's active student. Neither
    holder "left": not on the dashboard, the device list, the person page or the device page."""
    from sites.models import Site

    world = make_world(mode=mode)
    office = Site.objects.create(name="District Office", code="DO", kind=Site.Kind.DISTRICT_OFFICE)
    warehouse_loaner = _loaner(world, "CB-010946", office)
    device_check_out(device=warehouse_loaner, person=world.person_a, actor=world.district_tech)
    device_check_out(device=world.device_b, person=world.person_a, actor=world.district_tech)
    assert Assignment.objects.filter(rules.holder_left_q()).count() == 0
    for user in (world.district_admin, world.site_tech):
        client = client_for(user)
        assert _stat(client.get(reverse("dashboard")).content.decode(), "held by people who left") == 0
        assert list(client.get(reverse("device_list"), {"left": "1", "exact": "0"}).context["page"].items) == []
    person_page = client_for(world.site_tech).get(reverse("person_detail", args=[world.person_a.pk])).content.decode()
    assert "This person left" not in person_page and "CB-010946" in person_page
    for device in (warehouse_loaner, world.device_b):
        device_page = client_for(world.district_admin).get(reverse("device_detail", args=[device.pk])).content.decode()
        assert "Checked out to" in device_page and "The holder" not in device_page


@pytest.mark.parametrize("mode", list(District.OwnershipMode.values))
@pytest.mark.django_db
def test_student_who_moved_school_while_active_has_not_left(client_for, mode):
    """A student who moves to another school while active is reported by the import's warning
    and the change log, not as someone who left; the device's school still sees its device out
    to "a person at another site", never the student's name."""
    world = make_world(mode=mode)
    device_check_out(device=world.device_a, person=world.person_a, actor=world.site_tech)
    Person.objects.filter(pk=world.person_a.pk).update(home_site=world.site_b)  # moved to B, holding A's device
    client = client_for(world.site_tech)
    assert _stat(client.get(reverse("dashboard")).content.decode(), "held by people who left") == 0
    assert list(client.get(reverse("device_list"), {"left": "1", "exact": "0"}).context["page"].items) == []
    [row] = client.get(reverse("device_list"), {"q": "CB-000001", "exact": "0"}).context["page"].items
    assert row.holder == HIDDEN_PERSON and not row.holder_left
    device_page = client.get(reverse("device_detail", args=[world.device_a.pk])).content.decode()
    assert HIDDEN_PERSON in device_page and "The holder" not in device_page and "Ruiz" not in device_page
    # once the student transfers out of the district, both schools see that the holder left
    Person.objects.filter(pk=world.person_a.pk).update(status=Person.Status.TRANSFERRED)
    assert _stat(client.get(reverse("dashboard")).content.decode(), "held by people who left") == 1
    device_page = client.get(reverse("device_detail", args=[world.device_a.pk])).content.decode()
    assert "The holder has left (no longer active)" in device_page and "Ruiz" not in device_page
