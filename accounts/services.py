"""Writes to staff users and their roles."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.db import transaction

from accounts.models import StaffRole
from sites.models import Site


@transaction.atomic
def staff_user_create(
    *,
    username: str,
    password: str | None,
    roles: list[tuple[str, Site | None]],
    first_name: str = "",
    last_name: str = "",
    email: str = "",
) -> AbstractUser:
    """Create a staff login with its roles, e.g. ``[("site_technician", lincoln)]``.

    ``password=None`` creates the login with an unusable password (set one later, e.g.
    a precomputed hash, or let the user reset it).

    District admins also get Django admin access (``is_staff``/``is_superuser``).
    Raises ``django.db.IntegrityError`` for a taken username, ``ValueError`` for a role
    held at the wrong level (site roles need a site; district roles must not have one).
    """
    User = get_user_model()
    user = User.objects.create_user(
        username=username, password=password, first_name=first_name, last_name=last_name, email=email
    )
    for role, site in roles:
        staff_role_grant(user=user, role=role, site=site)
    return user


@transaction.atomic
def staff_role_grant(*, user: Any, role: str, site: Site | None) -> StaffRole:
    """Give ``user`` a role district-wide (``site=None``) or at one site."""
    from accounts.models import DISTRICT_ONLY_ROLES, SITE_ONLY_ROLES

    if role not in StaffRole.Role.values:
        raise ValueError(f"Unknown role '{role}'.")
    if role in DISTRICT_ONLY_ROLES and site is not None:
        raise ValueError(f"{role} is a district-wide role; give no site.")
    if role in SITE_ONLY_ROLES and site is None:
        raise ValueError(f"{role} is held at a site; give one.")
    granted, _ = StaffRole.objects.get_or_create(user=user, role=role, site=site)
    if role == StaffRole.Role.DISTRICT_ADMIN and not user.is_staff:
        user.is_staff = True
        user.is_superuser = True
        user.save(update_fields=["is_staff", "is_superuser"])
    return granted
