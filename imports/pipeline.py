"""The import pipeline: the :class:`Importer` base class and the streaming machinery.

How an import runs
==================

``imports.services`` creates an :class:`~imports.models.ImportRun` for an upload and starts a
job (``imports.tasks``); the job calls :func:`run_phase` with ``"preview"`` and, after the user
commits, with ``"commit"``. Both phases run the same code, :meth:`Importer.execute`; only the
preview never writes (except the run's issues and counts)::

    for each Step of the importer:                    (e.g. orgs.csv → sites, users.csv → people)
        open the table                                imports.reading: streaming, any encoding
        bind columns by name (aliases)                missing required column → file error
        pre-scan the keys                             key → first line; duplicates → an error
                                                      on every line involved
        stream the rows, in batches of batch_size:
            parse(row) → record                       RowError → an issue; the row is rejected
            plan(batch) → [Change]                    compare with the database (one query per batch)
            commit phase only: write(changes)         bulk_create / bulk_update, one transaction per batch
        finish()                                      e.g. deactivate what a bulk file no longer has

Memory does not grow with the file: rows are read one at a time, a batch at a time is
held, and the only whole-file structure is the key index (``dict`` key → first line), which
is what duplicate detection and bulk deactivation need.

All or nothing
--------------
In ``all_or_nothing`` mode the commit phase runs in one transaction and is refused when the
preview found any row error (or when the commit finds one: the data changed meanwhile).
In ``valid_rows`` mode each batch is its own transaction and rejected rows are reported.
A file-level error (unreadable file, missing column, forbidden import) refuses the commit in
both modes: a half-read bulk file must never deactivate anybody.

Writing an importer
===================

Subclass :class:`Importer` (see ``imports/oneroster.py`` for a complete one, and
``imports/README.md``)::

    class GoogleImporter(Importer):
        kind = "google"
        entities = (("devices", "Devices"),)

        def steps(self):
            return [GoogleDeviceStep(self)]

    class GoogleDeviceStep(Step):
        entity = "devices"
        key_label = "serialNumber"
        columns = (Column("serialNumber", ("Serial Number", "serial"), required=True), …)

        def open(self):  return self.importer.open_single_table()
        def row_key(self, row):  return self.cell_identifier(row, "serialNumber", required=True)
        def parse(self, row):  … return a record or raise RowError(column, value, reason)
        def plan(self, items):  … return [Change(...)] (one query for the batch)
        def write(self, changes):  … bulk writes + DeviceEvents (imports.events helper)

and add it to :data:`IMPORTER_CLASSES`. Rules an importer must keep:

* reference data (sites, models) is created only in ``write()`` from rows that parsed;
* every change to a device's custody, status or site writes a ``DeviceEvent`` with
  ``source="import"`` and ``import_run_id=self.importer.run.pk`` in the same transaction;
* site-scoped runs: call :meth:`Importer.require_site` for every row's site;
* values through ``imports.values`` (identifiers stay strings, money is Decimal, dates never guessed).
"""

from __future__ import annotations

import contextlib
import logging
import time
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from django.db import DatabaseError, connection, connections, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from core.errors import DomainError
from core.scoping import Scope
from imports.messages import Msg, say
from imports.models import COUNT_KEYS, ImportIssue, ImportRun
from imports.reading import FileFormatError, Row, Table, open_table
from imports.values import NUMERIC_IDENTIFIER_WARNING, parse_identifier
from people.rules import too_long

log = logging.getLogger(__name__)

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


class BoundColumns:
    """Our column names bound to one table's keys."""

    def __init__(self, table: Table, specs: Sequence[Column], file: str) -> None:
        self.table = table
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
        key = self.keys[name]
        return row.values[key] if key else ""

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


# --------------------------------------------------------------------------- report and progress


