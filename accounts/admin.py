"""Staff roles in the Django admin, inline on users."""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from accounts.models import StaffRole


class StaffRoleInline(admin.TabularInline):
    model = StaffRole
    extra = 1


User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class StaffUserAdmin(UserAdmin):
    inlines = [StaffRoleInline]
