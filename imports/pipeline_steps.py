"""The :class:`Step` base: one streaming pass over one table (moved from ``imports.pipeline``,
which re-exports it)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar

from imports.messages import Msg, say
from imports.pipeline_base import (
    REJECTED,
    BoundColumns,
    Change,
    Column,
    Item,
    KeyIndex,
    RowError,
)
from imports.reading import Row, Table
from imports.values import NUMERIC_IDENTIFIER_WARNING, parse_identifier
from people.rules import too_long

if TYPE_CHECKING:
    from imports.pipeline_importer import Importer

log = logging.getLogger("imports.pipeline")  # one logger for the whole pipeline

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
        #: Headers of columns the file repeats and this step reads: which one is meant is not
        #: clear, so the run has a file error and their row problems are not listed
        #: (``Importer.check_headers``).
        self.ambiguous: set[str] = set()

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
        if column in self.ambiguous:
            return Change(REJECTED, item)
        self.report.error(file=self.file, line=item.line, column=column, value=value, reason=reason, key=item.key)
        return Change(REJECTED, item)

    def warn(self, line: int | None, column: str, value: str, reason: str, key: str = "") -> None:
        """A warning about the file (``line`` None) or one of its cells."""
        if line is not None and column in self.ambiguous:
            return
        self.report.warning(file=self.file, line=line, column=column, value=value, reason=reason, key=key)
