"""Writes of the reports app: asking for a background export (:class:`reports.models.ExportJob`)."""

from __future__ import annotations

from collections.abc import Mapping

from django.db import transaction
from django.utils import timezone

from core.types import Actor
from reports.models import STALLED_MESSAGE, ExportJob

#: Filters kept on a job: at most this many query-string keys, each value cut to 200 characters.
_MAX_FILTERS = 20


@transaction.atomic
def export_job_request(
    *, user: Actor, name: str, filters: Mapping[str, str], rows_total: int, fmt: str = "xlsx"
) -> tuple[ExportJob, bool]:
    """The job preparing the ``name`` export with ``filters`` for ``user``: the same export still
    waiting or being written for them (a second click, a reload), else a new queued job. A
    stalled one (:attr:`ExportJob.is_stalled`: the server restarted under it) is not reused: it
    is marked failed with :data:`reports.models.STALLED_MESSAGE` and a new job is made.

    Returns ``(job, created)``; the caller starts a created job (:func:`reports.tasks.export_job_start`)
    and removes old ones (:func:`reports.tasks.export_jobs_clean`). ``rows_total`` is the row
    count the progress bar measures against. Raises ValueError without a signed-in user.
    """
    if user is None or not user.pk:
        raise ValueError("an export job needs a signed-in user")
    kept = {str(key)[:40]: str(value)[:200] for key, value in list(filters.items())[:_MAX_FILTERS]}
    pending = ExportJob.objects.filter(
        user_id=user.pk,
        name=name,
        fmt=fmt,
        status__in=(ExportJob.Status.QUEUED, ExportJob.Status.RUNNING),
    )
    for job in pending:
        if job.filters != kept:
            continue
        if not job.is_stalled:
            return job, False
        ExportJob.objects.filter(pk=job.pk, status=job.status).update(
            status=ExportJob.Status.FAILED, error=STALLED_MESSAGE, finished_at=timezone.now()
        )
    job = ExportJob.objects.create(user_id=user.pk, name=name, fmt=fmt, filters=kept, rows_total=rows_total)
    return job, True
