"""Writes to devices: create, edit, transfer, move, lost/stolen/found, loaner pool, retire.

Each service runs in one transaction, locks the device row, checks the rule, writes
the change and its :class:`~inventory.models.DeviceEvent` together. Services raise
:class:`core.errors.DomainError` subclasses with a user-readable message; they never
return half-done work. Custody (check-out/check-in) lives in ``custody.services``.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction

from core.changelog import Action, change_log_record, changes, resolve_source, snapshot
from core.errors import ConflictError, DomainError, WrongStateError
from core.scoping import CHANGE, get_visible_or_404, person_label_for
from core.types import Actor
from inventory import rules
from inventory.events import event_record
from inventory.models import Device, DeviceEvent, DeviceModel, Manufacturer
from sites.models import Location, Site

Status = Device.Status

#: Fields a device edit may change (custody, status, site and location have their own services).
EDITABLE_FIELDS = (
    "asset_tag",
    "serial_number",
    "model",
    "owner_site",
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


def device_lock(*, device: Device, actor: Actor | None = None) -> Device:
    """Re-read ``device`` with its row locked (``SELECT … FOR UPDATE``) inside the caller's transaction.

    When ``actor`` is given the device is resolved through the scoping gate with the
    ``change`` action, so a write can never reach a device the actor may not change
    (raises ``Http404``, which views show as 404). ``actor=None`` is the system.
    """
    qs = Device.objects.select_for_update()
    if actor is None:
        return qs.get(pk=device.pk)
    return get_visible_or_404(qs, actor, CHANGE, pk=device.pk)


def _label(value: Any) -> Any:
    """A JSON-safe label for an event's before/after."""
    if value is None or isinstance(value, (str, int, bool)):
        return value
    if isinstance(value, (Decimal, datetime.date)):
        return str(value)
    if isinstance(value, Site):
        return value.code
    return str(value)


def asset_tag_check(
    *, asset_tag: str, exclude_pk: int | None = None, status: str = Status.IN_STOCK, old_tag: str | None = None
) -> str:
    """Return the cleaned asset tag, or raise DomainError(field="asset_tag") when blank or taken.

    Asset tags are unique among live (not retired) devices, ignoring case. ``status`` and
    ``old_tag`` are the device's own (an edit): a retired device, or a tag left unchanged, is
    not checked (:func:`inventory.rules.tag_must_be_free`).
    """
    tag = (asset_tag or "").strip()
    if not tag:
        raise DomainError("Asset tag is required.", field="asset_tag")
    if len(tag) > rules.text_limit("asset_tag"):
        raise DomainError(f"Asset tag must be at most {rules.text_limit('asset_tag')} characters.", field="asset_tag")
    if not rules.tag_must_be_free(status=status, old_tag=old_tag, new_tag=tag):
        return tag
    if rules.live_tag_holders(tag, exclude_pk=exclude_pk).exists():
        raise DomainError(f"Asset tag '{tag}' is already used by another live device.", field="asset_tag")
    return tag


def serial_check(*, serial_number: str, model: DeviceModel, exclude_pk: int | None = None) -> str:
    """Return the cleaned serial number, or raise DomainError(field="serial_number") when taken by the same maker."""
    serial = (serial_number or "").strip()
    if serial and rules.serial_holders(serial, manufacturer_id=model.manufacturer_id, exclude_pk=exclude_pk).exists():
        raise DomainError(
            f"{model.manufacturer} already has a device with serial number '{serial}'.", field="serial_number"
        )
    return serial


def _save_checked(device: Device, **kwargs: Any) -> None:
    """Save, turning a database constraint violation into a DomainError."""
    try:
        with transaction.atomic():
            device.save(**kwargs)
    except IntegrityError as exc:
        raise DomainError("Asset tag or serial number is already in use by another device.") from exc


