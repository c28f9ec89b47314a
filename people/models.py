"""Students and staff as records (not logins), and students' guardian contacts."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models.functions import Lower

from core.choices import GRADE_CODES
from core.scoping import ScopedQuerySet
from people import rules


class PersonQuerySet(ScopedQuerySet):
    """People, scoped by their home site (FERPA: a school's staff see only their school)."""

    scope_site_field = "home_site_id"


class Person(models.Model):
    """A student or staff member who can hold devices. Identified by the SIS's sourcedId.

    Student numbers, state ids and sourcedIds are strings: leading zeros matter.
    """

    class Role(models.TextChoices):
        STUDENT = "student", "Student"
        STAFF = "staff", "Staff"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        INACTIVE = "inactive", "Inactive"
        WITHDRAWN = "withdrawn", "Withdrawn"
        GRADUATED = "graduated", "Graduated"
        TRANSFERRED = "transferred", "Transferred"

    #: Statuses that may receive devices: the rule is ``people.rules.may_receive_devices``.
    CAN_RECEIVE_DEVICES = rules.CAN_RECEIVE_DEVICES

    role = models.CharField(max_length=10, choices=Role.choices, default=Role.STUDENT)
    sourced_id = models.CharField("sourcedId", max_length=255, blank=True)
    student_number = models.CharField(max_length=64, blank=True)
    state_id = models.CharField("state id", max_length=64, blank=True)
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    preferred_name = models.CharField(max_length=100, blank=True)
    email = models.EmailField(blank=True)
    grade = models.CharField(max_length=5, choices=GRADE_CODES, blank=True)
    graduation_year = models.PositiveSmallIntegerField(null=True, blank=True)
    home_site = models.ForeignKey(
        "sites.Site", on_delete=models.PROTECT, related_name="people", db_index=False
    )  # indexed by person_site_name
    homeroom = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.ACTIVE)
    fee_reduction_eligible = models.BooleanField(
        default=False, help_text="Eligible for reduced fees (e.g. free/reduced-price meals). Sensitive."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # The names as search and sorting compare them (``people.rules.search_key``: accents and
    # case ignored). Derived, never edited: ``save()`` fills them; the bulk writers
    # (``people.bulk``) and the demo generator write them beside the names.
    family_key = models.CharField(max_length=rules.SEARCH_KEY_MAX, blank=True, default="", editable=False)
    given_key = models.CharField(max_length=rules.SEARCH_KEY_MAX, blank=True, default="", editable=False)
    preferred_key = models.CharField(max_length=rules.SEARCH_KEY_MAX, blank=True, default="", editable=False)

    objects = PersonQuerySet.as_manager()

    #: The names each key is derived from.
    SEARCH_KEYS = {"family_key": "family_name", "given_key": "given_name", "preferred_key": "preferred_name"}

    class Meta:
        verbose_name_plural = "people"
        ordering = ["family_key", "given_key", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["sourced_id"], condition=~models.Q(sourced_id=""), name="person_unique_sourced_id"
            ),
        ]
        indexes = [
            models.Index(fields=["student_number"], name="person_student_number"),
            # The list's order (family, given, id), alone and within a site (the gate's field).
            models.Index(fields=["home_site", "family_key", "given_key", "id"], name="person_site_key"),
            models.Index(fields=["family_key", "given_key", "id"], name="person_key_id"),
            # Prefix search (``LIKE 'acu%'``): the pattern operator class on PostgreSQL, whose
            # collation is not "C"; other databases ignore ``opclasses``.
            models.Index(fields=["family_key"], name="person_family_key_pattern", opclasses=["text_pattern_ops"]),
            models.Index(fields=["given_key"], name="person_given_key_pattern", opclasses=["text_pattern_ops"]),
            models.Index(fields=["preferred_key"], name="person_preferred_key_pattern", opclasses=["text_pattern_ops"]),
            models.Index(Lower("email"), name="person_email_lower"),
        ]

    def __str__(self) -> str:
        return self.display_name

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Save, with the search keys derived from the names (also when ``update_fields``
        names a name: its key is saved with it)."""
        self.fill_search_keys()
        fields = kwargs.get("update_fields")
        if fields is not None:
            names = set(fields)
            kwargs["update_fields"] = names | {k for k, n in self.SEARCH_KEYS.items() if n in names}
        super().save(*args, **kwargs)

    def fill_search_keys(self) -> None:
        """Set ``family_key``, ``given_key`` and ``preferred_key`` from the names
        (:func:`people.rules.search_key`)."""
        for key, name in self.SEARCH_KEYS.items():
            setattr(self, key, rules.search_key(getattr(self, name) or ""))

    @property
    def display_name(self) -> str:
        """``Preferred-or-given Family``, e.g. "Maria Lopez"."""
        return f"{self.preferred_name or self.given_name} {self.family_name}".strip()

    @property
    def label(self) -> str:
        """Text kept in history rows so they stay readable if the person is removed."""
        number = f" #{self.student_number}" if self.student_number else ""
        return f"{self.display_name}{number}"


class GuardianContact(models.Model):
    """A parent or guardian of a student (several per student)."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="guardians")
    sourced_id = models.CharField("sourcedId", max_length=255, blank=True, db_index=True)
    name = models.CharField(max_length=200)
    relationship = models.CharField(max_length=40, blank=True, help_text="parent, guardian, relative…")
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    preferred_language = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering = ["person", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.relationship or 'contact'})"
