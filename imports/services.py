"""Writes of the imports app.

* Runs: :func:`import_run_create` (store the upload, check who may import it),
  :func:`import_run_commit`, :func:`import_run_cancel`. The work itself happens in a job
  (``imports.tasks``) that runs ``imports.pipeline.run_phase``.
* Settings importers use: :func:`org_unit_mapping_save` / :func:`org_unit_mapping_delete`,
  :func:`column_mapping_remember`.
* Bulk writes: importers hand people, guardian contacts and sites to ``people.bulk`` and
  ``sites.bulk``. Device importers write through ``inventory.bulk`` (devices,
  models, last-seen facts and their events, in the same transaction) and
  ``custody.services`` (check-outs).
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.text import get_valid_filename

from core.errors import DomainError, WrongStateError
from core.scoping import scope_for
from core.types import Actor, acting_user
from imports.models import ColumnMapping, ImportRun, LocationMapping, OrgUnitMapping
from imports.pipeline import importer_class
from inventory.events import actor_label
from sites.models import Site

#: Largest upload accepted (bytes); ``settings.IMPORTS_MAX_UPLOAD_BYTES`` overrides.
DEFAULT_MAX_UPLOAD_BYTES = 4 * 1024**3
#: Rows per INSERT/UPDATE statement in the bulk writes.
WRITE_BATCH = 500


def _max_upload() -> int:
    return int(getattr(settings, "IMPORTS_MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD_BYTES))


def upload_dir(run: ImportRun) -> Path:
    """Where a run's upload is kept: ``MEDIA_ROOT/imports/<run id>/``."""
    return Path(settings.MEDIA_ROOT) / "imports" / str(run.pk)


def import_run_create(
    *,
    actor: Actor | None,
    kind: str,
    mode: str = ImportRun.Mode.ALL_OR_NOTHING,
    options: dict[str, Any] | None = None,
    scope_site: Site | None = None,
    upload: UploadedFile | None = None,
    path: Path | None = None,
    dry_run: bool = False,
) -> ImportRun:
    """Create a run for an uploaded file (web) or a file or folder on disk (command line).

    The upload is stored under ``MEDIA_ROOT/imports/<run id>/``; a path is used where it is.
    ``actor=None`` is the system (the command line without ``--actor``), which may import anything.

    Raises:
        ImporterUnavailable: the importer for ``kind`` is not written yet (a DomainError).
        ImportRefused: ``actor`` may not run this import (e.g. people, for a site technician).
        DomainError: bad mode, an option the importer does not read (or a yes/no option that
            is neither), no file, a file too large.
    """
    cls = importer_class(kind)
    if mode not in ImportRun.Mode.values:
        raise DomainError(f"Unknown mode '{mode}'; expected all_or_nothing or valid_rows.", field="mode")
    if actor is not None:
        cls.check_allowed(scope=scope_for(actor), scope_site_id=scope_site.pk if scope_site else None)
    options = cls.clean_options(options)
    if (upload is None) == (path is None):
        raise DomainError("Give one file to import.", field="file")
    if upload is not None and upload.size is not None and upload.size > _max_upload():
        raise DomainError(f"The file is larger than {_max_upload() // 1024**2} MB.", field="file")
    run = ImportRun(
        kind=kind,
        actor=acting_user(actor),
        actor_label=actor_label(actor),
        mode=mode,
        options={**cls.default_options, **options},
        scope_site=scope_site,
        dry_run=dry_run,
    )
    if path is not None:
        path = Path(path).resolve()
        if not path.exists():
            raise DomainError(f"{path} does not exist.", field="file")
        run.file_name = path.name[:255]
        run.stored_path = str(path)
        run.file_size = path.stat().st_size if path.is_file() else 0
        run.save()
        return run
    assert upload is not None
    run.file_name = (upload.name or "upload")[:255]
    with transaction.atomic():
        run.save()
        folder = upload_dir(run)
        name = get_valid_filename(Path(run.file_name).name)[:120] or "upload"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            size = 0
            with open(folder / name, "wb") as out:
                for chunk in upload.chunks():
                    size += len(chunk)
                    if size > _max_upload():
                        raise DomainError(f"The file is larger than {_max_upload() // 1024**2} MB.", field="file")
                    out.write(chunk)
        except (OSError, DomainError) as exc:
            shutil.rmtree(folder, ignore_errors=True)
            if isinstance(exc, DomainError):
                raise
            raise DomainError(f"The upload could not be stored ({exc.strerror or exc}).", field="file") from exc
        run.stored_path = str(Path("imports") / str(run.pk) / name)
        run.file_size = size
        run.save(update_fields=["stored_path", "file_size"])
    return run


