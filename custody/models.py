"""Custody: who holds a device, from when to when."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from core.scoping import DevicePersonScopedQuerySet


class AssignmentQuerySet(DevicePersonScopedQuerySet):
    """Assignments, seen by those who see their device or their holder (a school keeps its
    students' custody record after a device leaves it); changed only through the device's scope."""

    def open(self) -> AssignmentQuerySet:
        """Assignments not yet checked in."""
        return self.filter(checked_in_at__isnull=True)


class Assignment(models.Model):
    """A device in someone's custody: checked out at/by, due, checked in at/by.

    Exactly one open assignment (``checked_in_at`` empty) per device, enforced by the
    partial unique index ``assignment_one_open_per_device`` as well as by
    ``custody.services.device_check_out``. The holder is a person today; ``holder_label``
    keeps the name readable after the person is removed. Due dates are dates, not times.
    """

    class Condition(models.TextChoices):
        NEW = "new", "New"
        GOOD = "good", "Good"
        FAIR = "fair", "Fair"
        DAMAGED = "damaged", "Damaged"
        BROKEN = "broken", "Broken / not working"
        MISSING_PARTS = "missing_parts", "Missing parts"

    device = models.ForeignKey("inventory.Device", on_delete=models.PROTECT, related_name="assignments")
    person = models.ForeignKey(
        "people.Person",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assignments",
        db_index=False,  # indexed by assignment_person_open (person, checked_in_at)
    )
    holder_label = models.CharField(max_length=200)
    is_loaner = models.BooleanField(default=False)
    checked_out_at = models.DateTimeField()
    checked_out_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    checked_out_by_label = models.CharField(max_length=150, blank=True)
    due_on = models.DateField("due date", null=True, blank=True)
    condition_out = models.CharField(max_length=14, choices=Condition.choices, default=Condition.GOOD)
    checked_in_at = models.DateTimeField(null=True, blank=True)
    checked_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    checked_in_by_label = models.CharField(max_length=150, blank=True)
    condition_in = models.CharField(max_length=14, choices=Condition.choices, blank=True)
    notes = models.TextField(blank=True)
    submission_key = models.CharField(
        max_length=64,
        null=True,
        blank=True,
        unique=True,
        help_text="One-time key of the form that created this assignment; a re-submitted form finds it.",
    )

    objects = AssignmentQuerySet.as_manager()

    class Meta:
        ordering = ["-checked_out_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["device"],
                condition=models.Q(checked_in_at__isnull=True),
                name="assignment_one_open_per_device",
                violation_error_message="This device is already checked out.",
            ),
            models.CheckConstraint(
                condition=models.Q(checked_in_at__isnull=True)
                | models.Q(checked_in_at__gte=models.F("checked_out_at")),
                name="assignment_checked_in_after_out",
            ),
        ]
        indexes = [
            models.Index(fields=["person", "checked_in_at"], name="assignment_person_open"),
            models.Index(fields=["due_on"], condition=models.Q(checked_in_at__isnull=True), name="assignment_open_due"),
        ]

    def __str__(self) -> str:
        return f"{self.device} → {self.holder_label}"

    @property
    def is_open(self) -> bool:
        return self.checked_in_at is None

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("Assignments are history; check the device in instead of deleting.")


class Submission(models.Model):
    """A form's one-time key, bound to the user who sent it and to what it carried.

    The check-out and check-in scan forms and the bulk forms send a fresh key with each
    submission. The first request with a key records it here (``result`` empty while it runs)
    and stores what it answered; the same key again from the same user with the same content
    (a double-click, a re-sent form) gets that answer back and does nothing twice; the same key
    with another user or other content is refused (``custody.services.submission_claim``).
    ``fingerprint`` is the SHA-256 (hex) of the operation and its content; ``result`` is the
    JSON the page shows (a scan's result, a bulk run's lines).
    """

    key = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    operation = models.CharField(max_length=32)
    fingerprint = models.CharField(max_length=64)
    result = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"{self.operation} {self.key}"