@transaction.atomic
def device_create(
    *,
    actor: Actor | None,
    asset_tag: str,
    model: DeviceModel,
    owner_site: Site,
    current_site: Site | None = None,
    serial_number: str = "",
    status: str = Status.IN_STOCK,
    source: str = DeviceEvent.Source.WEB,
    import_run_id: int | None = None,
    **details: Any,
) -> Device:
    """Add a device to inventory and record a ``created`` event.

    ``status`` may be in stock or loaner pool. ``details`` are other fields from
    :data:`EDITABLE_FIELDS` (purchase cost in USD as Decimal, dates as ``date``).
    Raises DomainError naming the field when the asset tag or serial is taken.
    """
    if not rules.new_device_status_ok(status):
        raise DomainError("A new device starts in stock or in the loaner pool.", field="status")
    unknown = set(details) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"device_create() got unexpected fields: {sorted(unknown)}")
    device = Device(
        asset_tag=asset_tag_check(asset_tag=asset_tag),
        serial_number=serial_check(serial_number=serial_number, model=model),
        model=model,
        owner_site=owner_site,
        current_site=current_site or owner_site,
        status=status,
        **details,
    )
    _save_checked(device)
    event_record(
        device=device,
        kind=DeviceEvent.Kind.CREATED,
        actor=actor,
        after={
            "asset_tag": device.asset_tag,
            "status": device.status,
            "owner_site": device.owner_site.code,
            "current_site": device.current_site.code,
        },
        source=source,
        import_run_id=import_run_id,
    )
    return device


@transaction.atomic
def device_update(
    *,
    device: Device,
    actor: Actor | None,
    source: str = DeviceEvent.Source.WEB,
    import_run_id: int | None = None,
    expected_version: str | None = None,
    **changes: Any,
) -> Device:
    """Change a device's details (fields in :data:`EDITABLE_FIELDS`); records what changed.

    ``expected_version`` is the device's ``updated_at`` (ISO text) when the form was
    opened: if the device changed since, ConflictError instead of overwriting someone
    else's edit. Returns the device unchanged (and writes no event) when nothing differs.
    Raises DomainError naming the field for a taken asset tag or serial.
    """
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"device_update() got unexpected fields: {sorted(unknown)}")
    device = device_lock(device=device, actor=actor if source == DeviceEvent.Source.WEB else None)
    if expected_version is not None and device.updated_at.isoformat() != expected_version:
        raise ConflictError(
            f"Someone else changed {device.asset_tag} after you opened this form. Reload it to see their changes, "
            "then make yours again."
        )
    if "asset_tag" in changes:
        changes["asset_tag"] = asset_tag_check(
            asset_tag=changes["asset_tag"], exclude_pk=device.pk, status=device.status, old_tag=device.asset_tag
        )
    model = changes.get("model", device.model)
    if "serial_number" in changes or "model" in changes:
        changes["serial_number"] = serial_check(
            serial_number=changes.get("serial_number", device.serial_number), model=model, exclude_pk=device.pk
        )
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for name, value in changes.items():
        old = getattr(device, name)
        if old != value:
            before[name] = _label(old)
            after[name] = _label(value)
            setattr(device, name, value)
    if not after:
        return device
    fields = [("model" if f == "model" else f) for f in after]
    _save_checked(device, update_fields=[*fields, "updated_at"])
    event_record(
        device=device,
        kind=DeviceEvent.Kind.UPDATED,
        actor=actor,
        before=before,
        after=after,
        source=source,
        import_run_id=import_run_id,
    )
    return device


def _transfer_refusal(*, device: Device, actor: Actor | None) -> str | None:
    """Why ``device`` (locked) may not be transferred by ``actor``, or ``None``. The holder is
    named through the gate (:func:`core.scoping.person_label_for`)."""
    open_assignment = device.assignments.filter(checked_in_at__isnull=True).select_related("person").first()
    refusal = rules.transfer_refusal(status=device.status, has_open_assignment=open_assignment is not None)
    if refusal == rules.TransferRefusal.RETIRED:
        return f"{device.asset_tag} is retired and cannot be transferred."
    if refusal == rules.TransferRefusal.CHECKED_OUT and open_assignment is not None:
        holder = person_label_for(person=open_assignment.person, user=actor, label=open_assignment.holder_label)
        return f"{device.asset_tag} is checked out to {holder}; check it in before transferring it."
    return None