class Report:
    """Counts, issues and notes of one phase. Issues go to the database in bulk.

    ``hold=True`` (an all-or-nothing commit, inside its transaction): issues are not written
    — the preview stored them already — except errors, which are held in memory (up to
    1,000) and written by :meth:`flush_held` after the rollback.
    """

    def __init__(self, run: ImportRun, *, hold: bool = False) -> None:
        self.run = run
        self.hold = hold
        self._held: list[ImportIssue] = []
        self.counts: dict[str, dict[str, int]] = {}
        self.errors = 0
        self.warnings = 0
        self.file_errors = 0
        #: (file, reason) of the first file-level error: what stops a commit.
        self.first_file_error: tuple[str, str] | None = None
        self.rows_seen = 0
        self.notes: list[str] = []
        self._buffer: list[ImportIssue] = []
        self._stored = 0

    def count(self, entity: str, outcome: str, n: int = 1) -> None:
        entity_counts = self.counts.setdefault(entity, dict.fromkeys(COUNT_KEYS[:4], 0))
        entity_counts[outcome] = entity_counts.get(outcome, 0) + n

    def issue(
        self,
        *,
        severity: str,
        file: str,
        line: int | None,
        column: str = "",
        value: str = "",
        reason: str,
        key: str = "",
    ) -> None:
        if severity == ImportIssue.Severity.ERROR:
            self.errors += 1
        else:
            self.warnings += 1
        if self.hold and (severity != ImportIssue.Severity.ERROR or len(self._held) >= 1000):
            return
        if self._stored >= MAX_STORED_ISSUES:
            return
        self._stored += 1
        if len(value) > MAX_ISSUE_VALUE:
            value = value[: MAX_ISSUE_VALUE - 1] + "…"
        (self._held if self.hold else self._buffer).append(
            ImportIssue(
                run_id=self.run.pk,
                severity=severity,
                file=file[:255],
                line=line,
                column=column[:255],
                value=value,
                reason=reason,
                key=key[:255],
            )
        )
        if len(self._buffer) >= 1000:
            self.flush()

    def error(self, **kwargs: Any) -> None:
        self.issue(severity=ImportIssue.Severity.ERROR, **kwargs)

    def warning(self, **kwargs: Any) -> None:
        self.issue(severity=ImportIssue.Severity.WARNING, **kwargs)

    def file_error(self, file: str, reason: str) -> None:
        self.file_errors += 1
        if self.first_file_error is None:
            self.first_file_error = (file, reason)
        self.error(file=file, line=None, reason=reason)

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def flush(self) -> None:
        if self._buffer:
            ImportIssue.objects.bulk_create(self._buffer, batch_size=500)
            self._buffer = []

    def flush_held(self) -> None:
        """Write the errors held during an all-or-nothing commit (call after the rollback)."""
        if self._held:
            ImportIssue.objects.bulk_create(self._held, batch_size=500)
            self._held = []

    @property
    def truncated(self) -> int:
        """Issues counted but not stored (beyond :data:`MAX_STORED_ISSUES`)."""
        return 0 if self.hold else self.errors + self.warnings - self._stored

    def rejected_rows(self) -> int:
        return sum(c.get(REJECTED, 0) for c in self.counts.values())


Echo = Callable[[str, int, int], None]


class Progress:
    """Saves ``phase``/``progress_done``/``progress_total`` on the run, at most twice a second.

    Inside an all-or-nothing transaction the run row's update would stay invisible until
    the end, so on PostgreSQL progress goes through a second connection; on SQLite (one
    writer at a time) it is not saved until the transaction ends. ``echo`` (the command line's
    progress line) is called on every save.
    """

    interval = 0.5

    def __init__(self, run: ImportRun, *, echo: Echo | None = None) -> None:
        self.run = run
        self.echo = echo
        self.phase = ""
        self.done = 0
        self.total = 0
        self._last = 0.0
        self._side: Any = None
        self._side_failed = False

    def start(self, phase: str, total: int = 0) -> None:
        self.phase, self.done, self.total = phase[:200], 0, total
        self.save(force=True)

    def advance(self, n: int = 1) -> None:
        self.done += n
        if time.monotonic() - self._last >= self.interval:
            self.save()

    def save(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < self.interval:
            return
        self._last = now
        total = max(self.total, self.done)
        if self.echo is not None:
            self.echo(self.phase, self.done, total)
        values = {"phase": self.phase, "progress_done": self.done, "progress_total": total}
        if not connection.in_atomic_block:
            ImportRun.objects.filter(pk=self.run.pk).update(heartbeat_at=timezone.now(), **values)
        elif connection.vendor == "postgresql":
            self._save_aside(values)

    def _save_aside(self, values: dict[str, Any]) -> None:
        if self._side_failed:
            return
        try:
            if self._side is None:
                self._side = connections.create_connection("default")
                with self._side.cursor() as cursor:
                    cursor.execute("SET statement_timeout = 2000")
            with self._side.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {ImportRun._meta.db_table} SET phase = %s, progress_done = %s, progress_total = %s, "
                    "heartbeat_at = %s WHERE id = %s",
                    [values["phase"], values["progress_done"], values["progress_total"], timezone.now(), self.run.pk],
                )
        except DatabaseError:  # pragma: no cover - progress is a nicety
            log.warning("import %s: progress not saved", self.run.pk, exc_info=True)
            self._side_failed = True

    def close(self) -> None:
        if self._side is not None:
            with contextlib.suppress(DatabaseError):
                self._side.close()
            self._side = None


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


