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
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
from typing import Any

import psycopg
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from core.scoping import VIEW
from imports.device_rows import ModelRef, lines_text
from imports.google import GoogleDeviceStep, GoogleImporter, parse_aue
from imports.messages import Msg, say
from imports.models import ImportIssue, ImportRun
from imports.oneroster_sql import MAYBE_SCIENTIFIC
from imports.pipeline import (
    CREATED,
    MAX_ISSUE_VALUE,
    MAX_STORED_ISSUES,
    REJECTED,
    UNCHANGED,
    UPDATED,
    AllOrNothingAborted,
    RowError,
)
from imports.reading import _CELL_STRIP, Table
from imports.staging import (
    StagedFile,
    _Sql,
    _trim_sql,
    drop_stale_stages,
    set_based_enabled,
)
from imports.values import parse_datetime, parse_identifier
from inventory import bulk as inventory_bulk
from inventory import rules
from inventory.events import actor_label
from inventory.models import Device, DeviceLastSeen, DeviceModel, Manufacturer
from inventory.models_catalog import model_category, split_model

log = logging.getLogger(__name__)

# The plan's outcomes are the ones inventory.bulk.staged_devices_apply writes.
assert (CREATED, UPDATED) == (inventory_bulk.CREATED, inventory_bulk.UPDATED)

#: Our column names the statements read (the step's columns but the annotated user).
USED = (
    "serialNumber",
    "orgUnitPath",
    "annotatedAssetId",
    "model",
    "recentUsers.0.email",
    "lastSync",
    "osVersion",
    "autoUpdateExpiration",
    "bootMode",
    "status",
    "macAddress",
    "deviceId",
)
ALIAS = dict(
    zip(USED, ("serial", "ou", "tag", "model", "recent", "sync", "osv", "aue", "boot", "gstatus", "mac", "devid"), strict=True)
)  # fmt: skip
#: Python's whitespace (``str.strip()``), for the most recent user.
PY_SPACE = "".join(chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace())
#: A lastSync value this matches is a moment PostgreSQL reads as Python does (day checked apart).
SYNC_OK = (
    r"^[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[T ]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
    r"(\.[0-9]{1,6})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$"
)


def sync_vouched(expr: str) -> str:
    """SQL: true when ``expr`` matches :data:`SYNC_OK` and its day exists in its month."""
    days = (
        f"extract(day FROM make_date(substr({expr}, 1, 4)::int, substr({expr}, 6, 2)::int, 1)"
        " + interval '1 month - 1 day')"
    )
    return f"CASE WHEN {expr} ~ %(sync_ok)s THEN substr({expr}, 9, 2)::int <= {days} ELSE false END"


#: Bumped when the staged table's layout changes (an older preview's table is then reloaded).
STAGE_VERSION = 2

# Issue codes (``code`` of the issues table): parse, then planning.
KEY_PROBLEM, KEY_EMPTY, KEY_LONG, KEY_DUP, TAG_DUP = 1, 2, 3, 4, 5
MAC_WARNING = 10
TAG_PROBLEM, TAG_LONG, OU_EMPTY, OU_PROBLEM, AUE_PROBLEM, MODEL_LONG, SYNC_PROBLEM, DEVID_LONG = range(11, 19)
SERIAL_AMBIGUOUS, TAG_OTHER_DEVICE, OUT_OF_SCOPE, NEW_TAG_LONG, TAG_CLASH, TAG_IN_FILE = range(30, 36)
NO_MODEL, SITE_INACTIVE_NEW, SITE_INACTIVE, RETIRED_WARNING, OUT_WARNING = range(36, 41)
WARNINGS = (MAC_WARNING, RETIRED_WARNING, OUT_WARNING)


def _long(value: str, field: str, model: type[Any] = Device) -> str:
    """The words for a text the SQL found too long (:func:`inventory.rules.length_problem`)."""
    return rules.length_problem(value, field=field, model=model) or ""


def _maybe_scientific(column: str) -> str:
    """SQL: the cell may be Excel's scientific notation (``strpos`` first: the pattern needs
    ``E+``/``E-``)."""
    probes = " OR ".join(f"strpos({column}, '{p}') > 0" for p in ("E+", "E-", "e+", "e-"))
    return f"(({probes}) AND {column} ~ %(sci)s)"


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


