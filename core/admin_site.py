"""Django admin, for reference data, open to district admins only."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.http import HttpRequest

from core.scoping import scope_for


class LedgerAdminSite(admin.AdminSite):
    """Admin site that requires the district admin role (not merely ``is_staff``)."""

    site_header = "DeviceLedger reference data"
    site_title = "DeviceLedger admin"

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(user.is_active and user.is_staff and scope_for(user).is_district_admin)


class LedgerAdminConfig(AdminConfig):
    """Use :class:`LedgerAdminSite` as ``admin.site``."""

    default_site = "core.admin_site.LedgerAdminSite"
