"""Bulk writes of people and guardian contacts, set-based: the importers' writes of people's
tables (issue #7: each app writes its own tables; ``imports`` reads, parses and plans, and
hands the rows — or, on the set-based PostgreSQL path, the names of its plan tables — here).

Two forms, each with the same effect:

* rows as dicts (the row-by-row paths, both databases): :func:`people_write`,
  :func:`guardians_write`;
* plan tables (the set-based OneRoster path, PostgreSQL): :func:`people_apply_plan`,
  :func:`people_deactivate_unlisted`, :func:`guardians_apply_plan`, :func:`guardians_remove`.
  A first load (as many new people as the table holds, at least
  ``core.bulk.REBUILD_AT_LEAST``) drops and rebuilds ``people_person``'s plain indexes and
  foreign keys around the insert (``core.bulk.bulk_load``).

People are never deleted here: a roster makes them inactive. Guardian contacts are removed.

**Change log** (``core.changelog``, issue #7 "an audit trail"): each function that changes
people knows which (ids) and their before/after, and takes the acting user and the import run;
the entries go where the comments marked "change-log hook" say, in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone

from core.bulk import Statements, bulk_load, insert_rows, insert_select, update_rows
from people.models import GuardianContact, Person
from people.rules import (
    ACTIVE,
    CREATED,
    DEACTIVATED,
    INACTIVE,
    REACTIVATED,
    UPDATED,
    bulk_deactivates_sql,
)

#: Guardian contact fields an import manages (besides person and sourcedId).
GUARDIAN_FIELDS = ("name", "relationship", "email", "phone")


# --------------------------------------------------------------------------- rows (both databases)


@transaction.atomic
def people_write(
    *,
    actor: Any,
    run_id: int | None,
    creates: Sequence[dict[str, Any]],
    updates: Sequence[dict[str, Any]],
    update_fields: Sequence[str],
    deactivate_ids: Sequence[int],
) -> None:
    """Insert new people (``{attname: value}``; other fields their defaults), update changed ones
    (``{"pk": …, attname: value}`` with the fields ``update_fields``; ``updated_at`` is set), and
    make the active ones among ``deactivate_ids`` inactive. ``actor`` (a user, or ``None`` for
    the system) and ``run_id`` (the import run) are what the change log records.

    Change-log hook: one entry per row of ``updates`` (before: the planner's stored values, which
    the caller has — ``imports.oneroster_users.PeopleStep.plan`` / ``imports.people_rows.PeopleStep``
    — after: the row) and per id of ``deactivate_ids`` (status active → inactive), here, after
    the writes and inside this transaction. New people get a "created" entry after the insert
    (their ids by sourcedId, or by selecting ``id > max(id)`` before it)."""
    if creates:
        insert_rows(Person, creates)
    if updates:
        update_rows(Person, updates, [*update_fields, "updated_at"])
    if deactivate_ids:
        Person.objects.filter(pk__in=deactivate_ids, status=ACTIVE).update(status=INACTIVE, updated_at=timezone.now())


@transaction.atomic
def guardians_write(
    *,
    actor: Any,
    run_id: int | None,
    creates: Sequence[dict[str, Any]],
    updates: Sequence[dict[str, Any]],
    remove_ids: Sequence[int],
) -> None:
    """Insert (``{attname: value}``), update (``{"pk": …, "name", "relationship", "email",
    "phone"}``) and remove guardian contacts. Change-log hook: as :func:`people_write`."""
    if creates:
        insert_rows(GuardianContact, creates)
    if updates:
        update_rows(GuardianContact, updates, list(GUARDIAN_FIELDS))
    if remove_ids:
        GuardianContact.objects.filter(pk__in=remove_ids).delete()


# --------------------------------------------------------------------------- plan tables (PostgreSQL)

#: Columns :func:`people_apply_plan` reads from a people plan table (one row per listed person):
#: ``line`` (order of inserts), ``sid``, ``pk`` (NULL for a new person), ``outcome`` (a
#: ``people.rules.roster_outcome``), and the values ``role``, ``given``, ``family``, ``pref``,
#: ``email``, ``ident`` (student number), ``grade``, ``site_id``, ``homeroom``, ``status``.
PEOPLE_PLAN_COLUMNS = (
    "line", "sid", "pk", "outcome", "role", "given", "family", "pref", "email", "ident", "grade", "site_id",
    "homeroom", "status",
)  # fmt: skip


def people_apply_plan(*, sql: Statements, plan: str, created: int, now: Any, actor: Any, run_id: int | None) -> None:
    """Apply a people plan table (:data:`PEOPLE_PLAN_COLUMNS`): insert the ``created`` rows
    (``created``: how many, for :func:`core.bulk.bulk_load`'s first-load decision), update the
    ``updated`` and ``reactivated`` ones, and make the ``deactivated`` ones inactive (when still
    active). Three statements; in the caller's transaction.

    Change-log hook (set-based): before the two UPDATEs, one ``INSERT INTO <change log> SELECT …
    FROM {plan} x JOIN people_person p ON p.id = x.pk WHERE x.outcome IN ('updated',
    'reactivated', 'deactivated')`` — ``p`` is the before, ``x`` the after — and after the
    insert one for the created rows (``JOIN people_person p ON p.sourced_id = x.sid``)."""
    fields = {
        "role": "x.role", "sourced_id": "x.sid", "student_number": "x.ident", "given_name": "x.given",
        "family_name": "x.family", "preferred_name": "x.pref", "email": "x.email", "grade": "x.grade",
        "home_site_id": "x.site_id", "homeroom": "x.homeroom", "status": f"'{ACTIVE}'",
    }  # fmt: skip
    with bulk_load(Person, rows=created, sql=sql):
        insert_select(Person, fields, f"FROM {plan} x WHERE x.outcome = '{CREATED}' ORDER BY x.line", now, sql)
    table = Person._meta.db_table
    sql.run(
        f"""
        UPDATE {table} p SET role = x.role, given_name = x.given, family_name = x.family,
          preferred_name = x.pref, email = x.email, student_number = x.ident, grade = x.grade,
          home_site_id = x.site_id, homeroom = x.homeroom, status = x.status, updated_at = %(now)s
        FROM {plan} x WHERE p.id = x.pk AND x.outcome IN ('{UPDATED}', '{REACTIVATED}')
        """,
        {"now": now},
    )
    sql.run(
        f"UPDATE {table} p SET status = '{INACTIVE}', updated_at = %(now)s FROM {plan} x "
        f"WHERE p.id = x.pk AND x.outcome = '{DEACTIVATED}' AND p.status = '{ACTIVE}'",
        {"now": now},
    )


def people_unlisted_sql(listed: str) -> str:
    """WHERE clause (over people ``p``) of those a bulk roster makes inactive
    (``people.rules.bulk_deactivates``); ``listed``: a boolean SQL expression over ``p``, e.g.
    ``EXISTS (SELECT 1 FROM <staged rows> r WHERE r.sid = p.sourced_id)``."""
    return bulk_deactivates_sql(status="p.status", sourced_id="p.sourced_id", listed=listed)


def people_deactivate_unlisted(*, sql: Statements, listed: str, now: Any, actor: Any, run_id: int | None) -> int:
    """Make inactive the people a bulk roster does not list (:func:`people_unlisted_sql`).
    Returns how many. Change-log hook (set-based): the same WHERE as an ``INSERT INTO <change
    log> SELECT … FROM people_person p WHERE …`` (active → inactive) just before the UPDATE."""
    return sql.run(
        f"UPDATE {Person._meta.db_table} p SET status = '{INACTIVE}', updated_at = %(now)s "
        f"WHERE {people_unlisted_sql(listed)}",
        {"now": now},
    )


def guardians_apply_plan(*, sql: Statements, plan: str, live: str, now: Any, actor: Any, run_id: int | None) -> None:
    """Apply a guardian plan: ``live`` holds one row per guardian (``sid``, ``deleted`` and the
    :data:`GUARDIAN_FIELDS`), ``plan`` one row per (guardian, student) link (``sid``, ``line``,
    ``pos``, ``person_id``, ``contact_id``, ``desired``, ``outcome``). Removes the contacts of
    deleted guardians, inserts the desired new links, updates the changed ones."""
    contact = GuardianContact._meta.db_table
    sql.run(f"DELETE FROM {contact} c USING {live} g WHERE g.deleted AND c.sourced_id = g.sid")
    g_fields = {"person_id": "x.person_id", "sourced_id": "x.sid", "name": "g.name",
                "relationship": "g.relationship", "email": "g.email", "phone": "g.phone"}  # fmt: skip
    insert_select(
        GuardianContact,
        g_fields,
        f"FROM {plan} x JOIN {live} g ON g.sid = x.sid "
        f"WHERE x.desired AND x.outcome = '{CREATED}' AND x.person_id IS NOT NULL ORDER BY x.line, x.pos",
        now,
        sql,
    )
    sql.run(
        f"""
        UPDATE {contact} c SET name = g.name, relationship = g.relationship, email = g.email, phone = g.phone
        FROM {plan} x JOIN {live} g ON g.sid = x.sid
        WHERE c.id = x.contact_id AND x.desired AND x.outcome = '{UPDATED}'
        """
    )


def guardians_remove(*, sql: Statements, ids: str, params: dict[str, Any], actor: Any, run_id: int | None) -> int:
    """Remove the guardian contacts whose ids the query ``ids`` (``SELECT c.id …``, with
    ``params``) gives; returns how many."""
    return sql.run(f"DELETE FROM {GuardianContact._meta.db_table} WHERE id IN ({ids})", params)