# --------------------------------------------------------------------------- steps


class Step:
    """One streaming pass over one table, producing changes to one kind of record.

    Subclasses set ``entity``, ``file`` (for messages), ``key_label`` and ``columns``, and
    implement :meth:`open`, :meth:`row_key`, :meth:`parse`, :meth:`plan` and :meth:`write`.
    """

    entity: ClassVar[str] = ""
    key_label: ClassVar[str] = "key"
    columns: ClassVar[tuple[Column, ...]] = ()
    batch_size: ClassVar[int] = 1000
    #: False when another step over the same file reports duplicates already.
    report_duplicates: ClassVar[bool] = True
    #: False for steps whose rows have no key of their own (nothing kept per row).
    track_keys: ClassVar[bool] = True
    #: True for a helper file: when it cannot be read that is a warning, and ``failed`` is set.
    optional_file: ClassVar[bool] = False
    #: True for a helper file: its row problems are warnings (the rows they feed report errors).
    issues_are_warnings: ClassVar[bool] = False

    file: str = ""

    def __init__(self, importer: Importer) -> None:
        self.importer = importer
        self.report = importer.report
        self.cols: BoundColumns
        self.keys: KeyIndex | None = None
        self.failed = False
        #: True during the main pass (set by the pipeline): warnings about cells are given
        #: then, once a cell, not again while the key pre-scan reads the same rows.
        self.warn_cells = False
        self._cells_warned: tuple[int, set[str]] = (0, set())

    # -- hooks -----------------------------------------------------------------

    @property
    def title(self) -> str:
        return f"{self.file} → {self.importer.entity_label(self.entity).lower()}"

    def enabled(self) -> bool:
        """False to skip this step (e.g. its optional file is absent)."""
        return True

    def open(self) -> Table:
        """Open the table (raise FileError when it is missing)."""
        raise NotImplementedError

    def bind(self, table: Table) -> None:
        """Bind :attr:`columns` to the table's headers; notes renamed and ignored columns."""
        self.cols = BoundColumns(table, self.columns, self.file)
        if self.cols.renamed:
            self.report.note(f"{self.file}: read {', '.join(self.cols.renamed)}.")
        if self.cols.ignored:
            shown = ", ".join(self.cols.ignored[:12]) + (" …" if len(self.cols.ignored) > 12 else "")
            self.report.note(f"{self.file}: ignored column(s) {shown}.")

    def wants(self, row: Row) -> bool:
        """False for rows this step leaves to another step (not counted)."""
        return True

    def prescanned(self, row: Row) -> None:
        """Called for every row of the key pre-scan (e.g. to index keys for a later step)."""

    def row_key(self, row: Row) -> str:
        """The row's key (raise RowError when blank or invalid)."""
        raise NotImplementedError

    def parse(self, row: Row, key: str) -> Any:
        """Turn a row into a record; raise RowError (rejected) or SkipRow (skipped).

        Return ``None`` for a row that needs no planning (not counted), e.g. in helper files.
        """
        raise NotImplementedError

    def plan(self, items: list[Item]) -> list[Change]:
        """Compare a batch with the database; one Change per item (or more). Never writes."""
        raise NotImplementedError

    def write(self, changes: list[Change]) -> None:
        """Apply a batch's changes (only those with an outcome in WRITE_OUTCOMES)."""
        raise NotImplementedError

    def finish(self) -> Iterable[Change]:
        """After the last row: further changes (e.g. bulk deactivation). May be a generator:
        it is consumed in batches, so it can yield a change per record of a large table."""
        return []

    # -- helpers ---------------------------------------------------------------

    def cell(self, row: Row, name: str) -> str:
        return self.cols.get(row, name)

    def cell_identifier(self, row: Row, name: str, *, required: bool = False, max_length: int = 255) -> str:
        """An identifier cell, leading zeros kept; RowError for blank (when required),
        Excel scientific notation, a number Excel stored with more digits than it keeps, or
        too long. A cell Excel stored as a number gets a warning (its leading zeros may be lost)."""
        raw = self.cols.get(row, name)
        value = self.identifier(row, name, raw)
        if required and not value:
            raise RowError(self.cols.header(name), raw, say(Msg.ROW_KEY_EMPTY, name=name))
        problem = too_long(value, max_length=max_length)
        if problem:
            raise RowError(self.cols.header(name), raw, problem)
        return value

    def identifier(self, row: Row, name: str, raw: str) -> str:
        """``parse_identifier`` of column ``name``'s text ``raw`` (RowError naming the column), told
        whether the sheet stored the cell as a number; such a cell is warned about (once)."""
        numeric = bool(row.numeric) and self.cols.numeric(row, name)  # never for CSV
        try:
            value = parse_identifier(raw, numeric=numeric)
        except ValueError as exc:
            raise RowError(self.cols.header(name), raw, str(exc)) from None
        if numeric and value:
            self.warn_cell(row, name, value, NUMERIC_IDENTIFIER_WARNING)
        return value

    def warn_cell(self, row: Row, name: str, value: str, reason: str) -> None:
        """A warning about one cell, given in the main pass only and once per cell (a row's
        key is read more than once)."""
        if not self.warn_cells:
            return
        line, names = self._cells_warned
        if line != row.line:
            names = set()
            self._cells_warned = (row.line, names)
        if name in names:
            return
        names.add(name)
        self.warn(row.line, self.cols.header(name), value, reason)

    def key_issue(self, key: str) -> tuple[str, str, str]:
        """How a repeated key is named in its error: (column, value, what it is). By default
        the key column's header, the key, and :attr:`key_label`."""
        column = self.cols.header(self.key_label) if self.cols.has(self.key_label) else self.key_label
        return column, key, self.key_label

    def reject(self, item: Item, column: str, value: str, reason: str) -> Change:
        """Report a row error found while planning and return its REJECTED change."""
        self.report.error(file=self.file, line=item.line, column=column, value=value, reason=reason, key=item.key)
        return Change(REJECTED, item)

    def warn(self, line: int | None, column: str, value: str, reason: str, key: str = "") -> None:
        self.report.warning(file=self.file, line=line, column=column, value=value, reason=reason, key=key)


