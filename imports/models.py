"""Import runs and their row issues, and the remembered settings importers use.

* :class:`ImportRun` — one upload going through upload → validate → preview → commit,
  with its options, counts, progress and outcome. Scoped: a district-wide run is seen by
  district-wide roles only; a run limited to one site is seen by that site's staff too.
* :class:`ImportIssue` — one problem with one row (line, column, value, reason), or with a
  whole file (no line). Written in bulk while validating.
* :class:`LocationMapping` — a Snipe-IT location name → site, remembered between imports.
* :class:`OrgUnitMapping` — Google org unit path prefix → site (longest prefix wins), for
  the Google Admin device importer.
* :class:`ColumnMapping` — how the columns of a spreadsheet from one source map to our
  fields, remembered per source for the generic CSV/XLSX importer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from core.scoping import ReferenceQuerySet, ScopedQuerySet

#: Count keys, in the order pages and reports show them.
COUNT_KEYS = ("created", "updated", "unchanged", "deactivated", "reactivated", "removed", "skipped", "rejected")


class ImportRunQuerySet(ScopedQuerySet):
    """Import runs, scoped by ``scope_site``.

    A run without a scope site is district-wide: ``visible_to`` filters on
    ``scope_site_id IN (user's sites)``, which never matches NULL, so only users whose
    role covers every site see it. A run limited to one site is visible to that site's staff.
    """

    scope_site_field = "scope_site_id"


class ImportRun(models.Model):
    """One import: an uploaded file (or a folder/zip of files) and what happened to it.

    Life cycle (``status``)::

        uploaded → validating → previewed → applying → done
                          ↘ rejected        ↘ failed   (and previewed → cancelled)

    ``rejected``: nothing was applied because the file could not be read, the user may not
    import it, or (all-or-nothing) some rows have errors. ``failed``: the commit was stopped by
    a file error found while committing (a file that can no longer be read, a check made again
    such as the OneRoster safety stop) or by an unexpected error (``error`` says which; in
    valid-rows mode earlier batches stay applied).

    ``preview`` holds the planned counts and ``counts`` the applied ones, both shaped
    ``{"people": {"created": 3, "updated": 0, …}, "sites": {…}}`` (keys from
    :data:`COUNT_KEYS`). ``progress_done``/``progress_total`` count rows of the current
    step, whose name is in ``phase``.
    """

    class Kind(models.TextChoices):
        ONEROSTER = "oneroster", "OneRoster 1.1/1.2 CSV (sites and people)"
        GOOGLE = "google", "Google Admin ChromeOS devices"
        SNIPEIT = "snipeit", "Snipe-IT export"
        CSV = "csv", "CSV or XLSX spreadsheet"

    class Mode(models.TextChoices):
        ALL_OR_NOTHING = "all_or_nothing", "All or nothing: apply only if every row is valid"
        VALID_ROWS = "valid_rows", "Apply the valid rows and report the rest"

    class Status(models.TextChoices):
        UPLOADED = "uploaded", "Uploaded"
        VALIDATING = "validating", "Validating"
        PREVIEWED = "previewed", "Ready to commit"
        APPLYING = "applying", "Applying"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        REJECTED = "rejected", "Rejected"
        CANCELLED = "cancelled", "Cancelled"

    #: Statuses in which a background job is working on the run.
    RUNNING = (Status.UPLOADED, Status.VALIDATING, Status.APPLYING)
    #: Statuses after which nothing more happens.
    FINAL = (Status.DONE, Status.FAILED, Status.REJECTED, Status.CANCELLED)

    kind = models.CharField(max_length=12, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True, help_text="Last sign of life of the job.")
    file_name = models.CharField(max_length=255, help_text="The name the file had when it was uploaded.")
    stored_path = models.CharField(
        max_length=500, blank=True, help_text="Relative to MEDIA_ROOT for uploads; absolute for the command line."
    )
    file_size = models.BigIntegerField(default=0)
    options = models.JSONField(default=dict, blank=True)
    mode = models.CharField(max_length=16, choices=Mode.choices, default=Mode.ALL_OR_NOTHING)
    dry_run = models.BooleanField(default=False, help_text="Preview only (command line --dry-run).")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.UPLOADED)
    phase = models.CharField(max_length=200, blank=True)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    preview = models.JSONField(default=dict, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    notes = models.JSONField(default=list, blank=True, help_text="What the importer noticed about the files.")
    error_count = models.PositiveIntegerField(default=0)
    warning_count = models.PositiveIntegerField(default=0)
    scope_site = models.ForeignKey(
        "sites.Site",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Empty: a district-wide import. Set: rows for other sites are rejected.",
    )
    error = models.TextField(blank=True)

    objects = ImportRunQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["scope_site", "-created_at"], name="importrun_site_time")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} import #{self.pk} ({self.file_name})"

    @property
    def source_path(self) -> Path:
        """Where the uploaded file (or the command line's file or folder) is."""
        path = Path(self.stored_path)
        return path if path.is_absolute() else Path(settings.MEDIA_ROOT) / path

    #: What a dry run's preview is called on the pages (its status stays ``previewed``).
    DRY_RUN_LABEL = "Dry run (not committable)"

    @property
    def status_label(self) -> str:
        """The status as the pages show it: the preview of a dry run (command line
        ``--dry-run``) is never "Ready to commit", it is :data:`DRY_RUN_LABEL`."""
        if self.dry_run and self.status == self.Status.PREVIEWED:
            return self.DRY_RUN_LABEL
        return str(self.get_status_display())

    @property
    def state_text(self) -> str:
        """For messages: "This import is <state_text>" (``a dry run (preview only)``, ``done``…)."""
        if self.dry_run:
            return "a dry run (preview only)"
        return str(self.get_status_display()).lower()

    @property
    def phase_shown(self) -> str:
        """``phase`` as the run page shows it beside the status: a run that is over never says
        "Waiting to start" (runs stopped before their phase was recorded did)."""
        if self.is_final and self.phase == "Waiting to start":
            return ""
        return self.phase

    @property
    def is_running(self) -> bool:
        return self.status in self.RUNNING

    @property
    def is_final(self) -> bool:
        return self.status in self.FINAL

    @property
    def progress_percent(self) -> int:
        if not self.progress_total:
            return 0
        return min(100, int(100 * self.progress_done / self.progress_total))

    @property
    def is_stalled(self) -> bool:
        """A running job that has given no sign of life for 10 minutes (the server restarted?)."""
        if not self.is_running:
            return False
        last = self.heartbeat_at or self.created_at
        return (timezone.now() - last).total_seconds() > 600

    @property
    def counts_applied(self) -> bool:
        """The counts shown are what the commit applied (else the preview's plan: also after
        a commit that failed without applying anything, e.g. all-or-nothing)."""
        return self.status in (self.Status.DONE, self.Status.FAILED) and bool(self.counts)

    def shown_counts(self) -> dict[str, dict[str, int]]:
        """Applied counts once applied, else the planned ones (entities only: keys starting
        with ``_``, like the deactivation guard, are not counts)."""
        data = self.counts if self.counts_applied else self.preview
        return {name: counts for name, counts in (data or {}).items() if not name.startswith("_")}

    def total(self, key: str, which: str = "shown") -> int:
        """Sum of one count key over all entities."""
        data: dict[str, Any] = self.shown_counts() if which == "shown" else getattr(self, which)
        return sum(int(entity.get(key, 0)) for name, entity in data.items() if not name.startswith("_"))

    #: Count keys of rows a commit applies or keeps (not skipped, not rejected).
    VALID_KEYS = ("created", "updated", "unchanged", "deactivated", "reactivated", "removed")

    def valid_rows(self, which: str = "shown") -> int:
        """Rows without an error (planned or applied, as :meth:`total` reads them): 0 when every
        row of the file was rejected, so there is nothing to apply."""
        return sum(self.total(key, which) for key in self.VALID_KEYS)

    def deactivation_guard(self) -> dict[str, Any]:
        """What the preview found a bulk file would make inactive because it does not list it:
        ``{"people", "active", "sites", "sites_in_use", "needs_confirmation"}`` (``{}``: nothing).
        A run with ``needs_confirmation`` is committed only with ``confirm_deactivation``."""
        return dict((self.preview or {}).get("_deactivation") or {})


class ImportIssueQuerySet(ScopedQuerySet):
    """Issues, scoped like their run."""

    scope_site_field = "run__scope_site_id"


class ImportIssue(models.Model):
    """One problem found in an import: a row error (the row is not applied) or a warning
    (the row is applied without the faulty value). ``line`` is empty for a whole-file problem.

    ``line`` is the 1-based line where the record starts (the header is line 1);
    ``column`` the header as written in the file; ``value`` the text found (truncated).
    """

    class Severity(models.TextChoices):
        ERROR = "error", "Error"
        WARNING = "warning", "Warning"

    run = models.ForeignKey(ImportRun, on_delete=models.CASCADE, related_name="issues")
    severity = models.CharField(max_length=8, choices=Severity.choices, default=Severity.ERROR)
    file = models.CharField(max_length=255, blank=True, help_text="File inside the upload, e.g. users.csv.")
    line = models.PositiveIntegerField(null=True, blank=True)
    column = models.CharField(max_length=255, blank=True)
    value = models.TextField(blank=True)
    reason = models.TextField()
    key = models.CharField(max_length=255, blank=True, help_text="The row's key (e.g. sourcedId), when known.")

    objects = ImportIssueQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["run", "id"], name="importissue_run_id")]

    def __str__(self) -> str:
        where = f"{self.file} line {self.line}" if self.line else self.file
        return f"{where}: {self.reason}"


