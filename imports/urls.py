"""Import pages (issue #3), under ``/imports/``."""

from django.urls import path

from imports import column_views, location_views, views

app_name = "imports"
urlpatterns = [
    path("", views.run_list, name="run_list"),
    path("new/", views.run_new, name="run_new"),
    path("<int:pk>/", views.run_detail, name="run_detail"),
    path("<int:pk>/progress/", views.run_progress, name="run_progress"),
    path("<int:pk>/commit/", views.run_commit, name="run_commit"),
    path("<int:pk>/cancel/", views.run_cancel, name="run_cancel"),
    path("<int:pk>/issues.csv", views.run_issues_csv, name="run_issues_csv"),
    path("<int:pk>/columns/", column_views.run_columns, name="run_columns"),
    path("org-units/", views.org_units, name="org_units"),
    path("org-units/<int:pk>/delete/", views.org_unit_delete, name="org_unit_delete"),
    path("locations/", location_views.locations, name="locations"),
    path("locations/<int:pk>/delete/", location_views.location_delete, name="location_delete"),
]
