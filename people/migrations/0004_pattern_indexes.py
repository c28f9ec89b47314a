"""Prefix-search indexes for name look-ups on PostgreSQL.

``lower(family_name) LIKE 'gar%'`` can use a b-tree index only with the pattern operator
class when the database collation is not "C". SQLite needs nothing here.
"""

from django.db import migrations

INDEXES = {
    "person_family_pattern": "people_person (lower(family_name) text_pattern_ops)",
    "person_given_pattern": "people_person (lower(given_name) text_pattern_ops)",
    "person_preferred_pattern": "people_person (lower(preferred_name) text_pattern_ops)",
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
    dependencies = [("people", "0003_list_order_indexes")]
    operations = [migrations.RunPython(create, drop)]
