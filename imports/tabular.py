"""Any CSV or XLSX of devices or people (kind ``csv``), with a column mapping remembered per source.

Options:

* ``entity``: ``devices`` or ``people`` (empty: told from the headers — an asset tag or serial
  column means devices; a name, sourcedId or student number column means people).
* ``mapping``: our field → the file's header, e.g. ``{"asset_tag": "Tag #", "notes": ""}``
  (``""``: not in this file), or as text for the command line:
  ``asset_tag=Tag #;serial_number=S/N`` (or a JSON object). Fields: :data:`DEVICE_FIELDS`,
  :data:`PERSON_FIELDS`.
* ``source``: the name of the source (``"Lincoln spreadsheet"``): its remembered mapping
  (``imports.ColumnMapping``, saved from the column-mapping page) is used for the fields
  ``mapping`` does not give. Fields neither gives are found by the aliases below.
* ``date_order``, ``decimal_comma``: how dates and amounts are written.

Our own exports (``reports.exports``: ``devices.csv``/``.xlsx``, ``people.csv``/``.xlsx``)
are read unchanged: their headers are aliases, choice columns are read by label or code
(``In stock``/``in_stock``, ``Chromebook``, ``ESSER``), the leading ``'`` that neutralises a
formula (``'=1+1``) is taken off again, and ``Holder``, ``Holder Student Number`` and ``Due
Date`` are information (check-outs are not imported from a spreadsheet). Re-importing an
export changes nothing.

Devices follow ``imports.device_rows`` (matched on the serial number, else the asset tag;
``created``/``updated``/``transferred``/``moved`` events; status never changed by an import;
a blank cell never erases a value). The row key is the asset tag (the serial when the file
has no tag), so a retired device may share its tag with a live one. People follow
``imports.people_rows`` (matched on sourcedId, then student number, then email, then — for
rows with none of them — the name at the site) and are for district admins only. Site staff may import devices for their own site only.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

from core.choices import normalize_grade
from core.scoping import scope_for
from core.writing import FORMULA_PREFIXES
from imports.device_rows import (
    DeviceRecord,
    DeviceStep,
    ModelRef,
    SiteIndex,
    check_date_order,
    detail_date_problems,
)
from imports.models import ImportRun
from imports.people_rows import MAX_LENGTHS, PeopleStep, PersonRecord, valid_email
from imports.pipeline import REJECTED, BoundColumns, Change, FileError, Importer, Item, Problem, RowError, Step
from imports.reading import FileFormatError, Row, Table
from imports.selectors import column_mapping_for
from imports.snipeit import category_of
from imports.values import parse_date, parse_int, parse_money
from inventory import rules
from inventory.models import Device
from inventory.models_catalog import split_model
from inventory.rules import MAC_INVALID, mac_normalize
from people.models import Person
from sites.models import Location

DEVICES = "devices"
PEOPLE = "people"
ENTITIES = (DEVICES, PEOPLE)


@dataclass(frozen=True, slots=True)
class Field:
    """One of our fields a spreadsheet column can fill: its name (the mapping's key), the
    label shown on the mapping page, and the headers files use for it (first: our export's)."""

    name: str
    label: str
    aliases: tuple[str, ...]
    #: Read but not imported (our export's holder columns).
    info: bool = False


DEVICE_FIELDS: tuple[Field, ...] = (
    Field(
        "asset_tag", "Asset tag", ("Asset Tag", "Tag", "Asset", "Asset Number", "Asset ID", "Barcode", "Tag Number")
    ),  # fmt: skip
    Field("serial_number", "Serial number", ("Serial Number", "Serial", "S/N", "SN", "Serial No", "Serial #")),
    Field("manufacturer", "Manufacturer", ("Manufacturer", "Make", "Brand", "Maker")),
    Field("model_name", "Model name", ("Model Name", "Model")),
    Field("model_number", "Model number", ("Model Number", "Model No.", "Model No", "Part Number")),
    Field("category", "Category", ("Category", "Device Type", "Type")),
    Field("status", "Status", ("Status",)),
    Field("owner_site", "Owner site (code or name)", ("Owner Site Code", "Owner Site", "Owner")),
    Field(
        "current_site",
        "Site (code or name)",
        ("Current Site Code", "Current Site", "Site Code", "Site", "School", "School Code", "Building"),
    ),  # fmt: skip
    Field("location", "Location at the site", ("Location", "Room", "Cart")),
    Field("purchase_date", "Purchase date", ("Purchase Date", "Purchased", "Date Purchased")),
    Field("purchase_cost", "Purchase cost", ("Purchase Cost", "Cost", "Price")),
    Field("purchase_order", "Purchase order", ("Purchase Order", "PO", "PO Number", "Order Number")),
    Field("vendor", "Vendor", ("Vendor", "Supplier")),
    Field("funding_source", "Funding source", ("Funding Source", "Funding", "Fund")),
    Field("warranty_end", "Warranty end", ("Warranty End", "Warranty Expiration", "Warranty Expires", "Warranty")),
    Field("wifi_mac", "Wi-Fi MAC", ("Wi-Fi MAC", "WiFi MAC", "MAC Address", "MAC")),
    Field("google_device_id", "Google device id", ("Google Device ID", "Device ID", "deviceId")),
    Field("notes", "Notes", ("Notes", "Comments", "Comment")),
    Field("holder", "Holder (information only)", ("Holder",), info=True),
    Field("holder_student_number", "Holder's student number (information only)", ("Holder Student Number",), info=True),
    Field("due_date", "Due date (information only)", ("Due Date",), info=True),
)

PERSON_FIELDS: tuple[Field, ...] = (
    Field("sourced_id", "sourcedId", ("sourcedId", "Sourced ID", "SIS ID")),
    Field("role", "Role (student or staff)", ("Role", "Person Type")),
    Field(
        "student_number",
        "Student number",
        ("Student Number", "Student ID", "Student #", "Employee Number", "Local ID", "ID Number"),
    ),  # fmt: skip
    Field("state_id", "State id", ("State ID", "SSID", "State Student ID")),
    Field("given_name", "Given name", ("Given Name", "First Name", "First", "givenName")),
    Field("family_name", "Family name", ("Family Name", "Last Name", "Surname", "Last", "familyName")),
    Field("preferred_name", "Preferred name", ("Preferred Name", "Nickname", "Preferred First Name")),
    Field("email", "Email", ("Email", "Email Address", "E-mail")),
    Field("grade", "Grade", ("Grade", "Grade Level", "grades")),
    Field("graduation_year", "Graduation year", ("Graduation Year", "Grad Year", "Class Of", "Year of Graduation")),
    Field("site", "Site (code or name)", ("Site Code", "Site", "School", "School Code", "Building", "Home Site")),
    Field("homeroom", "Homeroom", ("Homeroom", "Home Room")),
    Field("status", "Status", ("Status",)),
)

FIELDS = {DEVICES: DEVICE_FIELDS, PEOPLE: PERSON_FIELDS}


def parse_mapping(value: Any) -> dict[str, str]:
    """The ``mapping`` option → ``{field: header}``: a dict, a JSON object, or
    ``field=Header;field=Header`` (one pair a line also works). ValueError when malformed."""
    if value in (None, ""):
        return {}
    if isinstance(value, dict):
        return {str(k).strip(): str(v or "").strip() for k, v in value.items()}
    text = str(value).strip()
    if text.startswith("{"):
        try:
            loaded = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"the mapping is not valid JSON ({exc.msg})") from None
        if not isinstance(loaded, dict):
            raise ValueError("the mapping must be a JSON object")
        return parse_mapping(loaded)
    mapping: dict[str, str] = {}
    for part in text.replace("\n", ";").split(";"):
        if not part.strip():
            continue
        name, sep, header = part.partition("=")
        if not sep:
            raise ValueError(f"expected field=Header, got '{part.strip()}'")
        mapping[name.strip()] = header.strip()
    return mapping


def unquote(value: str) -> str:
    """Take off the ``'`` our exports put before a text that would be a formula (``'=1+1``)."""
    if value.startswith("'") and value[1:2] and value[1:].startswith(FORMULA_PREFIXES):
        return value[1:]
    return value


def choice(value: str, choices: list[tuple[str, str]]) -> str | None:
    """A choice's code from its code or label, ignoring case and spaces; None when unknown."""
    key = " ".join(value.lower().replace("_", " ").split())
    for code, label in choices:
        if key in (" ".join(code.lower().replace("_", " ").split()), label.lower()):
            return code
    return None


def guess_entity(table: Table, mapping: dict[str, str] | None = None) -> str | None:
    """``devices`` when the mapping maps, or the header has, an asset tag or serial column;
    ``people`` when it maps or has a name, sourcedId or student number column; else None."""
    mapped = {name for name, header in (mapping or {}).items() if header}
    if mapped & {"asset_tag", "serial_number"}:
        return DEVICES
    if mapped & {"sourced_id", "student_number", "given_name", "family_name"}:
        return PEOPLE
    device_keys = DEVICE_FIELDS[0].aliases + DEVICE_FIELDS[1].aliases
    if table.column(*device_keys):
        return DEVICES
    person_keys = tuple(alias for f in PERSON_FIELDS[:5] for alias in f.aliases)
    if table.column(*person_keys):
        return PEOPLE
    return None


def field_label(spec: Field) -> str:
    """A field's label inside a sentence: ``"Asset tag"`` → ``"asset tag"`` (``"Wi-Fi MAC"`` and
    ``"sourcedId"`` stay as they are)."""
    first, _, rest = spec.label.partition(" ")
    if first[:1].isupper() and first[1:] == first[1:].lower():
        return (first.lower() + " " + rest).strip()
    return spec.label


class MappedColumns(BoundColumns):
    """Our fields bound to a table's headers: the mapping first, then the aliases.

    A field mapped to ``""`` is not read; a field mapped to a header the file does not have
    is a file error naming it. ``how`` tells, per bound field, "mapping" or "alias"."""

    def __init__(self, table: Table, fields: tuple[Field, ...], mapping: dict[str, str], file: str) -> None:
        self.table = table
        self.keys: dict[str, str | None] = {}
        self.how: dict[str, str] = {}
        unknown = [name for name in mapping if name not in {f.name for f in fields}]
        if unknown:
            names = ", ".join(f.name for f in fields)
            raise FileError(file, f"the column mapping names unknown field(s) {', '.join(unknown)}; the fields are {names}")  # fmt: skip
        absent = []
        for spec in fields:
            if spec.name in mapping:
                header = mapping[spec.name]
                key = table.column(header) if header else None
                if header and key is None:
                    absent.append(f"'{header}' (for {field_label(spec)})")
                self.keys[spec.name] = key
                if key:
                    self.how[spec.name] = "mapping"
            else:
                key = table.column(*spec.aliases)
                self.keys[spec.name] = key
                if key:
                    self.how[spec.name] = "alias"
        if absent:
            found = ", ".join(table.headers[:40])
            raise FileError(file, f"the column mapping names {', '.join(absent)}, but the header has: {found}")
        used = {key for key in self.keys.values() if key}
        self.ignored = [table.header(key) for key in table.keys if key not in used]
        self.renamed = []


def _file_table(importer: Importer) -> Table:
    try:
        return importer.open_single_table()
    except (FileFormatError, OSError) as exc:
        raise FileError(importer.run.file_name, f"cannot be read: {exc}") from None


class TabularImporter(Importer):
    """A CSV or XLSX of devices or people, its columns mapped by name, mapping or alias."""

    kind = ImportRun.Kind.CSV
    entities = (("devices", "Devices"), ("models", "Device models"), ("people", "People"))
    district_admin_only = False
    default_options: ClassVar[dict[str, Any]] = {"date_order": "MDY", "decimal_comma": False}

    def prepare(self) -> None:
        check_date_order(self.options)
        entity = str(self.options.get("entity") or "").strip().lower()
        if entity and entity not in ENTITIES:
            raise FileError("", f"entity must be devices or people, not '{entity}'")
        try:
            explicit = parse_mapping(self.options.get("mapping"))
        except ValueError as exc:
            raise FileError("", f"option mapping: {exc}") from None
        table = _file_table(self)
        source = str(self.options.get("source") or "").strip()
        remembered: dict[str, str] = {}
        if source:
            for candidate in (entity,) if entity else ENTITIES:
                remembered = column_mapping_for(kind=candidate, source_name=source)
                if remembered:
                    entity = entity or candidate
                    break
        if not entity:
            guessed = guess_entity(table, {**remembered, **explicit})
            if guessed is None:
                raise FileError(
                    self.run.file_name,
                    "cannot tell whether the rows are devices or people (no asset tag, serial, name, sourcedId or "
                    f"student number column); choose which, and map the columns. The header has: {', '.join(table.headers[:40])}",  # fmt: skip
                )
            entity = guessed
        self.entity = entity
        self.mapping = {**remembered, **explicit}
        if remembered:
            self.report.note(f"Used the column mapping remembered for '{source}'.")
        if entity == PEOPLE:
            if self.actor is not None and not scope_for(self.actor).is_district_admin:
                raise FileError(self.run.file_name, "holds people: only district admins may import people")
            if self.run.scope_site_id is not None:
                raise FileError(self.run.file_name, "holds people: people are imported for the whole district; choose no site")  # fmt: skip

    @property
    def decimal_comma(self) -> bool:
        value = self.options.get("decimal_comma", False)
        return value is True or str(value).strip().lower() in ("1", "true", "yes", "on")

    def steps(self) -> list[Step]:
        return [TabularDeviceStep(self)] if self.entity == DEVICES else [TabularPeopleStep(self)]


class _MappedStep:
    """Binding by mapping and aliases, and cells with formula quotes taken off (mixed into steps).

    A new record needs some fields (:attr:`new_record_fields`). When the file has no column for
    one of them, every row for a record DeviceLedger does not have yet would be refused with the
    same "is empty": instead those rows are rejected under one file-level error naming the
    missing column(s) and the file's headers (rows for existing records are imported)."""

    importer: Any
    fields: ClassVar[tuple[Field, ...]] = ()
    #: (the name ``header_of`` gives a missing column, the fields any of which supplies it).
    new_record_fields: ClassVar[tuple[tuple[str, tuple[str, ...]], ...]] = ()
    #: What the rows are, for messages ("devices", "people").
    records: ClassVar[str] = ""
    cols: BoundColumns
    report: Any
    file: str

    def bind_mapped(self, table: Table, file: str) -> MappedColumns:
        cols = MappedColumns(table, self.fields, self.importer.mapping, file)
        self.cols = cols
        labels = {spec.name: field_label(spec) for spec in self.fields}
        read = [f"'{table.header(key)}' as {labels[name]}" for name, key in cols.keys.items() if key and cols.how[name] == "mapping"]  # fmt: skip
        if read:
            self.report.note(f"{file}: read {', '.join(read)} (column mapping).")
        if cols.ignored:
            shown = ", ".join(cols.ignored[:12]) + (" …" if len(cols.ignored) > 12 else "")
            self.report.note(f"{file}: ignored column(s) {shown}; map them if they hold one of our fields.")
        self._missing_for_new = {
            absent_as: labels[names[0]]
            for absent_as, names in self.new_record_fields
            if not any(cols.has(name) for name in names)
        }
        self._headers = table.headers
        self._rejected_for_missing = 0
        return cols

    def text(self, row: Row, name: str) -> str:
        return unquote(self.cols.get(row, name))

    def reject(self, item: Item, column: str, value: str, reason: str) -> Change:
        """A row refused because a column a new record needs is not in the file: counted under
        one file-level error (see the class docstring); any other refusal as usual."""
        if value or column not in self._missing_for_new:
            return super().reject(item, column, value, reason)  # type: ignore[misc]
        self._rejected_for_missing += 1
        if self._rejected_for_missing == 1:
            missing = list(dict.fromkeys(self._missing_for_new.values()))
            names = " or ".join(missing) if len(missing) < 3 else ", ".join(missing[:-1]) + " or " + missing[-1]
            found = ", ".join(self._headers[:40]) + (" …" if len(self._headers) > 40 else "")
            self.report.error(
                file=self.file,
                line=None,
                column="",
                value="",
                reason=(
                    f"has no {names} column (after the column mapping), so rows for {self.records} DeviceLedger "
                    f"does not have yet cannot be added (the first is on line {item.line}); map the column that holds "
                    f"it, or add it to the file. The header has: {found}"
                ),
            )
        return Change(REJECTED, item)

    def missing_note(self) -> None:
        """After the last row: how many rows :meth:`reject` refused for a missing column."""
        if self._rejected_for_missing:
            missing = ", ".join(dict.fromkeys(self._missing_for_new.values()))
            self.report.note(
                f"{self.file}: {self._rejected_for_missing} row(s) for new {self.records} were not imported: "
                f"the file has no column for {missing}."
            )


class TabularDeviceStep(_MappedStep, DeviceStep):
    """Rows → devices (see the module docstring)."""

    importer: TabularImporter
    fields = DEVICE_FIELDS
    records = "devices"
    new_record_fields = (
        ("asset_tag", ("asset_tag",)),
        ("current_site", ("current_site", "owner_site")),
        ("model_name", ("model_name",)),
    )
    key_label = "asset_tag"
    column_for: ClassVar[dict[str, str]] = {
        "asset_tag": "asset_tag",
        "serial": "serial_number",
        "site": "current_site",
        "model": "model_name",
        "status": "status",
        "location": "location",
    }

    def __init__(self, importer: TabularImporter) -> None:
        super().__init__(importer)
        self.file = importer.run.file_name

    @property
    def title(self) -> str:
        return f"{self.file} → devices"

    def open(self) -> Table:
        return self.importer.open_single_table()

    def bind(self, table: Table) -> None:
        cols = self.bind_mapped(table, self.file)
        if not cols.has("asset_tag") and not cols.has("serial_number"):
            raise FileError(self.file, f"no asset tag or serial number column (map one); the header has: {', '.join(table.headers[:40])}")  # fmt: skip
        if not cols.has("asset_tag"):
            self.key_label = "serial_number"  # type: ignore[misc]
        if not cols.has("current_site") and not cols.has("owner_site"):
            self.report.note(f"{self.file}: no site column: only devices DeviceLedger has already can be updated.")
        info = [cols.header(name) for name in ("holder", "holder_student_number", "due_date") if cols.has(name)]
        if info:
            self.report.note(
                f"{self.file}: {', '.join(info)} are information only: check-outs are not imported from a spreadsheet."
            )

    def key_issue(self, key: str) -> tuple[str, str, str]:
        header = self.cols.header(self.key_label)
        return header, key, header

    def finish(self) -> Iterable[Change]:
        self.missing_note()
        return super().finish()

    def _identifier(self, row: Row, name: str) -> str:
        """The identifier in column ``name`` (``asset_tag`` or ``serial_number``: the device
        field of that name, whose length it must fit)."""
        if not self.cols.has(name):
            return ""
        raw = self.text(row, name)
        value = self.identifier(row, name, raw)
        too_long = rules.length_problem(value, field=name)
        if too_long:
            raise RowError(self.cols.header(name), raw, too_long)
        return value

    def _status(self, row: Row) -> str | None:
        raw = self.text(row, "status")
        if not raw:
            return None
        code = choice(raw, Device.Status.choices)
        if code is None:
            labels = ", ".join(label for _, label in Device.Status.choices)
            raise RowError(self.cols.header("status"), raw, f"expected one of {labels}")
        return code

    def row_key(self, row: Row) -> str:
        tag = self._identifier(row, "asset_tag")
        serial = self._identifier(row, "serial_number")
        if not tag and not serial:
            column = self.cols.header("asset_tag" if self.cols.has("asset_tag") else "serial_number")
            raise RowError(column, "", "is empty; every row needs an asset tag or a serial number")
        if not tag:
            return serial
        try:
            retired = self._status(row) == Device.Status.RETIRED
        except RowError:
            retired = False
        # Asset tags are unique among live devices only: a retired device may share one.
        return f"{tag} (retired, serial {serial or 'none'})" if retired else tag

    def secondary(self, row: Row) -> list[tuple[str, str]]:
        pairs = []
        if (
            self.cols.has("asset_tag")
            and choice(self.text(row, "status"), Device.Status.choices) != Device.Status.RETIRED
        ):
            pairs.append(("asset_tag", self.text(row, "asset_tag").strip()))
        if self.cols.has("serial_number"):
            pairs.append(("serial_number", self.text(row, "serial_number").strip()))
        return [(name, value) for name, value in pairs if value]

    def parse_device(self, row: Row, key: str) -> DeviceRecord:
        problems: list[Problem] = []
        importer = self.importer
        sites = self.site_index()

        def problem(name: str, value: str, reason: str) -> None:
            problems.append(Problem(self.cols.header(name), value, reason))

        def attempt(func: Any, *args: Any) -> Any:
            try:
                return func(*args)
            except RowError as exc:
                problems.extend(exc.problems)
                return None

        tag = attempt(self._identifier, row, "asset_tag") or None
        serial = attempt(self._identifier, row, "serial_number") or ""
        status = attempt(self._status, row)
        site_ids: dict[str, int | None] = {}
        for name in ("current_site", "owner_site"):
            raw = self.text(row, name)
            site_ids[name] = None
            if not raw:
                continue
            site_id = sites.find(raw)
            if site_id is None:
                problem(name, raw, "is neither the code nor the name of a site in DeviceLedger")
                continue
            try:
                importer.require_site(site_id, self.cols.header(name), raw)
            except RowError as exc:
                problems.extend(exc.problems)
                continue
            site_ids[name] = site_id
        model = self._model(row, problem)
        details = self._details(row, problem)
        location = self.text(row, "location") or None
        too_long = rules.length_problem(location, field="name", model=Location) if location is not None else None
        if location is not None and too_long:
            problem("location", location, too_long)
        if problems:
            raise RowError.of(problems)
        return DeviceRecord(
            serial=serial,
            asset_tag=tag,
            current_site_id=site_ids["current_site"],
            owner_site_id=site_ids["owner_site"],
            model=model,
            details=details,
            location=location,
            status=status,
        )

    def _model(self, row: Row, problem: Any) -> ModelRef | None:
        name = self.text(row, "model_name")
        if not name:
            return None
        maker = self.text(row, "manufacturer")
        if not maker:
            makers = self.model_catalog().makers
            guessed, rest = split_model(name, makers)
            if guessed.lower() in makers and rest != name:
                maker, name = guessed, rest
            else:
                if self.cols.has("manufacturer"):
                    problem("manufacturer", "", f"is empty; the model {name} needs a manufacturer")
                else:
                    problem("model_name", name, "starts with no manufacturer DeviceLedger knows, and the file has no manufacturer column: add one (or map it), or write the maker first (e.g. Lenovo 100e Chromebook)")  # fmt: skip
                return None
        number = self.text(row, "model_number")
        too_long = rules.model_length_problem(name=name, manufacturer=maker, model_number=number)
        if too_long is not None:
            which, reason = too_long
            column = {"name": "model_name", "manufacturer": "manufacturer", "model_number": "model_number"}[which]
            problem(column, {"name": name, "manufacturer": maker, "model_number": number}[which], reason)
            return None
        category_raw = self.text(row, "category")
        category = category_of(category_raw) if category_raw else "other"
        return ModelRef(maker, name, number or None, category)

    def _details(self, row: Row, problem: Any) -> dict[str, Any]:
        importer = self.importer
        details: dict[str, Any] = {}
        order = importer.options.get("date_order", "MDY")
        for name in ("purchase_date", "warranty_end"):
            raw = self.text(row, name)
            try:
                value = parse_date(raw, order=order)
            except ValueError as exc:
                problem(name, raw, str(exc))
                continue
            if value is not None:
                details[name] = value
        raw = self.text(row, "purchase_cost")
        try:
            cost = parse_money(raw, decimal_comma=importer.decimal_comma)
        except ValueError as exc:
            problem("purchase_cost", raw, str(exc))
            cost = None
        if cost is not None and cost >= 10**8:
            problem("purchase_cost", raw, "is more than 99,999,999.99")
        elif cost is not None:
            details["purchase_cost"] = cost
        raw = self.text(row, "funding_source")
        if raw:
            code = choice(raw, Device.FundingSource.choices)
            if code is None:
                labels = ", ".join(label for _, label in Device.FundingSource.choices)
                problem("funding_source", raw, f"expected one of {labels}")
            else:
                details["funding_source"] = code
        raw = self.text(row, "wifi_mac")
        mac = mac_normalize(raw)
        if mac is None:
            problem("wifi_mac", raw, MAC_INVALID)
        elif mac:
            details["wifi_mac"] = mac
        for name, reason in detail_date_problems(details):
            problem(name, str(details[name]), reason)
        for name in ("purchase_order", "vendor", "google_device_id"):
            text = self.text(row, name)
            too_long = rules.length_problem(text, field=name)
            if too_long:
                problem(name, text, too_long)
            elif text:
                details[name] = text
        notes = self.text(row, "notes")
        if notes:
            details["notes"] = notes
        return details


class TabularPeopleStep(_MappedStep, PeopleStep):
    """Rows → people (district admins only; see ``imports.people_rows``)."""

    importer: TabularImporter
    fields = PERSON_FIELDS
    records = "people"
    new_record_fields = (
        ("given_name", ("given_name",)),
        ("family_name", ("family_name",)),
        ("site", ("site",)),
    )
    key_label = "sourced_id"
    column_for: ClassVar[dict[str, str]] = {"site": "site"}
    match_order = ("student_number", "email", "name")

    def __init__(self, importer: TabularImporter) -> None:
        super().__init__(importer)
        self.file = importer.run.file_name
        self.sites: SiteIndex | None = None

    @property
    def title(self) -> str:
        return f"{self.file} → people"

    def open(self) -> Table:
        return self.importer.open_single_table()

    def bind(self, table: Table) -> None:
        cols = self.bind_mapped(table, self.file)
        keys = [name for name in ("sourced_id", "student_number", "email") if cols.has(name)]
        if not keys:
            raise FileError(self.file, f"no sourcedId, student number or email column to match people by (map one); the header has: {', '.join(table.headers[:40])}")  # fmt: skip
        self.key_label = keys[0]  # type: ignore[misc]

    def key_issue(self, key: str) -> tuple[str, str, str]:
        """A row without the key column's value is keyed ``student number 0088001``,
        ``email a@b.org`` or ``name ana ruiz at lms`` (see :meth:`row_key`): its repeats are
        named by that column and value."""
        for name, prefix in (("student_number", "student number "), ("email", "email "), ("family_name", "name ")):
            if name != self.key_label and key.startswith(prefix) and self.cols.has(name):
                header = self.cols.header(name)
                return header, key.removeprefix(prefix), "name" if name == "family_name" else header
        header = self.cols.header(self.key_label)
        return header, key, header

    def finish(self) -> Iterable[Change]:
        self.missing_note()
        return super().finish()

    def _identifier(self, row: Row, name: str) -> str:
        raw = self.text(row, name)
        value = self.identifier(row, name, raw)
        limit = MAX_LENGTHS[name]
        if len(value) > limit:
            raise RowError(self.cols.header(name), raw, f"is {len(value)} characters long; at most {limit}")
        return value

    def row_key(self, row: Row) -> str:
        for name in ("sourced_id", "student_number"):
            if self.cols.has(name):
                value = self._identifier(row, name)
                if value:
                    return value if name == self.key_label else f"{name.replace('_', ' ')} {value}"
        email = self.text(row, "email").strip().lower()
        if email:
            return email if self.key_label == "email" else f"email {email}"
        given, family, site = (self.text(row, name).strip() for name in ("given_name", "family_name", "site"))
        if family and site:  # people made by hand without any identifier: their name at their site
            return f"name {given} {family} at {site}".lower()
        raise RowError(self.cols.header(self.key_label), "", "is empty; every row needs a sourcedId, a student number or an email (or a name and a site) to be matched")  # fmt: skip

    def secondary(self, row: Row) -> list[tuple[str, str]]:
        if self.key_label == "sourced_id" and self.cols.has("student_number"):
            value = self.text(row, "student_number").strip()
            return [("student_number", value)] if value else []
        return []

    def parse_record(self, row: Row, key: str) -> PersonRecord:
        problems: list[Problem] = []
        values: dict[str, Any] = {}

        def problem(name: str, value: str, reason: str) -> None:
            problems.append(Problem(self.cols.header(name), value, reason))

        for name in ("sourced_id", "student_number", "state_id"):
            try:
                value = self._identifier(row, name)
            except RowError as exc:
                problems += exc.problems
                continue
            if value:
                values[name] = value
        for name in ("given_name", "family_name", "preferred_name", "homeroom"):
            value = self.text(row, name)
            if len(value) > MAX_LENGTHS[name]:
                problem(name, value, f"is {len(value)} characters long; at most {MAX_LENGTHS[name]}")
            elif value:
                values[name] = value
        email = self.text(row, "email")
        if email and valid_email(email):
            values["email"] = email
        elif email:
            self.warn(row.line, self.cols.header("email"), email, "is not an email address; left as it was", key)
        for name, choices in (("role", Person.Role.choices), ("status", Person.Status.choices)):
            raw = self.text(row, name)
            if raw:
                code = choice(raw, choices)
                if code is None:
                    problem(name, raw, f"expected one of {', '.join(label for _, label in choices)}")
                else:
                    values[name] = code
        raw = self.text(row, "grade")
        try:
            grade = normalize_grade(raw)
        except ValueError as exc:
            problem("grade", raw, str(exc))
        else:
            if grade:
                values["grade"] = grade
        raw = self.text(row, "graduation_year")
        try:
            year = parse_int(raw)
        except ValueError as exc:
            problem("graduation_year", raw, str(exc))
        else:
            if year is not None and not 1900 <= year <= 2200:
                problem("graduation_year", raw, "expected a year between 1900 and 2200")
            elif year is not None:
                values["graduation_year"] = year
        raw = self.text(row, "site")
        if raw:
            if self.sites is None:
                self.sites = SiteIndex()
            site_id = self.sites.find(raw)
            if site_id is None:
                problem("site", raw, "is neither the code nor the name of a site in DeviceLedger")
            else:
                values["home_site_id"] = site_id
        if problems:
            raise RowError.of(problems)
        return PersonRecord(values)


def file_headers(run: ImportRun) -> list[str]:
    """The headers of a run's file (for the column-mapping page); [] when unreadable."""
    try:
        from imports.reading import open_table

        return open_table(run.source_path, filename=run.file_name).headers
    except (FileFormatError, OSError, ValueError):
        return []


def initial_mapping(*, headers: list[str], entity: str, remembered: dict[str, str]) -> dict[str, str]:
    """The mapping the column page starts from: the remembered one (when its header is in the
    file), else the first alias the file has; ``""`` for fields the file lacks."""
    from imports.reading import normalize_header

    by_key = {normalize_header(header): header for header in headers}
    mapping: dict[str, str] = {}
    for spec in FIELDS[entity]:
        wanted = remembered.get(spec.name)
        if wanted is not None and (wanted == "" or normalize_header(wanted) in by_key):
            mapping[spec.name] = by_key.get(normalize_header(wanted), "") if wanted else ""
            continue
        mapping[spec.name] = next(
            (
                by_key[normalize_header(alias)]
                for alias in (spec.name, *spec.aliases)
                if normalize_header(alias) in by_key
            ),
            "",
        )
    return mapping


__all__ = [
    "DEVICE_FIELDS",
    "ENTITIES",
    "FIELDS",
    "PERSON_FIELDS",
    "TabularImporter",
    "choice",
    "file_headers",
    "guess_entity",
    "initial_mapping",
    "parse_mapping",
    "unquote",
]