def _bundle_to_transfer(*, device: Device, actor: Actor | None) -> list[Device]:
    """The accessories bundled with ``device`` that go along with its transfer, locked.

    Retired accessories stay (they have left the inventory). Raises WrongStateError, naming
    the accessory, while one is at a site the actor may not change (an asset tag the actor
    may not even see is not named), is at another site than the device, or is checked out.
    """
    accessories = list(
        Device.objects.select_for_update()
        .filter(bundled_with=device)
        .exclude(status=Status.RETIRED)
        .select_related("model", "current_site")
        .order_by("pk")
    )
    if not accessories:
        return []
    may_change = {a.pk for a in accessories}
    may_view = may_change
    if actor is not None:
        ids = [a.pk for a in accessories]
        may_change = set(Device.objects.visible_to(actor, CHANGE).filter(pk__in=ids).values_list("pk", flat=True))
        may_view = set(Device.objects.visible_to(actor).filter(pk__in=ids).values_list("pk", flat=True))
    for accessory in accessories:
        kind = accessory.model.get_category_display().lower()
        if accessory.pk not in may_change:
            what = f"{kind} {accessory.asset_tag}" if accessory.pk in may_view else "accessory"
            raise WrongStateError(
                f"Bundled {what} of {device.asset_tag} is at a site you may not change; ask a district technician "
                "to transfer them, or unbundle it there first."
            )
        if accessory.current_site_id != device.current_site_id:
            raise WrongStateError(
                f"Bundled {kind} {accessory.asset_tag} is at {accessory.current_site.name}, not with "
                f"{device.asset_tag}; bring it back or unbundle it before transferring {device.asset_tag}."
            )
        refusal = _transfer_refusal(device=accessory, actor=actor)
        if refusal is not None:
            raise WrongStateError(f"Bundled {kind} {refusal} Or unbundle it from {device.asset_tag} first.")
    return accessories


def _transfer_one(*, device: Device, to_site: Site, actor: Actor | None, note: str, source: str) -> None:
    before = {"current_site": device.current_site.code, "location": _label(device.location)}
    device.current_site = to_site
    device.location = None
    device.save(update_fields=["current_site", "location", "updated_at"])
    event_record(
        device=device,
        kind=DeviceEvent.Kind.TRANSFERRED,
        actor=actor,
        before=before,
        after={"current_site": to_site.code, "location": None},
        note=note,
        source=source,
    )


@transaction.atomic
def device_transfer(
    *, device: Device, to_site: Site, actor: Actor | None, note: str = "", source: str = DeviceEvent.Source.WEB
) -> Device:
    """Move a device to another site (its current site), with its bundled accessories.

    Clears a location at the old site. In decentralized districts the owner site does not
    change (edit the device for that). Each bundled accessory (``bundled_with`` = this
    device, not retired) moves in the same transaction with its own ``transferred`` event,
    so a bundle never ends up split between two schools.

    Raises WrongStateError for a retired or checked-out device (check it in first: the
    holder's school must keep seeing it; the holder is named only to an actor who may see
    them), when it is at ``to_site`` already, when ``to_site`` is inactive, and — naming the
    accessory — while a bundled accessory is checked out, at another site than the device,
    or at a site the actor may not change (nothing moves then).
    """
    device = device_lock(device=device, actor=actor)
    refusal = _transfer_refusal(device=device, actor=actor)
    if refusal is not None:
        raise WrongStateError(refusal)
    if device.current_site_id == to_site.pk:
        raise WrongStateError(f"{device.asset_tag} is already at {to_site.name}.", field="site")
    if not to_site.active:
        raise WrongStateError(f"{to_site.name} is inactive.", field="site")
    accessories = _bundle_to_transfer(device=device, actor=actor)
    _transfer_one(device=device, to_site=to_site, actor=actor, note=note, source=source)
    for accessory in accessories:
        accessory_note = f"with {device.asset_tag}" + (f": {note}" if note else "")
        _transfer_one(device=accessory, to_site=to_site, actor=actor, note=accessory_note, source=source)
    return device


@transaction.atomic
def device_move(
    *,
    device: Device,
    location: Location | None,
    actor: Actor | None,
    note: str = "",
    source: str = DeviceEvent.Source.WEB,
) -> Device:
    """Put a device in a room, cart or shelf at its current site (``None`` clears it).

    Raises WrongStateError when the location is at another site or the device is retired.
    """
    device = device_lock(device=device, actor=actor)
    if device.status == Status.RETIRED:
        raise WrongStateError(f"{device.asset_tag} is retired.")
    if location is not None and location.site_id != device.current_site_id:
        raise WrongStateError(
            f"{location.name} is at {location.site.name}, not at the device's site {device.current_site.name}; "
            "transfer the device first.",
            field="location",
        )
    if device.location_id == (location.pk if location else None):
        raise WrongStateError(f"{device.asset_tag} is already there.", field="location")
    before = {"location": _label(device.location)}
    device.location = location
    device.save(update_fields=["location", "updated_at"])
    event_record(
        device=device,
        kind=DeviceEvent.Kind.MOVED,
        actor=actor,
        before=before,
        after={"location": _label(location)},
        note=note,
        source=source,
    )
    return device


