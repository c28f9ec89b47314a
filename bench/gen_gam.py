#!/usr/bin/env python3
"""Write a synthetic GAM ``print cros`` CSV (Google Admin ChromeOS devices) for benchmarks.

Usage::

    python bench/gen_gam.py OUT.csv [--devices 1200000] [--users 1000000] [--sites 1800] [--seed 42]

Header: ``deviceId`` first, then the Directory API field names in GAM's (alphabetical)
order, with ``recentUsers`` flattened as ``recentUsers.N.email`` / ``recentUsers.N.type``::

    deviceId,annotatedAssetId,annotatedLocation,annotatedUser,autoUpdateExpiration,bootMode,
    ethernetMacAddress,firmwareVersion,lastEnrollmentTime,lastSync,macAddress,manufactureDate,
    model,notes,orgUnitPath,osVersion,platformVersion,recentUsers.0.email,recentUsers.0.type,
    recentUsers.1.email,recentUsers.1.type,serialNumber,status

Values as the API writes them: ``lastSync``/``lastEnrollmentTime`` RFC 3339 UTC with
milliseconds; ``macAddress`` 12 lower-case hex digits; ``autoUpdateExpiration`` epoch
milliseconds; ``status`` ACTIVE (most), DISABLED, DEPROVISIONED or PROVISIONED.
Asset ids are 7 digits with leading zeros (``0041873``), blank on about 2 %.
Serial numbers follow each maker's pattern and are unique. Device ``i`` is annotated
to (and recently used by) a student of ``gen_oneroster.py`` with the same ``--users``
and ``--sites``, in that student's school's org unit, so the two files fit together;
``OUT.ou-map.csv`` maps every org unit path to the school's identifier (a site code).

Deterministic for a given seed; streams (constant memory); written as ``OUT.csv.part``
and renamed when complete.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import os
import random
import sys
import time
import uuid
from pathlib import Path
from typing import TextIO

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gen_oneroster import (
    school_identifier,
    school_name,
    school_of_user,
    student_count,
    student_user_index,
    user_email,
)

HEADER = [
    "deviceId",
    "annotatedAssetId",
    "annotatedLocation",
    "annotatedUser",
    "autoUpdateExpiration",
    "bootMode",
    "ethernetMacAddress",
    "firmwareVersion",
    "lastEnrollmentTime",
    "lastSync",
    "macAddress",
    "manufactureDate",
    "model",
    "notes",
    "orgUnitPath",
    "osVersion",
    "platformVersion",
    "recentUsers.0.email",
    "recentUsers.0.type",
    "recentUsers.1.email",
    "recentUsers.1.type",
    "serialNumber",
    "status",
]

#: (model name as Google reports it, serial prefix, serial length, auto-update expiration).
MODELS = (
    ("Lenovo 300e Chromebook 2nd Gen (Intel)", "PF", 8, datetime.date(2026, 6, 1)),
    ("Lenovo 100e Chromebook Gen 3", "PF", 8, datetime.date(2030, 6, 1)),
    ("Acer Chromebook Spin 511 (R753T)", "NXA", 22, datetime.date(2031, 6, 1)),
    ("Acer Chromebook 311 (C733)", "NXH", 22, datetime.date(2027, 6, 1)),
    ("HP Chromebook 11 G9 EE", "5CD", 10, datetime.date(2029, 6, 1)),
    ("HP Chromebook x360 11 G4 EE", "5CG", 10, datetime.date(2031, 6, 1)),
    ("Dell Chromebook 3100", "", 7, datetime.date(2026, 6, 1)),
    ("Dell Chromebook 3110 2-in-1", "", 7, datetime.date(2031, 6, 1)),
)
OS_VERSIONS = (
    ("124.0.6367.225", "15823.61.0"),
    ("126.0.6478.222", "15886.61.0"),
    ("128.0.6613.179", "16002.51.0"),
    ("130.0.6723.126", "16033.58.0"),
)
STATUSES = ("ACTIVE",) * 92 + ("DISABLED",) * 4 + ("DEPROVISIONED",) * 3 + ("PROVISIONED",)
NOTES = (
    "Cracked screen, replaced 2024-03",
    'Keyboard missing "Q" key',
    "Returned by family\nneeds wipe",
    "Loaner; check charger",
    "=1+1",
)
BASE36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
#: The "now" of the generated data (lastSync falls in the 120 days before it).
AS_OF = datetime.datetime(2025, 1, 15, 12, 0, tzinfo=datetime.UTC)


def _base36(number: int, width: int) -> str:
    digits = []
    for _ in range(width):
        number, rest = divmod(number, 36)
        digits.append(BASE36[rest])
    return "".join(reversed(digits))


def serial_number(index: int, model: int, rng: random.Random) -> str:
    """A unique serial in the maker's style: the device index is embedded in base 36."""
    _, prefix, length, _ = MODELS[model]
    body = _base36(index, 5)
    filler = "".join(rng.choice(BASE36) for _ in range(length - len(prefix) - len(body)))
    return f"{prefix}{filler}{body}"


