"""Staff roles. Staff log in with Django's ``User``; a role is held district-wide or at one site."""

from __future__ import annotations

from django.conf import settings
from django.db import models

DISTRICT_ONLY_ROLES = ("district_admin", "district_technician")
SITE_ONLY_ROLES = ("site_technician", "site_administrator")


class StaffRole(models.Model):
    """One role held by one staff user, either district-wide (``site`` empty) or at one site.

    District admin and district technician are district-wide only; site technician and
    site administrator (principal) need a site; an auditor may be either.
    """

    class Role(models.TextChoices):
        DISTRICT_ADMIN = "district_admin", "District admin"
        DISTRICT_TECHNICIAN = "district_technician", "District technician"
        SITE_TECHNICIAN = "site_technician", "Site technician"
        SITE_ADMINISTRATOR = "site_administrator", "Site administrator (principal)"
        AUDITOR = "auditor", "Auditor (read-only)"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_roles")
    role = models.CharField(max_length=24, choices=Role.choices)
    site = models.ForeignKey("sites.Site", null=True, blank=True, on_delete=models.CASCADE, related_name="staff_roles")
    granted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role", "site"],
                condition=models.Q(site__isnull=False),
                name="staffrole_unique_per_site",
            ),
            models.UniqueConstraint(
                fields=["user", "role"], condition=models.Q(site__isnull=True), name="staffrole_unique_district_wide"
            ),
            models.CheckConstraint(
                condition=~models.Q(role__in=DISTRICT_ONLY_ROLES) | models.Q(site__isnull=True),
                name="staffrole_district_roles_have_no_site",
            ),
            models.CheckConstraint(
                condition=~models.Q(role__in=SITE_ONLY_ROLES) | models.Q(site__isnull=False),
                name="staffrole_site_roles_have_a_site",
            ),
        ]

    def __str__(self) -> str:
        where = self.site.code if self.site is not None else "district-wide"
        return f"{self.user} — {self.get_role_display()} ({where})"

    def clean(self) -> None:
        """Name the rule instead of the constraint: which roles need a site and which must not have one."""
        from django.core.exceptions import ValidationError

        if self.role in DISTRICT_ONLY_ROLES and self.site_id is not None:
            raise ValidationError({"site": f"{self.get_role_display()} is district-wide: leave the site empty."})
        if self.role in SITE_ONLY_ROLES and self.site_id is None:
            raise ValidationError({"site": f"{self.get_role_display()} is held at a site: choose one."})
