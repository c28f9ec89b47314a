"""Export download URLs, included by ``config/urls.py`` under ``exports/``.

``exports:devices_csv`` → ``/exports/devices.csv`` … ``exports:events_xlsx`` → ``/exports/events.xlsx``;
``exports:job`` → ``/exports/jobs/<id>/`` (a background export's progress) and
``exports:job_download`` → ``/exports/jobs/<id>/download/``.
"""

from django.urls import path

from reports.export_views import FORMATS, export_download, export_job, export_job_download
from reports.exports import EXPORTS

app_name = "exports"

urlpatterns = [
    path(f"{name}.{fmt}", export_download, {"name": name, "fmt": fmt}, name=f"{name}_{fmt}")
    for name in EXPORTS
    for fmt in FORMATS
] + [
    path("jobs/<int:pk>/", export_job, name="job"),
    path("jobs/<int:pk>/download/", export_job_download, name="job_download"),
]
