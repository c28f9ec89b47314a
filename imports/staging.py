"""Staging a CSV file in PostgreSQL for the set-based import paths (OneRoster users.csv,
Google Admin devices): the shared parts of ``imports.oneroster_sql`` and ``imports.google_sql``.

* :class:`StagedFile` puts a file's rows into an UNLOGGED table ``import_stage_<run id>_raw``
  (a column ``line`` and text columns ``f0, f1, …``): a file that is plain UTF-8 with simple
  quoting goes to ``COPY … FROM STDIN (FORMAT csv)`` as it is, its bytes checked on the way
  (:func:`_clean_blocks`); anything else — other encodings, quoted line breaks, XLSX, or a file
  COPY refuses — streams through ``imports.reading`` into the same COPY. Either way the rows
  are the ones the reader gives (blank records dropped, the same line numbers).
* :class:`_Sql` runs statements with the run's table names; :func:`drop_stale_stages` drops
  the tables of runs that are over. Inserting into a model's table from a query
  (``insert_select``) and a first load's index rebuild (``bulk_load``) are generic and live in
  ``core.bulk``; they are re-exported here (``_insert_select``, ``bulk_load``,
  ``ANALYZE_AFTER``) for the steps that still import them from here.
"""

from __future__ import annotations

import contextlib
import csv
import logging
import re
from collections.abc import Iterable, Iterator
from typing import Any

import psycopg
from django.conf import settings
from django.db import DatabaseError, connection, transaction

# ANALYZE_AFTER, bulk_load and _insert_select are re-exported for imports.oneroster_sql.
from core.bulk import ANALYZE_AFTER, Statements, bulk_load  # noqa: F401
from core.bulk import insert_select as _insert_select  # noqa: F401
from imports.models import ImportRun
from imports.pipeline import FileError, _read_guard, _rows
from imports.reading import _CELL_STRIP, Table

log = logging.getLogger(__name__)

#: Prefix of the tables a run keeps between its preview and its commit.
STAGE_PREFIX = "import_stage_"
#: ``work_mem`` for the statements of a run (hash aggregates of a million keys stay in memory).
WORK_MEM = "128MB"
#: A CSV field longer than this is a file error for the reader (Python's csv module limit).
FIELD_LIMIT = csv.field_size_limit()


def set_based_enabled() -> bool:
    """True when OneRoster users.csv takes the set-based path: PostgreSQL and
    ``settings.IMPORTS_SET_BASED`` (default ``True``)."""
    return connection.vendor == "postgresql" and bool(getattr(settings, "IMPORTS_SET_BASED", True))


def drop_stale_stages(*, keep: int | None = None) -> list[str]:
    """Drop the staged tables of runs that are over (done, rejected, cancelled, failed, gone)
    or that are not waiting for their commit. Returns the names dropped."""
    waiting = {ImportRun.Status.UPLOADED, ImportRun.Status.VALIDATING, ImportRun.Status.PREVIEWED,
               ImportRun.Status.APPLYING}  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relkind = 'r' AND c.relname LIKE %s",
            [STAGE_PREFIX.replace("_", r"\_") + "%"],
        )
        names = [row[0] for row in cursor.fetchall()]
        ids: dict[str, int] = {}
        for name in names:
            match = re.fullmatch(rf"{STAGE_PREFIX}(\d+)(?:_\w+)?", name)
            if match:
                ids[name] = int(match[1])
        statuses = dict(ImportRun.objects.filter(pk__in=set(ids.values())).values_list("pk", "status"))
        dropped = [name for name, run_id in ids.items() if run_id != keep and statuses.get(run_id) not in waiting]
        for name in dropped:
            cursor.execute(f"DROP TABLE IF EXISTS {connection.ops.quote_name(name)} CASCADE")
    return dropped


# --------------------------------------------------------------------------- the clean-CSV check


