"""Custody messages never name a person the reader may not see (issue #7, FERPA).

The situation: a district technician lends site A's device to site B's student. Site A's
technician can change the device (it is site A's) but may not see site B's student, so every
message about that device (check-in, refused check-out, refused transfer, bulk results, the
scanner's htmx partial) says "a person at another site" instead of the name and number.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from core.errors import ConflictError, WrongStateError
from core.scoping import HIDDEN_PERSON, person_label_for
from custody.services import device_check_in, device_check_out
from inventory.models import Device
from inventory.services import device_transfer

pytestmark = pytest.mark.django_db


@pytest.fixture
def lent(world):
    """Site A's device checked out (by a district technician) to site B's student."""
    device_check_out(device=world.device_a, person=world.person_b, actor=world.district_tech)
    return world.device_a


def _hidden(world, text: str) -> bool:
    """True when ``text`` names neither site B's student nor their number."""
    p = world.person_b
    return all(part not in text for part in (p.family_name, p.given_name, p.student_number, p.sourced_id))


def _messages(response) -> list[str]:
    return [str(m) for m in response.wsgi_request._messages]


def test_person_label_for_follows_the_gates_rule_for_people(world):
    assert person_label_for(person=world.person_b, user=world.site_tech) == HIDDEN_PERSON
    assert person_label_for(person=world.person_a, user=world.site_tech) == "Ana Ruiz #0041873"
    assert person_label_for(person=world.person_b, user=world.district_tech) == "Ben Okafor #0099001"
    # The system (no user: imports, commands) reads the stored label; so does a removed person's row.
    assert person_label_for(person=world.person_b, user=None) == "Ben Okafor #0099001"
    assert person_label_for(person=None, user=world.site_tech, label="Old Name #1") == "Old Name #1"
    # A stored label of a person the reader may not see is hidden too.
    assert person_label_for(person=world.person_b, user=world.site_tech, label="Ben Okafor #0099001") == HIDDEN_PERSON


def test_scan_check_in_of_a_device_lent_to_another_schools_student(client_for, world, lent):
    client = client_for(world.site_tech)
    response = client.post(reverse("check_in"), {"code": lent.asset_tag, "condition": "good"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert f"{lent.asset_tag} ({lent.model}) checked in from {HIDDEN_PERSON}, back in stock." in body
    assert _hidden(world, body)


def test_plain_check_in_message_hides_the_other_schools_student(client_for, world, lent):
    client = client_for(world.site_tech)
    response = client.post(reverse("check_in"), {"code": lent.asset_tag, "condition": "good"})
    assert response.status_code == 302
    messages = _messages(response)
    assert messages and all(_hidden(world, m) for m in messages), messages
    assert any(HIDDEN_PERSON in m for m in messages)


def test_refused_check_out_does_not_name_the_holder(client_for, world, lent):
    client = client_for(world.site_tech)
    page = client.get(reverse("check_out"), {"person": world.person_a.pk})
    key = page.context["form"].initial["submission_key"]
    response = client.post(
        reverse("check_out"),
        {"person": world.person_a.pk, "code": lent.asset_tag, "condition": "good", "submission_key": key},
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    assert f"already checked out to {HIDDEN_PERSON}" in body
    assert _hidden(world, body)
    # The service says the same to the same actor, and the full name to a district technician.
    with pytest.raises(ConflictError) as refused:
        device_check_out(device=lent, person=world.person_a, actor=world.site_tech)
    assert _hidden(world, str(refused.value))
    with pytest.raises(ConflictError) as refused:
        device_check_out(device=lent, person=world.person_a, actor=world.district_tech)
    assert "Ben Okafor #0099001" in str(refused.value)


def test_bulk_check_in_and_check_out_results_hide_the_other_schools_student(client_for, world, lent):
    client = client_for(world.site_tech)
    response = client.post(
        reverse("bulk", args=["check-out"]), {"lines": f"{lent.asset_tag}, 0041873", "condition": "good"}
    )
    page = client.get(response.url).content.decode()
    assert "already checked out to" in page and _hidden(world, page)

    response = client.post(reverse("bulk", args=["check-in"]), {"lines": lent.asset_tag, "condition": "good"})
    page = client.get(response.url).content.decode()
    assert f"checked in from {HIDDEN_PERSON}" in page and _hidden(world, page)


def test_replayed_submission_key_names_the_holder_through_the_gate(client_for, world):
    """A replayed key returns the first result; its message still goes through the gate."""
    key = "k" * 32
    device_check_out(device=world.device_a, person=world.person_b, actor=world.district_tech, submission_key=key)
    client = client_for(world.site_tech)
    response = client.post(
        reverse("check_out"),
        {"person": world.person_a.pk, "code": world.device_a.asset_tag, "condition": "good", "submission_key": key},
        HTTP_HX_REQUEST="true",
    )
    assert _hidden(world, response.content.decode())


def test_check_in_bundle_warning_and_transfer_refusal_hide_the_holder(client_for, world, lent):
    with pytest.raises(WrongStateError) as refused:
        device_transfer(device=lent, to_site=world.site_b, actor=world.site_tech)
    assert _hidden(world, str(refused.value)) and HIDDEN_PERSON in str(refused.value)
    client = client_for(world.site_tech)
    response = client.post(reverse("device_action", args=[lent.pk, "transfer"]), {"site": world.site_b.pk})
    messages = _messages(response)
    assert messages and all(_hidden(world, m) for m in messages), messages
    check_in = device_check_in(device=lent, actor=world.site_tech)
    assert Device.objects.get(pk=lent.pk).status == Device.Status.IN_STOCK
    assert check_in.assignment.person_id == world.person_b.pk


def test_own_student_is_still_named(client_for, world):
    device_check_out(device=world.device_a, person=world.person_a, actor=world.site_tech)
    client = client_for(world.site_tech)
    response = client.post(reverse("check_in"), {"code": "CB-000001", "condition": "good"}, HTTP_HX_REQUEST="true")
    assert "checked in from Ana Ruiz #0041873" in response.content.decode()
