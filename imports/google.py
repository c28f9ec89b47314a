"""Google Admin ChromeOS devices → devices, device models and "last seen" facts.

Input: one CSV (any delimiter, ``;`` included; or an XLSX) in either shape:

* GAM ``print cros``: Directory API field names — ``deviceId, annotatedAssetId,
  annotatedUser, autoUpdateExpiration, bootMode, lastSync, macAddress, model, orgUnitPath,
  osVersion, recentUsers.0.email, serialNumber, status`` … (``recentUsers`` flattened as
  ``recentUsers.N.email``; index 0 is the most recent, as the API lists them);
* the Admin console's download: title-case names (``Serial Number``, ``Asset ID`` /
  ``Annotated Asset Id``, ``Org Unit Path``, ``Annotated User``, ``Recent Users`` /
  ``Most Recent User``, ``Status``, ``OS Version``, ``Last Sync``, ``Model``,
  ``Mac Address``, ``Enrollment Time`` …), matched through the alias table below.

Source of the field names and values: ``../shared/formats.md`` ("Google Admin: ChromeOS
devices"): ``lastSync`` RFC 3339; ``macAddress`` 12 hex digits; ``autoUpdateExpiration``
epoch milliseconds (a date is accepted too); ``status`` ``ACTIVE``/``DISABLED``/….

Rules:

* Devices match on ``serialNumber`` (ignoring case). The asset tag is the annotated asset
  id; a new device without one takes its serial number as its tag (a note counts them); an
  existing device without one keeps its tag.
* The site is the org unit path's site (``imports.OrgUnitMapping``, the longest prefix
  wins); a path mapped to no site is a row error naming the path. A site change of an
  existing device is a transfer (``transferred`` event).
* The model (``"Lenovo 100e Chromebook Gen 3"``) is used for new devices only: the maker is
  the first word (spelled as in :data:`inventory.models_catalog.KNOWN_MAKERS` or as already
  here), the model is found by name or created (category Chromebook, Chromebox/Chromebase
  as other) with the row's AUE — only for rows that parsed and are planned.
* ``deviceId`` and the MAC address (stored ``AA:BB:CC:DD:EE:FF``) are device details
  (``updated`` event when they change). ``lastSync`` (aware UTC), the most recent user, the
  OS version, the AUE (a date), the boot mode and Google's status go to
  ``inventory.DeviceLastSeen`` — facts, not custody.
* Option ``create_checkouts`` (default off): the annotated user (else the most recent user)
  is matched by email to one person the importing user may see and the device is checked
  out to them (``custody.services.device_check_out``, source import). Already out to that
  person: unchanged; out to someone else or not available: a warning, no change.

Site staff may import for their own site only (rows for other org units are rejected).
"""

from __future__ import annotations

import datetime
import re
from typing import Any, ClassVar

from core.scoping import scope_for
from imports.device_rows import DeviceRecord, DeviceStep, Holder, ModelRef, check_date_order
from imports.messages import Msg, say
from imports.models import ImportRun, OrgUnitMapping
from imports.pipeline import Column, FileError, Importer, Problem, RowError, Step
from imports.reading import Row, Table
from imports.selectors import org_unit_resolver
from imports.values import parse_date, parse_datetime
from inventory import rules
from inventory.models import DeviceLastSeen, DeviceModel, Manufacturer
from inventory.models_catalog import model_category, split_model
from inventory.rules import mac_normalize

__all__ = ["GoogleDeviceStep", "GoogleImporter", "model_category", "parse_aue"]  # model_category: older imports

_MONTHS = {m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}  # fmt: skip
_YEAR_MONTH_RE = re.compile(r"(\d{4})-(\d{1,2})")
_MONTH_YEAR_RE = re.compile(r"([A-Za-z]{3})[A-Za-z]*\.?\s+(\d{4})")


def parse_aue(value: str, *, order: str = "MDY") -> datetime.date | None:
    """An auto-update expiration: epoch milliseconds (the API: ``1906502400000`` → 2030-06-01,
    read in UTC), a date (``2030-06-01`` or the local order), or a month (``2030-06``,
    ``Jun 2030`` → the 1st). None for blank; ValueError otherwise."""
    text = value.strip()
    if not text:
        return None
    if text.isdigit() and 12 <= len(text) <= 13:
        moment = parse_datetime(text)
        assert moment is not None
        return moment.date()
    match = _YEAR_MONTH_RE.fullmatch(text)
    if match and 1 <= int(match[2]) <= 12:
        return datetime.date(int(match[1]), int(match[2]), 1)
    match = _MONTH_YEAR_RE.fullmatch(text)
    if match and match[1].lower() in _MONTHS:
        return datetime.date(int(match[2]), _MONTHS[match[1].lower()], 1)
    try:
        return parse_date(text, order=order)
    except ValueError:
        raise ValueError(f"expected epoch milliseconds or a date such as 2030-06-01, got {text!r}") from None


