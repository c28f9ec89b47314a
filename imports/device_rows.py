"""Shared by the device importers (Google Admin, Snipe-IT, CSV/XLSX): rows → devices.

A device importer's step turns each row into a :class:`DeviceRecord` (``parse``); this
module matches the records of a batch to devices (two queries), decides what changes
(``plan``) and writes the changes set-based with their events (``write``), keeping the
rules of ``inventory.services.device_create`` / ``device_update`` / ``device_transfer``:

* **Matching**: on the serial number (ignoring case; when two makers share a serial, the
  row's manufacturer decides), else on the asset tag among live devices (or among retired
  ones for a row that says Retired). A tag that belongs to a device with another serial is
  a row error, never a silent merge.
* **New devices** need an asset tag (unique among live devices, ignoring case), a site and
  a model, and start in stock or in the loaner pool; each gets a ``created`` event.
* **Existing devices**: detail changes → an ``updated`` event with before/after; a new
  current site → a ``transferred`` event (the location is cleared, as a transfer does); a
  new location at the site → a ``moved`` event. Status is never changed by an import (a
  differing status is a warning). Retired devices are not transferred.
* **Reference data**: device models and manufacturers a row needs are created in
  ``write()`` only, for rows whose change is planned (never from a rejected row).
* **Site scope**: a site-scoped run rejects a row for another site (``require_site`` in
  ``parse``) and a row matching a device that belongs to another site (here).
* **Duplicates**: besides the step's key, a second identifier (the asset tag when the key
  is the serial, and the other way round) repeated in the file is an error on every line.
* **Check-outs** (Snipe-IT's current check-outs; Google's user with ``create_checkouts``):
  the holder is matched to one person the actor may see, then
  ``custody.services.device_check_out`` (source import). A device already out to that
  person is unchanged; out to someone else, or unavailable → a warning, no change.
* **Last seen** (Google): ``inventory.DeviceLastSeen`` is created or updated when its
  facts differ (counted as the ``last_seen`` entity).

Every record field that is ``None`` means "the file does not say: leave it as it is".
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar

from django.db.models import Q, Value
from django.db.models.functions import Greatest, Lower, StrIndex, Substr
from django.http import Http404

from core.errors import DomainError
from core.scoping import VIEW, person_label_for, scope_for
from custody import rules as custody_rules
from custody.models import Assignment
from imports import services
from imports.messages import Msg, say
from imports.pipeline import CREATED, SKIPPED, UNCHANGED, UPDATED, Change, Item, RowError, Step
from imports.reading import Row
from inventory import bulk as inventory_bulk
from inventory import rules
from inventory.events import actor_label
from inventory.models import Device, DeviceEvent, DeviceLastSeen, DeviceModel, Manufacturer
from inventory.models_catalog import KNOWN_MAKERS, split_model  # re-exported (older imports)
from people.models import Person
from sites.models import Location, Site

Status = Device.Status

#: Device detail fields an import may set (a subset of ``inventory.services.EDITABLE_FIELDS``).
DETAIL_FIELDS = (
    "purchase_date",
    "purchase_cost",
    "purchase_order",
    "vendor",
    "funding_source",
    "warranty_end",
    "wifi_mac",
    "google_device_id",
    "notes",
)
#: ``inventory.DeviceLastSeen`` fields, in the order of :attr:`DeviceRecord.last_seen`.
LAST_SEEN_FIELDS = ("last_sync", "recent_user", "os_version", "auto_update_expiration", "boot_mode", "google_status")

_DEVICE_VALUES = (
    "pk",
    "asset_tag",
    "serial_number",
    "manufacturer_id",
    "manufacturer__name",
    "model_id",
    "status",
    "owner_site_id",
    "current_site_id",
    "location_id",
    "location__name",
    *DETAIL_FIELDS,
)


def check_date_order(options: dict[str, Any]) -> str:
    """The ``date_order`` option (``MDY`` or ``DMY``); FileError for anything else."""
    from imports.pipeline import FileError
    from imports.values import DATE_ORDERS

    order = str(options.get("date_order") or "MDY").strip().upper()
    if order not in DATE_ORDERS:
        raise FileError("", f"date_order must be MDY or DMY, not '{order}'")
    options["date_order"] = order
    return order


def detail_date_problems(details: dict[str, Any]) -> list[tuple[str, str]]:
    """(field, reason) for the dates of ``details`` by :func:`inventory.rules.date_problems`
    (today is the district's)."""
    return [
        (name, str(problem))
        for name, problem in rules.date_problems(
            purchase_date=details.get("purchase_date"),
            warranty_end=details.get("warranty_end"),
            today=rules.district_today(),
        )
    ]


@dataclass(frozen=True, slots=True)
class ModelRef:
    """A device model a row names. ``model_number=None``: any number (match by name)."""

    manufacturer: str
    name: str
    model_number: str | None
    category: str
    auto_update_expiration: datetime.date | None = None

    def key(self) -> tuple[str, str, str]:
        return (self.manufacturer.strip().lower(), self.name.strip().lower(), (self.model_number or "").strip().lower())

    @property
    def label(self) -> str:
        return f"{self.manufacturer} {self.name}".strip()


@dataclass(slots=True)
class Holder:
    """Who a row says holds the device: ``value`` matched by ``by`` (email, username or
    student_number), with the header it came from and an optional due date."""

    value: str
    by: str
    column: str
    due_on: datetime.date | None = None


@dataclass(slots=True)
class DeviceRecord:
    """One parsed device row. ``None`` fields: the file does not say (leave as is)."""

    serial: str = ""
    asset_tag: str | None = None
    #: A new device without an asset tag takes its serial number (Google: no asset ID annotated).
    tag_from_serial: bool = False
    current_site_id: int | None = None
    owner_site_id: int | None = None
    #: The file's own words for the site (Google: the org unit path), shown in messages.
    site_text: str | None = None
    model: ModelRef | None = None
    details: dict[str, Any] = field(default_factory=dict)
    location: str | None = None
    status: str | None = None
    last_seen: tuple[Any, ...] | None = None
    holder: Holder | None = None


@dataclass(slots=True)
class DevicePlan:
    """What ``write`` does for one device: insert ``row``, or update ``names`` of device ``pk``."""

    pk: int | None
    row: dict[str, Any]
    names: list[str] = field(default_factory=list)
    model: ModelRef | None = None
    events: list[tuple[str, dict[str, Any], dict[str, Any]]] = field(default_factory=list)


class ModelCatalog:
    """Every device model (a few hundred), looked up by manufacturer and name ignoring case."""

    def __init__(self) -> None:
        self.by_name: dict[tuple[str, str], list[tuple[str, int, int]]] = {}
        self.labels: dict[int, str] = {}
        self.makers: dict[str, str] = {}
        self.planned: set[tuple[str, str, str]] = set()
        for pk, maker_id, maker, name, number in DeviceModel.objects.order_by("pk").values_list(
            "pk", "manufacturer_id", "manufacturer__name", "name", "model_number"
        ):
            self.add((maker.lower(), name.lower(), number.lower()), pk, maker_id, f"{maker} {name}")
        self.makers = {name.lower(): name for name in Manufacturer.objects.values_list("name", flat=True)}

    def add(self, key: tuple[str, ...], pk: int, maker_id: int, label: str) -> None:
        entries = self.by_name.setdefault((key[0], key[1]), [])
        if all(entry[1] != pk for entry in entries):
            entries.append((key[2], pk, maker_id))
        self.labels[pk] = label

    def resolve(self, ref: ModelRef) -> tuple[int, int] | None:
        """(model id, manufacturer id), or None when the model is still to be created.

        The name matches with or without the maker in front ("Lenovo 100e" or "100e")."""
        maker, name, number = ref.key()
        entries = self.by_name.get((maker, name)) or self.by_name.get((maker, f"{maker} {name}")) or []
        if not entries:
            return None
        if ref.model_number:
            for entry_number, pk, maker_id in entries:
                if entry_number == number:
                    return pk, maker_id
            return None
        exact = [e for e in entries if e[0] == ""]
        chosen = (exact or entries)[0]
        return chosen[1], chosen[2]

    def spelled(self, ref: ModelRef) -> ModelRef:
        """``ref`` with the manufacturer spelled as it is here already (``LENOVO`` → ``Lenovo``)."""
        known = self.makers.get(ref.manufacturer.strip().lower())
        if known is None or known == ref.manufacturer:
            return ref
        return ModelRef(known, ref.name, ref.model_number, ref.category, ref.auto_update_expiration)


class SiteIndex:
    """Sites by id, code and name (ignoring case); a name shared by two sites matches neither."""

    def __init__(self) -> None:
        self.code: dict[int, str] = {}
        self.name: dict[int, str] = {}
        self.active: dict[int, bool] = {}
        self.by_code: dict[str, int] = {}
        self.by_name: dict[str, int | None] = {}
        for pk, code, name, active in Site.objects.values_list("pk", "code", "name", "active"):
            self.code[pk], self.name[pk], self.active[pk] = code, name, active
            self.by_code[code.strip().lower()] = pk
            lowered = name.strip().lower()
            self.by_name[lowered] = None if lowered in self.by_name else pk

    def find(self, text: str) -> int | None:
        """The site whose code, else whose name, is ``text`` (ignoring case and outer spaces)."""
        key = text.strip().lower()
        if not key:
            return None
        return self.by_code.get(key) or self.by_name.get(key)


def _label(value: Any) -> Any:
    """A JSON-safe label for an event's before/after (as ``inventory.services._label``)."""
    if value is None or isinstance(value, (str, int, bool)):
        return value
    if isinstance(value, (Decimal, datetime.date)):
        return str(value)
    return str(value)


def site_words(record: DeviceRecord, name: str) -> tuple[str, str]:
    """(value, reason start) for a message about the row's site: the file's words when it has
    its own (an org unit path: "is the org unit of Cedar School,"), else the site's name
    ("is")."""
    if record.site_text:
        return record.site_text, f"is the org unit of {name},"
    return name, "is"


def lines_text(lines: list[int]) -> str:
    shown = ", ".join(str(n) for n in lines[:50])
    return shown + (f" and {len(lines) - 50} more" if len(lines) > 50 else "")


class SecondaryKeyStep(Step):
    """A step that also refuses repeated second identifiers (e.g. the asset tag of a file keyed
    by serial number): :meth:`secondary` names them; the pre-scan finds the repeated values
    (only those are kept past it) and every row holding one is a row error listing every
    line, like the framework does for the key. Subclasses implement :meth:`parse_record`."""

    def __init__(self, importer: Any) -> None:
        super().__init__(importer)
        self._seen: dict[str, dict[str, int]] = {}
        self._secondary_dups: dict[str, dict[str, list[int]]] = {}
        self._prescan_done = False

    def secondary(self, row: Row) -> list[tuple[str, str]]:
        """(our column name, value) of the row's second identifiers, checked for duplicates."""
        return []

    def parse_record(self, row: Row, key: str) -> Any:
        raise NotImplementedError

    def prescanned(self, row: Row) -> None:
        for name, value in self.secondary(row):
            if value:
                lowered = value.lower()
                seen = self._seen.setdefault(name, {})
                first = seen.setdefault(lowered, row.line)
                if first != row.line:
                    self._secondary_dups.setdefault(name, {}).setdefault(lowered, [first]).append(row.line)

    def _check_secondary(self, row: Row) -> None:
        if not self._prescan_done:
            self._seen = {}  # only the repeated values are kept past the pre-scan
            self._prescan_done = True
        if not self._secondary_dups:
            return
        problems = []
        for name, value in self.secondary(row):
            lines = self._secondary_dups.get(name, {}).get(value.lower()) if value else None
            if lines:
                problems.append(
                    RowError(
                        self.cols.header(name),
                        value,
                        say(
                            Msg.DEVICE_KEY_REPEATED,
                            name=self.cols.header(name),
                            value=value,
                            n=len(lines),
                            lines=lines_text(lines),
                        ),
                    )
                )
        if problems:
            raise RowError.of([p for error in problems for p in error.problems])

    def parse(self, row: Row, key: str) -> Any:
        self._check_secondary(row)
        return self.parse_record(row, key)


class DeviceStep(SecondaryKeyStep):
    """A step whose rows are devices. Subclasses implement ``row_key`` and ``parse_device``,
    and may name their columns for messages in :attr:`column_for` (our column names:
    ``asset_tag``, ``serial``, ``site``, ``model``, ``status``, ``location``)."""

    entity = "devices"
    batch_size = 1000
    #: False: the row's model is used only to create a device (Google reports its own names).
    update_model: ClassVar[bool] = True
    #: Devices inserted before the table's statistics are first refreshed (then at each doubling).
    analyze_after: ClassVar[int] = 5000
    #: Logical field → the step's Column name (for headers in messages).
    column_for: ClassVar[dict[str, str]] = {}

    def __init__(self, importer: Any) -> None:
        super().__init__(importer)
        self.catalog: ModelCatalog | None = None
        self.sites: SiteIndex | None = None
        #: Devices inserted by this step, and the count at which the table is analyzed next.
        self._inserted = 0
        self._analyze_at = self.analyze_after
        self.tags_from_serial = 0
        self.tag_from_serial_line: int | None = None
        self.status_notes = 0
        scope = scope_for(importer.actor) if importer.actor is not None else None
        self.scope = scope
        self.device_site_field = scope.device_site_field if scope is not None else _ownership_field()

    # -- hooks for subclasses ---------------------------------------------------------

    def parse_device(self, row: Row, key: str) -> DeviceRecord:
        raise NotImplementedError

    def parse_record(self, row: Row, key: str) -> DeviceRecord:
        return self.parse_device(row, key)

    # -- helpers --------------------------------------------------------------------------

    def header_of(self, logical: str) -> str:
        name = self.column_for.get(logical, logical)
        return self.cols.header(name) if self.cols.has(name) else name

    def describe(self, device: dict[str, Any]) -> str:
        """``serial X`` for a device the actor may see; ``at another site`` otherwise."""
        if self.scope is not None and not self.scope.allows_site(device[self.device_site_field], VIEW):
            return "at another site"
        return f"serial {device['serial_number'] or 'none'}"

    def site_index(self) -> SiteIndex:
        if self.sites is None:
            self.sites = SiteIndex()
        return self.sites

    def model_catalog(self) -> ModelCatalog:
        if self.catalog is None:
            self.catalog = ModelCatalog()
        return self.catalog

    # -- planning -------------------------------------------------------------------------

    def plan(self, items: list[Item]) -> list[Change]:
        catalog = self.model_catalog()
        sites = self.site_index()
        records: list[DeviceRecord] = [item.record for item in items]
        serials = {r.serial.lower() for r in records if r.serial}
        tags = {r.asset_tag.lower() for r in records if r.asset_tag}
        tags |= {r.serial.lower() for r in records if r.tag_from_serial and not r.asset_tag and r.serial}
        by_serial: dict[str, list[dict[str, Any]]] = {}
        by_tag: dict[str, list[dict[str, Any]]] = {}
        if serials:
            for device in (
                Device.objects.annotate(serial_lower=Lower("serial_number"))
                .filter(serial_lower__in=serials)
                .values(*_DEVICE_VALUES)
                .order_by("pk")
            ):
                by_serial.setdefault(device["serial_number"].lower(), []).append(device)
        if tags:
            for device in (
                Device.objects.annotate(tag_lower=Lower("asset_tag"))
                .filter(tag_lower__in=tags)
                .values(*_DEVICE_VALUES)
                .order_by("pk")
            ):
                by_tag.setdefault(device["asset_tag"].lower(), []).append(device)
        context = _BatchContext(self, items, by_serial, by_tag)
        changes: list[Change] = []
        for item in items:
            changes += self._plan_item(item, context, catalog, sites)
        return changes

    def _plan_item(self, item: Item, ctx: _BatchContext, catalog: ModelCatalog, sites: SiteIndex) -> list[Change]:
        record: DeviceRecord = item.record
        device, error = ctx.match(record)
        if error is not None:
            return [self.reject(item, *error)]
        scope_site = self.importer.run.scope_site_id
        if device is not None and scope_site is not None and device[self.device_site_field] != scope_site:
            where = sites.name.get(device[self.device_site_field], "another site")
            column, value = (
                (self.header_of("serial"), record.serial)
                if record.serial
                else (self.header_of("asset_tag"), record.asset_tag or "")
            )
            if self.scope is not None and not self.scope.allows_site(device[self.device_site_field], VIEW):
                # A device the actor may not see: say nothing about it (no tag, no site name).
                return [self.reject(item, column, value, say(Msg.DEVICE_OUT_OF_SCOPE_HIDDEN, scope=self.importer.run.scope_site))]  # fmt: skip
            return [self.reject(item, column, value, say(Msg.DEVICE_OUT_OF_SCOPE, tag=device["asset_tag"], where=where, scope=self.importer.run.scope_site))]  # fmt: skip
        if device is None:
            return self._plan_new(item, record, ctx, catalog, sites)
        return self._plan_existing(item, record, device, ctx, catalog, sites)

    def _model_changes(self, ref: ModelRef, catalog: ModelCatalog) -> tuple[tuple[int, int] | None, list[Change]]:
        resolved = catalog.resolve(ref)
        if resolved is not None:
            return resolved, []
        key = ref.key()
        if key in catalog.planned:
            return None, []
        catalog.planned.add(key)
        return None, [Change(CREATED, data=ref, entity="models")]

    def _plan_new(
        self, item: Item, record: DeviceRecord, ctx: _BatchContext, catalog: ModelCatalog, sites: SiteIndex
    ) -> list[Change]:
        status = record.status or Status.IN_STOCK
        if not rules.new_device_status_ok(status):
            return [self.reject(item, self.header_of("status"), rules.status_label(status), rules.NEW_DEVICE_BAD_STATUS)]  # fmt: skip
        tag = record.asset_tag
        if not tag and record.tag_from_serial and record.serial:
            tag = record.serial
            self.tags_from_serial += 1
            if self.tag_from_serial_line is None:
                self.tag_from_serial_line = item.line
        if not tag:
            return [self.reject(item, self.header_of("asset_tag"), "", rules.NewDeviceProblem.NO_TAG.message)]
        too_long = rules.length_problem(tag, field="asset_tag")
        if too_long:
            return [self.reject(item, self.header_of("asset_tag"), tag, too_long)]
        clash = ctx.live_tag_owner(tag, exclude_pk=None)
        if clash is not None:
            return [self.reject(item, self.header_of("asset_tag"), tag, say(Msg.DEVICE_TAG_CLASH, device=self.describe(clash)))]  # fmt: skip
        missing = rules.new_device_missing(
            has_site=record.current_site_id is not None or record.owner_site_id is not None,
            has_model=record.model is not None,
        )
        if missing is not None:
            return [self.reject(item, self.header_of(missing.value), "", missing.message)]
        current = record.current_site_id or record.owner_site_id
        assert current is not None
        owner = record.owner_site_id or current
        for site_id in {current, owner}:
            if not sites.active.get(site_id, False):
                value, what = site_words(record, sites.name.get(site_id, ""))
                return [self.reject(item, self.header_of("site"), value, say(Msg.DEVICE_SITE_INACTIVE_NEW, what=what))]  # fmt: skip
        # Only now (a rejected row must not leave its model "planned": it would never be created).
        ref = catalog.spelled(record.model)
        resolved, changes = self._model_changes(ref, catalog)
        location_id = None
        if record.location:
            location_id = ctx.location_id(current, record.location)
            if location_id is None:
                self.warn(item.line, self.header_of("location"), record.location, f"is not a location at {sites.name[current]}; the device is added without a location", item.key)  # fmt: skip
        row = {
            "asset_tag": tag,
            "serial_number": record.serial,
            "manufacturer_id": resolved[1] if resolved else None,
            "model_id": resolved[0] if resolved else None,
            "status": status,
            "owner_site_id": owner,
            "current_site_id": current,
            "location_id": location_id,
            **{name: value for name, value in record.details.items() if value is not None},
        }
        for name in ("purchase_order", "vendor", "funding_source", "wifi_mac", "google_device_id", "notes"):
            if row.get(name) is None:
                row[name] = ""
        after = {
            "asset_tag": tag,
            "status": status,
            "owner_site": sites.code[owner],
            "current_site": sites.code[current],
        }
        plan = DevicePlan(None, row, model=None if resolved else ref, events=[(DeviceEvent.Kind.CREATED, {}, after)])
        changes.append(Change(CREATED, item, data=plan))
        changes += self._plan_last_seen(item, record, plan, None, ctx)
        changes += self._plan_checkout(item, record, plan, None, status, ctx)
        return changes

    def _plan_existing(
        self,
        item: Item,
        record: DeviceRecord,
        device: dict[str, Any],
        ctx: _BatchContext,
        catalog: ModelCatalog,
        sites: SiteIndex,
    ) -> list[Change]:
        changes: list[Change] = []
        row: dict[str, Any] = {"pk": device["pk"]}
        before: dict[str, Any] = {}
        after: dict[str, Any] = {}
        retired = device["status"] == Status.RETIRED

        def change(name: str, attname: str, old: Any, new: Any, old_label: Any = None, new_label: Any = None) -> None:
            row[attname] = new
            before[name] = _label(old if old_label is None else old_label)
            after[name] = _label(new if new_label is None else new_label)

        tag = record.asset_tag
        if tag and tag != device["asset_tag"]:
            too_long = rules.length_problem(tag, field="asset_tag")
            if too_long:
                return [self.reject(item, self.header_of("asset_tag"), tag, too_long)]
            clash = None if retired else ctx.live_tag_owner(tag, exclude_pk=device["pk"])
            if clash is not None:
                return [self.reject(item, self.header_of("asset_tag"), tag, say(Msg.DEVICE_TAG_CLASH, device=self.describe(clash)))]  # fmt: skip
            change("asset_tag", "asset_tag", device["asset_tag"], tag)
        if record.serial and record.serial.lower() != device["serial_number"].lower():
            change("serial_number", "serial_number", device["serial_number"], record.serial)
        if record.model is not None and self.update_model:
            ref = catalog.spelled(record.model)
            resolved, model_changes = self._model_changes(ref, catalog)
            if resolved is None or resolved[0] != device["model_id"]:
                changes += model_changes
                old_label = catalog.labels.get(device["model_id"], "")
                row["manufacturer_id"] = resolved[1] if resolved else None
                change("model", "model_id", device["model_id"], resolved[0] if resolved else None, old_label, ref.label)
        for name, value in record.details.items():
            if value is None:
                continue
            old = device[name]
            if name in ("purchase_order", "vendor", "funding_source", "wifi_mac", "google_device_id", "notes"):
                old = old or ""
            if name == "wifi_mac" and rules.mac_normalize(old) == value:
                continue  # the same address, written the old way
            if old != value:
                change(name, name, old, value)
        if record.owner_site_id is not None and record.owner_site_id != device["owner_site_id"]:
            old, new = device["owner_site_id"], record.owner_site_id
            change("owner_site", "owner_site_id", old, new, sites.code.get(old), sites.code.get(new))
        events: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
        if after:
            events.append((DeviceEvent.Kind.UPDATED, before, after))
        target_site = device["current_site_id"]
        location_name = device["location__name"]
        location_id = device["location_id"]
        if record.current_site_id is not None and record.current_site_id != device["current_site_id"]:
            refusal = rules.transfer_refusal(
                status=device["status"], has_open_assignment=ctx.open_holder(device["pk"]) is not None
            )
            value, what = site_words(record, sites.name.get(record.current_site_id, ""))
            if refusal == rules.TransferRefusal.RETIRED:
                self.warn(item.line, self.header_of("site"), value, say(Msg.DEVICE_NOT_TRANSFERRED_RETIRED, tag=device["asset_tag"]), item.key)  # fmt: skip
            elif refusal == rules.TransferRefusal.CHECKED_OUT:
                self.warn(item.line, self.header_of("site"), value, say(Msg.DEVICE_NOT_TRANSFERRED_CHECKED_OUT, tag=device["asset_tag"]), item.key)  # fmt: skip
            elif not sites.active.get(record.current_site_id, False):
                return [self.reject(item, self.header_of("site"), value, say(Msg.DEVICE_SITE_INACTIVE, what=what))]  # fmt: skip
            else:
                target_site = record.current_site_id
                row["current_site_id"] = target_site
                row["location_id"] = None
                events.append(
                    (
                        DeviceEvent.Kind.TRANSFERRED,
                        {"current_site": sites.code.get(device["current_site_id"]), "location": location_name},
                        {"current_site": sites.code[target_site], "location": None},
                    )
                )
                location_id, location_name = None, None
        if record.location is not None and not retired:
            wanted = ctx.location_id(target_site, record.location) if record.location else None
            if record.location and wanted is None:
                self.warn(item.line, self.header_of("location"), record.location, f"is not a location at {sites.name.get(target_site, 'its site')}; the device's location is left as it is", item.key)  # fmt: skip
            elif wanted != location_id:
                row["location_id"] = wanted
                new_name = record.location if wanted else None
                events.append((DeviceEvent.Kind.MOVED, {"location": location_name}, {"location": new_name}))
        status_note = rules.import_status_note(current=device["status"], given=record.status)
        if status_note is not None and record.status is not None:
            self.status_notes += 1
            self.warn(item.line, self.header_of("status"), rules.status_label(record.status), status_note, item.key)
        names = [name for name in row if name != "pk"]
        plan = DevicePlan(device["pk"], row, names=names, model=None, events=events)
        if "model_id" in row and row["model_id"] is None:
            plan.model = catalog.spelled(record.model) if record.model else None
        changes.append(Change(UPDATED if names else UNCHANGED, item, data=plan if names else None))
        status = device["status"]
        changes += self._plan_last_seen(item, record, plan, device["pk"], ctx)
        changes += self._plan_checkout(item, record, plan, device["pk"], status, ctx)
        return changes

    def _plan_last_seen(
        self, item: Item, record: DeviceRecord, plan: DevicePlan, device_pk: int | None, ctx: _BatchContext
    ) -> list[Change]:
        if record.last_seen is None:
            return []
        values = dict(zip(LAST_SEEN_FIELDS, record.last_seen, strict=True))
        current = ctx.last_seen.get(device_pk) if device_pk is not None else None
        if current is None:
            return [Change(CREATED, item, data=(plan, None, values), entity="last_seen")]
        if all(current[name] == values[name] for name in LAST_SEEN_FIELDS):
            return [Change(UNCHANGED, item, entity="last_seen")]
        return [Change(UPDATED, item, data=(plan, current["pk"], values), entity="last_seen")]

    def _plan_checkout(
        self, item: Item, record: DeviceRecord, plan: DevicePlan, device_pk: int | None, status: str, ctx: _BatchContext
    ) -> list[Change]:
        holder = record.holder
        if holder is None:
            return []

        def skipped(reason: str) -> list[Change]:
            self.warn(item.line, holder.column, holder.value, reason, item.key)
            return [Change(SKIPPED, item, entity="checkouts")]

        people = ctx.people(holder)
        if not people:
            return skipped(f"matches no person you may see (by {holder.by.replace('_', ' ')}); the device is not checked out")  # fmt: skip
        if len(people) > 1:
            return skipped(f"matches {len(people)} people (by {holder.by.replace('_', ' ')}); the device is not checked out")  # fmt: skip
        person = people[0]
        open_holder = ctx.open_holder(device_pk)
        if open_holder is not None:
            if open_holder.person_id == person["pk"]:
                return [Change(UNCHANGED, item, entity="checkouts")]
            # The holder is named through the gate (FERPA: it may be another school's student).
            whom = person_label_for(person=open_holder.person, user=self.importer.actor, label=open_holder.label)
            return skipped(f"but the device is checked out to {whom} in DeviceLedger; nothing changed (check it in first)")  # fmt: skip
        if person["status"] not in Person.CAN_RECEIVE_DEVICES:
            return skipped(f"is {Person.Status(person['status']).label.lower()}; devices only go to active people")
        if custody_rules.checkout_refusal(status=status) is not None:
            return skipped(f"but the device is {rules.status_label(status).lower()} and cannot be checked out")
        due_on = holder.due_on
        if custody_rules.due_date_in_past(due_on=due_on, today=ctx.today()):
            self.warn(item.line, holder.column, holder.value, f"the expected check-in date {due_on} is past; the check-out has no due date", item.key)  # fmt: skip
            due_on = None
        return [Change(CREATED, item, data=(plan, person["pk"], due_on), entity="checkouts")]

    # -- writing --------------------------------------------------------------------------

    def write(self, changes: list[Change]) -> None:
        run = self.importer.run
        catalog = self.model_catalog()
        models = [c.data for c in changes if c.entity == "models"]
        if models:
            created = inventory_bulk.device_models_write(
                models=[
                    {"manufacturer": ref.manufacturer, "name": ref.name, "model_number": ref.model_number or "",
                     "category": ref.category, "auto_update_expiration": ref.auto_update_expiration}
                    for ref in models
                ],
            )  # fmt: skip
            for ref in models:
                pk, maker_id = created[ref.key()]
                catalog.add(ref.key(), pk, maker_id, ref.label)
                catalog.makers.setdefault(ref.manufacturer.lower(), ref.manufacturer)
        device_plans = [c.data for c in changes if c.entity is None and c.outcome in (CREATED, UPDATED)]
        for plan in device_plans:
            if plan.model is not None:
                resolved = catalog.resolve(plan.model)
                if resolved is None:  # pragma: no cover - created just above or by an earlier batch
                    raise RuntimeError(f"device model {plan.model.label} was not created")
                plan.row["model_id"], plan.row["manufacturer_id"] = resolved
        creates = [plan for plan in device_plans if plan.pk is None]
        updates = [plan for plan in device_plans if plan.pk is not None]
        ids = inventory_bulk.devices_write(
            creates=[plan.row for plan in creates],
            updates=[(plan.row, [_field_name(n) for n in plan.names]) for plan in updates],
        )
        for plan in creates:
            plan.pk = ids[rules.tag_key(plan.row["asset_tag"])]
        self._inserted += len(creates)
        if self._inserted >= self._analyze_at:
            # Keep the planner's statistics up with a table filled in this transaction.
            services.import_statistics_refresh(models_=[Device])
            self._analyze_at = 2 * self._inserted
        mark = inventory_bulk.ImportMark(
            run_id=run.pk, actor_id=run.actor_id, actor_label=run.actor_label or actor_label(run.actor)
        )
        inventory_bulk.device_events_insert(
            mark=mark,
            events=[(plan.pk, kind, before, after) for plan in device_plans for kind, before, after in plan.events],
        )
        seen = [c for c in changes if c.entity == "last_seen"]
        if seen:
            inventory_bulk.last_seen_write(
                mark=mark,
                creates=[{"device_id": c.data[0].pk, **c.data[2]} for c in seen if c.outcome == CREATED],
                updates=[{"pk": c.data[1], **c.data[2]} for c in seen if c.outcome == UPDATED],
                fields=LAST_SEEN_FIELDS,
            )
        for change in changes:
            if change.entity == "checkouts" and change.outcome == CREATED:
                self._check_out(change)

    def _check_out(self, change: Change) -> None:
        from custody.services import device_check_out

        plan, person_pk, due_on = change.data
        run = self.importer.run
        try:
            device_check_out(
                device=Device(pk=plan.pk),
                person=Person.objects.get(pk=person_pk),
                actor=run.actor,
                due_on=due_on,
                notes=f"Imported from {run.file_name} (import #{run.pk}).",
                source=DeviceEvent.Source.IMPORT,
                import_run_id=run.pk,
            )
        except (DomainError, Http404, Person.DoesNotExist) as exc:
            item = change.item
            self.warn(
                item.line if item else None, "", "", f"the device was not checked out: {exc}", item.key if item else ""
            )

    def finish(self) -> Iterable[Change]:
        if self.tags_from_serial:
            self.report.note(
                f"{self.tags_from_serial} new device(s) have no asset tag in the file (first on line "
                f"{self.tag_from_serial_line}): their serial number is their asset tag."
            )
        return []


def _field_name(attname: str) -> str:
    return attname.removesuffix("_id") if attname.endswith("_id") and attname != "google_device_id" else attname


def _ownership_field() -> str:
    from sites.models import District

    return rules.device_site_field(District.get().ownership_mode)


@dataclass(frozen=True, slots=True)
class _PersonRef:
    """What the gate needs to name a person (:func:`core.scoping.person_label_for`)."""

    home_site_id: int | None


@dataclass(frozen=True, slots=True)
class OpenHolder:
    """Who holds a device now: the open assignment's person (``None``: removed), its stored
    label and the person's home site (for the gate)."""

    person_id: int | None
    label: str
    person: _PersonRef | None


class _BatchContext:
    """What the planning of one batch needs from the database, read in a few queries."""

    def __init__(
        self,
        step: DeviceStep,
        items: list[Item],
        by_serial: dict[str, list[dict[str, Any]]],
        by_tag: dict[str, list[dict[str, Any]]],
    ) -> None:
        self.step = step
        self.by_serial = by_serial
        self.by_tag = by_tag
        self.items = items
        self._locations: dict[tuple[int, str], int] | None = None
        records: list[DeviceRecord] = [item.record for item in items]
        known = [d["pk"] for devices in (*by_serial.values(), *by_tag.values()) for d in devices]
        self.last_seen: dict[int, dict[str, Any]] = {}
        if known and any(r.last_seen is not None for r in records):
            self.last_seen = {
                row["device_id"]: row
                for row in DeviceLastSeen.objects.filter(device_id__in=known).values(
                    "pk", "device_id", *LAST_SEEN_FIELDS
                )
            }
        self._known = known
        self._open: dict[int, OpenHolder] | None = None
        self._today: datetime.date | None = None
        holders = [r.holder for r in records if r.holder is not None]
        self._people: dict[tuple[str, str], list[dict[str, Any]]] = {}
        if holders:
            self._load_people(holders)

    def open_holder(self, device_pk: int | None) -> OpenHolder | None:
        """The holder of the device's open assignment, or None (one query a batch)."""
        if device_pk is None:
            return None
        if self._open is None:
            self._open = {
                device_id: OpenHolder(person_id, label, _PersonRef(home_site_id) if person_id is not None else None)
                for device_id, person_id, label, home_site_id in Assignment.objects.filter(
                    device_id__in=self._known, checked_in_at__isnull=True
                ).values_list("device_id", "person_id", "holder_label", "person__home_site_id")
            }
        return self._open.get(device_pk)

    def today(self) -> datetime.date:
        """Today in the district's time zone (for due dates; read once a batch)."""
        if self._today is None:
            self._today = custody_rules.district_today()
        return self._today

    def match(self, record: DeviceRecord) -> tuple[dict[str, Any] | None, tuple[str, str, str] | None]:
        """(device, None) or (None, None) for a new device, or (None, (column, value, reason))."""
        step = self.step
        if record.serial:
            candidates = rules.narrow_by_maker(
                self.by_serial.get(rules.serial_key(record.serial), []),
                maker=record.model.manufacturer if record.model is not None else None,
                maker_of=lambda d: d["manufacturer__name"],
            )
            if len(candidates) > 1:
                tags = ", ".join(f"{d['asset_tag']} ({d['manufacturer__name']})" for d in candidates[:5])
                return None, (step.header_of("serial"), record.serial, say(Msg.DEVICE_SERIAL_AMBIGUOUS, n=len(candidates), tags=tags))  # fmt: skip
            if candidates:
                return candidates[0], None
        tag = record.asset_tag
        if tag:
            pool = rules.tag_candidates(
                self.by_tag.get(rules.tag_key(tag), []), row_status=record.status, row_serial=record.serial
            )
            if len(pool) > 1 and record.status == Status.RETIRED and not record.serial:
                return None, (step.header_of("asset_tag"), tag, say(Msg.DEVICE_TAG_RETIRED_AMBIGUOUS, n=len(pool)))  # fmt: skip
            if pool:
                device = dict(pool[0])
                if rules.tag_of_other_device(serial=record.serial, device_serial=device["serial_number"]):
                    return None, (step.header_of("asset_tag"), tag, say(Msg.DEVICE_TAG_OF_OTHER_DEVICE, device=step.describe(device), serial=record.serial))  # fmt: skip
                return device, None
        return None, None

    def live_tag_owner(self, tag: str, *, exclude_pk: int | None) -> dict[str, Any] | None:
        for device in self.by_tag.get(rules.tag_key(tag), []):
            if device["pk"] != exclude_pk and rules.live_tag_clash(
                tag=tag, other_tag=device["asset_tag"], other_status=device["status"]
            ):
                return device
        return None

    def location_id(self, site_id: int, name: str) -> int | None:
        if self._locations is None:
            wanted = {
                (r.current_site_id, r.location.lower())
                for r in (item.record for item in self.items)
                if r.location and r.current_site_id
            }
            names = {name.lower() for _, name in wanted} | {name.lower()}
            self._locations = {
                (site, lowered): pk
                for pk, site, lowered in Location.objects.annotate(name_lower=Lower("name"))
                .filter(name_lower__in=names)
                .values_list("pk", "site_id", "name_lower")
            }
        found = self._locations.get((site_id, name.lower()))
        if found is None and (site_id, name.lower()) not in self._locations:
            row = (
                Location.objects.annotate(name_lower=Lower("name"))
                .filter(site_id=site_id, name_lower=name.lower())
                .values_list("pk", flat=True)
                .first()
            )
            if row is not None:
                self._locations[(site_id, name.lower())] = row
            found = row
        return found

    def _load_people(self, holders: list[Holder]) -> None:
        actor = self.step.importer.actor
        base = Person.objects.all() if actor is None else Person.objects.visible_to(actor, VIEW)
        fields = ("pk", "status", "email", "student_number")
        by: dict[str, set[str]] = {}
        for holder in holders:
            by.setdefault(holder.by, set()).add(holder.value if holder.by == "student_number" else holder.value.lower())
        for kind, values in by.items():
            if kind == "email":
                qs = base.annotate(match=Lower("email")).filter(match__in=values)
            elif kind == "username":
                local = Substr(Lower("email"), 1, Greatest(StrIndex("email", Value("@")) - 1, Value(0)))
                qs = base.filter(~Q(email="")).annotate(match=local).filter(match__in=values)
            elif kind == "student_number":  # a string, leading zeros kept; never an internal id
                qs = base.filter(student_number__in=values).annotate(match=Lower("student_number"))
            else:  # pragma: no cover - options are checked in prepare()
                continue
            for person in qs.values("match", *fields):
                key = person["student_number"] if kind == "student_number" else person["match"]
                self._people.setdefault((kind, key), []).append(person)

    def people(self, holder: Holder) -> list[dict[str, Any]]:
        value = holder.value if holder.by == "student_number" else holder.value.lower()
        return self._people.get((holder.by, value), [])


__all__ = [
    "DETAIL_FIELDS",
    "KNOWN_MAKERS",
    "LAST_SEEN_FIELDS",
    "DeviceRecord",
    "DeviceStep",
    "Holder",
    "ModelRef",
    "split_model",
]