def import_run_start(*, run: ImportRun, phase: str, inline: bool | None = None) -> Any:
    """Start the job for ``phase`` ("preview" or "commit"). See :func:`imports.tasks.import_job_start`."""
    from imports.tasks import import_job_start

    return import_job_start(run=run, phase=phase, inline=inline)


@transaction.atomic
def import_run_commit(
    *, run: ImportRun, actor: Actor | None, mode: str | None = None, confirm_deactivation: bool = False
) -> ImportRun:
    """Accept a previewed run: it becomes ``applying`` and its job is to be started by the caller
    (:func:`import_run_start` with ``phase="commit"``).

    ``mode`` may switch all-or-nothing to valid-rows (or back) at this point.
    ``confirm_deactivation``: the admin confirmed, for this run, that a bulk file may make the
    people and schools it does not list inactive (needed when the preview's deactivation guard
    asks for it: over 20% of the active people, or a school with active people or devices; the
    command line gives ``--option confirm_deactivation=yes`` instead).

    Raises:
        WrongStateError: the run is not waiting for a commit (already committed, a dry run…).
        DomainError: all-or-nothing while rows have errors.
        ImportRefused: ``actor`` may no longer run this import.
    """
    run = ImportRun.objects.select_for_update().get(pk=run.pk)
    if run.dry_run:
        raise WrongStateError(
            "This import was a dry run (preview only): it cannot be committed. "
            "Import the file again without --dry-run to apply it."
        )
    if run.status != ImportRun.Status.PREVIEWED:
        raise WrongStateError(f"This import is {run.state_text}; there is nothing to commit.")
    if actor is not None:
        importer_class(run.kind).check_allowed(scope=scope_for(actor), scope_site_id=run.scope_site_id)
    if mode is not None:
        if mode not in ImportRun.Mode.values:
            raise DomainError(f"Unknown mode '{mode}'.", field="mode")
        run.mode = mode
    if run.error_count and not run.valid_rows("preview"):
        raise DomainError(
            f"Every row has an error ({run.error_count:,}): there is nothing to apply. "
            "Fix the file and upload it again.",
            field="mode",
        )
    if run.mode == ImportRun.Mode.ALL_OR_NOTHING and run.error_count:
        raise DomainError(
            f"{run.error_count} row error(s): an all-or-nothing import cannot be committed. "
            "Apply the valid rows instead, or fix the file and upload it again.",
            field="mode",
        )
    from imports.oneroster import deactivation_confirmed

    if confirm_deactivation and "confirm_deactivation" in importer_class(run.kind).option_names():
        run.options = {**(run.options or {}), "confirm_deactivation": "yes"}
    guard = run.deactivation_guard()
    if guard.get("needs_confirmation") and not deactivation_confirmed(run.options):
        raise DomainError(
            f"This bulk file would make {guard.get('people', 0):,} people and {guard.get('sites', 0)} school(s) "
            "that it does not list inactive. Tick the confirmation to commit it "
            "(command line: --option confirm_deactivation=yes).",
            field="confirm_deactivation",
        )
    run.status = ImportRun.Status.APPLYING
    run.phase = "Waiting to start"
    run.progress_done = run.progress_total = 0
    run.heartbeat_at = timezone.now()
    run.save(update_fields=["status", "mode", "options", "phase", "progress_done", "progress_total", "heartbeat_at"])
    return run


@transaction.atomic
def import_run_cancel(*, run: ImportRun, actor: Actor | None) -> ImportRun:
    """Drop a previewed run without applying it. WrongStateError in any other state."""
    run = ImportRun.objects.select_for_update().get(pk=run.pk)
    if run.status != ImportRun.Status.PREVIEWED or run.dry_run:
        raise WrongStateError(f"This import is {run.state_text}; it cannot be cancelled now.")
    run.status = ImportRun.Status.CANCELLED
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "finished_at"])
    return run


# --------------------------------------------------------------------------- settings importers use


