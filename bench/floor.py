"""The honest floor of an import: COPY the rows the import wrote into the same tables.

The bare COPY baseline (``copy_baseline.py``) loads the file into an unlogged-free, unindexed
temporary table of text columns: no import can come near it, because an import must write
typed, durable, indexed rows (the device, its ``created`` event, its last-seen facts …).
This module measures what writing exactly those final rows costs, the way a first load
writes them (issue #7, "Speed"):

1. Before an import step, :func:`snapshot` records ``max(id)`` of every table with an
   integer ``id`` column.
2. After it, :func:`measure` finds the tables whose ``max(id)`` grew, exports the rows the
   step added (``COPY (SELECT … WHERE id > before) TO STDOUT (FORMAT binary)``, not timed),
   then, timed, in one transaction: for each table a copy with the same columns, defaults,
   checks, primary key and unique indexes (``floor_<table>``), ``COPY … FROM STDIN (FORMAT
   binary)`` of those rows, then its plain indexes built and its foreign keys added and
   validated — as ``core.bulk``'s first load does (plain indexes and foreign keys dropped,
   unique and primary keys kept) — and the commit. The copies are dropped afterwards.

Returns ``(seconds, rows, per-table row counts)``. PostgreSQL only; uses psycopg 3.
"""

from __future__ import annotations

import re
import tempfile
import time
from pathlib import Path

import psycopg
from psycopg import sql

PREFIX = "floor_"


def snapshot(database_url: str) -> dict[str, int]:
    """``{table: max(id) or 0}`` for every public table with an integer ``id`` column."""
    with psycopg.connect(database_url) as connection:
        tables = [
            name
            for (name,) in connection.execute(
                """SELECT c.table_name FROM information_schema.columns c
                   JOIN information_schema.tables t USING (table_schema, table_name)
                   WHERE c.table_schema = 'public' AND c.column_name = 'id' AND t.table_type = 'BASE TABLE'
                     AND c.data_type IN ('integer', 'bigint') AND c.table_name NOT LIKE %s""",
                [f"{PREFIX}%"],
            )
        ]
        result: dict[str, int] = {}
        for table in tables:
            row = connection.execute(
                sql.SQL("SELECT coalesce(max(id), 0) FROM {}").format(sql.Identifier(table))
            ).fetchone()
            result[table] = int(row[0]) if row else 0
        return result


def _rename(definition: str, table: str, copy: str) -> str:
    """An index or constraint definition of ``table`` rewritten for ``copy``."""
    definition = re.sub(rf"\bON (public\.)?{re.escape(table)}\b", f"ON public.{copy}", definition)
    return re.sub(
        r"^CREATE (UNIQUE )?INDEX (\S+)",
        lambda m: f"CREATE {m.group(1) or ''}INDEX {PREFIX}{m.group(2)}"[:200],
        definition,
    )


def measure(
    database_url: str, before: dict[str, int], *, work_dir: Path | None = None
) -> tuple[float, int, dict[str, int]]:
    """Time writing the rows added since ``before`` (see the module docstring).

    Returns ``(seconds, total rows, {table: rows})``; ``(0.0, 0, {})`` when nothing was added.
    """
    after = snapshot(database_url)
    grown = {t: before.get(t, 0) for t, top in after.items() if top > before.get(t, 0)}
    if not grown:
        return 0.0, 0, {}
    counts: dict[str, int] = {}
    with tempfile.TemporaryDirectory(dir=work_dir) as tmp, psycopg.connect(database_url) as connection:
        files: dict[str, Path] = {}
        for table, since in grown.items():  # export (not timed)
            path = Path(tmp) / f"{table}.bin"
            query = sql.SQL("COPY (SELECT * FROM {} WHERE id > {}) TO STDOUT (FORMAT binary)").format(
                sql.Identifier(table), sql.Literal(since)
            )
            with path.open("wb") as out, connection.cursor().copy(query) as copy:
                for block in copy:
                    out.write(block)
            files[table] = path
            row = connection.execute(
                sql.SQL("SELECT count(*) FROM {} WHERE id > %s").format(sql.Identifier(table)), [since]
            ).fetchone()
            counts[table] = int(row[0]) if row else 0
        connection.commit()
        plans = {}
        for table in grown:
            indexes = connection.execute(
                """SELECT pg_get_indexdef(i.indexrelid), i.indisunique OR i.indisprimary
                   FROM pg_index i WHERE i.indrelid = %s::regclass""",
                [table],
            ).fetchall()
            fks = [
                d
                for (d,) in connection.execute(
                    "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'f'",
                    [table],
                )
            ]
            plans[table] = (indexes, fks)
        connection.commit()
        try:
            start = time.perf_counter()
            with connection.transaction():
                connection.execute("SET LOCAL jit = off")
                for table, (indexes, fks) in plans.items():
                    copy_name = f"{PREFIX}{table}"[:63]
                    connection.execute(
                        sql.SQL("CREATE TABLE {} (LIKE {} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)").format(
                            sql.Identifier(copy_name), sql.Identifier(table)
                        )
                    )
                    for definition, unique in indexes:
                        if unique:
                            connection.execute(_rename(definition, table, copy_name))
                    query = sql.SQL("COPY {} FROM STDIN (FORMAT binary)").format(sql.Identifier(copy_name))
                    with files[table].open("rb") as source, connection.cursor().copy(query) as copy:
                        while block := source.read(1 << 20):
                            copy.write(block)
                    for definition, unique in indexes:
                        if not unique:
                            connection.execute(_rename(definition, table, copy_name))
                    for number, definition in enumerate(fks):
                        connection.execute(
                            sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} ").format(
                                sql.Identifier(copy_name), sql.Identifier(f"{copy_name[:50]}_fk{number}")
                            )
                            + sql.SQL(definition)  # type: ignore[arg-type]
                        )
            seconds = time.perf_counter() - start
        finally:
            for table in plans:
                connection.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(f"{PREFIX}{table}"[:63])))
            connection.commit()
    return seconds, sum(counts.values()), counts