class GoogleImporter(Importer):
    """Google Admin ChromeOS devices (GAM ``print cros`` or the console download)."""

    kind = ImportRun.Kind.GOOGLE
    entities = (
        ("devices", "Devices"),
        ("models", "Device models"),
        ("last_seen", "Last seen in Google Admin"),
        ("checkouts", "Check-outs"),
    )
    district_admin_only = False
    default_options: ClassVar[dict[str, Any]] = {"create_checkouts": False, "date_order": "MDY"}

    def prepare(self) -> None:
        check_date_order(self.options)
        admin = self.actor is None or scope_for(self.actor).is_district_admin
        #: The reason given for an unmapped org unit: the mapping page is for district admins only.
        self.unmapped_reason = (
            "is mapped to no site; map it (or a parent org unit) under Imports → Org units"
            if admin
            else "is mapped to no site; ask a district admin to map this org unit (or a parent org unit) to a site"
        )
        if not OrgUnitMapping.objects.exists():
            where = "map them under Imports → Org units first" if admin else "ask a district admin to map them first"
            raise FileError(
                self.run.file_name,
                f"no org unit path is mapped to a site yet: {where} (the org unit decides each device's site)",
            )
        self.org_unit_site = org_unit_resolver()
        self._org_unit_cache: dict[str, int | None] = {}

    def site_of(self, path: str) -> int | None:
        """Site id of an org unit path (memoized: a district has a few thousand org units)."""
        if path not in self._org_unit_cache:
            if len(self._org_unit_cache) > 20_000:
                self._org_unit_cache.clear()
            self._org_unit_cache[path] = self.org_unit_site(path)
        return self._org_unit_cache[path]

    @property
    def create_checkouts(self) -> bool:
        value = self.options.get("create_checkouts", False)
        return value is True or str(value).strip().lower() in ("1", "true", "yes", "on")

    def steps(self) -> list[Step]:
        from imports.google_sql import SetBasedGoogleStep, set_based_google_enabled

        if set_based_google_enabled(self):  # PostgreSQL: the file in a few set-based statements
            return [SetBasedGoogleStep(self)]
        return [GoogleDeviceStep(self)]

    def _run_step(self, step: Step, *, number: int, of: int) -> None:
        from imports.google_sql import SetBasedGoogleStep

        if isinstance(step, SetBasedGoogleStep):
            step.run(number=number, of=of)  # its own passes (stage, check, plan, apply)
        else:
            super()._run_step(step, number=number, of=of)


