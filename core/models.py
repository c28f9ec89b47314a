"""The change log: who changed which record, when, from where, before → after.

Device changes have their own log (``inventory.DeviceEvent``); this one holds the rest
(people, guardians, sites, locations, district settings, staff roles, device models and
manufacturers). Both are append-only through :mod:`core.append_only`. Write entries with
:mod:`core.changelog`, never by hand.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from core.append_only import AppendOnlyModel, AppendOnlyQuerySet


class ChangeLog(AppendOnlyModel):
    """One append-only entry: ``actor`` did ``action`` to one object at ``occurred_at``.

    The object is named by ``object_type`` (``"app_label.model"`` text) and ``object_id``, and
    its ``object_label`` (its name when the entry was written) is kept as text, so the entry
    stays readable after the object is deleted; ``content_type`` is a convenience that goes to
    NULL if the type itself is ever removed. ``parent_type``/``parent_id`` name the record whose
    page shows the entry too (the person of a guardian contact, the site of a location).
    ``site_id`` is the site the object belonged to (no foreign key, so it survives the site):
    it decides who may see the entry. ``before``/``after`` hold only the changed fields, by
    field name, as plain JSON values: choice codes, related objects as their labels, money as
    a string to the cent, dates and times ISO 8601. ``actor`` is ``SET NULL`` when the user is
    removed; ``actor_label`` keeps their name.
    """

    append_only_message = "The change log is append-only."

    class Source(models.TextChoices):
        WEB = "web", "Web"
        IMPORT = "import", "Import"
        ADMIN = "admin", "Django admin"
        COMMAND = "command", "Command"
        API = "api", "API"

    class Action(models.TextChoices):
        CREATED = "created", "Created"
        CHANGED = "changed", "Changed"
        DELETED = "deleted", "Deleted"

    occurred_at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    actor_label = models.CharField(max_length=150, blank=True)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.WEB)
    content_type = models.ForeignKey(
        "contenttypes.ContentType", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    object_type = models.CharField(max_length=100, help_text="app_label.model, e.g. people.person")
    object_id = models.BigIntegerField()
    object_label = models.CharField(max_length=255, blank=True)
    parent_type = models.CharField(max_length=100, blank=True)
    parent_id = models.BigIntegerField(null=True, blank=True)
    site_id = models.BigIntegerField(null=True, blank=True, help_text="The object's site when it has one (no key).")
    action = models.CharField(max_length=10, choices=Action.choices)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    note = models.TextField(blank=True)
    import_run_id = models.BigIntegerField(null=True, blank=True, help_text="The import this change came from.")

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["object_type", "object_id", "-occurred_at", "-id"], name="changelog_object_time"),
            models.Index(
                fields=["parent_type", "parent_id", "-occurred_at", "-id"],
                name="changelog_parent_time",
                condition=models.Q(parent_id__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.object_type} {self.object_id} {self.action} at {self.occurred_at:%Y-%m-%d %H:%M}"

    def change_rows(self) -> list[tuple[str, str | None, str]]:
        """``[(field label, before, after)]`` in words (see :func:`core.changelog.change_rows`)."""
        from core.changelog import change_rows

        return change_rows(self)
