"""OneRoster orgs.csv, roles.csv, classes.csv and enrollments.csv: the district's name and school
sites, each user's role and site (1.2), homerooms. Steps of ``imports.oneroster.OneRosterImporter``."""

from __future__ import annotations

import sys
from collections.abc import Iterator

from imports.oneroster import (
    BULK,
    ORG_TYPES,
    OneRosterImporter,
    RosterStep,
    _checked_text,
)
from imports.pipeline import (
    CREATED,
    DEACTIVATED,
    REACTIVATED,
    SKIPPED,
    UNCHANGED,
    UPDATED,
    Change,
    Column,
    FileError,
    Item,
    RowError,
    SkipRow,
)
from imports.reading import Row
from imports.values import parse_bool, parse_identifier
from people.rules import (
    ROLE_KINDS,
    ROLE_LIST,
    role_key,
)
from sites import bulk as sites_bulk
from sites.models import District, Site

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
        fields: dict[str, str | bool] = {}
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
            sites_bulk.district_rename(actor=self.importer.actor, name=district[0].data, run_id=self.importer.run.pk)
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