def _status_change(
    device: Device, *, to: str, actor: Actor | None, note: str, source: str, allowed_from: tuple[str, ...], verb: str
) -> Device:
    device = device_lock(device=device, actor=actor)
    if device.status not in allowed_from:
        raise WrongStateError(f"{device.asset_tag} is {device.get_status_display().lower()} and cannot be {verb}.")
    before = {"status": device.status}
    device.status = to
    device.save(update_fields=["status", "updated_at"])
    event_record(
        device=device,
        kind=DeviceEvent.Kind.STATUS_CHANGED,
        actor=actor,
        before=before,
        after={"status": to},
        note=note,
        source=source,
    )
    return device


@transaction.atomic
def device_mark_lost(
    *, device: Device, actor: Actor | None, note: str = "", source: str = DeviceEvent.Source.WEB
) -> Device:
    """Mark a device lost. An open check-out stays open: the holder remains responsible.

    Raises WrongStateError when it is lost, stolen or retired already.
    """
    allowed = (Status.IN_STOCK, Status.ASSIGNED, Status.LOANER_POOL, Status.IN_REPAIR)
    return _status_change(
        device, to=Status.LOST, actor=actor, note=note, source=source, allowed_from=allowed, verb="marked lost"
    )


@transaction.atomic
def device_mark_stolen(
    *, device: Device, actor: Actor | None, note: str = "", source: str = DeviceEvent.Source.WEB
) -> Device:
    """Mark a device stolen (note the police report number). An open check-out stays open.

    Raises WrongStateError when it is stolen or retired already.
    """
    allowed = (Status.IN_STOCK, Status.ASSIGNED, Status.LOANER_POOL, Status.IN_REPAIR, Status.LOST)
    return _status_change(
        device, to=Status.STOLEN, actor=actor, note=note, source=source, allowed_from=allowed, verb="marked stolen"
    )


@transaction.atomic
def device_mark_found(
    *, device: Device, actor: Actor | None, note: str = "", source: str = DeviceEvent.Source.WEB
) -> Device:
    """A lost or stolen device is back: assigned again if its check-out is still open, else in stock.

    To take it back from the holder, check it in afterwards (or check it in directly:
    check-in of a lost device also marks it found). Raises WrongStateError otherwise.
    """
    device = device_lock(device=device, actor=actor)
    to = Status.ASSIGNED if device.assignments.filter(checked_in_at__isnull=True).exists() else Status.IN_STOCK
    return _status_change(
        device,
        to=to,
        actor=actor,
        note=note,
        source=source,
        allowed_from=(Status.LOST, Status.STOLEN),
        verb="marked found",
    )


@transaction.atomic
def device_set_loaner_pool(
    *, device: Device, in_pool: bool, actor: Actor | None, note: str = "", source: str = DeviceEvent.Source.WEB
) -> Device:
    """Put an in-stock device into the loaner pool (``in_pool=True``) or take it out.

    Raises WrongStateError unless the device is in stock (to add) or in the pool (to remove).
    """
    if in_pool:
        return _status_change(
            device, to=Status.LOANER_POOL, actor=actor, note=note, source=source,
            allowed_from=(Status.IN_STOCK,), verb="added to the loaner pool",
        )  # fmt: skip
    return _status_change(
        device, to=Status.IN_STOCK, actor=actor, note=note, source=source,
        allowed_from=(Status.LOANER_POOL,), verb="taken out of the loaner pool",
    )  # fmt: skip


@transaction.atomic
def device_send_to_repair(
    *, device: Device, actor: Actor | None, note: str = "", source: str = DeviceEvent.Source.WEB
) -> Device:
    """Send an in-stock or loaner-pool device to repair (status "in repair").

    A device that is checked out is checked in first (with its condition), so the
    student's school sees the return. Raises WrongStateError otherwise.
    """
    return _status_change(
        device, to=Status.IN_REPAIR, actor=actor, note=note, source=source,
        allowed_from=(Status.IN_STOCK, Status.LOANER_POOL), verb="sent to repair (check it in first if it is out)",
    )  # fmt: skip


