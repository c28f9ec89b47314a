"""Writing and reading the change log (:class:`core.models.ChangeLog`).

Every service that changes a person, guardian contact, site, location, the district
settings, a staff role, a device model or a manufacturer writes an entry **inside its own
transaction** (issue #7, "An audit trail for every change"), so a change and its entry commit
or roll back together. Three forms:

* :func:`change_log_record` — one entry (a service's edit);
* :func:`change_log_record_many` — many entries in one ``INSERT`` batch (an import's Python
  path: one :class:`ChangeEntry` per changed row);
* :func:`change_log_insert_sql` — the ``INSERT … SELECT`` that writes one entry per row of
  the caller's ``SELECT`` (an import's set-based path, in the same statement batch as its
  ``UPDATE``); :func:`change_log_insert_select` runs it.

The imports' two bulk forms, :func:`change_log_write_many` (entries as rows, ``COPY``) and
:func:`change_log_insert_select`, give a large insert into an emptier change log (a district's
first load: 840,000 "created" entries) ``core.bulk.bulk_load``'s first-load treatment: the
table's plain indexes are dropped and built again after it (PostgreSQL).

Values in ``before``/``after`` go through :func:`json_value`: choice codes and plain values
as they are, related objects as their label, ``Decimal`` as a string to the cent, dates and
times ISO 8601. Only changed fields are stored (:func:`changes`).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
from django.db import connection, models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import capfirst

from core.bulk import Statements, bulk_load, insert_rows
from core.models import ChangeLog
from core.money import to_cents
from core.scoping import VIEW, ScopedQuerySet, scope_for
from core.types import Actor, actor_id, actor_label

Source = ChangeLog.Source
Action = ChangeLog.Action


def resolve_source(*, actor: Actor | None, source: str | None) -> str:
    """``source`` when given; otherwise web for an authenticated actor, command for none
    (a management command or the demo generator acting as the system)."""
    if source is not None:
        return source
    return Source.WEB if actor is not None and getattr(actor, "is_authenticated", False) else Source.COMMAND


def object_type(model: type[models.Model] | models.Model) -> str:
    """``"app_label.model"`` of a model class or instance, e.g. ``"people.person"``."""
    return model._meta.label_lower


def json_value(value: Any) -> Any:
    """A value as the change log stores it: ``None``, ``bool``, ``int`` and ``str`` as they
    are; ``Decimal`` as a string to the cent (``"289.00"``); dates and times ISO 8601 (times
    in UTC); a model instance as its ``label`` or ``str()``; anything else as ``str()``."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Decimal):
        return str(to_cents(value))
    if isinstance(value, datetime.datetime):
        return (value.astimezone(datetime.UTC) if timezone.is_aware(value) else value).isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, models.Model):
        return str(getattr(value, "label", None) or value)
    return str(value)


def field_value(instance: models.Model, name: str) -> Any:
    """The stored form (:func:`json_value`) of ``instance``'s field ``name``; a foreign key
    gives the related object's label."""
    return json_value(getattr(instance, name))


