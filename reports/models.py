"""Export jobs: a large XLSX export prepared in the background, then downloaded by whoever asked.

A job belongs to one user: :meth:`ExportJobQuerySet.visible_to` answers only that user's jobs
(and none to a user who has lost every role), so another user's job id is a 404 through
:func:`core.scoping.get_visible_or_404` — a district admin included: an export is a copy of data
made for one person.
"""

from __future__ import annotations

from pathlib import Path
from typing import Self

from django.conf import settings
from django.db import models
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.http import urlencode

from core.scoping import VIEW, ScopedQuerySet, scope_for
from core.types import Actor

#: Folder under ``MEDIA_ROOT`` holding the prepared files (``<job id>-<random>.xlsx``).
EXPORT_DIR = "exports"

#: Seconds without a sign of life after which a waiting or running job is stalled (the server
#: restarted?): 10 minutes, the import runs' threshold (``ImportRun.is_stalled``). A running job
#: saves progress every ``reports.tasks.PROGRESS_EVERY`` rows, a few seconds apart.
STALL_SECONDS = 600

#: What a stalled job's page says (and the ``error`` of a stalled job replaced by a new one).
STALLED_MESSAGE = "This export stopped (the server restarted?). Start it again."


class ExportJobQuerySet(ScopedQuerySet):
    """Export jobs, each visible only to the user who asked for it (while they hold a role)."""

    def visible_to(self, user: Actor | None, action: str = VIEW) -> Self:
        if user is None or not getattr(user, "is_authenticated", False) or not scope_for(user).allows(action):
            return self.none()
        return self.filter(user_id=user.pk)


class ExportJob(models.Model):
    """One export prepared in the background (see ``reports/tasks.py``).

    Life cycle (``status``): queued → running → done, or failed (``error`` says why). ``rows_done``
    / ``rows_total`` show progress (``rows_total`` is counted when the job is asked for). ``name``
    is an export of :data:`reports.exports.EXPORTS` and ``filters`` the list page's query string
    (a ``{name: value}`` dict); ``file`` is the prepared file's path under ``MEDIA_ROOT`` and
    ``file_name`` the name it is downloaded as (``devices-2024-05-01.xlsx``). Files and rows older
    than ``EXPORT_JOBS_KEEP_HOURS`` are removed (:func:`reports.tasks.export_jobs_clean`).
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting to start"
        RUNNING = "running", "Preparing"
        DONE = "done", "Ready"
        FAILED = "failed", "Failed"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="export_jobs")
    name = models.CharField(max_length=20)
    fmt = models.CharField(max_length=8, default="xlsx")
    filters = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    rows_done = models.PositiveIntegerField(default=0)
    rows_total = models.PositiveIntegerField(default=0)
    file = models.CharField(max_length=200, blank=True)
    file_name = models.CharField(max_length=100, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    #: Last sign of life of the running job (set when it starts and at each progress save).
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = ExportJobQuerySet.as_manager()

    #: For templates: what a stalled job's page says.
    stalled_message = STALLED_MESSAGE

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "created_at"], name="exportjob_user_created")]

    def __str__(self) -> str:
        return f"Export #{self.pk} ({self.name}.{self.fmt}, {self.status})"

    @property
    def is_running(self) -> bool:
        """Still queued or being written (the page keeps polling unless :attr:`is_stalled`)."""
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)

    @property
    def is_stalled(self) -> bool:
        """Waiting or running with no sign of life (``heartbeat_at``, else ``created_at``) for
        more than :data:`STALL_SECONDS`: its thread died with the server. The page stops polling
        and offers :attr:`restart_url`."""
        if not self.is_running:
            return False
        last = self.heartbeat_at or self.created_at
        return (timezone.now() - last).total_seconds() > STALL_SECONDS

    @property
    def restart_url(self) -> str:
        """The download URL that asks for this export again, with the same filters (a new job:
        :func:`reports.services.export_job_request` replaces a stalled one); "" for an export
        no longer offered."""
        try:
            url = reverse(f"exports:{self.name}_{self.fmt}")
        except NoReverseMatch:  # an export no longer offered: nothing to start again
            return ""
        return url + ("?" + urlencode(self.filters) if self.filters else "")

    @property
    def progress_percent(self) -> int:
        """0–100, by rows written."""
        if not self.rows_total:
            return 0 if self.is_running else 100
        return min(100, self.rows_done * 100 // self.rows_total)

    @property
    def path(self) -> Path | None:
        """The prepared file on disk, ``None`` before it is written."""
        return Path(settings.MEDIA_ROOT) / self.file if self.file else None
