"""CSV/XLSX imports (``imports.tabular``): our fields, the column mapping and the mapped
columns (split from ``imports.tabular``): :data:`DEVICE_FIELDS` / :data:`PERSON_FIELDS` with
the headers files use for them, :func:`parse_mapping` (the ``mapping`` option),
:func:`guess_entity`, :class:`MappedColumns` and the steps' shared part (``_MappedStep``), and
what the column-mapping page reads (:func:`file_headers`, :func:`file_samples`,
:func:`initial_mapping`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, ClassVar

from core.writing import FORMULA_PREFIXES
from imports.models import ImportRun
from imports.pipeline import REJECTED, BoundColumns, Change, FileError, Importer, Item
from imports.reading import FileFormatError, Row, Table

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


def file_headers(run: ImportRun) -> list[str]:
    """The headers of a run's file (for the column-mapping page); [] when unreadable."""
    try:
        from imports.reading import open_table

        return open_table(run.source_path, filename=run.file_name).headers
    except (FileFormatError, OSError, ValueError):
        return []


#: How many non-empty values the column-mapping page shows per column, how many data rows it
#: reads at most to find them, and how many characters of each value it shows.
SAMPLES_PER_COLUMN = 3
SAMPLE_ROWS_READ = 20
SAMPLE_WIDTH = 32


def file_samples(run: ImportRun) -> dict[str, list[str]]:
    """The first few non-empty values of each column of a run's file, for the column-mapping
    page: ``{"Property No": ["P-1", "P-2"], "Campus": []}`` keyed by header text (as
    :func:`file_headers` gives it), at most :data:`SAMPLES_PER_COLUMN` values each, each cut to
    :data:`SAMPLE_WIDTH` characters (an ellipsis marks a cut). The file is read as the importer
    reads it (``imports.reading.open_table``) and never past :data:`SAMPLE_ROWS_READ` data rows;
    ``{}`` when it cannot be read (a record the reader refuses ends the sampling, keeping what
    was found before it)."""
    from imports.reading import open_table

    try:
        table = open_table(run.source_path, filename=run.file_name)
    except (FileFormatError, OSError, ValueError):
        return {}
    samples: dict[str, list[str]] = {header: [] for header in table.headers}
    pairs = list(zip(table.headers, table.keys, strict=False))
    try:
        for read, row in enumerate(table.rows(), start=1):
            for header, key in pairs:
                value = row.values.get(key, "")
                if value and len(samples[header]) < SAMPLES_PER_COLUMN:
                    cut = value if len(value) <= SAMPLE_WIDTH else value[: SAMPLE_WIDTH - 1].rstrip() + "…"
                    samples[header].append(cut)
            if read >= SAMPLE_ROWS_READ or all(len(found) >= SAMPLES_PER_COLUMN for found in samples.values()):
                break
    except (FileFormatError, OSError, ValueError):
        pass
    return samples


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
