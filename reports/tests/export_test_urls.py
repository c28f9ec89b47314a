"""Test URLconf: the project's URLs, plus the export URLs should config/urls.py not include them."""

from django.urls import URLResolver, include, path

from config.urls import handler404, handler500
from config.urls import urlpatterns as project_urlpatterns

__all__ = ["handler404", "handler500", "urlpatterns"]

_wired = any(isinstance(p, URLResolver) and p.namespace == "exports" for p in project_urlpatterns)

urlpatterns = (
    [*project_urlpatterns] if _wired else [*project_urlpatterns, path("exports/", include("reports.export_urls"))]
)
