"""A device that moved schools never shows its earlier holders to the new school's staff."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from core.scoping import HIDDEN_PERSON
from custody.services import device_check_in, device_check_out
from inventory.services import device_transfer

pytestmark = pytest.mark.django_db


@pytest.fixture
def moved_device(world):
    """Site B's device, once held by site B's student, now transferred to site A."""
    device_check_out(device=world.device_b, person=world.person_b, actor=world.district_tech)
    device_check_in(device=world.device_b, actor=world.district_tech)
    device_transfer(device=world.device_b, to_site=world.site_a, actor=world.district_tech)
    return world.device_b


def _csv(response) -> str:
    return b"".join(response.streaming_content).decode("utf-8-sig")


def test_site_tech_sees_the_history_but_not_the_other_schools_student(client_for, world, moved_device):
    client = client_for(world.site_tech)
    page = client.get(reverse("device_detail", args=[moved_device.pk])).content.decode()
    assert "Checked out" in page and HIDDEN_PERSON in page
    assert "Okafor" not in page and "0099001" not in page
    for name in ("events", "assignments"):
        body = _csv(client.get(reverse(f"exports:{name}_csv")))
        assert "Okafor" not in body and "0099001" not in body and world.person_b.sourced_id not in body, name
        assert HIDDEN_PERSON in body, name
    # The district technician still sees who held it.
    page = client_for(world.district_tech).get(reverse("device_detail", args=[moved_device.pk])).content.decode()
    assert "Ben Okafor" in page


def test_current_holder_from_another_school_is_hidden_in_lists_and_exports(client_for, world):
    # A district technician lends site A's device to site B's student.
    device_check_out(device=world.device_a, person=world.person_b, actor=world.district_tech)
    client = client_for(world.site_tech)
    listing = client.get(reverse("device_list"), {"exact": "0"})
    rows = {d.asset_tag: d.holder for d in listing.context["page"].items}
    assert rows["CB-000001"] == HIDDEN_PERSON  # the list says so, as the device page does
    detail = client.get(reverse("device_detail", args=[world.device_a.pk])).content.decode()
    assert "Okafor" not in detail and HIDDEN_PERSON in detail
    exported = list(csv.reader(io.StringIO(_csv(client.get(reverse("exports:devices_csv"))))))
    assert exported[1][exported[0].index("Holder")] == HIDDEN_PERSON
    assert exported[1][exported[0].index("Holder Student Number")] == ""


def test_holder_search_matches_only_people_the_user_may_see(client_for, world):
    """A search term matches only people the viewer may see: a site technician searching for
    another school's student (who holds one of the site's devices) finds nothing, and the
    export with that filter is empty too (issue #7)."""
    device_check_out(device=world.device_a, person=world.person_b, actor=world.district_tech)
    client = client_for(world.site_tech)
    for term in ("Okafor", world.person_b.student_number):
        listing = client.get(reverse("device_list"), {"q": term, "exact": "0"})
        assert [d.asset_tag for d in listing.context["page"].items] == [], term
        body = _csv(client.get(reverse("exports:devices_csv"), {"q": term}))
        assert world.device_a.asset_tag not in body, term
    # The district technician, who may see the student, finds the device by the holder's name.
    listing = client_for(world.district_tech).get(reverse("device_list"), {"q": "Okafor", "exact": "0"})
    assert world.device_a.asset_tag in [d.asset_tag for d in listing.context["page"].items]