@transaction.atomic
def device_return_from_repair(
    *, device: Device, actor: Actor | None, note: str = "", source: str = DeviceEvent.Source.WEB
) -> Device:
    """A repaired device is back in stock. Raises WrongStateError unless it is in repair."""
    return _status_change(
        device, to=Status.IN_STOCK, actor=actor, note=note, source=source,
        allowed_from=(Status.IN_REPAIR,), verb="returned from repair",
    )  # fmt: skip


@transaction.atomic
def device_retire(
    *, device: Device, actor: Actor | None, note: str = "", source: str = DeviceEvent.Source.WEB
) -> Device:
    """Retire a device (end of life, written off). Its asset tag becomes free for reuse.

    Raises WrongStateError when it is checked out (check it in first) or retired already.
    Accessories bundled with it are unbundled.
    """
    device = device_lock(device=device, actor=actor)
    is_out = device.assignments.filter(checked_in_at__isnull=True).exists()
    if is_out and device.status not in (Status.LOST, Status.STOLEN):
        raise WrongStateError(f"{device.asset_tag} is checked out; check it in before retiring it.")
    allowed = (Status.IN_STOCK, Status.LOANER_POOL, Status.IN_REPAIR, Status.LOST, Status.STOLEN)
    if device.status not in allowed:
        raise WrongStateError(f"{device.asset_tag} is {device.get_status_display().lower()} and cannot be retired.")
    for accessory in Device.objects.select_for_update().filter(bundled_with=device).order_by("asset_tag"):
        accessory.bundled_with = None
        accessory.save(update_fields=["bundled_with", "updated_at"])
        event_record(
            device=accessory,
            kind=DeviceEvent.Kind.BUNDLED,
            actor=actor,
            before={"bundled_with": device.asset_tag},
            after={"bundled_with": None},
            note=f"{device.asset_tag} was retired",
            source=source,
        )
    return _status_change(
        device, to=Status.RETIRED, actor=actor, note=note, source=source, allowed_from=allowed, verb="retired"
    )


@transaction.atomic
def device_bundle(
    *, accessory: Device, primary: Device | None, actor: Actor | None, source: str = DeviceEvent.Source.WEB
) -> Device:
    """Bundle an accessory (charger, case, hotspot, stylus) with a primary device, or unbundle (``primary=None``).

    A bundled accessory goes out and comes back with its primary device. Raises
    DomainError when the accessory is not an accessory model, when the primary is itself
    an accessory, or when they are at different sites.
    """
    accessory = device_lock(device=accessory, actor=actor)
    if accessory.model.category not in DeviceModel.ACCESSORY_CATEGORIES:
        raise DomainError(f"{accessory.asset_tag} is a {accessory.model.get_category_display()}, not an accessory.")
    if primary is not None:
        if accessory.bundled_with_id and accessory.bundled_with_id != primary.pk:
            # The other device is named only to an actor who may see it (gate), else its site is not said.
            others = Device.objects.all() if actor is None else Device.objects.visible_to(actor)
            other = others.filter(pk=accessory.bundled_with_id).first()
            where = other.asset_tag if other is not None else "a device at another site"
            raise DomainError(
                f"{accessory.asset_tag} is bundled with {where}; unbundle it there first.",
                field="accessory_tag",
            )
        if accessory.bundled_with_id == primary.pk:
            raise DomainError(
                f"{accessory.asset_tag} is already bundled with {primary.asset_tag}.", field="accessory_tag"
            )
        if accessory.status == Status.ASSIGNED or primary.status == Status.ASSIGNED:
            raise DomainError(
                "Check the device and the accessory in before changing the bundle.", field="accessory_tag"
            )
        if primary.pk == accessory.pk or primary.model.category in DeviceModel.ACCESSORY_CATEGORIES:
            raise DomainError(f"{primary.asset_tag} is not a primary device.", field="primary")
        if primary.current_site_id != accessory.current_site_id:
            raise DomainError("An accessory and its device must be at the same site.", field="primary")
    before = {"bundled_with": _label(accessory.bundled_with)}
    accessory.bundled_with = primary
    accessory.save(update_fields=["bundled_with", "updated_at"])
    event_record(
        device=accessory,
        kind=DeviceEvent.Kind.BUNDLED,
        actor=actor,
        before=before,
        after={"bundled_with": _label(primary)},
        source=source,
    )
    return accessory


