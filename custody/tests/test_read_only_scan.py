"""A scan of a device the user may see but not change (a read-only role at its site) says so;
a device the user may not see at all keeps the neutral "No device … at your sites"."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import StaffRole
from core.testing import DeviceFactory, SiteFactory
from custody.models import Assignment

pytestmark = pytest.mark.django_db

READ_ONLY = "CB-000002 is at Birch Middle, where your role is read-only: you can look it up but not {doing}."


@pytest.fixture
def two_roles(world):
    """Site technician at Alder Elementary and principal (read-only) at Birch Middle."""
    StaffRole.objects.create(user=world.site_tech, role=StaffRole.Role.SITE_ADMINISTRATOR, site=world.site_b)
    return world.site_tech


def test_check_out_and_in_of_a_read_only_device_say_why(client_for, world, two_roles):
    client = client_for(two_roles)
    out = client.post(
        reverse("check_out"),
        {"person": world.person_a.pk, "code": "cb-000002", "condition": "good"},
        HTTP_HX_REQUEST="true",
    )
    assert READ_ONLY.format(doing="check it out") in out.content.decode()
    back = client.post(reverse("check_in"), {"code": "SNB1", "condition": "good"}, HTTP_HX_REQUEST="true")
    assert READ_ONLY.format(doing="check it in") in back.content.decode()
    assert not Assignment.objects.exists()


def test_bulk_lines_of_a_read_only_device_say_why(client_for, world, two_roles):
    client = client_for(two_roles)
    response = client.post(
        reverse("bulk", args=["check-out"]), {"lines": "CB-000002, 0041873", "condition": "good"}, follow=True
    )
    assert [r.message for r in response.context["results"]] == [READ_ONLY.format(doing="check it out")]
    response = client.post(reverse("bulk", args=["check-in"]), {"lines": "CB-000002", "condition": "good"}, follow=True)
    assert [r.message for r in response.context["results"]] == [READ_ONLY.format(doing="check it in")]


def test_a_device_the_user_cannot_see_stays_unnamed(client_for, world, two_roles):
    DeviceFactory(asset_tag="CB-000009", serial_number="SNC1", owner_site=SiteFactory(code="C", name="Cedar High"))
    response = client_for(two_roles).post(
        reverse("check_out"),
        {"person": world.person_a.pk, "code": "CB-000009", "condition": "good"},
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    assert "No device with asset tag or serial number &#x27;CB-000009&#x27; at your sites." in body
    assert "Cedar High" not in body and "read-only" not in body
