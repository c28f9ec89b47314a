"""Set-based writes of inventory's own tables for the importers: devices, device models,
last-seen facts and their device events (``created`` / ``updated`` / ``transferred``, one per
change, in the caller's transaction), the reservation of new devices' ids, and the first-load
index rebuild of these tables (``core.bulk.bulk_load``). Issue #7: ``imports`` reads, stages,
parses and plans; it writes no inventory table itself but calls these.

Two shapes:

* rows (the row-by-row importers, both databases): :func:`device_models_write`,
  :func:`devices_write`, :func:`last_seen_write`, :func:`device_events_insert`;
* a staged plan table (the set-based Google path, PostgreSQL): :func:`staged_devices_apply`,
  which reads a table of planned rows whose columns are listed there.

The caller has checked the rules (``inventory.rules``: live asset tags, transfers, MAC
addresses; serials unique per maker) before; the database constraints stay the last line.
Every event is ``source="import"`` with the import run's id, its actor and actor label, and one
timestamp a call.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models.functions import Lower
from django.utils import timezone

from core.bulk import Statements, bulk_load, insert_rows, insert_select, update_rows
from inventory import rules
from inventory.models import Device, DeviceEvent, DeviceLastSeen, DeviceModel, Manufacturer

#: New devices from which their ids are reserved as one range of the sequence (else one by one).
ID_RANGE_AT_LEAST = 10_000

#: The ``outcome`` values of a staged plan's rows that :func:`staged_devices_apply` writes.
CREATED = "created"
UPDATED = "updated"


@dataclass(frozen=True)
class ImportMark:
    """Who writes: the import run's id, its actor's id (or None) and the actor's label, stored
    on every event (and the run on every last-seen fact)."""

    run_id: int
    actor_id: int | None
    actor_label: str


# --------------------------------------------------------------------------- rows


def _lower_key(*parts: str) -> tuple[str, ...]:
    return tuple(part.strip().lower() for part in parts)


@transaction.atomic
def device_models_write(*, models: Sequence[dict[str, Any]]) -> dict[tuple[str, ...], tuple[int, int]]:
    """Create the device models rows need (callers pass only models of planned changes). Each
    is ``{"manufacturer": "Lenovo", "name": "100e Chromebook Gen 3", "model_number": "",
    "category": "chromebook", "auto_update_expiration": date | None}``.

    Manufacturers are found by name ignoring case (created when missing); a model with the
    same manufacturer, name and number (ignoring case) is reused. Returns
    ``(manufacturer, name, number)`` in lower case → ``(model id, manufacturer id)``.
    """
    makers = {name.lower(): pk for pk, name in Manufacturer.objects.values_list("pk", "name")}
    for spec in models:
        name = spec["manufacturer"].strip()[:100]
        if name.lower() not in makers:
            makers[name.lower()] = Manufacturer.objects.create(name=name).pk
    found: dict[tuple[str, ...], tuple[int, int]] = {}
    for spec in models:
        maker_id = makers[spec["manufacturer"].strip()[:100].lower()]
        key = _lower_key(spec["manufacturer"], spec["name"], spec.get("model_number", ""))
        existing = (
            DeviceModel.objects.annotate(name_lower=Lower("name"), number_lower=Lower("model_number"))
            .filter(manufacturer_id=maker_id, name_lower=key[1], number_lower=key[2])
            .values_list("pk", flat=True)
            .first()
        )
        if existing is None:
            existing = DeviceModel.objects.create(
                manufacturer_id=maker_id,
                name=spec["name"].strip()[:150],
                model_number=spec.get("model_number", "").strip()[:100],
                category=spec["category"],
                auto_update_expiration=spec.get("auto_update_expiration"),
            ).pk
        found[key] = (existing, maker_id)
    return found


@transaction.atomic
def devices_write(
    *, creates: Sequence[dict[str, Any]], updates: Sequence[tuple[dict[str, Any], Sequence[str]]]
) -> dict[str, int]:
    """Insert devices and update others, set-based (COPY / UPDATE … FROM on PostgreSQL).

    ``creates``: ``{attname: value}`` (``asset_tag``, ``serial_number``, ``manufacturer_id``,
    ``model_id``, ``status``, ``owner_site_id``, ``current_site_id``, details…; the rest get
    their defaults). ``updates``: ``({"pk": id, attname: value, …}, field names changed)``;
    rows are grouped by their field names and ``updated_at`` is set. Returns
    :func:`inventory.rules.tag_key` of the asset tag → id of the inserted devices (new devices
    are live, so their tags are unique). Write their events with :func:`device_events_insert`
    in the same transaction.
    """
    if creates:
        insert_rows(Device, creates)
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row, names in updates:
        groups.setdefault(tuple(sorted(names)), []).append(row)
    for names, rows in groups.items():
        update_rows(Device, rows, [*names, "updated_at"])
    if not creates:
        return {}
    tags = [rules.tag_key(row["asset_tag"]) for row in creates]
    found: dict[str, int] = {}
    for start in range(0, len(tags), 2000):
        found.update(
            (tag, pk)
            for pk, tag in Device.objects.annotate(tag_lower=Lower("asset_tag"))
            .filter(tag_lower__in=tags[start : start + 2000])
            .exclude(status=Device.Status.RETIRED)
            .values_list("pk", "tag_lower")
        )
    return found


@transaction.atomic
def last_seen_write(
    *, mark: ImportMark, creates: Sequence[dict[str, Any]], updates: Sequence[dict[str, Any]], fields: Sequence[str]
) -> None:
    """Insert and update ``DeviceLastSeen`` rows (what Google Admin last reported):
    ``{"device_id": …, field: value}`` to insert, ``{"pk": …, field: value}`` to update
    ``fields``; ``source_run_id`` is set to the run on both."""
    if creates:
        insert_rows(DeviceLastSeen, [{**row, "source_run_id": mark.run_id} for row in creates])
    if updates:
        update_rows(
            DeviceLastSeen,
            [{**row, "source_run_id": mark.run_id} for row in updates],
            [*fields, "source_run_id", "updated_at"],
        )


@transaction.atomic
def device_events_insert(*, mark: ImportMark, events: Iterable[tuple[int, str, dict[str, Any], dict[str, Any]]]) -> int:
    """Append one ``DeviceEvent`` per ``(device id, kind, before, after)``, set-based (``COPY``
    on PostgreSQL), marked ``source="import"`` with the run and its actor, one timestamp.
    Returns how many were written."""
    now = timezone.now()
    rows = [
        {
            "device_id": device_id,
            "occurred_at": now,
            "kind": kind,
            "actor_id": mark.actor_id,
            "actor_label": mark.actor_label,
            "person_id": None,
            "person_label": "",
            "before": before,
            "after": after,
            "note": "",
            "source": DeviceEvent.Source.IMPORT,
            "import_run_id": mark.run_id,
        }
        for device_id, kind, before, after in events
    ]
    insert_rows(DeviceEvent, rows)
    return len(rows)


# --------------------------------------------------------------------------- a staged plan (PostgreSQL)


def staged_devices_apply(
    sql: Statements, *, plan: str, newids: str, mark: ImportMark, has_last_seen: bool, now: Any = None
) -> None:
    """Apply a staged plan of devices (PostgreSQL, set-based, in the caller's transaction):
    reserve the new devices' ids into table ``newids`` (``line``, ``id``), insert the new
    devices, update the matched ones, write their events and (``has_last_seen``) their
    last-seen facts. Each first load drops and rebuilds the table's own indexes
    (``core.bulk.bulk_load``).

    ``plan`` is a table with one row a file line: ``line``; ``outcome`` (:data:`CREATED`,
    :data:`UPDATED`, other values are left alone); for new devices ``new_tag``, ``serial``,
    ``maker_pk``, ``model_pk``, ``site_id``, ``mac_norm`` (NULL for none), ``devid``; for matched
    ones ``device_id``, the booleans ``tag_change``, ``serial_change``, ``mac_change``,
    ``devid_change``, ``transfer`` with the new ``tag``, ``serial``, ``mac_norm``, ``devid``,
    ``site_id`` and the old ``old_tag``, ``old_serial``, ``old_mac``, ``old_devid``,
    ``old_site``, ``old_location`` (a name); and for last-seen facts ``ls_outcome``, ``ls_id``,
    ``sync_value``, ``recent_user``, ``os_version``, ``aue_value``, ``boot_mode``,
    ``google_status``.
    """
    now = now or timezone.now()
    device = Device._meta.db_table
    # The new devices' ids, drawn from the table's sequence, in a narrow table (updating the
    # wide plan table would rewrite every row). Many ids are reserved as one range: with
    # other writers to the devices locked out (reads go on) no one else draws from the
    # sequence, so nextval, then setval past the range, hands this import the whole range.
    (created,) = sql.one(f"SELECT count(*) FROM {plan} WHERE outcome = '{CREATED}'")
    sequence = f"pg_get_serial_sequence('{device}', 'id')"
    if created >= ID_RANGE_AT_LEAST:
        sql.run(f"LOCK TABLE {device} IN SHARE ROW EXCLUSIVE MODE")
        (first,) = sql.one(f"SELECT nextval({sequence})")
        sql.run(f"SELECT setval({sequence}, %s)", [int(first) + int(created) - 1])
        sql.run(
            f"CREATE UNLOGGED TABLE {newids} AS SELECT line, %s + row_number() OVER (ORDER BY line) - 1 AS id "
            f"FROM {plan} WHERE outcome = '{CREATED}'",
            [int(first)],
        )
    else:
        sql.run(
            f"CREATE UNLOGGED TABLE {newids} AS SELECT line, nextval({sequence}) AS id "
            f"FROM {plan} WHERE outcome = '{CREATED}'"
        )
    with bulk_load(Device, rows=int(created), sql=sql):
        insert_select(
            Device,
            {
                "id": "n.id",
                "asset_tag": "p.new_tag",
                "serial_number": "p.serial",
                "manufacturer_id": "p.maker_pk",
                "model_id": "p.model_pk",
                "status": f"'{Device.Status.IN_STOCK}'",
                "owner_site_id": "p.site_id",
                "current_site_id": "p.site_id",
                "location_id": "NULL",
                "wifi_mac": "coalesce(p.mac_norm, '')",
                "google_device_id": "p.devid",
            },
            f"FROM {plan} p JOIN {newids} n ON n.line = p.line ORDER BY p.line",
            now,
            sql,
        )
        sql.run(
            f"""
            UPDATE {device} d SET
              asset_tag = CASE WHEN p.tag_change THEN p.tag ELSE d.asset_tag END,
              serial_number = CASE WHEN p.serial_change THEN p.serial ELSE d.serial_number END,
              wifi_mac = CASE WHEN p.mac_change THEN p.mac_norm ELSE d.wifi_mac END,
              google_device_id = CASE WHEN p.devid_change THEN p.devid ELSE d.google_device_id END,
              current_site_id = CASE WHEN p.transfer THEN p.site_id ELSE d.current_site_id END,
              location_id = CASE WHEN p.transfer THEN NULL ELSE d.location_id END,
              updated_at = %(now)s
            FROM {plan} p WHERE p.device_id = d.id AND p.outcome = '{UPDATED}'
            """,
            {"now": now},
        )
    _staged_events(sql, plan=plan, newids=newids, mark=mark, now=now)
    if has_last_seen:
        _staged_last_seen(sql, plan=plan, newids=newids, mark=mark, now=now)


def _staged_events(sql: Statements, *, plan: str, newids: str, mark: ImportMark, now: Any) -> None:
    """``created`` / ``updated`` / ``transferred`` events, in line order (updated before
    transferred, as the row-by-row path writes them)."""
    kinds = DeviceEvent.Kind
    site_code = "(SELECT code FROM sites_site WHERE id = {})"
    before_updated = (
        "jsonb_strip_nulls(jsonb_build_object("
        "'asset_tag', CASE WHEN p.tag_change THEN p.old_tag END, "
        "'serial_number', CASE WHEN p.serial_change THEN p.old_serial END, "
        "'wifi_mac', CASE WHEN p.mac_change THEN coalesce(p.old_mac, '') END, "
        "'google_device_id', CASE WHEN p.devid_change THEN coalesce(p.old_devid, '') END))"
    )
    after_updated = (
        "jsonb_strip_nulls(jsonb_build_object("
        "'asset_tag', CASE WHEN p.tag_change THEN p.tag END, "
        "'serial_number', CASE WHEN p.serial_change THEN p.serial END, "
        "'wifi_mac', CASE WHEN p.mac_change THEN p.mac_norm END, "
        "'google_device_id', CASE WHEN p.devid_change THEN p.devid END))"
    )
    source = f"""
        FROM (
          SELECT p.line, 0 AS ord, n.id AS device_id, '{kinds.CREATED}' AS kind, '{{}}'::jsonb AS before,
                 jsonb_build_object('asset_tag', p.new_tag, 'status', '{Device.Status.IN_STOCK}',
                                    'owner_site', ns.code, 'current_site', ns.code) AS after
          FROM {plan} p JOIN {newids} n ON n.line = p.line JOIN sites_site ns ON ns.id = p.site_id
          UNION ALL
          SELECT p.line, 1, p.device_id, '{kinds.UPDATED}', {before_updated}, {after_updated}
          FROM {plan} p
          WHERE p.outcome = '{UPDATED}' AND (p.tag_change OR p.serial_change OR p.mac_change OR p.devid_change)
          UNION ALL
          SELECT p.line, 2, p.device_id, '{kinds.TRANSFERRED}',
                 jsonb_build_object('current_site', {site_code.format("p.old_site")}, 'location', p.old_location),
                 jsonb_build_object('current_site', {site_code.format("p.site_id")}, 'location', NULL)
          FROM {plan} p WHERE p.outcome = '{UPDATED}' AND p.transfer
        ) e ORDER BY e.line, e.ord
    """
    (events,) = sql.one(
        f"SELECT count(*) FILTER (WHERE outcome = '{CREATED}') + count(*) FILTER (WHERE outcome = '{UPDATED}' "
        f"AND (tag_change OR serial_change OR mac_change OR devid_change)) + count(*) FILTER (WHERE "
        f"outcome = '{UPDATED}' AND transfer) FROM {plan}"
    )
    with bulk_load(DeviceEvent, rows=int(events), sql=sql):
        insert_select(
            DeviceEvent,
            {
                "device_id": "e.device_id",
                "occurred_at": "%(now)s",
                "kind": "e.kind",
                "actor_id": "%(actor)s::int",
                "actor_label": "%(label)s",
                "person_id": "NULL",
                "person_label": "''",
                "before": "e.before",
                "after": "e.after",
                "note": "''",
                "source": f"'{DeviceEvent.Source.IMPORT}'",
                "import_run_id": str(int(mark.run_id)),
            },
            source,
            now,
            sql,
            {"actor": mark.actor_id, "label": mark.actor_label},
        )


def _staged_last_seen(sql: Statements, *, plan: str, newids: str, mark: ImportMark, now: Any) -> None:
    """Insert and update the last-seen facts of the plan's rows (``ls_outcome``)."""
    fields = {
        "last_sync": "p.sync_value",
        "recent_user": "p.recent_user",
        "os_version": "p.os_version",
        "auto_update_expiration": "p.aue_value",
        "boot_mode": "p.boot_mode",
        "google_status": "p.google_status",
    }
    (new_facts,) = sql.one(f"SELECT count(*) FROM {plan} WHERE ls_outcome = '{CREATED}'")
    with bulk_load(DeviceLastSeen, rows=int(new_facts), sql=sql):
        insert_select(
            DeviceLastSeen,
            {"device_id": "coalesce(n.id, p.device_id)", **fields, "source_run_id": str(int(mark.run_id))},
            f"FROM {plan} p LEFT JOIN {newids} n ON n.line = p.line WHERE p.ls_outcome = '{CREATED}' ORDER BY p.line",
            now,
            sql,
        )
    assignments = ", ".join(f"{name} = {expr}" for name, expr in fields.items())
    sql.run(
        f"UPDATE {DeviceLastSeen._meta.db_table} l SET {assignments}, source_run_id = %(run)s, "
        f"updated_at = %(now)s FROM {plan} p WHERE p.ls_id = l.id AND p.ls_outcome = '{UPDATED}'",
        {"run": mark.run_id, "now": now},
    )
