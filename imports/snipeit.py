"""Snipe-IT exports → devices (with their current check-outs) or staff people.

Which export a file is, is told by its header (source of the names: ``../shared/formats.md``,
"Snipe-IT CSV", and Snipe-IT's own ``sample_csvs/``):

* **Asset export** (has ``Asset Tag``): ``Asset Tag, Asset Name, Serial Number, Model Name,
  Model No., Category, Manufacturer, Status, Location, Company, Supplier, Order Number,
  Purchase Date, Purchase Cost, Warranty (months), EOL Date, Asset Notes, Checkout Type,
  Checked Out To: Username / First Name / Last Name / Email, Expected Checkin Date`` …
  → devices keyed by asset tag (matched to ours on the serial number, else the tag):

  - ``Location`` → the site whose code, else name, it is (ignoring case); unknown → row error;
  - ``Model Name`` / ``Model No.`` / ``Manufacturer`` → the device model (created for planned
    rows only); ``Category`` → ours by :func:`category_of` ("Laptops" → laptop, "Chromebooks"
    → chromebook, "Tablets"/"iPads" → tablet, "Chargers" → charger …; unknown → other);
  - ``Purchase Date`` US month/day/year (``1/23/23``; option ``date_order``), ``Purchase
    Cost`` money (``$1,234.50``; option ``decimal_comma``), ``Warranty (months)`` counted from
    the purchase date, ``Supplier`` → vendor, ``Order Number`` → purchase order, ``Asset
    Notes`` → notes (a blank cell never erases what DeviceLedger has);
  - ``Checkout Type`` ``User`` → an open assignment for the person matched by the key the
    admin picks, option ``match_people_by``: ``email`` (default, ``Checked Out To: Email``),
    ``username`` (``Checked Out To: Username``, compared with the part of a person's email
    before the ``@``) or ``student_number`` (``Checked Out To: Employee Number``, compared as
    text with the student number, leading zeros kept). Never an internal id: an all-digit
    value is only ever compared as that text with the chosen key. ``Expected Checkin Date``
    → the due date. No match, or the device out to someone else → a warning, no check-out.
    ``Checkout Type`` ``Location`` check-outs are not custody and are not imported.

* **User export** (has ``Username`` or ``Employee Number``, no ``Asset Tag``): ``First Name,
  Last Name, Email, Username, Activated, Location, Employee Number, Job Title`` … → staff
  people at their ``Location``'s site (row error when unknown), matched on the email, else
  the employee number (stored as the student number; staff only), else — for users with
  neither — the same name at the same site. District admins only.

Site staff may import assets for their own site only.
"""

from __future__ import annotations

import calendar
import datetime
from typing import Any, ClassVar

from core.scoping import scope_for
from imports.device_rows import (
    DeviceRecord,
    DeviceStep,
    Holder,
    ModelRef,
    SiteIndex,
    check_date_order,
    detail_date_problems,
)
from imports.messages import Msg, say
from imports.models import ImportRun
from imports.people_rows import PeopleStep, PersonRecord, valid_email
from imports.pipeline import Column, FileError, Importer, Problem, RowError, Step
from imports.reading import FileFormatError, Row, Table
from imports.selectors import location_resolver
from imports.values import parse_date, parse_int, parse_money
from inventory import rules
from inventory.models import DeviceModel
from inventory.models_catalog import split_model
from people.models import Person

Category = DeviceModel.Category

#: ``match_people_by`` values → the asset export's column holding that key.
MATCH_COLUMNS = {
    "email": "Checked Out To: Email",
    "username": "Checked Out To: Username",
    "student_number": "Checked Out To: Employee Number",
}

#: Words of Snipe-IT category names (singular, lower case) → our categories.
CATEGORY_WORDS: dict[str, str] = {
    "chromebook": Category.CHROMEBOOK,
    "laptop": Category.LAPTOP,
    "notebook": Category.LAPTOP,
    "macbook": Category.LAPTOP,
    "tablet": Category.TABLET,
    "ipad": Category.TABLET,
    "charger": Category.CHARGER,
    "power adapter": Category.CHARGER,
    "power supply": Category.CHARGER,
    "case": Category.CASE,
    "hotspot": Category.HOTSPOT,
    "mifi": Category.HOTSPOT,
    "stylus": Category.STYLUS,
    "styli": Category.STYLUS,
    "pen": Category.STYLUS,
}


