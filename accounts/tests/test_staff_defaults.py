"""Staff page details found by the issue #8 tester: the new-login form starts on no role and no
site (a hurried admin must not create a district admin), and the messages say what happened."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import StaffRole

pytestmark = pytest.mark.django_db


def test_the_new_login_form_starts_on_no_role_and_no_site(client_for, world):
    page = client_for(world.district_admin).get(reverse("staff_create"))
    form = page.context["form"]
    html = page.content.decode()
    assert form["role"].value() in (None, "") and form["site"].value() in (None, "")
    role_select = html[html.index('name="role"') :]
    role_select = role_select[: role_select.index("</select>")]
    first_option = role_select[role_select.index("<option") : role_select.index("</option>")]
    assert 'value=""' in first_option and "District admin" not in first_option
    site_select = html[html.index('name="site"') :]
    site_select = site_select[: site_select.index("</select>")]
    assert "District-wide</option>" not in site_select


def test_a_login_posted_without_a_role_is_refused(client_for, world):
    page = client_for(world.district_admin).post(
        reverse("staff_create"), {"username": "hurried", "role": "", "site": "", "password1": "", "password2": ""}
    )
    assert page.status_code == 200 and "Choose a role." in page.content.decode()
    assert not StaffRole.objects.filter(user__username="hurried").exists()


def test_a_login_without_a_password_says_it_needs_the_link_first(client_for, world):
    page = client_for(world.district_admin).post(
        reverse("staff_create"),
        {"username": "nopw", "first_name": "No", "last_name": "Pw", "role": "auditor", "site": "",
         "password1": "", "password2": ""},
        follow=True,
    )  # fmt: skip
    body = page.content.decode()
    assert "can log in" not in body.replace("cannot log in", "")
    assert "cannot log in yet" in body and "set-password link" in body


def test_granting_a_role_already_held_says_nothing_changed(client_for, world):
    url = reverse("staff_action", args=[world.site_tech.pk, "grant"])
    page = client_for(world.district_admin).post(url, {"role": "site_technician", "site": world.site_a.pk}, follow=True)
    body = page.content.decode()
    assert "is now" not in body and "was already" in body and "nothing changed" in body
    assert StaffRole.objects.filter(user=world.site_tech).count() == 1
