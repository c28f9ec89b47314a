"""Export download URLs, included by ``config/urls.py`` under ``exports/``.

``exports:devices_csv`` → ``/exports/devices.csv`` … ``exports:events_xlsx`` → ``/exports/events.xlsx``.
"""

from django.urls import path

from reports.export_views import FORMATS, export_download
from reports.exports import EXPORTS

app_name = "exports"

urlpatterns = [
    path(f"{name}.{fmt}", export_download, {"name": name, "fmt": fmt}, name=f"{name}_{fmt}")
    for name in EXPORTS
    for fmt in FORMATS
]
