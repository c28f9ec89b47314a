"""Google Admin ChromeOS devices → devices, models and last-seen facts, set-based on PostgreSQL.

The Python path (``google.GoogleDeviceStep``) reads the file row by row twice a phase (key
pre-scan, then parse) and plans and writes a thousand rows a batch. On PostgreSQL, with
``settings.IMPORTS_SET_BASED`` (default on) and without the ``create_checkouts`` option,
:class:`SetBasedGoogleStep` replaces it and gives the same devices, models, last-seen facts,
events, counts, notes and issues (the same issues, ordered by line: duplicate serial numbers
first, then each line's warning, its parse errors, its planning error or warning):

1. **Stage** (each phase): the file goes into an UNLOGGED table through
   :class:`imports.staging.StagedFile` (COPY as it is when it is clean UTF-8 CSV, else
   through ``imports.reading``).
2. **Distinct values, judged in Python** (one ``GROUPING SETS`` scan): org unit paths
   (``GoogleImporter.site_of`` and ``require_site``), model names (``inventory.models_catalog.split_model``,
   ``ModelCatalog``), AUE values (``parse_aue``), and the few ``lastSync`` values, serials
   and asset ids that a strict SQL pattern cannot vouch for (``parse_datetime``,
   ``parse_identifier``). The answers go back as small temporary tables.
3. **Parse** (``CREATE TABLE … AS SELECT``): every row with its values, its parse problems
   (in the order ``GoogleDeviceStep.parse_device`` finds them), repeated serial numbers and
   asset ids (every line listed).
4. **Plan**: the parsed rows against ``inventory_device`` (match on serial number ignoring
   case, narrowed by maker; else on a live device's asset tag), scope, tag clashes, transfers
   (not of retired or checked-out devices), and ``inventory_devicelastseen``.
5. **Apply** (commit only): models (Python, a few), ``INSERT … SELECT`` of new devices with
   ids taken from the table's sequence, ``UPDATE … FROM``, the events (``created``,
   ``updated``, ``transferred``: source import, the run's id and actor, one timestamp) and the
   last-seen facts, in one transaction; rows with errors are left out (valid rows) or nothing
   is applied (all or nothing).
6. **Issues**: counted in SQL; the first ``MAX_STORED_ISSUES`` are worded in Python with the
   Python path's messages.

The ``create_checkouts`` option (people matched by email, ``device_check_out`` per device)
stays on the Python path. Within one file the set-based path also refuses a new device
whose serial number (used as its asset tag) is another row's asset id; the Python path
leaves that to the database's unique index.

Where things are: phases 1–3 (and the column names and issue codes) in
``imports.google_sql_parse``, phase 4 in ``imports.google_sql_plan``, the counts and issues in
``imports.google_sql_issues``; the run, the apply and the clean-up here.
"""

from __future__ import annotations

import contextlib
import logging

from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from imports.google import GoogleImporter
from imports.google_sql_issues import Issues
from imports.google_sql_parse import (
    USED,
    StageAndParse,
)
from imports.google_sql_plan import Plan
from imports.models import ImportRun
from imports.pipeline import (
    CREATED,
    UPDATED,
    AllOrNothingAborted,
)
from imports.reading import Table
from imports.staging import (
    _Sql,
    drop_stale_stages,
    set_based_enabled,
)
from inventory import bulk as inventory_bulk
from inventory.events import actor_label

log = logging.getLogger(__name__)

# The plan's outcomes are the ones inventory.bulk.staged_devices_apply writes.
assert (CREATED, UPDATED) == (inventory_bulk.CREATED, inventory_bulk.UPDATED)


def set_based_google_enabled(importer: GoogleImporter) -> bool:
    """True when this Google import takes the set-based path: PostgreSQL, ``IMPORTS_SET_BASED``
    on, no check-outs to create (those stay row by row) and a CSV upload (an XLSX sheet keeps
    the row-by-row path, which knows the cells Excel stored as numbers: identifiers that may
    have lost digits)."""
    if not set_based_enabled() or importer.create_checkouts:
        return False
    try:
        with importer.run.source_path.open("rb") as handle:
            return not handle.read(4).startswith(b"PK\x03\x04")
    except OSError:
        return True  # the step reports the file error


