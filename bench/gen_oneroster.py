#!/usr/bin/env python3
"""Write a synthetic OneRoster 1.1 bulk CSV set for benchmarks: manifest, orgs and users.

Usage::

    python bench/gen_oneroster.py OUTDIR [--users 1000000] [--sites 1800] [--seed 42]

Writes ``OUTDIR/manifest.csv``, ``OUTDIR/orgs.csv`` (one district and ``--sites``
schools) and ``OUTDIR/users.csv`` (``--users`` rows, 1.1 header). Users come in blocks
of 25 at one school: 20 students, 1 staff member (teacher; every 10th block an
administrator, every 7th an aide) and 4 guardians/parents/relatives, each linked to 1-3
of the block's students through ``agentSourcedIds`` in both directions. So 80 % are
students, 4 % staff and 16 % guardians.

Deterministic for a given seed (same bytes every run). Streams: memory does not grow
with ``--users`` (one block is held at a time). Each file is written as ``NAME.part``
and renamed when complete; ``manifest.csv`` is written last, so a folder with a
manifest is complete.

Values follow the spec (formats.md): bulk rows have empty ``status`` and
``dateLastModified``; ``enabledUser`` is ``true``; grades are CEDS codes; student
numbers (``identifier``) are 7 digits with leading zeros (``0100042``).
Names, usernames and emails are functions of the user's index (see
:func:`user_email`) so ``gen_gam.py`` can refer to the same students.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import sys
import time
import unicodedata
import uuid
from pathlib import Path
from typing import TextIO

USERS_HEADER_11 = [
    "sourcedId",
    "status",
    "dateLastModified",
    "enabledUser",
    "orgSourcedIds",
    "role",
    "username",
    "userIds",
    "givenName",
    "familyName",
    "middleName",
    "identifier",
    "email",
    "sms",
    "phone",
    "agentSourcedIds",
    "grades",
    "password",
]
ORGS_HEADER = ["sourcedId", "status", "dateLastModified", "name", "type", "identifier", "parentSourcedId"]

#: Users per block (one school each): students first, then one staff member, then guardians.
BLOCK = 25
STUDENTS_PER_BLOCK = 20
STAFF_POSITION = 20
STUDENT_DOMAIN = "students.bench-district.example.org"
STAFF_DOMAIN = "bench-district.example.org"
GUARDIAN_DOMAINS = ("gmail.example.com", "yahoo.example.com", "outlook.example.com")
FIRST_STUDENT_NUMBER = 100_000

FIRST_NAMES = [
    "Aaliyah",
    "Aiden",
    "Alejandro",
    "Amara",
    "Ana",
    "Andrés",
    "Aria",
    "Ayesha",
    "Benjamín",
    "Brianna",
    "Caleb",
    "Camila",
    "Chloé",
    "Daniel",
    "Dmitri",
    "Elena",
    "Elijah",
    "Emma",
    "Fatima",
    "Gabriel",
    "Grace",
    "Hana",
    "Isabella",
    "Jamal",
    "Jayden",
    "Jiayi",
    "José",
    "Kai",
    "Keisha",
    "Liam",
    "Lucía",
    "Luca",
    "Malik",
    "Maria",
    "Mateo",
    "Mia",
    "Mohammed",
    "Nadia",
    "Noah",
    "Nguyen",
    "Olivia",
    "Omar",
    "Priya",
    "Rafael",
    "Rosa",
    "Samuel",
    "Sofía",
    "Sophia",
    "Tatiana",
    "Thanh",
    "Valentina",
    "William",
    "Xavier",
    "Yusuf",
    "Zoë",
    "Zainab",
    "Ólafur",
    "Siobhán",
    "Renée",
]
LAST_NAMES = [
    "Abdullah",
    "Adams",
    "Alvarez",
    "Anderson",
    "Brown",
    "Chen",
    "Cohen",
    "Cruz",
    "Davis",
    "Díaz",
    "Dubois",
    "Fernández",
    "Flores",
    "Garcia",
    "Goldberg",
    "Gonzalez",
    "Gupta",
    "Hernández",
    "Ivanova",
    "Jackson",
    "Johnson",
    "Kim",
    "Kowalski",
    "Lee",
    "Lopez",
    "Martin",
    "Martínez",
    "Miller",
    "Moore",
    "Müller",
    "Nguyen",
    "O'Brien",
    "O'Connor",
    "Okafor",
    "Patel",
    "Perez",
    "Ramírez",
    "Rivera",
    "Robinson",
    "Rodríguez",
    "Rossi",
    "Sánchez",
    "Santos",
    "Schmidt",
    "Singh",
    "Smith",
    "Suárez",
    "Tanaka",
    "Taylor",
    "Thomas",
    "Torres",
    "Tran",
    "Williams",
    "Wilson",
    "Wong",
    "Yılmaz",
    "Zhang",
    "García-López",
    "Van der Berg",
    "St. John",
]
MIDDLE_INITIALS = "ABCDEFGHIJKLMNOPRSTW"
SCHOOL_WORDS = [
    "Lincoln",
    "Washington",
    "Jefferson",
    "Roosevelt",
    "Kennedy",
    "King",
    "Douglass",
    "Tubman",
    "Chavez",
    "Parks",
    "Einstein",
    "Curie",
    "Hamilton",
    "Madison",
    "Franklin",
    "Edison",
    "Carver",
    "Hughes",
    "Morrison",
    "Sotomayor",
]
GRADE_BANDS = (("KG", "01", "02", "03", "04", "05"), ("06", "07", "08"), ("09", "10", "11", "12"))
SCHOOL_KINDS = ("Elementary School", "Middle School", "High School")


def _ascii(text: str) -> str:
    """Lower-case ASCII letters only (``"Zoë O'Brien"`` → ``"zoeobrien"``), for usernames."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return "".join(ch for ch in folded.lower() if ch.isalnum())