class NotClean(Exception):
    """The file is not simple enough to COPY as it is (the reader takes it)."""


_QUOTED = re.compile(rb'"(?:[^"\r]|"")*"')
_BLANK_LINE = re.compile(rb"\n\r?\n")
_TRAILING_BLANK = re.compile(rb"\n(?:\r?\n)+\Z")


def _check_block(block: bytes, delimiter: int) -> int:
    """NotClean unless ``block`` (whole records) reads the same with ``COPY (FORMAT csv)`` as
    with ``imports.reading``: no lone CR, no blank line, no ``\\.`` line, no over-long line,
    every quote inside a field that is quoted from its first to its last character, and no
    CR inside a quoted field. Returns the number of line breaks inside quoted fields (the
    reader counts them as lines; COPY numbers records)."""
    if b"\r" in block and block.count(b"\r") != block.count(b"\r\n"):
        raise NotClean("a carriage return that does not end a line")
    if block.startswith((b"\n", b"\r\n")) or _BLANK_LINE.search(block):
        raise NotClean("a blank line")
    if block.startswith(b"\\.") or b"\n\\." in block:
        raise NotClean("a line starting with \\.")
    if len(block) > FIELD_LIMIT and max(map(len, block.split(b"\n"))) > FIELD_LIMIT:
        raise NotClean("a line longer than the CSV field limit")
    quotes = block.count(b'"')
    if not quotes:
        return 0
    seen = 0
    breaks = 0
    end = len(block)
    for match in _QUOTED.finditer(block):
        start, stop = match.span()
        if start and block[start - 1] not in (delimiter, 10):
            raise NotClean("a quote inside a field")
        if stop < end and block[stop] not in (delimiter, 10, 13):
            raise NotClean("characters after a closing quote")
        seen += block.count(b'"', start, stop)
        breaks += block.count(b"\n", start, stop)
    if seen != quotes:
        raise NotClean("a quote that does not enclose a whole field, or a carriage return inside a quoted field")
    return breaks


def _last_record_end(buffer: bytes) -> int:
    """Index of the last newline of ``buffer`` (which starts at a record) that is not inside a
    quoted field: an even number of quotes before it. -1 when there is none."""
    cut = buffer.rfind(b"\n")
    if b'"' not in buffer:
        return cut
    while cut >= 0 and buffer.count(b'"', 0, cut) % 2:
        cut = buffer.rfind(b"\n", 0, cut)
    return cut


def _clean_blocks(
    chunks: Iterable[bytes], delimiter: str, breaks: list[int] | None = None
) -> Iterator[tuple[bytes, bytes]]:
    """``("header", line)`` once, then ``("rows", block)`` of whole data records, each checked
    by :func:`_check_block`; trailing blank lines at the end of the file are dropped. The
    line breaks found inside quoted fields are appended to ``breaks`` (a count a block)."""
    code = ord(delimiter)
    buffer = b""
    header = True
    held_blank = False
    found = breaks if breaks is not None else []
    for chunk in chunks:
        buffer += chunk
        cut = _last_record_end(buffer)
        if cut < 0:
            if len(buffer) > FIELD_LIMIT:
                raise NotClean("a line longer than the CSV field limit")
            continue
        block, buffer = buffer[: cut + 1], buffer[cut + 1 :]
        if header:
            first = block.find(b"\n") + 1
            line = block[:first]
            if _check_block(line, code):
                raise NotClean("a line break inside the header")
            yield b"header", line
            block, header = block[first:], False
            if not block:
                continue
        if held_blank:
            raise NotClean("a blank line")
        trailing = _TRAILING_BLANK.search(block)
        if trailing:
            block, held_blank = block[: trailing.start() + 1], True
        found.append(_check_block(block, code))
        yield b"rows", block
    if buffer:
        if header:
            if _check_block(buffer, code):
                raise NotClean("a line break inside the header")
            yield b"header", buffer
            return
        if held_blank and buffer.strip(b"\r\n"):
            raise NotClean("a blank line")
        if buffer.strip(b"\r\n"):
            found.append(_check_block(buffer, code))
            yield b"rows", buffer


