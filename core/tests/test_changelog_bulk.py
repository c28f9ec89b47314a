"""The change log's bulk forms for imports: ``change_log_write_many`` (rows, COPY) writes what
``change_log_record_many`` writes, and a first load of the change log (``core.bulk.bulk_load``)
drops and builds its indexes again around either form, leaving the same table."""

from __future__ import annotations

import contextlib

import pytest
from django.db import connection

from core import bulk
from core.changelog import (
    Action,
    ChangeEntry,
    Source,
    change_log_insert_select,
    change_log_record_many,
    change_log_write_many,
)
from core.models import ChangeLog
from people.models import Person

pytestmark = pytest.mark.django_db

FIELDS = ("actor_id", "actor_label", "source", "content_type_id", "object_type", "object_id", "object_label",
          "parent_type", "parent_id", "site_id", "action", "before", "after", "note", "import_run_id")  # fmt: skip


def entries(world) -> list[ChangeEntry]:
    person = world.person_a
    return [
        ChangeEntry.for_object(person, action=Action.CHANGED, before={"status": "active"},
                               after={"status": "inactive"}, site_id=person.home_site_id),
        ChangeEntry.for_object(person, action=Action.CHANGED),  # nothing changed: skipped
        ChangeEntry.for_object(world.person_b, action=Action.CREATED, after={"given_name": "Ben", "grade": "07"},
                               site_id=world.person_b.home_site_id, note="from the roster"),
    ]  # fmt: skip


def rows(run: int) -> list[tuple]:
    return sorted(ChangeLog.objects.filter(import_run_id=run).values_list(*FIELDS[:-1]), key=repr)


def test_the_copy_form_writes_what_the_batch_form_writes(world):
    change_log_record_many(actor=world.district_admin, source=Source.IMPORT, entries=entries(world), import_run_id=7)
    written = change_log_write_many(
        actor=world.district_admin, source=Source.IMPORT, entries=entries(world), import_run_id=8
    )
    assert written == 2 and len(rows(7)) == 2
    assert rows(8) == rows(7)


def _indexes() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = %s ORDER BY indexname", ["core_changelog"])
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="bulk_load is PostgreSQL's")
def test_a_first_load_of_the_change_log_rebuilds_its_indexes_around_both_forms(world, monkeypatch):
    monkeypatch.setattr(bulk, "REBUILD_AT_LEAST", 1)
    before = _indexes()
    loads: list[bool] = []
    real = bulk.bulk_load

    def spy(*args, **kwargs):
        with real(*args, **kwargs) as rebuilt:
            loads.append(rebuilt)
            yield rebuilt

    import core.changelog as changelog

    monkeypatch.setattr(changelog, "bulk_load", contextlib.contextmanager(spy))
    assert change_log_write_many(actor=None, source=Source.IMPORT, entries=entries(world), import_run_id=1) == 2
    with connection.cursor() as cursor:
        from core.bulk import Statements

        written = change_log_insert_select(
            sql=Statements(cursor), expected=10, model=Person, actor=world.district_admin, source=Source.IMPORT,
            action=Action.CREATED, import_run_id=2,
            rows_sql=f"SELECT p.id AS object_id, p.given_name AS object_label, p.home_site_id AS site_id, "
                     f"'{{}}'::jsonb AS before, jsonb_build_object('given_name', p.given_name) AS after "
                     f"FROM {Person._meta.db_table} p",
        )  # fmt: skip
    assert written == Person.objects.count()
    assert loads == [True, True]
    assert _indexes() == before
    assert ChangeLog.objects.filter(import_run_id=2, object_id=world.person_a.pk).get().after == {"given_name": "Ana"}
