"""Import and export pages (issue #3)."""

from django.urls import path  # noqa: F401

app_name = "imports"
urlpatterns: list = []
