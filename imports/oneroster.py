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

import zipfile
from collections.abc import Iterable
from pathlib import Path, PurePosixPath
from typing import IO, Any, ClassVar

from imports.messages import Msg, say
from imports.models import ImportRun
from imports.pipeline import (
    Change,
    FileError,
    Importer,
    RowError,
    Step,
)
from imports.reading import FileFormatError, Row, Table, open_table
from imports.values import parse_datetime, parse_list
from people.models import Person
from people.rules import (
    SCHOOL_IN_USE,
    deactivation_needs_confirmation,
    grade_of,
    school_in_use,
    text_problem,
)
from sites.models import Site

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
        parts.append(f"{guard['sites']} school(s)" + (f", {in_use} of them {SCHOOL_IN_USE}" if in_use else ""))  # fmt: skip
    return (
        "Warning: this bulk file does not list " + " and ".join(parts) + "; committing makes them inactive. "
        "Check that the export is complete; the commit needs an explicit confirmation for this import."
    )


# --------------------------------------------------------------------------- School Data Sync

#: Files of Microsoft School Data Sync's own CSV layouts (lower case), which are not OneRoster:
#: SDS v1 ("SDS format" and its UK variant) and the Clever format SDS also reads. SDS v2.1 is
#: OneRoster's layout (orgs.csv, users.csv, roles.csv…) without a manifest.csv, and is read.
SDS_V1_FILES = frozenset(
    {"school.csv", "student.csv", "teacher.csv", "section.csv", "studentenrollment.csv", "teacherroster.csv"}
)
SDS_CLEVER_FILES = frozenset({"schools.csv", "students.csv", "teachers.csv", "sections.csv"})
SDS_V21_NOTE = (
    "Read as Microsoft School Data Sync v2.1 CSV (OneRoster's files without a manifest.csv; each user's role and "
    "school from roles.csv); every file as bulk."
)


def sds_v1_refusal(names: Iterable[str]) -> str | None:
    """The file error for an upload in one of School Data Sync's own layouts (SDS v1 or Clever
    format), named as such; None for anything else. Their tables are not OneRoster's (one file
    per kind of person, "SIS ID" columns), so they are refused whole, with what to do, rather
    than row by row as malformed OneRoster."""
    lower = {PurePosixPath(name).name.lower() for name in names}
    if len(lower & SDS_V1_FILES) >= 2 or lower & {"student.csv", "teacher.csv"}:
        layout, files = "SDS v1 CSV", "School.csv, Student.csv, Teacher.csv…"
    elif len(lower & SDS_CLEVER_FILES) >= 2:
        layout, files = "Clever-format CSV for SDS", "schools.csv, students.csv, teachers.csv…"
    else:
        return None
    return (
        f"is a Microsoft School Data Sync export in its {layout} layout ({files}), not OneRoster: DeviceLedger reads "
        "OneRoster 1.1/1.2 and SDS v2.1 CSV (orgs.csv, users.csv, roles.csv). Export OneRoster CSV from your student "
        "information system, or the SDS v2.1 files, and import those"
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
            children = [child for child in sorted(path.iterdir()) if child.is_file()]
            for child in children:
                if child.name.lower() in KNOWN_FILES:
                    self.members[child.name.lower()] = child
            if not self.members and (refusal := sds_v1_refusal(child.name for child in children)):
                raise FileError(display_name, refusal)
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
        if refusal := sds_v1_refusal([name]):
            raise FileError(display_name, refusal)
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
            if refusal := sds_v1_refusal(info.filename for info in infos if not info.is_dir()):
                raise FileError(self.display_name, refusal)
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
    rows_required = False  # a zip's tables may rightly be empty (a delta that changes nothing)

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
            if self.files.has("roles.csv"):  # roles.csv came with OneRoster 1.2, which has a manifest
                self.version = "SDS v2.1"
                self.report.note(SDS_V21_NOTE)
            else:
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
        label = "Microsoft School Data Sync v2.1" if self.version == "SDS v2.1" else f"OneRoster {self.version}"
        self.report.note(f"{label}: {described}.")

    def steps(self) -> list[Step]:
        from imports.oneroster_guardians import GuardianStep
        from imports.oneroster_orgs import ClassStep, EnrollmentStep, OrgStep, RoleStep
        from imports.oneroster_sql import SetBasedUsersStep, set_based_enabled
        from imports.oneroster_users import PeopleStep

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
        needed when any of them is in use (``people.rules.school_in_use``: active people or
        devices, counted here)."""
        from django.db.models import Count

        from inventory.models import Device

        guard = self.guard()
        people: dict[int, int] = {}
        devices: dict[int, int] = {}
        if site_ids:
            people = dict(
                Person.objects.filter(status=Person.Status.ACTIVE, home_site_id__in=site_ids)
                .values_list("home_site_id").annotate(n=Count("id")).order_by()
            )  # fmt: skip
            for field in ("current_site_id", "owner_site_id"):
                found = Device.objects.filter(**{f"{field}__in": site_ids}).values_list(field).annotate(n=Count("id"))
                for site_id, n in found.order_by():
                    devices[site_id] = devices.get(site_id, 0) + n
        in_use = [pk for pk in site_ids if school_in_use(active_people=people.get(pk, 0), devices=devices.get(pk, 0))]
        guard["sites"], guard["sites_in_use"] = len(site_ids), len(in_use)
        if in_use:
            guard["needs_confirmation"] = 1
            self.report.note(deactivation_warning(guard))
            if self.applying and not self.deactivation_confirmed:
                raise FileError(
                    self.run.file_name,
                    f"this bulk file would now make {len(in_use)} school(s) {SCHOOL_IN_USE} inactive "
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


# --------------------------------------------------------------------------- the steps' modules

#: Names that moved to the steps' modules, still importable from here (lazily: those modules
#: import this one).
_MOVED = {
    "ClassStep": "imports.oneroster_orgs",
    "EnrollmentStep": "imports.oneroster_orgs",
    "OrgRecord": "imports.oneroster_orgs",
    "OrgStep": "imports.oneroster_orgs",
    "RoleStep": "imports.oneroster_orgs",
    "code_from_name": "imports.oneroster_orgs",
    "looks_like_state_id": "imports.oneroster_orgs",
    "short_code": "imports.oneroster_orgs",
    "GuardianRecord": "imports.oneroster_guardians",
    "GuardianStep": "imports.oneroster_guardians",
    "PERSON_FIELDS": "imports.oneroster_users",
    "PeopleStep": "imports.oneroster_users",
    "PersonRecord": "imports.oneroster_users",
    "USER_COLUMNS": "imports.oneroster_users",
    "UserStep": "imports.oneroster_users",
}


def __getattr__(name: str) -> Any:
    module = _MOVED.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