class GoogleDeviceStep(DeviceStep):
    """The device list → devices (matched on serial number), models, last-seen facts."""

    importer: GoogleImporter
    key_label = "serialNumber"
    update_model = False
    columns = (
        Column("serialNumber", ("Serial Number", "Serial", "serial_number", "Serial No"), required=True),
        Column("orgUnitPath", ("Org Unit Path", "Org Unit", "Organizational Unit", "OU Path"), required=True),
        Column("annotatedAssetId", ("Annotated Asset Id", "Asset ID", "Annotated Asset ID", "Asset Tag")),
        Column("model", ("Model",)),
        Column("annotatedUser", ("Annotated User", "User")),
        Column("recentUsers.0.email", ("Most Recent User", "Recent Users", "Recent User", "recentUsers.email")),
        Column("lastSync", ("Last Sync", "Last Sync Time", "Last Policy Sync")),
        Column("osVersion", ("OS Version", "Chrome OS Version", "ChromeOS Version", "Os Version")),
        Column(
            "autoUpdateExpiration",
            ("Auto Update Expiration", "Auto-update expiration", "AUE", "autoUpdateThrough", "Auto Update Through"),
        ),  # fmt: skip
        Column("bootMode", ("Boot Mode",)),
        Column("status", ("Status",)),
        Column("macAddress", ("Mac Address", "MAC Address", "Wi-Fi MAC", "WiFi MAC Address")),
        Column("deviceId", ("Device Id", "Device ID")),
        Column("lastEnrollmentTime", ("Enrollment Time", "Last Enrollment Time")),
    )
    column_for: ClassVar[dict[str, str]] = {
        "asset_tag": "annotatedAssetId",
        "serial": "serialNumber",
        "site": "orgUnitPath",
        "model": "model",
    }

    def __init__(self, importer: GoogleImporter) -> None:
        super().__init__(importer)
        self.file = importer.run.file_name

    @property
    def title(self) -> str:
        return f"{self.file} → devices"

    def open(self) -> Table:
        return self.importer.open_single_table()

    def bind(self, table: Table) -> None:
        super().bind(table)
        self.has_last_seen = any(
            self.cols.has(name)
            for name in ("lastSync", "recentUsers.0.email", "osVersion", "autoUpdateExpiration", "bootMode", "status")
        )

    def row_key(self, row: Row) -> str:
        """The serial number in capitals (serials are matched ignoring case, so ``pf1`` and
        ``PF1`` on two lines are duplicates); the record keeps it as written."""
        return self.cell_identifier(
            row, "serialNumber", required=True, max_length=rules.text_limit("serial_number")
        ).upper()

    def secondary(self, row: Row) -> list[tuple[str, str]]:
        """The asset id (unique ignoring case, like the serial)."""
        tag = self.cols.get(row, "annotatedAssetId").strip()
        return [("annotatedAssetId", tag)] if tag else []

    def parse_device(self, row: Row, key: str) -> DeviceRecord:
        problems: list[Problem] = []

        def problem(name: str, value: str, reason: str) -> None:
            problems.append(Problem(self.cols.header(name), value, reason))

        tag: str | None = None
        try:
            tag = self.cell_identifier(row, "annotatedAssetId", max_length=rules.text_limit("asset_tag")) or None
        except RowError as exc:
            problems += exc.problems
        path = self.cell(row, "orgUnitPath")
        site_id: int | None = None
        if not path:
            problem("orgUnitPath", "", say(Msg.DEVICE_OU_EMPTY))
        else:
            site_id = self.importer.site_of(path)
            if site_id is None:
                problem("orgUnitPath", path, self.importer.unmapped_reason)
            else:
                try:
                    self.importer.require_site(site_id, self.cols.header("orgUnitPath"), path)
                except RowError as exc:
                    problems += exc.problems
        model_text = self.cell(row, "model")
        model: ModelRef | None = None
        aue: datetime.date | None = None
        raw_aue = self.cell(row, "autoUpdateExpiration")
        try:
            aue = parse_aue(raw_aue, order=self.importer.options.get("date_order", "MDY"))
        except ValueError as exc:
            problem("autoUpdateExpiration", raw_aue, str(exc))
        if model_text:
            too_long = rules.length_problem(model_text, field="name", model=DeviceModel)
            if too_long:
                problem("model", model_text, too_long)
            else:
                catalog = self.model_catalog()
                maker, name = split_model(model_text, catalog.makers)
                maker = maker[: rules.text_limit("name", Manufacturer)]
                model = ModelRef(maker, name, None, model_category(model_text), aue)
        raw_sync = self.cell(row, "lastSync")
        last_sync: datetime.datetime | None = None
        try:
            last_sync = parse_datetime(raw_sync)
        except ValueError as exc:
            problem("lastSync", raw_sync, str(exc))
        mac_raw = self.cell(row, "macAddress")
        mac = mac_normalize(mac_raw)
        if mac is None:
            self.warn(row.line, self.cols.header("macAddress"), mac_raw, say(Msg.DEVICE_MAC_NOT_KEPT), key)  # fmt: skip
        device_id = self.cell(row, "deviceId")
        too_long = rules.length_problem(device_id, field="google_device_id")
        if too_long:
            problem("deviceId", device_id, too_long)
        if problems:
            raise RowError.of(problems)
        recent = self.cell(row, "recentUsers.0.email").split(",")[0].strip()
        last_seen = None
        if self.has_last_seen:
            last_seen = (
                last_sync,
                recent[: rules.text_limit("recent_user", DeviceLastSeen)],
                self.cell(row, "osVersion")[: rules.text_limit("os_version", DeviceLastSeen)],
                aue,
                self.cell(row, "bootMode")[: rules.text_limit("boot_mode", DeviceLastSeen)],
                self.cell(row, "status").upper()[: rules.text_limit("google_status", DeviceLastSeen)],
            )
        holder = None
        if self.importer.create_checkouts:
            user = self.cell(row, "annotatedUser") or recent
            if user:
                column = "annotatedUser" if self.cell(row, "annotatedUser") else "recentUsers.0.email"
                holder = Holder(user, "email", self.cols.header(column))
        details: dict[str, Any] = {}
        if mac:
            details["wifi_mac"] = mac
        if device_id:
            details["google_device_id"] = device_id
        return DeviceRecord(
            serial=self.cell_identifier(row, "serialNumber", max_length=rules.text_limit("serial_number")),
            asset_tag=tag,
            tag_from_serial=True,
            current_site_id=site_id,
            site_text=path,
            model=model,
            details=details,
            last_seen=last_seen,
            holder=holder,
        )
