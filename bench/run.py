#!/usr/bin/env python3
"""Import benchmarks on PostgreSQL (``make bench``): importers next to a bare COPY.

Usage::

    python bench/run.py [--scale full|small] [--skip-import] [--no-docs] [--database-url URL]

Steps:

1. Generate the data sets into ``bench-data/`` (git-ignored) unless they are there
   already: a OneRoster 1.1 bulk set (``gen_oneroster.py``; full scale 1,000,000 users
   and 1,800 schools) and a GAM ``print cros`` CSV (``gen_gam.py``; 1,200,000 devices).
   ``--scale small`` uses 20,000 users, 180 schools and 24,000 devices for a quick run.
2. Measure a bare COPY of the same files into empty temporary tables of text columns
   (``copy_baseline.py``) — the floor.
3. When the project's importers exist (``python manage.py import oneroster|google``),
   create a fresh database (``--bench-db``, default ``ledger_bench``: dropped and
   recreated, then migrated) and run each importer on the same files in a subprocess.
   When the command or a source is missing, the row says "importer not available yet".
   Each importer runs twice: the first load into the empty database, then the same files
   again (the nightly case: everything is checked, nothing changes).
4. Print a Markdown table and append it, with the machine and date, to
   ``docs/benchmarks.md`` (created with a short introduction when missing; earlier
   results are kept).

Every measured step runs in its own process. Wall time is ``time.perf_counter`` around
the process; peak memory is the process's maximum resident set size as the kernel
reports it to ``os.wait4`` (MB = 2**20 bytes; PostgreSQL's own memory is not counted).
"× COPY" is the step's seconds divided by the COPY baseline's seconds for the same
files; the goal (issue #3) is ≤ 3× and < 500 MB.

Subprocess output goes to ``bench-data/logs/``. Django runs with ``DEBUG=0`` (no query
log in memory) and a throw-away ``SECRET_KEY``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import secrets
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
import floor  # bench/floor.py, beside this script

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/postgres"
DOCS = ROOT / "docs" / "benchmarks.md"
GOAL_RATIO = 3.0
GOAL_PEAK_MB = 500.0

SCALES: dict[str, dict[str, int]] = {
    "full": {"users": 1_000_000, "sites": 1800, "devices": 1_200_000},
    "small": {"users": 20_000, "sites": 180, "devices": 24_000},
}

DOCS_INTRO = """# Benchmarks

