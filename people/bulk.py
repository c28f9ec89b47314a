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

**Change log** (``core.changelog``, issue #7 "an audit trail"): every function here writes one
entry per person or guardian contact it creates, changes or removes, in the same transaction,
with source ``import``, the acting user and the import run: a person *created* (their logged
fields, :data:`PERSON_LOGGED_FIELDS`, empty ones left out), *changed* (before → after of the
changed fields only: choice codes, the home site by name; reactivated and deactivated people
are changes of ``status``); a guardian contact *created* / *changed* / *deleted* (shown on its
person's history too). The row forms build the entries in Python
(:func:`core.changelog.change_log_write_many`, after reading the before); the plan-table forms
write them with one ``INSERT … SELECT`` each (:func:`core.changelog.change_log_insert_select`)
just before the statement they describe (after it for created rows). Both forms give the same
entries (``imports/tests/test_oneroster_sql.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from core.bulk import Statements, bulk_load, insert_rows, insert_select, update_rows
from core.changelog import (
    Action,
    ChangeEntry,
    Source,
    change_log_insert_select,
    change_log_write_many,
    json_value,
    object_type,
)
from core.types import Actor
from people.models import GuardianContact, Person
from people.rules import (
    ACTIVE,
    CREATED,
    DEACTIVATED,
    INACTIVE,
    REACTIVATED,
    UPDATED,
    bulk_deactivates_sql,
    search_key,
    search_key_sql,
)
from sites.models import Site

#: Guardian contact fields an import manages (besides person and sourcedId).
GUARDIAN_FIELDS = ("name", "relationship", "email", "phone")

#: A person's fields an import's "created" entry holds (the home site by name); the sensitive
#: fee-reduction flag is not an import's.
PERSON_LOGGED_FIELDS = (
    "role", "sourced_id", "student_number", "state_id", "given_name", "family_name", "preferred_name", "email",
    "grade", "graduation_year", "home_site", "homeroom", "status",
)  # fmt: skip
#: A guardian contact's fields its "created" and "deleted" entries hold (as ``people.services``).
GUARDIAN_LOGGED_FIELDS = ("sourced_id", "name", "relationship", "email", "phone", "preferred_language")

_PERSON = object_type(Person)
_GUARDIAN = object_type(GuardianContact)
#: Ids read at a time.
_CHUNK = 2000


# --------------------------------------------------------------------------- change log, Python form


def person_label(values: dict[str, Any]) -> str:
    """``Person.label`` from stored values (``preferred_name``, ``given_name``,
    ``family_name``, ``student_number``), cut to 255: "Maria Lopez #12345"."""
    name = f"{values.get('preferred_name') or values.get('given_name') or ''} {values.get('family_name') or ''}"
    number = values.get("student_number") or ""
    return f"{name.strip()}{f' #{number}' if number else ''}"[:255]


def with_search_keys(row: dict[str, Any]) -> dict[str, Any]:
    """``row`` (``{attname: value}``) with the search key of each name it holds
    (``people.rules.search_key``; ``Person.SEARCH_KEYS``)."""
    keys = {key: search_key(row[name] or "") for key, name in Person.SEARCH_KEYS.items() if name in row}
    return {**row, **keys}


def guardian_label(values: dict[str, Any]) -> str:
    """``str(GuardianContact)`` from stored values: "Ana Lopez (mother)"."""
    return f"{values.get('name') or ''} ({values.get('relationship') or 'contact'})"[:255]


def _chunks(ids: Sequence[int] | None) -> list[Sequence[int] | None]:
    return [None] if ids is None else [ids[i : i + _CHUNK] for i in range(0, len(ids), _CHUNK)]


def _person_values(ids: Sequence[int] | None = None, **filters: Any) -> dict[int, dict[str, Any]]:
    """Stored form of the logged fields of the people ``ids`` (read in chunks) and ``filters``
    select, by id; ``home_site`` is the site's name, ``home_site_id`` is kept too."""
    names = [f for f in PERSON_LOGGED_FIELDS if f != "home_site"]
    found: dict[int, dict[str, Any]] = {}
    for chunk in _chunks(ids):
        qs = Person.objects.filter(**filters) if chunk is None else Person.objects.filter(pk__in=chunk, **filters)
        for row in qs.order_by().values("id", "home_site_id", "home_site__name", *names):
            values = {name: json_value(row[name]) for name in names}
            values["home_site"], values["home_site_id"] = row["home_site__name"], row["home_site_id"]
            found[row["id"]] = values
    return found


def _guardian_values(ids: Sequence[int] | None = None, **filters: Any) -> dict[int, dict[str, Any]]:
    """Stored form of guardian contacts' logged fields, by id, with ``person_id`` and
    ``site_id`` (the person's home site)."""
    found: dict[int, dict[str, Any]] = {}
    for chunk in _chunks(ids):
        qs = GuardianContact.objects.filter(**filters)
        if chunk is not None:
            qs = qs.filter(pk__in=chunk)
        for row in qs.order_by().values("id", "person_id", "person__home_site_id", *GUARDIAN_LOGGED_FIELDS):
            values = {name: json_value(row[name]) for name in GUARDIAN_LOGGED_FIELDS}
            values["person_id"], values["site_id"] = row["person_id"], row["person__home_site_id"]
            found[row["id"]] = values
    return found


def _site_names(ids: set[int]) -> dict[int, str]:
    listed = list(ids)
    found: dict[int, str] = {}
    for start in range(0, len(listed), _CHUNK):
        found.update(Site.objects.filter(pk__in=listed[start : start + _CHUNK]).values_list("id", "name"))
    return found


def _filled(values: dict[str, Any], names: Sequence[str]) -> dict[str, Any]:
    """The ``names`` of ``values`` that are not empty (``core.changelog.snapshot``'s rule)."""
    return {name: values[name] for name in names if values.get(name) not in (None, "")}


def _changed(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(before, after)`` of the keys of ``after`` whose value differs (``core.changelog.changes``)."""
    keys = [k for k in after if before.get(k) != after[k]]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


def _log(actor: Actor | None, run_id: int | None, entries: list[ChangeEntry]) -> None:
    change_log_write_many(actor=actor, source=Source.IMPORT, entries=entries, import_run_id=run_id)


# --------------------------------------------------------------------------- change log, SQL form (PostgreSQL)


def person_label_sql(p: str) -> str:
    """SQL twin of :func:`person_label` over a ``people_person`` row ``p``."""
    return (
        f"left(trim(coalesce(nullif({p}.preferred_name, ''), {p}.given_name) || ' ' || {p}.family_name) "
        f"|| CASE WHEN {p}.student_number <> '' THEN ' #' || {p}.student_number ELSE '' END, 255)"
    )


def guardian_label_sql(c: str) -> str:
    """SQL twin of :func:`guardian_label` over a row ``c`` with ``name`` and ``relationship``."""
    return f"left({c}.name || ' (' || coalesce(nullif({c}.relationship, ''), 'contact') || ')', 255)"


def _filled_sql(pairs: Sequence[tuple[str, str]]) -> str:
    """SQL twin of :func:`_filled`: a JSON object of ``(key, text expression)`` without the
    empty ones (``graduation_year`` keeps its number)."""
    parts = ", ".join(
        f"'{key}', {expr}" if key == "graduation_year" else f"'{key}', nullif({expr}, '')" for key, expr in pairs
    )
    return f"jsonb_strip_nulls(jsonb_build_object({parts}))"


def _changed_sql(pairs: Sequence[tuple[str, str, str]]) -> tuple[str, str]:
    """SQL twin of :func:`_changed`: ``(before, after)`` JSON objects of the ``(key, before
    expression, after expression)`` whose values differ."""

    def side(pick: int) -> str:
        return " || ".join(
            f"CASE WHEN {b} IS DISTINCT FROM {a} THEN jsonb_build_object('{key}', {(b, a)[pick]}) "
            "ELSE '{}'::jsonb END"
            for key, b, a in pairs
        )

    return f"('{{}}'::jsonb || {side(0)})", f"('{{}}'::jsonb || {side(1)})"


def _person_created_sql(p: str, site: str) -> str:
    return _filled_sql([(f, f"{site}.name" if f == "home_site" else f"{p}.{f}") for f in PERSON_LOGGED_FIELDS])


def _guardian_filled_sql(c: str) -> str:
    return _filled_sql([(f, f"{c}.{f}") for f in GUARDIAN_LOGGED_FIELDS])


def _log_sql(
    sql: Statements,
    *,
    actor: Actor | None,
    run_id: int | None,
    model: Any,
    action: str,
    rows_sql: str,
    expected: int,
    params: dict[str, Any] | None = None,
    parent: bool = False,
) -> int:
    """One ``INSERT … SELECT`` of change-log entries (``rows_sql`` yields ``object_id``,
    ``object_label``, ``site_id``, ``before``, ``after`` and, with ``parent``, ``parent_id``:
    the person of a guardian contact)."""
    return change_log_insert_select(
        sql=sql, rows_sql=rows_sql, expected=expected, params=params, model=model, actor=actor,
        source=Source.IMPORT, action=action, import_run_id=run_id,
        parent_type=_PERSON if parent else "", parent_id_column="parent_id" if parent else None,
    )  # fmt: skip


# --------------------------------------------------------------------------- rows (both databases)


@transaction.atomic
def people_write(
    *,
    actor: Actor | None,
    run_id: int | None,
    creates: Sequence[dict[str, Any]],
    updates: Sequence[dict[str, Any]],
    update_fields: Sequence[str],
    deactivate_ids: Sequence[int],
) -> None:
    """Insert new people (``{attname: value}``; other fields their defaults), update changed ones
    (``{"pk": …, attname: value}`` with the fields ``update_fields``; ``updated_at`` is set), and
    make the active ones among ``deactivate_ids`` inactive. ``actor`` (a user, or ``None`` for
    the system) and ``run_id`` (the import run) are what the change log records: one entry per
    person created, changed (the fields that differ from the stored row, read before the
    update) or deactivated (status active → inactive), in this transaction."""
    fields = [f for f in update_fields if f != "updated_at"]
    keys = ["home_site" if f == "home_site_id" else f for f in fields]
    entries: list[ChangeEntry] = []
    # The search keys go with the names they are derived from (``Person.SEARCH_KEYS``).
    search_keys = [key for key, name in Person.SEARCH_KEYS.items() if name in fields]
    creates = [with_search_keys(row) for row in creates]
    updates = [with_search_keys(row) for row in updates] if search_keys else updates
    if updates:
        stored = _person_values([row["pk"] for row in updates])
        sites = _site_names({row["home_site_id"] for row in updates if row.get("home_site_id") is not None})
        for row in updates:
            old = stored.get(row["pk"])
            if old is None:
                continue
            new = dict(old)
            for f, k in zip(fields, keys, strict=True):
                if f in row:
                    new[k] = sites.get(row[f]) if k == "home_site" else json_value(row[f])
            before, after = _changed(old, {k: new[k] for k in keys})
            if after:
                entries.append(
                    ChangeEntry(
                        object_type=_PERSON,
                        object_id=row["pk"],
                        object_label=person_label(new),
                        action=Action.CHANGED,
                        before=before,
                        after=after,
                        site_id=row.get("home_site_id", old["home_site_id"]),
                    )  # fmt: skip
                )
        update_rows(Person, updates, [*fields, *search_keys, "updated_at"])
    if deactivate_ids:
        leaving = _person_values(list(deactivate_ids), status=ACTIVE)
        Person.objects.filter(pk__in=deactivate_ids, status=ACTIVE).update(status=INACTIVE, updated_at=timezone.now())
        entries += [
            ChangeEntry(
                object_type=_PERSON,
                object_id=pk,
                object_label=person_label(old),
                action=Action.CHANGED,
                before={"status": ACTIVE},
                after={"status": INACTIVE},
                site_id=old["home_site_id"],
            )  # fmt: skip
            for pk, old in leaving.items()
        ]
    if creates:
        top = Person.objects.aggregate(top=Max("id"))["top"] or 0
        insert_rows(Person, creates)
        made = {(row.get("sourced_id") or "", row.get("given_name"), row.get("family_name")) for row in creates}
        entries += [
            ChangeEntry(
                object_type=_PERSON,
                object_id=pk,
                object_label=person_label(new),
                action=Action.CREATED,
                after=_filled(new, PERSON_LOGGED_FIELDS),
                site_id=new["home_site_id"],
            )  # fmt: skip
            for pk, new in sorted(_person_values(id__gt=top).items())
            if (new["sourced_id"], new["given_name"], new["family_name"]) in made
        ]
    _log(actor, run_id, entries)


@transaction.atomic
def guardians_write(
    *,
    actor: Actor | None,
    run_id: int | None,
    creates: Sequence[dict[str, Any]],
    updates: Sequence[dict[str, Any]],
    remove_ids: Sequence[int],
) -> None:
    """Insert (``{attname: value}``), update (``{"pk": …, "name", "relationship", "email",
    "phone"}``) and remove guardian contacts; one change-log entry per contact created,
    changed or removed (listed on its person's history too), in this transaction."""
    entries: list[ChangeEntry] = []

    def entry(pk: int, values: dict[str, Any], action: str, before: Any = None, after: Any = None) -> ChangeEntry:
        return ChangeEntry(
            object_type=_GUARDIAN, object_id=pk, object_label=guardian_label(values), action=action,
            before=before or {}, after=after or {}, site_id=values["site_id"], parent_type=_PERSON,
            parent_id=values["person_id"],
        )  # fmt: skip

    if updates:
        stored = _guardian_values([row["pk"] for row in updates])
        for row in updates:
            old = stored.get(row["pk"])
            if old is None:
                continue
            new = {**old, **{f: json_value(row[f]) for f in GUARDIAN_FIELDS if f in row}}
            before, after = _changed(old, {f: new[f] for f in GUARDIAN_FIELDS})
            if after:
                entries.append(entry(row["pk"], new, Action.CHANGED, before, after))
        update_rows(GuardianContact, updates, list(GUARDIAN_FIELDS))
    if remove_ids:
        gone = _guardian_values(list(remove_ids))
        entries += [entry(pk, old, Action.DELETED, _filled(old, GUARDIAN_LOGGED_FIELDS)) for pk, old in gone.items()]
        GuardianContact.objects.filter(pk__in=remove_ids).delete()
    if creates:
        top = GuardianContact.objects.aggregate(top=Max("id"))["top"] or 0
        insert_rows(GuardianContact, creates)
        made = {(row.get("sourced_id") or "", row.get("person_id")) for row in creates}
        entries += [
            entry(pk, new, Action.CREATED, after=_filled(new, GUARDIAN_LOGGED_FIELDS))
            for pk, new in sorted(_guardian_values(id__gt=top).items())
            if (new["sourced_id"], new["person_id"]) in made
        ]
    _log(actor, run_id, entries)


# --------------------------------------------------------------------------- plan tables (PostgreSQL)

#: Columns :func:`people_apply_plan` reads from a people plan table (one row per listed person):
#: ``line`` (order of inserts), ``sid``, ``pk`` (NULL for a new person), ``outcome`` (a
#: ``people.rules.roster_outcome``), and the values ``role``, ``given``, ``family``, ``pref``,
#: ``email``, ``ident`` (student number), ``grade``, ``site_id``, ``homeroom``, ``status``.
PEOPLE_PLAN_COLUMNS = (
    "line", "sid", "pk", "outcome", "role", "given", "family", "pref", "email", "ident", "grade", "site_id",
    "homeroom", "status",
)  # fmt: skip

#: What an update from a people plan row ``x`` changes: (logged key, column of ``p``, column of ``x``).
_PLAN_UPDATES = (
    ("role", "role", "role"), ("given_name", "given_name", "given"), ("family_name", "family_name", "family"),
    ("preferred_name", "preferred_name", "pref"), ("email", "email", "email"),
    ("student_number", "student_number", "ident"), ("grade", "grade", "grade"),
    ("home_site", "home_site_id", "site_id"), ("homeroom", "homeroom", "homeroom"), ("status", "status", "status"),
)  # fmt: skip


def _plan_search_keys() -> dict[str, str]:
    """The search keys of a people plan row ``x`` (``people.rules.search_key_sql``)."""
    plan = {"family_name": "x.family", "given_name": "x.given", "preferred_name": "x.pref"}
    return {key: search_key_sql(plan[name]) for key, name in Person.SEARCH_KEYS.items()}


def people_apply_plan(
    *, sql: Statements, plan: str, created: int, now: Any, actor: Actor | None, run_id: int | None
) -> None:
    """Apply a people plan table (:data:`PEOPLE_PLAN_COLUMNS`): insert the ``created`` rows
    (``created``: how many, for :func:`core.bulk.bulk_load`'s first-load decision of both the
    people and the change log), update the ``updated`` and ``reactivated`` ones, and make the
    ``deactivated`` ones inactive (when still active). In the caller's transaction; each
    UPDATE is preceded by the ``INSERT … SELECT`` of its change-log entries (``p`` the
    before, ``x`` the after), and the insert followed by the "created" entries."""
    table = Person._meta.db_table
    sites = Site._meta.db_table
    fields = {
        "role": "x.role", "sourced_id": "x.sid", "student_number": "x.ident", "given_name": "x.given",
        "family_name": "x.family", "preferred_name": "x.pref", "email": "x.email", "grade": "x.grade",
        "home_site_id": "x.site_id", "homeroom": "x.homeroom", "status": f"'{ACTIVE}'",
        **_plan_search_keys(),
    }  # fmt: skip
    with bulk_load(Person, rows=created, sql=sql):
        insert_select(Person, fields, f"FROM {plan} x WHERE x.outcome = '{CREATED}' ORDER BY x.line", now, sql)
    if created:
        _log_sql(
            sql, actor=actor, run_id=run_id, model=Person, action=Action.CREATED, expected=created,
            rows_sql=f"""
                SELECT p.id AS object_id, {person_label_sql("p")} AS object_label, p.home_site_id AS site_id,
                       '{{}}'::jsonb AS before, {_person_created_sql("p", "s")} AS after
                FROM {plan} x JOIN {table} p ON p.sourced_id = x.sid JOIN {sites} s ON s.id = p.home_site_id
                WHERE x.outcome = '{CREATED}' AND x.sid <> ''
            """,
        )  # fmt: skip
    pairs = [
        (key, "sp.name" if key == "home_site" else f"p.{p_col}", "sx.name" if key == "home_site" else f"x.{x_col}")
        for key, p_col, x_col in _PLAN_UPDATES
    ]
    before, after = _changed_sql(pairs)
    label = person_label_sql("n")
    _log_sql(
        sql, actor=actor, run_id=run_id, model=Person, action=Action.CHANGED, expected=0,
        rows_sql=f"""
            SELECT * FROM (
              SELECT p.id AS object_id, {label} AS object_label, x.site_id AS site_id,
                     {before} AS before, {after} AS after
              FROM {plan} x JOIN {table} p ON p.id = x.pk
              JOIN {sites} sp ON sp.id = p.home_site_id JOIN {sites} sx ON sx.id = x.site_id
              CROSS JOIN LATERAL (SELECT x.pref AS preferred_name, x.given AS given_name, x.family AS family_name,
                                         x.ident AS student_number) n
              WHERE x.outcome IN ('{UPDATED}', '{REACTIVATED}')
            ) q WHERE q.after <> '{{}}'::jsonb
        """,
    )  # fmt: skip
    sql.run(
        f"""
        UPDATE {table} p SET role = x.role, given_name = x.given, family_name = x.family,
          preferred_name = x.pref, email = x.email, student_number = x.ident, grade = x.grade,
          home_site_id = x.site_id, homeroom = x.homeroom, status = x.status, updated_at = %(now)s,
          {", ".join(f"{key} = {value}" for key, value in _plan_search_keys().items())}
        FROM {plan} x WHERE p.id = x.pk AND x.outcome IN ('{UPDATED}', '{REACTIVATED}')
        """,
        {"now": now},
    )
    leaving = f"FROM {plan} x JOIN {table} p ON p.id = x.pk WHERE x.outcome = '{DEACTIVATED}' AND p.status = '{ACTIVE}'"
    _log_deactivations(sql, actor=actor, run_id=run_id, source=leaving)
    sql.run(
        f"UPDATE {table} p SET status = '{INACTIVE}', updated_at = %(now)s FROM {plan} x "
        f"WHERE p.id = x.pk AND x.outcome = '{DEACTIVATED}' AND p.status = '{ACTIVE}'",
        {"now": now},
    )


def _log_deactivations(
    sql: Statements, *, actor: Actor | None, run_id: int | None, source: str, expected: int = 0
) -> None:
    """The entries (status active → inactive) of the people ``p`` that ``source`` (``FROM …
    WHERE …``) selects, before the UPDATE that makes them inactive."""
    _log_sql(
        sql, actor=actor, run_id=run_id, model=Person, action=Action.CHANGED, expected=expected,
        rows_sql=f"""
            SELECT p.id AS object_id, {person_label_sql("p")} AS object_label, p.home_site_id AS site_id,
                   jsonb_build_object('status', '{ACTIVE}') AS before,
                   jsonb_build_object('status', '{INACTIVE}') AS after
            {source}
        """,
    )  # fmt: skip


def people_unlisted_sql(listed: str) -> str:
    """WHERE clause (over people ``p``) of those a bulk roster makes inactive
    (``people.rules.bulk_deactivates``); ``listed``: a boolean SQL expression over ``p``, e.g.
    ``EXISTS (SELECT 1 FROM <staged rows> r WHERE r.sid = p.sourced_id)``."""
    return bulk_deactivates_sql(status="p.status", sourced_id="p.sourced_id", listed=listed)


def people_deactivate_unlisted(
    *, sql: Statements, listed: str, now: Any, actor: Actor | None, run_id: int | None, expected: int = 0
) -> int:
    """Make inactive the people a bulk roster does not list (:func:`people_unlisted_sql`), each
    with its change-log entry (written first; ``expected``: about how many, for the change
    log's first-load decision). Returns how many."""
    where = people_unlisted_sql(listed)
    table = Person._meta.db_table
    _log_deactivations(sql, actor=actor, run_id=run_id, source=f"FROM {table} p WHERE {where}", expected=expected)
    return sql.run(f"UPDATE {table} p SET status = '{INACTIVE}', updated_at = %(now)s WHERE {where}", {"now": now})


def guardians_apply_plan(
    *, sql: Statements, plan: str, live: str, now: Any, actor: Actor | None, run_id: int | None
) -> None:
    """Apply a guardian plan: ``live`` holds one row per guardian (``sid``, ``deleted`` and the
    :data:`GUARDIAN_FIELDS`), ``plan`` one row per (guardian, student) link (``sid``, ``line``,
    ``pos``, ``person_id``, ``contact_id``, ``desired``, ``outcome``). Removes the contacts of
    deleted guardians, inserts the desired new links, updates the changed ones; each with its
    change-log entries (on the person's history too)."""
    contact = GuardianContact._meta.db_table
    person = Person._meta.db_table
    log: dict[str, Any] = {"sql": sql, "actor": actor, "run_id": run_id, "model": GuardianContact, "parent": True}
    gone = f"FROM {contact} c JOIN {live} g ON g.deleted AND c.sourced_id = g.sid"
    _log_sql(
        **log, action=Action.DELETED, expected=0,
        rows_sql=f"""
            SELECT c.id AS object_id, {guardian_label_sql("c")} AS object_label, p.home_site_id AS site_id,
                   {_guardian_filled_sql("c")} AS before, '{{}}'::jsonb AS after, c.person_id AS parent_id
            {gone} JOIN {person} p ON p.id = c.person_id
        """,
    )  # fmt: skip
    sql.run(f"DELETE FROM {contact} c USING {live} g WHERE g.deleted AND c.sourced_id = g.sid")
    g_fields = {"person_id": "x.person_id", "sourced_id": "x.sid", "name": "g.name",
                "relationship": "g.relationship", "email": "g.email", "phone": "g.phone"}  # fmt: skip
    (top,) = sql.one(f"SELECT coalesce(max(id), 0) FROM {contact}")
    new = f"x.desired AND x.outcome = '{CREATED}' AND x.person_id IS NOT NULL"
    made = insert_select(
        GuardianContact, g_fields, f"FROM {plan} x JOIN {live} g ON g.sid = x.sid WHERE {new} ORDER BY x.line, x.pos",
        now, sql,
    )  # fmt: skip
    if made:
        _log_sql(
            **log, action=Action.CREATED, expected=made, params={"top": top},
            rows_sql=f"""
                SELECT c.id AS object_id, {guardian_label_sql("c")} AS object_label, p.home_site_id AS site_id,
                       '{{}}'::jsonb AS before, {_guardian_filled_sql("c")} AS after, c.person_id AS parent_id
                FROM {contact} c JOIN {person} p ON p.id = c.person_id
                WHERE c.id > %(top)s AND EXISTS (SELECT 1 FROM {plan} x WHERE {new}
                                                  AND x.sid = c.sourced_id AND x.person_id = c.person_id)
            """,
        )  # fmt: skip
    before, after = _changed_sql([(f, f"c.{f}", f"g.{f}") for f in GUARDIAN_FIELDS])
    _log_sql(
        **log, action=Action.CHANGED, expected=0,
        rows_sql=f"""
            SELECT * FROM (
              SELECT c.id AS object_id, {guardian_label_sql("g")} AS object_label, p.home_site_id AS site_id,
                     {before} AS before, {after} AS after, c.person_id AS parent_id
              FROM {plan} x JOIN {live} g ON g.sid = x.sid JOIN {contact} c ON c.id = x.contact_id
              JOIN {person} p ON p.id = c.person_id
              WHERE x.desired AND x.outcome = '{UPDATED}'
            ) q WHERE q.after <> '{{}}'::jsonb
        """,
    )  # fmt: skip
    sql.run(
        f"""
        UPDATE {contact} c SET name = g.name, relationship = g.relationship, email = g.email, phone = g.phone
        FROM {plan} x JOIN {live} g ON g.sid = x.sid
        WHERE c.id = x.contact_id AND x.desired AND x.outcome = '{UPDATED}'
        """
    )


def guardians_remove(
    *, sql: Statements, ids: str, params: dict[str, Any], actor: Actor | None, run_id: int | None
) -> int:
    """Remove the guardian contacts whose ids the query ``ids`` (``SELECT c.id …``, with
    ``params``) gives, each with its "deleted" entry (written first); returns how many."""
    contact = GuardianContact._meta.db_table
    _log_sql(
        sql, actor=actor, run_id=run_id, model=GuardianContact, action=Action.DELETED, expected=0, params=params,
        parent=True,
        rows_sql=f"""
            SELECT c.id AS object_id, {guardian_label_sql("c")} AS object_label, p.home_site_id AS site_id,
                   {_guardian_filled_sql("c")} AS before, '{{}}'::jsonb AS after, c.person_id AS parent_id
            FROM {contact} c JOIN {Person._meta.db_table} p ON p.id = c.person_id WHERE c.id IN ({ids})
        """,
    )  # fmt: skip
    return sql.run(f"DELETE FROM {contact} WHERE id IN ({ids})", params)
