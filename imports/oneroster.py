"""OneRoster 1.1 and 1.2 CSV → the district, sites, people and guardian contacts.

Input: a zip (files at its root, or in one folder inside it), a folder, or a single
``users.csv`` / ``orgs.csv``. Steps, in order:

1. ``orgs.csv`` → the district's name (``type=district``) and sites (``type=school``: kind
   school). An existing site keeps its code; a new one takes ``identifier`` when it is a short
   code (at most 32 characters, not all digits), else its ``sourcedId`` (at most 32), else a
   code made from its name. An ``identifier`` that looks like a state / NCES id (digits) goes
   to ``Site.state_id``. Other org types are skipped; a department counts as its parent school
   for its users.
2. ``roles.csv`` (1.2) → each user's role and site (the ``primary`` role wins).
3. ``classes.csv`` + ``enrollments.csv`` → homerooms (a ``classType=homeroom`` class's title,
   for its student enrollments), only when the files have homeroom classes.
4. ``users.csv`` → people: students; teachers, administrators and aides (and the 1.2
   administrator roles) as staff. Proctors are skipped.
5. ``users.csv`` again → guardian contacts: guardians, parents and relatives, linked to the
   students named in their ``agentSourcedIds`` or naming them in theirs.

Matching is on ``sourcedId``. The manifest says, per file, ``bulk`` or ``delta``; without a
manifest (the 1.0 layout) files are bulk. After a **bulk** users.csv, people with a sourcedId
who are missing from it become inactive (never deleted) and are reactivated when a later file
has them again; a bulk orgs.csv does the same to schools. Rows with ``status=tobedeleted``
(delta files, or bulk files that have them: the data wins) make the person or school inactive.

Only district admins may run this import.
"""

from __future__ import annotations

import contextlib
import sys
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path, PurePosixPath
from typing import IO, Any, ClassVar

from django.db import connection
from django.db.models import Q

from imports.messages import Msg, say
from imports.models import ImportRun
from imports.people_rows import number_owners_text, visibility_of
from imports.pipeline import (
    CREATED,
    DEACTIVATED,
    REACTIVATED,
    REMOVED,
    SKIPPED,
    UNCHANGED,
    UPDATED,
    Change,
    Column,
    FileError,
    Importer,
    Item,
    KeyIndex,
    RowError,
    SkipRow,
    Step,
)
from imports.reading import FileFormatError, Row, Table, open_table
from imports.values import parse_bool, parse_datetime, parse_identifier, parse_list
from people import bulk as people_bulk
from people.models import GuardianContact, Person
from people.rules import (
    ACTIVE,
    EMAIL_INVALID,
    GUARDIAN,
    PERSON_NAME_MAX,
    ROLE_KINDS,
    ROLE_LIST,
    SKIP,
    STUDENT,
    STUDENT_NUMBER_MAX,
    bulk_deactivates,
    deactivation_needs_confirmation,
    email_is_valid,
    grade_of,
    number_taken_by,
    number_taken_reason,
    person_role,
    role_key,
    roster_outcome,
    shared_number_reason,
    status_when_listed,
    text_problem,
)
from sites import bulk as sites_bulk
from sites.models import District, Site

BULK = "bulk"
DELTA = "delta"
ABSENT = "absent"

#: Files we read, by the name they have in the upload (lower case).
KNOWN_FILES = ("manifest.csv", "orgs.csv", "users.csv", "roles.csv", "classes.csv", "enrollments.csv")

ORG_TYPES = ("district", "school", "department", "local", "state", "national")

#: Largest zip member we read, and the largest compression ratio we believe (zip bombs).
MAX_MEMBER_BYTES = 16 * 1024**3
MAX_RATIO = 400
#: Longest guardian phone number kept (``GuardianContact.phone``).
GUARDIAN_PHONE_MAX = 40

#: Key of the deactivation guard in ``run.preview`` / the report's counts (not an entity).
GUARD_KEY = "_deactivation"


def deactivation_confirmed(options: dict[str, Any]) -> bool:
    """``confirm_deactivation`` is on in a run's options (True, "yes", "true", "1", "on")."""
    value = (options or {}).get("confirm_deactivation", False)
    return value is True or str(value).strip().lower() in ("yes", "true", "1", "on")


#: What to do when the commit's safety stop refused (the run is over; the preview will ask).
RECONFIRM = (
    "Import the file again and tick the confirmation on its preview (command line: --option confirm_deactivation=yes)."
)


def deactivation_warning(guard: dict[str, Any]) -> str:
    """The preview's warning about what a bulk file would make inactive."""
    parts = []
    if guard.get("people"):
        parts.append(f"{guard['people']:,} of the {guard.get('active', 0):,} active people")
    if guard.get("sites"):
        in_use = guard.get("sites_in_use", 0)
        parts.append(f"{guard['sites']} school(s)" + (f", {in_use} of them with active people or devices" if in_use else ""))  # fmt: skip
    return (
        "Warning: this bulk file does not list " + " and ".join(parts) + "; committing makes them inactive. "
        "Check that the export is complete; the commit needs an explicit confirmation for this import."
    )


# --------------------------------------------------------------------------- the upload