def _singular(word: str) -> str:
    for suffix, replacement in (("ies", "y"), ("uses", "us"), ("ches", "ch"), ("es", "e"), ("s", "")):
        if word.endswith(suffix) and len(word) > len(suffix) + 1:
            return word[: -len(suffix)] + replacement
    return word


def category_of(text: str) -> str:
    """A Snipe-IT category name → ours: ``"Chromebooks"`` → chromebook, ``"Laptops"`` →
    laptop, ``"iPads"`` → tablet, ``"Chargers"`` / ``"Power Adapters"`` → charger; unknown
    (``"Desktops"``, ``"Ornamental Railings"``) → other. Our own labels and codes map to themselves."""
    lowered = " ".join(text.lower().replace("-", " ").split())
    for code, label in Category.choices:
        if lowered in (code, label.lower()):
            return code
    words = [_singular(word) for word in lowered.split()]
    phrase = " ".join(words)
    if phrase in CATEGORY_WORDS:
        return CATEGORY_WORDS[phrase]
    for index in range(len(words)):
        for size in (2, 1):
            candidate = " ".join(words[index : index + size])
            if candidate in CATEGORY_WORDS:
                return CATEGORY_WORDS[candidate]
    return Category.OTHER


def add_months(day: datetime.date, months: int) -> datetime.date:
    """``day`` plus ``months`` calendar months (the 31st becomes the month's last day)."""
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


class SnipeItImporter(Importer):
    """A Snipe-IT asset export (devices, check-outs) or user export (staff people)."""

    kind = ImportRun.Kind.SNIPEIT
    entities = (
        ("devices", "Devices"),
        ("models", "Device models"),
        ("checkouts", "Check-outs"),
        ("people", "People"),
    )
    district_admin_only = False
    default_options: ClassVar[dict[str, Any]] = {
        "match_people_by": "email",
        "date_order": "MDY",
        "decimal_comma": False,
        "without_custody": False,
        "one_site": False,
    }

    def prepare(self) -> None:
        check_date_order(self.options)
        by = str(self.options.get("match_people_by") or "email").strip().lower()
        if by not in MATCH_COLUMNS:
            raise FileError("", f"match_people_by must be username, email or student_number, not '{by}'")
        self.match_people_by = by
        self.without_custody = self._flag("without_custody")
        self.one_site = self._flag("one_site")
        if self.one_site and self.run.scope_site_id is None:
            raise FileError(self.run.file_name, "is to go to one site, but no site was chosen: choose the site the assets go to")  # fmt: skip
        self.location_site = location_resolver()
        try:
            table = self.open_single_table()
        except (FileFormatError, OSError) as exc:
            raise FileError(self.run.file_name, f"cannot be read: {exc}") from None
        if table.column("Asset Tag", "asset_tag", "assettag"):
            self.export = "assets"
            self.report.note("Snipe-IT asset export: devices and their current check-outs.")
            return
        if table.column("Username", "Employee Number", "employee_num"):
            self.export = "users"
            if self.actor is not None and not scope_for(self.actor).is_district_admin:
                raise FileError(self.run.file_name, "is a Snipe-IT user export: only district admins may import people")
            if self.run.scope_site_id is not None:
                raise FileError(self.run.file_name, "is a Snipe-IT user export: people are imported for the whole district; choose no site")  # fmt: skip
            self.report.note("Snipe-IT user export: staff people.")
            return
        raise FileError(
            self.run.file_name,
            "is neither a Snipe-IT asset export (no 'Asset Tag' column) nor a user export (no 'Username' "
            f"or 'Employee Number' column); the header has: {', '.join(table.headers[:40])}",
        )

    def _flag(self, name: str) -> bool:
        value = self.options.get(name, False)
        return value is True or str(value).strip().lower() in ("1", "true", "yes", "on")

    @property
    def decimal_comma(self) -> bool:
        return self._flag("decimal_comma")

    def site_of_location(self, sites: SiteIndex, name: str) -> int | None:
        """The site a Snipe-IT location is: the run's one site (option ``one_site``), else the
        site whose code or name it is, else the site it is mapped to
        (:class:`imports.models.LocationMapping`); None when none."""
        if self.one_site:
            return self.run.scope_site_id
        return sites.find(name) or self.location_site(name)

    def steps(self) -> list[Step]:
        return [SnipeAssetStep(self)] if self.export == "assets" else [SnipeUserStep(self)]


