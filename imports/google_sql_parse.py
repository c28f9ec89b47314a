"""The set-based Google step, phases 1–3: stage the file, judge its distinct values in
Python, parse every row in SQL (split from ``imports.google_sql``; see its docstring). Also the
statements' column names and the issue codes every phase uses."""

import json
import sys
from typing import Any

import psycopg

from imports.device_rows import ModelRef
from imports.google import GoogleDeviceStep, parse_aue
from imports.oneroster_sql import MAYBE_SCIENTIFIC
from imports.pipeline import (
    RowError,
)
from imports.reading import _CELL_STRIP, Table
from imports.staging import (
    StagedFile,
    _trim_sql,
)
from imports.values import parse_datetime, parse_identifier
from inventory import rules
from inventory.models import DeviceModel, Manufacturer
from inventory.models_catalog import model_category, split_model

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
RETAG_OUT, RETAG_WARNING = 41, 42  # inventory.rules.import_retag_refused / IMPORT_RETAG
RETIRED_KEPT = 43  # inventory.rules.import_may_change: the row of a retired device it would change is skipped
MODEL_NOT_CREATED = 44  # inventory.rules.may_create_models: site staff name a model not in DeviceLedger
WARNINGS = (MAC_WARNING, RETIRED_WARNING, OUT_WARNING, RETAG_WARNING, RETIRED_KEPT)


def _maybe_scientific(column: str) -> str:
    """SQL: the cell may be Excel's scientific notation (``strpos`` first: the pattern needs
    ``E+``/``E-``)."""
    probes = " OR ".join(f"strpos({column}, '{p}') > 0" for p in ("E+", "E-", "e+", "e-"))
    return f"(({probes}) AND {column} ~ %(sci)s)"


class GoogleSqlPhase(StagedFile, GoogleDeviceStep):
    """What the set-based Google step's phases share (``imports.google_sql.SetBasedGoogleStep``
    puts them together): the work tables' names and the facts one phase leaves for the next."""

    #: Set by the count (``_count``): the models to create, the issues found.
    new_models: list[tuple[Any, ...]]
    error_count: int
    warning_count: int

    def _t(self, name: str) -> str:
        return self.sql.table(name)


class StageAndParse(GoogleSqlPhase):
    """Phases 1–3: ``…_trim`` (the staged file, kept for the commit), the answers, ``…_rows``."""

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