class OrgUnitMappingQuerySet(ScopedQuerySet):
    """Org unit mappings, scoped by their site (district admins edit them)."""

    scope_site_field = "site_id"


class OrgUnitMapping(models.Model):
    """A Google Admin org unit path prefix and the site its devices belong to.

    ``/Students/Lincoln`` matches ``/Students/Lincoln`` and ``/Students/Lincoln/Grade 5``
    but not ``/Students/Lincolnwood``; the longest matching prefix wins
    (:func:`imports.selectors.org_unit_resolver`).
    """

    path_prefix = models.CharField(max_length=255, unique=True, help_text="e.g. /Students/Lincoln Middle")
    site = models.ForeignKey("sites.Site", on_delete=models.CASCADE, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)
    updated_by_label = models.CharField(max_length=150, blank=True)

    objects = OrgUnitMappingQuerySet.as_manager()

    class Meta:
        ordering = ["path_prefix"]

    def __str__(self) -> str:
        return f"{self.path_prefix} → {self.site.code}"


class LocationMappingQuerySet(ScopedQuerySet):
    """Snipe-IT location mappings, scoped by their site (district admins edit them)."""

    scope_site_field = "site_id"


class LocationMapping(models.Model):
    """A Snipe-IT location name and the site its assets (and users) belong to, remembered for
    the next import (like :class:`OrgUnitMapping` for Google). Matched ignoring case and outer
    spaces (``name_key``); a location whose name is a site's code or name needs no mapping."""

    name = models.CharField(max_length=255, help_text="The location's name in Snipe-IT, as written there.")
    name_key = models.CharField(max_length=255, unique=True, editable=False)
    site = models.ForeignKey("sites.Site", on_delete=models.CASCADE, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)
    updated_by_label = models.CharField(max_length=150, blank=True)

    objects = LocationMappingQuerySet.as_manager()

    class Meta:
        ordering = ["name_key"]

    def __str__(self) -> str:
        return f"{self.name} → {self.site.code}"

    @staticmethod
    def key_of(name: str) -> str:
        """The matching key of a location name: lower case, spaces collapsed."""
        return " ".join(name.lower().split())


class ColumnMapping(models.Model):
    """How one source's columns map to our fields, remembered for the next upload.

    ``source_name`` is what the user calls the source ("Lincoln spreadsheet", "Destiny
    export"); ``kind`` is what the rows are (``devices`` or ``people``); ``mapping`` is
    ``{"our_field": "Their Header", …}`` (``""``: not in this file, never guessed from the
    headers). District-wide reference data.
    """

    kind = models.CharField(max_length=20)
    source_name = models.CharField(max_length=120)
    mapping = models.JSONField(default=dict)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by_label = models.CharField(max_length=150, blank=True)

    objects = ReferenceQuerySet.as_manager()

    class Meta:
        ordering = ["kind", "source_name"]
        constraints = [models.UniqueConstraint(fields=["kind", "source_name"], name="columnmapping_unique_source")]

    def __str__(self) -> str:
        return f"{self.source_name} ({self.kind})"