# --------------------------------------------------------------------------- importer


def check_may_import(scope: Scope) -> None:
    """ImportRefused for a read-only role (principal, auditor) or no role: they may not import
    at all, whichever site they would choose."""
    if not scope.allows("change"):
        raise ImportRefused("You may not import: importing changes data, and your role is read-only.")


class Importer:
    """Base class of every importer. See the module docstring for how to write one.

    Class attributes: ``kind`` (an ``ImportRun.Kind``), ``entities`` (count keys and labels,
    in display order), ``district_admin_only`` (sites and people). Instance attributes while
    running: ``run``, ``actor``, ``options``, ``report``, ``progress``, ``applying``.
    """

    kind: ClassVar[str] = ""
    entities: ClassVar[tuple[tuple[str, str], ...]] = ()
    district_admin_only: ClassVar[bool] = False
    #: Option names and defaults; values come from the upload form or the command line.
    default_options: ClassVar[dict[str, Any]] = {}
    #: Further option names the importer reads that have no default (see also
    #: :data:`OPTIONS_WITHOUT_DEFAULT`).
    extra_options: ClassVar[tuple[str, ...]] = ()

    def __init__(self, *, run: ImportRun, report: Report, progress: Progress) -> None:
        self.run = run
        self.actor = run.actor
        self.options = {**self.default_options, **(run.options or {})}
        self.report = report
        self.progress = progress
        self.applying = False
        self.failed_files: set[str] = set()

    # -- class-level checks ------------------------------------------------------

    @classmethod
    def check_allowed(cls, *, scope: Scope, scope_site_id: int | None) -> None:
        """Raise ImportRefused when a user with ``scope`` may not run this import."""
        check_may_import(scope)
        if cls.district_admin_only and not scope.is_district_admin:
            raise ImportRefused("Only district admins may import sites and people.")
        if cls.district_admin_only and scope_site_id is not None:
            raise DomainError("This import is for the whole district: choose no site.", field="site")
        if scope_site_id is None and not scope.allows_everywhere("change"):
            raise ImportRefused("Choose one of your sites: you may import only for your own sites.", field="site")
        if scope_site_id is not None and not scope.allows_site(scope_site_id, "change"):
            raise ImportRefused("You may import only for your own sites.", field="site")

    @classmethod
    def option_names(cls) -> tuple[str, ...]:
        """Every option this importer reads, defaults first."""
        names = [*cls.default_options, *cls.extra_options, *OPTIONS_WITHOUT_DEFAULT.get(cls.kind, ())]
        return tuple(dict.fromkeys(names))

    @classmethod
    def clean_options(cls, options: dict[str, Any] | None) -> dict[str, Any]:
        """``options`` checked: a DomainError names an option this importer does not read (a
        misspelled name would otherwise be ignored and the default used) and lists the known
        ones; a yes/no option written as text (``"false"``, ``"0"``, ``"off"``…) becomes a bool,
        any other text for it is a DomainError."""
        known = cls.option_names()
        cleaned: dict[str, Any] = {}
        unknown = []
        for name, value in (options or {}).items():
            if name not in known:
                unknown.append(str(name))
                continue
            if isinstance(cls.default_options.get(name), bool) and not isinstance(value, bool):
                word = str(value).strip().lower()
                if word not in BOOLEAN_WORDS:
                    raise DomainError(f"Option {name} is yes or no, not '{value}'.", field="options")
                value = BOOLEAN_WORDS[word]
            cleaned[name] = value
        if unknown:
            label = ImportRun.Kind(cls.kind).label if cls.kind in ImportRun.Kind.values else cls.kind
            which = "option" if len(unknown) == 1 else "options"
            raise DomainError(
                f"Unknown {which} {', '.join(unknown)} for a {label} import; "
                f"its options are: {', '.join(known) or 'none'}.",
                field="options",
            )
        return cleaned

    @classmethod
    def entity_label(cls, entity: str) -> str:
        return dict(cls.entities).get(entity, entity.replace("_", " ").capitalize())

    # -- hooks -------------------------------------------------------------------

    def prepare(self) -> None:
        """Open the upload (raise FileError when it cannot be used)."""

    def steps(self) -> list[Step]:
        raise NotImplementedError

    def close(self) -> None:
        """Release what :meth:`prepare` opened."""

    # -- helpers for subclasses ---------------------------------------------------

    def require_site(self, site_id: int | None, column: str, value: str) -> None:
        """RowError unless this run may write to ``site_id`` (site-scoped runs)."""
        if self.run.scope_site_id is not None and site_id != self.run.scope_site_id:
            raise RowError(
                column, value, f"is not {self.run.scope_site}; this import is limited to {self.run.scope_site}"
            )

    def open_single_table(self) -> Table:
        """The uploaded file as one table (CSV or XLSX)."""
        return open_table(self.run.source_path, filename=self.run.file_name)

    # -- the engine ----------------------------------------------------------------

    def execute(self, *, apply: bool) -> None:
        """Run every step: plan only (``apply=False``) or plan and write."""
        self.applying = apply
        try:
            try:
                self.prepare()
            except FileError as exc:
                self.report.file_error(exc.file, exc.reason)
                self.failed_files.add(exc.file)
                if apply:
                    raise self._commit_stop(exc.file) from None
                return
            steps = self.steps()
            for number, step in enumerate(steps, start=1):
                if step.enabled():
                    self._run_step(step, number=number, of=len(steps))
                if apply and self.report.file_errors:
                    raise self._commit_stop(step.file)
        finally:
            self.report.flush()
            self.close()

    def _commit_stop(self, file: str) -> FileError:
        """The file error reported while committing (a read failure, or a check made again at
        the commit such as the OneRoster safety stop): it stops the commit, as it was reported."""
        reported_file, reason = self.report.first_file_error or (file, "could not be imported")
        return FileError(reported_file or file, reason)

    def _run_step(self, step: Step, *, number: int, of: int) -> None:
        label = f"Step {number} of {of}: {step.title}"
        try:
            self.progress.start(f"{label} — reading", 0)
            table = _read_guard(step.file, step.open)
            step.bind(table)
            if step.keys is None:
                step.keys = self._prescan(step, table)
            self._report_duplicates(step)
            self.progress.start(f"{label} — {'applying' if self.applying else 'checking'}", step.keys.rows)
            self._main_pass(step, table)
        except FileError as exc:
            step.failed = True
            if step.optional_file:
                step.warn(None, "", "", exc.reason)
            else:
                self.report.file_error(exc.file or step.file, exc.reason)
                self.failed_files.add(step.file)

    def _prescan(self, step: Step, table: Table) -> KeyIndex:
        """Read the keys only: the key index, with the lines of repeated keys."""
        keys = KeyIndex()
        progress = self.progress
        for row in _rows(step.file, table):
            keys.rows += 1
            progress.advance()
            step.prescanned(row)
            if not step.track_keys or not step.wants(row):
                continue
            try:
                key = step.row_key(row)
            except RowError:
                continue  # reported by the main pass
            keys.add(key, row.line)
        self.report.rows_seen += keys.rows
        return keys

    def _report_duplicates(self, step: Step) -> None:
        """An error on every line of every repeated key (the main pass then rejects them all)."""
        assert step.keys is not None
        if not step.report_duplicates:
            return
        for key, lines in step.keys.duplicates.items():
            column, value, label = step.key_issue(key)
            shown = ", ".join(str(n) for n in lines[:50]) + (f" and {len(lines) - 50} more" if len(lines) > 50 else "")
            reason = (
                f"{label} '{value}' appears on {len(lines)} lines ({shown}); "
                "none of them is imported until only one is left"
            )
            for line in lines:
                self.report.error(file=step.file, line=line, column=column, value=value, reason=reason, key=key)

    def _main_pass(self, step: Step, table: Table) -> None:
        assert step.keys is not None
        duplicates = step.keys.duplicates
        batch: list[Item] = []
        progress = self.progress
        step.warn_cells = True
        for row in _rows(step.file, table):
            progress.advance()
            if not step.wants(row):
                continue
            try:
                key = step.row_key(row)
                if key in duplicates:
                    self.report.count(step.entity, REJECTED)
                    continue
                record = step.parse(row, key)
            except RowError as exc:
                self._row_rejected(step, row, exc)
                continue
            except SkipRow:
                self.report.count(step.entity, SKIPPED)
                continue
            if record is None:
                continue
            batch.append(Item(row.line, key, record))
            if len(batch) >= step.batch_size:
                self._process(step, batch)
                batch = []
        if batch:
            self._process(step, batch)
        for changes in chunks(step.finish(), step.batch_size):
            self._apply_changes(step, changes)
        self.report.flush()

    def _row_rejected(self, step: Step, row: Row, exc: RowError) -> None:
        key = ""
        with contextlib.suppress(RowError):
            key = step.row_key(row)
        if step.issues_are_warnings:
            for problem in exc.problems:
                step.warn(row.line, problem.column, problem.value, problem.reason, key)
            return
        self.report.count(step.entity, REJECTED)
        for problem in exc.problems or [Problem("", "", "cannot be read")]:
            self.report.error(
                file=step.file,
                line=row.line,
                column=problem.column,
                value=problem.value,
                reason=problem.reason,
                key=key,
            )

    def _process(self, step: Step, batch: list[Item]) -> None:
        self._apply_changes(step, step.plan(batch))
        self.report.flush()

    def _apply_changes(self, step: Step, changes: Iterable[Change]) -> None:
        changes = list(changes)
        for change in changes:
            self.report.count(change.entity or step.entity, change.outcome)
        if not self.applying:
            return
        if self.run.mode == ImportRun.Mode.ALL_OR_NOTHING and self.report.errors:
            raise AllOrNothingAborted()
        to_write = [c for c in changes if c.outcome in WRITE_OUTCOMES]
        if to_write:
            with transaction.atomic():
                step.write(to_write)


