"""The import pipeline: the :class:`Importer` base class and the streaming machinery.

How an import runs
==================

``imports.services`` creates an :class:`~imports.models.ImportRun` for an upload and starts a
job (``imports.tasks``); the job calls :func:`run_phase` with ``"preview"`` and, after the user
commits, with ``"commit"``. Both phases run the same code, :meth:`Importer.execute`; only the
preview never writes (except the run's issues and counts)::

    for each Step of the importer:                    (e.g. orgs.csv → sites, users.csv → people)
        open the table                                imports.reading: streaming, any encoding
        bind columns by name (aliases)                missing required column → file error
        pre-scan the keys                             key → first line; duplicates → an error
                                                      on every line involved
        stream the rows, in batches of batch_size:
            parse(row) → record                       RowError → an issue; the row is rejected
            plan(batch) → [Change]                    compare with the database (one query per batch)
            commit phase only: write(changes)         bulk_create / bulk_update, one transaction per batch
        finish()                                      e.g. deactivate what a bulk file no longer has

Memory does not grow with the file: rows are read one at a time, a batch at a time is
held, and the only whole-file structure is the key index (``dict`` key → first line), which
is what duplicate detection and bulk deactivation need.

All or nothing
--------------
In ``all_or_nothing`` mode the commit phase runs in one transaction and is refused when the
preview found any row error (or when the commit finds one: the data changed meanwhile).
In ``valid_rows`` mode each batch is its own transaction and rejected rows are reported.
A file-level error (unreadable file, missing column, forbidden import) refuses the commit in
both modes: a half-read bulk file must never deactivate anybody.

Writing an importer
===================

Subclass :class:`Importer` (see ``imports/oneroster.py`` for a complete one, and
``imports/README.md``)::

    class GoogleImporter(Importer):
        kind = "google"
        entities = (("devices", "Devices"),)

        def steps(self):
            return [GoogleDeviceStep(self)]

    class GoogleDeviceStep(Step):
        entity = "devices"
        key_label = "serialNumber"
        columns = (Column("serialNumber", ("Serial Number", "serial"), required=True), …)

        def open(self):  return self.importer.open_single_table()
        def row_key(self, row):  return self.cell_identifier(row, "serialNumber", required=True)
        def parse(self, row):  … return a record or raise RowError(column, value, reason)
        def plan(self, items):  … return [Change(...)] (one query for the batch)
        def write(self, changes):  … bulk writes + DeviceEvents (imports.events helper)

and add it to :data:`IMPORTER_CLASSES`. Rules an importer must keep:

* reference data (sites, models) is created only in ``write()`` from rows that parsed;
* every change to a device's custody, status or site writes a ``DeviceEvent`` with
  ``source="import"`` and ``import_run_id=self.importer.run.pk`` in the same transaction;
* site-scoped runs: call :meth:`Importer.require_site` for every row's site;
* values through ``imports.values`` (identifiers stay strings, money is Decimal, dates never guessed).

The code is in parts, by concern; every name stays importable from here:
``imports.pipeline_base`` (importer kinds and options, outcomes, errors, items and changes,
columns, the key index), ``imports.pipeline_report`` (report and progress),
``imports.pipeline_steps`` (:class:`Step`), ``imports.pipeline_importer`` (:class:`Importer`)
and ``imports.pipeline_phases`` (:func:`run_phase`).
"""

from __future__ import annotations

from imports.pipeline_base import (  # noqa: F401
    BOOLEAN_WORDS,
    CREATED,
    DEACTIVATED,
    IMPORTER_CLASSES,
    MAX_ISSUE_VALUE,
    MAX_STORED_ISSUES,
    OPTIONS_WITHOUT_DEFAULT,
    REACTIVATED,
    REJECTED,
    REMOVED,
    SKIPPED,
    UNCHANGED,
    UPDATED,
    WRITE_OUTCOMES,
    AllOrNothingAborted,
    BoundColumns,
    Change,
    Column,
    FileError,
    ImporterUnavailable,
    ImportRefused,
    Item,
    KeyIndex,
    Problem,
    RowError,
    SkipRow,
)
from imports.pipeline_importer import (  # noqa: F401
    _READ_ERRORS,
    Importer,
    _read_guard,
    _rows,
    check_may_import,
    chunks,
)
from imports.pipeline_phases import (  # noqa: F401
    PHASE_COMMIT_STOPPED,
    PHASE_DONE,
    PHASE_DRY_RUN,
    PHASE_ERROR_COMMIT,
    PHASE_ERROR_PREVIEW,
    PHASE_NOT_IMPORTABLE,
    PHASE_PREVIEWED,
    READ_FAILURE,
    _all_or_nothing_text,
    _commit,
    _commit_rejected_text,
    _finish,
    _preview,
    commit_stopped_text,
    importer_class,
    path_is_inside,
    run_phase,
)
from imports.pipeline_report import (  # noqa: F401
    Echo,
    Progress,
    Report,
)
from imports.pipeline_steps import (  # noqa: F401
    Step,
)
