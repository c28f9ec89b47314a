"""Check-out and check-in pages as a scanner uses them, and what site staff can reach."""

from __future__ import annotations

import pytest
from django.urls import reverse

from custody.models import Assignment
from inventory.models import Device, DeviceEvent

pytestmark = pytest.mark.django_db


def _form_key(response) -> str:
    return response.context["form"].initial["submission_key"]


def test_scan_person_card_then_device_then_check_in(client_for, world):
    client = client_for(world.site_tech)
    # The student's ID card scan opens the check-out page for them.
    found = client.get(reverse("check_out"), {"find": " 0041873\n"})
    assert found.status_code == 302 and found.url.endswith(f"?person={world.person_a.pk}")
    page = client.get(found.url)
    assert "Ana Ruiz" in page.content.decode()
    # A scanner types the asset tag (any case) and presses Enter: one POST.
    response = client.post(
        reverse("check_out"),
        {"person": world.person_a.pk, "code": "cb-000001\r", "condition": "good", "submission_key": _form_key(page)},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    # The result names the model, and the person's holdings come along, refreshed.
    assert f"CB-000001 ({world.device_a.model}) checked out to Ana Ruiz #0041873." in response.content.decode()
    assert 'id="holdings" hx-swap-oob="true"' in response.content.decode()
    assert Device.objects.get(pk=world.device_a.pk).status == Device.Status.ASSIGNED

    back = client.post(reverse("check_in"), {"code": "SNA1", "condition": "good"}, HTTP_HX_REQUEST="true")
    assert (
        f"CB-000001 ({world.device_a.model}) checked in from Ana Ruiz #0041873, back in stock." in back.content.decode()
    )
    detail = client.get(reverse("device_detail", args=[world.device_a.pk])).content.decode()
    assert "Checked out" in detail and "Checked in" in detail


def test_double_submitted_check_out_form_creates_one_assignment(client_for, world):
    client = client_for(world.site_tech)
    page = client.get(reverse("check_out"), {"person": world.person_a.pk})
    data = {"person": world.person_a.pk, "code": "CB-000001", "condition": "good", "submission_key": _form_key(page)}
    first = client.post(reverse("check_out"), data)
    second = client.post(reverse("check_out"), data)
    assert first.status_code == second.status_code == 302
    assert Assignment.objects.count() == 1
    assert DeviceEvent.objects.filter(kind="checked_out").count() == 1
    messages = [str(m) for m in second.wsgi_request._messages]
    assert any("checked out to Ana Ruiz #0041873. (form sent twice: done once)" in m for m in messages), messages


def test_site_tech_cannot_use_another_sites_ids_in_the_form(client_for, world):
    client = client_for(world.site_tech)
    response = client.post(
        reverse("check_out"), {"person": world.person_b.pk, "code": "CB-000001", "condition": "good"},
        HTTP_HX_REQUEST="true",
    )  # fmt: skip
    assert "Person: That person is not at your sites." in response.content.decode()
    response = client.post(
        reverse("check_out"), {"person": world.person_a.pk, "code": "CB-000002", "condition": "good"},
        HTTP_HX_REQUEST="true",
    )  # fmt: skip
    assert "No device with asset tag or serial number &#x27;CB-000002&#x27; at your sites." in response.content.decode()
    assert not Assignment.objects.exists()
    assert client.get(reverse("check_out"), {"person": world.person_b.pk}).status_code == 404


def test_check_in_of_device_not_out_is_a_warning(client_for, world):
    response = client_for(world.site_tech).post(reverse("check_in"), {"code": "CB-000001", "condition": "good"})
    assert response.status_code == 302
    messages = [(m.level_tag, str(m)) for m in response.wsgi_request._messages]
    assert messages == [("warning", "CB-000001 is not checked out; nothing to check in.")]


def test_bulk_check_out_and_in_report_every_line(client_for, world):
    client = client_for(world.site_tech)
    response = client.post(
        reverse("bulk", args=["check-out"]),
        {"lines": "CB-000001, 0041873\nCB-000002, 0041873\nnonsense\nCB-000001,0041873", "condition": "good"},
        follow=True,
    )
    results = response.context["results"]
    assert [r.ok for r in results] == [True, False, False, False]
    assert "at your sites" in results[1].message
    assert "expected 'asset tag, student number'" in results[2].message
    assert "already checked out" in results[3].message
    response = client.post(
        reverse("bulk", args=["check-in"]), {"lines": "CB-000001\nCB-000001", "condition": "fair"}, follow=True
    )
    results = response.context["results"]
    assert [r.ok for r in results] == [True, False] and results[1].warning
    # Refreshing the result page shows nothing new and runs nothing again.
    assert client.get(reverse("bulk", args=["check-in"])).context["results"] == []


def test_principal_cannot_check_out(client_for, world):
    client = client_for(world.principal)
    assert client.get(reverse("check_out")).status_code == 403
    client.post(reverse("check_out"), {"person": world.person_a.pk, "code": "CB-000001", "condition": "good"})
    assert not Assignment.objects.exists()


def test_bulk_check_out_of_a_student_number_two_people_share_says_so(client_for, world):
    """QA: a number held by two people was answered "no person with student number … at your
    sites". It matches both: the line needs a sourcedId (or the person chosen by name)."""
    from core.testing import PersonFactory

    twin = PersonFactory(home_site=world.site_b, student_number="0099001", given_name="Zed", family_name="Twin")
    client = client_for(world.district_tech)
    response = client.post(
        reverse("bulk", args=["check-out"]),
        {"lines": f"CB-000002, 0099001\nCB-000002, {twin.sourced_id}", "condition": "good"},
        follow=True,
    )
    ambiguous, by_sourced_id = response.context["results"]
    assert not ambiguous.ok
    assert ambiguous.message == (
        "student number '0099001' matches 2 people at your sites (Ben Okafor, Zed Twin); put the person's "
        "sourcedId on the line instead, or check the device out on the Check out page, choosing the person by name"
    )
    assert by_sourced_id.ok and "Zed Twin" in by_sourced_id.message
    # A site technician at site A sees neither of them: nobody there, and nobody named.
    other = client_for(world.site_tech).post(
        reverse("bulk", args=["check-out"]), {"lines": "CB-000001, 0099001", "condition": "good"}, follow=True
    )
    assert other.context["results"][0].message == "no person with student number '0099001' at your sites"


def test_check_out_page_lists_both_people_who_share_a_scanned_number(client_for, world):
    from core.testing import PersonFactory

    PersonFactory(home_site=world.site_a, student_number="0041873", given_name="Zed", family_name="Twin")
    page = client_for(world.site_tech).get(reverse("check_out"), {"find": "0041873"})
    assert page.status_code == 200  # no guess: both are offered
    assert {p.display_name for p in page.context["candidates"]} == {"Ana Ruiz", "Zed Twin"}


def test_check_in_condition_and_notes_do_not_carry_over_to_the_next_device(client_for, world):
    """Tester's report on issue #8: Damaged / "cracked screen" chosen for one device was
    recorded for the next one scanned too."""
    from custody.services import device_check_out

    device_check_out(device=world.device_a, person=world.person_a, actor=world.site_tech)
    client = client_for(world.site_tech)
    sent = client.post(
        reverse("check_in"), {"code": "CB-000001", "condition": "damaged", "notes": "cracked screen"}, follow=True
    )
    assert sent.redirect_chain[-1][0] == reverse("check_in")
    html = sent.content.decode()
    assert "Condition: Damaged (&quot;cracked screen&quot;)." in html
    form = sent.context["form"]
    assert form.initial["condition"] == "good" and not form.initial.get("notes")
    assert '<option value="good" selected>' in html and "cracked screen</textarea>" not in html
    # The scan script resets them too (data-reset-to), and the htmx result says what was recorded.
    assert 'data-reset-to="good"' in html and 'data-reset-to=""' in html
    device_check_out(device=world.device_a, person=world.person_a, actor=world.site_tech)
    back = client.post(reverse("check_in"), {"code": "CB-000001", "condition": "good"}, HTTP_HX_REQUEST="true")
    assert "back in stock. Condition: Good." in back.content.decode()