def ou_path(school: int) -> str:
    """The org unit of a school's student devices."""
    return f"/Students/{school_name(school)}"


def _rfc3339(moment: datetime.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _mac(rng: random.Random) -> str:
    return f"{rng.getrandbits(48):012x}"


def write_devices(out: TextIO, devices: int, users: int, sites: int, seed: int) -> int:
    """Write the CSV with ``devices`` data rows; returns the row count."""
    rng = random.Random(seed)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    students = max(student_count(users), 1)
    for i in range(devices):
        model = rng.randrange(len(MODELS))
        name, _, _, aue = MODELS[model]
        student = student_user_index(i % students) if users else None
        school = school_of_user(student, sites) if student is not None else i % sites
        email = user_email(student) if student is not None else ""
        assigned = rng.random() < 0.6 and bool(email)
        status = rng.choice(STATUSES)
        os_version, platform = rng.choice(OS_VERSIONS)
        enrolled = AS_OF - datetime.timedelta(days=rng.randint(120, 1500), seconds=rng.randint(0, 86399))
        synced = AS_OF - datetime.timedelta(seconds=rng.randint(0, 120 * 86400), milliseconds=rng.randint(0, 999))
        other = user_email(student_user_index((i * 7 + 3) % students)) if users and rng.random() < 0.3 else ""
        writer.writerow(
            [
                str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "" if rng.random() < 0.02 else f"{i + 1:07d}",
                f"Cart {rng.randint(1, 12)}" if not assigned and rng.random() < 0.5 else "",
                email if assigned else "",
                str(int(datetime.datetime.combine(aue, datetime.time(), datetime.UTC).timestamp() * 1000)),
                "Verified" if rng.random() < 0.995 else "Dev",
                _mac(rng) if rng.random() < 0.1 else "",
                f"Google_{name.split()[0]}.{rng.randint(10000, 15999)}.0",
                _rfc3339(enrolled),
                _rfc3339(synced) if status != "PROVISIONED" else "",
                _mac(rng),
                (enrolled - datetime.timedelta(days=rng.randint(30, 200))).date().isoformat(),
                name,
                rng.choice(NOTES) if rng.random() < 0.01 else "",
                ou_path(school),
                os_version,
                platform,
                email if email and status == "ACTIVE" else "",
                "USER_TYPE_MANAGED" if email and status == "ACTIVE" else "",
                other,
                "USER_TYPE_MANAGED" if other else "",
                serial_number(i, model, rng),
                status,
            ]
        )
    return devices


def write_ou_map(out: TextIO, sites: int) -> None:
    """``orgUnitPath,siteCode`` for every school (site code = the OneRoster org identifier)."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["orgUnitPath", "siteCode"])
    for school in range(sites):
        writer.writerow([ou_path(school), school_identifier(school)])


def generate(path: Path, *, devices: int, users: int, sites: int, seed: int) -> int:
    """Write ``path`` and its ``.ou-map.csv``; returns the device row count."""
    if sites < 1 or devices < 0 or users < 0:
        raise ValueError("need at least one site and non-negative counts")
    path.parent.mkdir(parents=True, exist_ok=True)
    ou_map = path.with_suffix(".ou-map.csv")
    with ou_map.open("w", encoding="utf-8", newline="") as out:
        write_ou_map(out, sites)
    part = path.with_name(path.name + ".part")
    with part.open("w", encoding="utf-8", newline="", buffering=1024 * 1024) as out:
        rows = write_devices(out, devices, users, sites, seed)
    os.replace(part, path)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--devices", type=int, default=1_200_000, help="data rows (default 1,200,000)")
    parser.add_argument("--users", type=int, default=1_000_000, help="users in the matching OneRoster set")
    parser.add_argument("--sites", type=int, default=1800, help="schools in the matching OneRoster set")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    rows = generate(args.out, devices=args.devices, users=args.users, sites=args.sites, seed=args.seed)
    seconds = time.perf_counter() - started
    print(
        f"wrote {rows:,} devices to {args.out} ({args.out.stat().st_size / 1e6:,.1f} MB) in {seconds:,.1f} s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
