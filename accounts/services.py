"""Writes to staff users and their roles.

Granting, changing and revoking a role each write a change log entry (:mod:`core.changelog`)
in the same transaction, about the role and listed on the user's history (``parent``); the
Django admin's role editing goes through these functions too (``accounts/admin.py``).
``source=None`` means web when an actor is given, command otherwise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.db import transaction

from accounts.models import DISTRICT_ONLY_ROLES, SITE_ONLY_ROLES, StaffRole
from core.changelog import Action, change_log_record, resolve_source
from core.scoping import forget_scope
from core.types import Actor
from sites.models import Site

if TYPE_CHECKING:
    from django.contrib.auth.models import User


@transaction.atomic
def staff_user_create(
    *,
    username: str,
    password: str | None,
    roles: list[tuple[str, Site | None]],
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    actor: Actor | None = None,
    source: str | None = None,
) -> AbstractUser:
    """Create a staff login with its roles, e.g. ``[("site_technician", lincoln)]``.

    ``password=None`` creates the login with an unusable password (set one later, e.g.
    a precomputed hash, or let the user reset it).

    District admins are also marked ``is_staff``/``is_superuser`` (:func:`_admin_access`); the role
    itself is what opens the Django admin and gives its permissions (``core.admin_site``,
    ``accounts.backends``).
    Raises ``django.db.IntegrityError`` for a taken username, ``ValueError`` for a role
    held at the wrong level (site roles need a site; district roles must not have one).
    Each role granted is logged.
    """
    User = get_user_model()
    user = User.objects.create_user(
        username=username, password=password, first_name=first_name, last_name=last_name, email=email
    )
    for role, site in roles:
        staff_role_grant(user=user, role=role, site=site, actor=actor, source=source)
    return user


def _check(role: str, site: Site | None) -> None:
    if role not in StaffRole.Role.values:
        raise ValueError(f"Unknown role '{role}'.")
    if role in DISTRICT_ONLY_ROLES and site is not None:
        raise ValueError(f"{role} is a district-wide role; give no site.")
    if role in SITE_ONLY_ROLES and site is None:
        raise ValueError(f"{role} is held at a site; give one.")


def _values(staff_role: StaffRole) -> dict[str, Any]:
    return {"role": staff_role.role, "site": staff_role.site.name if staff_role.site is not None else "district-wide"}


def _admin_access(user: User) -> None:
    """Mark a district admin ``is_staff``/``is_superuser`` (as the demo logins are). Not what
    opens the Django admin: the role does, and a revoked role closes it whatever these say
    (``core.admin_site.LedgerAdminSite``, ``accounts.backends.DistrictAdminPermissions``)."""
    if not user.is_staff and user.staff_roles.filter(role=StaffRole.Role.DISTRICT_ADMIN).exists():
        user.is_staff = True
        user.is_superuser = True
        user.save(update_fields=["is_staff", "is_superuser"])


@transaction.atomic
def staff_role_grant(
    *, user: User, role: str, site: Site | None, actor: Actor | None = None, source: str | None = None, note: str = ""
) -> StaffRole:
    """Give ``user`` a role district-wide (``site=None``) or at one site; a role already held
    is returned as it is (nothing logged). Raises ``ValueError`` for an unknown role or one
    held at the wrong level."""
    _check(role, site)
    granted, created = StaffRole.objects.get_or_create(user=user, role=role, site=site)
    if created:
        change_log_record(
            actor=actor, source=resolve_source(actor=actor, source=source), obj=granted, action=Action.CREATED,
            before={}, after=_values(granted), site_id=granted.site_id, parent=user, note=note,
        )  # fmt: skip
    _admin_access(user)
    forget_scope(user)
    return granted


@transaction.atomic
def staff_role_update(
    *, staff_role: StaffRole, role: str, site: Site | None, actor: Actor | None, source: str | None = None
) -> StaffRole:
    """Change which role a grant is, or where it is held; logged with before → after.
    Raises ``ValueError`` for a role held at the wrong level, ``IntegrityError`` when the user
    holds that role there already."""
    _check(role, site)
    current = StaffRole.objects.select_for_update(of=("self",)).select_related("site", "user").get(pk=staff_role.pk)
    old = _values(current)
    current.role, current.site = role, site
    current.save(update_fields=["role", "site"])
    new = _values(current)
    changed = [k for k in new if new[k] != old[k]]
    change_log_record(
        actor=actor, source=resolve_source(actor=actor, source=source), obj=current, action=Action.CHANGED,
        before={k: old[k] for k in changed}, after={k: new[k] for k in changed}, site_id=current.site_id,
        parent=current.user,
    )  # fmt: skip
    _admin_access(current.user)
    forget_scope(current.user)
    return current


@transaction.atomic
def staff_role_revoke(*, staff_role: StaffRole, actor: Actor | None, source: str | None = None, note: str = "") -> None:
    """Take a role away (the user keeps their login); logged on the user's history. Django
    admin access granted with a district admin role stays until changed on the user."""
    current = StaffRole.objects.select_for_update(of=("self",)).select_related("site", "user").get(pk=staff_role.pk)
    change_log_record(
        actor=actor, source=resolve_source(actor=actor, source=source), obj=current, action=Action.DELETED,
        before=_values(current), after={}, site_id=current.site_id, parent=current.user, note=note,
    )  # fmt: skip
    user = current.user
    current.delete()
    forget_scope(user)