def org_unit_path_clean(value: str) -> str:
    """``"students/lincoln/ "`` → ``"/students/lincoln"``; ``"/"`` stays ``"/"``."""
    path = "/" + "/".join(part.strip() for part in value.strip().split("/") if part.strip())
    return path


@transaction.atomic
def org_unit_mapping_save(*, actor: Actor | None, path_prefix: str, site: Site) -> OrgUnitMapping:
    """Map a Google org unit path prefix to a site (replacing an existing mapping of that prefix)."""
    prefix = org_unit_path_clean(path_prefix)
    if len(prefix) > 255:
        raise DomainError("The org unit path must have at most 255 characters.", field="path_prefix")
    if not site.active:
        raise DomainError(f"{site.name} is inactive.", field="site")
    mapping, _ = OrgUnitMapping.objects.update_or_create(
        path_prefix=prefix, defaults={"site": site, "updated_by_label": actor_label(actor)}
    )
    return mapping


@transaction.atomic
def org_unit_mapping_delete(*, actor: Actor | None, mapping: OrgUnitMapping) -> None:
    """Forget one org unit mapping."""
    OrgUnitMapping.objects.filter(pk=mapping.pk).delete()


@transaction.atomic
def location_mapping_save(*, actor: Actor | None, name: str, site: Site) -> LocationMapping:
    """Map a Snipe-IT location name to a site, replacing an existing mapping of that name
    (matched ignoring case and spaces); logged in the change log with the site (before → after).
    Raises DomainError (field ``name`` or ``site``) for a blank or too long name, an inactive site."""
    from core.changelog import change_log_record
    from core.models import ChangeLog

    shown = " ".join(name.split())
    if not shown:
        raise DomainError("Give the location's name as Snipe-IT writes it.", field="name")
    if len(shown) > 255:
        raise DomainError("The location name must have at most 255 characters.", field="name")
    if not site.active:
        raise DomainError(f"{site.name} is inactive.", field="site")
    key = LocationMapping.key_of(shown)
    old = LocationMapping.objects.select_for_update().select_related("site").filter(name_key=key).first()
    before = {"site": old.site.code} if old is not None else {}
    mapping, _ = LocationMapping.objects.update_or_create(
        name_key=key, defaults={"name": shown, "site": site, "updated_by_label": actor_label(actor)}
    )
    if old is None or old.site_id != site.pk:
        change_log_record(
            actor=actor, source=ChangeLog.Source.WEB, obj=mapping, site_id=site.pk,
            action=ChangeLog.Action.CREATED if old is None else ChangeLog.Action.CHANGED,
            before=before, after={"name": shown, "site": site.code},
        )  # fmt: skip
    return mapping


@transaction.atomic
def location_mapping_delete(*, actor: Actor | None, mapping: LocationMapping) -> None:
    """Forget one Snipe-IT location mapping; logged."""
    from core.changelog import change_log_record
    from core.models import ChangeLog

    change_log_record(
        actor=actor, source=ChangeLog.Source.WEB, obj=mapping, site_id=mapping.site_id,
        action=ChangeLog.Action.DELETED, before={"name": mapping.name, "site": mapping.site.code}, after={},
    )  # fmt: skip
    LocationMapping.objects.filter(pk=mapping.pk).delete()


#: The rule of :func:`may_remember_column_mapping` in words, for refusals and the mapping page's help.
REMEMBER_RULE = (
    "Only district-wide staff can remember a column mapping for a source "
    "(it is used for everyone's next file from that source)."
)


def may_remember_column_mapping(actor: Actor | None) -> bool:
    """True when ``actor`` may remember a column mapping for a source (``ColumnMapping`` is
    district-wide reference data, used for every later upload from that source by anyone):
    district-wide staff who may change everywhere (``Scope.allows_everywhere("change")``) and
    the system (``None``). Site staff map the columns of their own import for that run only.
    Words: :data:`REMEMBER_RULE`."""
    from core.scoping import CHANGE

    return actor is None or scope_for(actor).allows_everywhere(CHANGE)


