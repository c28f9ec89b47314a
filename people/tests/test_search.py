"""Name search ignores accents and case everywhere names are searched (issue #8), and names
sort by family then given name, accent-aware; every writer of people keeps the search keys."""

from __future__ import annotations

import pytest
from django.urls import reverse

from core.testing import DeviceFactory, PersonFactory
from custody.services import device_check_out
from inventory.selectors import device_list
from people.bulk import people_write
from people.models import Person
from people.selectors import person_list
from people.services import person_update

pytestmark = pytest.mark.django_db


@pytest.fixture
def named(world):
    return {
        "jose": PersonFactory(given_name="José", family_name="Acuña", home_site=world.site_a),
        "maria": PersonFactory(given_name="María", family_name="Jáquez", home_site=world.site_a),
        "ana": PersonFactory(given_name="Ana", family_name="Ábalos", home_site=world.site_a),
        "zed": PersonFactory(given_name="Zed", family_name="Baker", home_site=world.site_a),
    }


@pytest.mark.parametrize(
    ("query", "who"),
    [
        ("Jose", "jose"), ("jose", "jose"), ("JOSÉ", "jose"), ("Acuna", "jose"), ("acuña", "jose"),
        ("jaquez", "maria"), ("Jáquez", "maria"), ("JAQ", "maria"), ("maria jaq", "maria"),
        ("Jose Acuna", "jose"), ("Acuna, Jose", "jose"), ("acuna,jo", "jose"), ("abalos", "ana"),
    ],
)  # fmt: skip
def test_person_search_ignores_accents_and_case(world, named, query, who):
    found = list(person_list(user=world.site_tech, query=query))
    assert named[who] in found
    assert named["zed"] not in found


def test_people_list_page_finds_without_accents(client_for, world, named):
    body = client_for(world.site_tech).get(reverse("person_list"), {"q": "acuna"}).content.decode()
    assert "Acuña" in body and "Jáquez" not in body


def test_check_out_suggestions_and_holder_search_ignore_accents(client_for, world, named):
    body = client_for(world.site_tech).get(reverse("person_lookup"), {"q": "jaquez"}).content.decode()
    assert "Jáquez" in body
    device = DeviceFactory(asset_tag="CB-5000", owner_site=world.site_a)
    device_check_out(device=device, person=named["jose"], actor=world.site_tech)
    assert list(device_list(user=world.site_tech, query="acuna")) == [device]
    assert list(device_list(user=world.site_tech, query="JOSE ACUNA")) == [device]


def test_bulk_check_out_finds_a_name_without_accents(client_for, world, named):
    response = client_for(world.site_tech).get(reverse("check_out"), {"find": "acuna"})
    assert "Acuña" in response.content.decode()


def test_names_sort_by_family_then_given_ignoring_accents(world, named):
    PersonFactory(given_name="Álvaro", family_name="Acuña", home_site=world.site_a)
    order = [(p.family_name, p.given_name) for p in person_list(user=world.site_tech).filter(pk__gt=world.person_a.pk)]
    # Ábalos before Acuña (Á sorts as A); within Acuña, Álvaro before José.
    assert order[:4] == [("Ábalos", "Ana"), ("Acuña", "Álvaro"), ("Acuña", "José"), ("Baker", "Zed")]


def test_every_writer_keeps_the_keys(world, named):
    person = named["jose"]
    assert (person.family_key, person.given_key) == ("acuna", "jose")
    person_update(person=person, actor=world.district_admin, family_name="Núñez", preferred_name="Pepé")
    person.refresh_from_db()
    assert (person.family_key, person.given_key, person.preferred_key) == ("nunez", "jose", "pepe")
    person.given_name = "Ángel"
    person.save(update_fields=["given_name"])
    person.refresh_from_db()
    assert person.given_key == "angel"


def test_bulk_row_writer_fills_the_keys(world):
    people_write(
        actor=None, run_id=None,
        creates=[{"sourced_id": "s-1", "given_name": "Renée", "family_name": "Côté", "home_site_id": world.site_a.pk}],
        updates=[], update_fields=[], deactivate_ids=[],
    )  # fmt: skip
    made = Person.objects.get(sourced_id="s-1")
    assert (made.family_key, made.given_key) == ("cote", "renee")
    people_write(
        actor=None, run_id=None, creates=[],
        updates=[{"pk": made.pk, "family_name": "Brontë", "home_site_id": world.site_a.pk}],
        update_fields=["family_name", "home_site_id"], deactivate_ids=[],
    )  # fmt: skip
    made.refresh_from_db()
    assert (made.family_key, made.given_key) == ("bronte", "renee")


def test_demo_people_have_their_keys():
    from demo.testing import seed_tiny

    seed_tiny()
    people = list(Person.objects.all())
    assert people
    assert all(p.family_key == p.family_name.lower() or p.family_key for p in people)
    from people.rules import search_key

    assert all(
        (p.family_key, p.given_key, p.preferred_key)
        == (search_key(p.family_name), search_key(p.given_name), search_key(p.preferred_name))
        for p in people
    )
