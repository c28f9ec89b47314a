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

Where things are: our fields and the column mapping in ``imports.tabular_mapping``, the
device rows in ``imports.tabular_devices``, the people rows in ``imports.tabular_people``
(their public names are importable from here).
"""

from __future__ import annotations

from typing import Any, ClassVar

from core.scoping import scope_for
from imports.device_rows import (
    check_date_order,
)
from imports.models import ImportRun
from imports.pipeline import FileError, Importer, Step
from imports.selectors import column_mapping_for
from imports.tabular_devices import TabularDeviceStep
from imports.tabular_mapping import (
    DEVICE_FIELDS,
    DEVICES,
    ENTITIES,
    FIELDS,
    PEOPLE,
    PERSON_FIELDS,
    _file_table,
    choice,
    file_headers,
    file_samples,
    guess_entity,
    initial_mapping,
    parse_mapping,
    unquote,
)
from imports.tabular_people import TabularPeopleStep


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


__all__ = [
    "DEVICE_FIELDS",
    "ENTITIES",
    "FIELDS",
    "PERSON_FIELDS",
    "TabularImporter",
    "choice",
    "file_headers",
    "file_samples",
    "guess_entity",
    "initial_mapping",
    "parse_mapping",
    "unquote",
]
