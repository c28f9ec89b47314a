"""CSV/XLSX imports (``imports.tabular``): rows → devices, by ``imports.device_rows`` (split
from ``imports.tabular``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar

from imports.device_rows import (
    DeviceRecord,
    DeviceStep,
    ModelRef,
    detail_date_problems,
)
from imports.pipeline import Change, FileError, Problem, RowError
from imports.reading import Row, Table
from imports.snipeit import category_of
from imports.tabular_mapping import (
    DEVICE_FIELDS,
    _MappedStep,
    choice,
)
from imports.values import parse_date, parse_money
from inventory import rules
from inventory.models import Device
from inventory.models_catalog import split_model
from inventory.rules import MAC_INVALID, mac_normalize
from sites.models import Location

if TYPE_CHECKING:
    from imports.tabular import TabularImporter


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
