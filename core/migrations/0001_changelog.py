"""The change log (core.ChangeLog), append-only in the database (core.append_only)."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

import core.append_only


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ChangeLog",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("occurred_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("actor_label", models.CharField(blank=True, max_length=150)),
                (
                    "source",
                    models.CharField(
                        choices=[
                            ("web", "Web"),
                            ("import", "Import"),
                            ("admin", "Django admin"),
                            ("command", "Command"),
                            ("api", "API"),
                        ],
                        default="web",
                        max_length=10,
                    ),
                ),
                ("object_type", models.CharField(help_text="app_label.model, e.g. people.person", max_length=100)),
                ("object_id", models.BigIntegerField()),
                ("object_label", models.CharField(blank=True, max_length=255)),
                ("parent_type", models.CharField(blank=True, max_length=100)),
                ("parent_id", models.BigIntegerField(blank=True, null=True)),
                (
                    "site_id",
                    models.BigIntegerField(
                        blank=True, help_text="The object's site when it has one (no key).", null=True
                    ),
                ),
                (
                    "action",
                    models.CharField(
                        choices=[("created", "Created"), ("changed", "Changed"), ("deleted", "Deleted")],
                        max_length=10,
                    ),
                ),
                ("before", models.JSONField(blank=True, default=dict)),
                ("after", models.JSONField(blank=True, default=dict)),
                ("note", models.TextField(blank=True)),
                (
                    "import_run_id",
                    models.BigIntegerField(blank=True, help_text="The import this change came from.", null=True),
                ),
                (
                    "actor",
                    models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "content_type",
                    models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="contenttypes.contenttype",
                    ),
                ),
            ],
            options={
                "ordering": ["-occurred_at", "-id"],
                "indexes": [
                    models.Index(
                        fields=["object_type", "object_id", "-occurred_at", "-id"], name="changelog_object_time"
                    ),
                    models.Index(
                        condition=models.Q(("parent_id__isnull", False)),
                        fields=["parent_type", "parent_id", "-occurred_at", "-id"],
                        name="changelog_parent_time",
                    ),
                ],
            },
        ),
        core.append_only.AppendOnlyTriggers("changelog", nullable_fks=["actor", "content_type"]),
    ]
