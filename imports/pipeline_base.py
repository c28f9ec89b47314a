"""The import pipeline's vocabulary: importer kinds and options, outcomes, the errors a step
raises, items and changes, columns, and the key index (moved from ``imports.pipeline``, which
re-exports every name)."""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from core.errors import DomainError
from imports.models import ImportRun
from imports.reading import Row, Table, normalize_header
from imports.values import _SCIENTIFIC_RE, SCIENTIFIC_NOTATION_REASON

log = logging.getLogger("imports.pipeline")  # one logger for the whole pipeline

#: Importer classes by kind. ``None``: not written yet (the CLI and the web page say so).
IMPORTER_CLASSES: dict[str, str | None] = {
    ImportRun.Kind.ONEROSTER: "imports.oneroster.OneRosterImporter",
    ImportRun.Kind.GOOGLE: "imports.google.GoogleImporter",
    ImportRun.Kind.SNIPEIT: "imports.snipeit.SnipeItImporter",
    ImportRun.Kind.CSV: "imports.tabular.TabularImporter",
}

#: Options an importer reads that have no default value, by kind: set by the commit
#: (``confirm_deactivation``), the column-mapping page, the upload form or the command line.
#: With each importer's ``default_options`` (and its ``extra_options``) these are the names
#: :meth:`Importer.option_names` knows; a run with any other option name is refused.
OPTIONS_WITHOUT_DEFAULT: dict[str, tuple[str, ...]] = {
    ImportRun.Kind.ONEROSTER: ("confirm_deactivation",),
    ImportRun.Kind.CSV: ("entity", "mapping", "source"),
}

#: How yes/no option values may be written (the command line gives text).
BOOLEAN_WORDS = {
    "true": True,
    "yes": True,
    "on": True,
    "1": True,
    "false": False,
    "no": False,
    "off": False,
    "0": False,
}

#: Issues stored per run; beyond this they are counted, not stored.
MAX_STORED_ISSUES = 100_000
#: Longest value kept in an issue.
MAX_ISSUE_VALUE = 300

CREATED = "created"
UPDATED = "updated"
UNCHANGED = "unchanged"
DEACTIVATED = "deactivated"
REACTIVATED = "reactivated"
REMOVED = "removed"
SKIPPED = "skipped"
REJECTED = "rejected"
#: Outcomes that write something.
WRITE_OUTCOMES = frozenset({CREATED, UPDATED, DEACTIVATED, REACTIVATED, REMOVED})


class ImporterUnavailable(DomainError):
    """The importer for this kind is not written yet."""


class ImportRefused(DomainError):
    """This user may not run this import (e.g. people by a site technician)."""


class FileError(Exception):
    """A whole file cannot be imported: missing, unreadable, or without a required column."""

    def __init__(self, file: str, reason: str) -> None:
        super().__init__(f"{file}: {reason}" if file else reason)
        self.file = file
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Problem:
    """What is wrong with one value of a row."""

    column: str
    value: str
    reason: str


class RowError(Exception):
    """A row cannot be imported. Raise from :meth:`Step.parse` or :meth:`Step.row_key`.

    ``RowError("givenName", "", "is empty; every person needs a given name")`` or
    ``RowError.of([Problem(...), Problem(...)])`` for several problems at once.
    """

    def __init__(self, column: str = "", value: str = "", reason: str = "") -> None:
        super().__init__(reason)
        self.problems: list[Problem] = [Problem(column, value, reason)] if reason else []

    @classmethod
    def of(cls, problems: Sequence[Problem]) -> RowError:
        error = cls()
        error.problems = list(problems)
        return error


class SkipRow(Exception):
    """Raise from :meth:`Step.parse` for a row that is fine but not for us (counted as skipped)."""


class AllOrNothingAborted(Exception):
    """The commit found row errors in all-or-nothing mode: roll everything back."""


@dataclass(slots=True)
class Item:
    """One parsed row: where it was, its key and the step's record."""

    line: int
    key: str
    record: Any


@dataclass(slots=True)
class Change:
    """What the commit does (or would do) for one item.

    ``outcome`` is one of created/updated/unchanged/deactivated/reactivated/removed/rejected;
    ``entity`` overrides the step's entity in the counts; ``data`` is whatever ``write`` needs.
    """

    outcome: str
    item: Item | None = None
    data: Any = None
    entity: str | None = None


# --------------------------------------------------------------------------- columns


