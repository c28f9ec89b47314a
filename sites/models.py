"""The district (one per deployment), its sites and the locations inside them."""

from __future__ import annotations

from zoneinfo import ZoneInfo, available_timezones

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from core.scoping import ScopedQuerySet


def validate_time_zone(value: str) -> None:
    """Reject anything that is not an IANA time zone name (e.g. ``America/Chicago``)."""
    if value not in available_timezones():
        raise ValidationError(f"'{value}' is not an IANA time zone name such as America/Chicago.")


class District(models.Model):
    """District-wide settings. Exactly one row (pk=1); read it with :meth:`District.get`."""

    class OwnershipMode(models.TextChoices):
        CENTRALIZED = "centralized", "Centralized (the district owns every device)"
        DECENTRALIZED = "decentralized", "Decentralized (each device has an owner site)"

    class FeeCollector(models.TextChoices):
        DISTRICT = "district", "The district collects fees"
        SITE = "site", "Each site collects its own fees"

    name = models.CharField(max_length=200, default="Demo Unified School District")
    time_zone = models.CharField(max_length=64, default="America/Chicago", validators=[validate_time_zone])
    ownership_mode = models.CharField(max_length=16, choices=OwnershipMode.choices, default=OwnershipMode.CENTRALIZED)
    fee_collector = models.CharField(max_length=16, choices=FeeCollector.choices, default=FeeCollector.DISTRICT)
    school_year_start_month = models.PositiveSmallIntegerField(
        default=8, validators=[MinValueValidator(1), MaxValueValidator(12)]
    )
    school_year_start_day = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(31)]
    )
    scanner_prefix = models.CharField(
        max_length=10,
        blank=True,
        help_text="Characters your barcode scanners type before every code (e.g. ~); removed from every scan. "
        "Tab, Enter and other control characters are always removed.",
    )
    scanner_suffix = models.CharField(
        max_length=10,
        blank=True,
        help_text="Characters your barcode scanners type after every code (before any Tab or Enter); removed "
        "from every scan.",
    )

    class SecondDevicePolicy(models.TextChoices):
        WARN = "warn", "Warn, and check it out"
        REFUSE = "refuse", "Refuse the check-out"
        ALLOW = "allow", "Allow without a word"

    second_device_policy = models.CharField(
        "second device of the same category",
        max_length=8,
        choices=SecondDevicePolicy.choices,
        default=SecondDevicePolicy.WARN,
        help_text="What check-out does when the person already holds a device of the same category "
        "(a second Chromebook). Loaners are always allowed, with a warning.",
    )
    default_due_month = models.PositiveSmallIntegerField(
        "default due date: month",
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(12)],
        help_text="Check-out pre-fills the next such date (e.g. the last day of the school year). Empty: no due date.",
    )
    default_due_day = models.PositiveSmallIntegerField(
        "default due date: day", null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(31)]
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(pk=1), name="district_singleton")]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def get(cls) -> District:
        """Return the district settings row, creating it with defaults when missing."""
        district, _ = cls.objects.get_or_create(pk=1)
        return district

    @property
    def tzinfo(self) -> ZoneInfo:
        """The district's time zone as a ``ZoneInfo``."""
        return ZoneInfo(self.time_zone)

    def clean(self) -> None:
        """The school year's first day, and the default due date when set (both month and day,
        or neither), are days of their month (a leap year's: 29 February is allowed). A month or day outside 1–12 / 1–31 is its own field's error (the validators),
        not said again here."""
        import datetime

        due_month, due_day = self.default_due_month, self.default_due_day
        if (due_month is None) != (due_day is None):
            field = "default_due_day" if due_day is None else "default_due_month"
            raise ValidationError({field: "Give both the month and the day of the default due date, or neither."})
        if due_month is not None and due_day is not None and 1 <= due_month <= 12 and 1 <= due_day <= 31:
            try:
                datetime.date(2024, due_month, due_day)
            except ValueError as exc:
                raise ValidationError({"default_due_day": "Not a day of that month."}) from exc
        month, day = self.school_year_start_month, self.school_year_start_day
        if not (isinstance(month, int) and isinstance(day, int) and 1 <= month <= 12 and 1 <= day <= 31):
            return
        try:
            datetime.date(2024, month, day)
        except ValueError as exc:
            raise ValidationError({"school_year_start_day": "Not a day of that month."}) from exc


class SiteQuerySet(ScopedQuerySet):
    """Sites, scoped by the site itself."""

    scope_site_field = "id"


class Site(models.Model):
    """A school or other building (district office, warehouse, repair depot)."""

    class Kind(models.TextChoices):
        SCHOOL = "school", "School"
        DISTRICT_OFFICE = "district_office", "District office"
        WAREHOUSE = "warehouse", "Warehouse"
        REPAIR_DEPOT = "repair_depot", "Repair depot"

    code = models.CharField(max_length=32, unique=True, help_text="Short unique code, e.g. LIN-MS.")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.SCHOOL)
    grades = models.CharField(
        max_length=120, blank=True, help_text="Grades served, CEDS codes separated by commas (KG,01,02)."
    )
    state_id = models.CharField("state / NCES id", max_length=40, blank=True)
    sourced_id = models.CharField("OneRoster sourcedId", max_length=255, blank=True)
    active = models.BooleanField(default=True)

    objects = SiteQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["sourced_id"], condition=~models.Q(sourced_id=""), name="site_unique_sourced_id"
            )
        ]

    def __str__(self) -> str:
        return self.name


class LocationQuerySet(ScopedQuerySet):
    """Locations, scoped by their site."""

    scope_site_field = "site_id"


class Location(models.Model):
    """A room, cart or shelf within a site."""

    class Kind(models.TextChoices):
        ROOM = "room", "Room"
        CART = "cart", "Cart"
        SHELF = "shelf", "Shelf"
        OTHER = "other", "Other"

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="locations")
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.ROOM)
    active = models.BooleanField(default=True)

    objects = LocationQuerySet.as_manager()

    class Meta:
        ordering = ["site__name", "name"]
        constraints = [models.UniqueConstraint(fields=["site", "name"], name="location_unique_name_per_site")]

    def __str__(self) -> str:
        return f"{self.name} ({self.site.code})"
