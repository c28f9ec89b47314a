"""Reference data in the Django admin: manufacturers and device models.

Devices, assignments and events are not editable here: they change only through
services, which write the event log. Manufacturers and device models are saved and deleted
through :mod:`inventory.services` too (source ``admin``), so each change is in the change
log, shown below the form on their change pages.
"""

from typing import Any

from django.contrib import admin
from django.db import transaction
from django.http import HttpRequest

from core.changelog import Source, change_log_for
from inventory import services
from inventory.models import DeviceModel, Manufacturer


def _changed(form: Any) -> dict[str, Any]:
    return {name: form.cleaned_data[name] for name in form.changed_data if name in form.cleaned_data}


def _adopt(obj: Any, saved: Any) -> None:
    """The admin goes on with ``obj`` (redirect, messages): make it the saved row."""
    obj.pk = saved.pk
    obj._state.adding = False
    obj._state.db = saved._state.db


class AuditedAdmin(admin.ModelAdmin):
    """Shows the object's change log on its change page."""

    change_form_template = "core/admin_change_form_with_log.html"

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> Any:
        obj = self.get_object(request, object_id)
        context = {**(extra_context or {}), "change_log": change_log_for(obj=obj, user=request.user) if obj else []}
        return super().change_view(request, object_id, form_url, extra_context=context)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        with transaction.atomic():
            for obj in queryset:
                self.delete_model(request, obj)


@admin.register(Manufacturer)
class ManufacturerAdmin(AuditedAdmin):
    search_fields = ["name"]

    def save_model(self, request: HttpRequest, obj: Manufacturer, form: Any, change: bool) -> None:
        if change:
            saved = services.manufacturer_update(
                manufacturer=obj, name=form.cleaned_data["name"], actor=request.user, source=Source.ADMIN
            )
        else:
            saved = services.manufacturer_create(
                name=form.cleaned_data["name"], actor=request.user, source=Source.ADMIN
            )
        _adopt(obj, saved)

    def delete_model(self, request: HttpRequest, obj: Manufacturer) -> None:
        services.manufacturer_delete(manufacturer=obj, actor=request.user, source=Source.ADMIN)


@admin.register(DeviceModel)
class DeviceModelAdmin(AuditedAdmin):
    list_display = ["name", "manufacturer", "model_number", "category", "replacement_cost", "service_life_months"]
    list_filter = ["category", "manufacturer"]
    search_fields = ["name", "model_number"]

    def save_model(self, request: HttpRequest, obj: DeviceModel, form: Any, change: bool) -> None:
        if change:
            saved = services.device_model_update(
                device_model=obj, actor=request.user, source=Source.ADMIN, **_changed(form)
            )
        else:
            saved = services.device_model_create(actor=request.user, source=Source.ADMIN, **form.cleaned_data)
        _adopt(obj, saved)

    def delete_model(self, request: HttpRequest, obj: DeviceModel) -> None:
        services.device_model_delete(device_model=obj, actor=request.user, source=Source.ADMIN)
