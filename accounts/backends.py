"""Model permissions from staff roles, for the Django admin.

The Django admin asks ``user.has_perm("app.change_model")`` and ``has_module_perms("app")``
before it lists or opens anything. DeviceLedger grants no Django permissions row by row: the
**District admin** role (read through the gate, :func:`core.scoping.scope_for`, so through
:func:`accounts.scoping.roles_scope`) is what opens the admin (``core.admin_site``), and this
backend answers yes to every model permission for an active holder of that role, no to
everyone else. Permissions follow the role as it stands: revoking it closes the admin at the
next request, whatever ``is_staff`` / ``is_superuser`` say.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import BaseBackend
from django.db.models import Model
from django.http import HttpRequest

from core.scoping import scope_for
from core.types import Actor


def holds_district_admin(user_obj: Actor | None) -> bool:
    """True for an active, signed-in user holding the District admin role (``scope_for`` gives
    anonymous and inactive users an empty scope)."""
    return scope_for(user_obj).is_district_admin


class DistrictAdminPermissions(BaseBackend):
    """An authentication backend that authenticates nobody (``authenticate`` returns ``None``;
    ``ModelBackend`` and axes do that) and gives district admins every model permission.

    Listed in ``settings.AUTHENTICATION_BACKENDS``; Django asks every backend and allows a
    permission when one says yes, so other users keep what ``ModelBackend`` gives them.
    """

    def authenticate(self, request: HttpRequest | None, **credentials: Any) -> None:
        return None

    def has_perm(self, user_obj: Actor, perm: str, obj: Model | None = None) -> bool:
        """Every permission (``"app_label.codename"``) for a district admin."""
        return holds_district_admin(user_obj)

    def has_module_perms(self, user_obj: Actor, app_label: str) -> bool:
        """Every app's models for a district admin."""
        return holds_district_admin(user_obj)
