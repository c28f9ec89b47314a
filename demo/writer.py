"""Batched row writing for the demo generator: ``bulk_create`` anywhere, ``COPY`` on PostgreSQL.

Rows are plain tuples in a fixed column order (model attribute names such as
``device_id``), so the generator never holds more than a few batches per table in
memory. JSON columns hold dicts. Ids of tables other rows point at are chosen by the
generator (:class:`IdBlock`); assignments and events take the database's own ids.

Tables are registered parents first; flushing a table flushes the tables registered
before it, so a row never reaches the database before the rows it points at (foreign
keys can then be checked immediately, statement by statement, instead of piling up
until commit).
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Sequence
from typing import Any

from django.core.management.color import no_style
from django.db import connection, models
from django.db.models import Max

_STOP = object()
_quote = json.encoder.encode_basestring_ascii


def json_text(value: dict[str, Any]) -> str:
    """``json.dumps(value)`` for flat dicts of str/int/bool/None (event before/after), several times faster."""
    parts = []
    for key, item in value.items():
        if item is None:
            text = "null"
        elif item is True:
            text = "true"
        elif item is False:
            text = "false"
        elif isinstance(item, str):
            text = _quote(item)
        elif isinstance(item, int):
            text = str(item)
        else:
            return json.dumps(value)
        parts.append(f"{_quote(key)}: {text}")
    return "{" + ", ".join(parts) + "}"


class IdBlock:
    """Hands out primary keys for one table, starting after the largest id in use.

    The generator runs inside one transaction on a database without demo rows, so no
    other writer competes for these ids; sequences are reset afterwards
    (:meth:`BatchWriter.finish`).
    """

    def __init__(self, model: type[models.Model]) -> None:
        self.next_id = (model._default_manager.aggregate(top=Max("pk"))["top"] or 0) + 1

    def take(self) -> int:
        """The next unused id."""
        value = self.next_id
        self.next_id += 1
        return value


class BatchWriter:
    """Buffers rows per model and writes them in batches of ``batch_size``.

    ``use_copy`` (default: on PostgreSQL) streams batches with ``COPY … FROM STDIN`` from
    a background thread on the same database connection (so inside the same
    transaction) while the generator builds the next rows; the caller must not use the
    connection between the first :meth:`add` and :meth:`finish`. Otherwise batches go
    through ``bulk_create`` synchronously. Either way ``auto_now`` timestamps
    (``created_at``/``updated_at``) are the time of writing. ``counts`` holds rows
    written per model label (``"inventory.device"``). Call :meth:`finish` at the end and
    :meth:`close` in a ``finally``.
    """

    def __init__(self, *, batch_size: int = 5000, use_copy: bool | None = None) -> None:
        self.batch_size = batch_size
        self.use_copy = connection.vendor == "postgresql" if use_copy is None else use_copy
        if self.use_copy and connection.vendor != "postgresql":
            raise ValueError("COPY needs PostgreSQL.")
        self.columns: dict[type[models.Model], tuple[str, ...]] = {}
        self.buffers: dict[type[models.Model], list[tuple[Any, ...]]] = {}
        self.counts: dict[str, int] = {}
        self.explicit_ids: list[type[models.Model]] = []
        self._copy_sql: dict[type[models.Model], tuple[str, list[int]]] = {}
        self._jobs: queue.Queue[Any] = queue.Queue(maxsize=4)
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def register(self, model: type[models.Model], columns: Sequence[str]) -> None:
        """Declare ``model``'s column order (attribute names, e.g. ``site_id``); parents before children."""
        self.columns[model] = tuple(columns)
        self.buffers[model] = []
        self.counts.setdefault(model._meta.label_lower, 0)
        if "id" in columns:
            self.explicit_ids.append(model)

    def pending(self, model: type[models.Model]) -> int:
        """Rows of ``model`` queued or written so far."""
        return self.counts[model._meta.label_lower] + len(self.buffers[model])

    def add(self, model: type[models.Model], row: tuple[Any, ...]) -> None:
        """Queue one row; writes a batch when it is full."""
        buffer = self.buffers[model]
        buffer.append(row)
        if len(buffer) >= self.batch_size:
            self.flush(model)

    def flush(self, model: type[models.Model] | None = None) -> None:
        """Write the queued rows of ``model`` and of the tables registered before it (or of all)."""
        order = list(self.buffers)
        targets = order if model is None else order[: order.index(model) + 1]
        for target in targets:
            rows = self.buffers[target]
            if not rows:
                continue
            self.buffers[target] = []
            self.counts[target._meta.label_lower] += len(rows)
            if self.use_copy:
                self._submit(target, rows)
            else:
                target._default_manager.bulk_create(
                    [target(**dict(zip(self.columns[target], row, strict=True))) for row in rows],
                    batch_size=self.batch_size,
                )

    def finish(self) -> None:
        """Write everything still queued, wait for it, and move PostgreSQL sequences past the ids used."""
        self.flush()
        self.close()
        if connection.vendor == "postgresql" and self.explicit_ids:
            statements = connection.ops.sequence_reset_sql(no_style(), self.explicit_ids)
            with connection.cursor() as cursor:
                for statement in statements:
                    cursor.execute(statement)

    def close(self) -> None:
        """Stop the background writer (if any), re-raising its error. Safe to call twice."""
        thread, self._thread = self._thread, None
        if thread is not None:
            self._jobs.put(_STOP)
            thread.join()
        self._raise_error()

    # -- COPY in the background -------------------------------------------------------------

    def _raise_error(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise RuntimeError(f"Writing demo rows failed: {error}") from error

    def _submit(self, model: type[models.Model], rows: list[tuple[Any, ...]]) -> None:
        self._raise_error()
        if self._thread is None:
            connection.ensure_connection()
            raw = connection.connection
            self._thread = threading.Thread(target=self._work, args=(raw,), name="demo-copy", daemon=True)
            self._thread.start()
        sql, json_positions = self._sql(model)
        self._jobs.put((sql, json_positions, rows))

    def _sql(self, model: type[models.Model]) -> tuple[str, list[int]]:
        cached = self._copy_sql.get(model)
        if cached is None:
            meta = model._meta
            names: list[str] = []
            json_positions: list[int] = []
            for position, name in enumerate(self.columns[model]):
                field = meta.get_field(name)
                assert isinstance(field, models.Field) and field.column
                names.append(connection.ops.quote_name(field.column))
                if isinstance(field, models.JSONField):
                    json_positions.append(position)
            table = connection.ops.quote_name(meta.db_table)
            cached = self._copy_sql[model] = (f"COPY {table} ({', '.join(names)}) FROM STDIN", json_positions)
        return cached

    def _work(self, raw: Any) -> None:
        while True:
            job = self._jobs.get()
            if job is _STOP:
                return
            if self._error is not None:
                continue  # drain after a failure; close() reports it
            sql, json_positions, rows = job
            try:
                with raw.cursor() as cursor, cursor.copy(sql) as copy:
                    for row in rows:
                        if json_positions:
                            row = list(row)
                            for i in json_positions:
                                row[i] = json_text(row[i])
                        copy.write_row(row)
            except BaseException as exc:  # handed to the main thread by close()
                self._error = exc