Import speed and memory at the size of the largest districts (issue #3, "Scale"), measured
by `make bench` (`bench/run.py`) on PostgreSQL:

- **OneRoster**: a generated OneRoster 1.1 bulk set, `users.csv` with 1,000,000 users
  (80 % students, 4 % staff, 16 % guardians linked by `agentSourcedIds`) and `orgs.csv`
  with a district and 1,800 schools (`bench/gen_oneroster.py`).
- **Google**: a generated GAM `print cros` CSV with 1,200,000 ChromeOS devices
  (`bench/gen_gam.py`).
- **COPY baseline**: the same files loaded with a bare `COPY … FROM STDIN (FORMAT csv)`
  into empty temporary tables of text columns (`bench/copy_baseline.py`): the floor.

Rows are data rows in the files (users + orgs for OneRoster). For an importer, seconds
are the wall time of the whole `manage.py import` process; for COPY, the fastest of three
runs of the COPY statements and commit (connecting and interpreter start excluded; the
process time is in the notes). Peak MB is the process's maximum resident set size as the
kernel reports it (PostgreSQL's own memory is not counted). "× COPY" is seconds divided by
the COPY baseline's seconds in the same run. Goal: within 3× of COPY and under 500 MB.

Run `make bench` (full scale; the files, about 720 MB, are generated once into the
git-ignored `bench-data/`), or `make bench BENCH_ARGS="--scale small"` (20,000 users /
24,000 devices) to check that the scripts work; compare full-scale runs only.

Newest results at the bottom.
"""


@dataclass
class Measured:
    """One subprocess run: exit code, wall seconds, peak RSS in MB, and its log files."""

    returncode: int
    seconds: float
    peak_mb: float
    stdout: Path
    stderr: Path

    def tail(self, lines: int = 12) -> str:
        """The last lines of stderr (or stdout when stderr is empty)."""
        for path in (self.stderr, self.stdout):
            text = path.read_text(encoding="utf-8", errors="replace").strip()
            if text:
                return "\n".join(text.splitlines()[-lines:])
        return ""


@dataclass
class Row:
    """One line of the results table."""

    dataset: str
    step: str
    rows: int | None = None
    seconds: float | None = None
    peak_mb: float | None = None
    ratio: float | None = None
    notes: list[str] = field(default_factory=list)

    def cells(self) -> list[str]:
        rate = f"{self.rows / self.seconds:,.0f}" if self.rows and self.seconds else "—"
        return [
            self.dataset,
            self.step,
            f"{self.rows:,}" if self.rows is not None else "—",
            _seconds(self.seconds),
            rate,
            f"{self.peak_mb:,.0f}" if self.peak_mb is not None else "—",
            f"{self.ratio:.2f}×" if self.ratio is not None else "—",
            "; ".join(self.notes).replace("|", "\\|"),
        ]


def _seconds(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:,.2f}" if value < 10 else f"{value:,.1f}"


HEADER = ["Dataset", "Step", "Rows", "Seconds", "Rows/s", "Peak MB", "× COPY", "Notes"]


def run_measured(cmd: list[str], *, log_name: str, logs: Path, env: dict[str, str] | None = None) -> Measured:
    """Run ``cmd`` from the repository root; measure wall time and peak RSS via ``os.wait4``."""
    logs.mkdir(parents=True, exist_ok=True)
    out_path, err_path = logs / f"{log_name}.out", logs / f"{log_name}.err"
    print(f"$ {shlex.join(cmd)}", flush=True)
    with out_path.open("wb") as out, err_path.open("wb") as err:
        started = time.perf_counter()
        process = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=err, env=env)
        try:
            _, status, usage = os.wait4(process.pid, 0)
        except BaseException:
            process.kill()
            process.wait()
            raise
        seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    peak_kib = usage.ru_maxrss if sys.platform != "darwin" else usage.ru_maxrss / 1024
    return Measured(process.returncode, seconds, peak_kib / 1024, out_path, err_path)


# --------------------------------------------------------------------------- machine


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def machine_info(database_url: str) -> dict[str, str]:
    """uname, CPU model, cores, RAM, PostgreSQL and Python versions, git commit."""
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in _read("/proc/cpuinfo").splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown",
    )
    mem_kib = next(
        (int(line.split()[1]) for line in _read("/proc/meminfo").splitlines() if line.startswith("MemTotal:")), 0
    )
    try:
        import psycopg

        with psycopg.connect(database_url, connect_timeout=5) as connection:
            row = connection.execute("SHOW server_version").fetchone()
            postgres = f"PostgreSQL {row[0]}" if row else "PostgreSQL"
    except Exception as exc:
        postgres = f"PostgreSQL unreachable ({type(exc).__name__})"
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    try:
        uname = subprocess.run(["uname", "-a"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        uname = " ".join(platform.uname()).strip()
    return {
        "uname": uname,
        "cpu": cpu,
        "cores": str(os.cpu_count() or "?"),
        "ram": f"{mem_kib / 1024 / 1024:.1f} GiB" if mem_kib else "unknown",
        "postgres": postgres,
        "python": platform.python_version(),
        "commit": commit,
    }


# --------------------------------------------------------------------------- data sets


@dataclass
class DataSets:
    """Paths of the generated files for one scale and seed."""

    oneroster: Path
    gam: Path

    @property
    def ou_map(self) -> Path:
        """``orgUnitPath,siteCode`` for the GAM file's org units (written by gen_gam.py)."""
        return self.gam.with_suffix(".ou-map.csv")

    @property
    def oneroster_files(self) -> list[Path]:
        return [self.oneroster / "orgs.csv", self.oneroster / "users.csv"]


def data_sets(data_dir: Path, *, users: int, sites: int, devices: int, seed: int) -> DataSets:
    return DataSets(
        oneroster=data_dir / f"oneroster-{users}u-{sites}s-seed{seed}",
        gam=data_dir / f"gam-{devices}d-{users}u-{sites}s-seed{seed}.csv",
    )


def ensure_data(sets: DataSets, *, users: int, sites: int, devices: int, seed: int, logs: Path) -> list[Row]:
    """Generate missing files (a complete set has its manifest / final name); returns table rows."""
    rows: list[Row] = []
    python = sys.executable
    if not (sets.oneroster / "manifest.csv").exists():
        m = run_measured(
            [python, str(BENCH / "gen_oneroster.py"), str(sets.oneroster), "--users", str(users),
             "--sites", str(sites), "--seed", str(seed)],
            log_name="gen_oneroster", logs=logs,
        )  # fmt: skip
        if m.returncode:
            raise SystemExit(f"gen_oneroster.py failed:\n{m.tail()}")
        rows.append(Row("OneRoster", "generate files", users + sites + 1, m.seconds, m.peak_mb))
    if not sets.gam.exists():
        m = run_measured(
            [python, str(BENCH / "gen_gam.py"), str(sets.gam), "--devices", str(devices), "--users", str(users),
             "--sites", str(sites), "--seed", str(seed)],
            log_name="gen_gam", logs=logs,
        )  # fmt: skip
        if m.returncode:
            raise SystemExit(f"gen_gam.py failed:\n{m.tail()}")
        rows.append(Row("Google (GAM)", "generate file", devices, m.seconds, m.peak_mb))
    return rows


# --------------------------------------------------------------------------- COPY baseline


def copy_baseline(files: list[Path], *, dataset: str, database_url: str, logs: Path, tag: str, runs: int = 3) -> Row:
    """Run copy_baseline.py on ``files`` ``runs`` times, each in a fresh process; the fastest is the floor."""
    best: dict[str, Any] | None = None
    peak = 0.0
    process_seconds = 0.0
    for run in range(1, runs + 1):
        m = run_measured(
            [sys.executable, str(BENCH / "copy_baseline.py"), "--json", "--database-url", database_url,
             *map(str, files)],
            log_name=f"copy_{tag}_{run}", logs=logs,
        )  # fmt: skip
        if m.returncode:
            return Row(dataset, "COPY baseline", notes=[f"failed (exit {m.returncode}): {m.tail(3)}"])
        result = json.loads(m.stdout.read_text(encoding="utf-8"))
        peak = max(peak, m.peak_mb)
        if best is None or result["seconds"] < best["seconds"]:
            best, process_seconds = result, m.seconds
    assert best is not None
    size = best["bytes"] / 1e6
    # The COPY itself (connect and interpreter start excluded) is the floor; its process time is noted.
    return Row(
        dataset,
        "COPY baseline",
        best["rows"],
        best["seconds"],
        peak,
        1.0,
        [f"best of {runs}; {size:,.0f} MB of CSV, {size / best['seconds']:,.0f} MB/s; process {process_seconds:.1f} s"],
    )


# --------------------------------------------------------------------------- importers


def database_url_for(url: str, name: str) -> str:
    """``url`` with its database name replaced by ``name``."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def recreate_database(admin_url: str, name: str) -> None:
    """Drop (forcing out sessions) and create database ``name``. Refuses names without "bench"."""
    import psycopg
    from psycopg import sql

    if "bench" not in name or name == urlsplit(admin_url).path.lstrip("/"):
        raise SystemExit(f"refusing to drop database {name!r}: its name must contain 'bench'")
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def django_env(database_url: str) -> dict[str, str]:
    """Environment for manage.py: the bench database, DEBUG off, a throw-away secret key."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(48),
        PYTHONUNBUFFERED="1",
        LOG_LEVEL=os.environ.get("LOG_LEVEL", "WARNING"),
    )
    return env


def importer_sources(env: dict[str, str], manage: Path) -> set[str] | None:
    """Sources ``manage.py import`` offers (from its help text), or ``None`` when there is no such command."""
    result = subprocess.run(
        [sys.executable, str(manage), "help", "import"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if result.returncode != 0:
        return None
    text = result.stdout + result.stderr
    return {source for source in ("oneroster", "google", "snipeit", "csv") if source in text}


#: Loads ``orgUnitPath,siteCode`` rows (argv[1]) as org-unit mappings; prints how many were saved.
#: ``siteCode`` is the OneRoster org ``identifier``: the importer keeps an NCES-style identifier in
#: ``Site.state_id`` (and makes the code from the name), so both are matched.
_OU_MAP_SCRIPT = """
import csv, sys
from imports.services import org_unit_mapping_save
from sites.models import Site
sites = {}
for s in Site.objects.all():
    sites[s.code] = s
    if s.state_id:
        sites.setdefault(s.state_id, s)
saved = 0
with open(sys.argv[1], encoding="utf-8", newline="") as handle:
    for row in csv.DictReader(handle):
        site = sites.get(row["siteCode"])
        if site is not None:
            org_unit_mapping_save(actor=None, path_prefix=row["orgUnitPath"], site=site)
            saved += 1
print(saved)
"""


def load_org_unit_map(ou_map: Path, *, env: dict[str, str], logs: Path) -> str:
    """Save the generated org-unit → site mappings (the settings the Google importer reads). Returns a note."""
    script = logs / "load_ou_map.py"
    logs.mkdir(parents=True, exist_ok=True)
    script.write_text(_OU_MAP_SCRIPT, encoding="utf-8")
    code = f"import sys; sys.argv = ['x', {str(ou_map)!r}]; exec(open({str(script)!r}).read())"
    m = run_measured([sys.executable, "manage.py", "shell", "-c", code], log_name="load_ou_map", env=env, logs=logs)
    if m.returncode:
        return f"org-unit mappings not loaded (exit {m.returncode})"
    saved = m.stdout.read_text(encoding="utf-8").strip().splitlines()[-1:] or ["?"]
    return f"{saved[0]} org-unit mappings loaded first ({m.seconds:.1f} s, not counted)"


def count_rows(database_url: str, table: str) -> int | None:
    """``count(*)`` of a table in the bench database, ``None`` when it cannot be read."""
    try:
        import psycopg
        from psycopg import sql

        with psycopg.connect(database_url) as connection:
            row = connection.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()
            return int(row[0]) if row else None
    except Exception:
        return None


def run_importers(
    sets: DataSets,
    *,
    admin_url: str,
    bench_db: str,
    copy_rows: dict[str, Row],
    extra_args: list[str],
    logs: Path,
    manage: Path = ROOT / "manage.py",
) -> list[Row]:
    """Fresh database, migrate, then each available importer; rows for the table."""
    bench_url = database_url_for(admin_url, bench_db)
    env = django_env(bench_url)
    sources = importer_sources(env, manage)
    plans = [
        ("OneRoster", "oneroster", [str(sets.oneroster)], ("sites_site", "people_person")),
        ("Google (GAM)", "google", [str(sets.gam)], ("inventory_device",)),
    ]
    if sources is None:
        print("importer not available yet: `manage.py import` does not exist", flush=True)
        return [Row(d, f"import {s}", notes=["importer not available yet"]) for d, s, _, _ in plans]
    recreate_database(admin_url, bench_db)
    migrate = run_measured(
        [sys.executable, "manage.py", "migrate", "--noinput"], log_name="migrate", env=env, logs=logs
    )
    if migrate.returncode:
        raise SystemExit(f"migrate failed on {bench_db}:\n{migrate.tail()}")
    rows: list[Row] = []
    for dataset, source, paths, tables in plans:
        step = f"import {source}"
        if source not in sources:
            print(f"importer not available yet: manage.py import {source}", flush=True)
            rows.append(Row(dataset, step, notes=["importer not available yet"]))
            continue
        setup_note = load_org_unit_map(sets.ou_map, env=env, logs=logs) if source == "google" else ""
        for again in (False, True):
            label = f"{step} again (nothing changes)" if again else step
            log_name = f"import_{source}{'_again' if again else ''}"
            before = floor.snapshot(bench_url) if not again else None
            m = run_measured(
                [sys.executable, str(manage), "import", source, *paths, *extra_args],
                log_name=log_name,
                env=env,
                logs=logs,
            )
            baseline = copy_rows.get(dataset)
            row = Row(dataset, label, baseline.rows if baseline else None, m.seconds, m.peak_mb)
            if baseline and baseline.seconds:
                row.ratio = m.seconds / baseline.seconds
            if setup_note and not again:
                row.notes.append(setup_note)
            if m.returncode:
                row.notes.append(f"exit {m.returncode} (rows rejected or failed; see bench-data/logs/{log_name}.err)")
                print(m.tail(), flush=True)
            for table in tables:
                count = count_rows(bench_url, table)
                if count is not None:
                    row.notes.append(f"{table}: {count:,}")
            if row.ratio is not None and row.peak_mb is not None:
                ok = row.ratio <= GOAL_RATIO and row.peak_mb < GOAL_PEAK_MB
                row.notes.append("meets goal" if ok else f"misses goal (≤ {GOAL_RATIO:g}× COPY, < {GOAL_PEAK_MB:g} MB)")
            rows.append(row)
            if before is not None and not m.returncode:
                rows.append(floor_row(dataset, step, bench_url, before, import_row=row, baseline=baseline, logs=logs))
            if m.returncode:
                break
    return rows


def floor_row(
    dataset: str,
    step: str,
    bench_url: str,
    before: dict[str, int],
    *,
    import_row: Row,
    baseline: Row | None,
    logs: Path,
) -> Row:
    """The honest floor beside a first load (``floor.py``): COPY the rows the import wrote into
    copies of the same tables, plain indexes and foreign keys made after, as a first load does.
    Notes the import's ratio to it on ``import_row``."""
    try:
        seconds, rows, counts = floor.measure(bench_url, before, work_dir=logs.parent)
    except Exception as exc:  # the floor is a measurement; a failure is reported, not fatal
        return Row(dataset, f"floor: COPY {step}'s rows", notes=[f"failed: {exc}"])
    row = Row(dataset, f"floor: COPY {step}'s rows into the same tables", rows, seconds)
    if baseline and baseline.seconds:
        row.ratio = seconds / baseline.seconds
    row.notes.append(", ".join(f"{t}: {n:,}" for t, n in sorted(counts.items(), key=lambda kv: -kv[1])))
    row.notes.append("plain indexes and foreign keys made after the COPY; one transaction")
    if seconds and import_row.seconds:
        import_row.notes.append(f"{import_row.seconds / seconds:.1f}× the floor")
    return row


# --------------------------------------------------------------------------- report


def markdown_table(rows: list[Row]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "|".join("---" for _ in HEADER) + "|"]
    lines += ["| " + " | ".join(row.cells()) + " |" for row in rows]
    return "\n".join(lines)


def report(rows: list[Row], *, machine: dict[str, str], scale: str, numbers: dict[str, int], seed: int) -> str:
    """The Markdown section for one run: title with date and scale, machine, table."""
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"## {now} — scale {scale} ({numbers['users']:,} users, {numbers['sites']:,} schools, "
        f"{numbers['devices']:,} devices; seed {seed})\n\n"
        f"- Machine: `{machine['uname']}`\n"
        f"- CPU: {machine['cpu']}, {machine['cores']} cores; RAM {machine['ram']}\n"
        f"- {machine['postgres']}; Python {machine['python']}; commit `{machine['commit']}`\n\n"
        f"{markdown_table(rows)}\n"
    )


def append_docs(section: str, path: Path = DOCS) -> None:
    """Append ``section`` to ``path``, creating it with :data:`DOCS_INTRO` when missing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    existing = path.read_text(encoding="utf-8") if path.exists() else DOCS_INTRO
    path.write_text(existing.rstrip("\n") + "\n\n" + section, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="full")
    parser.add_argument("--users", type=int, help="override the scale's user count")
    parser.add_argument("--sites", type=int, help="override the scale's school count")
    parser.add_argument("--devices", type=int, help="override the scale's device count")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--data-dir", type=Path, default=ROOT / "bench-data")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL") or DEFAULT_URL)
    parser.add_argument("--bench-db", default="ledger_bench", help="database dropped and recreated for importers")
    parser.add_argument("--copy-runs", type=int, default=3, help="COPY baseline runs; the fastest counts")
    parser.add_argument("--skip-import", action="store_true", help="only generate and measure COPY")
    parser.add_argument("--import-args", default="", help="extra arguments for every `manage.py import` run")
    parser.add_argument("--manage", type=Path, default=ROOT / "manage.py", help=argparse.SUPPRESS)
    parser.add_argument("--no-docs", action="store_true", help=f"print only; do not append to {DOCS.name}")
    args = parser.parse_args(argv)

    numbers = dict(SCALES[args.scale])
    for key in ("users", "sites", "devices"):
        if getattr(args, key) is not None:
            numbers[key] = getattr(args, key)
    logs = args.data_dir / "logs"
    sets = data_sets(args.data_dir, seed=args.seed, **numbers)
    machine = machine_info(args.database_url)

    rows = ensure_data(sets, seed=args.seed, logs=logs, **numbers)
    copies = {
        "OneRoster": copy_baseline(
            sets.oneroster_files,
            dataset="OneRoster",
            database_url=args.database_url,
            logs=logs,
            tag="oneroster",
            runs=args.copy_runs,
        ),
        "Google (GAM)": copy_baseline(
            [sets.gam],
            dataset="Google (GAM)",
            database_url=args.database_url,
            logs=logs,
            tag="gam",
            runs=args.copy_runs,
        ),
    }
    rows += copies.values()
    if args.skip_import:
        rows += [Row(d, "import", notes=["skipped (--skip-import)"]) for d in copies]
    else:
        rows += run_importers(
            sets,
            admin_url=args.database_url,
            bench_db=args.bench_db,
            copy_rows=copies,
            extra_args=shlex.split(args.import_args),
            logs=logs,
            manage=args.manage,
        )
    rows.sort(key=lambda r: (r.dataset != "OneRoster", not r.step.startswith("generate")))
    section = report(rows, machine=machine, scale=args.scale, numbers=numbers, seed=args.seed)
    print()
    print(section)
    if not args.no_docs:
        append_docs(section)
        print(f"appended to {DOCS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