_FIRST_ASCII = [_ascii(n) for n in FIRST_NAMES]
_LAST_ASCII = [_ascii(n) for n in LAST_NAMES]


def _first_index(index: int) -> int:
    return (index * 7919 + 13) % len(FIRST_NAMES)


def _last_index(index: int) -> int:
    return (index * 104729 + 7) % len(LAST_NAMES)


def user_names(index: int) -> tuple[str, str]:
    """(given, family) name of the user at ``index`` (0-based position in users.csv)."""
    return FIRST_NAMES[_first_index(index)], LAST_NAMES[_last_index(index)]


def user_username(index: int) -> str:
    """Login name of the user at ``index``, unique: ``given.family`` + index (ASCII)."""
    return f"{_FIRST_ASCII[_first_index(index)]}.{_LAST_ASCII[_last_index(index)]}{index}"


def role_position(index: int) -> int:
    """Position of the user in its block: 0-19 student, 20 staff, 21-24 guardian."""
    return index % BLOCK


def is_student(index: int) -> bool:
    return role_position(index) < STUDENTS_PER_BLOCK


def student_user_index(k: int) -> int:
    """Index in users.csv of the ``k``-th student (0-based)."""
    return (k // STUDENTS_PER_BLOCK) * BLOCK + k % STUDENTS_PER_BLOCK


def student_count(users: int) -> int:
    """How many of the first ``users`` users are students."""
    full, rest = divmod(users, BLOCK)
    return full * STUDENTS_PER_BLOCK + min(rest, STUDENTS_PER_BLOCK)


def user_email(index: int) -> str:
    """Email of a student or staff user (guardians use personal domains)."""
    domain = STUDENT_DOMAIN if is_student(index) else STAFF_DOMAIN
    return f"{user_username(index)}@{domain}"


def student_number(index: int) -> str:
    """The student's number (OneRoster ``identifier``): 7 digits, leading zeros kept."""
    block, position = divmod(index, BLOCK)
    return f"{FIRST_STUDENT_NUMBER + block * STUDENTS_PER_BLOCK + position:07d}"


def school_of_block(block: int, sites: int) -> int:
    """School (0-based) of a block of users: a fixed scatter over all schools."""
    return (block * 2654435761) % 4294967296 % sites


def school_of_user(index: int, sites: int) -> int:
    return school_of_block(index // BLOCK, sites)


def school_sourced_id(school: int) -> str:
    """sourcedId of school ``school`` (0-based), a stable UUID."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"https://bench-district.example.org/orgs/{school}"))


def school_identifier(school: int) -> str:
    """The school's state/NCES-style identifier (12 digits) — a natural site code."""
    return f"36{school + 1:010d}"


def school_name(school: int) -> str:
    """``"P.S. 0042 Lincoln Middle School"``-style names (unique through the number)."""
    word = SCHOOL_WORDS[(school * 31) % len(SCHOOL_WORDS)]
    return f"P.S. {school + 1:04d} {word} {SCHOOL_KINDS[school % 3]}"


def school_grades(school: int) -> tuple[str, ...]:
    return GRADE_BANDS[school % 3]


DISTRICT_SOURCED_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, "https://bench-district.example.org/orgs/district"))