class SetBasedGoogleStep(StagedFile, GoogleDeviceStep):
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

    # -- 1. stage ------------------------------------------------------------------------------

    def _fingerprint(self) -> str:
        path = self.importer.run.source_path
        stat = path.stat()
        return f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"

    def _stage(self, table: Table, label: str) -> int:
        """The file's rows, trimmed, in ``…_trim`` (made by the preview, reused by the commit
        while the upload is unchanged); returns the number of rows."""
        sql = self.sql
        trim = self._t("trim")
        fingerprint = self._fingerprint()
        if sql.exists(trim):
            comment = sql.one("SELECT obj_description(%s::regclass, 'pg_class')", [trim])[0]
            try:
                meta = json.loads(comment or "{}")
            except ValueError:
                meta = {}
            if meta.get("version") == STAGE_VERSION and meta.get("fingerprint") == fingerprint:
                return int(meta["rows"])
        sql.run(f"DROP TABLE IF EXISTS {trim}, {self._t('raw')}")
        loaded = self._copy_as_is(table, label)
        if loaded is None:
            loaded = self._copy_through_reader(table, label)
        self.staged_columns, rows = loaded
        self._trim()
        sql.run(f"DROP TABLE {self._t('raw')}")
        meta = {"version": STAGE_VERSION, "fingerprint": fingerprint, "rows": rows}
        literal = psycopg.sql.Literal(json.dumps(meta)).as_string(sql.raw.connection)
        sql.run(f"COMMENT ON TABLE {trim} IS {literal}")
        return rows

    # -- 2. distinct values -----------------------------------------------------------------

    def _t(self, name: str) -> str:
        return self.sql.table(name)

    def _trim(self) -> None:
        """``…_trim``: the staged rows with every used cell stripped as the reader strips cells
        (under its alias) and the facts the later statements test more than once: whether
        ``lastSync`` is a moment SQL may read (``sync_ok``), the normalized MAC address
        (``mac_norm``: ``''`` for blank, NULL when not a MAC address) and whether the serial or
        the asset id may be Excel's scientific notation (``serial_sci``, ``tag_sci``)."""
        cells = []
        for name in USED:
            column = self.staged_columns.get(name)
            cells.append(f"{_trim_sql(column) if column else chr(39) * 2 + '::text'} AS {ALIAS[name]}")
        self.sql.run(
            f"""
            CREATE UNLOGGED TABLE {self._t("trim")} AS
            SELECT q.*,
                   CASE WHEN q.sync = '' THEN NULL ELSE {sync_vouched("q.sync")} END AS sync_ok,
                   {rules.mac_normalize_sql("q.mac", stripped=True)} AS mac_norm,
                   {_maybe_scientific("q.serial")} AS serial_sci, {_maybe_scientific("q.tag")} AS tag_sci
            FROM (SELECT line, {", ".join(cells)} FROM {self._t("raw")} OFFSET 0) q
            """,
            {"c": _CELL_STRIP, "sync_ok": SYNC_OK, "sci": MAYBE_SCIENTIFIC},
        )
        self.sql.run(f"ANALYZE {self._t('trim')} (ou, model, aue, sync_ok, serial_sci, tag_sci)")

    def _answers(self) -> None:
        """The org units, models, AUE values and the doubtful serials, asset ids and lastSync
        values of the file, judged in Python into temporary tables ``…_ou``, ``…_model``,
        ``…_aue``, ``…_sync`` and ``…_ident``."""
        sql = self.sql
        found = sql.rows(
            f"""
            SELECT CASE WHEN GROUPING(ou) = 0 THEN 'ou' WHEN GROUPING(model) = 0 THEN 'model'
                        WHEN GROUPING(aue) = 0 THEN 'aue' WHEN GROUPING(sync_c) = 0 THEN 'sync'
                        ELSE 'ident' END, ou, model, aue, sync_c, coalesce(serial_c, tag_c)
            FROM (SELECT ou, model, aue, CASE WHEN NOT sync_ok THEN sync END AS sync_c,
                         CASE WHEN serial_sci THEN serial END AS serial_c, CASE WHEN tag_sci THEN tag END AS tag_c
                  FROM {self._t("trim")}) x
            GROUP BY GROUPING SETS ((ou), (model), (aue), (sync_c), (serial_c), (tag_c))
            """
        )
        importer = self.importer
        order = importer.options.get("date_order", "MDY")
        catalog = self.model_catalog()
        ous: list[tuple[Any, ...]] = []
        model_rows: list[tuple[Any, ...]] = []
        aues: list[tuple[Any, ...]] = []
        syncs: list[tuple[Any, ...]] = []
        idents: list[tuple[Any, ...]] = []
        for kind, ou, model, aue, sync, ident in found:
            if kind == "ou" and ou is not None:
                site_id, problem = None, None
                if ou:
                    site_id = importer.site_of(ou)
                    if site_id is None:
                        problem = importer.unmapped_reason
                    else:
                        try:
                            importer.require_site(site_id, "", ou)
                        except RowError as exc:
                            problem = exc.problems[0].reason
                ous.append((ou, site_id, problem))
            elif kind == "model" and model:
                if rules.length_problem(model, field="name", model=DeviceModel):
                    model_rows.append((model, True, None, None, None, None, None, None, None, None))
                    continue
                maker, name = split_model(model, catalog.makers)
                maker = maker[: rules.text_limit("name", Manufacturer)]
                ref = catalog.spelled(ModelRef(maker, name, None, model_category(model)))
                resolved = catalog.resolve(ref)
                key = ref.key()
                model_rows.append(
                    (model, False, maker.lower(), ref.manufacturer, ref.name, ref.category,
                     "\x1f".join(key), catalog.labels.get(resolved[0], ref.label) if resolved else ref.label,
                     resolved[0] if resolved else None, resolved[1] if resolved else None)
                )  # fmt: skip
            elif kind == "aue" and aue is not None:
                try:
                    aues.append((aue, parse_aue(aue, order=order), None))
                except ValueError as exc:
                    aues.append((aue, None, str(exc)))
            elif kind == "sync" and sync is not None:
                try:
                    syncs.append((sync, parse_datetime(sync), None))
                except ValueError as exc:
                    syncs.append((sync, None, str(exc)))
            elif kind == "ident" and ident is not None:
                try:
                    parse_identifier(ident)
                except ValueError as exc:
                    idents.append((ident, str(exc)))
        sql.load(self._t("ou"), "raw text PRIMARY KEY, site_id integer, problem text", ous)
        sql.load(
            self._t("model"),
            "raw text PRIMARY KEY, too_long boolean, maker_l text, maker text, name text, category text, "
            "key text, label text, model_id integer, maker_id integer",
            model_rows,
        )
        sql.load(self._t("aue"), "raw text PRIMARY KEY, value date, problem text", aues)
        sql.load(self._t("sync"), "raw text PRIMARY KEY, value timestamptz, problem text", syncs)
        sql.load(self._t("ident"), "raw text PRIMARY KEY, problem text", idents)

    # -- 3. parse ------------------------------------------------------------------------------

    def _parse(self) -> None:
        """``…_rows``: each row's values and its parse state — ``kerr`` (the key's error: Excel
        notation, empty, too long), ``dup`` (repeated serial), ``tagdup`` (repeated asset id),
        ``perr`` (any parse problem) — and ``…_dups`` / ``…_tagdups`` with their lines."""
        sql = self.sql
        rows, t = self._t("rows"), self._t
        trim = t("trim")
        key_ok = (
            f"s.serial <> '' AND NOT {rules.too_long_sql('s.serial', field='serial_number')} "
            f"AND NOT (s.serial_sci AND EXISTS (SELECT 1 FROM {t('ident')} i WHERE i.raw = s.serial))"
        )
        # Repeated serial numbers (rows whose key parsed) and asset ids (every row), without their
        # lines first: grouping a million keys is cheap, gathering a million arrays is not.
        sql.run(
            f"CREATE TEMPORARY TABLE {t('dupkeys')} AS SELECT upper(s.serial) AS key FROM {trim} s "
            f"WHERE {key_ok} GROUP BY 1 HAVING count(*) > 1"
        )
        sql.run(
            f"CREATE TEMPORARY TABLE {t('tagdupkeys')} AS SELECT lower(s.tag) AS tag_l FROM {trim} s "
            f"WHERE s.tag <> '' GROUP BY 1 HAVING count(*) > 1"
        )
        sql.run(f"ANALYZE {t('dupkeys')}")
        sql.run(f"ANALYZE {t('tagdupkeys')}")
        sql.run(
            f"""
            CREATE UNLOGGED TABLE {rows} AS
            SELECT b.*,
                   coalesce(b.kerr = 0 AND NOT b.dup AND NOT b.tagdup
                            AND (b.tag_problem IS NOT NULL OR {rules.too_long_sql("b.tag", field="asset_tag")}
                                 OR b.site_id IS NULL
                                 OR b.ou_problem IS NOT NULL OR b.aue_problem IS NOT NULL OR b.model_long
                                 OR b.sync_problem IS NOT NULL
                                 OR {rules.too_long_sql("b.devid", field="google_device_id")}), false) AS perr
            FROM (
              SELECT s.line, s.serial, s.ou, s.tag, s.model, s.recent, s.sync, s.osv, s.aue, s.boot, s.gstatus,
                     s.mac, s.devid, s.mac_norm, upper(s.serial) AS key,
                     CASE WHEN ks.raw IS NOT NULL THEN {KEY_PROBLEM} WHEN s.serial = '' THEN {KEY_EMPTY}
                          WHEN {rules.too_long_sql("s.serial", field="serial_number")} THEN {KEY_LONG} ELSE 0 END AS kerr,
                     ks.problem AS key_problem, ts.problem AS tag_problem,
                     o.site_id, o.problem AS ou_problem,
                     a.value AS aue_value, a.problem AS aue_problem,
                     coalesce(m.too_long, false) AS model_long, m.maker_l, m.key AS model_key, m.model_id, m.maker_id,
                     CASE WHEN s.sync = '' THEN NULL WHEN s.sync_ok THEN s.sync::timestamptz ELSE y.value END
                       AS sync_value,
                     y.problem AS sync_problem,
                     dk.key IS NOT NULL AS dup,
                     dt.tag_l IS NOT NULL AND ks.raw IS NULL AND s.serial <> ''
                       AND NOT {rules.too_long_sql("s.serial", field="serial_number")}
                       AND dk.key IS NULL AS tagdup
              FROM {trim} s
              LEFT JOIN {t("ident")} ks ON ks.raw = s.serial
              LEFT JOIN {t("ident")} ts ON ts.raw = s.tag
              LEFT JOIN {t("ou")} o ON o.raw = s.ou
              LEFT JOIN {t("aue")} a ON a.raw = s.aue
              LEFT JOIN {t("model")} m ON m.raw = s.model
              LEFT JOIN {t("sync")} y ON y.raw = s.sync
              LEFT JOIN {t("dupkeys")} dk ON dk.key = upper(s.serial) AND {key_ok}
              LEFT JOIN {t("tagdupkeys")} dt ON s.tag <> '' AND dt.tag_l = lower(s.tag)
            ) b
            """
        )
        dups, tagdups = t("dups"), t("tagdups")
        sql.run(
            f"CREATE UNLOGGED TABLE {dups} AS SELECT key, array_agg(line ORDER BY line) AS lines "
            f"FROM {rows} WHERE dup GROUP BY key"
        )
        sql.run(
            f"CREATE UNLOGGED TABLE {tagdups} AS SELECT r.tag_l, array_agg(r.line ORDER BY r.line) AS lines "
            f"FROM (SELECT lower(tag) AS tag_l, line FROM {rows} WHERE tag <> '') r "
            f"JOIN {t('tagdupkeys')} k ON k.tag_l = r.tag_l GROUP BY r.tag_l"
        )
        sql.run(f"CREATE INDEX ON {rows} (line)")
        sql.run(f"ANALYZE {rows}")

    # -- 4. plan -------------------------------------------------------------------------------

    def _plan(self) -> None:
        """``…_plan``: one row per parsed row — the device it matches (or none), its planning
        error or warning, what changes, and the outcomes for devices and last-seen facts."""
        sql, t = self.sql, self._t
        rows, plan = t("rows"), t("plan")
        device = Device._meta.db_table
        site_field = self.device_site_field
        scope_site = self.importer.run.scope_site_id
        ok = "r.kerr = 0 AND NOT r.dup AND NOT r.tagdup AND NOT r.perr"
        # Serial candidates (every device, retired ones too) and the narrowing by maker.
        sql.run(
            f"""
            CREATE UNLOGGED TABLE {t("serial")} AS
            SELECT r.line, count(*) AS n, array_agg(d.id ORDER BY d.id) AS ids,
                   count(*) FILTER (WHERE lower(mk.name) = r.maker_l) AS n_maker,
                   array_agg(d.id ORDER BY d.id) FILTER (WHERE lower(mk.name) = r.maker_l) AS maker_ids
            FROM {rows} r
            JOIN {device} d ON lower(d.serial_number) = lower(r.serial)
            LEFT JOIN inventory_manufacturer mk ON mk.id = d.manufacturer_id
            WHERE {ok}
            GROUP BY r.line
            """
        )
        # Live devices holding a tag this file may give (an asset id, or a serial used as the tag
        # of a new device): at most one a tag (the unique live asset tag index).
        sql.run(
            f"""
            CREATE TEMPORARY TABLE {t("wanted")} AS
            SELECT {rules.tag_key_sql("r.tag")} AS tag_l FROM {rows} r WHERE {ok} AND r.tag <> ''
            UNION SELECT {rules.tag_key_sql("r.serial")} FROM {rows} r WHERE {ok} AND r.tag = ''
            """
        )
        sql.run(f"ANALYZE {t('wanted')}")  # a million distinct tags: hash join, not a million index probes
        sql.run(
            f"""
            CREATE TEMPORARY TABLE {t("live")} AS
            SELECT w.tag_l, d.id, d.serial_number FROM {device} d
            JOIN {t("wanted")} w ON w.tag_l = {rules.tag_key_sql("d.asset_tag")}
            WHERE {rules.is_live_sql("d.status")}
            """
        )
        sql.run(f"ANALYZE {t('serial')}")
        sql.run(f"ANALYZE {t('live')}")
        # Sites made by this run's OneRoster import a moment ago may have no statistics yet.
        sql.run("ANALYZE sites_site")
        # The serial's candidates narrowed by maker, else the live device holding the tag
        # (inventory.rules.narrow_by_maker, tag_of_other_device).
        matched, ambiguous = rules.serial_match_sql(
            n="sc.n", ids="sc.ids", n_maker="sc.n_maker", maker_ids="sc.maker_ids", maker="r.maker_l", otherwise="tg.id"
        )
        other = rules.tag_of_other_device_sql(serial="r.serial", device_serial="tg.serial_number")
        sql.run(
            f"""
            CREATE UNLOGGED TABLE {t("match")} AS
            SELECT r.line,
                   {matched} AS device_id,
                   {ambiguous} AS ambiguous,
                   CASE WHEN sc.n IS NULL AND tg.id IS NOT NULL AND {other} THEN tg.id END AS tag_other
            FROM {rows} r
            LEFT JOIN {t("serial")} sc ON sc.line = r.line
            LEFT JOIN {t("live")} tg ON sc.n IS NULL AND r.tag <> '' AND tg.tag_l = lower(r.tag)
            WHERE {ok}
            """
        )
        # Asset ids of the file that are the serial of an untagged row (its new device's tag).
        sql.run(
            f"""
            CREATE TEMPORARY TABLE {t("filetags")} AS
            SELECT lower(tag) AS tag_l, min(line) AS line FROM {rows}
            WHERE tag <> '' AND lower(tag) IN (SELECT lower(r.serial) FROM {rows} r WHERE {ok} AND r.tag = '')
            GROUP BY 1
            """
        )
        sql.run(
            f"CREATE TEMPORARY TABLE {t('open')} AS SELECT DISTINCT device_id FROM custody_assignment "
            "WHERE checked_in_at IS NULL"
        )
        sql.run(f"ANALYZE {t('match')}")
        sql.run(f"ANALYZE {t('filetags')}")
        sql.run(f"ANALYZE {t('open')}")
        # Why the matched device may not be transferred (inventory.rules): 'retired', 'checked_out' or NULL.
        refusal = rules.transfer_refusal_sql(status="d.status", has_open_assignment="oa.device_id IS NOT NULL")
        retired_refusal, out_refusal = f"'{rules.TransferRefusal.RETIRED}'", f"'{rules.TransferRefusal.CHECKED_OUT}'"
        # What a new device lacks (inventory.rules): every parsed row has a site (its org unit's).
        missing = rules.new_device_missing_sql(has_site="r.site_id IS NOT NULL", has_model="r.model_key IS NOT NULL")
        no_model = f"'{rules.NewDeviceProblem.NO_MODEL}'"

        def seen_limit(field: str) -> int:
            return rules.text_limit(field, DeviceLastSeen)

        sql.run(
            f"""
            CREATE UNLOGGED TABLE {plan} AS
            SELECT b.*,
                   CASE WHEN b.code IS NOT NULL AND b.code NOT IN ({RETIRED_WARNING}, {OUT_WARNING}) THEN '{REJECTED}'
                        WHEN b.device_id IS NULL THEN '{CREATED}'
                        WHEN b.tag_change OR b.serial_change OR b.mac_change OR b.devid_change OR b.transfer
                          THEN '{UPDATED}'
                        ELSE '{UNCHANGED}' END AS outcome,
                   CASE WHEN NOT %(has_last_seen)s THEN NULL
                        WHEN b.code IS NOT NULL AND b.code NOT IN ({RETIRED_WARNING}, {OUT_WARNING}) THEN NULL
                        WHEN b.ls_id IS NULL THEN '{CREATED}'
                        WHEN b.ls_sync IS NOT DISTINCT FROM b.sync_value AND b.ls_user = b.recent_user
                         AND b.ls_os = b.os_version AND b.ls_aue IS NOT DISTINCT FROM b.aue_value
                         AND b.ls_boot = b.boot_mode AND b.ls_status = b.google_status THEN '{UNCHANGED}'
                        ELSE '{UPDATED}' END AS ls_outcome
            FROM (
              SELECT r.line, r.key, r.serial, r.tag, r.site_id, r.model_key, r.model_id AS model_pk,
                     r.maker_id AS maker_pk, r.aue_value, r.mac_norm, r.devid,
                     r.sync_value,
                     left(btrim(split_part(r.recent, ',', 1), %(space)s), {seen_limit("recent_user")}) AS recent_user,
                     left(r.osv, {seen_limit("os_version")}) AS os_version,
                     left(r.boot, {seen_limit("boot_mode")}) AS boot_mode,
                     left(upper(r.gstatus), {seen_limit("google_status")}) AS google_status,
                     m.device_id, m.ambiguous, m.tag_other,
                     d.asset_tag AS old_tag, d.serial_number AS old_serial, d.status AS old_status,
                     d.current_site_id AS old_site, d.{site_field} AS scope_site_of, d.wifi_mac AS old_mac,
                     d.google_device_id AS old_devid, loc.name AS old_location,
                     l.id AS ls_id, l.last_sync AS ls_sync, l.recent_user AS ls_user, l.os_version AS ls_os,
                     l.auto_update_expiration AS ls_aue, l.boot_mode AS ls_boot, l.google_status AS ls_status,
                     coalesce(nullif(r.tag, ''), r.serial) AS new_tag,
                     clash.id AS clash_id, ft.line AS file_tag_line,
                     coalesce(m.device_id IS NOT NULL AND r.tag <> '' AND r.tag <> d.asset_tag, false) AS tag_change,
                     coalesce(m.device_id IS NOT NULL AND lower(r.serial) <> lower(d.serial_number), false)
                       AS serial_change,
                     coalesce(m.device_id IS NOT NULL AND r.mac_norm <> '' AND coalesce(d.wifi_mac, '') <> r.mac_norm
                              AND {rules.mac_normalize_sql("coalesce(d.wifi_mac, '')")} IS DISTINCT FROM r.mac_norm, false)
                       AS mac_change,
                     coalesce(m.device_id IS NOT NULL AND r.devid <> ''
                              AND coalesce(d.google_device_id, '') <> r.devid, false) AS devid_change,
                     coalesce(m.device_id IS NOT NULL AND r.site_id <> d.current_site_id AND {refusal} IS NULL
                              AND ns.active, false) AS transfer,
                     CASE
                       WHEN m.ambiguous IS NOT NULL THEN {SERIAL_AMBIGUOUS}
                       WHEN m.tag_other IS NOT NULL THEN {TAG_OTHER_DEVICE}
                       WHEN m.device_id IS NOT NULL AND %(scope_site)s::int IS NOT NULL
                            AND d.{site_field} IS DISTINCT FROM %(scope_site)s::int THEN {OUT_OF_SCOPE}
                       WHEN m.device_id IS NULL THEN
                         CASE WHEN {rules.too_long_sql("coalesce(nullif(r.tag, ''), r.serial)", field="asset_tag")}
                                THEN {NEW_TAG_LONG}
                              WHEN clash.id IS NOT NULL THEN {TAG_CLASH}
                              WHEN r.tag = '' AND ft.line IS NOT NULL THEN {TAG_IN_FILE}
                              WHEN {missing} = {no_model} THEN {NO_MODEL}
                              WHEN NOT ns.active THEN {SITE_INACTIVE_NEW} END
                       WHEN clash.id IS NOT NULL THEN {TAG_CLASH}
                       WHEN r.site_id <> d.current_site_id THEN
                         CASE WHEN {refusal} = {retired_refusal} THEN {RETIRED_WARNING}
                              WHEN {refusal} = {out_refusal} THEN {OUT_WARNING}
                              WHEN NOT ns.active THEN {SITE_INACTIVE} END
                     END AS code
              FROM {rows} r
              JOIN {t("match")} m ON m.line = r.line
              LEFT JOIN {device} d ON d.id = m.device_id
              LEFT JOIN sites_location loc ON loc.id = d.location_id
              LEFT JOIN {DeviceLastSeen._meta.db_table} l ON l.device_id = m.device_id
              JOIN sites_site ns ON ns.id = r.site_id
              LEFT JOIN {t("filetags")} ft ON r.tag = '' AND ft.tag_l = {rules.tag_key_sql("r.serial")}
              LEFT JOIN {t("live")} clash
                ON m.ambiguous IS NULL AND m.tag_other IS NULL
               AND clash.tag_l = {rules.tag_key_sql("coalesce(nullif(r.tag, ''), r.serial)")}
               AND clash.id IS DISTINCT FROM m.device_id
               AND (m.device_id IS NULL OR (r.tag <> '' AND r.tag <> d.asset_tag AND {rules.is_live_sql("d.status")}))
              LEFT JOIN {t("open")} oa ON oa.device_id = m.device_id
            ) b
            """,
            {
                "space": PY_SPACE,
                "scope_site": scope_site,
                "has_last_seen": self.has_last_seen,
            },  # fmt: skip
        )
        sql.run(f"ANALYZE {plan}")

    # -- counts and the issues ---------------------------------------------------------------

    def _count(self) -> None:
        """Counts on the report (devices, models, last seen) and the issues table."""
        sql, t, report = self.sql, self._t, self.report
        rows, plan = t("rows"), t("plan")
        rejected_early = sql.one(f"SELECT count(*) FROM {rows} WHERE kerr <> 0 OR dup OR tagdup OR perr")[0]
        outcomes = dict(sql.rows(f"SELECT outcome, count(*) FROM {plan} GROUP BY outcome"))
        for outcome in (CREATED, UPDATED, UNCHANGED):
            if outcomes.get(outcome):
                report.count("devices", outcome, int(outcomes[outcome]))
        if rejected_early or outcomes.get(REJECTED):
            report.count("devices", REJECTED, int(rejected_early) + int(outcomes.get(REJECTED, 0)))
        self.new_models = sql.rows(
            f"""
            SELECT f.model_key, m.maker, m.name, m.category, p.aue_value
            FROM (SELECT model_key, min(line) AS line FROM {plan}
                  WHERE outcome = '{CREATED}' AND model_pk IS NULL GROUP BY model_key) f
            JOIN {plan} p ON p.line = f.line JOIN {rows} r ON r.line = f.line JOIN {t("model")} m ON m.raw = r.model
            ORDER BY f.model_key
            """
        )
        if self.new_models:
            report.count("models", CREATED, len(self.new_models))
        if self.has_last_seen:
            for outcome, n in sql.rows(
                f"SELECT ls_outcome, count(*) FROM {plan} WHERE ls_outcome IS NOT NULL GROUP BY ls_outcome"
            ):
                report.count("last_seen", outcome, int(n))
        from_serial = sql.one(
            f"SELECT count(*), min(line) FROM {plan} WHERE device_id IS NULL AND tag = '' "
            f"AND ambiguous IS NULL AND tag_other IS NULL"
        )
        self.tags_from_serial, self.tag_from_serial_line = int(from_serial[0]), from_serial[1]
        self._issue_table()

    def _issue_table(self) -> None:
        """``…_issues``: (section, line, ord, code, severity-free facts) for every issue."""
        sql, t = self.sql, self._t
        rows, plan, issues = t("rows"), t("plan"), t("issues")
        ok = "r.kerr = 0 AND NOT r.dup AND NOT r.tagdup"
        sql.run(
            f"""
            CREATE UNLOGGED TABLE {issues} AS
            SELECT 0 AS section, d.lines[2] AS first, l.line, 0 AS ord, {KEY_DUP} AS code, d.key AS value,
                   d.key AS key, cardinality(d.lines) AS n, d.lines[1:50] AS lines, NULL::int AS ref
            FROM {t("dups")} d CROSS JOIN LATERAL unnest(d.lines) AS l(line)
            UNION ALL
            SELECT 1, r.line, r.line, 0, CASE r.kerr WHEN {KEY_PROBLEM} THEN {KEY_PROBLEM}
                   WHEN {KEY_EMPTY} THEN {KEY_EMPTY} ELSE {KEY_LONG} END, r.serial, '', 0, NULL,
                   NULL
            FROM {rows} r WHERE r.kerr <> 0
            UNION ALL
            SELECT 1, r.line, r.line, 0, {TAG_DUP}, r.tag, r.key, cardinality(d.lines), d.lines[1:50], NULL
            FROM {rows} r JOIN {t("tagdups")} d ON d.tag_l = lower(r.tag) WHERE r.tagdup
            UNION ALL
            SELECT 1, r.line, r.line, 0, {MAC_WARNING}, r.mac, r.key, 0, NULL, NULL
            FROM {rows} r WHERE {ok} AND r.mac_norm IS NULL
            UNION ALL
            SELECT 1, r.line, r.line, p.ord, p.code, p.value, r.key, 0, NULL, NULL
            FROM {rows} r CROSS JOIN LATERAL (VALUES
                (1, CASE WHEN r.tag_problem IS NOT NULL THEN {TAG_PROBLEM}
                         WHEN {rules.too_long_sql("r.tag", field="asset_tag")} THEN {TAG_LONG} END, r.tag),
                (2, CASE WHEN r.ou = '' THEN {OU_EMPTY} WHEN r.ou_problem IS NOT NULL THEN {OU_PROBLEM} END, r.ou),
                (3, CASE WHEN r.aue_problem IS NOT NULL THEN {AUE_PROBLEM} END, r.aue),
                (4, CASE WHEN r.model_long THEN {MODEL_LONG} END, r.model),
                (5, CASE WHEN r.sync_problem IS NOT NULL THEN {SYNC_PROBLEM} END, r.sync),
                (6, CASE WHEN {rules.too_long_sql("r.devid", field="google_device_id")} THEN {DEVID_LONG} END, r.devid)
            ) AS p(ord, code, value)
            WHERE {ok} AND r.perr AND p.code IS NOT NULL
            UNION ALL
            SELECT 1, p.line, p.line, 10, p.code, NULL, p.key, 0, NULL, NULL
            FROM {plan} p WHERE p.code IS NOT NULL
            """
        )
        counts = dict(sql.rows(f"SELECT code IN ({', '.join(map(str, WARNINGS))}), count(*) FROM {issues} GROUP BY 1"))
        self.error_count = int(counts.get(False, 0))
        self.warning_count = int(counts.get(True, 0))

    def _store_issues(self) -> None:
        """Count the issues on the report and store the first ones (worded in Python) in order;
        during an all-or-nothing commit only errors, held in memory (as ``Report`` does)."""
        report, sql, t = self.report, self.sql, self._t
        report.errors += self.error_count
        report.warnings += self.warning_count
        if report.hold:
            room = 1000 - len(report._held)
            where = f"WHERE i.code NOT IN ({', '.join(map(str, WARNINGS))})"
        else:
            report.flush()
            room = MAX_STORED_ISSUES - report._stored
            where = ""
        if room <= 0 or not (self.error_count or self.warning_count):
            return
        found = sql.rows(
            f"""
            SELECT i.line, i.code, i.value, i.key, i.n, i.lines, r.tag, r.serial, r.mac, r.key_problem,
                   r.tag_problem, r.ou, r.ou_problem, r.aue, r.aue_problem, r.model, r.sync, r.sync_problem,
                   r.devid, p.ambiguous, p.tag_other, p.old_tag, p.scope_site_of, p.clash_id, p.file_tag_line,
                   p.new_tag, p.site_id
            FROM {t("issues")} i
            LEFT JOIN {t("rows")} r ON r.line = i.line AND i.section = 1
            LEFT JOIN {t("plan")} p ON p.line = i.line AND i.ord = 10
            {where}
            ORDER BY i.section, i.first, i.line, i.ord
            LIMIT %(room)s
            """,
            {"room": room},
        )
        devices = self._devices_for_messages(found)
        issues = []
        for row in found:
            severity, column, value, reason = self._issue(row, devices)
            if len(value) > MAX_ISSUE_VALUE:
                value = value[: MAX_ISSUE_VALUE - 1] + "…"
            issues.append(
                ImportIssue(run_id=report.run.pk, severity=severity, file=self.file[:255], line=row[0],
                            column=column[:255], value=value, reason=reason, key=(row[3] or "")[:255])
            )  # fmt: skip
        if report.hold:
            report._held.extend(issues)
            return
        ImportIssue.objects.bulk_create(issues, batch_size=1000)
        report._stored += len(issues)

    def _devices_for_messages(self, found: list[tuple[Any, ...]]) -> dict[int, dict[str, Any]]:
        """The devices the messages name (ambiguous serials, tag owners, clashes)."""
        ids: set[int] = set()
        for row in found:
            ids.update(row[19] or [])
            ids.update(i for i in (row[20], row[23]) if i)
        values = ("pk", "asset_tag", "serial_number", "manufacturer__name", "current_site_id", "owner_site_id")
        return {d["pk"]: d for d in Device.objects.filter(pk__in=ids).values(*values)} if ids else {}

    def _issue(self, row: tuple[Any, ...], devices: dict[int, dict[str, Any]]) -> tuple[str, str, str, str]:
        """(severity, column, value, reason) of one issue row, in the Python path's words."""
        (line, code, value, _key, n, lines, tag, serial, mac, key_problem, tag_problem, ou, ou_problem, aue,
         aue_problem, model, sync, sync_problem, devid, ambiguous, tag_other, old_tag, scope_site_of, clash_id,
         file_tag_line, new_tag, site_id) = row  # fmt: skip
        header = self.cols.header
        error, warning = ImportIssue.Severity.ERROR, ImportIssue.Severity.WARNING
        run = self.importer.run
        sites = self.site_index()
        if code == KEY_DUP:
            reason = say(Msg.DEVICE_KEY_REPEATED, name=self.key_label, value=value, n=n, lines=lines_text(lines))
            return error, header(self.key_label), value, reason
        if code in (KEY_PROBLEM, KEY_EMPTY, KEY_LONG):
            reason = {
                KEY_PROBLEM: key_problem,
                KEY_EMPTY: "is empty; every row needs a serialNumber",
                KEY_LONG: rules.length_problem(value, field="serial_number"),
            }[code]
            return error, header("serialNumber"), value, reason
        if code == TAG_DUP:
            name = header("annotatedAssetId")
            reason = say(Msg.DEVICE_KEY_REPEATED, name=name, value=value, n=n, lines=lines_text(lines))
            return error, name, value, reason
        if code == MAC_WARNING:
            return warning, header("macAddress"), mac, say(Msg.DEVICE_MAC_NOT_KEPT)
        if code == TAG_PROBLEM:
            return error, header("annotatedAssetId"), tag, tag_problem
        if code == TAG_LONG:
            return error, header("annotatedAssetId"), tag, _long(tag, "asset_tag")
        if code == OU_EMPTY:
            return error, header("orgUnitPath"), "", say(Msg.DEVICE_OU_EMPTY)
        if code == OU_PROBLEM:
            return error, header("orgUnitPath"), ou, ou_problem
        if code == AUE_PROBLEM:
            return error, header("autoUpdateExpiration"), aue, aue_problem
        if code == MODEL_LONG:
            return error, header("model"), model, _long(model, "name", DeviceModel)
        if code == SYNC_PROBLEM:
            return error, header("lastSync"), sync, sync_problem
        if code == DEVID_LONG:
            return error, header("deviceId"), devid, _long(devid, "google_device_id")
        if code == SERIAL_AMBIGUOUS:
            found = [devices[i] for i in ambiguous if i in devices]
            tags = ", ".join(f"{d['asset_tag']} ({d['manufacturer__name']})" for d in found[:5])
            reason = say(Msg.DEVICE_SERIAL_AMBIGUOUS, n=len(ambiguous), tags=tags)
            return error, self.header_of("serial"), serial, reason
        if code == TAG_OTHER_DEVICE:
            reason = say(Msg.DEVICE_TAG_OF_OTHER_DEVICE, device=self.describe(devices[tag_other]), serial=serial)
            return error, self.header_of("asset_tag"), tag, reason
        if code == OUT_OF_SCOPE:
            if self.scope is not None and not self.scope.allows_site(scope_site_of, VIEW):
                return (
                    error,
                    self.header_of("serial"),
                    serial,
                    say(Msg.DEVICE_OUT_OF_SCOPE_HIDDEN, scope=run.scope_site),
                )
            where = sites.name.get(scope_site_of, "another site")
            return (
                error,
                self.header_of("serial"),
                serial,
                say(Msg.DEVICE_OUT_OF_SCOPE, tag=old_tag, where=where, scope=run.scope_site),
            )
        if code == NEW_TAG_LONG:
            return error, self.header_of("asset_tag"), new_tag, _long(new_tag, "asset_tag")
        if code == TAG_CLASH:
            reason = say(Msg.DEVICE_TAG_CLASH, device=self.describe(devices[clash_id]))
            return error, self.header_of("asset_tag"), new_tag, reason
        if code == TAG_IN_FILE:
            reason = say(Msg.DEVICE_TAG_IS_FILE_ASSET_ID, line=file_tag_line)
            return error, self.header_of("asset_tag"), new_tag, reason
        if code == NO_MODEL:
            return error, self.header_of("model"), "", rules.NewDeviceProblem.NO_MODEL.message
        if code in (SITE_INACTIVE_NEW, SITE_INACTIVE, RETIRED_WARNING, OUT_WARNING):
            where = f"is the org unit of {sites.name.get(site_id, '')},"
            reason = {
                SITE_INACTIVE_NEW: say(Msg.DEVICE_SITE_INACTIVE_NEW, what=where),
                SITE_INACTIVE: say(Msg.DEVICE_SITE_INACTIVE, what=where),
                RETIRED_WARNING: say(Msg.DEVICE_NOT_TRANSFERRED_RETIRED, tag=old_tag),
                OUT_WARNING: say(Msg.DEVICE_NOT_TRANSFERRED_CHECKED_OUT, tag=old_tag),
            }[code]
            return (warning if code in WARNINGS else error), self.header_of("site"), ou, reason
        raise AssertionError(f"unknown issue code {code}")  # pragma: no cover

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