class RosterFiles:
    """The CSV files of a OneRoster upload: a folder, a zip, or one CSV file.

    ``names`` are the lower-case base names found; :meth:`open` returns a streaming Table.
    Raises FileError for an empty file, a damaged zip, or a file that is none of these.
    """

    def __init__(self, path: Path, display_name: str) -> None:
        self.path = path
        self.display_name = display_name
        self.zip: zipfile.ZipFile | None = None
        self.members: dict[str, Any] = {}
        self._handles: list[IO[bytes]] = []
        if path.is_dir():
            for child in sorted(path.iterdir()):
                if child.is_file() and child.name.lower() in KNOWN_FILES:
                    self.members[child.name.lower()] = child
            return
        if not path.is_file():
            raise FileError(display_name, "was not found")
        if path.stat().st_size == 0:
            raise FileError(display_name, "is empty (0 bytes)")
        if zipfile.is_zipfile(path):
            self._open_zip()
            return
        name = PurePosixPath(display_name).name.lower()
        if name.endswith(".zip"):
            raise FileError(display_name, "is not a zip file (it is damaged, or another kind of file renamed .zip)")
        if name in KNOWN_FILES:
            self.members[name] = path
            return
        raise FileError(
            display_name,
            "is not a OneRoster upload: upload a zip of the OneRoster CSV files "
            "(manifest.csv, orgs.csv, users.csv…), or a single file named users.csv or orgs.csv",
        )

    def _open_zip(self) -> None:
        try:
            self.zip = zipfile.ZipFile(self.path)
            infos = self.zip.infolist()
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise FileError(self.display_name, f"is a damaged zip file ({exc})") from None
        found: dict[str, list[str]] = {}
        for info in infos:
            if info.is_dir():
                continue
            parts = PurePosixPath(info.filename).parts
            if any(part.startswith(("__MACOSX", "._")) for part in parts):
                continue
            name = parts[-1].lower() if parts else ""
            if name not in KNOWN_FILES:
                continue
            found.setdefault(name, []).append(info.filename)
            if info.file_size > MAX_MEMBER_BYTES or (
                info.file_size > 100 * 1024**2 and info.file_size > MAX_RATIO * max(info.compress_size, 1)
            ):
                raise FileError(info.filename, "is too large once unzipped (a damaged or malicious zip?)")
            self.members[name] = info
        clashes = {name: paths for name, paths in found.items() if len(paths) > 1}
        if clashes:
            name, paths = next(iter(clashes.items()))
            raise FileError(self.display_name, f"holds {len(paths)} files named {name} ({', '.join(paths)}); keep one")
        if not self.members:
            names = [info.filename for info in infos[:10]]
            if any(n.startswith("xl/") for n in names) or "[Content_Types].xml" in names:
                raise FileError(self.display_name, "is an Excel workbook; OneRoster is a zip of CSV files")
            shown = ", ".join(names) or "nothing"
            raise FileError(self.display_name, f"holds no OneRoster files (users.csv, orgs.csv…); it has {shown}")

    def has(self, name: str) -> bool:
        return name in self.members

    def open(self, name: str) -> Table:
        member = self.members.get(name)
        if member is None:
            raise FileError(name, "is missing from the upload")
        try:
            if isinstance(member, Path):
                return open_table(member, filename=name)
            assert self.zip is not None
            handle = self.zip.open(member)
            self._handles.append(handle)
            return open_table(handle, filename=name)
        except FileFormatError as exc:
            raise FileError(name, f"cannot be read: {exc}") from None
        except (OSError, RuntimeError, zipfile.BadZipFile, EOFError, ValueError) as exc:
            raise FileError(name, f"cannot be read from the zip: {exc}") from None

    def close(self) -> None:
        for handle in self._handles:
            handle.close()
        self._handles = []
        if self.zip is not None:
            self.zip.close()
            self.zip = None


# --------------------------------------------------------------------------- the importer


class OneRosterImporter(Importer):
    """OneRoster 1.1/1.2 CSV: sites and people. District admins only."""

    kind = ImportRun.Kind.ONEROSTER
    district_admin_only = True
    entities = (
        ("district", "District"),
        ("sites", "Sites"),
        ("people", "People"),
        ("guardians", "Guardian contacts"),
    )
    default_options: ClassVar[dict[str, Any]] = {"deactivate_missing": True}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.files: RosterFiles | None = None
        self.version = ""
        self.modes: dict[str, str] = {}
        # Filled by the org step: org sourcedId → (type, parentSourcedId); → site id
        # (negative placeholders for sites the preview would create).
        self.org_info: dict[str, tuple[str, str]] = {}
        self.site_ids: dict[str, int] = {}
        self._db_sites: dict[str, int] | None = None
        self._district_office: int | None | bool = False
        # Filled by the roles step (1.2): user sourcedId → (role, org sourcedId).
        self.roles: dict[str, tuple[str, str]] | None = None
        # Filled by the classes and enrollments steps.
        self.homeroom_classes: dict[str, str] = {}
        self.homerooms: dict[str, str] = {}
        # Filled by the people step: guardian sourcedId → students naming it in agentSourcedIds.
        self.agent_links: dict[str, list[str]] = {}

    # -- setup -------------------------------------------------------------------

    def prepare(self) -> None:
        self.files = RosterFiles(self.run.source_path, self.run.file_name)
        self._read_manifest()

    def close(self) -> None:
        if self.files is not None:
            self.files.close()

    def _read_manifest(self) -> None:
        assert self.files is not None
        if not self.files.has("manifest.csv"):
            self.version = "1.0"
            self.report.note("No manifest.csv: read as the OneRoster 1.0 layout, every file as bulk.")
            self.modes = {name.removesuffix(".csv"): BULK for name in self.files.members}
        else:
            manifest: dict[str, str] = {}
            table = self.files.open("manifest.csv")
            name_key = table.column("propertyName", "property", "name")
            value_key = table.column("value")
            if name_key is None or value_key is None:
                raise FileError("manifest.csv", "needs the columns propertyName and value")
            try:
                for row in table.rows():
                    manifest[row.values[name_key].strip().lower()] = row.values[value_key].strip()
                    if len(manifest) > 500:
                        raise FileError("manifest.csv", "has more than 500 properties; is it really a manifest?")
            except FileFormatError as exc:
                raise FileError("manifest.csv", f"cannot be read: {exc}") from None
            self.version = manifest.get("oneroster.version", "") or "1.1"
            for name in ("orgs", "users", "roles", "classes", "enrollments"):
                raw = manifest.get(f"file.{name}", "").lower()
                mode = raw if raw in (BULK, DELTA, ABSENT) else ""
                present = self.files.has(f"{name}.csv")
                if raw and not mode:
                    self.report.warning(
                        file="manifest.csv",
                        line=None,
                        column="value",
                        value=raw,
                        reason=f"file.{name}: expected bulk, delta or absent; {name}.csv is read as delta "
                        "(nothing is deactivated)",
                    )
                    mode = DELTA
                if mode in ("", ABSENT) and present:
                    self.report.note(
                        f"manifest.csv says {name}.csv is {mode or 'not listed'}, but the file is there: "
                        "it is read as delta (nothing is deactivated)."
                    )
                    mode = DELTA
                if mode in (BULK, DELTA) and not present:
                    if name in ("orgs", "users", "roles"):
                        raise FileError(f"{name}.csv", f"is missing: manifest.csv lists it as {mode}")
                    self.report.note(f"manifest.csv lists {name}.csv as {mode}, but the upload has no such file.")
                    mode = ABSENT
                self.modes[name] = mode or ABSENT
        if not (self.files.has("users.csv") or self.files.has("orgs.csv")):
            raise FileError(self.run.file_name, "has neither users.csv nor orgs.csv: nothing to import")
        described = ", ".join(f"{name}.csv {mode}" for name, mode in self.modes.items() if mode != ABSENT)
        self.report.note(f"OneRoster {self.version}: {described}.")

    def steps(self) -> list[Step]:
        from imports.oneroster_sql import SetBasedUsersStep, set_based_enabled

        classes, enrollments = ClassStep(self), EnrollmentStep(self)
        if set_based_enabled():  # PostgreSQL: users.csv in a few set-based statements
            users = SetBasedUsersStep(self, homeroom_steps=(classes, enrollments))
            return [OrgStep(self), RoleStep(self), classes, enrollments, users]
        people = PeopleStep(self, homeroom_steps=(classes, enrollments))
        return [OrgStep(self), RoleStep(self), classes, enrollments, people, GuardianStep(self, people)]

    def _run_step(self, step: Step, *, number: int, of: int) -> None:
        from imports.oneroster_sql import SetBasedUsersStep

        if isinstance(step, SetBasedUsersStep):
            step.run(number=number, of=of)  # its own passes (stage, check, plan, apply)
        else:
            super()._run_step(step, number=number, of=of)

    # -- shared look-ups ---------------------------------------------------------------

    def mode(self, name: str) -> str:
        return self.modes.get(name, ABSENT)

    @property
    def deactivate_missing(self) -> bool:
        return bool(self.options.get("deactivate_missing", True))

    @property
    def deactivation_confirmed(self) -> bool:
        """The admin ticked "Yes, deactivate …" for this run (CLI: ``confirm_deactivation=yes``)."""
        return deactivation_confirmed(self.options)

    def guard(self) -> dict[str, Any]:
        """What a bulk file would make inactive because it does not list it, kept with the
        preview's counts (``run.preview["_deactivation"]``, see ``ImportRun.deactivation_guard``)."""
        guard = self.report.counts.get(GUARD_KEY)
        if guard is None:
            guard = self.report.counts[GUARD_KEY] = {
                "people": 0, "active": 0, "sites": 0, "sites_in_use": 0, "needs_confirmation": 0,
            }  # fmt: skip
        return guard

    def guard_people(self, missing: int) -> None:
        """Record (preview) or check (commit) the people a bulk file would make inactive.
        Raises FileError at the commit when they are more than 20% of the active people and
        the run was not confirmed."""
        guard = self.guard()
        active = Person.objects.filter(status=Person.Status.ACTIVE).count()
        guard["people"], guard["active"] = missing, active
        risky = deactivation_needs_confirmation(missing=missing, active=active)
        if risky:
            guard["needs_confirmation"] = 1
            self.report.note(deactivation_warning(guard))
        if risky and self.applying and not self.deactivation_confirmed:
            raise FileError(
                self.run.file_name,
                f"this bulk file would now make {missing:,} of the {active:,} active people inactive (the people "
                f"changed since the preview); nothing was deactivated. {RECONFIRM}",
            )

    def guard_sites(self, site_ids: list[int]) -> None:
        """As :meth:`guard_people`, for schools a bulk orgs.csv no longer lists: confirmation is
        needed when any of them has active people or devices."""
        from inventory.models import Device

        guard = self.guard()
        in_use = (
            set(Person.objects.filter(status=Person.Status.ACTIVE, home_site_id__in=site_ids).values_list("home_site_id", flat=True).distinct())  # fmt: skip
            | set(Device.objects.filter(current_site_id__in=site_ids).values_list("current_site_id", flat=True).distinct())  # fmt: skip
            | set(Device.objects.filter(owner_site_id__in=site_ids).values_list("owner_site_id", flat=True).distinct())  # fmt: skip
        ) if site_ids else set()  # fmt: skip
        guard["sites"], guard["sites_in_use"] = len(site_ids), len(in_use)
        if in_use:
            guard["needs_confirmation"] = 1
            self.report.note(deactivation_warning(guard))
            if self.applying and not self.deactivation_confirmed:
                raise FileError(
                    self.run.file_name,
                    f"this bulk file would now make {len(in_use)} school(s) with active people or devices inactive "
                    f"(the schools changed since the preview); nothing was deactivated. {RECONFIRM}",
                )

    def db_sites(self) -> dict[str, int]:
        """Every site with a sourcedId: sourcedId → id (a few thousand at most)."""
        if self._db_sites is None:
            self._db_sites = dict(Site.objects.exclude(sourced_id="").values_list("sourced_id", "id"))
        return self._db_sites

    def site_for_org(self, org: str) -> int | None:
        """The site id of an org sourcedId: a school in the file or already here, or the
        parent school of a department."""
        if org in self.site_ids:
            return self.site_ids[org]
        info = self.org_info.get(org)
        if info is not None and info[0] == "department" and info[1]:
            return self.site_for_org(info[1]) if info[1] != org else None
        if info is not None and info[0] != "school":
            return None
        return self.db_sites().get(org)

    def district_office_id(self) -> int | None:
        """The first active district-office site (for staff whose only org is the district)."""
        if self._district_office is False:
            self._district_office = (
                Site.objects.filter(kind=Site.Kind.DISTRICT_OFFICE, active=True)
                .order_by("code")
                .values_list("id", flat=True)
                .first()
            )
        return self._district_office  # type: ignore[return-value]

    def is_district_org(self, org: str) -> bool:
        info = self.org_info.get(org)
        return info is not None and info[0] == "district"


