"""Running a phase of a run (preview or commit) and recording its outcome: :func:`run_phase`
(moved from ``imports.pipeline``, which re-exports it)."""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from imports.models import ImportIssue, ImportRun
from imports.pipeline_base import (
    IMPORTER_CLASSES,
    AllOrNothingAborted,
    FileError,
    ImporterUnavailable,
)
from imports.pipeline_importer import Importer
from imports.pipeline_report import Echo, Progress, Report

log = logging.getLogger("imports.pipeline")  # one logger for the whole pipeline

# --------------------------------------------------------------------------- running a phase


def importer_class(kind: str) -> type[Importer]:
    """The Importer class for ``kind``; ImporterUnavailable when it is not written yet."""
    if kind not in IMPORTER_CLASSES:
        raise ImporterUnavailable(f"Unknown import kind '{kind}'; expected one of {', '.join(IMPORTER_CLASSES)}.")
    path = IMPORTER_CLASSES[kind]
    if path is None:
        label = ImportRun.Kind(kind).label
        raise ImporterUnavailable(f"The {label} importer is not available yet.")
    return import_string(path)


def run_phase(*, run_id: int, phase: str, echo: Echo | None = None) -> ImportRun:
    """Run the ``"preview"`` or ``"commit"`` phase of a run; record the outcome on the run.

    Never raises for bad input: problems become issues, unexpected errors make the run
    ``failed`` with the error text (and are logged).
    """
    run = ImportRun.objects.select_related("actor", "scope_site").get(pk=run_id)
    expected = ImportRun.Status.UPLOADED if phase == "preview" else ImportRun.Status.APPLYING
    if run.status != expected and not (phase == "preview" and run.status == ImportRun.Status.VALIDATING):
        log.warning("import %s: %s asked in status %s; ignored", run.pk, phase, run.status)
        return run
    progress = Progress(run, echo=echo)
    report = Report(run, hold=phase == "commit" and run.mode == ImportRun.Mode.ALL_OR_NOTHING)
    now = timezone.now()
    if phase == "preview":
        run.status = ImportRun.Status.VALIDATING
        run.started_at = now
    run.heartbeat_at = now
    run.save(update_fields=["status", "started_at", "heartbeat_at"])
    try:
        cls = importer_class(run.kind)
        importer = cls(run=run, report=report, progress=progress)
        if phase == "preview":
            _preview(run, importer, report)
        else:
            _commit(run, importer, report)
    except ImporterUnavailable as exc:
        _finish(run, report, status=ImportRun.Status.REJECTED, error=str(exc), phase=PHASE_NOT_IMPORTABLE)
    except Exception as exc:
        log.exception("import %s failed during %s", run.pk, phase)
        with contextlib.suppress(Exception):
            report.flush()
        _finish(
            run,
            report,
            status=ImportRun.Status.FAILED,
            error=f"{type(exc).__name__}: {exc}"[:2000],
            phase=PHASE_ERROR_PREVIEW if phase == "preview" else PHASE_ERROR_COMMIT,
        )
    finally:
        progress.close()
    return run


def _preview(run: ImportRun, importer: Importer, report: Report) -> None:
    ImportIssue.objects.filter(run=run).delete()
    importer.execute(apply=False)
    run.preview = report.counts
    if report.file_errors:
        _finish(
            run,
            report,
            status=ImportRun.Status.REJECTED,
            error="A file could not be imported; see the issues.",
            phase=PHASE_NOT_IMPORTABLE,
        )
    elif run.dry_run and run.mode == ImportRun.Mode.ALL_OR_NOTHING and report.errors:
        _finish(run, report, status=ImportRun.Status.REJECTED, error=_all_or_nothing_text(report), phase=PHASE_DRY_RUN)
    else:
        _finish(
            run,
            report,
            status=ImportRun.Status.PREVIEWED,
            final=run.dry_run,
            phase=PHASE_DRY_RUN if run.dry_run else PHASE_PREVIEWED,
        )


