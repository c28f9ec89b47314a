"""Staff roles in the Django admin, inline on users.

Role grants, changes and revocations made here go through :mod:`accounts.services` (source
``admin``), so each writes its change log entry; the user's change page shows the history of
their roles below the form.
"""

from typing import Any

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db import transaction
from django.http import HttpRequest

from accounts import services
from accounts.models import StaffRole
from core.changelog import Source, change_log_for


class StaffRoleInline(admin.TabularInline):
    model = StaffRole
    extra = 1


User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class StaffUserAdmin(UserAdmin):
    inlines = [StaffRoleInline]
    change_form_template = "core/admin_change_form_with_log.html"

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        """Staff roles are granted, changed and revoked through the role services (audited)."""
        if formset.model is not StaffRole:
            super().save_formset(request, form, formset, change)
            return
        user = form.instance
        # What the admin's own history message reads (formset.save() would set these).
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for inline in formset.forms:
            grant = inline.instance
            if formset._should_delete_form(inline):
                if grant.pk is not None:
                    services.staff_role_revoke(staff_role=grant, actor=request.user, source=Source.ADMIN)
                    formset.deleted_objects.append(grant)
            elif not inline.has_changed():
                continue
            elif grant.pk is None:
                created = services.staff_role_grant(
                    user=user,
                    role=inline.cleaned_data["role"],
                    site=inline.cleaned_data.get("site"),
                    actor=request.user,
                    source=Source.ADMIN,
                )
                formset.new_objects.append(created)
            else:
                services.staff_role_update(
                    staff_role=grant,
                    role=inline.cleaned_data["role"],
                    site=inline.cleaned_data.get("site"),
                    actor=request.user,
                    source=Source.ADMIN,
                )
                formset.changed_objects.append((grant, inline.changed_data))

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        """Removing a user revokes their roles through the service first (each logged)."""
        with transaction.atomic():
            for grant in obj.staff_roles.select_related("site"):
                services.staff_role_revoke(
                    staff_role=grant, actor=request.user, source=Source.ADMIN, note="The user was removed."
                )
            obj.delete()

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        with transaction.atomic():
            for user in queryset:
                self.delete_model(request, user)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> Any:
        user = self.get_object(request, object_id)
        context = {**(extra_context or {}), "change_log": change_log_for(obj=user, user=request.user) if user else []}
        return super().change_view(request, object_id, form_url, extra_context=context)