# --------------------------------------------------------------------------- helpers for steps


class RosterStep(Step):
    """A step over one OneRoster file."""

    importer: OneRosterImporter
    name: ClassVar[str] = ""

    def __init__(self, importer: OneRosterImporter) -> None:
        super().__init__(importer)
        self.file = f"{self.name}.csv"
        self._bad_dates = 0
        self._first_bad_date: tuple[int, str] | None = None

    @property
    def mode(self) -> str:
        return self.importer.mode(self.name)

    def enabled(self) -> bool:
        files = self.importer.files
        return files is not None and files.has(self.file)

    def open(self) -> Table:
        assert self.importer.files is not None
        return self.importer.files.open(self.file)

    def row_key(self, row: Row) -> str:
        return self.cell_identifier(row, "sourcedId", required=True)

    def status(self, row: Row) -> str:
        """``active`` or ``tobedeleted`` (OneRoster 1.0's ``inactive`` counts as deleted)."""
        value = self.cell(row, "status").strip().lower()
        status = status_of(value)
        if status is None:
            raise RowError(self.cols.header("status"), value, say(Msg.ROSTER_BAD_STATUS))
        return status

    def check_modified(self, row: Row) -> None:
        """Count (not reject) dateLastModified values that are not date-times."""
        raw = self.cell(row, "dateLastModified")
        if raw:
            try:
                parse_datetime(raw)
            except ValueError:
                self._bad_dates += 1
                if self._first_bad_date is None:
                    self._first_bad_date = (row.line, raw)

    def finish(self) -> Iterable[Change]:
        if self._bad_dates and self._first_bad_date:
            line, raw = self._first_bad_date
            self.report.note(say(Msg.ROSTER_BAD_DATES, file=self.file, n=self._bad_dates, line=line, raw=raw[:40]))
        return []


def status_of(value: str) -> str | None:
    """A status cell (stripped, lower case) → ``active``, ``tobedeleted``, or ``None`` (not a status)."""
    if value in ("", "active"):
        return "active"
    if value in ("tobedeleted", "inactive", "deleted"):
        return "tobedeleted"
    return None


def grade_cell(raw: str) -> tuple[str | None, str]:
    """A ``grades`` cell → :func:`people.rules.grade_of` of its first grade."""
    grades = parse_list(raw)
    return grade_of(grades[0] if grades else "")


def _checked_text(step: Step, row: Row, name: str, max_length: int, *, required: bool = False) -> str:
    value = step.cell(row, name)
    problem = text_problem(value, name=name, max_length=max_length, required=required)
    if problem is not None:
        raise RowError(step.cols.header(name), value, problem)
    return value


# --------------------------------------------------------------------------- orgs.csv