def device_get_or_404(*, user: Actor, pk: Any, action: str = "view") -> Device:
    """Resolve a device id from a request through the scoping gate (404 when out of scope)."""
    return get_visible_or_404(Device.objects.select_related("model", "current_site", "owner_site"), user, action, pk=pk)


# --- reference data: manufacturers and device models (each change logged, core.changelog) ---
# Replacement costs are what fees will charge, so every change to them keeps actor, time and
# before → after. ``source=None`` means web when an actor is given, command otherwise.


def _reference_save(obj: Any, *, action: str, before: dict[str, Any], after: dict[str, Any], actor: Actor | None,
                    source: str | None) -> None:  # fmt: skip
    obj.full_clean()
    obj.save()
    change_log_record(
        actor=actor, source=resolve_source(actor=actor, source=source), obj=obj, action=action, before=before,
        after=after,
    )  # fmt: skip


@transaction.atomic
def manufacturer_create(*, name: str, actor: Actor | None, source: str | None = None) -> Manufacturer:
    """Add a device maker (``ValidationError`` when the name is taken); logged."""
    maker = Manufacturer(name=name.strip())
    _reference_save(maker, action=Action.CREATED, before={}, after={"name": maker.name}, actor=actor, source=source)
    return maker


@transaction.atomic
def manufacturer_update(
    *, manufacturer: Manufacturer, name: str, actor: Actor | None, source: str | None = None
) -> Manufacturer:
    """Rename a device maker; logged when the name changed."""
    maker = Manufacturer.objects.select_for_update().get(pk=manufacturer.pk)
    before, after = changes(instance=maker, new_values={"name": name.strip()})
    maker.name = name.strip()
    _reference_save(maker, action=Action.CHANGED, before=before, after=after, actor=actor, source=source)
    return maker


@transaction.atomic
def manufacturer_delete(*, manufacturer: Manufacturer, actor: Actor | None, source: str | None = None) -> None:
    """Remove a maker no model or device uses (``ProtectedError`` otherwise); logged."""
    change_log_record(
        actor=actor, source=resolve_source(actor=actor, source=source), obj=manufacturer, action=Action.DELETED,
        before={"name": manufacturer.name}, after={},
    )  # fmt: skip
    manufacturer.delete()


@transaction.atomic
def device_model_create(*, actor: Actor | None, source: str | None = None, **fields: Any) -> DeviceModel:
    """Add a device model (``manufacturer``, ``name``, ``model_number``, ``category``,
    ``replacement_cost`` as ``Decimal`` USD, ``service_life_months``, ``auto_update_expiration``).
    Raises ``ValidationError`` for an invalid or duplicate model; logged."""
    model = DeviceModel(**fields)
    model.full_clean()
    model.save()
    change_log_record(
        actor=actor, source=resolve_source(actor=actor, source=source), obj=model, action=Action.CREATED,
        before={}, after=snapshot(model),
    )  # fmt: skip
    return model


@transaction.atomic
def device_model_update(
    *, device_model: DeviceModel, actor: Actor | None, source: str | None = None, **fields: Any
) -> DeviceModel:
    """Change a device model's fields (e.g. ``replacement_cost=Decimal("319.00")``); logged with
    before → after of the fields that changed. Raises ``ValidationError`` for an invalid value."""
    model = DeviceModel.objects.select_for_update(of=("self",)).select_related("manufacturer").get(pk=device_model.pk)
    before, after = changes(instance=model, new_values=fields)
    for name, value in fields.items():
        setattr(model, name, value)
    _reference_save(model, action=Action.CHANGED, before=before, after=after, actor=actor, source=source)
    return model


@transaction.atomic
def device_model_delete(*, device_model: DeviceModel, actor: Actor | None, source: str | None = None) -> None:
    """Remove a model no device uses (``ProtectedError`` otherwise); logged."""
    change_log_record(
        actor=actor, source=resolve_source(actor=actor, source=source), obj=device_model, action=Action.DELETED,
        before=snapshot(device_model), after={},
    )  # fmt: skip
    device_model.delete()
