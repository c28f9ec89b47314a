"""Export jobs: a large XLSX export written in the background (see :class:`reports.models.ExportJob`).

:func:`export_job_start` picks how a job runs, as the import jobs do (``imports/tasks.py``):

* ``inline`` (argument, or ``settings.EXPORTS_RUN_INLINE``; tests set it): right now, in the caller;
* ``settings.CELERY_BROKER_URL`` set: a Celery task (:func:`run_export_job_task`), sent once
  the caller's transaction commits;
* otherwise (the embedded default): a daemon thread in this process, started once the caller's
  transaction commits. The page returns at once and polls the job; stopping the server stops
  the job (after :data:`reports.models.STALL_SECONDS` without progress the page says it
  stalled, stops polling and offers to start it again).

The job writes the file under ``MEDIA_ROOT/exports/`` (a name nobody can guess), saving its
progress on the job every :data:`PROGRESS_EVERY` rows. :func:`export_jobs_clean` removes jobs and
files older than ``settings.EXPORT_JOBS_KEEP_HOURS`` (default 24); it runs each time a job is
asked for.
"""

from __future__ import annotations

import datetime
import logging
import os
import secrets
import threading
import weakref
from pathlib import Path

from celery import shared_task
from django.conf import settings
from django.db import connections, transaction
from django.utils import timezone

from reports.models import EXPORT_DIR, ExportJob

log = logging.getLogger(__name__)

#: Rows between two progress saves.
PROGRESS_EVERY = 2000

_threads: weakref.WeakSet[threading.Thread] = weakref.WeakSet()


def run_export_job(job_id: int) -> None:
    """Write the job's export to its file; the job ends ``done`` (with ``file``) or ``failed``.

    The rows are those the job's user may see *now*, through the gate (the same row builders as
    the downloads). A file that would not fit in one Excel sheet fails the job with a message
    pointing to the CSV download. Never raises for a failure of the export itself.
    """
    from reports.export_views import XLSX_MAX_ROWS, TooManyRows, at_most, export_filename
    from reports.exports import EXPORTS

    job = ExportJob.objects.select_related("user").get(pk=job_id)
    if job.status != ExportJob.Status.QUEUED:
        return
    ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.RUNNING, heartbeat_at=timezone.now())
    relative = f"{EXPORT_DIR}/{job.pk}-{secrets.token_urlsafe(12)}.{job.fmt}"
    target = Path(settings.MEDIA_ROOT) / relative
    partial = target.with_suffix(".part")
    try:
        from core.writing import xlsx_write

        build, title = EXPORTS[job.name]
        headers, rows = build(user=job.user, filters=job.filters)
        target.parent.mkdir(parents=True, exist_ok=True)

        def progress(done: int) -> None:
            ExportJob.objects.filter(pk=job.pk).update(rows_done=done, heartbeat_at=timezone.now())

        with partial.open("wb") as sink:
            written = xlsx_write(
                headers,
                at_most(rows, XLSX_MAX_ROWS),
                sink,
                sheet_title=title,
                progress=progress,
                progress_every=PROGRESS_EVERY,
            )
        os.replace(partial, target)
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportJob.Status.DONE,
            rows_done=written,
            rows_total=max(written, job.rows_total),
            file=relative,
            file_name=export_filename(job.name, job.fmt),
            finished_at=timezone.now(),
        )
    except Exception as error:
        partial.unlink(missing_ok=True)
        if isinstance(error, TooManyRows):
            message = (
                f"More than {XLSX_MAX_ROWS:,} rows: more than Excel opens in one sheet. "
                "Download the CSV instead, or narrow the export with the filters."
            )
        else:
            log.exception("export job %s failed", job.pk)
            message = "The export could not be written; try again, or download the CSV."
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportJob.Status.FAILED, error=message, finished_at=timezone.now()
        )


@shared_task(name="reports.run_export_job", ignore_result=True)
def run_export_job_task(job_id: int) -> None:
    """Celery task: run one export job."""
    run_export_job(job_id)


def _thread_main(job_id: int) -> None:
    try:
        run_export_job(job_id)
    except Exception:  # pragma: no cover - run_export_job records its own failures
        log.exception("export job %s crashed", job_id)
    finally:
        connections.close_all()


def export_job_start(*, job: ExportJob, inline: bool | None = None) -> threading.Thread | None:
    """Run ``job`` inline, as a Celery task or in a background thread (see the module
    docstring). Returns the thread when one is used (tests may ``join()`` it)."""
    if inline is None:
        inline = bool(getattr(settings, "EXPORTS_RUN_INLINE", False))
    if inline:
        run_export_job(job.pk)
        job.refresh_from_db()
        return None
    job_id = job.pk
    if getattr(settings, "CELERY_BROKER_URL", ""):
        transaction.on_commit(lambda: run_export_job_task.delay(job_id))
        return None
    thread = threading.Thread(target=_thread_main, args=(job_id,), name=f"export-{job_id}", daemon=True)
    _threads.add(thread)
    transaction.on_commit(thread.start)
    return thread


def export_jobs_clean(*, now: datetime.datetime | None = None) -> int:
    """Delete export jobs (and their files) older than ``settings.EXPORT_JOBS_KEEP_HOURS`` hours
    (default 24), and files in the export folder no job names any more. Returns the jobs removed."""
    keep = datetime.timedelta(hours=float(getattr(settings, "EXPORT_JOBS_KEEP_HOURS", 24)))
    cutoff = (now or timezone.now()) - keep
    old = ExportJob.objects.filter(created_at__lt=cutoff)
    for relative in old.exclude(file="").values_list("file", flat=True):
        (Path(settings.MEDIA_ROOT) / relative).unlink(missing_ok=True)
    removed, _ = old.delete()
    folder = Path(settings.MEDIA_ROOT) / EXPORT_DIR
    if folder.is_dir():
        named = {Path(f).name for f in ExportJob.objects.exclude(file="").values_list("file", flat=True)}
        for path in folder.iterdir():
            stale = path.stat().st_mtime < cutoff.timestamp()
            if path.is_file() and path.name not in named and stale:
                path.unlink(missing_ok=True)
    return removed


def wait_for_threads(timeout: float = 60) -> None:
    """Wait until the export threads of this process have ended (tests, orderly shutdown)."""
    for thread in list(_threads):
        if thread.is_alive():
            thread.join(timeout)