class OrgRecord:
    """``code``: a short code from ``identifier`` ("" when it is none: a new site's code is then
    derived); ``state_id``: ``identifier`` when it looks like a state / NCES id, else ""."""

    __slots__ = ("code", "deleted", "name", "state_id", "type")

    def __init__(self, type: str, name: str, code: str, deleted: bool, state_id: str = "") -> None:
        self.type, self.name, self.code, self.deleted, self.state_id = type, name, code, deleted, state_id


def looks_like_state_id(value: str) -> bool:
    """An NCES or state school id: digits (``174008000001``), perhaps with ``-``/``.``
    separators (``01-234-5678``); at most 40 characters, at least 4 digits."""
    digits = sum(ch.isdigit() for ch in value)
    return len(value) <= 40 and digits >= 4 and all(ch.isdigit() or ch in "-." for ch in value)


def short_code(value: str) -> bool:
    """True for an ``identifier`` usable as a site code: at most 32 characters, not all digits."""
    return bool(value) and len(value) <= 32 and not looks_like_state_id(value) and not value.isdigit()


def code_from_name(name: str) -> str:
    """``"Prairie View Middle School"`` → ``"PRAIRIE-VIEW-MIDDLE-SCHOOL"`` (at most 32 characters)."""
    words = "".join(ch if ch.isalnum() else " " for ch in name.upper()).split()
    return "-".join(words)[:32].rstrip("-")


class OrgStep(RosterStep):
    """orgs.csv → the district's name and school sites."""

    name = "orgs"
    entity = "sites"
    key_label = "sourcedId"
    batch_size = 500
    columns = (
        Column("sourcedId", ("sourced_id", "orgSourcedId", "id"), required=True),
        Column("status"),
        Column("dateLastModified"),
        Column("name", ("orgName",), required=True),
        Column("type", ("orgType",), required=True),
        Column("identifier", ("orgCode", "code", "schoolCode")),
        Column("parentSourcedId", ("parent", "parentId", "parentSourcedIds")),
    )

    def __init__(self, importer: OneRosterImporter) -> None:
        super().__init__(importer)
        self.codes: dict[str, tuple[int, str]] = {}
        self.district_line: int | None = None
        self._placeholder = 0

    def parse(self, row: Row, key: str) -> OrgRecord:
        self.check_modified(row)
        status = self.status(row)
        org_type = self.cell(row, "type").strip().lower()
        if org_type not in ORG_TYPES:
            raise RowError(self.cols.header("type"), self.cell(row, "type"), f"expected one of {', '.join(ORG_TYPES)}")
        parent = parse_identifier(self.cell(row, "parentSourcedId"))
        self.importer.org_info[key] = (sys.intern(org_type), parent)
        deleted = status == "tobedeleted"
        if org_type not in ("school", "district"):
            raise SkipRow()
        name = _checked_text(self, row, "name", 200, required=not deleted)
        code = state_id = ""
        if org_type == "school":
            identifier = self.cell_identifier(row, "identifier")
            if looks_like_state_id(identifier):
                state_id = identifier  # an NCES / state id: never a site code
            elif short_code(identifier):
                code = identifier
        return OrgRecord(org_type, name, code, deleted, state_id)

    @staticmethod
    def _new_code(item: Item) -> str:
        """The code of a new site whose identifier is no short code: its sourcedId when that is
        short (and not all digits), else one derived from its name."""
        if len(item.key) <= 32 and not item.key.isdigit():
            return item.key
        return code_from_name(item.record.name) or item.key[:32]

    def plan(self, items: list[Item]) -> list[Change]:
        changes: list[Change] = []
        schools = [item for item in items if item.record.type == "school"]
        for item in items:
            if item.record.type == "district":
                changes.append(self._plan_district(item))
        if not schools:
            return changes
        by_sid = {s.sourced_id: s for s in Site.objects.filter(sourced_id__in=[i.key for i in schools])}
        for item in schools:
            if item.key not in by_sid and not item.record.code and not item.record.deleted:
                item.record.code = self._new_code(item)
        by_code = {s.code: s for s in Site.objects.filter(code__in=[i.record.code for i in schools if i.record.code])}
        for item in schools:
            changes.append(self._plan_school(item, by_sid.get(item.key), by_code))
        return changes

    def _plan_district(self, item: Item) -> Change:
        record: OrgRecord = item.record
        if self.district_line is not None:
            self.warn(item.line, "type", "district", f"a second district org (the first is on line {self.district_line}); skipped", item.key)  # fmt: skip
            return Change(SKIPPED, item, entity="district")
        self.district_line = item.line
        if record.deleted or not record.name or record.name == District.get().name:
            return Change(UNCHANGED, item, entity="district")
        return Change(UPDATED, item, data=record.name, entity="district")

    def _plan_school(self, item: Item, site: Site | None, by_code: dict[str, Site]) -> Change:
        record: OrgRecord = item.record
        if record.deleted:
            if site is not None:
                self.importer.site_ids[item.key] = site.pk
            if site is not None and site.active:
                return Change(DEACTIVATED, item, data={"pk": site.pk})
            return Change(UNCHANGED, item)
        if site is None:  # an existing site keeps its code: only a new (or adopted) one needs one
            seen = self.codes.get(record.code)
            if seen is not None and seen[1] != item.key:
                return self.reject(item, self.cols.header("identifier"), record.code, f"site code '{record.code}' is also used by sourcedId '{seen[1]}' on line {seen[0]}; codes must be unique")  # fmt: skip
            self.codes[record.code] = (item.line, item.key)
            other = by_code.get(record.code)
            if other is not None:
                if not other.sourced_id:
                    site = other  # a site made by hand: adopt it
                else:
                    return self.reject(item, self.cols.header("identifier"), record.code, f"site code '{record.code}' belongs to {other.name} (sourcedId '{other.sourced_id or 'none'}')")  # fmt: skip
        if site is None:
            self._placeholder -= 1
            self.importer.site_ids[item.key] = self._placeholder
            data = {"sourced_id": item.key, "code": record.code, "name": record.name, "state_id": record.state_id}
            return Change(CREATED, item, data=data)
        self.importer.site_ids[item.key] = site.pk
        fields = {}
        for field, value in (("name", record.name), ("sourced_id", item.key)):
            if getattr(site, field) != value:
                fields[field] = value
        if record.state_id and site.state_id != record.state_id:
            fields["state_id"] = record.state_id
        if not site.active:
            fields["active"] = True
            return Change(REACTIVATED, item, data={"pk": site.pk, "fields": fields})
        if fields:
            return Change(UPDATED, item, data={"pk": site.pk, "fields": fields})
        return Change(UNCHANGED, item)

    def write(self, changes: list[Change]) -> None:
        district = [c for c in changes if c.entity == "district"]
        if district:
            sites_bulk.district_rename(actor=self.importer.actor, name=district[0].data)
        sites = [c for c in changes if c.entity != "district"]
        created = sites_bulk.sites_write(
            actor=self.importer.actor,
            run_id=self.importer.run.pk,
            creates=[c.data for c in sites if c.outcome == CREATED],
            updates=[(c.data["pk"], c.data["fields"]) for c in sites if c.outcome in (UPDATED, REACTIVATED)],
            deactivate_ids=[c.data["pk"] for c in sites if c.outcome == DEACTIVATED],
        )
        self.importer.site_ids.update(created)
        if self.importer._db_sites is not None:
            self.importer._db_sites.update(created)

    def finish(self) -> Iterator[Change]:
        yield from super().finish()
        if self.mode != BULK or not self.importer.deactivate_missing or self.keys is None:
            return
        keys = self.keys
        if not keys.rows:
            raise FileError(self.file, "has no rows; a bulk file lists every school, so none was made inactive")
        active = (
            Site.objects.filter(kind=Site.Kind.SCHOOL, active=True)
            .exclude(sourced_id="")
            .values_list("pk", "sourced_id")
        )
        missing = [pk for pk, sourced_id in active.iterator() if sourced_id not in keys]
        self.importer.guard_sites(missing)  # FileError at an unconfirmed commit
        for pk in missing:
            yield Change(DEACTIVATED, data={"pk": pk})


