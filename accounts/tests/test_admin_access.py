"""The District admin role opens the Django admin, with the model permissions it asks for.

Found by a tester: a staff user given the District admin role (not a superuser) got "You don't
have permission to view or edit anything", other admin pages a bare 403. The role is the grant
(``accounts.backends.DistrictAdminPermissions``, ``core.admin_site.LedgerAdminSite``);
``is_staff`` and ``is_superuser`` are not needed.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from core.testing import PASSWORD
from inventory.models import DeviceModel

pytestmark = pytest.mark.django_db


def _model_form(model: DeviceModel, **changes) -> dict:
    data = {
        "manufacturer": str(model.manufacturer_id),
        "name": model.name,
        "model_number": model.model_number,
        "category": model.category,
        "replacement_cost": str(model.replacement_cost),
        "service_life_months": str(model.service_life_months or ""),
    }
    return {**data, **changes}


@pytest.mark.parametrize("is_staff", [False, True], ids=["not staff", "staff"])
def test_a_district_admin_who_is_not_a_superuser_uses_the_admin(client_for, world, is_staff):
    admin_user = world.district_admin
    admin_user.is_staff, admin_user.is_superuser = is_staff, False
    admin_user.save()
    client = client_for(admin_user)
    index = client.get(reverse("admin:index"))
    assert index.status_code == 200
    page = index.content.decode()
    assert "have permission to view or edit anything" not in page
    assert reverse("admin:inventory_devicemodel_changelist") in page
    model = world.device_a.model
    url = reverse("admin:inventory_devicemodel_change", args=[model.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, _model_form(model, replacement_cost="305.50"))
    assert response.status_code == 302, response.content.decode()[:2000]
    model.refresh_from_db()
    assert model.replacement_cost == Decimal("305.50")
    assert admin_user.has_perm("inventory.change_devicemodel")
    assert admin_user.has_module_perms("inventory")


@pytest.mark.parametrize("role", ["district_tech", "site_tech", "principal", "auditor", "nobody"])
def test_no_other_role_gets_in_or_gets_permissions(client_for, world, role):
    user = getattr(world, role)
    user.is_staff = True
    user.save()
    client = client_for(user)
    assert not user.has_perm("inventory.change_devicemodel")
    assert not user.has_module_perms("inventory")
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302 and "login" in response.url
    model = world.device_a.model
    url = reverse("admin:inventory_devicemodel_change", args=[model.pk])
    response = client.post(url, _model_form(model, replacement_cost="1.00"))
    assert response.status_code == 302 and "login" in response.url
    model.refresh_from_db()
    assert model.replacement_cost == Decimal("289.00")


def test_a_revoked_district_admin_loses_the_admin(client_for, world):
    """Permissions follow the role as it stands, not a flag set when it was granted."""
    from accounts.services import staff_role_revoke

    admin_user = world.district_admin
    staff_role_revoke(staff_role=admin_user.staff_roles.get(), actor=None)
    admin_user.is_superuser = False  # only the role counts
    admin_user.save()
    assert not admin_user.has_perm("inventory.change_devicemodel")
    response = client_for(admin_user).get(reverse("admin:index"))
    assert response.status_code == 302 and "login" in response.url


@pytest.mark.parametrize("username,allowed", [("district-admin", True), ("district-tech", False)])
def test_the_admin_login_page_lets_district_admins_in(client, world, username, allowed):
    """The admin's own login form asks for the role, not ``is_staff``."""
    response = client.post(reverse("admin:login"), {"username": username, "password": PASSWORD, "next": "/admin/"})
    if allowed:
        assert response.status_code == 302 and response.url == "/admin/"
        assert client.get(reverse("admin:index")).status_code == 200
    else:
        assert response.status_code == 200
        assert "_auth_user_id" not in client.session
