"""The device event log refuses UPDATE and DELETE in the database too (core.append_only);
only setting ``actor`` or ``person`` to NULL (their user or person removed) passes."""

from django.db import migrations

import core.append_only


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0005_pattern_indexes"),
    ]

    operations = [
        core.append_only.AppendOnlyTriggers("deviceevent", nullable_fks=["actor", "person"]),
    ]