# --------------------------------------------------------------------------- roles.csv (1.2)


class RoleStep(RosterStep):
    """roles.csv (1.2) → each user's role and org; the primary role wins."""

    name = "roles"
    entity = "roles"
    track_keys = False
    issues_are_warnings = True
    columns = (
        Column("userSourcedId", ("user", "userId", "userSourcedIds"), required=True),
        Column("status"),
        Column("roleType", ("type",)),
        Column("role", required=True),
        Column("orgSourcedId", ("org", "orgId", "schoolSourcedId")),
        Column("sourcedId"),
        Column("dateLastModified"),
        Column("beginDate"),
        Column("endDate"),
        Column("userProfileSourcedId"),
    )

    def enabled(self) -> bool:
        if not super().enabled():
            return False
        self.importer.roles = {}
        return True

    def row_key(self, row: Row) -> str:
        return ""

    def parse(self, row: Row, key: str) -> None:
        if self.status(row) == "tobedeleted":
            return None
        user = self.cell_identifier(row, "userSourcedId", required=True)
        role = role_key(self.cell(row, "role"))
        if role not in ROLE_KINDS:
            raise RowError(self.cols.header("role"), self.cell(row, "role"), f"expected one of {ROLE_LIST}")
        primary = self.cell(row, "roleType").strip().lower() in ("primary", "")
        roles = self.importer.roles
        assert roles is not None
        if primary or user not in roles:
            org = self.cell_identifier(row, "orgSourcedId")
            roles[user] = (sys.intern(role), sys.intern(org))
        return None


# --------------------------------------------------------------------------- classes.csv + enrollments.csv


class ClassStep(RosterStep):
    """classes.csv → the titles of homeroom classes (kept in memory: a few thousand)."""

    name = "classes"
    entity = "classes"
    track_keys = False
    optional_file = True
    issues_are_warnings = True
    columns = (
        Column("sourcedId", ("sourced_id", "classSourcedId", "id"), required=True),
        Column("status"),
        Column("title", ("name", "className"), required=True),
        Column("classType", ("type",), required=True),
        Column("classCode"),
        Column("dateLastModified"),
        Column("grades", ("grade",)),
        Column("courseSourcedId"),
        Column("location"),
        Column("schoolSourcedId"),
        Column("termSourcedIds"),
        Column("subjects"),
        Column("subjectCodes"),
        Column("periods"),
    )

    def row_key(self, row: Row) -> str:
        return ""

    def parse(self, row: Row, key: str) -> None:
        if self.cell(row, "classType").strip().lower() != "homeroom" or self.status(row) == "tobedeleted":
            return None
        sourced_id = self.cell_identifier(row, "sourcedId", required=True)
        title = self.cell(row, "title") or self.cell(row, "classCode") or sourced_id
        self.importer.homeroom_classes[sourced_id] = sys.intern(title[:100])
        return None


class EnrollmentStep(RosterStep):
    """enrollments.csv → each student's homeroom (only when there are homeroom classes)."""

    name = "enrollments"
    entity = "enrollments"
    track_keys = False
    optional_file = True
    issues_are_warnings = True
    columns = (
        Column("classSourcedId", ("class", "classId"), required=True),
        Column("userSourcedId", ("user", "userId"), required=True),
        Column("role", required=True),
        Column("status"),
        Column("sourcedId"),
        Column("schoolSourcedId"),
        Column("primary"),
        Column("dateLastModified"),
        Column("beginDate"),
        Column("endDate"),
    )

    def enabled(self) -> bool:
        return super().enabled() and bool(self.importer.homeroom_classes)

    def row_key(self, row: Row) -> str:
        return ""

    def parse(self, row: Row, key: str) -> None:
        class_id = self.cell(row, "classSourcedId")
        title = self.importer.homeroom_classes.get(class_id)
        if title is None or role_key(self.cell(row, "role")) != "student" or self.status(row) == "tobedeleted":
            return None
        try:
            parse_bool(self.cell(row, "primary"))
        except ValueError as exc:
            raise RowError(self.cols.header("primary"), self.cell(row, "primary"), str(exc)) from None
        user = self.cell_identifier(row, "userSourcedId", required=True)
        self.importer.homerooms.setdefault(user, title)
        return None


# --------------------------------------------------------------------------- users.csv → people

#: Person fields this import manages, in the order of :class:`PersonRecord` values.
PERSON_FIELDS = (
    "role",
    "given_name",
    "family_name",
    "preferred_name",
    "email",
    "student_number",
    "grade",
    "home_site_id",
    "homeroom",
)

USER_COLUMNS = (
    Column("sourcedId", ("sourced_id", "userSourcedId", "id"), required=True),
    Column("status"),
    Column("dateLastModified"),
    Column("enabledUser", ("enabled",)),
    Column("orgSourcedIds", ("orgSourcedId", "orgs", "schoolSourcedIds", "schoolSourcedId")),
    Column("role", ("roles", "userRole")),
    Column("username"),
    Column("userIds", ("userId",)),
    Column("givenName", ("firstName", "first_name", "given")),
    Column("familyName", ("lastName", "last_name", "surname")),
    Column("middleName"),
    Column("identifier", ("studentNumber", "localId")),
    Column("email", ("emailAddress",)),
    Column("sms"),
    Column("phone"),
    Column("agentSourcedIds", ("agents", "agentSourcedId", "agentIds")),
    Column("grades", ("grade",)),
    Column("password"),
    Column("userMasterIdentifier"),
    Column("resourceSourcedIds"),
    Column("preferredGivenName", ("preferredFirstName",)),
    Column("preferredMiddleName"),
    Column("preferredFamilyName", ("preferredLastName",)),
    Column("primaryOrgSourcedId", ("primaryOrg",)),
    Column("pronouns"),
)