def changes(*, instance: models.Model, new_values: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(before, after)`` for the fields of ``new_values`` whose value differs from
    ``instance``'s (compared in stored form, so ``Decimal("5")`` equals ``Decimal("5.00")``).
    Call before assigning the new values. Both dicts are empty when nothing changes."""
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for name, new in new_values.items():
        old_value, new_value = field_value(instance, name), json_value(new)
        if old_value != new_value:
            before[name], after[name] = old_value, new_value
    return before, after


def snapshot(instance: models.Model, fields: Iterable[str] | None = None) -> dict[str, Any]:
    """The stored form of ``instance``'s editable fields (or of ``fields``): the ``after`` of
    a creation, the ``before`` of a deletion. Empty values are left out."""
    names = fields or [
        f.name for f in instance._meta.concrete_fields if f.editable and not f.primary_key and not f.auto_created
    ]
    values = {name: field_value(instance, name) for name in names}
    return {k: v for k, v in values.items() if v not in (None, "")}


@dataclass(frozen=True)
class ChangeEntry:
    """One entry for :func:`change_log_record_many` (what differs between entries of a batch).

    Build it with :meth:`for_object` when you hold the instance, or with plain ids and labels
    (``object_type`` is ``"app_label.model"``)."""

    object_type: str
    object_id: int
    object_label: str
    action: str
    before: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)
    site_id: int | None = None
    parent_type: str = ""
    parent_id: int | None = None
    note: str = ""

    @classmethod
    def for_object(
        cls,
        obj: models.Model,
        *,
        action: str,
        before: Mapping[str, Any] | None = None,
        after: Mapping[str, Any] | None = None,
        site_id: int | None = None,
        parent: models.Model | None = None,
        note: str = "",
    ) -> ChangeEntry:
        """An entry about ``obj`` (shown on ``parent``'s page too when given)."""
        return cls(
            object_type=object_type(obj),
            object_id=int(obj.pk),
            object_label=str(getattr(obj, "label", None) or obj)[:255],
            action=action,
            before=dict(before or {}),
            after=dict(after or {}),
            site_id=site_id,
            parent_type=object_type(parent) if parent is not None else "",
            parent_id=int(parent.pk) if parent is not None else None,
            note=note,
        )


def _content_type_ids(types: Iterable[str]) -> dict[str, int | None]:
    found: dict[str, int | None] = {}
    for label in set(types):
        app_label, _, model_name = label.partition(".")
        try:
            found[label] = ContentType.objects.get_for_model(apps.get_model(app_label, model_name)).pk
        except LookupError:
            found[label] = None
    return found


@transaction.atomic
def change_log_record_many(
    *,
    actor: Actor | None,
    source: str,
    entries: Iterable[ChangeEntry],
    import_run_id: int | None = None,
    occurred_at: datetime.datetime | None = None,
    batch_size: int = 1000,
) -> list[ChangeLog]:
    """Append one :class:`~core.models.ChangeLog` row per entry, in batches of ``batch_size``
    (one ``INSERT`` each), all with the same actor, source, time (aware UTC, now by default)
    and import run. Call inside the transaction of the change. Entries with neither ``before``
    nor ``after`` for a ``changed`` action are skipped (nothing changed). Returns the rows."""
    when = occurred_at or timezone.now()
    wanted = [e for e in entries if e.action != Action.CHANGED or e.before or e.after]
    if not wanted:
        return []
    user_id = actor_id(actor)
    label = actor_label(actor)
    type_ids = _content_type_ids(e.object_type for e in wanted)
    rows = [
        ChangeLog(
            occurred_at=when,
            actor_id=user_id,
            actor_label=label,
            source=source,
            content_type_id=type_ids[e.object_type],
            object_type=e.object_type,
            object_id=e.object_id,
            object_label=e.object_label,
            parent_type=e.parent_type,
            parent_id=e.parent_id,
            site_id=e.site_id,
            action=e.action,
            before=e.before,
            after=e.after,
            note=e.note,
            import_run_id=import_run_id,
        )
        for e in wanted
    ]
    return ChangeLog.objects.bulk_create(rows, batch_size=batch_size)


def change_log_record(
    *,
    actor: Actor | None,
    source: str,
    obj: models.Model,
    action: str,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    note: str = "",
    site_id: int | None = None,
    import_run_id: int | None = None,
    parent: models.Model | None = None,
) -> ChangeLog | None:
    """Append one entry about ``obj`` (a saved instance). Call inside the change's transaction.

    ``action`` is a :class:`ChangeLog.Action` (``created``, ``changed``, ``deleted``);
    ``before``/``after`` hold the changed fields only, in stored form (:func:`changes`,
    :func:`snapshot`). ``site_id`` is the object's site when it has one (it decides who may
    see the entry); ``parent`` the record whose page lists the entry too (a guardian's person,
    a location's site). A ``changed`` entry with nothing changed is not written: returns
    ``None``. ``actor`` ``None`` (or anonymous) is recorded as "system".
    """
    rows = change_log_record_many(
        actor=actor,
        source=source,
        entries=[
            ChangeEntry.for_object(
                obj, action=action, before=before, after=after, site_id=site_id, parent=parent, note=note
            )
        ],
        import_run_id=import_run_id,
    )
    return rows[0] if rows else None


#: The columns :func:`change_log_insert_sql` fills, in order.
CHANGE_LOG_COLUMNS = (
    "occurred_at",
    "actor_id",
    "actor_label",
    "source",
    "content_type_id",
    "object_type",
    "object_id",
    "object_label",
    "parent_type",
    "parent_id",
    "site_id",
    "action",
    "before",
    "after",
    "note",
    "import_run_id",
)

#: The columns the caller's ``rows_sql`` must yield (by these names) for :func:`change_log_insert_sql`.
CHANGE_LOG_ROW_COLUMNS = ("object_id", "object_label", "site_id", "before", "after")


def change_log_insert_sql(
    *,
    rows_sql: str,
    model: type[models.Model],
    actor: Actor | None,
    source: str,
    action: str = Action.CHANGED,
    note: str = "",
    import_run_id: int | None = None,
    parent_type: str = "",
    parent_id_column: str | None = None,
    occurred_at: datetime.datetime | None = None,
) -> tuple[str, dict[str, Any]]:
    """``(sql, params)``: an ``INSERT INTO core_changelog … SELECT`` writing one entry per row
    of ``rows_sql``, for set-based paths that change many rows with one statement.

    ``rows_sql`` is a ``SELECT`` naming its columns ``object_id``, ``object_label``,
    ``site_id``, ``before`` and ``after`` (JSON: ``jsonb_build_object(…)`` on PostgreSQL,
    ``json_object(…)`` on SQLite), plus ``parent_id`` when ``parent_id_column`` names it; its
    own parameters must be named (``%(name)s``) and are merged with the returned ``params``
    (whose names start with ``cl_``). Run it in the transaction of the change, before the
    ``UPDATE`` (``rows_sql`` compares old and new values), e.g. a withdrawal file::

        sql, params = change_log_insert_sql(
            model=Person, actor=actor, source=ChangeLog.Source.IMPORT, import_run_id=run.pk,
            rows_sql=\"\"\"SELECT p.id AS object_id,
                              p.given_name || ' ' || p.family_name AS object_label,
                              p.home_site_id AS site_id,
                              jsonb_build_object('status', p.status) AS before,
                              jsonb_build_object('status', s.status) AS after
                       FROM people_person p JOIN staged s ON s.person_id = p.id
                       WHERE p.status IS DISTINCT FROM s.status\"\"\")
        cursor.execute(sql, {**params, **my_params})

    Values follow :func:`json_value` (status codes, money as text to the cent, ISO dates).
    """
    parent_select = f"r.{parent_id_column}" if parent_id_column else "NULL"
    columns = ", ".join(CHANGE_LOG_COLUMNS)
    sql = (
        f"INSERT INTO {ChangeLog._meta.db_table} ({columns}) "
        "SELECT %(cl_occurred_at)s, %(cl_actor_id)s, %(cl_actor_label)s, %(cl_source)s, %(cl_content_type_id)s, "
        "%(cl_object_type)s, r.object_id, r.object_label, %(cl_parent_type)s, "
        f"{parent_select}, r.site_id, %(cl_action)s, r.before, r.after, %(cl_note)s, %(cl_import_run_id)s "
        f"FROM ({rows_sql}) r"
    )
    params = {
        "cl_occurred_at": occurred_at or timezone.now(),
        "cl_actor_id": actor_id(actor),
        "cl_actor_label": actor_label(actor),
        "cl_source": source,
        "cl_content_type_id": ContentType.objects.get_for_model(model).pk,
        "cl_object_type": object_type(model),
        "cl_parent_type": parent_type,
        "cl_action": action,
        "cl_note": note,
        "cl_import_run_id": import_run_id,
    }
    return sql, params


def change_log_insert_select(
    *,
    sql: Statements,
    rows_sql: str,
    expected: int,
    params: Mapping[str, Any] | None = None,
    **options: Any,
) -> int:
    """Run :func:`change_log_insert_sql` (``rows_sql`` and ``options`` as it takes them) on
    ``sql``, with the ``rows_sql``'s own ``params``; returns how many entries it wrote.

    ``expected`` is how many entries it may write at most (e.g. the rows created): when that
    is a first load of the change log (``core.bulk.bulk_load``: at least
    ``core.bulk.REBUILD_AT_LEAST`` and as many as the table holds), the change log's plain
    indexes are dropped and built again around the insert. PostgreSQL; in the caller's
    transaction, before the statement whose change it describes."""
    statement, own = change_log_insert_sql(rows_sql=rows_sql, **options)
    with bulk_load(ChangeLog, rows=expected, sql=sql):
        return sql.run(statement, {**own, **(params or {})})


@transaction.atomic
def change_log_write_many(
    *,
    actor: Actor | None,
    source: str,
    entries: Iterable[ChangeEntry],
    import_run_id: int | None = None,
    occurred_at: datetime.datetime | None = None,
) -> int:
    """As :func:`change_log_record_many` (the same rows: entries of a ``changed`` action with
    nothing changed are skipped), set-based for an import's many entries: ``COPY`` on
    PostgreSQL (``core.bulk.insert_rows``; a first load of the change log drops and rebuilds
    its plain indexes around it, :func:`core.bulk.bulk_load`), ``executemany`` on SQLite. No
    model instances are made; returns how many entries were written."""
    when = occurred_at or timezone.now()
    wanted = [e for e in entries if e.action != Action.CHANGED or e.before or e.after]
    if not wanted:
        return 0
    user_id = actor_id(actor)
    label = actor_label(actor)
    type_ids = _content_type_ids(e.object_type for e in wanted)
    rows = [
        {
            "occurred_at": when, "actor_id": user_id, "actor_label": label, "source": source,
            "content_type_id": type_ids[e.object_type], "object_type": e.object_type, "object_id": e.object_id,
            "object_label": e.object_label, "parent_type": e.parent_type, "parent_id": e.parent_id,
            "site_id": e.site_id, "action": e.action, "before": e.before, "after": e.after, "note": e.note,
            "import_run_id": import_run_id,
        }
        for e in wanted
    ]  # fmt: skip
    if connection.vendor != "postgresql":
        insert_rows(ChangeLog, rows)
        return len(rows)
    with connection.cursor() as cursor, bulk_load(ChangeLog, rows=len(rows), sql=Statements(cursor)):
        insert_rows(ChangeLog, rows)
    return len(rows)


def may_see(*, obj: models.Model, user: Actor | None) -> bool:
    """May ``user`` see ``obj`` (and so its history)? A scoped model asks the gate
    (``visible_to(user, "view")``); records without a site (district settings, staff roles)
    are for district admins only."""
    manager = type(obj)._default_manager
    qs = manager.all()
    if isinstance(qs, ScopedQuerySet):
        return qs.visible_to(user, VIEW).filter(pk=obj.pk).exists()
    return scope_for(user).is_district_admin


def change_log_for(*, obj: models.Model, user: Actor | None, limit: int = 100) -> list[ChangeLog]:
    """Entries about ``obj`` and about the records shown on its page (a person's guardian
    contacts, a site's locations), newest first, at most ``limit``.

    The caller resolved ``obj`` through the gate; this checks again (:func:`may_see`) and
    returns ``[]`` when ``user`` may not see ``obj``.
    """
    if obj.pk is None or not may_see(obj=obj, user=user):
        return []
    label = object_type(obj)
    mine = Q(object_type=label, object_id=obj.pk) | Q(parent_type=label, parent_id=obj.pk)
    return list(ChangeLog.objects.filter(mine).order_by("-occurred_at", "-id")[:limit])


def change_rows(entry: ChangeLog) -> list[tuple[str, str | None, str]]:
    """``[(label, before, after)]`` in words for one entry, e.g. ``("Status", "Active",
    "Withdrawn")``; ``before`` is ``None`` for a creation. Field labels and choice names come
    from the model when it still exists, else the stored key."""
    try:
        app_label, _, model_name = entry.object_type.partition(".")
        model: Any = apps.get_model(app_label, model_name)
    except (LookupError, ValueError):
        model = None
    before = entry.before if isinstance(entry.before, dict) else {}
    after = entry.after if isinstance(entry.after, dict) else {}
    rows: list[tuple[str, str | None, str]] = []
    for key in [*after, *[k for k in before if k not in after]]:
        label, choices = capfirst(key.replace("_", " ")), {}
        if model is not None:
            try:
                f = model._meta.get_field(key)
                label = capfirst(str(getattr(f, "verbose_name", label)))  # "State / NCES id" as written
                choices = {str(k): str(v) for k, v in (getattr(f, "flatchoices", None) or [])}
            except FieldDoesNotExist:
                pass
        old = _words(before.get(key), choices) if entry.action == Action.CHANGED else None
        new = _words(after.get(key), choices) if key in after else "—"
        if entry.action == Action.DELETED:
            old, new = None, _words(before.get(key), choices)
        rows.append((label, old, new))
    return rows


def _words(value: Any, choices: dict[str, str]) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return choices.get(str(value), str(value))
