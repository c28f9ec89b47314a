"""The 403 page's words fit the refusal (issue #8 tester): a site technician is not told they
are read-only on the district admins' pages; a read-only role refused a change is."""

from __future__ import annotations

import pytest
from django.urls import reverse

from core.scoping import ADMIN, CHANGE, VIEW, Scope
from core.views import ADMIN_ONLY, NO_ROLE, NOT_ALLOWED, READ_ONLY, refusal_reason

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("name", ["staff_list", "district_settings"])
def test_a_site_technician_is_told_the_page_is_for_district_admins(client_for, world, name):
    response = client_for(world.site_tech).get(reverse(name))
    body = response.content.decode()
    assert response.status_code == 403
    assert "Only district admins manage staff and settings" in body
    assert "Read-only" not in body and "look, not change" not in body


def test_the_reason_follows_the_action_and_the_scope():
    looker = Scope(everywhere=frozenset({VIEW}))
    tech = Scope(sites={VIEW: frozenset({1}), CHANGE: frozenset({1})})
    assert refusal_reason(scope=Scope(), action=VIEW) == NO_ROLE
    assert refusal_reason(scope=tech, action=ADMIN) == ADMIN_ONLY
    assert refusal_reason(scope=looker, action=ADMIN) == ADMIN_ONLY
    assert refusal_reason(scope=looker, action=CHANGE) == READ_ONLY
    assert refusal_reason(scope=tech, action="export") == NOT_ALLOWED


def test_an_auditor_refused_a_change_is_told_read_only(client_for, world):
    response = client_for(world.auditor).get(reverse("check_in"))
    body = response.content.decode()
    assert response.status_code == 403 and "Read-only" in body and "look, not change" in body


@pytest.mark.parametrize("role", ["site_tech", "auditor"])
def test_the_admin_refuses_other_roles_with_the_products_403_page(client_for, world, role):
    response = client_for(getattr(world, role)).get("/admin/", follow=True)
    body = response.content.decode()
    assert response.status_code == 403 and "Only district admins" in body
    assert "You are authenticated as" not in body and 'class="topbar"' in body


def test_the_admin_login_still_serves_visitors(client):
    assert client.get(reverse("admin:login")).status_code == 200
