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
  differing status is a warning). Retired devices are not transferred. A device matched by its
  serial number gets the row's other asset tag with a warning naming both tags, and never while
  it is checked out (a row error: ``inventory.rules.import_retag_refused``).
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

Where things are: the records and their parsing helpers in ``imports.device_records``, the
batch's matching context in ``imports.device_match``, planning and writing here (the public
names of all three are importable from here).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from django.db.models.functions import Lower
from django.http import Http404

from core.errors import DomainError
from core.scoping import CHANGE, VIEW, person_label_for, scope_for
from custody import rules as custody_rules
from imports import services
from imports.device_match import _DEVICE_VALUES, BatchContext, OpenHolder
from imports.device_records import (  # re-exported: the steps and tests import them from here
    DETAIL_FIELDS,
    LAST_SEEN_FIELDS,
    DevicePlan,
    DeviceRecord,
    Holder,
    ModelCatalog,
    ModelRef,
    SecondaryKeyStep,
    SiteIndex,
    _label,
    check_date_order,
    detail_date_problems,
    lines_text,
    site_words,
)
from imports.messages import Msg, say
from imports.pipeline import CREATED, SKIPPED, UNCHANGED, UPDATED, Change, Item
from imports.reading import Row
from inventory import bulk as inventory_bulk
from inventory import rules
from inventory.events import actor_label
from inventory.models import Device, DeviceEvent
from inventory.models_catalog import KNOWN_MAKERS, split_model  # re-exported (older imports)
from people import rules as people_rules
from people.models import Person

