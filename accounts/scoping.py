"""The staff roles' side of the scoping gate (``core.scoping``): which actions a role grants,
and the :class:`~core.scoping.ScopeProvider` that reads a user's roles."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models

from core.scoping import ADMIN, CHANGE, VIEW, Scope

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser

#: Actions each role grants. Source: issue #2, "Access".
ROLE_ACTIONS: dict[str, frozenset[str]] = {
    "district_admin": frozenset({VIEW, CHANGE, ADMIN}),
    "district_technician": frozenset({VIEW, CHANGE}),
    "site_technician": frozenset({VIEW, CHANGE}),
    "site_administrator": frozenset({VIEW}),
    "auditor": frozenset({VIEW}),
}


def roles_scope(user: AbstractBaseUser) -> Scope:
    """The :class:`~core.scoping.ScopeProvider` of this project: the user's active staff roles
    (``StaffRole``; a role at an inactive site grants nothing) and the district's ownership mode.
    Called by :func:`core.scoping.scope_for` once per user object, for authenticated active users."""
    from accounts.models import StaffRole
    from sites.models import District

    everywhere: set[str] = set()
    sites: dict[str, set[int]] = {}
    user_id: int = user.pk
    active = models.Q(site__isnull=True) | models.Q(site__active=True)
    rows = StaffRole.objects.filter(active, user_id=user_id).values_list("role", "site_id")
    for role, site_id in rows:
        actions = ROLE_ACTIONS.get(role, frozenset())
        if site_id is None:
            everywhere |= actions
        else:
            for action in actions:
                sites.setdefault(action, set()).add(site_id)
    mode = District.get().ownership_mode if (everywhere or sites) else "centralized"
    scope = Scope(
        everywhere=frozenset(everywhere),
        sites={action: frozenset(ids) for action, ids in sites.items()},
        ownership_mode=mode,
    )
    return scope