class UserStep(RosterStep):
    """Shared by the people and guardian steps (both read users.csv)."""

    name = "users"
    key_label = "sourcedId"
    columns = USER_COLUMNS

    def bind(self, table: Table) -> None:
        super().bind(table)
        missing = [name for name in ("givenName", "familyName") if not self.cols.has(name)]
        if not self.cols.has("role") and self.importer.roles is None:
            missing.append("role (or a roles.csv)")
        if missing:
            raise FileError(
                self.file, f"no {', '.join(missing)} column; the header has: {', '.join(table.headers[:40])}"
            )

    def role_of(self, row: Row, key: str) -> tuple[str, str]:
        """(role key, raw text) from roles.csv (1.2) or the role column."""
        roles = self.importer.roles
        if roles is not None and key in roles:
            return roles[key][0], roles[key][0]
        raw = self.cell(row, "role")
        first = raw.split(",")[0]
        return role_key(first), raw

    def email(self, row: Row, key: str) -> str | None:
        """A valid email, "" for none, None (leave as is) after warning about an invalid one."""
        value = self.cell(row, "email")
        if not value:
            return ""
        if not email_is_valid(value):
            self.warn(row.line, self.cols.header("email"), value, EMAIL_INVALID, key)
            return None
        return value

    def enabled_check(self, row: Row, key: str) -> None:
        raw = self.cell(row, "enabledUser")
        if raw:
            try:
                parse_bool(raw)
            except ValueError as exc:
                self.warn(row.line, self.cols.header("enabledUser"), raw, str(exc), key)


class PersonRecord:
    __slots__ = ("deleted", "values")

    def __init__(self, values: tuple[Any, ...] | None, deleted: bool = False) -> None:
        self.values = values
        self.deleted = deleted


