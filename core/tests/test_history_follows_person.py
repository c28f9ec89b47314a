"""A school keeps the custody record of its own students after a device leaves it.

The gate's rule for rows about a device and a person (device events, assignments;
``core.scoping.DevicePersonScopedQuerySet``): seen when the device **or** the person is
visible; changed only through the device. Found by a tester: transferring a device erased
the student's history from their own school's person page and exports (fee disputes).
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import StaffRole
from core.scoping import CHANGE, HIDDEN_PERSON, VIEW
from core.testing import make_user
from core.tests.test_list_scope import body_text
from custody.models import Assignment
from custody.services import device_check_in, device_check_out
from inventory.models import DeviceEvent
from inventory.services import device_transfer

pytestmark = pytest.mark.django_db


@pytest.fixture
def moved(world):
    """Site A's technician lends site A's device to site A's student (Ana Ruiz, 0041873), takes
    it back and sends it to site B, where site B's technician lends it to site B's student."""
    device = world.device_a
    device_check_out(device=device, person=world.person_a, actor=world.site_tech)
    device_check_in(device=device, actor=world.site_tech)
    device_transfer(device=device, to_site=world.site_b, actor=world.site_tech)
    world.site_b_tech = make_user("site-b-tech", [(StaffRole.Role.SITE_TECHNICIAN, world.site_b)])
    device.refresh_from_db()
    device_check_out(device=device, person=world.person_b, actor=world.site_b_tech)
    return device


def _get(client, name: str, **kwargs) -> str:
    response = client.get(reverse(name, kwargs=kwargs))
    assert response.status_code == 200, (name, response.status_code)
    return body_text(response)


def test_the_old_school_still_sees_its_students_history_on_the_person_page(client_for, world, moved):
    page = _get(client_for(world.site_tech), "person_detail", pk=world.person_a.pk)
    assert "No history yet" not in page
    assert moved.asset_tag in page
    assert "Checked out" in page and "Checked in" in page
    # The device's later life at site B is not the school's: its holder, its transfer.
    assert world.person_b.family_name not in page
    assert "Transferred" not in page
    # The tag is shown, not linked: the device's page is site B's (404 for site A).
    assert reverse("device_detail", kwargs={"pk": moved.pk}) not in page
    own = _get(client_for(world.district_tech), "person_detail", pk=world.person_a.pk)
    assert reverse("device_detail", kwargs={"pk": moved.pk}) in own


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_old_school_still_exports_its_students_assignments_and_events(client_for, world, moved, fmt):
    client = client_for(world.site_tech)
    for name in ("assignments", "events"):
        body = _get(client, f"exports:{name}_{fmt}")
        assert moved.asset_tag in body, name
        assert world.person_a.family_name in body and world.person_a.student_number in body, name
        # Site B's student on the same device stays hidden from site A.
        assert world.person_b.family_name not in body and world.person_b.student_number not in body, name


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_new_school_sees_the_device_history_without_the_old_schools_student(client_for, world, moved, fmt):
    client = client_for(world.site_b_tech)
    for name in ("assignments", "events"):
        body = _get(client, f"exports:{name}_{fmt}")
        assert moved.asset_tag in body and world.person_b.family_name in body, name
        assert world.person_a.family_name not in body and world.person_a.student_number not in body, name
        assert HIDDEN_PERSON in body, name
    page = _get(client, "device_detail", pk=moved.pk)
    assert world.person_a.family_name not in page and HIDDEN_PERSON in page


def test_seeing_a_students_history_does_not_open_the_device_or_allow_changes(client_for, world, moved):
    """View is widened by the person; change is not, and the device itself stays site B's."""
    tech = world.site_tech
    seen = Assignment.objects.visible_to(tech, VIEW)
    assert list(seen.values_list("person_id", flat=True)) == [world.person_a.pk]
    assert not Assignment.objects.visible_to(tech, CHANGE).exists()
    assert DeviceEvent.objects.visible_to(tech, VIEW).filter(device=moved).exists()
    assert not DeviceEvent.objects.visible_to(tech, CHANGE).filter(device=moved).exists()
    # The principal may view their students' history but change nothing.
    assert Assignment.objects.visible_to(world.principal, VIEW).exists()
    assert not Assignment.objects.visible_to(world.principal, CHANGE).exists()
    assert client_for(tech).get(reverse("device_detail", kwargs={"pk": moved.pk})).status_code == 404


def test_events_about_nobody_follow_the_device_only(world, moved):
    """Site A sees, of the moved device, only the events naming its own student."""
    kinds = set(DeviceEvent.objects.visible_to(world.site_tech).filter(device=moved).values_list("kind", flat=True))
    assert kinds == {DeviceEvent.Kind.CHECKED_OUT, DeviceEvent.Kind.CHECKED_IN}
    people = set(DeviceEvent.objects.visible_to(world.site_tech).filter(device=moved).values_list("person", flat=True))
    assert people == {world.person_a.pk}