#: Exceptions that mean "this file cannot be read" (zip members: corrupt, encrypted…).
_READ_ERRORS = (FileFormatError, OSError, zipfile.BadZipFile, zlib.error, EOFError, RuntimeError)


def _read_guard(file: str, func: Callable[[], Any]) -> Any:
    """Call ``func``; a read error becomes a FileError naming ``file``."""
    try:
        return func()
    except FileError:
        raise
    except _READ_ERRORS as exc:
        raise FileError(file, f"cannot be read: {exc}") from None


def _rows(file: str, table: Table) -> Iterator[Row]:
    """``table.rows()``, with read errors turned into a FileError naming ``file``."""
    iterator = iter(table.rows())
    while True:
        try:
            row = next(iterator)
        except StopIteration:
            return
        except _READ_ERRORS as exc:
            raise FileError(file, f"cannot be read: {exc}") from None
        yield row


def chunks(iterable: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """Lists of up to ``size`` items."""
    chunk: list[Any] = []
    for item in iterable:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# --------------------------------------------------------------------------- running a phase


def importer_class(kind: str) -> type[Importer]:
    """The Importer class for ``kind``; ImporterUnavailable when it is not written yet."""
    if kind not in IMPORTER_CLASSES:
        raise ImporterUnavailable(f"Unknown import kind '{kind}'; expected one of {', '.join(IMPORTER_CLASSES)}.")
    path = IMPORTER_CLASSES[kind]
    if path is None:
        label = ImportRun.Kind(kind).label
        raise ImporterUnavailable(f"The {label} importer is not available yet.")
    return import_string(path)


def run_phase(*, run_id: int, phase: str, echo: Echo | None = None) -> ImportRun:
    """Run the ``"preview"`` or ``"commit"`` phase of a run; record the outcome on the run.

    Never raises for bad input: problems become issues, unexpected errors make the run
    ``failed`` with the error text (and are logged).
    """
    run = ImportRun.objects.select_related("actor", "scope_site").get(pk=run_id)
    expected = ImportRun.Status.UPLOADED if phase == "preview" else ImportRun.Status.APPLYING
    if run.status != expected and not (phase == "preview" and run.status == ImportRun.Status.VALIDATING):
        log.warning("import %s: %s asked in status %s; ignored", run.pk, phase, run.status)
        return run
    progress = Progress(run, echo=echo)
    report = Report(run, hold=phase == "commit" and run.mode == ImportRun.Mode.ALL_OR_NOTHING)
    now = timezone.now()
    if phase == "preview":
        run.status = ImportRun.Status.VALIDATING
        run.started_at = now
    run.heartbeat_at = now
    run.save(update_fields=["status", "started_at", "heartbeat_at"])
    try:
        cls = importer_class(run.kind)
        importer = cls(run=run, report=report, progress=progress)
        if phase == "preview":
            _preview(run, importer, report)
        else:
            _commit(run, importer, report)
    except ImporterUnavailable as exc:
        _finish(run, report, status=ImportRun.Status.REJECTED, error=str(exc), phase=PHASE_NOT_IMPORTABLE)
    except Exception as exc:
        log.exception("import %s failed during %s", run.pk, phase)
        with contextlib.suppress(Exception):
            report.flush()
        _finish(
            run,
            report,
            status=ImportRun.Status.FAILED,
            error=f"{type(exc).__name__}: {exc}"[:2000],
            phase=PHASE_ERROR_PREVIEW if phase == "preview" else PHASE_ERROR_COMMIT,
        )
    finally:
        progress.close()
    return run


def _preview(run: ImportRun, importer: Importer, report: Report) -> None:
    ImportIssue.objects.filter(run=run).delete()
    importer.execute(apply=False)
    run.preview = report.counts
    if report.file_errors:
        _finish(
            run,
            report,
            status=ImportRun.Status.REJECTED,
            error="A file could not be imported; see the issues.",
            phase=PHASE_NOT_IMPORTABLE,
        )
    elif run.dry_run and run.mode == ImportRun.Mode.ALL_OR_NOTHING and report.errors:
        _finish(run, report, status=ImportRun.Status.REJECTED, error=_all_or_nothing_text(report), phase=PHASE_DRY_RUN)
    else:
        _finish(
            run,
            report,
            status=ImportRun.Status.PREVIEWED,
            final=run.dry_run,
            phase=PHASE_DRY_RUN if run.dry_run else PHASE_PREVIEWED,
        )


def _commit(run: ImportRun, importer: Importer, report: Report) -> None:
    all_or_nothing = run.mode == ImportRun.Mode.ALL_OR_NOTHING
    if not all_or_nothing:
        ImportIssue.objects.filter(run=run).delete()  # the commit's own issues replace the preview's
    try:
        if all_or_nothing:
            with transaction.atomic():
                importer.execute(apply=True)
                if report.errors:
                    raise AllOrNothingAborted()
        else:
            importer.execute(apply=True)
    except AllOrNothingAborted:
        report.flush_held()
        run.counts = {}
        _finish(
            run,
            report,
            status=ImportRun.Status.REJECTED,
            error=_commit_rejected_text(report),
            phase=PHASE_COMMIT_STOPPED,
        )
        return
    except FileError as exc:
        report.flush_held()
        run.counts = {} if all_or_nothing else report.counts
        _finish(
            run,
            report,
            status=ImportRun.Status.FAILED,
            error=commit_stopped_text(exc, all_or_nothing=all_or_nothing),
            phase=PHASE_COMMIT_STOPPED,
        )
        return
    run.counts = report.counts
    _finish(run, report, status=ImportRun.Status.DONE, phase=PHASE_DONE)


#: How every read failure's reason starts (``_read_guard``, ``_rows`` and the importers' own).
READ_FAILURE = "cannot be read"


def commit_stopped_text(exc: FileError, *, all_or_nothing: bool) -> str:
    """The run's error when a file error stopped its commit: what stopped it, and what stays
    applied. "Could not be read" only when the file could not be read."""
    applied = "Nothing was imported." if all_or_nothing else "Nothing more was applied."
    where = exc.file or "the upload"
    if exc.reason.startswith(READ_FAILURE):
        return f"{where} could not be read while committing ({exc.reason}). {applied}"
    reason = exc.reason.rstrip()
    if not reason.endswith("."):
        reason += "."
    return f"The commit was stopped: {where}: {reason} {applied}"


def _commit_rejected_text(report: Report) -> str:
    """An all-or-nothing commit that found row errors its preview did not have."""
    return (
        f"Nothing was imported: the commit found {report.errors} row error(s) that the preview did not have "
        "(the data changed since the preview; see the issues), and this import is all-or-nothing. "
        "Import the file again to preview it anew."
    )


def _all_or_nothing_text(report: Report) -> str:
    return (
        f"Nothing was imported: {report.errors} row error(s), and this import is all-or-nothing. "
        "Fix the rows, or import again choosing to apply the valid rows."
    )


#: The run's ``phase`` once a phase is over (shown beside its status on the run page).
PHASE_PREVIEWED = "Preview ready"
PHASE_DRY_RUN = "Dry run finished: nothing was changed"
PHASE_NOT_IMPORTABLE = "Checked: the file cannot be imported"
PHASE_DONE = "Finished"
PHASE_COMMIT_STOPPED = "Commit stopped"
PHASE_ERROR_PREVIEW = "Stopped by an error while checking"
PHASE_ERROR_COMMIT = "Stopped by an error while committing"


def _finish(
    run: ImportRun, report: Report, *, status: str, error: str = "", final: bool = True, phase: str = ""
) -> None:
    """Record the outcome and ``phase``, what the run page shows beside the status (the last
    step's progress text would say "Waiting to start" or "… — applying" on a stopped run).
    Progress counts are written only when the phase completed (they are kept up to date in
    the database by :class:`Progress`, not on ``run``)."""
    fields = ["status", "error", "notes", "error_count", "warning_count", "heartbeat_at", "preview", "counts", "mode"]
    if phase:
        run.phase = phase
        fields.append("phase")
    run.status = status
    run.error = error
    run.notes = report.notes
    if report.truncated > 0:
        run.notes = [*run.notes, f"{report.truncated} more issues were counted but not stored."]
    if not (report.hold and status == ImportRun.Status.DONE):
        run.error_count = report.errors
        run.warning_count = report.warnings
    now = timezone.now()
    run.heartbeat_at = now
    if final or status in ImportRun.FINAL:
        run.finished_at = now
        fields.append("finished_at")
    if status in (ImportRun.Status.DONE, ImportRun.Status.PREVIEWED):
        run.progress_done = run.progress_total = max(report.rows_seen, 1)
        fields += ["progress_done", "progress_total"]
    run.save(update_fields=fields)


def path_is_inside(path: Path, root: Path) -> bool:
    """True when ``path`` is ``root`` or inside it (no escaping with ..)."""
    try:
        path.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return True
