"""The append-only base (core.append_only): the ORM refuses changes, and so does the
database, on SQLite and PostgreSQL; only setting a SET NULL foreign key to NULL passes."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import DatabaseError, connection, transaction

from core.append_only import AppendOnlyError, AppendOnlyModel, append_only_triggers_present
from core.changelog import change_log_record
from core.models import ChangeLog
from custody.services import device_check_out
from inventory.models import DeviceEvent


def _raw(sql: str, params: list | None = None) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params or [])


@pytest.fixture
def event(world) -> DeviceEvent:
    device_check_out(device=world.device_a, person=world.person_a, actor=world.site_tech)
    return DeviceEvent.objects.get()


@pytest.fixture
def entry(world) -> ChangeLog:
    row = change_log_record(
        actor=world.district_admin,
        source=ChangeLog.Source.WEB,
        obj=world.site_a,
        action=ChangeLog.Action.CHANGED,
        before={"name": "Old"},
        after={"name": "Alder Elementary"},
        site_id=world.site_a.pk,
    )
    assert row is not None
    return row


def test_every_append_only_table_has_its_triggers(db):
    """A migration that rebuilds the table on SQLite drops its triggers: this fails then."""
    models = [m for m in apps.get_models() if issubclass(m, AppendOnlyModel)]
    assert {m._meta.label for m in models} >= {"core.ChangeLog", "inventory.DeviceEvent"}
    for model in models:
        assert append_only_triggers_present(connection=connection, table=model._meta.db_table), model


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE {table} SET note = 'rewritten' WHERE id = %s",
        "UPDATE {table} SET occurred_at = '2000-01-01 00:00:00+00:00' WHERE id = %s",
        "DELETE FROM {table} WHERE id = %s",
    ],
)
def test_the_database_refuses_update_and_delete_of_an_event(event, sql):
    with pytest.raises(DatabaseError, match="append-only"):
        _raw(sql.format(table=DeviceEvent._meta.db_table), [event.pk])
    assert DeviceEvent.objects.get().note == event.note


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE {table} SET note = 'rewritten' WHERE id = %s",
        "UPDATE {table} SET object_label = 'x', actor_id = NULL WHERE id = %s",
        "DELETE FROM {table} WHERE id = %s",
        "DELETE FROM {table}",
    ],
)
def test_the_database_refuses_update_and_delete_of_a_change_log_entry(entry, sql):
    with pytest.raises(DatabaseError, match="append-only"):
        _raw(sql.format(table=ChangeLog._meta.db_table), [entry.pk] if "%s" in sql else [])
    assert ChangeLog.objects.get().object_label == entry.object_label


def test_a_foreign_key_may_go_to_null_but_nowhere_else(event, world):
    table = DeviceEvent._meta.db_table
    with pytest.raises(DatabaseError, match="append-only"):
        _raw(f"UPDATE {table} SET actor_id = %s WHERE id = %s", [world.district_admin.pk, event.pk])
    _raw(f"UPDATE {table} SET actor_id = NULL, person_id = NULL WHERE id = %s", [event.pk])
    kept = DeviceEvent.objects.get()
    assert (kept.actor_id, kept.person_id, kept.actor_label) == (None, None, "site-tech")


def test_the_orm_refuses_too(entry):
    entry.note = "rewritten"
    for attempt in (
        entry.save,
        entry.delete,
        lambda: ChangeLog.objects.update(note="x"),
        lambda: ChangeLog.objects.all().delete(),
        lambda: ChangeLog.objects.bulk_update([entry], ["note"]),
    ):
        with pytest.raises(AppendOnlyError, match="append-only"):
            attempt()


def test_removing_the_actor_keeps_the_entry_readable(entry, world):
    world.district_admin.delete()
    kept = ChangeLog.objects.get()
    assert (kept.actor_id, kept.actor_label) == (None, "district-admin")


@pytest.mark.django_db(transaction=True)
def test_a_transactional_test_database_is_still_flushed_and_still_refuses(world):
    """The tests' flush shim (conftest.py) empties the log between transactional tests;
    outside the flush the database refuses as in production."""
    change_log_record(
        actor=None, source=ChangeLog.Source.COMMAND, obj=world.site_a, action="changed", before={"a": 1}, after={}
    )
    with pytest.raises(DatabaseError, match="append-only"):
        _raw(f"DELETE FROM {ChangeLog._meta.db_table}")
