"""Large XLSX exports run as background jobs: progress page, download link, only for whoever asked."""

from __future__ import annotations

import datetime
import io
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from reports.models import ExportJob
from reports.tasks import export_jobs_clean

pytestmark = pytest.mark.django_db


@pytest.fixture
def jobs(settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every XLSX export is 'large' (threshold 0 rows), jobs run inline, files go to tmp_path."""
    settings.MEDIA_ROOT = str(tmp_path)
    settings.EXPORTS_RUN_INLINE = True
    monkeypatch.setattr("reports.export_views.XLSX_SYNC_MAX_ROWS", 0)
    return tmp_path


def _body(response: Any) -> bytes:
    return b"".join(response.streaming_content)


def test_large_xlsx_export_becomes_a_job_with_a_download(client_for: Any, world: Any, jobs: Path) -> None:
    client = client_for(world.site_tech)
    response = client.get(reverse("exports:devices_xlsx"), {"status": "", "q": ""})
    assert response.status_code == 303
    job = ExportJob.objects.get()
    assert response.url == reverse("exports:job", kwargs={"pk": job.pk})
    assert job.user == world.site_tech and job.name == "devices" and job.filters == {"status": "", "q": ""}
    assert job.status == ExportJob.Status.DONE and job.rows_done == job.rows_total >= 1
    assert job.path is not None and job.path.is_file() and job.path.parent == jobs / "exports"
    page = client.get(response.url)
    assert page.status_code == 200 and "Download" in page.content.decode()
    assert "hx-trigger" not in page.content.decode()  # finished: no more polling
    download = client.get(reverse("exports:job_download", kwargs={"pk": job.pk}))
    assert download.status_code == 200 and download["Cache-Control"] == "private, no-store"
    assert job.file_name in download["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(_body(download)), read_only=True).active
    tags = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert world.device_a.asset_tag in tags and world.device_b.asset_tag not in tags  # the gate, as asked


def test_another_users_job_answers_404(client_for: Any, world: Any, jobs: Path) -> None:
    client_for(world.site_tech).get(reverse("exports:devices_xlsx"))
    job = ExportJob.objects.get()
    for user in (world.district_admin, world.district_tech, world.principal):
        other = client_for(user)
        assert other.get(reverse("exports:job", kwargs={"pk": job.pk})).status_code == 404
        assert other.get(reverse("exports:job_download", kwargs={"pk": job.pk})).status_code == 404
    assert client_for(world.nobody).get(reverse("exports:job", kwargs={"pk": job.pk})).status_code in (403, 404)


def test_running_job_polls_and_a_second_click_finds_it(client_for: Any, world: Any, jobs: Path, settings: Any) -> None:
    settings.EXPORTS_RUN_INLINE = False
    settings.CELERY_BROKER_URL = "memory://"
    sent: list[int] = []
    import reports.tasks

    reports.tasks.run_export_job_task.delay = sent.append  # type: ignore[method-assign]
    try:
        client = client_for(world.district_tech)
        url = reverse("exports:devices_xlsx")
        first = client.get(url, {"status": "in_stock"})
        again = client.get(url, {"status": "in_stock"})
    finally:
        del reports.tasks.run_export_job_task.delay
    job = ExportJob.objects.get()
    assert first.url == again.url and job.status == ExportJob.Status.QUEUED
    page = client.get(first.url)
    assert 'hx-trigger="every 1s"' in page.content.decode() and "rows written" in page.content.decode()
    partial = client.get(first.url, headers={"HX-Request": "true"})
    assert partial.content.decode().lstrip().startswith('<div id="export-job"')
    assert client.get(reverse("exports:job_download", kwargs={"pk": job.pk})).status_code == 404  # not ready


def test_celery_gets_the_job_after_commit(
    client_for: Any, world: Any, jobs: Path, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.EXPORTS_RUN_INLINE = False
    settings.CELERY_BROKER_URL = "memory://"
    sent: list[int] = []
    import reports.tasks

    reports.tasks.run_export_job_task.delay = sent.append  # type: ignore[method-assign]
    try:
        with django_capture_on_commit_callbacks(execute=True):
            client_for(world.site_tech).get(reverse("exports:people_xlsx"))
    finally:
        del reports.tasks.run_export_job_task.delay
    assert sent == [ExportJob.objects.get().pk]


def test_too_many_rows_fails_the_job_with_words(client_for: Any, world: Any, jobs: Path, monkeypatch: Any) -> None:
    monkeypatch.setattr("reports.export_views.XLSX_MAX_ROWS", 1)
    monkeypatch.setattr("reports.export_views.export_row_count", lambda name, **kw: 1)  # more rows came after
    client = client_for(world.district_tech)
    page = client.get(client.get(reverse("exports:devices_xlsx")).url)
    job = ExportJob.objects.get()
    assert job.status == ExportJob.Status.FAILED and not job.file
    assert "Download the CSV" in page.content.decode()
    assert not list((jobs / "exports").iterdir())  # no partial file left


def test_old_jobs_and_their_files_are_cleaned(client_for: Any, world: Any, jobs: Path) -> None:
    client_for(world.site_tech).get(reverse("exports:devices_xlsx"))
    job = ExportJob.objects.get()
    path = job.path
    assert path is not None and path.is_file()
    assert export_jobs_clean(now=timezone.now() + datetime.timedelta(hours=23)) == 0 and path.is_file()
    assert export_jobs_clean(now=timezone.now() + datetime.timedelta(hours=25)) == 1
    assert not path.exists() and not ExportJob.objects.exists()


def test_small_xlsx_export_stays_a_direct_download(client_for: Any, world: Any, settings: Any) -> None:
    response = client_for(world.site_tech).get(reverse("exports:devices_xlsx"))
    assert response.status_code == 200 and not ExportJob.objects.exists()


def test_a_job_stopped_by_a_server_restart_shows_as_stalled_and_starts_again(
    client_for: Any, world: Any, jobs: Path
) -> None:
    """A job left 'Preparing' by a restart: after 10 minutes without progress (the imports'
    threshold) the page says so in words, stops polling and offers to start it again, which
    makes a new job (not the stalled one)."""
    client = client_for(world.site_tech)
    long_ago = timezone.now() - datetime.timedelta(minutes=11)
    stalled = ExportJob.objects.create(
        user=world.site_tech, name="devices", filters={"status": "in_stock"}, status=ExportJob.Status.RUNNING
    )
    ExportJob.objects.filter(pk=stalled.pk).update(created_at=long_ago, heartbeat_at=long_ago)
    page = client.get(reverse("exports:job", kwargs={"pk": stalled.pk})).content.decode()
    assert "This export stopped (the server restarted?). Start it again." in page
    assert "hx-trigger" not in page
    restart = reverse("exports:devices_xlsx") + "?status=in_stock"
    assert f'href="{restart}"' in page
    response = client.get(restart)
    assert response.status_code == 303
    fresh = ExportJob.objects.exclude(pk=stalled.pk).get()
    assert response.url == reverse("exports:job", kwargs={"pk": fresh.pk}) and fresh.status == ExportJob.Status.DONE
    stalled.refresh_from_db()
    assert stalled.status == ExportJob.Status.FAILED  # no longer "Preparing"


def test_a_running_job_with_recent_progress_is_not_stalled(world: Any) -> None:
    job = ExportJob.objects.create(user=world.site_tech, name="devices", status=ExportJob.Status.RUNNING)
    ExportJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - datetime.timedelta(minutes=30))
    job.refresh_from_db()
    job.heartbeat_at = timezone.now() - datetime.timedelta(minutes=2)
    assert not job.is_stalled
