"""The set-based Google step's counts and issues: counted in SQL, the first ones worded in
Python with the row-by-row path's messages (split from ``imports.google_sql``; see its
docstring)."""

from typing import Any

from core.scoping import VIEW
from imports.device_rows import _FIELD_WORDS, lines_text
from imports.google_sql_parse import (
    AUE_PROBLEM,
    DEVID_LONG,
    KEY_DUP,
    KEY_EMPTY,
    KEY_LONG,
    KEY_PROBLEM,
    MAC_WARNING,
    MODEL_LONG,
    MODEL_NOT_CREATED,
    NEW_TAG_LONG,
    NO_MODEL,
    OU_EMPTY,
    OU_PROBLEM,
    OUT_OF_SCOPE,
    OUT_WARNING,
    RETAG_OUT,
    RETAG_WARNING,
    RETIRED_KEPT,
    RETIRED_WARNING,
    SERIAL_AMBIGUOUS,
    SITE_INACTIVE,
    SITE_INACTIVE_NEW,
    SYNC_PROBLEM,
    TAG_CLASH,
    TAG_DUP,
    TAG_IN_FILE,
    TAG_LONG,
    TAG_OTHER_DEVICE,
    TAG_PROBLEM,
    WARNINGS,
    GoogleSqlPhase,
)
from imports.messages import Msg, say
from imports.models import ImportIssue
from imports.pipeline import (
    CREATED,
    MAX_ISSUE_VALUE,
    MAX_STORED_ISSUES,
    REJECTED,
    SKIPPED,
    UNCHANGED,
    UPDATED,
)
from inventory import rules
from inventory.models import Device, DeviceModel


def _long(value: str, field: str, model: type[Any] = Device) -> str:
    """The words for a text the SQL found too long (:func:`inventory.rules.length_problem`)."""
    return rules.length_problem(value, field=field, model=model) or ""


class Issues(GoogleSqlPhase):
    """The report's counts and the issues table, stored and worded."""

    # -- counts and the issues ---------------------------------------------------------------

    def _count(self) -> None:
        """Counts on the report (devices, models, last seen) and the issues table."""
        sql, t, report = self.sql, self._t, self.report
        rows, plan = t("rows"), t("plan")
        rejected_early = sql.one(f"SELECT count(*) FROM {rows} WHERE kerr <> 0 OR dup OR tagdup OR perr")[0]
        outcomes = dict(sql.rows(f"SELECT outcome, count(*) FROM {plan} GROUP BY outcome"))
        for outcome in (CREATED, UPDATED, UNCHANGED, SKIPPED):
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
            UNION ALL
            SELECT 1, p.line, p.line, 11, {RETAG_WARNING}, NULL, p.key, 0, NULL, NULL
            FROM {plan} p WHERE p.retag AND p.outcome NOT IN ('{REJECTED}', '{SKIPPED}')
            UNION ALL
            SELECT 1, p.line, p.line, 11, {RETIRED_KEPT}, NULL, p.key, 0, NULL, NULL
            FROM {plan} p WHERE p.outcome = '{SKIPPED}'
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
                   p.new_tag, p.site_id, p.tag_change, p.serial_change, p.mac_change, p.devid_change,
                   mo.name, mo.label
            FROM {t("issues")} i
            LEFT JOIN {t("rows")} r ON r.line = i.line AND i.section = 1
            LEFT JOIN {t("plan")} p ON p.line = i.line AND i.ord >= 10
            LEFT JOIN {t("model")} mo ON i.code = {MODEL_NOT_CREATED} AND mo.raw = r.model
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
         file_tag_line, new_tag, site_id, tag_change, serial_change, mac_change, devid_change, model_name,
         model_label) = row  # fmt: skip
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
        if code == RETAG_OUT:
            return error, self.header_of("asset_tag"), tag, rules.import_retag_refusal(old_tag=old_tag, serial=serial)
        if code == RETAG_WARNING:
            reason = rules.import_retag_note(old_tag=old_tag, new_tag=tag, serial=serial)
            return warning, self.header_of("asset_tag"), tag, reason
        if code == RETIRED_KEPT:
            # The fields the row would change, in the row-by-row path's order (device_rows._plan_existing).
            changed = (("asset_tag", tag_change), ("serial_number", serial_change), ("wifi_mac", mac_change),
                       ("google_device_id", devid_change))  # fmt: skip
            fields = ", ".join(_FIELD_WORDS[name] for name, yes in changed if yes)
            reason = say(Msg.DEVICE_RETIRED_NOT_CHANGED, tag=old_tag, fields=fields)
            return warning, self.header_of("asset_tag"), old_tag, reason
        if code == MODEL_NOT_CREATED:
            return error, self.header_of("model"), model_name, say(Msg.DEVICE_MODEL_NOT_CREATED, model=model_label)
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
