"""Name suggestions omit empty parts (issue #8 tester: "· ·" for someone with no number or grade)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from core.testing import PersonFactory

pytestmark = pytest.mark.django_db


def _facts(client, q):
    body = client.get(reverse("person_lookup"), {"q": q}).content.decode()
    return [re.sub(r"\s+", " ", m).strip() for m in re.findall(r'<span class="muted">(.*?)</span>', body, re.S)]


def test_no_number_and_no_grade_shows_only_the_site(client_for, world):
    PersonFactory(given_name="Quill", family_name="Zyxstaff", student_number="", grade="", home_site=world.site_a)
    facts = _facts(client_for(world.site_tech), "Zyxstaff")
    assert facts == [world.site_a.name]


def test_every_part_present_is_joined_by_dots(client_for, world):
    PersonFactory(given_name="Quill", family_name="Zyxkid", student_number="77001", grade="09", home_site=world.site_a)
    facts = _facts(client_for(world.site_tech), "Zyxkid")
    assert facts == [f"77001 · Grade 9 · {world.site_a.name}"]