class PeopleStep(UserStep):
    """users.csv → people (students and staff)."""

    entity = "people"
    batch_size = 1000

    def __init__(self, importer: OneRosterImporter, *, homeroom_steps: tuple[Step, ...]) -> None:
        super().__init__(importer)
        self.guardian_rows = 0
        self.guardian_keys = KeyIndex()  # filled by the pre-scan, for the guardian step
        self.deleted_keys: set[str] = set()  # people with status tobedeleted (they keep their guardians)
        self.homeroom_mode = ""
        self.homeroom_steps = homeroom_steps
        # The active students' numbers: number → (line, sourcedId) of its first row; the rows of
        # numbers several students have (see _warn_shared_numbers).
        self._numbers: dict[str, tuple[int, str]] = {}
        self._shared: dict[str, list[tuple[int, str]]] = {}

    def enabled(self) -> bool:
        if not super().enabled():
            return False
        importer = self.importer
        classes, enrollments = importer.mode("classes"), importer.mode("enrollments")
        usable = importer.homeroom_classes and not any(step.failed for step in self.homeroom_steps)
        if usable and enrollments != ABSENT:
            self.homeroom_mode = BULK if classes == BULK and enrollments == BULK else DELTA
        return True

    def wants(self, row: Row) -> bool:
        """Guardian rows are the guardian step's."""
        return ROLE_KINDS.get(self.role_of(row, self.cell(row, "sourcedId"))[0]) != GUARDIAN

    def prescanned(self, row: Row) -> None:
        """Index the guardian rows' keys too, so the guardian step needs no pre-scan of its own."""
        if not self.wants(row):
            self.guardian_rows += 1
            with contextlib.suppress(RowError):
                self.guardian_keys.add(self.row_key(row), row.line)

    def _student_number(self, line: int, key: str, number: str) -> None:
        """Keep a student's number (of a row that parsed) to find the numbers students share."""
        first = self._numbers.setdefault(number, (line, key))
        if first[0] != line:
            self._shared.setdefault(number, [first]).append((line, key))

    def _warn_shared_numbers(self) -> None:
        """After the last row: a warning on each student's row whose number other students' rows
        have too, listing their lines (a scan of the number cannot tell them apart)."""
        self._numbers = {}
        rows = sorted((line, key, number, lines) for number, lines in self._shared.items() for line, key in lines)
        for line, key, number, lines in rows:
            reason = shared_number_reason(number, [n for n, _ in lines])
            self.warn(line, self.cols.header("identifier"), number, reason, key)
        self._shared = {}

    def parse(self, row: Row, key: str) -> PersonRecord | None:
        self.check_modified(row)
        if self.status(row) == "tobedeleted":
            self.deleted_keys.add(key)
            return PersonRecord(None, deleted=True)
        role, raw_role = self.role_of(row, key)
        kind = ROLE_KINDS.get(role)
        if kind == SKIP:
            raise SkipRow()
        if kind is None:
            if self.importer.roles is not None and not raw_role:
                raise RowError("role", "", say(Msg.ROSTER_NO_ROLE))
            raise RowError(self.cols.header("role"), raw_role, say(Msg.ROSTER_BAD_ROLE, roles=ROLE_LIST))
        self.enabled_check(row, key)
        given = _checked_text(self, row, "givenName", PERSON_NAME_MAX, required=True)
        family = _checked_text(self, row, "familyName", PERSON_NAME_MAX, required=True)
        preferred = (
            _checked_text(self, row, "preferredGivenName", PERSON_NAME_MAX)
            if self.cols.has("preferredGivenName")
            else None
        )
        number = self.cell_identifier(row, "identifier", max_length=STUDENT_NUMBER_MAX)
        grade = self._grade(row, key)
        site_id = self._home_site(row, key)
        homeroom: str | None = None
        if self.homeroom_mode == BULK:
            homeroom = self.importer.homerooms.get(key, "")
        elif self.homeroom_mode == DELTA:
            homeroom = self.importer.homerooms.get(key)
        if kind == STUDENT:
            agents = self.cell(row, "agentSourcedIds")
            if agents:
                for agent in parse_list(agents):
                    self.importer.agent_links.setdefault(agent, []).append(key)
        values = (
            person_role(kind),
            given,
            family,
            preferred,
            self.email(row, key),
            number,
            grade,
            site_id,
            homeroom,
        )
        if kind == STUDENT and number:
            self._student_number(row.line, key, number)
        return PersonRecord(values)

    def _grade(self, row: Row, key: str) -> str | None:
        raw = self.cell(row, "grades")
        grade, problem = grade_cell(raw)
        if problem:
            self.warn(row.line, self.cols.header("grades"), raw, problem, key)
        return grade

    def _home_site(self, row: Row, key: str) -> int:
        roles = self.importer.roles
        role_org = roles[key][1] if roles is not None and key in roles else ""
        return self.home_site_for(role_org, self.cell(row, "primaryOrgSourcedId"), self.cell(row, "orgSourcedIds"))

    def home_site_for(self, role_org: str, primary: str, orgs: str) -> int:
        """The site of a person from their roles.csv org, primaryOrgSourcedId and orgSourcedIds
        cells (the first that names a school wins); RowError when none does."""
        importer = self.importer
        candidates: list[tuple[str, str]] = []
        if role_org:
            candidates.append(("role", role_org))
        if primary:
            candidates.append(("primaryOrgSourcedId", primary))
        for org in parse_list(orgs):
            candidates.append(("orgSourcedIds", org))
        if not candidates:
            raise RowError(self.cols.header("orgSourcedIds"), "", "is empty; every person needs a school")
        for _, org in candidates:
            site_id = importer.site_for_org(org)
            if site_id is not None:
                return site_id
        if any(importer.is_district_org(org) for _, org in candidates):
            office = importer.district_office_id()
            if office is not None:
                return office
            column, org = candidates[0]
            raise RowError(
                column, org, "is the district, and the district has no district-office site to put this person in"
            )
        column, org = candidates[0]
        shown = ", ".join(org for _, org in candidates)
        return_column = self.cols.header(column) if column != "role" else "roles.csv orgSourcedId"
        raise RowError(return_column, shown, "names no school in orgs.csv or in DeviceLedger")

    def plan(self, items: list[Item]) -> list[Change]:
        existing = {
            row[1]: row
            for row in Person.objects.filter(sourced_id__in=[i.key for i in items]).values_list(
                "pk", "sourced_id", "status", *PERSON_FIELDS
            )
        }
        self._warn_numbers_taken(items)
        changes: list[Change] = []
        for item in items:
            record: PersonRecord = item.record
            current = existing.get(item.key)
            status = None if current is None else current[2]
            merged: tuple[Any, ...] = ()
            if current is not None and record.values is not None:
                merged = tuple(old if new is None else new for old, new in zip(current[3:], record.values, strict=True))
            outcome = roster_outcome(status, deleted=record.deleted, changed=merged != tuple(current[3:]) if current else True)  # fmt: skip
            if outcome == DEACTIVATED:
                assert current is not None
                changes.append(Change(DEACTIVATED, item, data=current[0]))
            elif outcome == CREATED:
                changes.append(Change(CREATED, item, data=record.values))
            elif outcome in (REACTIVATED, UPDATED):
                assert current is not None and status is not None
                changes.append(Change(outcome, item, data=(current[0], merged, status_when_listed(status))))
            else:
                changes.append(Change(UNCHANGED, item))
        return changes

    def _warn_numbers_taken(self, items: list[Item]) -> None:
        """A student whose number another active person already has: a warning (a scan of the
        number could not tell them apart), the row imported all the same. People this file
        lists do not count (their own rows say what they become), nor — when a bulk file makes
        inactive the people it does not list — anyone with a sourcedId."""
        students = [
            item
            for item in items
            if not item.record.deleted and item.record.values[0] == STUDENT and item.record.values[5]
        ]
        if not students:
            return
        keys = self.keys
        assert keys is not None
        everyone_listed = self.mode == BULK and self.importer.deactivate_missing
        numbers = sorted({item.record.values[5] for item in students})
        own = [item.key for item in students]  # the rows' own people: in the file
        owners: dict[str, list[tuple[int, str, str, str, int | None]]] = {}
        with connection.cursor() as cursor:  # plain SQL: a thousand parameters cost Django more than the query
            cursor.execute(
                "SELECT id, sourced_id, given_name, family_name, home_site_id, student_number "
                f"FROM {Person._meta.db_table} WHERE status = %s "
                f"AND student_number IN ({', '.join(['%s'] * len(numbers))}) "
                f"AND sourced_id NOT IN ({', '.join(['%s'] * len(own))})",
                [Person.Status.ACTIVE, *numbers, *own],
            )
            for pk, sourced_id, given, family, site_id, number in cursor.fetchall():
                listed = sourced_id in keys
                if number_taken_by(
                    status=ACTIVE, sourced_id=sourced_id, listed=listed, everyone_listed=everyone_listed
                ):
                    owners.setdefault(number, []).append((pk, sourced_id, given, family, site_id))
        if not owners:
            return
        visible = visibility_of(self.importer.actor)
        for item in students:
            number = item.record.values[5]
            if number in owners:
                who = number_owners_text(owners[number], visible)
                self.warn(item.line, self.cols.header("identifier"), number, number_taken_reason(who), item.key)

    def write(self, changes: list[Change]) -> None:
        creates = [
            {"sourced_id": c.item.key, "status": Person.Status.ACTIVE, **_person_fields(c.data)}
            for c in changes
            if c.outcome == CREATED and c.item is not None
        ]
        updates = [
            {"pk": c.data[0], "status": c.data[2], **_person_fields(c.data[1])}
            for c in changes
            if c.outcome in (UPDATED, REACTIVATED)
        ]
        people_bulk.people_write(
            actor=self.importer.actor,
            run_id=self.importer.run.pk,
            creates=creates,
            updates=updates,
            update_fields=[*PERSON_FIELDS, "status"],
            deactivate_ids=[c.data for c in changes if c.outcome == DEACTIVATED],
        )

    def finish(self) -> Iterator[Change]:
        yield from super().finish()
        self._warn_shared_numbers()
        if self.mode != BULK or not self.importer.deactivate_missing or self.keys is None:
            return
        keys = self.keys
        if not keys.rows:
            raise FileError(self.file, say(Msg.ROSTER_BULK_EMPTY))
        last = 0
        missing: list[int] = []
        while True:
            page = list(
                Person.objects.filter(status=Person.Status.ACTIVE, pk__gt=last)
                .exclude(sourced_id="")
                .order_by("pk")
                .values_list("pk", "sourced_id")[:5000]
            )
            if not page:
                break
            missing += [
                pk
                for pk, sourced_id in page
                if bulk_deactivates(status=ACTIVE, sourced_id=sourced_id, listed=sourced_id in keys)
            ]
            last = page[-1][0]
        self.importer.guard_people(len(missing))  # FileError at an unconfirmed commit
        for pk in missing:
            yield Change(DEACTIVATED, data=pk)


def _person_fields(values: tuple[Any, ...]) -> dict[str, Any]:
    """Model field values from a record's values (``None``: the field's blank default)."""
    return {
        field: ("" if value is None and field != "home_site_id" else value)
        for field, value in zip(PERSON_FIELDS, values, strict=True)
    }


# --------------------------------------------------------------------------- users.csv → guardian contacts


class GuardianRecord:
    __slots__ = ("deleted", "email", "name", "phone", "relationship", "students")

    def __init__(
        self, *, name: str, relationship: str, email: str, phone: str, students: list[str], deleted: bool = False
    ) -> None:
        self.name, self.relationship, self.email, self.phone = name, relationship, email, phone
        self.students, self.deleted = students, deleted


