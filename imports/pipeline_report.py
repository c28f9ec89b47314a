"""What an import found and how far it got: :class:`Report` (counts, issues, notes) and
:class:`Progress` (moved from ``imports.pipeline``, which re-exports them)."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

from django.db import DatabaseError, connection, connections
from django.utils import timezone

from imports.models import COUNT_KEYS, ImportIssue, ImportRun
from imports.pipeline_base import (
    MAX_ISSUE_VALUE,
    MAX_STORED_ISSUES,
    REJECTED,
)

log = logging.getLogger("imports.pipeline")  # one logger for the whole pipeline

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
