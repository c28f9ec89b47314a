"""The Django admin's login form: the District admin role, not ``is_staff`` (``core.admin_site``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

from core.scoping import scope_for

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class LedgerAdminAuthenticationForm(AdminAuthenticationForm):
    """The admin's login form: an active user holding the District admin role (Django's asks
    for ``is_staff``). Anyone else reads the same "correct username and password" error."""

    def confirm_login_allowed(self, user: User) -> None:
        AuthenticationForm.confirm_login_allowed(self, user)  # refuses an inactive user
        if not scope_for(user).is_district_admin:
            raise ValidationError(
                self.error_messages["invalid_login"],
                code="invalid_login",
                params={"username": self.username_field.verbose_name},
            )
