"""Writes to people and their guardian contacts (outside imports; the imports' bulk writes
will record the same entries through :func:`core.changelog.change_log_record_many` or
:func:`core.changelog.change_log_insert_sql`).

Each write records a change log entry (:mod:`core.changelog`) in its own transaction:
status changes and edits of a person, and guardian contacts added, changed or removed (listed
on the person's history). ``source=None`` means web when an actor is given, command otherwise.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from core.changelog import Action, change_log_record, changes, resolve_source, snapshot
from core.types import Actor
from people.models import GuardianContact, Person

#: Fields :func:`person_update` may change (``status`` has :func:`person_set_status`).
PERSON_FIELDS = (
    "role",
    "sourced_id",
    "student_number",
    "state_id",
    "given_name",
    "family_name",
    "preferred_name",
    "email",
    "grade",
    "graduation_year",
    "home_site",
    "homeroom",
    "fee_reduction_eligible",
)

GUARDIAN_FIELDS = ("sourced_id", "name", "relationship", "email", "phone", "preferred_language")


@transaction.atomic
def person_update(
    *, person: Person, actor: Actor | None, source: str | None = None, note: str = "", **fields: Any
) -> Person:
    """Change a person's fields (see :data:`PERSON_FIELDS`); logged with before → after of
    the fields that changed (the home site by name). Raises ``ValueError`` for a field not in
    :data:`PERSON_FIELDS`, ``ValidationError`` for an invalid value (nothing saved or logged)."""
    unknown = set(fields) - set(PERSON_FIELDS)
    if unknown:
        raise ValueError(f"person_update does not change {', '.join(sorted(unknown))}.")
    locked = Person.objects.select_for_update(of=("self",)).select_related("home_site").get(pk=person.pk)
    before, after = changes(instance=locked, new_values=fields)
    if not after and not before:
        return locked
    for name, value in fields.items():
        setattr(locked, name, value)
    locked.full_clean()
    locked.save()
    change_log_record(
        actor=actor, source=resolve_source(actor=actor, source=source), obj=locked, action=Action.CHANGED,
        before=before, after=after, site_id=locked.home_site_id, note=note,
    )  # fmt: skip
    return locked


@transaction.atomic
def person_set_status(
    *, person: Person, status: str, actor: Actor | None, source: str | None = None, note: str = ""
) -> Person:
    """Set a person's status (active, inactive, withdrawn, graduated, transferred); logged
    when it changed. Raises ``ValueError`` for an unknown status. Devices the person holds
    stay checked out (check them in separately)."""
    if status not in Person.Status.values:
        raise ValueError(f"Unknown status '{status}'.")
    locked = Person.objects.select_for_update().get(pk=person.pk)
    if locked.status == status:
        return locked
    before, after = {"status": locked.status}, {"status": status}
    locked.status = status
    locked.save(update_fields=["status", "updated_at"])
    change_log_record(
        actor=actor, source=resolve_source(actor=actor, source=source), obj=locked, action=Action.CHANGED,
        before=before, after=after, site_id=locked.home_site_id, note=note,
    )  # fmt: skip
    return locked


@transaction.atomic
def guardian_create(
    *, person: Person, name: str, actor: Actor | None, source: str | None = None, **fields: Any
) -> GuardianContact:
    """Add a guardian contact to ``person`` (fields of :data:`GUARDIAN_FIELDS`); logged on the
    person's history."""
    guardian = GuardianContact(person=person, name=name.strip(), **fields)
    guardian.full_clean()
    guardian.save()
    change_log_record(
        actor=actor, source=resolve_source(actor=actor, source=source), obj=guardian, action=Action.CREATED,
        before={}, after=snapshot(guardian, GUARDIAN_FIELDS), site_id=person.home_site_id, parent=person,
    )  # fmt: skip
    return guardian


@transaction.atomic
def guardian_update(
    *, guardian: GuardianContact, actor: Actor | None, source: str | None = None, **fields: Any
) -> GuardianContact:
    """Change a guardian contact (fields of :data:`GUARDIAN_FIELDS`); logged on the person's
    history when something changed. Raises ``ValueError`` for another field."""
    unknown = set(fields) - set(GUARDIAN_FIELDS)
    if unknown:
        raise ValueError(f"guardian_update does not change {', '.join(sorted(unknown))}.")
    locked = GuardianContact.objects.select_for_update(of=("self",)).select_related("person").get(pk=guardian.pk)
    before, after = changes(instance=locked, new_values=fields)
    for name, value in fields.items():
        setattr(locked, name, value)
    locked.full_clean()
    locked.save()
    change_log_record(
        actor=actor, source=resolve_source(actor=actor, source=source), obj=locked, action=Action.CHANGED,
        before=before, after=after, site_id=locked.person.home_site_id, parent=locked.person,
    )  # fmt: skip
    return locked


@transaction.atomic
def guardian_delete(*, guardian: GuardianContact, actor: Actor | None, source: str | None = None) -> None:
    """Remove a guardian contact; the entry on the person's history keeps what it held."""
    person = guardian.person
    change_log_record(
        actor=actor, source=resolve_source(actor=actor, source=source), obj=guardian, action=Action.DELETED,
        before=snapshot(guardian, GUARDIAN_FIELDS), after={}, site_id=person.home_site_id, parent=person,
    )  # fmt: skip
    guardian.delete()
