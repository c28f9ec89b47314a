#!/usr/bin/env python3
"""Measure a bare PostgreSQL COPY of CSV files: the floor an importer is compared with.

Usage::

    python bench/copy_baseline.py FILE [FILE ...] [--database-url URL] [--json]

For each file: read its header line, create an empty temporary table with one ``text``
column per header name, and ``COPY … FROM STDIN (FORMAT csv, HEADER true)`` the file
into it, streamed in 1 MiB blocks through psycopg 3's ``cursor.copy()``. No parsing,
no types, no indexes, no constraints — just the bytes into rows. All files load in one
transaction, committed at the end (the commit is timed).

Prints, per file and in total: data rows, wall seconds (``time.perf_counter``,
connect excluded), rows per second, MB per second, and this process's peak resident
memory in MB (``resource.getrusage(RUSAGE_SELF).ru_maxrss``; PostgreSQL's own memory
is not included). ``--json`` prints one JSON object instead::

    {"files": [{"file": str, "rows": int, "bytes": int, "seconds": float}, ...],
     "rows": int, "bytes": int, "seconds": float, "rows_per_second": float, "peak_rss_mb": float}

``DATABASE_URL`` (or ``--database-url``) names the database; default
``postgres://postgres@127.0.0.1:5432/postgres``. Temporary tables vanish with the session.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/postgres"
BLOCK_BYTES = 1024 * 1024


def peak_rss_mb() -> float:
    """Peak resident set size of this process in MB (Linux reports KiB)."""
    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kib / 1024 if sys.platform != "darwin" else kib / (1024 * 1024)


def header_names(path: Path) -> list[str]:
    """The file's column names (byte-order mark dropped), made unique for SQL."""
    with path.open("r", encoding="utf-8-sig", newline="") as handle:
        header = next(csv.reader(handle), [])
    names: list[str] = []
    seen: set[str] = set()
    for index, raw in enumerate(header, start=1):
        name = (raw.strip() or f"column_{index}")[:60]
        while name.lower() in seen:
            name = f"{name}_{index}"
        seen.add(name.lower())
        names.append(name)
    return names


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def copy_file(cursor: Any, path: Path, table: str) -> dict[str, Any]:
    """COPY ``path`` into a new temporary table ``table``; returns rows, bytes and seconds."""
    started = time.perf_counter()
    columns = ", ".join(f"{_quote(n)} text" for n in header_names(path))
    cursor.execute(f"CREATE TEMPORARY TABLE {_quote(table)} ({columns})")
    size = 0
    statement = f"COPY {_quote(table)} FROM STDIN (FORMAT csv, HEADER true, ENCODING 'UTF8')"
    # A UTF-8 byte-order mark would sit in the header line, which HEADER skips.
    with path.open("rb") as handle, cursor.copy(statement) as copy:
        while block := handle.read(BLOCK_BYTES):
            copy.write(block)
            size += len(block)
    rows = cursor.rowcount
    return {"file": str(path), "rows": rows, "bytes": size, "seconds": time.perf_counter() - started}


def measure(paths: list[Path], url: str) -> dict[str, Any]:
    """COPY every file in one transaction; returns the shape documented in the module docstring."""
    import psycopg

    with psycopg.connect(url) as connection:
        started = time.perf_counter()
        with connection.cursor() as cursor:
            files = [copy_file(cursor, path, f"bench_copy_{n}") for n, path in enumerate(paths)]
        connection.commit()
        seconds = time.perf_counter() - started
    rows = sum(f["rows"] for f in files)
    return {
        "files": files,
        "rows": rows,
        "bytes": sum(f["bytes"] for f in files),
        "seconds": seconds,
        "rows_per_second": rows / seconds if seconds else 0.0,
        "peak_rss_mb": peak_rss_mb(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL") or DEFAULT_URL)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    result = measure(args.files, args.database_url)
    if args.json:
        print(json.dumps(result))
        return 0
    for f in result["files"]:
        rate = f["rows"] / f["seconds"] if f["seconds"] else 0.0
        print(
            f"{f['file']}: {f['rows']:,} rows, {f['bytes'] / 1e6:,.1f} MB in {f['seconds']:.2f} s "
            f"({rate:,.0f} rows/s, {f['bytes'] / 1e6 / f['seconds']:,.1f} MB/s)"
        )
    print(
        f"total: {result['rows']:,} rows in {result['seconds']:.2f} s ({result['rows_per_second']:,.0f} rows/s), "
        f"peak RSS {result['peak_rss_mb']:.1f} MB (this process)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
