"""Prefix-search indexes for scanner look-ups on PostgreSQL.

``lower(asset_tag) LIKE 'cb-01%'`` can use a b-tree index only with the pattern operator
class when the database collation is not "C". SQLite needs nothing here.
"""

from django.db import migrations

INDEXES = {
    "device_asset_tag_pattern": "inventory_device (lower(asset_tag) text_pattern_ops)",
    "device_serial_pattern": "inventory_device (lower(serial_number) text_pattern_ops)",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name, target in INDEXES.items():
            schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {target}")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name in INDEXES:
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("inventory", "0004_list_order_indexes")]
    operations = [migrations.RunPython(create, drop)]