# --------------------------------------------------------------------------- the step


class _Sql(Statements):
    """Statements on one cursor (:class:`core.bulk.Statements`), with the run's table names."""

    def __init__(self, cursor: Any, run_id: int) -> None:
        super().__init__(cursor)
        self.stage = f"{STAGE_PREFIX}{run_id}"
        self.prefix = self.stage

    def table(self, suffix: str) -> str:
        return f"{self.prefix}_{suffix}"


# --------------------------------------------------------------------------- staging a file


class StagedFile:
    """Mixin for a set-based step: :meth:`_copy_as_is` / :meth:`_copy_through_reader` put the
    step's file into ``self.sql.table("raw")``.

    The step provides ``sql`` (:class:`_Sql`), ``cols`` (the bound columns), ``file``,
    ``progress`` and ``importer``; :attr:`staged_names` are the columns it reads (our names)
    and :attr:`staged_key` the one whose blank cell, with every other cell blank, makes a
    blank record (dropped, as the reader drops it). Both return ``({our name: raw column},
    rows)``; a column the file lacks is absent from the dict.
    """

    staged_names: tuple[str, ...] = ()
    staged_key: str = ""
    sql: _Sql
    cols: Any
    file: str
    importer: Any
    report: Any
    failed: bool
    # The step class beside this mixin gives ``title``, ``open()`` and ``bind()``.

    @property
    def progress(self) -> Any:
        return self.importer.progress

    def run(self, *, number: int, of: int) -> None:
        """Read the header, then stage, check, plan and (commit) apply the file with
        :meth:`_run` on one cursor (``work_mem`` raised, JIT off: a million-row estimate
        makes PostgreSQL compile for seconds, for scans and hash joins that gain nothing);
        :meth:`_drop_work_tables` after. File errors are reported as the pipeline reports
        them; AllOrNothingAborted goes up to the pipeline."""
        label = f"Step {number} of {of}: {self.title}"  # type: ignore[attr-defined]
        try:
            self.progress.start(f"{label} — reading", 0)
            table = _read_guard(self.file, self.open)  # type: ignore[attr-defined]
            self.bind(table)  # type: ignore[attr-defined]
            self.importer.check_headers(self, table)
            self._bound()
            with connection.cursor() as cursor:
                self.sql = _Sql(cursor, self.importer.run.pk)
                cursor.execute(f"SET work_mem = '{WORK_MEM}'")
                cursor.execute("SET jit = off")
                try:
                    self._run(table, label)
                    self.importer.table_read(self, table)
                finally:
                    self._drop_work_tables()
                    if not connection.needs_rollback:
                        with contextlib.suppress(DatabaseError):
                            cursor.execute("RESET work_mem")
                            cursor.execute("RESET jit")
        except FileError as exc:
            self.failed = True
            self.report.file_error(exc.file or self.file, exc.reason)
            self.importer.failed_files.add(self.file)

    def _bound(self) -> None:
        """After the header is bound (a hook)."""

    #: Blank records the COPY path dropped before the last data row (the reader counts them itself).
    blank_rows_found = 0

    def _reader_facts(self, table: Table, how: str) -> dict[str, Any]:
        """What reading the file told the user (``importer.table_read``: blank rows skipped, the
        encoding read as), kept with the staged rows so a commit that reuses them says the same."""
        blank = self.blank_rows_found if how == "copy" else table.blank_rows
        return {"blank_rows": blank, "encoding": table.encoding}

    @staticmethod
    def _recall_reader_facts(table: Table, facts: dict[str, Any] | None) -> None:
        """Put :meth:`_reader_facts` back on ``table`` (a commit that did not read the file)."""
        if facts:
            table.blank_rows = int(facts.get("blank_rows") or 0)
            table.encoding = str(facts.get("encoding") or table.encoding)

    def _run(self, table: Table, label: str) -> None:
        raise NotImplementedError

    def _drop_work_tables(self) -> None:
        raise NotImplementedError

    def _copy_as_is(self, table: Table, label: str) -> tuple[dict[str, str], int] | None:
        """COPY the file's bytes as they are, when it is clean UTF-8 CSV (None otherwise)."""
        if table.encoding not in ("utf-8", "utf-8-sig") or not table.delimiter or table.header_line != 1:
            return None
        sql = self.sql
        raw = sql.table("raw")
        slots = table.slots
        width = len(slots)
        try:
            with transaction.atomic():
                breaks: list[int] = []
                blocks = _clean_blocks(_guarded(self.file, table.raw_chunks()), table.delimiter, breaks)
                kind, header = next(blocks, (b"", b""))
                if kind != b"header":
                    return None
                text = header.decode("utf-8-sig")
                cells = next(csv.reader([text], delimiter=table.delimiter, skipinitialspace=True, strict=True), [])
                physical = max(len(cells), width)
                fields = [f"f{i}" for i in range(physical)]
                sql.run(
                    f"CREATE UNLOGGED TABLE {raw} (line integer GENERATED BY DEFAULT AS IDENTITY (START WITH 2), "
                    + ", ".join(f"{f} text" for f in fields)
                    + ")"
                )
                delimiter = psycopg.sql.Literal(table.delimiter).as_string(sql.raw.connection)
                with sql.raw.copy(
                    f"COPY {raw} ({', '.join(fields)}) FROM STDIN (FORMAT csv, DELIMITER {delimiter})"
                ) as copy:
                    progress = self.progress
                    for _, block in blocks:
                        copy.write(block)
                        progress.advance(block.count(b"\n"))
                copied = max(int(sql.raw.rowcount), 0)
                positions = {key: index for index, key in enumerate(slots) if key}
                columns = {
                    name: f"f{positions[key]}"
                    for name in self.staged_names
                    if (key := self.cols.keys.get(name)) is not None and key in positions
                }
                blank = [f"f{i}" for i, key in enumerate(slots) if key is None] + fields[width:]
                rows = self._drop_blank_records(fields, columns[self.staged_key], blank, copied)
                if rows is None:
                    raise NotClean("a value under a blank header")
                if sum(breaks):
                    self._physical_lines(fields)
                return columns, rows
        except NotClean as exc:
            log.info("import %s: %s read by the reader (%s)", self.importer.run.pk, self.file, exc)
        except psycopg.Error as exc:
            log.info("import %s: %s read by the reader (COPY: %s)", self.importer.run.pk, self.file, exc)
        return None

    def _physical_lines(self, fields: list[str]) -> None:
        """COPY numbered the records; the reader numbers physical lines, and a quoted field
        with line breaks spans several. Each record's line becomes the line it starts on: the
        records holding breaks (few) are found, and the others shift by the breaks before them."""
        sql = self.sql
        raw = sql.table("raw")
        joined = f"concat({', '.join(fields)})"
        found = sql.rows(
            f"SELECT line, octet_length({joined}) - octet_length(replace({joined}, E'\\n', '')) FROM {raw} "
            f"WHERE strpos({joined}, E'\\n') > 0 ORDER BY line"
        )
        shifts, total = [], 0
        for line, count in found:
            total += int(count)
            shifts.append((int(line), total))
        breaks = sql.table("breaks")
        sql.load(breaks, "line integer PRIMARY KEY, shift integer NOT NULL", shifts)
        numbered = sql.table("numbered")
        sql.run(f"DROP TABLE IF EXISTS {numbered}")
        sql.run(
            f"CREATE UNLOGGED TABLE {numbered} AS SELECT r.line + coalesce(b.shift, 0) AS line, "
            f"{', '.join('r.' + f for f in fields)} FROM {raw} r "
            f"LEFT JOIN LATERAL (SELECT shift FROM {breaks} b WHERE b.line < r.line ORDER BY b.line DESC LIMIT 1) b "
            "ON true"
        )
        sql.run(f"DROP TABLE {raw}, {breaks}")
        sql.run(f"ALTER TABLE {numbered} RENAME TO {raw}")

    def _drop_blank_records(self, fields: list[str], sid: str, blank: list[str], copied: int) -> int | None:
        """Delete the records whose cells are all blank (the reader skips them); None when a
        column with a blank header (or none) has a value (the reader's file error)."""
        sql = self.sql
        raw = sql.table("raw")
        everything = f"btrim(concat({', '.join(fields)}), %(c)s) = ''"
        checks = [f"count(*) FILTER (WHERE btrim(coalesce({sid}, ''), %(c)s) = '' AND {everything})"]
        if blank:
            filled = " OR ".join(f"btrim(coalesce({f}, ''), %(c)s) <> ''" for f in blank)
            checks.append(f"bool_or({filled})")
        found = sql.one(f"SELECT {', '.join(checks)} FROM {raw}", {"c": _CELL_STRIP})
        if len(found) > 1 and found[1]:
            return None
        if found[0]:
            # The reader counts the blank records before the last data row (Table.blank_rows).
            blank_record = f"btrim(coalesce({sid}, ''), %(c)s) = '' AND {everything}"
            self.blank_rows_found = int(
                sql.one(
                    f"SELECT count(*) FROM {raw} WHERE {blank_record} AND line < "
                    f"(SELECT coalesce(max(line), 0) FROM {raw} WHERE NOT ({blank_record}))",
                    {"c": _CELL_STRIP},
                )[0]
            )
            sql.run(
                f"DELETE FROM {raw} WHERE btrim(coalesce({sid}, ''), %(c)s) = '' AND {everything}",
                {"c": _CELL_STRIP},
            )
        return copied - int(found[0])

    def _copy_through_reader(self, table: Table, label: str) -> tuple[dict[str, str], int]:
        """Stream the rows through ``imports.reading`` (any encoding or dialect) into COPY."""
        sql = self.sql
        raw = sql.table("raw")
        bound = [(name, key) for name in self.staged_names if (key := self.cols.keys.get(name))]
        names = [name for name, _ in bound]
        keys = [key for _, key in bound]
        columns = {name: f"f{i}" for i, name in enumerate(names)}
        rows = 0
        progress = self.progress
        # In a transaction, so that progress is saved through its own connection (not in the COPY).
        with transaction.atomic():
            sql.run(f"DROP TABLE IF EXISTS {raw}")
            sql.run(
                f"CREATE UNLOGGED TABLE {raw} (line integer, "
                + ", ".join(f"{column} text" for column in columns.values())
                + ")"
            )
            with sql.raw.copy(f"COPY {raw} (line, {', '.join(columns.values())}) FROM STDIN") as copy:
                for row in _rows(self.file, table):
                    values = row.values
                    copy.write_row((row.line, *[values[key] for key in keys]))
                    rows += 1
                    progress.advance()
        return columns, rows

    # -- 2. the distinct values, judged in Python -----------------------------------------


# --------------------------------------------------------------------------- helpers


def _trim_sql(column: str) -> str:
    """SQL: the cell stripped as ``imports.reading`` strips it (``''`` for a missing cell;
    ``%(c)s`` is ``imports.reading._CELL_STRIP``)."""
    return f"btrim(coalesce({column}, ''), %(c)s)"


def _guarded(file: str, chunks: Iterator[bytes]) -> Iterator[bytes]:
    """Read errors of the raw bytes are the file's errors (as in the reader)."""
    try:
        yield from chunks
    except OSError as exc:
        raise FileError(file, f"cannot be read: {exc}") from None