def write_orgs(out: TextIO, sites: int) -> int:
    """Write orgs.csv: the district, then ``sites`` schools. Returns the number of data rows."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(ORGS_HEADER)
    writer.writerow([DISTRICT_SOURCED_ID, "", "", "Bench City Public Schools", "district", "3600000", ""])
    for school in range(sites):
        writer.writerow(
            [
                school_sourced_id(school),
                "",
                "",
                school_name(school),
                "school",
                school_identifier(school),
                DISTRICT_SOURCED_ID,
            ]
        )
    return sites + 1


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _block_rows(block: int, users: int, sites: int, rng: random.Random) -> list[list[str]]:
    """The rows of one block (fewer for the last, truncated block); links stay inside the block."""
    first = block * BLOCK
    indexes = [i for i in range(first, first + BLOCK) if i < users]
    ids = {i: _uuid(rng) for i in indexes}
    school = school_of_block(block, sites)
    org = school_sourced_id(school)
    grades = school_grades(school)
    students = [i for i in indexes if is_student(i)]
    guardians = [i for i in indexes if role_position(i) > STAFF_POSITION]
    links: dict[int, list[str]] = {i: [] for i in indexes}
    for guardian in guardians:
        if not students:
            break
        for student in rng.sample(students, k=min(len(students), rng.randint(1, 3))):
            links[guardian].append(ids[student])
            links[student].append(ids[guardian])
    rows = []
    for i in indexes:
        given, family = user_names(i)
        middle = MIDDLE_INITIALS[i % len(MIDDLE_INITIALS)] if i % 3 == 0 else ""
        position = role_position(i)
        agents = ",".join(links[i])
        if position < STUDENTS_PER_BLOCK:
            number = student_number(i)
            rows.append(
                [ids[i], "", "", "true", org, "student", user_username(i), f"{{SIS:{number}}}", given, family,
                 middle, number, user_email(i), "", "", agents, rng.choice(grades), ""]
            )  # fmt: skip
        elif position == STAFF_POSITION:
            role = "administrator" if block % 10 == 0 else "aide" if block % 7 == 0 else "teacher"
            # Every 5th teacher also works at the next school (list value in one quoted field).
            orgs = org if block % 5 else f"{org},{school_sourced_id((school + 1) % sites)}"
            rows.append(
                [ids[i], "", "", "true", orgs, role, user_username(i), f"{{LDAP:{user_username(i)}}}", given, family,
                 middle, f"T{block:07d}", user_email(i), "", "", "", "", ""]
            )  # fmt: skip
        else:
            role = ("guardian", "parent", "parent", "relative")[position - STAFF_POSITION - 1]
            domain = GUARDIAN_DOMAINS[i % len(GUARDIAN_DOMAINS)]
            phone = f"+1 718 555 {i % 10000:04d}"
            rows.append(
                [ids[i], "", "", "true", org, role, "", "", given, family, middle, "",
                 f"{_FIRST_ASCII[_first_index(i)]}{i}@{domain}", phone if i % 2 else "", phone, agents, "", ""]
            )  # fmt: skip
    return rows


def write_users(out: TextIO, users: int, sites: int, seed: int) -> int:
    """Write users.csv (OneRoster 1.1) with ``users`` data rows, block by block. Returns the row count."""
    rng = random.Random(seed)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(USERS_HEADER_11)
    written = 0
    for block in range((users + BLOCK - 1) // BLOCK):
        rows = _block_rows(block, users, sites, rng)
        writer.writerows(rows)
        written += len(rows)
    return written


MANIFEST_FILES = (
    ("academicSessions", "absent"),
    ("categories", "absent"),
    ("classes", "absent"),
    ("classResources", "absent"),
    ("courses", "absent"),
    ("courseResources", "absent"),
    ("demographics", "absent"),
    ("enrollments", "absent"),
    ("lineItems", "absent"),
    ("orgs", "bulk"),
    ("resources", "absent"),
    ("results", "absent"),
    ("users", "bulk"),
)


def write_manifest(out: TextIO) -> None:
    """Write manifest.csv for a 1.1 bulk set with orgs and users."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["propertyName", "value"])
    writer.writerow(["manifest.version", "1.0"])
    writer.writerow(["oneroster.version", "1.1"])
    for name, mode in MANIFEST_FILES:
        writer.writerow([f"file.{name}", mode])
    writer.writerow(["source.systemName", "DeviceLedger bench generator"])
    writer.writerow(["source.systemCode", "bench"])


def _write(path: Path, fill: object, *args: object) -> object:
    """Write ``path`` through ``NAME.part`` (renamed when complete); returns what ``fill`` returns."""
    part = path.with_name(path.name + ".part")
    with part.open("w", encoding="utf-8", newline="", buffering=1024 * 1024) as out:
        result = fill(out, *args)  # type: ignore[operator]
    os.replace(part, path)
    return result


def generate(outdir: Path, *, users: int, sites: int, seed: int) -> dict[str, int]:
    """Write the three files into ``outdir``; returns ``{"orgs": rows, "users": rows}``."""
    if sites < 1 or users < 0:
        raise ValueError("need at least one site and a non-negative number of users")
    outdir.mkdir(parents=True, exist_ok=True)
    manifest = outdir / "manifest.csv"
    if manifest.exists():
        manifest.unlink()  # the folder is incomplete until the manifest is back
    orgs = _write(outdir / "orgs.csv", write_orgs, sites)
    written = _write(outdir / "users.csv", write_users, users, sites, seed)
    _write(manifest, write_manifest)
    return {"orgs": int(orgs), "users": int(written)}  # type: ignore[call-overload]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--users", type=int, default=1_000_000, help="rows in users.csv (default 1,000,000)")
    parser.add_argument("--sites", type=int, default=1800, help="schools in orgs.csv (default 1,800)")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    counts = generate(args.outdir, users=args.users, sites=args.sites, seed=args.seed)
    seconds = time.perf_counter() - started
    size = sum((args.outdir / n).stat().st_size for n in ("orgs.csv", "users.csv"))
    print(
        f"wrote {counts['users']:,} users and {counts['orgs']:,} orgs to {args.outdir} "
        f"({size / 1e6:,.1f} MB) in {seconds:,.1f} s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
