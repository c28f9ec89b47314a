"""Django admin, for reference data, open to district admins only.

The District admin role is the one key: it opens the site (:class:`LedgerAdminSite`), its
login form (:class:`LedgerAdminAuthenticationForm`), and the model permissions the admin asks
for (``accounts.backends.DistrictAdminPermissions``, in ``AUTHENTICATION_BACKENDS``).
``is_staff`` and ``is_superuser`` are neither needed nor enough.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.http import HttpRequest, HttpResponse

from core.scoping import scope_for

if TYPE_CHECKING:
    from django.contrib.auth.forms import AuthenticationForm


class LedgerAdminSite(admin.AdminSite):
    """Admin site that requires the district admin role (``is_staff`` is neither needed nor
    enough; the role also gives the model permissions, ``accounts.backends``)."""

    site_header = "DeviceLedger reference data"
    site_title = "DeviceLedger admin"

    @property
    def login_form(self) -> type[AuthenticationForm]:  # type: ignore[override]  # read like the attribute
        """:class:`core.admin_forms.LedgerAdminAuthenticationForm` (imported late: this module is
        loaded with the app registry, before forms can be)."""
        from core.admin_forms import LedgerAdminAuthenticationForm

        return LedgerAdminAuthenticationForm

    def has_permission(self, request: HttpRequest) -> bool:
        return scope_for(request.user).is_district_admin

    def login(self, request: HttpRequest, extra_context: dict[str, object] | None = None) -> HttpResponse:
        """The admin's log-in; a logged-in user without the role gets the product's 403 page
        (``core.views.refused``: "Only district admins…") instead of Django's "You are
        authenticated as …, but are not authorized" form."""
        if request.user.is_authenticated and not self.has_permission(request):
            from core.scoping import ADMIN
            from core.views import refused

            return refused(request, action=ADMIN)
        return super().login(request, extra_context)


class LedgerAdminConfig(AdminConfig):
    """Use :class:`LedgerAdminSite` as ``admin.site``."""

    default_site = "core.admin_site.LedgerAdminSite"
