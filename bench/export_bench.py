#!/usr/bin/env python3
"""Measure the device and people exports (CSV and XLSX): rows per second and peak memory.

Usage::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ledger_bench \\
        python bench/export_bench.py [--devices 200000] [--formats csv,xlsx]

Fills the database (its name must contain "bench"; run ``manage.py migrate`` on it
first — ``bench/run.py`` leaves a migrated ``ledger_bench``) with ``--devices`` devices
over 20 sites, as many students, and an open assignment for 60 % of the devices, written
with ``bulk_create`` (bench data, not through the services; no events). Then, for each
format, runs the export the way the download view does — ``device_export_rows`` /
``person_export_rows`` as a district technician into ``csv_stream`` / ``xlsx_write`` —
writing to ``/dev/null`` or a temporary file, and prints rows, seconds, rows per second
and this process's peak RSS in MB (``ru_maxrss``, cumulative: the peak so far). Run it
with two sizes to see that memory does not grow with the number of rows.
"""

from __future__ import annotations

import argparse
import datetime
import os
import resource
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
SITES = 20
BATCH = 5000


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def setup_django() -> None:
    url = os.environ.get("DATABASE_URL", "")
    if "bench" not in urlsplit(url).path:
        raise SystemExit("set DATABASE_URL to a database whose name contains 'bench' (it gets filled with data)")
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("SECRET_KEY", "export-bench-only")
    import django

    django.setup()


def fill(devices: int) -> None:
    """Create sites, a model, students, devices and open assignments up to ``devices`` devices."""
    from django.utils import timezone

    from custody.models import Assignment
    from inventory.models import Device, DeviceModel, Manufacturer
    from people.models import Person
    from sites.models import Site

    sites = [
        Site.objects.get_or_create(code=f"EXB-{n:02d}", defaults={"name": f"Export bench {n}"})[0] for n in range(SITES)
    ]
    maker, _ = Manufacturer.objects.get_or_create(name="Acer")
    model, _ = DeviceModel.objects.get_or_create(
        manufacturer=maker, name="Chromebook 311", model_number="C733", defaults={"category": "chromebook"}
    )
    have = Device.objects.filter(asset_tag__startswith="EXB").count()
    now = timezone.now()
    for start in range(have, devices, BATCH):
        stop = min(start + BATCH, devices)
        people = Person.objects.bulk_create(
            Person(
                sourced_id=f"exb-{i}",
                student_number=f"{i:07d}",
                given_name="Student",
                family_name=f"Number {i}",
                grade="05",
                home_site=sites[i % SITES],
            )
            for i in range(start, stop)
        )
        made = Device.objects.bulk_create(
            Device(
                asset_tag=f"EXB{i:07d}",
                serial_number=f"NXEXB{i:09d}",
                manufacturer=maker,
                model=model,
                status="assigned" if i % 5 < 3 else "in_stock",
                owner_site=sites[i % SITES],
                current_site=sites[i % SITES],
                purchase_date=datetime.date(2023, 8, 1),
                purchase_cost=Decimal("289.00"),
                notes="=1+1" if i % 1000 == 0 else "",
            )
            for i in range(start, stop)
        )
        Assignment.objects.bulk_create(
            Assignment(
                device=device,
                person=person,
                holder_label=person.label,
                checked_out_at=now,
                due_on=datetime.date(2030, 6, 1),
            )
            for device, person in zip(made, people, strict=True)
            if device.status == "assigned"
        )
        print(f"  filled {stop:,} devices", file=sys.stderr)


def district_technician() -> object:
    from django.contrib.auth import get_user_model

    from accounts.services import staff_role_grant

    user, created = get_user_model().objects.get_or_create(username="export-bench")
    if created:
        staff_role_grant(user=user, role="district_technician", site=None)
    return user


def measure(name: str, fmt: str, user: object) -> None:
    from core.writing import csv_stream, xlsx_write
    from reports.exports import EXPORTS

    build, title = EXPORTS[name]
    started = time.perf_counter()
    headers, rows = build(user=user, filters={})
    counted = 0

    def counting():  # type: ignore[no-untyped-def]
        nonlocal counted
        for row in rows:
            counted += 1
            yield row

    if fmt == "csv":
        with open(os.devnull, "wb") as sink:
            for chunk in csv_stream(headers, counting()):
                sink.write(chunk)
        size = ""
    else:
        with tempfile.TemporaryFile() as sink:
            xlsx_write(headers, counting(), sink, sheet_title=title)
            size = f", {sink.tell() / 1e6:,.1f} MB file"
    seconds = time.perf_counter() - started
    print(
        f"{name}.{fmt}: {counted:,} rows in {seconds:,.1f} s ({counted / seconds:,.0f} rows/s){size}; "
        f"peak RSS so far {peak_rss_mb():,.0f} MB"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", type=int, default=200_000)
    parser.add_argument("--formats", default="csv,xlsx")
    parser.add_argument("--exports", default="devices,people")
    args = parser.parse_args(argv)
    setup_django()
    fill(args.devices)
    user = district_technician()
    print(f"after setup: peak RSS {peak_rss_mb():,.0f} MB")
    for fmt in args.formats.split(","):
        for name in args.exports.split(","):
            measure(name, fmt, user)
    return 0


if __name__ == "__main__":
    sys.exit(main())