class SetBasedGoogleStep(StageAndParse, Plan, Issues):
    """The device list, set-based (PostgreSQL). See the module docstring; the importer calls
    :meth:`run` instead of the pipeline's streaming passes."""

    staged_names = USED
    staged_key = "serialNumber"

    def _run(self, table: Table, label: str) -> None:
        importer, report = self.importer, self.report
        drop_stale_stages(keep=importer.run.pk)
        self._drop_work_tables()
        rows = self._stage(table, label)
        report.rows_seen += rows
        self.progress.start(f"{label} — {'applying' if importer.applying else 'checking'}", rows)
        self._answers()
        self._parse()
        self._plan()
        self._count()
        all_or_nothing = importer.applying and importer.run.mode == ImportRun.Mode.ALL_OR_NOTHING
        if all_or_nothing and self.error_count:
            self._store_issues()
            raise AllOrNothingAborted()
        if importer.applying:
            with transaction.atomic():
                self._apply()
        self._store_issues()
        self.progress.done = rows
        self.progress.save(force=True)
        for _change in self.finish():  # the note on tags taken from serial numbers
            pass
        if importer.applying or importer.run.dry_run or report.file_errors:
            self.sql.run(f"DROP TABLE IF EXISTS {self._t('trim')}")  # no commit will read it

    # -- 5. apply --------------------------------------------------------------------------------

    def _apply(self) -> None:
        """Models, devices, events and last-seen facts of the planned rows (in the caller's
        transaction), written by ``inventory.bulk``."""

        sql, t, run = self.sql, self._t, self.importer.run
        plan = t("plan")
        now = timezone.now()
        created_models = t("newmodels")
        if self.new_models:
            made = inventory_bulk.device_models_write(
                models=[{"manufacturer": maker, "name": name, "model_number": "", "category": category,
                         "auto_update_expiration": aue} for _key, maker, name, category, aue in self.new_models],
            )  # fmt: skip
            sql.load(
                created_models,
                "key text PRIMARY KEY, model_id integer, maker_id integer",
                ((key, *made[tuple(key.split("\x1f"))]) for key, *_rest in self.new_models),
            )
            sql.run(
                f"UPDATE {plan} p SET model_pk = c.model_id, maker_pk = c.maker_id FROM {created_models} c "
                f"WHERE p.model_pk IS NULL AND p.model_key = c.key AND p.outcome = '{CREATED}'"
            )
        inventory_bulk.staged_devices_apply(
            sql,
            plan=plan,
            newids=t("newids"),
            mark=inventory_bulk.ImportMark(
                run_id=run.pk, actor_id=run.actor_id, actor_label=run.actor_label or actor_label(run.actor)
            ),
            has_last_seen=self.has_last_seen,
            now=now,
        )

    # -- clean-up ----------------------------------------------------------------------------

    def _drop_work_tables(self) -> None:
        """Drop this phase's tables (``…_trim`` stays for the commit). Nothing when the
        transaction is already broken (the rollback drops what it made)."""
        sql = getattr(self, "sql", None)
        if sql is None or connection.needs_rollback:
            return
        with contextlib.suppress(DatabaseError):
            self._drop_tables(sql)

    @staticmethod
    def _drop_tables(sql: _Sql) -> None:
        names = ("raw", "rows", "dups", "tagdups", "serial", "match", "plan", "issues", "newmodels", "newids")
        sql.run(f"DROP TABLE IF EXISTS {', '.join(sql.table(n) for n in names)} CASCADE")
        temporary = (
            "ou",
            "model",
            "aue",
            "sync",
            "ident",
            "dupkeys",
            "tagdupkeys",
            "wanted",
            "live",
            "filetags",
            "open",
        )
        sql.run(f"DROP TABLE IF EXISTS {', '.join(sql.table(n) for n in temporary)}")
