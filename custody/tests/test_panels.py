"""What custody shows on people and inventory pages, through core.extensions (no import upward)."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from core.scoping import HIDDEN_PERSON
from custody.models import Assignment
from custody.services import device_check_in, device_check_out

pytestmark = pytest.mark.django_db


def test_the_person_page_shows_what_they_hold_and_their_history(client_for, world):
    device_check_out(
        device=world.device_a, person=world.person_a, actor=world.district_tech, due_on=datetime.date(2031, 6, 1)
    )
    page = client_for(world.site_tech).get(reverse("person_detail", args=[world.person_a.pk])).content.decode()
    holds = page[page.index("<h2>Holds now</h2>") : page.index("<h2>History</h2>")]
    assert world.device_a.asset_tag in holds and "2031-06-01" in holds and "Nothing." not in holds
    history = page[page.index("<h2>History</h2>") :]
    assert "Checked out" in history and world.device_a.asset_tag in history


def test_the_person_page_with_nothing_held(client_for, world):
    page = client_for(world.site_tech).get(reverse("person_detail", args=[world.person_a.pk])).content.decode()
    assert "<h2>Holds now</h2>" in page and "Nothing." in page and "No history yet." in page


def test_the_device_page_names_the_holder_it_may_and_hides_the_one_it_may_not(client_for, world):
    device_check_out(device=world.device_a, person=world.person_a, actor=world.district_tech)
    page = client_for(world.site_tech).get(reverse("device_detail", args=[world.device_a.pk])).content.decode()
    person_url = reverse("person_detail", args=[world.person_a.pk])
    assert f'Checked out to <strong><a href="{person_url}">Ana Ruiz #0041873</a></strong>' in page
    device_check_in(device=world.device_a, actor=world.district_tech)
    page = client_for(world.site_tech).get(reverse("device_detail", args=[world.device_a.pk])).content.decode()
    assert "Not checked out." in page
    # Lent by district staff to another school's student: the name stays hidden, with no link.
    device_check_out(device=world.device_a, person=world.person_b, actor=world.district_tech)
    page = client_for(world.site_tech).get(reverse("device_detail", args=[world.device_a.pk])).content.decode()
    assert f"Checked out to <strong>{HIDDEN_PERSON}</strong>" in page and "Okafor" not in page


def test_the_device_list_holder_column_search_and_overdue_filter(client_for, world):
    outcome = device_check_out(device=world.device_a, person=world.person_a, actor=world.district_tech)
    past = timezone.localdate() - datetime.timedelta(days=3)
    Assignment.objects.filter(pk=outcome.assignment.pk).update(due_on=past)
    client = client_for(world.site_tech)
    rows = client.get(reverse("device_list"), {"exact": "0"}).context["page"].items
    assert {d.asset_tag: d.holder for d in rows} == {world.device_a.asset_tag: "Ana Ruiz #0041873"}
    found = client.get(reverse("device_list"), {"q": "Ruiz", "exact": "0"}).context["page"].items
    assert [d.asset_tag for d in found] == [world.device_a.asset_tag]
    overdue = client.get(reverse("device_list"), {"overdue": "1", "exact": "0"}).context["page"].items
    assert [d.asset_tag for d in overdue] == [world.device_a.asset_tag]
    device_check_in(device=world.device_a, actor=world.district_tech)
    assert client.get(reverse("device_list"), {"overdue": "1", "exact": "0"}).context["page"].items == []


def test_event_words_for_custody_conditions(client_for, world):
    device_check_out(device=world.device_a, person=world.person_a, actor=world.district_tech)
    device_check_in(device=world.device_a, actor=world.district_tech, condition="missing_parts")
    page = client_for(world.site_tech).get(reverse("device_detail", args=[world.device_a.pk])).content.decode()
    assert "Missing parts" in page
