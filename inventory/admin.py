"""Reference data in the Django admin: manufacturers and device models.

Devices, assignments and events are not editable here: they change only through
services, which write the event log.
"""

from django.contrib import admin

from inventory.models import DeviceModel, Manufacturer


@admin.register(Manufacturer)
class ManufacturerAdmin(admin.ModelAdmin):
    search_fields = ["name"]


@admin.register(DeviceModel)
class DeviceModelAdmin(admin.ModelAdmin):
    list_display = ["name", "manufacturer", "model_number", "category", "replacement_cost", "service_life_months"]
    list_filter = ["category", "manufacturer"]
    search_fields = ["name", "model_number"]
