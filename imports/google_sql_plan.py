"""The set-based Google step, phase 4: the parsed rows against the devices (split from
``imports.google_sql``; see its docstring). The device rules come from ``inventory.rules`` as
SQL: serial numbers narrowed by maker, a tag of another device, live tag clashes, what a new
device lacks, transfer refusals, re-tags, a retired device left as it is (``import_may_change``),
who may add models (``may_create_models``), text lengths, MAC addresses."""

from core.scoping import CHANGE
from imports.google_sql_parse import (
    MODEL_NOT_CREATED,
    NEW_TAG_LONG,
    NO_MODEL,
    OUT_OF_SCOPE,
    OUT_WARNING,
    PY_SPACE,
    RETAG_OUT,
    RETIRED_WARNING,
    SERIAL_AMBIGUOUS,
    SITE_INACTIVE,
    SITE_INACTIVE_NEW,
    TAG_CLASH,
    TAG_IN_FILE,
    TAG_OTHER_DEVICE,
    GoogleSqlPhase,
)
from imports.pipeline import (
    CREATED,
    REJECTED,
    SKIPPED,
    UNCHANGED,
    UPDATED,
)
from inventory import rules
from inventory.models import Device, DeviceLastSeen


class Plan(GoogleSqlPhase):
    """Phase 4: ``…_plan``."""

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
            JOIN {device} d ON {rules.serial_key_sql("d.serial_number")} = {rules.serial_key_sql("r.serial")}
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
        # A matched device given another asset tag (inventory.rules): said, or refused while checked out.
        retag = rules.import_retag_sql(old_tag="d.asset_tag", new_tag="r.tag")
        retag_refused = rules.import_retag_refused_sql(
            old_tag="d.asset_tag", new_tag="r.tag", status="d.status", has_open_assignment="oa.device_id IS NOT NULL"
        )

        # Only district roles add models (inventory.rules.may_create_models): one answer a run.
        may_create_models = rules.may_create_models(
            everywhere_change=self.scope is None or self.scope.allows_everywhere(CHANGE)
        )
        # A matched retired device that the row would change is left as it is, the row skipped with
        # a warning (inventory.rules.import_may_change; its transfer was refused above).
        not_rejected = f"(b.code IS NULL OR b.code IN ({RETIRED_WARNING}, {OUT_WARNING}))"
        kept = (
            f"({not_rejected} AND b.device_id IS NOT NULL AND NOT {rules.import_may_change_sql(status='b.old_status')}"
            " AND (b.tag_change OR b.serial_change OR b.mac_change OR b.devid_change))"
        )

        def seen_limit(field: str) -> int:
            return rules.text_limit(field, DeviceLastSeen)

        sql.run(
            f"""
            CREATE UNLOGGED TABLE {plan} AS
            SELECT b.*,
                   {kept} AS kept,
                   CASE WHEN b.code IS NOT NULL AND b.code NOT IN ({RETIRED_WARNING}, {OUT_WARNING}) THEN '{REJECTED}'
                        WHEN b.device_id IS NULL THEN '{CREATED}'
                        WHEN {kept} THEN '{SKIPPED}'
                        WHEN b.tag_change OR b.serial_change OR b.mac_change OR b.devid_change OR b.transfer
                          THEN '{UPDATED}'
                        ELSE '{UNCHANGED}' END AS outcome,
                   CASE WHEN NOT %(has_last_seen)s THEN NULL
                        WHEN b.code IS NOT NULL AND b.code NOT IN ({RETIRED_WARNING}, {OUT_WARNING}) THEN NULL
                        WHEN {kept} THEN NULL
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
                     coalesce(m.device_id IS NOT NULL AND {retag}, false) AS retag,
                     coalesce(m.device_id IS NOT NULL
                              AND {rules.serial_key_sql("r.serial")} <> {rules.serial_key_sql("d.serial_number")}, false)
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
                              WHEN NOT ns.active THEN {SITE_INACTIVE_NEW}
                              WHEN r.model_id IS NULL AND NOT %(may_create_models)s THEN {MODEL_NOT_CREATED} END
                       WHEN clash.id IS NOT NULL THEN {TAG_CLASH}
                       WHEN {retag_refused} THEN {RETAG_OUT}
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
                "may_create_models": may_create_models,
            },  # fmt: skip
        )
        sql.run(f"ANALYZE {plan}")
