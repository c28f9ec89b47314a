"""CSV/XLSX imports (``imports.tabular``): rows → people, by ``imports.people_rows`` (split
from ``imports.tabular``; district admins only)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar

from core.choices import normalize_grade
from imports.device_rows import (
    SiteIndex,
)
from imports.people_rows import MAX_LENGTHS, PeopleStep, PersonRecord, valid_email
from imports.pipeline import Change, FileError, Problem, RowError
from imports.reading import Row, Table
from imports.tabular_mapping import (
    PERSON_FIELDS,
    _MappedStep,
    choice,
)
from imports.values import parse_int
from people.models import Person

if TYPE_CHECKING:
    from imports.tabular import TabularImporter


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
