"""The staff and roles page (issue #8, "Staff and settings"): district admins create logins,
grant and revoke roles per site, deactivate, and hand over set-password links, each logged."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from accounts import services
from accounts.models import StaffRole
from core.changelog import change_log_for
from core.errors import WrongStateError
from core.models import ChangeLog
from core.testing import PASSWORD

pytestmark = pytest.mark.django_db
User = get_user_model()
BACKEND = "django.contrib.auth.backends.ModelBackend"


def test_the_list_shows_each_login_with_its_roles_and_sites(client_for, world):
    body = client_for(world.district_admin).get(reverse("staff_list")).content.decode()
    assert "site-tech" in body and "Site technician · Alder Elementary" in body
    assert "District admin · district-wide" in body
    body = client_for(world.district_admin).get(reverse("staff_list"), {"site": world.site_a.pk}).content.decode()
    assert "site-tech" in body and "district-tech" not in body


def test_create_a_login_with_a_role_and_no_password_gives_a_set_password_link(world):
    admin, client = Client(), Client()
    admin.force_login(world.district_admin, backend=BACKEND)
    response = admin.post(
        reverse("staff_create"),
        {"username": "dwhitfield", "first_name": "Dana", "last_name": "Whitfield", "email": "dw@example.org",
         "role": "site_technician", "site": world.site_b.pk, "password1": "", "password2": ""},
        follow=True,
    )  # fmt: skip
    user = User.objects.get(username="dwhitfield")
    assert not user.has_usable_password()
    assert list(user.staff_roles.values_list("role", "site")) == [("site_technician", world.site_b.pk)]
    body = response.content.decode()
    link = re.search(r"http://testserver(/password/set/[^\s<\"]+)", body)
    assert link, body
    # Logged: the login's creation, the role, and the link (never the token).
    entries = change_log_for(obj=user, user=world.district_admin)
    assert {(e.object_type, e.action) for e in entries} == {("auth.user", "created"), ("auth.user", "changed"),
                                                             ("accounts.staffrole", "created")}  # fmt: skip
    assert not any(link.group(1).rstrip("/").split("/")[-1] in str(e.after) for e in entries)
    # The person opens the link, sets a password, and logs in.
    page = client.get(link.group(1), follow=True)
    assert page.status_code == 200 and "Set your password" in page.content.decode()
    done = client.post(
        page.redirect_chain[-1][0], {"new_password1": "Gr33n-Lantern-77", "new_password2": "Gr33n-Lantern-77"}
    )
    assert done.status_code == 302 and done.url == reverse("password_set_done")
    logged_in = client.post(reverse("login"), {"username": "dwhitfield", "password": "Gr33n-Lantern-77"})
    assert logged_in.status_code == 302 and logged_in.url == reverse("dashboard")
    # The link works once.
    assert "does not work" in client.get(link.group(1), follow=True).content.decode()


def test_create_with_an_initial_password_and_the_form_refusals(client_for, world):
    admin = client_for(world.district_admin)
    base = {"username": "SITE-TECH", "role": "district_technician", "site": world.site_a.pk,
            "password1": "short", "password2": "other"}  # fmt: skip
    response = admin.post(reverse("staff_create"), base)
    errors = response.context["form"].errors
    assert "taken" in errors["username"][0]  # ignoring case
    assert "district-wide" in errors["site"][0]
    assert "differ" in errors["password2"][0]
    response = admin.post(
        reverse("staff_create"),
        {**base, "username": "newtech", "site": "", "password1": "Gr33n-Lantern-77", "password2": "Gr33n-Lantern-77"},
    )
    assert response.status_code == 302
    assert User.objects.get(username="newtech").check_password("Gr33n-Lantern-77")


def test_grant_and_revoke_roles_per_site(client_for, world):
    admin = client_for(world.district_admin)
    tech = world.site_tech
    admin.post(reverse("staff_action", args=[tech.pk, "grant"]), {"role": "site_technician", "site": world.site_b.pk})
    assert set(tech.staff_roles.values_list("site", flat=True)) == {world.site_a.pk, world.site_b.pk}
    grant = tech.staff_roles.get(site=world.site_a)
    admin.post(reverse("staff_action", args=[tech.pk, "revoke"]), {"role": grant.pk})
    assert list(tech.staff_roles.values_list("site", flat=True)) == [world.site_b.pk]
    # A site role without a site is refused with the model's words, nothing granted.
    response = admin.post(
        reverse("staff_action", args=[tech.pk, "grant"]), {"role": "site_administrator", "site": ""}, follow=True
    )
    assert "held at a site" in response.content.decode()
    assert ChangeLog.objects.filter(object_type="accounts.staffrole").count() == 2


def test_deactivate_stops_the_login_and_reactivate_restores_it(world):
    admin, tech_client, client = Client(), Client(), Client()
    admin.force_login(world.district_admin, backend=BACKEND)
    tech_client.force_login(world.site_tech, backend=BACKEND)
    admin.post(reverse("staff_action", args=[world.site_tech.pk, "deactivate"]))
    world.site_tech.refresh_from_db()
    assert not world.site_tech.is_active
    assert tech_client.get(reverse("device_list")).status_code == 302  # the open session ends
    refused = client.post(reverse("login"), {"username": "site-tech", "password": PASSWORD})
    assert refused.status_code == 200 and "_auth_user_id" not in client.session
    admin.post(reverse("staff_action", args=[world.site_tech.pk, "reactivate"]))
    world.site_tech.refresh_from_db()
    assert world.site_tech.is_active and world.site_tech.staff_roles.exists()
    entries = change_log_for(obj=world.site_tech, user=world.district_admin)
    assert [(e.before, e.after) for e in entries[:2]] == [({"is_active": False}, {"is_active": True}),
                                                          ({"is_active": True}, {"is_active": False})]  # fmt: skip


def test_the_district_cannot_lock_itself_out(client_for, world):
    admin = world.district_admin
    response = client_for(admin).post(reverse("staff_action", args=[admin.pk, "deactivate"]), follow=True)
    assert "your own login" in response.content.decode()
    with pytest.raises(WrongStateError, match="last active district admin"):
        services.staff_user_deactivate(user=admin, actor=world.district_tech)
    with pytest.raises(WrongStateError, match="last active district admin"):
        services.staff_role_revoke(staff_role=admin.staff_roles.get(), actor=admin)
    second = services.staff_user_create(username="second-admin", password=None, roles=[("district_admin", None)])
    services.staff_role_revoke(staff_role=admin.staff_roles.get(), actor=second)
    assert not admin.staff_roles.exists()


def test_details_are_saved_and_logged(client_for, world):
    client_for(world.district_admin).post(
        reverse("staff_action", args=[world.site_tech.pk, "details"]),
        {"first_name": "Sam", "last_name": "Ortiz", "email": "sam@example.org"},
    )
    world.site_tech.refresh_from_db()
    assert world.site_tech.get_full_name() == "Sam Ortiz"
    entry = change_log_for(obj=world.site_tech, user=world.district_admin)[0]
    assert entry.after == {"first_name": "Sam", "last_name": "Ortiz", "email": "sam@example.org"}


@pytest.mark.parametrize("value", ["", "abc", "-1", "99999999999999999999", "\x00", "a" * 500])
def test_staff_pages_never_500(client_for, world, value):
    admin = client_for(world.district_admin)
    pk = world.site_tech.pk
    for name, args in (("staff_list", []), ("staff_create", [])):
        for key in ("q", "role", "site", "status"):
            assert admin.get(reverse(name, args=args), {key: value}).status_code == 200
    posts = [
        (
            reverse("staff_create"),
            {"username": value, "role": value, "site": value, "email": value, "password1": value},
        ),
        (reverse("staff_action", args=[pk, "grant"]), {"role": value, "site": value}),
        (reverse("staff_action", args=[pk, "revoke"]), {"role": value}),
        (reverse("staff_action", args=[pk, "details"]), {"first_name": value, "email": value}),
        (reverse("staff_action", args=[pk, "nope"]), {}),
    ]
    for url, data in posts:
        assert admin.post(url, data).status_code in (200, 302, 404), (url, data)
    for path in ("/staff/99999999999999999999/", "/staff/0/", "/password/set/zz/zz/"):
        assert admin.get(path).status_code in (200, 302, 404), path


def test_other_roles_do_not_see_the_staff_page(client_for, world):
    for user in (world.district_tech, world.site_tech, world.principal, world.auditor):
        assert client_for(user).get(reverse("staff_list")).status_code == 403
    assert StaffRole.objects.count() == 6