@transaction.atomic
def column_mapping_remember(
    *, actor: Actor | None, kind: str, source_name: str, mapping: dict[str, str]
) -> ColumnMapping:
    """Remember how ``source_name``'s columns map to our fields (``{"asset_tag": "Tag #", …}``).
    A field mapped to ``""`` ("not in this file") is remembered too: the next file from that
    source leaves it out instead of finding it by the aliases."""
    name = source_name.strip()
    if not name or len(name) > 120:
        raise DomainError("Name the source in 1 to 120 characters.", field="source_name")
    clean = {str(k): str(v or "") for k, v in mapping.items()}
    remembered, _ = ColumnMapping.objects.update_or_create(
        kind=kind, source_name=name, defaults={"mapping": clean, "updated_by_label": actor_label(actor)}
    )
    return remembered


# --------------------------------------------------------------------------- bulk writes


# People, guardian contacts, sites and the district's name: ``people.bulk`` and ``sites.bulk``
# (issue #7: each app writes its own tables).


@transaction.atomic
def import_run_refuse(*, run: ImportRun, reason: str) -> ImportRun:
    """Mark a previewed run rejected without applying it (e.g. the command line's
    all-or-nothing run with row errors)."""
    run = ImportRun.objects.select_for_update().get(pk=run.pk)
    if run.status != ImportRun.Status.PREVIEWED:
        raise WrongStateError(f"This import is {run.get_status_display().lower()}.")
    run.status = ImportRun.Status.REJECTED
    run.error = reason
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "error", "finished_at"])
    return run


@transaction.atomic
def import_run_remap(
    *,
    run: ImportRun,
    actor: Actor | None,
    entity: str,
    mapping: dict[str, str],
    source_name: str = "",
    remember: bool = False,
) -> ImportRun:
    """Give a CSV/XLSX run (previewed or rejected, never applied) its column mapping
    (``{"asset_tag": "Tag #", "notes": ""}``; ``""``: not in the file) and what its rows are
    (``devices``/``people``); the run goes back to ``uploaded`` and the caller starts its
    preview again (:func:`import_run_start`). With ``remember`` the mapping is saved under
    ``source_name`` for the next upload from that source (district-wide staff only).

    Raises WrongStateError when the run cannot be re-read, ImportRefused when ``actor`` may
    not run it, DomainError for a bad entity or a mapping that may not be remembered.
    """
    run = ImportRun.objects.select_for_update().get(pk=run.pk)
    if run.kind != ImportRun.Kind.CSV:
        raise DomainError("Only CSV/XLSX imports have a column mapping.")
    if run.dry_run or run.status not in (ImportRun.Status.PREVIEWED, ImportRun.Status.REJECTED) or run.counts:
        raise WrongStateError(f"This import is {run.state_text}; its columns can no longer be mapped.")
    if entity not in ("devices", "people"):
        raise DomainError("Choose whether the rows are devices or people.", field="entity")
    if actor is not None:
        scope = scope_for(actor)
        importer_class(run.kind).check_allowed(scope=scope, scope_site_id=run.scope_site_id)
        if remember and not may_remember_column_mapping(actor):
            raise DomainError(REMEMBER_RULE, field="remember")
    source = source_name.strip()
    if remember:
        column_mapping_remember(actor=actor, kind=entity, source_name=source, mapping=mapping)
    options = {**run.options, "entity": entity, "mapping": {str(k): str(v) for k, v in mapping.items()}}
    if source:
        options["source"] = source
    run.options = options
    run.status = ImportRun.Status.UPLOADED
    run.preview = {}
    run.error = ""
    run.notes = []
    run.error_count = run.warning_count = 0
    run.finished_at = None
    run.phase = "Waiting to start"
    run.progress_done = run.progress_total = 0
    run.heartbeat_at = timezone.now()
    run.save()
    return run


def import_statistics_refresh(*, models_: Sequence[type[models.Model]]) -> None:
    """``ANALYZE`` the tables of ``models_`` (PostgreSQL; nothing on SQLite).

    Device importers look rows up by ``lower(serial_number)`` / ``lower(asset_tag)``
    (expression indexes). On a table filled inside the import's own transaction the planner
    has no statistics for those expressions and picks a sequential scan for every batch —
    quadratic at a million rows. ANALYZE may run inside a transaction; its statistics are
    seen by that transaction (and rolled back with it)."""
    if connection.vendor != "postgresql":
        return
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for model in models_:
            cursor.execute(f"ANALYZE {quote(model._meta.db_table)}")
