"""Sites and locations in the Django admin (reference data).

Saves and deletions go through :mod:`sites.services`, so each writes its change log entry
(source ``admin``) like an edit anywhere else.
"""

from typing import Any

from django.contrib import admin
from django.db import transaction
from django.http import HttpRequest

from core.changelog import Source, change_log_for
from sites import services
from sites.models import Location, Site


def _changed(form: Any) -> dict[str, Any]:
    return {name: form.cleaned_data[name] for name in form.changed_data if name in form.cleaned_data}


class LocationInline(admin.TabularInline):
    model = Location
    extra = 0


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "grades", "active"]
    list_filter = ["kind", "active"]
    search_fields = ["code", "name"]
    inlines = [LocationInline]
    change_form_template = "core/admin_change_form_with_log.html"

    def save_model(self, request: HttpRequest, obj: Site, form: Any, change: bool) -> None:
        if change:
            saved = services.site_update(site=obj, actor=request.user, source=Source.ADMIN, **_changed(form))
        else:
            fields = {k: v for k, v in form.cleaned_data.items() if k not in ("code", "name", "kind")}
            saved = services.site_create(
                code=obj.code, name=obj.name, kind=obj.kind, actor=request.user, source=Source.ADMIN, **fields
            )
        obj.pk = saved.pk
        obj._state.adding = False
        obj._state.db = saved._state.db

    def delete_model(self, request: HttpRequest, obj: Site) -> None:
        services.site_delete(site=obj, actor=request.user, source=Source.ADMIN)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        with transaction.atomic():
            for site in queryset:
                services.site_delete(site=site, actor=request.user, source=Source.ADMIN)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is not Location:
            super().save_formset(request, form, formset, change)
            return
        site = form.instance
        # What the admin's own history message reads (formset.save() would set these).
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for inline in formset.forms:
            if not inline.has_changed() and not formset._should_delete_form(inline):
                continue
            location = inline.instance
            if formset._should_delete_form(inline):
                if location.pk is not None:
                    services.location_delete(location=location, actor=request.user, source=Source.ADMIN)
                    formset.deleted_objects.append(location)
            elif location.pk is None:
                fields = {k: v for k, v in inline.cleaned_data.items() if k in ("kind", "active")}
                created = services.location_create(
                    site=site, name=inline.cleaned_data["name"], actor=request.user, source=Source.ADMIN, **fields
                )
                formset.new_objects.append(created)
            else:
                fields = {k: v for k, v in _changed(inline).items() if k in ("name", "kind", "active")}
                services.location_update(location=location, actor=request.user, source=Source.ADMIN, **fields)
                formset.changed_objects.append((location, list(fields)))

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> Any:
        site = self.get_object(request, object_id)
        context = {**(extra_context or {}), "change_log": change_log_for(obj=site, user=request.user) if site else []}
        return super().change_view(request, object_id, form_url, extra_context=context)
