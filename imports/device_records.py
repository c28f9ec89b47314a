"""Device rows, read: what a device importer's step parses each row into and the small
indexes it reads them with (split from ``imports.device_rows``, which matches, plans and
writes them).

* :class:`DeviceRecord` (with :class:`ModelRef`, :class:`Holder`): one parsed device row;
  :class:`DevicePlan`: what ``DeviceStep.write`` does for one device.
* :class:`ModelCatalog`, :class:`SiteIndex`: device models and sites by their names.
* :class:`SecondaryKeyStep`: a step that also refuses repeated second identifiers.
* :func:`check_date_order`, :func:`detail_date_problems`, :func:`site_words`,
  :func:`lines_text`: options and words shared by the device steps.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from imports.messages import Msg, say
from imports.pipeline import RowError, Step
from imports.reading import Row
from inventory import rules
from inventory.models import Device, DeviceModel, Manufacturer
from inventory.models_catalog import model_key, model_match
from sites.models import Site

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
    """Every device model (a few hundred), looked up as ``inventory.models_catalog.model_match``
    says (by model number, else by name, ignoring case and spaces), per manufacturer (ignoring
    case and spaces too). Models a batch plans to create are matched the same way, so two
    spellings in one file make one model."""

    def __init__(self) -> None:
        #: Maker key → [(model id, name, model number)], oldest first; and model id → maker id.
        self.models: dict[str, list[tuple[int, str, str]]] = {}
        self.maker_of: dict[int, int] = {}
        self.labels: dict[int, str] = {}
        #: Maker key → [(0, name, model number)] of the models planned (created in ``write``).
        self.planned_models: dict[str, list[tuple[int, str, str]]] = {}
        for pk, maker_id, maker, name, number in DeviceModel.objects.order_by("pk").values_list(
            "pk", "manufacturer_id", "manufacturer__name", "name", "model_number"
        ):
            self.add(maker, name, number, pk=pk, maker_id=maker_id)
        self.makers = {name.lower(): name for name in Manufacturer.objects.values_list("name", flat=True)}

    def add(self, maker: str, name: str, number: str, *, pk: int, maker_id: int) -> None:
        """Know model ``pk`` (just created, or read)."""
        entries = self.models.setdefault(model_key(maker), [])
        if all(entry[0] != pk for entry in entries):
            entries.append((pk, name, number or ""))
        self.maker_of[pk] = maker_id
        self.labels[pk] = f"{maker} {name}"

    @staticmethod
    def _find(entries: list[tuple[int, str, str]], ref: ModelRef) -> int | None:
        maker = ref.manufacturer.strip()
        names = [ref.name, f"{maker} {ref.name}"]
        if model_key(ref.name).startswith(model_key(maker)) and ref.name[: len(maker)].lower() == maker.lower():
            names.append(ref.name[len(maker) :])
        for name in names:
            found = model_match(entries, name=name, model_number=ref.model_number)
            if found is not None:
                return found
        return None

    def resolve(self, ref: ModelRef) -> tuple[int, int] | None:
        """(model id, manufacturer id), or None when the model is still to be created.

        The name matches with or without the maker in front ("Lenovo 100e" or "100e")."""
        found = self._find(self.models.get(model_key(ref.manufacturer), []), ref)
        return (found, self.maker_of[found]) if found is not None else None

    def plan(self, ref: ModelRef) -> bool:
        """Note that ``ref`` is to be created; False when a model it matches is planned already."""
        entries = self.planned_models.setdefault(model_key(ref.manufacturer), [])
        if self._find(entries, ref) is not None:
            return False
        entries.append((0, ref.name, ref.model_number or ""))
        return True

    def spelled(self, ref: ModelRef) -> ModelRef:
        """``ref`` with the manufacturer spelled as it is here already (``LENOVO`` → ``Lenovo``)."""
        known = self.makers.get(ref.manufacturer.strip().lower())
        if known is None:
            squeezed = model_key(ref.manufacturer)
            known = next((name for name in self.makers.values() if model_key(name) == squeezed), None)
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
