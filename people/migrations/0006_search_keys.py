"""Search keys on people (issue #8: search ignores accents and case; names sort by family
then given name, accent-aware).

Adds ``family_key``, ``given_key`` and ``preferred_key`` (``people.rules.search_key`` of each
name), fills them for existing people in one ``UPDATE`` per table through the rule's SQL twin
(``search_key_sql``: ``translate()`` on PostgreSQL, no extension; in Python elsewhere), then indexes them: the
list's order (``family_key, given_key, id``, alone and after the home site) and prefix search
(``text_pattern_ops`` on PostgreSQL). The indexes on the raw names they replace go.
"""

from django.db import migrations, models

from people.rules import search_key, search_key_sql

OLD_PATTERN_INDEXES = {
    "person_family_pattern": "people_person (lower(family_name) text_pattern_ops)",
    "person_given_pattern": "people_person (lower(given_name) text_pattern_ops)",
    "person_preferred_pattern": "people_person (lower(preferred_name) text_pattern_ops)",
}
KEYS = {"family_key": "family_name", "given_key": "given_name", "preferred_key": "preferred_name"}


def fill_keys(apps, schema_editor):
    connection = schema_editor.connection
    table = connection.ops.quote_name("people_person")
    if connection.vendor == "postgresql":
        sets = ", ".join(f"{key} = {search_key_sql(name)}" for key, name in KEYS.items())
        schema_editor.execute(f"UPDATE {table} SET {sets}")
        return
    Person = apps.get_model("people", "Person")
    batch = []
    for person in Person.objects.only(*KEYS.values()).iterator(chunk_size=2000):
        for key, name in KEYS.items():
            setattr(person, key, search_key(getattr(person, name) or ""))
        batch.append(person)
        if len(batch) == 2000:
            Person.objects.bulk_update(batch, list(KEYS))
            batch = []
    Person.objects.bulk_update(batch, list(KEYS))


def drop_old_patterns(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name in OLD_PATTERN_INDEXES:
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


def restore_old_patterns(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name, target in OLD_PATTERN_INDEXES.items():
            schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {target}")


def key_field():
    return models.CharField(blank=True, default="", editable=False, max_length=100)


class Migration(migrations.Migration):
    dependencies = [
        ("people", "0005_email_index"),
        ("sites", "0002_district_scanning_and_custody_defaults"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="person",
            options={"ordering": ["family_key", "given_key", "id"], "verbose_name_plural": "people"},
        ),
        migrations.AddField(model_name="person", name="family_key", field=key_field()),
        migrations.AddField(model_name="person", name="given_key", field=key_field()),
        migrations.AddField(model_name="person", name="preferred_key", field=key_field()),
        migrations.RunPython(fill_keys, migrations.RunPython.noop),
        migrations.RunPython(drop_old_patterns, restore_old_patterns),
        migrations.RemoveIndex(model_name="person", name="person_name_lower"),
        migrations.RemoveIndex(model_name="person", name="person_site_name"),
        migrations.RemoveIndex(model_name="person", name="person_family_id"),
        migrations.AddIndex(
            model_name="person",
            index=models.Index(fields=["home_site", "family_key", "given_key", "id"], name="person_site_key"),
        ),
        migrations.AddIndex(
            model_name="person",
            index=models.Index(fields=["family_key", "given_key", "id"], name="person_key_id"),
        ),
        migrations.AddIndex(
            model_name="person",
            index=models.Index(fields=["family_key"], name="person_family_key_pattern", opclasses=["text_pattern_ops"]),
        ),
        migrations.AddIndex(
            model_name="person",
            index=models.Index(fields=["given_key"], name="person_given_key_pattern", opclasses=["text_pattern_ops"]),
        ),
        migrations.AddIndex(
            model_name="person",
            index=models.Index(
                fields=["preferred_key"], name="person_preferred_key_pattern", opclasses=["text_pattern_ops"]
            ),
        ),
    ]
