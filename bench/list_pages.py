#!/usr/bin/env python3
"""Page-speed benchmark for the device and person lists at scale (issue #2: "paging that
stays fast at a million devices").

Usage::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ledger_bench_demo \\
        python bench/list_pages.py [--repeat 5] [--no-docs]

Runs against a database already seeded with ``manage.py seed_demo --scale metro`` (or
``district``). Each page is requested through Django's test client (URL routing, the
scoping gate, the queries and the template, no network) as ``district-tech`` (all sites)
and ``site-tech`` (one site); the median of ``--repeat`` runs after one warm-up is
reported with the number of SQL queries. Results are appended to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")
os.environ.setdefault("DEBUG", "1")  # no collectstatic manifest needed; queries are few
os.environ.setdefault("ALLOWED_HOSTS", "testserver")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-docs", action="store_true", help="print only; do not append to docs/benchmarks.md")
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    # Keep one connection across requests so the query log can be read (as in tests).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from core.paging import _encode
    from custody.models import Assignment
    from inventory.models import Device
    from people.models import Person
    from people.rules import search_key

    devices = Device.objects.count()
    people = Person.objects.count()
    deep = Device.objects.order_by("asset_tag", "id").values_list("asset_tag", "id")[devices * 9 // 10]
    some = Device.objects.filter(status="assigned").order_by("id").values_list("asset_tag", flat=True)[devices // 2]
    holder = (
        Assignment.objects.filter(checked_in_at__isnull=True, person__isnull=False)
        .order_by("id")
        .values_list("person__student_number", "person__family_name")[devices // 4]
    )
    pages = [
        ("dashboard", "/", {}),
        ("device list, page 1", "/devices/", {}),
        ("device list, 90% deep (cursor)", "/devices/", {"after": _encode(list(deep))}),
        ("device list, status=lost", "/devices/", {"status": "lost"}),
        ("scan an exact asset tag", "/devices/", {"q": some.lower()}),
        ("search a holder's student number", "/devices/", {"q": holder[0], "exact": "0"}),
        ("search a family-name prefix", "/devices/", {"q": holder[1][:4], "exact": "0"}),
        ("person list, page 1", "/people/", {}),
        ("person search by name", "/people/", {"q": holder[1][:4]}),
        # Issue #8: counts, sorts, page sizes, accent-free search.
        ("device list, sorted by status, 200 a page", "/devices/", {"sort": "status", "per_page": "200"}),
        ("device list, sorted by model, descending", "/devices/", {"sort": "-model"}),
        ("device list, sorted by serial", "/devices/", {"sort": "serial"}),
        ("person list, names descending", "/people/", {"sort": "-name"}),
        ("person search, upper case without accents", "/people/", {"q": search_key(holder[1])[:4].upper()}),
    ]
    User = get_user_model()
    rows = []
    for username in ("district-tech", "site-tech"):
        client = Client()
        client.force_login(User.objects.get(username=username), backend="django.contrib.auth.backends.ModelBackend")
        for label, path, params in pages:
            client.get(path, params)  # warm-up
            times = []
            count = [0]

            def counter(execute, sql, params_, many, context, count=count):
                count[0] += 1
                return execute(sql, params_, many, context)

            with connection.execute_wrapper(counter):
                response = client.get(path, params)
            for _ in range(args.repeat):
                start = time.perf_counter()
                response = client.get(path, params)
                times.append((time.perf_counter() - start) * 1000)
            rows.append((username, label, response.status_code, statistics.median(times), max(times), count[0]))

    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    vendor = f"{connection.vendor} {connection.pg_version if connection.vendor == 'postgresql' else ''}".strip()
    lines = [
        "",
        f"## List pages at scale — {stamp} (`bench/list_pages.py`)",
        "",
        f"- Data: {devices:,} devices, {people:,} people ({vendor}); machine: `{platform.platform()}`, "
        f"{os.cpu_count()} cores",
        f"- Median and worst of {args.repeat} requests after a warm-up, through Django's test client "
        "(routing, scoping gate, SQL and template; no network).",
        "",
        "| user | page | status | median ms | worst ms | SQL queries |",
        "|---|---|---|---|---|---|",
    ]
    lines += [f"| {u} | {label} | {s} | {m:.0f} | {w:.0f} | {q} |" for u, label, s, m, w, q in rows]
    text = "\n".join(lines) + "\n"
    print(text)
    if not args.no_docs:
        with (ROOT / "docs" / "benchmarks.md").open("a") as fh:
            fh.write(text)


if __name__ == "__main__":
    main()
