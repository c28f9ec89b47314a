"""Set-based writes into a model's table, generic over the model (no domain rule here): each
owning app calls these for its own tables (``inventory.bulk``, ``people.bulk``, …).

* :func:`insert_rows` / :func:`update_rows`: rows given as dicts, ``COPY`` on PostgreSQL
  (``executemany`` on SQLite).
* :class:`Statements`: statements on one cursor (timed in the debug log), the runner the
  PostgreSQL-only helpers below take; ``imports.staging._Sql`` extends it with a run's table
  names.
* :func:`insert_select`: ``INSERT INTO model SELECT …`` filling the columns the query does not
  give with their defaults (PostgreSQL).
* :func:`bulk_load`: around a first load, drop the table's plain indexes and foreign keys and
  build them again after it, as ``pg_restore`` does (PostgreSQL).

Moved from ``imports.services`` (``_insert_rows``/``_update_rows``) and ``imports.staging``
(``_insert_select``, ``bulk_load``) unchanged (issue #7: each app writes its own tables).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

log = logging.getLogger(__name__)

#: Rows inserted into a table after which it is analyzed (its statistics would be far off).
ANALYZE_AFTER = 10_000
#: An insert of at least this many rows, and at least as many as the table holds (a first
#: load), drops the table's plain indexes first and builds them again after it.
REBUILD_AT_LEAST = 100_000
#: ``maintenance_work_mem`` while those indexes are built.
BUILD_MEMORY = "256MB"


# --------------------------------------------------------------------------- rows as dicts


#: Field types whose values go to the database as they are in the bulk writes.
PLAIN_FIELDS = (models.CharField, models.TextField, models.IntegerField, models.BooleanField, models.ForeignKey)


def _column_values(model: type[models.Model], names: Sequence[str] | None) -> tuple[list[Any], Any]:
    """The fields written (all concrete non-pk fields, or ``names``) and a function
    row dict → tuple of database values."""
    meta = model._meta
    fields: list[Any]
    if names is None:
        fields = [f for f in meta.concrete_fields if not f.primary_key]
    else:
        fields = [meta.get_field(name) for name in names]
    now = timezone.now()
    columns: list[tuple[str, Any, Any]] = []  # (attname, default, "fixed" / None / converter)
    for field in fields:
        if getattr(field, "auto_now", False) or (names is None and getattr(field, "auto_now_add", False)):
            columns.append((field.attname, field.get_db_prep_save(now, connection), "fixed"))
        elif isinstance(field, PLAIN_FIELDS):
            columns.append((field.attname, field.get_default(), None))
        else:
            columns.append((field.attname, field.get_default(), lambda v, f=field: f.get_db_prep_save(v, connection)))

    def values(row: dict[str, Any]) -> tuple[Any, ...]:
        out = []
        for name, default, convert in columns:
            if convert == "fixed":
                out.append(default)
                continue
            value = row.get(name, default)
            # None stays None (SQL NULL): what get_db_prep_save gives it for every field type
            # here, without its cost (a fair share of a large import's commit).
            out.append(value if convert is None or value is None else convert(value))
        return tuple(out)

    return fields, values


def insert_rows(model: type[models.Model], rows: Sequence[dict[str, Any]]) -> None:
    """INSERT rows (``{attname: value}``; other fields get their defaults), set-based:
    ``COPY`` on PostgreSQL, one ``executemany`` per 2,000 rows on SQLite.

    ``bulk_create`` builds a model instance and prepares every value through the ORM (and on
    SQLite sends 50 rows a statement); for the hundreds of thousands of rows of a roster that
    dominates the import. Here text, numbers, booleans and foreign keys go as they are,
    ``auto_now``/``auto_now_add`` fields get one timestamp, and only other field types go
    through ``get_db_prep_save`` (not for None, written as NULL). No signals are sent (the
    models involved have none).
    """
    if not rows:
        return
    fields, values = _column_values(model, None)
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    column_list = ", ".join(quote(f.column) for f in fields)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({column_list}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(values(row))
            return
        sql = f"INSERT INTO {table} ({column_list}) VALUES ({', '.join(['%s'] * len(fields))})"
        for start in range(0, len(rows), 2000):
            cursor.executemany(sql, [values(row) for row in rows[start : start + 2000]])


def update_rows(model: type[models.Model], rows: Sequence[dict[str, Any]], names: Sequence[str]) -> None:
    """UPDATE fields ``names`` of the rows whose ``pk`` is given (``{"pk": 1, attname: value}``),
    set-based: ``COPY`` into a temporary table and one ``UPDATE … FROM`` on PostgreSQL; one
    ``executemany`` on SQLite. ``auto_now`` fields in ``names`` get the current time."""
    if not rows:
        return
    fields, values = _column_values(model, names)
    meta = model._meta
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    pk_column = quote(str(meta.pk.column))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            temp = quote(f"import_update_{meta.db_table}")
            typed = ", ".join(f"{quote(f.column)} {f.db_type(connection)}" for f in fields)
            cursor.execute(f"CREATE TEMPORARY TABLE {temp} (import_pk bigint PRIMARY KEY, {typed}) ON COMMIT DROP")
            with cursor.cursor.copy(f"COPY {temp} FROM STDIN") as copy:
                for row in rows:
                    copy.write_row((row["pk"], *values(row)))
            assignments = ", ".join(f"{quote(f.column)} = t.{quote(f.column)}" for f in fields)
            cursor.execute(f"UPDATE {table} SET {assignments} FROM {temp} t WHERE {table}.{pk_column} = t.import_pk")
            cursor.execute(f"DROP TABLE {temp}")
            return
        assignments = ", ".join(f"{quote(f.column)} = %s" for f in fields)
        cursor.executemany(
            f"UPDATE {table} SET {assignments} WHERE {pk_column} = %s", [(*values(row), row["pk"]) for row in rows]
        )


# --------------------------------------------------------------------------- statements (PostgreSQL)


class Statements:
    """Statements on one cursor (``connection.cursor()``), each timed in the debug log."""

    def __init__(self, cursor: Any) -> None:
        self.cursor = cursor
        self.raw = cursor.cursor  # the psycopg cursor, for COPY

    def execute(self, sql: str, params: Any = None) -> None:
        started = time.perf_counter()
        self.cursor.execute(sql, params)
        if log.isEnabledFor(logging.DEBUG):
            text = " ".join(sql.split())
            log.debug("%.3f s  %s", time.perf_counter() - started, text[:110])

    def run(self, sql: str, params: Any = None) -> int:
        """Execute; the number of rows it touched."""
        self.execute(sql, params)
        return int(self.cursor.rowcount)

    def rows(self, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
        self.execute(sql, params)
        return list(self.cursor.fetchall())

    def one(self, sql: str, params: Any = None) -> tuple[Any, ...]:
        self.execute(sql, params)
        row = self.cursor.fetchone()
        assert row is not None
        return tuple(row)

    def exists(self, name: str) -> bool:
        return bool(self.one("SELECT to_regclass(%s) IS NOT NULL", [name])[0])

    def load(self, name: str, columns: str, rows: Iterable[Sequence[Any]]) -> None:
        """``CREATE TEMPORARY TABLE name (columns)`` filled by COPY. ``rows`` is read to the end
        first: while COPY runs, the connection can run nothing else (a generator that queries
        the database would wait on itself)."""
        rows = list(rows)
        self.run(f"DROP TABLE IF EXISTS {name}")
        self.run(f"CREATE TEMPORARY TABLE {name} ({columns})")
        with self.raw.copy(f"COPY {name} FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        self.run(f"ANALYZE {name}")


def insert_select(
    model: type[models.Model],
    fields: dict[str, str],
    source: str,
    now: Any,
    sql: Statements,
    params: dict[str, Any] | None = None,
) -> int:
    """``INSERT INTO model (every concrete column) SELECT …`` with ``fields`` (attname → SQL over
    ``source``); other columns get their defaults, ``auto_now``/``auto_now_add`` columns ``now``.
    The primary key is written only when ``fields`` gives it. ``params`` are passed to the
    statement (``%(now)s`` always is). Returns the number of rows inserted.
    After many rows (:data:`ANALYZE_AFTER`) the table is analyzed, so that the next statements
    plan with its new size."""
    columns: list[str] = []
    values: list[str] = []
    params = {**(params or {}), "now": now}
    quote = connection.ops.quote_name
    for field in model._meta.concrete_fields:
        if field.primary_key and field.attname not in fields:
            continue
        columns.append(quote(str(field.column)))
        if field.attname in fields:
            values.append(fields[field.attname])
        elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            values.append("%(now)s")
        else:
            name = f"d_{field.attname}"
            params[name] = field.get_db_prep_save(field.get_default(), connection)
            values.append(f"%({name})s")
    inserted = sql.run(
        f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) SELECT {', '.join(values)} {source}", params
    )
    if inserted >= ANALYZE_AFTER:
        sql.run(f"ANALYZE {model._meta.db_table}")
    return inserted


@contextlib.contextmanager
def bulk_load(model: type[models.Model], *, rows: int, sql: Statements) -> Iterator[bool]:
    """Around a bulk insert of ``rows`` rows into ``model``'s table: when they are at least
    :data:`REBUILD_AT_LEAST` and at least as many as the table holds (a district's first
    load), load the table as ``pg_restore`` does — drop its plain indexes and its foreign keys,
    run the body, then build the indexes again (one sort each instead of a million insertions)
    and add the foreign keys again with their definitions (each checked by one query over the
    table instead of a trigger call a row). The primary key and unique indexes stay, so the
    invariants are still checked row by row. All in one transaction: a failure, or a row the
    foreign keys refuse, restores everything; other sessions wait for the table until it
    commits. Yields whether it did so. PostgreSQL only."""
    table = model._meta.db_table
    held = sql.one("SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = %s::regclass", [table])[0]
    if rows < REBUILD_AT_LEAST or rows < held:
        yield False
        return
    quote = connection.ops.quote_name
    with transaction.atomic():
        # Django's foreign keys are checked at the commit; a table with checks pending cannot
        # be altered, so they are made now (and deferred again).
        sql.run("SET CONSTRAINTS ALL IMMEDIATE")
        sql.run("SET CONSTRAINTS ALL DEFERRED")
        indexes = sql.rows(
            """
            SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
            WHERE x.indrelid = %s::regclass AND NOT x.indisunique AND NOT x.indisprimary
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
            ORDER BY i.relname
            """,
            [table],
        )
        keys = sql.rows(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype = 'f' ORDER BY conname",
            [table],
        )
        for name, _definition in keys:
            sql.run(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")
        for name, _definition in indexes:
            sql.run(f"DROP INDEX {quote(name)}")
        yield True
        sql.run("SET CONSTRAINTS ALL IMMEDIATE")
        sql.run("SET CONSTRAINTS ALL DEFERRED")
        sql.run(f"SET LOCAL maintenance_work_mem = '{BUILD_MEMORY}'")
        for _name, definition in indexes:
            sql.run(definition)
        for name, definition in keys:
            sql.run(f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}")
        sql.run(f"ANALYZE {quote(table)}")  # statistics of the expression indexes, too
        log.info("%s: %s rows loaded; %s indexes and %s foreign keys made again", table, rows, len(indexes), len(keys))
