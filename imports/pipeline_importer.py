"""The :class:`Importer` base and its streaming helpers (moved from ``imports.pipeline``, which
re-exports them)."""

from __future__ import annotations

import contextlib
import logging
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any, ClassVar

from django.db import transaction

from core.errors import DomainError
from core.scoping import Scope
from imports.messages import Msg, say
from imports.models import ImportRun
from imports.pipeline_base import (
    BOOLEAN_WORDS,
    OPTIONS_WITHOUT_DEFAULT,
    REJECTED,
    SKIPPED,
    WRITE_OUTCOMES,
    AllOrNothingAborted,
    Change,
    FileError,
    ImportRefused,
    Item,
    KeyIndex,
    Problem,
    RowError,
    SkipRow,
)
from imports.pipeline_report import Progress, Report
from imports.pipeline_steps import Step
from imports.reading import FileFormatError, Row, Table, encoding_label, open_table

log = logging.getLogger("imports.pipeline")  # one logger for the whole pipeline

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
    #: True: a file with a header and no rows is a file error ("has a header but no rows"),
    #: not an empty preview that looks ready to commit. False for an importer whose files may
    #: rightly be empty (a OneRoster zip's optional tables).
    rows_required: ClassVar[bool] = True

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
            if self.rows_required and not self.report.rows_seen and not self.report.file_errors:
                self.report.file_error(self.run.file_name, say(Msg.FILE_NO_ROWS))
                if apply:
                    raise self._commit_stop(self.run.file_name)
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
            self.check_headers(step, table)
            if step.keys is None:
                step.keys = self._prescan(step, table)
            self._report_duplicates(step)
            self.progress.start(f"{label} — {'applying' if self.applying else 'checking'}", step.keys.rows)
            self._main_pass(step, table)
            self.table_read(step, table)
        except FileError as exc:
            step.failed = True
            if step.optional_file:
                step.warn(None, "", "", exc.reason)
            else:
                self.report.file_error(exc.file or step.file, exc.reason)
                self.failed_files.add(step.file)

    def check_headers(self, step: Step, table: Table) -> None:
        """After ``step.bind``: the file's repeated headers (see ``reading.RepeatedHeader``).

        A repeat of a column the step does not read is a warning, and ignored. A repeat of one
        it reads is a file error naming both columns (which one is meant is not clear): the run
        cannot be committed, but the rows are still read, so the preview lists every problem of
        the other columns and the file is fixed in one round trip; problems of the ambiguous
        column itself are not listed (``step.ambiguous``), the file error says it all. Called by
        every path that binds a table (the row-by-row steps here, the set-based ones in
        ``imports.staging``)."""
        cols = getattr(step, "cols", None)
        used = {key: name for name, key in (cols.keys if cols is not None else {}).items() if key}
        for repeat in table.duplicates:
            if repeat.key in used:
                step.ambiguous.add(repeat.first)
                self.report.file_error(step.file, say(Msg.FILE_HEADER_REPEATED_USED, both=repeat.describe()))
                self.failed_files.add(step.file)
            else:
                step.warn(
                    None,
                    repeat.header,
                    "",
                    say(Msg.FILE_HEADER_REPEATED_IGNORED, first=repr(repeat.first), first_column=repeat.first_column),
                )

    def table_read(self, step: Step, table: Table) -> None:
        """After a pass over ``table``'s rows: what the reader did that the user should know —
        values under a blank header ignored (a warning per column), blank rows skipped and the
        encoding when it was guessed (notes)."""
        for column, line, rows in table.stray_values:
            step.warn(
                None, f"column {column}", "", say(Msg.FILE_BLANK_HEADER_VALUES, column=column, line=line, rows=rows)
            )
        if table.blank_rows:
            self.report.note(say(Msg.FILE_BLANK_ROWS, file=step.file, n=f"{table.blank_rows:,}"))
        if table.encoding_guessed:
            self.report.note(say(Msg.FILE_READ_AS, file=step.file, encoding=encoding_label(table.encoding)))

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
            if column in step.ambiguous:
                continue  # the repeated header's file error covers it
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
            # A damaged identifier cell (a model number Excel turned into 8.2E+11) is collected,
            # not raised, so the row's other cells are still checked: all its problems at once.
            step.cols.collect_damage()
            try:
                key = step.row_key(row)
                if key in duplicates:
                    self.report.count(step.entity, REJECTED)
                    continue
                record = step.parse(row, key)
                damage = step.cols.take_damage()
                if damage:
                    raise RowError.of(damage)
            except RowError as exc:
                damage = step.cols.take_damage()
                exc.problems += [problem for problem in damage if problem not in exc.problems]
                self._row_rejected(step, row, exc)
                continue
            except SkipRow:
                self.report.count(step.entity, SKIPPED)
                continue
            finally:
                step.cols.take_damage()
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
            if problem.column in step.ambiguous:
                continue  # a repeated header's column: its file error says it
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
