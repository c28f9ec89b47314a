"""Sites and locations in the Django admin (reference data)."""

from django.contrib import admin

from sites.models import Location, Site


class LocationInline(admin.TabularInline):
    model = Location
    extra = 0


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "grades", "active"]
    list_filter = ["kind", "active"]
    search_fields = ["code", "name"]
    inlines = [LocationInline]
