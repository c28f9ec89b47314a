"""core.bulk.bulk_load: a first load drops a table's plain indexes and builds
them again with the same definitions (PostgreSQL)."""

from __future__ import annotations

import pytest
from django.db import connection

from core import bulk as core_bulk
from core.bulk import bulk_load
from imports import staging
from imports.models import OrgUnitMapping
from imports.staging import _Sql
from imports.tests.device_files import gam_row, run_file, write
from inventory.models import Device, DeviceEvent

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's bulk path"),
]


def fresh_statistics(*tables: str) -> None:
    """ANALYZE writes pg_class.reltuples in place (a rolled-back test keeps another test's
    million rows there): measure the tables as this test has them."""
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"ANALYZE {table}")


def index_definitions(table: str) -> list[tuple[str, str]]:
    """The table's indexes and constraints (name, definition)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s ORDER BY 1", [table])
        found = list(cursor.fetchall())
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass ORDER BY 1",
            [table],
        )
        return found + list(cursor.fetchall())


def test_a_first_load_builds_the_indexes_again_with_the_same_definitions(tmp_path, settings, monkeypatch, world):
    settings.IMPORTS_SET_BASED = True
    OrgUnitMapping.objects.create(path_prefix="/Students/A", site=world.site_a)
    tables = ("inventory_device", "inventory_deviceevent", "inventory_devicelastseen")
    fresh_statistics(*tables)
    before = {table: index_definitions(table) for table in tables}
    monkeypatch.setattr(core_bulk, "REBUILD_AT_LEAST", 3)
    rebuilt: list[str] = []
    original = core_bulk.bulk_load.__wrapped__

    def spy(model, *, rows, sql):  # type: ignore[no-untyped-def]
        for did in original(model, rows=rows, sql=sql):
            rebuilt.append(f"{model._meta.db_table}:{did}")
            yield did

    monkeypatch.setattr("inventory.bulk.bulk_load", staging.contextlib.contextmanager(spy))
    path = write(tmp_path / "cros.csv", *(gam_row(f"IX{n}", f"IXT{n}") for n in range(5)))
    run = run_file(path, "google")
    assert run.counts["devices"]["created"] == 5
    # The two devices of the world are fewer than the five inserted: both tables are rebuilt.
    assert rebuilt == ["inventory_device:True", "inventory_deviceevent:True", "inventory_devicelastseen:True"]
    assert {table: index_definitions(table) for table in before} == before
    assert Device.objects.filter(asset_tag__startswith="IXT").count() == 5
    assert DeviceEvent.objects.filter(device__asset_tag__startswith="IXT", kind="created").count() == 5


def test_a_failure_inside_puts_the_indexes_back(monkeypatch, world):
    fresh_statistics("inventory_device")
    before = index_definitions("inventory_device")
    monkeypatch.setattr(core_bulk, "REBUILD_AT_LEAST", 1)
    with connection.cursor() as cursor:
        sql = _Sql(cursor, 0)
        with pytest.raises(RuntimeError), bulk_load(Device, rows=10, sql=sql) as did:
            assert did
            assert len(index_definitions("inventory_device")) < len(before)
            raise RuntimeError("the insert failed")
    assert index_definitions("inventory_device") == before


def test_a_small_insert_into_a_larger_table_keeps_the_indexes(monkeypatch, world):
    monkeypatch.setattr(core_bulk, "REBUILD_AT_LEAST", 1)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE inventory_device")
        sql = _Sql(cursor, 0)
        with bulk_load(Device, rows=1, sql=sql) as did:  # the world holds two devices
            assert not did
            assert len(index_definitions("inventory_device")) > 5


def test_a_first_oneroster_load_builds_the_people_indexes_again(tmp_path, settings, monkeypatch):
    from imports.tests.roster import run_import, standard_roster, user
    from people.models import Person

    settings.IMPORTS_SET_BASED = True
    fresh_statistics("people_person")
    before = index_definitions("people_person")
    monkeypatch.setattr(core_bulk, "REBUILD_AT_LEAST", 2)
    statements: list[str] = []
    original = staging._Sql.run

    def run_sql(self, sql, params=None):  # type: ignore[no-untyped-def]
        statements.append(sql)
        return original(self, sql, params)

    monkeypatch.setattr(staging._Sql, "run", run_sql)
    path = standard_roster(tmp_path / "roster", *(user(f"s{n}", given=f"Given{n}") for n in range(4)))
    run = run_import(path)
    assert run.counts["people"]["created"] == 4, (run.status, run.error)
    assert Person.objects.filter(sourced_id__startswith="s").count() == 4
    assert index_definitions("people_person") == before
    dropped = [s for s in statements if s.startswith("DROP INDEX")]
    assert dropped and all(name not in sql for name in ("pkey", "unique") for sql in dropped)


def test_a_row_the_foreign_keys_refuse_fails_the_load_and_puts_everything_back(monkeypatch, world):
    from django.db import IntegrityError, transaction

    fresh_statistics("inventory_device")
    before = index_definitions("inventory_device")
    monkeypatch.setattr(core_bulk, "REBUILD_AT_LEAST", 1)
    with pytest.raises(IntegrityError, match="foreign key"), transaction.atomic(), connection.cursor() as cursor:
        sql = _Sql(cursor, 0)
        with bulk_load(Device, rows=10, sql=sql) as did:
            assert did
            cursor.execute(
                "INSERT INTO inventory_device (asset_tag, serial_number, manufacturer_id, model_id, status, "
                "owner_site_id, current_site_id, purchase_order, vendor, funding_source, wifi_mac, "
                "google_device_id, notes, created_at, updated_at) SELECT 'FK1', 'FK1', manufacturer_id, 999999, "
                "'in_stock', owner_site_id, current_site_id, '', '', '', '', '', '', now(), now() "
                "FROM inventory_device LIMIT 1"
            )
    assert index_definitions("inventory_device") == before
    assert not Device.objects.filter(asset_tag="FK1").exists()
