"""URL routes. Every page is scoped through ``core.scoping`` (see docs/architecture.md)."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from core.views import LedgerLoginView
from custody import views as custody_views
from inventory import label_views
from inventory import views as inventory_views
from people import views as people_views
from reports import views as report_views
from sites import views as site_views

handler403 = "core.views.error_403"
handler404 = "core.views.error_404"
handler500 = "core.views.error_500"

urlpatterns = [
    path("", report_views.dashboard, name="dashboard"),
    path("login/", LedgerLoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("devices/", inventory_views.device_list_view, name="device_list"),
    path("devices/new/", inventory_views.device_create_view, name="device_create"),
    path("devices/labels/", label_views.device_labels, name="device_labels"),
    path("devices/<int:pk>/", inventory_views.device_detail, name="device_detail"),
    path("devices/<int:pk>/edit/", inventory_views.device_edit_view, name="device_edit"),
    path("devices/<int:pk>/<slug:action>/", inventory_views.device_action, name="device_action"),
    path("people/", people_views.person_list_view, name="person_list"),
    path("people/lookup/", people_views.person_lookup, name="person_lookup"),
    path("people/<int:pk>/", people_views.person_detail, name="person_detail"),
    path("check-out/", custody_views.check_out, name="check_out"),
    path("check-in/", custody_views.check_in, name="check_in"),
    path("bulk/<slug:operation>/", custody_views.bulk, name="bulk"),
    path("sites/", report_views.site_list, name="site_list"),
    path("sites/<int:pk>/", site_views.site_detail, name="site_detail"),
    path("sites/<int:pk>/locations/<slug:action>/", site_views.location_action, name="location_action"),
    path("settings/", site_views.district_settings, name="district_settings"),
    path("", include("accounts.urls")),
    path("imports/", include("imports.urls")),
    path("exports/", include("reports.export_urls")),
    path("admin/", admin.site.urls),
]
