"""A 50,000-row users.csv, generated here, imported in the suite (set-based batches)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from imports.models import ImportRun
from imports.tests.roster import USERS_11, manifest, roster_dir, run_import
from people.models import GuardianContact, Person
from sites.models import Site

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

ROWS = 50_000
SCHOOLS = 60


def write_roster(folder: Path, *, rows: int = ROWS, changed_every: int = 0) -> Path:
    """orgs.csv with a district and SCHOOLS schools; users.csv with ``rows`` users: students
    (every 25th a teacher, every 50th a guardian of the student before it)."""
    orgs = ["sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId", "d1,,,Big District,district,BD,"]
    orgs += [f"s{n},,,School {n},school,SCH{n:04d},d1" for n in range(SCHOOLS)]
    roster_dir(folder, {"manifest.csv": manifest(), "orgs.csv": "\n".join(orgs) + "\n"})
    with open(folder / "users.csv", "w", encoding="utf-8", newline="") as out:
        out.write(USERS_11 + "\n")
        for n in range(rows):
            role, agents, grade = "student", "", f"{n % 12 + 1:02d}"
            if n % 25 == 0:
                role, grade = "teacher", ""
            elif n % 50 == 49:
                role, agents, grade = "guardian", f"u{n - 1:07d}", ""
            family = f"Family{n}" + ("x" if changed_every and n % changed_every == 0 else "")
            out.write(
                f"u{n:07d},,,true,s{n % SCHOOLS},{role},user{n},,Given{n},{family},,{n:09d},"
                f"user{n}@example.org,,,{agents},{grade},\r\n"
            )
    return folder


def test_fifty_thousand_users(tmp_path, capsys):
    folder = write_roster(tmp_path / "big")
    started = time.perf_counter()
    run = run_import(folder)
    first = time.perf_counter() - started
    assert run.status == ImportRun.Status.DONE, run.error
    students_and_staff = ROWS - ROWS // 50
    assert run.counts["people"]["created"] == students_and_staff
    assert run.counts["guardians"]["created"] == ROWS // 50
    assert Person.objects.count() == students_and_staff
    assert GuardianContact.objects.count() == ROWS // 50
    assert Site.objects.count() == SCHOOLS
    assert run.error_count == 0 and run.warning_count == 0

    started = time.perf_counter()
    again = run_import(write_roster(tmp_path / "again", changed_every=100))
    second = time.perf_counter() - started
    assert again.counts["people"]["updated"] == ROWS // 100
    assert again.counts["people"]["unchanged"] == students_and_staff - ROWS // 100
    with capsys.disabled():
        print(
            f"\n50k users.csv: first import {first:.1f}s ({ROWS / first:,.0f} rows/s, preview + commit), "
            f"re-import with 1% changed {second:.1f}s ({ROWS / second:,.0f} rows/s)"
        )


def test_memory_does_not_grow_with_the_file(tmp_path):
    """Peak Python memory of a preview: 4× the rows costs about the key index more, not 4× more."""
    import tracemalloc

    run_import(write_roster(tmp_path / "warm-up", rows=200), commit=False)  # imports, caches
    peaks = {}
    for rows in (5_000, 20_000):
        folder = write_roster(tmp_path / f"r{rows}", rows=rows)
        tracemalloc.start()
        run = run_import(folder, commit=False)
        peaks[rows] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert run.status == ImportRun.Status.PREVIEWED
    # The key index keeps ~150 bytes a key; everything else is a batch at a time.
    assert peaks[20_000] - peaks[5_000] < 15_000 * 400, peaks
    assert peaks[20_000] < 16 * 1024**2, peaks
