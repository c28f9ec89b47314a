"""Shared by the people importers of spreadsheets (CSV/XLSX people, Snipe-IT users): rows → people.

A step turns each row into a :class:`PersonRecord` whose ``values`` hold the person fields
the row gives (``{"given_name": "Ana", "home_site_id": 3, …}``; a field the row does not
give is left as it is). Matching, in order:

1. ``sourced_id`` when the row has one;
2. else (or when no person has that sourcedId) the student number, then the email address
   (ignoring case) — the order is the step's :attr:`PeopleStep.match_order` — among people
   made by hand, i.e. without a sourcedId of their own, when the row has one;
3. a step may end with ``"name"``: the same given name, family name and site, for rows
   without an email and a number (Snipe-IT users without either).

Two people matching is a row error (never a guess). A new person needs a given name, a
family name and a site; the role defaults to the step's :attr:`PeopleStep.default_role`.
People are never deleted or deactivated by these imports (``status`` changes only when the
row gives one). Writes go through ``people.bulk.people_write`` (set-based).
Only district admins import people (the importers check it in ``prepare``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from django.db.models.functions import Lower

from core.scoping import person_visibility
from core.types import Actor
from custody.rules import leaver_still_holds
from custody.selectors import open_holdings_by_person
from imports.device_rows import SecondaryKeyStep
from imports.pipeline import CREATED, REJECTED, UNCHANGED, UPDATED, Change, Item
from people import bulk as people_bulk
from people.models import Person
from people.rules import email_is_valid, may_receive_devices, number_owner_text, number_taken_by, number_taken_reason
from sites.models import Site

#: Person fields these imports manage, in the order written.
PERSON_FIELDS = (
    "sourced_id",
    "role",
    "student_number",
    "state_id",
    "given_name",
    "family_name",
    "preferred_name",
    "email",
    "grade",
    "graduation_year",
    "home_site_id",
    "homeroom",
    "status",
)
#: Text fields whose empty value is ``""`` (the others are ``None`` when empty).
_TEXT_FIELDS = frozenset(PERSON_FIELDS) - {"graduation_year", "home_site_id"}
#: Longest text per field (the model's max_length).
MAX_LENGTHS = {
    "sourced_id": 255,
    "student_number": 64,
    "state_id": 64,
    "given_name": 100,
    "family_name": 100,
    "preferred_name": 100,
    "email": 254,
    "homeroom": 100,
}

#: Kept for the importers that import it from here: the rule is ``people.rules.email_is_valid``.
valid_email = email_is_valid


@dataclass(slots=True)
class PersonRecord:
    """One parsed person row: the fields it gives (attname → value)."""

    values: dict[str, Any] = field(default_factory=dict)


def visibility_of(actor: Actor | None) -> Callable[[int | None], bool]:
    """May ``actor`` see a person of that home site (``None``: the system, which sees everyone)."""
    return (lambda site_id: True) if actor is None else person_visibility(actor)


def number_owners_text(
    owners: list[tuple[int, str, str, str, int | None]], visible: Callable[[int | None], bool]
) -> str:
    """The other people holding a number, for :data:`people.rules.NUMBER_TAKEN`: ``owners`` are (pk, sourcedId,
    given name, family name, home site id), any order. The first (lowest id) is named with its
    sourcedId and school — only when the importing user may see that school (FERPA), else it is
    :data:`~core.scoping.HIDDEN_PERSON` (``people.rules.number_owner_text``) — and the others are counted."""
    pk, sourced_id, given, family, site_id = min(owners)
    visible_ = visible(site_id)
    site = None
    if visible_ and site_id:
        site = Site.objects.filter(pk=site_id).values_list("name", flat=True).first()
    return number_owner_text(
        given=given, family=family, sourced_id=sourced_id, site_name=site, visible=visible_, others=len(owners) - 1
    )


def _name_key(values: dict[str, Any]) -> str:
    """given|family|site, lower case: the last resort of matching (people without email or number)."""
    given, family = (values.get("given_name") or "").strip().lower(), (values.get("family_name") or "").strip().lower()
    return f"{given}|{family}|{values.get('home_site_id') or ''}"


class PeopleStep(SecondaryKeyStep):
    """A step whose rows are people. Subclasses implement ``row_key`` and ``parse_record``
    (returning a :class:`PersonRecord`) and name their columns in :attr:`column_for`
    (``sourced_id``, ``student_number``, ``email``, ``given_name``, ``family_name``, ``site``)."""

    entity = "people"
    batch_size = 1000
    default_role: ClassVar[str] = Person.Role.STUDENT
    column_for: ClassVar[dict[str, str]] = {}
    #: After the sourcedId, the keys tried in order (``"name"``: same given and family name at
    #: the same site, only for rows without an email or a number).
    match_order: ClassVar[tuple[str, ...]] = ("student_number", "email")
    #: Roles a student-number match may have (``None``: any): e.g. employee numbers match staff only.
    number_roles: ClassVar[tuple[str, ...] | None] = None

    def header_of(self, logical: str) -> str:
        name = self.column_for.get(logical, logical)
        return self.cols.header(name) if self.cols.has(name) else name

    def plan(self, items: list[Item]) -> list[Change]:
        records: list[PersonRecord] = [item.record for item in items]
        sids = {r.values["sourced_id"] for r in records if r.values.get("sourced_id")}
        numbers = {r.values["student_number"] for r in records if r.values.get("student_number")}
        emails = {r.values["email"].lower() for r in records if r.values.get("email")}
        found: dict[int, dict[str, Any]] = {}
        columns = ("pk", *PERSON_FIELDS)
        if sids:
            found.update((p["pk"], p) for p in Person.objects.filter(sourced_id__in=sids).values(*columns))
        if numbers:
            found.update((p["pk"], p) for p in Person.objects.filter(student_number__in=numbers).values(*columns))
        if emails:
            found.update(
                (p["pk"], p)
                for p in Person.objects.annotate(email_lower=Lower("email"))
                .filter(email_lower__in=emails)
                .values(*columns)
            )
        if "name" in self.match_order:
            families = {
                r.values["family_name"]
                for r in records
                if r.values.get("family_name") and not r.values.get("email") and not r.values.get("student_number")
            }
            if families:
                qs = Person.objects.filter(family_name__in=families)
                if self.number_roles is not None:
                    qs = qs.filter(role__in=self.number_roles)
                found.update((p["pk"], p) for p in qs.values(*columns))
        by_sid: dict[str, dict[str, Any]] = {}
        by_number: dict[str, list[dict[str, Any]]] = {}
        by_email: dict[str, list[dict[str, Any]]] = {}
        by_name: dict[str, list[dict[str, Any]]] = {}
        for person in sorted(found.values(), key=lambda p: p["pk"]):
            by_name.setdefault(_name_key(person), []).append(person)
            if person["sourced_id"]:
                by_sid[person["sourced_id"]] = person
            if person["student_number"]:
                by_number.setdefault(person["student_number"], []).append(person)
            if person["email"]:
                by_email.setdefault(person["email"].lower(), []).append(person)
        changes: list[Change] = []
        for item in items:
            change = self._plan_one(item, by_sid, by_number, by_email, by_name)
            self._number_taken(change, by_number)
            changes.append(change)
        self._warn_leavers_holding(changes, found)
        return changes

    def _warn_leavers_holding(self, changes: list[Change], found: dict[int, dict[str, Any]]) -> None:
        """A warning per person a row makes leave (a status that may not receive devices, from
        one that may; or another school) while they hold devices
        (``custody.rules.leaver_still_holds``: "withdrawn; still holds CB-001234, CHG-0042")."""
        leaving: dict[int, tuple[Item, str]] = {}
        for c in changes:
            if c.outcome != UPDATED or c.item is None:
                continue
            before, after = found[c.data["pk"]], c.data
            if may_receive_devices(before["status"]) and not may_receive_devices(after["status"]):
                leaving[before["pk"]] = (c.item, Person.Status(after["status"]).label.lower())
            elif after["home_site_id"] != before["home_site_id"]:
                site = Site.objects.filter(pk=after["home_site_id"]).values_list("name", flat=True).first()
                leaving[before["pk"]] = (c.item, f"moves to {site or 'another school'}")
        if not leaving:
            return
        for pid, tags in open_holdings_by_person(list(leaving)).items():
            item, what = leaving[pid]
            column = self.header_of("status") if what[:6] != "moves " else self.header_of("site")
            self.warn(item.line, column, item.key, leaver_still_holds(what=what, tags=tags), item.key)

    def _number_taken(self, change: Change, by_number: dict[str, list[dict[str, Any]]]) -> None:
        """Warn when the row's number already belongs to another active person (a scan of it
        could no longer tell them apart); the row is imported all the same."""
        if change.outcome == REJECTED or change.item is None:
            return
        number = change.item.record.values.get("student_number")
        if not number:
            return
        pk = change.data.get("pk") if isinstance(change.data, dict) else None  # None: a new person
        in_file = self.keys if self.key_label == "sourced_id" else None
        owners = [
            (p["pk"], p["sourced_id"], p["given_name"], p["family_name"], p["home_site_id"])
            for p in by_number.get(number, [])
            if p["pk"] != pk
            and number_taken_by(
                status=p["status"],
                sourced_id=p["sourced_id"],
                listed=in_file is not None and p["sourced_id"] in in_file,
                everyone_listed=False,
            )
        ]
        if owners:
            who = number_owners_text(owners, visibility_of(self.importer.actor))
            self.warn(change.item.line, self.header_of("student_number"), number, number_taken_reason(who), change.item.key)  # fmt: skip

    def _plan_one(
        self,
        item: Item,
        by_sid: dict[str, dict[str, Any]],
        by_number: dict[str, list[dict[str, Any]]],
        by_email: dict[str, list[dict[str, Any]]],
        by_name: dict[str, list[dict[str, Any]]],
    ) -> Change:
        values: dict[str, Any] = item.record.values
        sid = values.get("sourced_id") or ""
        person = by_sid.get(sid) if sid else None
        if person is None:
            for name in self.match_order:
                wanted: str
                if name == "name":
                    if values.get("email") or values.get("student_number") or not values.get("family_name"):
                        continue
                    wanted = f"{values.get('given_name', '')} {values['family_name']}"
                    candidates = by_name.get(_name_key(values), [])
                else:
                    wanted = values.get(name) or ""
                    if not wanted:
                        continue
                    index = by_email if name == "email" else by_number
                    candidates = index.get(wanted.lower() if name == "email" else wanted, [])
                if name == "student_number" and self.number_roles is not None:
                    candidates = [p for p in candidates if p["role"] in self.number_roles]
                if sid:
                    candidates = [p for p in candidates if not p["sourced_id"]]
                if len(candidates) > 1 and values.get("role"):
                    candidates = [p for p in candidates if p["role"] == values["role"]] or candidates
                if len(candidates) > 1:
                    shown = ", ".join(f"{p['given_name']} {p['family_name']}" for p in candidates[:5])
                    return self.reject(item, self.header_of("family_name" if name == "name" else name), wanted, f"matches {len(candidates)} people ({shown}); give a sourcedId to tell them apart")  # fmt: skip
                if candidates:
                    person = candidates[0]
                    break
        if person is None:
            return self._plan_new(item, values)
        merged = {name: person[name] for name in PERSON_FIELDS}
        for name, value in values.items():
            merged[name] = value
        if all(merged[name] == person[name] for name in PERSON_FIELDS):
            return Change(UNCHANGED, item, data={"pk": person["pk"]})
        return Change(UPDATED, item, data={"pk": person["pk"], **merged})

    def _plan_new(self, item: Item, values: dict[str, Any]) -> Change:
        for name, what in (
            ("given_name", "a given name"),
            ("family_name", "a family name"),
            ("home_site_id", "a site"),
        ):
            if values.get(name) in (None, ""):
                logical = "site" if name == "home_site_id" else name
                return self.reject(item, self.header_of(logical), "", f"is empty; a new person needs {what}")
        row = {name: ("" if name in _TEXT_FIELDS else None) for name in PERSON_FIELDS}
        row.update(role=self.default_role, status=Person.Status.ACTIVE)
        row.update({name: value for name, value in values.items() if value is not None})
        return Change(CREATED, item, data=row)

    def write(self, changes: list[Change]) -> None:
        people_bulk.people_write(
            actor=self.importer.actor,
            run_id=self.importer.run.pk,
            creates=[c.data for c in changes if c.outcome == CREATED],
            updates=[c.data for c in changes if c.outcome == UPDATED],
            update_fields=list(PERSON_FIELDS),
            deactivate_ids=[],
        )