class SnipeAssetStep(DeviceStep):
    """The asset export → devices keyed by asset tag, and current check-outs."""

    importer: SnipeItImporter
    key_label = "Asset Tag"
    columns = (
        Column("Asset Tag", ("asset_tag", "assettag", "Tag"), required=True),
        Column("Location", ("Default Location", "location_name", "Site")),
        Column("Serial", ("Serial Number", "serial_number")),
        Column("Model", ("Model Name", "model_name")),
        Column("Model Number", ("Model No.", "Model No", "model_number")),
        Column("Manufacturer", ("manufacturer_name",)),
        Column("Category", ("category_name",)),
        Column("Supplier", ("supplier_name",)),
        Column("Order Number", ("order_number", "PO Number")),
        Column("Purchase Date", ("purchase_date",)),
        Column("Purchase Cost", ("purchase_cost", "Cost")),
        Column("Warranty", ("Warranty (months)", "Warranty Months", "warranty_months")),
        Column("Notes", ("Asset Notes",)),
        Column("Checkout Type", ("checkout_type",)),
        Column("Checked Out To: Username", ("Checked Out To Username", "Assigned To Username")),
        Column("Checked Out To: Email", ("Checked Out To Email", "Assigned To Email")),
        Column("Checked Out To: Employee Number", ("Checked Out To: Employee No", "Checked Out To: Employee Num")),
        Column("Expected Checkin Date", ("Expected Checkin", "Expected Check-in Date", "expected_checkin")),
    )
    column_for: ClassVar[dict[str, str]] = {
        "asset_tag": "Asset Tag",
        "serial": "Serial",
        "site": "Location",
        "model": "Model",
    }

    def __init__(self, importer: SnipeItImporter) -> None:
        super().__init__(importer)
        self.file = importer.run.file_name
        self.location_checkouts = 0
        self.holders_required = not importer.without_custody

    @property
    def title(self) -> str:
        return f"{self.file} → devices"

    def open(self) -> Table:
        return self.importer.open_single_table()

    def bind(self, table: Table) -> None:
        super().bind(table)
        if not self.cols.has("Location") and not self.importer.one_site:
            raise FileError(self.file, f"has no 'Location' column to tell each asset's site; choose one site for the whole file instead. The header has: {', '.join(table.headers[:40])}")  # fmt: skip
        if self.importer.one_site:
            self.report.note(f"Every asset goes to {self.importer.run.scope_site}: Snipe-IT's Location is not read.")
        self.holder_column = MATCH_COLUMNS[self.importer.match_people_by]
        if self.cols.has("Checkout Type") and not self.cols.has(self.holder_column):
            self.report.note(
                f"People are matched by {self.importer.match_people_by.replace('_', ' ')}, but the file has no "
                f"'{self.holder_column}' column: no check-out can be imported."
            )

    def row_key(self, row: Row) -> str:
        return self.cell_identifier(row, "Asset Tag", required=True, max_length=rules.text_limit("asset_tag"))

    def secondary(self, row: Row) -> list[tuple[str, str]]:
        """The asset tag again (tags are unique ignoring case; the key is exact) and the serial."""
        pairs = [
            ("Asset Tag", self.cols.get(row, "Asset Tag").strip()),
            ("Serial", self.cols.get(row, "Serial").strip()),
        ]
        return [(name, value) for name, value in pairs if value]

    def parse_device(self, row: Row, key: str) -> DeviceRecord:
        importer = self.importer
        problems: list[Problem] = []

        def problem(name: str, value: str, reason: str) -> None:
            problems.append(Problem(self.cols.header(name), value, reason))

        serial = ""
        try:
            serial = self.cell_identifier(row, "Serial", max_length=rules.text_limit("serial_number"))
        except RowError as exc:
            problems += exc.problems
        site_id = self._site(row, problem)
        model = self._model(row, problem)
        details: dict[str, Any] = {}
        order = importer.options.get("date_order", "MDY")
        bought: datetime.date | None = None
        raw = self.cell(row, "Purchase Date")
        try:
            bought = parse_date(raw, order=order)
        except ValueError as exc:
            problem("Purchase Date", raw, str(exc))
        if bought:
            details["purchase_date"] = bought
        raw = self.cell(row, "Purchase Cost")
        try:
            cost = parse_money(raw, decimal_comma=importer.decimal_comma)
            if cost is not None and cost >= 10**8:
                problem("Purchase Cost", raw, "is more than 99,999,999.99")
            elif cost is not None:
                details["purchase_cost"] = cost
        except ValueError as exc:
            problem("Purchase Cost", raw, str(exc))
        raw = self.cell(row, "Warranty")
        try:
            months = parse_int(raw, minimum=0)
        except ValueError as exc:
            problem("Warranty", raw, str(exc))
            months = None
        if months is not None and months > 600:
            problem("Warranty", raw, "is more than 600 months")
        elif months is not None and bought is not None:
            details["warranty_end"] = add_months(bought, months)
        elif months:
            self.warn(row.line, self.cols.header("Warranty"), raw, "has no purchase date to count from; not kept", key)
        for name, field in (("Supplier", "vendor"), ("Order Number", "purchase_order")):
            value = self.cell(row, name)
            too_long = rules.length_problem(value, field=field)
            if too_long:
                problem(name, value, too_long)
            elif value:
                details[field] = value
        notes = self.cell(row, "Notes")
        if notes:
            details["notes"] = notes
        for name, reason in detail_date_problems(details):
            problem("Purchase Date" if name == "purchase_date" else "Warranty", str(details[name]), reason)
        holder = self._holder(row, key, problem)
        if problems:
            raise RowError.of(problems)
        return DeviceRecord(
            serial=serial, asset_tag=key, current_site_id=site_id, model=model, details=details, holder=holder
        )

    def _site(self, row: Row, problem: Any) -> int | None:
        if self.importer.one_site:
            return self.importer.run.scope_site_id
        raw = self.cell(row, "Location")
        if not raw:
            problem("Location", "", "is empty; the location decides the device's site")
            return None
        site_id = self.importer.site_of_location(self.site_index(), raw)
        if site_id is None:
            problem("Location", raw, say(Msg.DEVICE_LOCATION_UNKNOWN))
            return None
        try:
            self.importer.require_site(site_id, self.cols.header("Location"), raw)
        except RowError as exc:
            problem("Location", raw, exc.problems[0].reason)
            return None
        return site_id

    def _model(self, row: Row, problem: Any) -> ModelRef | None:
        name = self.cell(row, "Model")
        if not name:
            return None
        maker = self.cell(row, "Manufacturer")
        if not maker:
            guessed, rest = split_model(name, self.model_catalog().makers)
            if guessed.lower() in {m.lower() for m in self.model_catalog().makers.values()} and rest != name:
                maker, name = guessed, rest
            else:
                problem("Manufacturer", "", f"is empty; a device model ({name}) needs a manufacturer")
                return None
        number = self.cell(row, "Model Number")
        too_long = rules.model_length_problem(name=name, manufacturer=maker, model_number=number)
        if too_long is not None:
            which, reason = too_long
            column = {"name": "Model", "manufacturer": "Manufacturer", "model_number": "Model Number"}[which]
            problem(column, {"name": name, "manufacturer": maker, "model_number": number}[which], reason)
            return None
        return ModelRef(maker, name, number or None, category_of(self.cell(row, "Category")))

    def _holder(self, row: Row, key: str, problem: Any) -> Holder | None:
        kind = self.cell(row, "Checkout Type").strip().lower()
        if kind == "location":
            self.location_checkouts += 1
            return None
        if kind not in ("user", ""):
            problem("Checkout Type", self.cell(row, "Checkout Type"), "expected User or Location")
            return None
        column = self.holder_column
        if not self.cols.has(column):
            return None
        raw = self.cell(row, column)
        if kind == "" and not raw:
            return None
        if not raw:
            self.warn(row.line, self.cols.header(column), "", "is empty, so the user this asset is checked out to cannot be matched; not checked out", key)  # fmt: skip
            return None
        try:
            value = self.identifier(row, column, raw)
        except RowError as exc:
            problem(column, raw, exc.problems[0].reason)
            return None
        due: datetime.date | None = None
        raw_due = self.cell(row, "Expected Checkin Date")
        try:
            due = parse_date(raw_due, order=self.importer.options.get("date_order", "MDY"))
        except ValueError as exc:
            problem("Expected Checkin Date", raw_due, str(exc))
        return Holder(value, self.importer.match_people_by, self.cols.header(column), due)

    def finish(self) -> list[Any]:
        super().finish()
        if self.location_checkouts:
            self.report.note(
                f"{self.location_checkouts} asset(s) are checked out to a location in Snipe-IT; that is not custody "
                "here, and is not imported."
            )
        return []