Status = Device.Status


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
    #: True: a holder the row names that matches no person (or several) rejects the row
    #: (Snipe-IT's check-outs); False: a warning, and the device is imported without custody.
    holders_required: bool = False
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
        serials = {rules.serial_key(r.serial) for r in records if r.serial}
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
                by_serial.setdefault(rules.serial_key(device["serial_number"]), []).append(device)
        if tags:
            for device in (
                Device.objects.annotate(tag_lower=Lower("asset_tag"))
                .filter(tag_lower__in=tags)
                .values(*_DEVICE_VALUES)
                .order_by("pk")
            ):
                by_tag.setdefault(device["asset_tag"].lower(), []).append(device)
        context = BatchContext(self, items, by_serial, by_tag)
        changes: list[Change] = []
        for item in items:
            changes += self._plan_item(item, context, catalog, sites)
        return changes

    def _plan_item(self, item: Item, ctx: BatchContext, catalog: ModelCatalog, sites: SiteIndex) -> list[Change]:
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
        unmatched = self._holder_unmatched(item, record, ctx)
        if unmatched is not None:
            return [unmatched]
        if device is None:
            return self._plan_new(item, record, ctx, catalog, sites)
        return self._plan_existing(item, record, device, ctx, catalog, sites)

    def _holder_unmatched(self, item: Item, record: DeviceRecord, ctx: BatchContext) -> Change | None:
        """The row's rejection when it names a holder that matches no person (or several) and
        :attr:`holders_required` (Snipe-IT, unless the run imports devices without custody):
        in an all-or-nothing run the device is not created without its custody."""
        holder = record.holder
        if holder is None or not self.holders_required:
            return None
        people = ctx.people(holder)
        by = holder.by.replace("_", " ")
        if not people:
            return self.reject(item, holder.column, holder.value, say(Msg.DEVICE_HOLDER_UNMATCHED, by=by))
        if len(people) > 1:
            return self.reject(item, holder.column, holder.value, say(Msg.DEVICE_HOLDER_AMBIGUOUS, n=len(people), by=by))  # fmt: skip
        return None

    def _model_refused(self, item: Item, ref: ModelRef, catalog: ModelCatalog) -> Change | None:
        """The row's rejection when its model is new and the actor may not add models
        (:func:`inventory.rules.may_create_models`: site staff ask the district office)."""
        if catalog.resolve(ref) is not None:
            return None
        everywhere = self.scope is None or self.scope.allows_everywhere(CHANGE)
        if rules.may_create_models(everywhere_change=everywhere):
            return None
        label = ref.label + (f" (model number {ref.model_number})" if ref.model_number else "")
        return self.reject(item, self.header_of("model"), ref.name, say(Msg.DEVICE_MODEL_NOT_CREATED, model=label))

    def _model_changes(self, ref: ModelRef, catalog: ModelCatalog) -> tuple[tuple[int, int] | None, list[Change]]:
        resolved = catalog.resolve(ref)
        if resolved is not None:
            return resolved, []
        if not catalog.plan(ref):
            return None, []
        return None, [Change(CREATED, data=ref, entity="models")]

    def _plan_new(
        self, item: Item, record: DeviceRecord, ctx: BatchContext, catalog: ModelCatalog, sites: SiteIndex
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
        assert record.model is not None  # new_device_missing said so
        current = record.current_site_id or record.owner_site_id
        assert current is not None
        owner = record.owner_site_id or current
        for site_id in {current, owner}:
            if not sites.active.get(site_id, False):
                value, what = site_words(record, sites.name.get(site_id, ""))
                return [self.reject(item, self.header_of("site"), value, say(Msg.DEVICE_SITE_INACTIVE_NEW, what=what))]  # fmt: skip
        # Only now (a rejected row must not leave its model "planned": it would never be created).
        ref = catalog.spelled(record.model)
        refused = self._model_refused(item, ref, catalog)
        if refused is not None:
            return [refused]
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
        ctx: BatchContext,
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
        retag_note: str | None = None
        if tag and tag != device["asset_tag"]:
            too_long = rules.length_problem(tag, field="asset_tag")
            if too_long:
                return [self.reject(item, self.header_of("asset_tag"), tag, too_long)]
            must_be_free = rules.tag_must_be_free(status=device["status"], old_tag=device["asset_tag"], new_tag=tag)
            clash = ctx.live_tag_owner(tag, exclude_pk=device["pk"]) if must_be_free else None
            if clash is not None:
                return [self.reject(item, self.header_of("asset_tag"), tag, say(Msg.DEVICE_TAG_CLASH, device=self.describe(clash)))]  # fmt: skip
            if rules.import_retag(old_tag=device["asset_tag"], new_tag=tag):
                # Matched by serial (a match by tag has the same tag ignoring case).
                old_tag, serial = device["asset_tag"], record.serial or device["serial_number"]
                has_open = ctx.open_holder(device["pk"]) is not None
                if rules.import_retag_refused(old_tag=old_tag, new_tag=tag, status=device["status"], has_open_assignment=has_open):  # fmt: skip
                    return [self.reject(item, self.header_of("asset_tag"), tag, rules.import_retag_refusal(old_tag=old_tag, serial=serial))]  # fmt: skip
                retag_note = rules.import_retag_note(old_tag=old_tag, new_tag=tag, serial=serial)
            change("asset_tag", "asset_tag", device["asset_tag"], tag)
        if record.serial and rules.serial_key(record.serial) != rules.serial_key(device["serial_number"]):
            change("serial_number", "serial_number", device["serial_number"], record.serial)
        if record.model is not None and self.update_model:
            ref = catalog.spelled(record.model)
            refused = self._model_refused(item, ref, catalog)
            if refused is not None:
                return [refused]
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
        if after and not rules.import_may_change(status=device["status"]):
            # (a retired device is never transferred or moved: warned above)
            fields = ", ".join(_FIELD_WORDS.get(name, name.replace("_", " ")) for name in after)
            self.warn(item.line, self.header_of("asset_tag"), device["asset_tag"], say(Msg.DEVICE_RETIRED_NOT_CHANGED, tag=device["asset_tag"], fields=fields), item.key)  # fmt: skip
            return [Change(SKIPPED, item), *self._plan_checkout(item, record, DevicePlan(device["pk"], {}), device["pk"], device["status"], ctx)]  # fmt: skip
        if retag_note is not None:  # the row is not rejected past this point: say it in the preview
            self.warn(item.line, self.header_of("asset_tag"), tag or "", retag_note, item.key)
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
        self, item: Item, record: DeviceRecord, plan: DevicePlan, device_pk: int | None, ctx: BatchContext
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
        self, item: Item, record: DeviceRecord, plan: DevicePlan, device_pk: int | None, status: str, ctx: BatchContext
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
        if not people_rules.may_receive_devices(person["status"]):
            return skipped(f"is {Person.Status(person['status']).label.lower()}; devices only go to active people")
        if custody_rules.checkout_refusal(status=status) is not None:
            return skipped(f"but the device is {rules.status_label(status).lower()} and cannot be checked out")
        due_on = holder.due_on
        due_problem = custody_rules.due_date_problem(due_on=due_on, today=ctx.today())
        if due_problem is not None:
            self.warn(item.line, holder.column, holder.value, f"the expected check-in date {due_on} {due_problem}; the check-out has no due date", item.key)  # fmt: skip
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
                catalog.add(ref.manufacturer, ref.name, ref.model_number or "", pk=pk, maker_id=maker_id)
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


#: Words for the fields a retired device keeps (``Msg.DEVICE_RETIRED_NOT_CHANGED``).
_FIELD_WORDS = {"asset_tag": "asset tag", "serial_number": "serial number", "owner_site": "owner site",
                "wifi_mac": "Wi-Fi MAC address", "google_device_id": "Google device id"}  # fmt: skip


def _field_name(attname: str) -> str:
    return attname.removesuffix("_id") if attname.endswith("_id") and attname != "google_device_id" else attname


def _ownership_field() -> str:
    from sites.models import District

    return rules.device_site_field(District.get().ownership_mode)


__all__ = [
    "DETAIL_FIELDS",
    "KNOWN_MAKERS",
    "LAST_SEEN_FIELDS",
    "DeviceRecord",
    "DevicePlan",
    "DeviceStep",
    "Holder",
    "ModelCatalog",
    "ModelRef",
    "OpenHolder",
    "SecondaryKeyStep",
    "SiteIndex",
    "check_date_order",
    "detail_date_problems",
    "lines_text",
    "site_words",
    "split_model",
]
