"""Two words also match family-then-given, as the lists display names ("Abbott Christopher",
"Zhao Yu"; issue #8 tester); an email is matched whole and the box says so."""

from __future__ import annotations

import pytest
from django.urls import reverse

from core.testing import PersonFactory
from people.selectors import person_list

pytestmark = pytest.mark.django_db


@pytest.fixture
def abbott(world):
    return PersonFactory(given_name="Christopher", family_name="Abbott", home_site=world.site_a,
                         email="christopher.abbott530@example.org")  # fmt: skip


@pytest.mark.parametrize("query", ["Abbott Christopher", "abbott chris", "ABBOTT CHRISTOPHER", "Christopher Abbott"])
def test_family_then_given_without_a_comma_is_found(world, abbott, query):
    assert abbott in list(person_list(user=world.site_tech, query=query))


def test_zhao_yu_accents_and_preferred_names(world):
    zhao = PersonFactory(given_name="Yu", family_name="Zhào", home_site=world.site_a)
    pref = PersonFactory(given_name="Robert", preferred_name="Bob", family_name="Núñez", home_site=world.site_a)
    assert zhao in list(person_list(user=world.site_tech, query="Zhao Yu"))
    assert pref in list(person_list(user=world.site_tech, query="nunez bob"))
    assert zhao not in list(person_list(user=world.site_tech, query="Yu Zhaox"))


def test_email_is_matched_whole_and_the_box_says_full_email(world, abbott, client_for):
    assert abbott in list(person_list(user=world.site_tech, query="Christopher.Abbott530@example.org"))
    body = client_for(world.site_tech).get(reverse("person_list")).content.decode()
    assert "full email" in body