def _commit(run: ImportRun, importer: Importer, report: Report) -> None:
    all_or_nothing = run.mode == ImportRun.Mode.ALL_OR_NOTHING
    if not all_or_nothing:
        ImportIssue.objects.filter(run=run).delete()  # the commit's own issues replace the preview's
    try:
        if all_or_nothing:
            with transaction.atomic():
                importer.execute(apply=True)
                if report.errors:
                    raise AllOrNothingAborted()
        else:
            importer.execute(apply=True)
    except AllOrNothingAborted:
        report.flush_held()
        run.counts = {}
        _finish(
            run,
            report,
            status=ImportRun.Status.REJECTED,
            error=_commit_rejected_text(report),
            phase=PHASE_COMMIT_STOPPED,
        )
        return
    except FileError as exc:
        report.flush_held()
        run.counts = {} if all_or_nothing else report.counts
        _finish(
            run,
            report,
            status=ImportRun.Status.FAILED,
            error=commit_stopped_text(exc, all_or_nothing=all_or_nothing),
            phase=PHASE_COMMIT_STOPPED,
        )
        return
    run.counts = report.counts
    _finish(run, report, status=ImportRun.Status.DONE, phase=PHASE_DONE)


#: How every read failure's reason starts (``_read_guard``, ``_rows`` and the importers' own).
READ_FAILURE = "cannot be read"


def commit_stopped_text(exc: FileError, *, all_or_nothing: bool) -> str:
    """The run's error when a file error stopped its commit: what stopped it, and what stays
    applied. "Could not be read" only when the file could not be read."""
    applied = "Nothing was imported." if all_or_nothing else "Nothing more was applied."
    where = exc.file or "the upload"
    if exc.reason.startswith(READ_FAILURE):
        return f"{where} could not be read while committing ({exc.reason}). {applied}"
    reason = exc.reason.rstrip()
    if not reason.endswith("."):
        reason += "."
    return f"The commit was stopped: {where}: {reason} {applied}"


def _commit_rejected_text(report: Report) -> str:
    """An all-or-nothing commit that found row errors its preview did not have."""
    return (
        f"Nothing was imported: the commit found {report.errors} row error(s) that the preview did not have "
        "(the data changed since the preview; see the issues), and this import is all-or-nothing. "
        "Import the file again to preview it anew."
    )


def _all_or_nothing_text(report: Report) -> str:
    return (
        f"Nothing was imported: {report.errors} row error(s), and this import is all-or-nothing. "
        "Fix the rows, or import again choosing to apply the valid rows."
    )


#: The run's ``phase`` once a phase is over (shown beside its status on the run page).
PHASE_PREVIEWED = "Preview ready"
PHASE_DRY_RUN = "Dry run finished: nothing was changed"
PHASE_NOT_IMPORTABLE = "Checked: the file cannot be imported"
PHASE_DONE = "Finished"
PHASE_COMMIT_STOPPED = "Commit stopped"
PHASE_ERROR_PREVIEW = "Stopped by an error while checking"
PHASE_ERROR_COMMIT = "Stopped by an error while committing"


def _finish(
    run: ImportRun, report: Report, *, status: str, error: str = "", final: bool = True, phase: str = ""
) -> None:
    """Record the outcome and ``phase``, what the run page shows beside the status (the last
    step's progress text would say "Waiting to start" or "… — applying" on a stopped run).
    Progress counts are written only when the phase completed (they are kept up to date in
    the database by :class:`Progress`, not on ``run``)."""
    fields = ["status", "error", "notes", "error_count", "warning_count", "heartbeat_at", "preview", "counts", "mode"]
    if phase:
        run.phase = phase
        fields.append("phase")
    run.status = status
    run.error = error
    run.notes = report.notes
    if report.truncated > 0:
        run.notes = [*run.notes, f"{report.truncated} more issues were counted but not stored."]
    if not (report.hold and status == ImportRun.Status.DONE):
        run.error_count = report.errors
        run.warning_count = report.warnings
    now = timezone.now()
    run.heartbeat_at = now
    if final or status in ImportRun.FINAL:
        run.finished_at = now
        fields.append("finished_at")
    if status in (ImportRun.Status.DONE, ImportRun.Status.PREVIEWED):
        run.progress_done = run.progress_total = max(report.rows_seen, 1)
        fields += ["progress_done", "progress_total"]
    run.save(update_fields=fields)


def path_is_inside(path: Path, root: Path) -> bool:
    """True when ``path`` is ``root`` or inside it (no escaping with ..)."""
    try:
        path.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return True
