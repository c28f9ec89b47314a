"""OneRoster users.csv → guardian contacts, row by row (the set-based PostgreSQL form is
``imports.oneroster_sql_guardians``): the guardian step of ``imports.oneroster.OneRosterImporter``
(moved from ``imports.oneroster_users``; ``imports.oneroster`` re-exports its names). The
rules are ``people.rules`` (``guardian_link_stale``), the writes ``people.bulk.guardians_write``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db.models import Q

from imports.messages import Msg, say
from imports.oneroster import (
    BULK,
    GUARDIAN_PHONE_MAX,
    OneRosterImporter,
    _checked_text,
)
from imports.oneroster_users import PeopleStep, UserStep
from imports.pipeline import (
    CREATED,
    REMOVED,
    SKIPPED,
    UNCHANGED,
    UPDATED,
    Change,
    Item,
    RowError,
)
from imports.reading import Row
from imports.values import parse_list
from people import bulk as people_bulk
from people.models import GuardianContact, Person
from people.rules import (
    GUARDIAN,
    PERSON_NAME_MAX,
    ROLE_KINDS,
    guardian_link_stale,
)

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
        # Keyed by (guardian, person id); a person this import creates ("new", key) has none yet.
        existing: dict[tuple[str, int | tuple[str, str]], tuple[Any, ...]] = {
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
                person_id: int | tuple[str, str] | None = people.get(student)
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
        for guardian, linked in list(self.importer.agent_links.items())[:1000]:
            self.warn(None, "agentSourcedIds", guardian, f"is named by {len(linked)} student(s) (e.g. '{linked[0]}') but is not a guardian, parent or relative in users.csv")  # fmt: skip
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
                pair = f"{sourced_id}\x1f{student}"
                if guardian_link_stale(
                    from_roster=bool(sourced_id and student), student_listed=student in students,
                    student_leaving=student in deleted,
                    guardian_unplanned=sourced_id in keys and sourced_id not in planned,
                    linked=pair in desired or pair in named,
                ):  # fmt: skip
                    yield Change(REMOVED, data=pk)
            last = page[-1][0]
