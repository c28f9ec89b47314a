"""OneRoster users.csv → people (students and staff), row by row (the set-based PostgreSQL form
is ``imports.oneroster_sql``; guardian contacts are ``imports.oneroster_guardians``). Steps of
``imports.oneroster.OneRosterImporter``; the rules are ``people.rules``, the writes ``people.bulk``."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from django.db import connection

from core.scoping import person_label_for
from custody.rules import leaver_still_holds
from custody.selectors import open_holdings_by_person
from imports.messages import Msg, say
from imports.oneroster import (
    ABSENT,
    BULK,
    DELTA,
    OneRosterImporter,
    RosterStep,
    _checked_text,
    grade_cell,
)
from imports.people_rows import number_owners_text, visibility_of
from imports.pipeline import (
    CREATED,
    DEACTIVATED,
    REACTIVATED,
    UNCHANGED,
    UPDATED,
    Change,
    Column,
    FileError,
    Item,
    KeyIndex,
    RowError,
    SkipRow,
    Step,
)
from imports.reading import Row, Table
from imports.values import parse_bool, parse_list
from people import bulk as people_bulk
from people.models import Person
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
    NoHomeSite,
    bulk_deactivates,
    email_is_valid,
    home_site,
    number_taken_by,
    number_taken_reason,
    person_role,
    role_key,
    roster_outcome,
    shared_number_reason,
    status_when_listed,
)
from sites.models import Site

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
        try:
            return home_site(
                candidates, site_for_org=importer.site_for_org, is_district_org=importer.is_district_org,
                district_office=importer.district_office_id,
            )  # fmt: skip
        except NoHomeSite as exc:
            if not exc.header:
                column = exc.column
            elif exc.column == "role":
                column = "roles.csv orgSourcedId"
            else:
                column = self.cols.header(exc.column)
            raise RowError(column, exc.value, exc.reason) from None

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
        self._warn_leavers_holding(changes, existing)
        return changes

    def _warn_leavers_holding(self, changes: list[Change], existing: dict[str, tuple[Any, ...]]) -> None:
        """A warning per person this file makes inactive, or moves to another school, who still
        holds devices (``custody.rules.leaver_still_holds``): the devices are to be collected."""
        site_at = 3 + PERSON_FIELDS.index("home_site_id")
        leaving: dict[int, tuple[Item, str]] = {}
        for c in changes:
            if c.item is None:
                continue
            if c.outcome == DEACTIVATED:
                leaving[c.data] = (c.item, "made inactive")
            elif c.outcome in (UPDATED, REACTIVATED):
                before = existing[c.item.key][site_at]
                after = c.data[1][site_at - 3]
                if before != after:
                    site = Site.objects.filter(pk=after).values_list("name", flat=True).first()
                    leaving[c.data[0]] = (c.item, f"moves to {site or 'another school'}")
        if not leaving:
            return
        for pid, tags in open_holdings_by_person(list(leaving)).items():
            item, what = leaving[pid]
            self.warn(
                item.line, self.cols.header("sourcedId"), item.key, leaver_still_holds(what=what, tags=tags), item.key
            )

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
        for pid, tags in open_holdings_by_person(missing).items():
            who = Person.objects.get(pk=pid)
            reason = leaver_still_holds(what="not in the file, made inactive", tags=tags)
            self.warn(None, "", person_label_for(person=who, user=self.importer.actor), reason)
        for pk in missing:
            yield Change(DEACTIVATED, data=pk)


def _person_fields(values: tuple[Any, ...]) -> dict[str, Any]:
    """Model field values from a record's values (``None``: the field's blank default)."""
    return {
        field: ("" if value is None and field != "home_site_id" else value)
        for field, value in zip(PERSON_FIELDS, values, strict=True)
    }