@dataclass(frozen=True, slots=True)
class Column:
    """A column we read: our ``name`` and other names files use for it (matched by
    :func:`imports.reading.normalize_header`: case, spaces and punctuation do not matter)."""

    name: str
    aliases: tuple[str, ...] = ()
    required: bool = False


#: Our column names (through ``normalize_header``) whose values are identifiers that steps read
#: as text, not through ``Step.cell_identifier``: spreadsheet damage is refused in
#: :meth:`BoundColumns.get` for them too.
IDENTIFIER_TEXT_COLUMNS = frozenset({"modelnumber", "modelno"})


class BoundColumns:
    """Our column names bound to one table's keys."""

    @functools.cached_property
    def _identifier_names(self) -> frozenset[str]:
        return frozenset(name for name in self.keys if normalize_header(name) in IDENTIFIER_TEXT_COLUMNS)

    def __init__(self, table: Table, specs: Sequence[Column], file: str) -> None:
        self.table = table
        #: While a row is checked (the pipeline's main pass: :meth:`collect_damage`), the
        #: problems :meth:`get` found, instead of raising them: the row's other cells are still
        #: checked, so its every problem is listed in one preview. ``None``: raise at once.
        self._damage: list[Problem] | None = None
        self.keys: dict[str, str | None] = {}
        missing: list[Column] = []
        renamed: list[str] = []
        for spec in specs:
            key = table.column(spec.name, *spec.aliases)
            self.keys[spec.name] = key
            if key is None and spec.required:
                missing.append(spec)
            elif key is not None and table.column(spec.name) is None:
                renamed.append(f"'{table.header(key)}' as {spec.name}")
        if missing:
            names = "; ".join(
                f"{spec.name}" + (f" (or {', '.join(spec.aliases)})" if spec.aliases else "") for spec in missing
            )
            found = ", ".join(table.headers[:40]) + (" …" if len(table.headers) > 40 else "")
            raise FileError(file, f"no {names} column; the header has: {found}")
        used = {key for key in self.keys.values() if key}
        self.ignored = [table.header(key) for key in table.keys if key not in used]
        self.renamed = renamed

    def get(self, row: Row, name: str) -> str:
        """The cell of our column ``name`` ("" when the file has no such column). For a column
        that holds an identifier read as free text (:data:`IDENTIFIER_TEXT_COLUMNS`, e.g. a model
        number), a value a spreadsheet turned into scientific notation is a RowError, as it is for
        serials and tags (``values.parse_identifier``): ``6.37702E+15`` has lost its digits."""
        key = self.keys[name]
        if not key:
            return ""
        value = row.values[key]
        if value and name in self._identifier_names and _SCIENTIFIC_RE.fullmatch(value):
            problem = Problem(self.header(name), value, SCIENTIFIC_NOTATION_REASON.format(value=value))
            if self._damage is None:
                raise RowError.of([problem])
            if problem not in self._damage:
                self._damage.append(problem)
        return value

    def collect_damage(self) -> None:
        """From now on :meth:`get` collects the damaged identifiers it reads (the damaged value
        is returned as written) instead of raising; :meth:`take_damage` ends it."""
        self._damage = []

    def take_damage(self) -> list[Problem]:
        """The problems :meth:`get` collected since :meth:`collect_damage` (each once), and
        back to raising them. A row with any is rejected (the pipeline's main pass)."""
        found, self._damage = self._damage or [], None
        return found

    def numeric(self, row: Row, name: str) -> bool:
        """True when the row's cell was stored as a number (XLSX; never for CSV)."""
        key = self.keys.get(name)
        return key is not None and key in row.numeric

    def has(self, name: str) -> bool:
        return self.keys.get(name) is not None

    def header(self, name: str) -> str:
        """The column's header as written in the file (our name when absent)."""
        key = self.keys.get(name)
        return self.table.header(key) if key else name


# --------------------------------------------------------------------------- key index


class KeyIndex:
    """Every key of one file and the line it first appears on; lines of repeated keys.

    The one whole-file structure an import keeps (about 100 bytes a key).
    """

    __slots__ = ("duplicates", "first", "rows")

    def __init__(self) -> None:
        self.first: dict[str, int] = {}
        self.duplicates: dict[str, list[int]] = {}
        self.rows = 0

    def add(self, key: str, line: int) -> None:
        first = self.first.setdefault(key, line)
        if first != line:
            self.duplicates.setdefault(key, [first]).append(line)

    def __contains__(self, key: object) -> bool:
        return key in self.first

    def __len__(self) -> int:
        return len(self.first)
