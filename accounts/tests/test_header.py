"""The header shows who is logged in: name, role and site (issue #8, "Polish")."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import StaffRole
from accounts.templatetags.staff import who_am_i
from core.testing import SiteFactory

pytestmark = pytest.mark.django_db


def test_the_header_names_the_user_their_role_and_site(client_for, world):
    world.site_tech.first_name, world.site_tech.last_name = "Priya", "Natarajan"
    world.site_tech.save()
    body = client_for(world.site_tech).get(reverse("dashboard")).content.decode()
    assert "Priya Natarajan" in body and "Site technician · Alder Elementary" in body


def test_who_am_i_for_each_kind_of_holder(world):
    assert who_am_i(world.district_admin) == (
        "district-admin",
        "District admin · district-wide",
        "District admin · district-wide",
    )
    assert who_am_i(world.nobody) == ("nobody", "no role", "no role")
    StaffRole.objects.create(user=world.site_tech, role="site_technician", site=world.site_b)
    assert who_am_i(world.site_tech) == (
        "site-tech",
        "Site technician · Alder ES, Birch MS",
        "Site technician · Alder Elementary, Birch Middle",
    )


def test_the_header_lists_every_role_the_user_holds(client_for, world):
    garfield = SiteFactory(code="GMS", name="Garfield Middle School")
    clearwater = SiteFactory(code="CHS", name="Clearwater High School")
    StaffRole.objects.filter(user=world.site_tech).delete()
    StaffRole.objects.create(user=world.site_tech, role=StaffRole.Role.SITE_TECHNICIAN, site=garfield)
    StaffRole.objects.create(user=world.site_tech, role=StaffRole.Role.SITE_ADMINISTRATOR, site=clearwater)
    body = client_for(world.site_tech).get(reverse("dashboard")).content.decode()
    assert '<span class="who-role">Site technician · Garfield MS; Principal · Clearwater HS</span>' in body
    assert (
        'title="site-tech (site-tech) · Site technician · Garfield Middle School; '
        'Site administrator (principal) · Clearwater High School"' in body
    )


def test_a_role_at_many_sites_is_counted(world):
    for code in "CDE":
        StaffRole.objects.create(user=world.site_tech, role="site_technician", site=SiteFactory(code=code))
    assert who_am_i(world.site_tech).roles == "Site technician · 4 sites"