class SnipeUserStep(PeopleStep):
    """The user export → staff people, matched on the email, else the employee number."""

    importer: SnipeItImporter
    key_label = "Username"
    default_role = Person.Role.STAFF
    match_order = ("email", "student_number", "name")
    number_roles = (Person.Role.STAFF,)
    columns = (
        Column("Username", ("user_name", "Login")),
        Column("First Name", ("first_name", "Given Name"), required=True),
        Column("Last Name", ("last_name", "Family Name", "Surname"), required=True),
        Column("Email", ("Email Address", "email_address")),
        Column("Employee Number", ("Employee No", "Employee Num", "employee_num")),
        Column("Location", ("location_name", "Site")),
    )
    column_for: ClassVar[dict[str, str]] = {
        "given_name": "First Name",
        "family_name": "Last Name",
        "email": "Email",
        "student_number": "Employee Number",
        "site": "Location",
    }

    def __init__(self, importer: SnipeItImporter) -> None:
        super().__init__(importer)
        self.file = importer.run.file_name
        self.sites: SiteIndex | None = None

    @property
    def title(self) -> str:
        return f"{self.file} → people"

    def open(self) -> Table:
        return self.importer.open_single_table()

    def row_key(self, row: Row) -> str:
        for name in ("Username", "Email", "Employee Number"):
            value = self.cell_identifier(row, name, max_length=255)
            if value:
                return value.lower() if name != "Employee Number" else value
        raise RowError(self.cols.header("Username"), "", "is empty, and so are Email and Employee Number; a person needs one of them to be matched")  # fmt: skip

    def secondary(self, row: Row) -> list[tuple[str, str]]:
        pairs = []
        if self.cols.has("Username"):
            pairs.append(("Email", self.cols.get(row, "Email").strip()))
        pairs.append(("Employee Number", self.cols.get(row, "Employee Number").strip()))
        return [(name, value) for name, value in pairs if value]

    def parse_record(self, row: Row, key: str) -> PersonRecord:
        problems: list[Problem] = []
        values: dict[str, Any] = {}
        for name, field in (("First Name", "given_name"), ("Last Name", "family_name")):
            value = self.cell(row, name)
            if len(value) > 100:
                problems.append(Problem(self.cols.header(name), value, f"is {len(value)} characters long; at most 100"))
            elif value:
                values[field] = value
        email = self.cell(row, "Email")
        if email and valid_email(email):
            values["email"] = email
        elif email:
            self.warn(row.line, self.cols.header("Email"), email, "is not an email address; not kept", key)
        try:
            number = self.cell_identifier(row, "Employee Number", max_length=64)
            if number:
                values["student_number"] = number
        except RowError as exc:
            problems += exc.problems
        raw = self.cell(row, "Location")
        if raw:
            if self.sites is None:
                self.sites = SiteIndex()
            site_id = self.importer.site_of_location(self.sites, raw)
            if site_id is None:
                problems.append(Problem(self.cols.header("Location"), raw, say(Msg.DEVICE_LOCATION_UNKNOWN)))
            else:
                values["home_site_id"] = site_id
        if problems:
            raise RowError.of(problems)
        return PersonRecord(values)
