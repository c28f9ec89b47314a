"""Device rows, matched: what the planning of one batch of device rows reads from the
database (split from ``imports.device_rows``): the devices the rows' serial numbers and asset
tags name, matched by ``inventory.rules`` (narrowed by maker, a tag of another device, retired
devices by tag and serial), their open assignments and last-seen facts, locations and the
people the rows' holders name (only people the importing user may see).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import Q, Value
from django.db.models.functions import Greatest, Lower, StrIndex, Substr

from core.scoping import VIEW
from custody import rules as custody_rules
from custody.models import Assignment
from imports.device_records import DETAIL_FIELDS, LAST_SEEN_FIELDS, DeviceRecord, Holder
from imports.messages import Msg, say
from imports.pipeline import Item
from inventory import rules
from inventory.models import Device, DeviceLastSeen
from people.models import Person
from sites.models import Location

if TYPE_CHECKING:
    from imports.device_rows import DeviceStep

Status = Device.Status

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


@dataclass(frozen=True, slots=True)
class _PersonRef:
    """What the gate needs to name a person (:func:`core.scoping.person_label_for`)."""

    home_site_id: int | None
    label: str


@dataclass(frozen=True, slots=True)
class OpenHolder:
    """Who holds a device now: the open assignment's person (``None``: removed), its stored
    label and the person's home site (for the gate)."""

    person_id: int | None
    label: str
    person: _PersonRef | None


class BatchContext:
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
                device_id: OpenHolder(
                    person_id, label, _PersonRef(home_site_id, label) if person_id is not None else None
                )
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