class GuardianStep(UserStep):
    """users.csv → guardian contacts of the students each guardian is linked to (either way)."""

    entity = "guardians"
    batch_size = 500

    def __init__(self, importer: OneRosterImporter, people: PeopleStep) -> None:
        super().__init__(importer)
        self.people = people
        # Bulk mode: guardians whose rows were planned, and "guardian\x1fstudent" links they
        # want (per-key data, like the key index): finish() removes the other contacts.
        self.planned: set[str] = set()
        self.desired_pairs: set[str] = set()

    @property
    def title(self) -> str:
        return "users.csv → guardian contacts"

    def enabled(self) -> bool:
        if self.people.keys is None or self.people.failed:
            return False
        self.keys = self.people.guardian_keys
        self.keys.rows = self.people.keys.rows
        if self.people.guardian_rows or self.importer.agent_links:
            return True
        # A bulk file without guardians still removes the contacts earlier files made.
        return (
            self.mode == BULK
            and self.importer.deactivate_missing
            and GuardianContact.objects.exclude(sourced_id="").exists()
        )

    def wants(self, row: Row) -> bool:
        key = self.cell(row, "sourcedId")
        return ROLE_KINDS.get(self.role_of(row, key)[0]) == GUARDIAN

    def parse(self, row: Row, key: str) -> GuardianRecord:
        role, _ = self.role_of(row, key)
        students = list(dict.fromkeys([*parse_list(self.cell(row, "agentSourcedIds")), *self.importer.agent_links.pop(key, [])]))  # fmt: skip
        if self.status(row) == "tobedeleted":
            return GuardianRecord(name="", relationship=role, email="", phone="", students=[], deleted=True)
        given = _checked_text(self, row, "givenName", PERSON_NAME_MAX)
        family = _checked_text(self, row, "familyName", PERSON_NAME_MAX)
        name = f"{given} {family}".strip()
        if not name:
            raise RowError(self.cols.header("givenName"), "", say(Msg.GUARDIAN_NO_NAME))
        phone = self.cell(row, "phone") or self.cell(row, "sms")
        if len(phone) > GUARDIAN_PHONE_MAX:
            self.warn(
                row.line, self.cols.header("phone"), phone, say(Msg.GUARDIAN_PHONE_LONG, max=GUARDIAN_PHONE_MAX), key
            )
            phone = ""
        email = self.email(row, key)
        return GuardianRecord(name=name, relationship=role, email=email or "", phone=phone, students=students)

    def plan(self, items: list[Item]) -> list[Change]:
        live = [item for item in items if not item.record.deleted]
        wanted = {student for item in live for student in item.record.students}
        people = dict(Person.objects.filter(sourced_id__in=wanted).values_list("sourced_id", "pk"))
        # Found through the person_id index (GuardianContact.sourced_id has none); contacts of
        # students no longer linked are removed by finish() in bulk mode.
        existing = {
            (row[1], row[2]): row
            for row in GuardianContact.objects.filter(
                person_id__in=list(people.values()), sourced_id__in=[i.key for i in live]
            ).values_list("pk", "sourced_id", "person_id", "name", "relationship", "email", "phone")
        }
        deleted = [item.key for item in items if item.record.deleted]
        contacts_of_deleted: dict[str, list[int]] = {}
        if deleted:
            for pk, sourced_id in GuardianContact.objects.filter(sourced_id__in=deleted).values_list(
                "pk", "sourced_id"
            ):
                contacts_of_deleted.setdefault(sourced_id, []).append(pk)
        people_keys = self.people.keys
        changes: list[Change] = []
        for item in items:
            record: GuardianRecord = item.record
            if record.deleted:
                removed = contacts_of_deleted.get(item.key, [])
                changes += [Change(REMOVED, item, data=pk) for pk in removed]
                if not removed:
                    changes.append(Change(UNCHANGED, item))
                continue
            self.planned.add(item.key)
            desired: list[tuple[str, Any]] = []
            for student in record.students:
                person_id = people.get(student)
                if (
                    person_id is None
                    and not self.importer.applying
                    and people_keys is not None
                    and student in people_keys
                ):
                    person_id = ("new", student)  # created by this import
                if person_id is None:
                    self.warn(item.line, self.cols.header("agentSourcedIds"), student, "is not a person in users.csv or in DeviceLedger; no contact made for it", item.key)  # fmt: skip
                    continue
                desired.append((student, person_id))
                self.desired_pairs.add(f"{item.key}\x1f{student}")
            if not desired:
                self.warn(item.line, self.cols.header("agentSourcedIds"), "", "links this guardian to no student; skipped", item.key)  # fmt: skip
                changes.append(Change(SKIPPED, item))
                continue
            values = (record.name, record.relationship, record.email, record.phone)
            for _, person_id in desired:
                row = existing.get((item.key, person_id))
                if row is None:
                    changes.append(Change(CREATED, item, data=(person_id, values)))
                elif tuple(row[3:]) != values:
                    changes.append(Change(UPDATED, item, data=(row[0], values)))
                else:
                    changes.append(Change(UNCHANGED, item))
        return changes

    def write(self, changes: list[Change]) -> None:
        def fields(values: tuple[str, str, str, str]) -> dict[str, str]:
            return dict(zip(("name", "relationship", "email", "phone"), values, strict=True))

        people_bulk.guardians_write(
            actor=self.importer.actor,
            run_id=self.importer.run.pk,
            creates=[
                {**fields(c.data[1]), "person_id": c.data[0], "sourced_id": c.item.key}
                for c in changes
                if c.outcome == CREATED and c.item is not None and isinstance(c.data[0], int)
            ],
            updates=[{"pk": c.data[0], **fields(c.data[1])} for c in changes if c.outcome == UPDATED],
            remove_ids=[c.data for c in changes if c.outcome == REMOVED],
        )

    def finish(self) -> Iterator[Change]:
        for guardian, students in list(self.importer.agent_links.items())[:1000]:
            self.warn(None, "agentSourcedIds", guardian, f"is named by {len(students)} student(s) (e.g. '{students[0]}') but is not a guardian, parent or relative in users.csv")  # fmt: skip
        if self.mode != BULK or not self.importer.deactivate_missing or self.keys is None:
            return
        if not self.people.guardian_rows:
            return  # a file without guardian rows says nothing about guardians: every contact stays
        # Stale links are removed only for students the file lists (not as tobedeleted) whose
        # agents no longer include the guardian: a student missing from the file keeps theirs.
        keys, planned, desired = self.keys, self.planned, self.desired_pairs
        students, deleted = self.people.keys, self.people.deleted_keys
        assert students is not None
        # Students still naming a guardian that has no row in this file: kept.
        named = {
            f"{guardian}\x1f{student}" for guardian, links in self.importer.agent_links.items() for student in links
        }
        last = 0
        while True:
            page = list(
                GuardianContact.objects.filter(~Q(sourced_id=""), pk__gt=last)
                .order_by("pk")
                .values_list("pk", "sourced_id", "person__sourced_id")[:5000]
            )
            if not page:
                return
            for pk, sourced_id, student in page:
                if not student or student not in students or student in deleted:
                    continue  # not in the file (or being deactivated): the student keeps their guardians
                if sourced_id in keys and sourced_id not in planned:
                    continue  # the guardian's row was rejected or skipped: nothing known about its links
                pair = f"{sourced_id}\x1f{student}"
                if pair not in desired and pair not in named:
                    yield Change(REMOVED, data=pk)  # the guardian is no longer linked to this student
            last = page[-1][0]
