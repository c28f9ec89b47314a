"""Device models, devices (including accessories) and the append-only device event log."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from core.append_only import AppendOnlyModel, AppendOnlyQuerySetMixin
from core.scoping import DevicePersonScopedQuerySet, ReferenceQuerySet, Scope, ScopedQuerySet


class Manufacturer(models.Model):
    """A device maker (Acer, Apple, Dell, HP, Lenovo…). Serial numbers are unique per maker."""

    name = models.CharField(max_length=100, unique=True)

    objects = ReferenceQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class DeviceModel(models.Model):
    """A make and model of device, with its replacement cost (USD) and service life (months)."""

    class Category(models.TextChoices):
        CHROMEBOOK = "chromebook", "Chromebook"
        TABLET = "tablet", "Tablet"
        LAPTOP = "laptop", "Laptop"
        HOTSPOT = "hotspot", "Hotspot"
        CHARGER = "charger", "Charger"
        CASE = "case", "Case"
        STYLUS = "stylus", "Stylus"
        OTHER = "other", "Other"

    #: Categories that are accessories and can be bundled with a primary device.
    ACCESSORY_CATEGORIES = (Category.CHARGER, Category.CASE, Category.STYLUS, Category.HOTSPOT)

    manufacturer = models.ForeignKey(Manufacturer, on_delete=models.PROTECT, related_name="models")
    name = models.CharField("model name", max_length=150)
    model_number = models.CharField(max_length=100, blank=True)
    category = models.CharField(max_length=12, choices=Category.choices)
    replacement_cost = models.DecimalField(
        "replacement cost (USD)",
        max_digits=10,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=[MinValueValidator(Decimal("0"))],  # said on the field; the check constraint holds it too
    )
    service_life_months = models.PositiveSmallIntegerField("expected service life (months)", default=48)
    auto_update_expiration = models.DateField("ChromeOS auto-update expiration", null=True, blank=True)

    objects = ReferenceQuerySet.as_manager()

    class Meta:
        ordering = ["manufacturer__name", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["manufacturer", "name", "model_number"], name="devicemodel_unique_make_model"
            ),
            models.CheckConstraint(
                condition=models.Q(replacement_cost__gte=0), name="devicemodel_replacement_cost_nonnegative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.manufacturer.name} {self.name}"


class DeviceQuerySet(ScopedQuerySet):
    """Devices, scoped by owner site (decentralized) or current site (centralized)."""

    def scope_field(self, scope: Scope) -> str:
        return scope.device_site_field


class Device(models.Model):
    """One physical device or accessory the district lends.

    Asset tags and serial numbers are strings (leading zeros kept). Status, custody, site
    and location change only through ``inventory.services`` / ``custody.services``, which
    write a :class:`DeviceEvent` in the same transaction.
    """

    class Status(models.TextChoices):
        IN_STOCK = "in_stock", "In stock"
        ASSIGNED = "assigned", "Assigned"
        LOANER_POOL = "loaner_pool", "Loaner pool"
        IN_REPAIR = "in_repair", "In repair"
        LOST = "lost", "Lost"
        STOLEN = "stolen", "Stolen"
        RETIRED = "retired", "Retired"

    #: Statuses from which a device can be checked out.
    CHECKOUT_READY = (Status.IN_STOCK, Status.LOANER_POOL)

    class FundingSource(models.TextChoices):
        ESSER = "esser", "ESSER"
        ERATE = "erate", "E-Rate / ECF"
        GENERAL_FUND = "general_fund", "General fund"
        BOND = "bond", "Bond"
        SITE_FUNDS = "site_funds", "Site funds"
        GRANT = "grant", "Grant"
        OTHER = "other", "Other"

    asset_tag = models.CharField(max_length=64)
    serial_number = models.CharField(max_length=100, blank=True)
    manufacturer = models.ForeignKey(Manufacturer, on_delete=models.PROTECT, related_name="devices", editable=False)
    # Indexes for these three keys: see Meta.indexes (composites that start with them).
    model = models.ForeignKey(DeviceModel, on_delete=models.PROTECT, related_name="devices", db_index=False)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.IN_STOCK)
    owner_site = models.ForeignKey("sites.Site", on_delete=models.PROTECT, related_name="owned_devices", db_index=False)
    current_site = models.ForeignKey(
        "sites.Site", on_delete=models.PROTECT, related_name="present_devices", db_index=False
    )
    location = models.ForeignKey(
        # PROTECT: a location still holding devices is not deleted (they would lose their place
        # without a device event); sites.services.location_delete says so.
        "sites.Location",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="devices",
    )
    bundled_with = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="accessories",
        help_text="The primary device this accessory goes out and comes back with.",
    )
    purchase_date = models.DateField(null=True, blank=True)
    purchase_cost = models.DecimalField(
        "purchase cost (USD)",
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
    )
    purchase_order = models.CharField(max_length=64, blank=True)
    vendor = models.CharField(max_length=120, blank=True)
    funding_source = models.CharField(max_length=14, choices=FundingSource.choices, blank=True)
    warranty_end = models.DateField(null=True, blank=True)
    wifi_mac = models.CharField("Wi-Fi MAC", max_length=17, blank=True)
    google_device_id = models.CharField("Google device id", max_length=64, blank=True)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = DeviceQuerySet.as_manager()

    class Meta:
        ordering = ["asset_tag", "id"]
        constraints = [
            models.UniqueConstraint(
                Lower("asset_tag"),
                condition=~models.Q(status="retired"),
                name="device_unique_live_asset_tag",
                violation_error_message="Another live device already has this asset tag.",
            ),
            models.UniqueConstraint(
                "manufacturer",
                Lower("serial_number"),
                condition=~models.Q(serial_number=""),
                name="device_unique_serial_per_manufacturer",
                violation_error_message="This manufacturer already has a device with this serial number.",
            ),
            models.CheckConstraint(
                condition=models.Q(purchase_cost__isnull=True) | models.Q(purchase_cost__gte=0),
                name="device_purchase_cost_nonnegative",
            ),
            models.CheckConstraint(condition=~models.Q(asset_tag=""), name="device_asset_tag_not_blank"),
        ]
        indexes = [
            models.Index(fields=["asset_tag", "id"], name="device_tag_id"),
            models.Index(Lower("asset_tag"), name="device_asset_tag_lower"),
            # Scanning looks a serial up across makers: the unique index above starts with the maker.
            models.Index(Lower("serial_number"), name="device_serial_lower"),
            models.Index(fields=["status"], name="device_status"),
            models.Index(fields=["current_site", "status"], name="device_current_site_status"),
            models.Index(fields=["owner_site", "status"], name="device_owner_site_status"),
            models.Index(fields=["current_site", "asset_tag", "id"], name="device_current_site_tag"),
            models.Index(fields=["owner_site", "asset_tag", "id"], name="device_owner_site_tag"),
            models.Index(fields=["model"], name="device_model"),
        ]

    def __str__(self) -> str:
        return self.asset_tag

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Keep the denormalized manufacturer in step with the model (for serial uniqueness)."""
        update_fields = kwargs.get("update_fields")
        if self.model_id and (update_fields is None or "model" in update_fields):
            self.manufacturer_id = DeviceModel.objects.values_list("manufacturer_id", flat=True).get(pk=self.model_id)
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "manufacturer"}
        super().save(*args, **kwargs)


class DeviceEventQuerySet(AppendOnlyQuerySetMixin, DevicePersonScopedQuerySet):
    """Events, seen by those who see their device or their person (a school keeps its students'
    history after a device leaves it); changed only through the device's scope. Append-only:
    bulk update and delete are refused."""


class DeviceEvent(AppendOnlyModel):
    """One append-only entry in a device's history: who did what, when, before → after.

    Labels (``actor_label``, ``person_label``, ``site`` names in ``before``/``after``) are
    stored as text so history stays readable after people or staff users are removed.
    Append-only through :mod:`core.append_only`: the ORM refuses changes and the database's
    triggers (migration ``0006``) refuse UPDATE and DELETE, except setting ``actor`` or
    ``person`` to NULL when that user or person is removed.
    """

    append_only_message = "The device event log is append-only."

    class Kind(models.TextChoices):
        CREATED = "created", "Added to inventory"
        UPDATED = "updated", "Details changed"
        CHECKED_OUT = "checked_out", "Checked out"
        CHECKED_IN = "checked_in", "Checked in"
        TRANSFERRED = "transferred", "Transferred to another site"
        MOVED = "moved", "Moved to a location"
        STATUS_CHANGED = "status_changed", "Status changed"
        BUNDLED = "bundled", "Bundle changed"

    class Source(models.TextChoices):
        WEB = "web", "Web"
        IMPORT = "import", "Import"
        API = "api", "API"
        COMMAND = "command", "Command"
        SYSTEM = "system", "System"

    device = models.ForeignKey(Device, on_delete=models.PROTECT, related_name="events", db_index=False)
    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=150, blank=True)
    person = models.ForeignKey(
        "people.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="device_events", db_index=False
    )
    person_label = models.CharField(max_length=200, blank=True)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    note = models.TextField(blank=True)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.WEB)
    import_run_id = models.BigIntegerField(null=True, blank=True, help_text="The import this change came from.")

    objects = DeviceEventQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["device", "-occurred_at", "-id"], name="event_device_time"),
            models.Index(fields=["person", "-occurred_at", "-id"], name="event_person_time"),
        ]

    def __str__(self) -> str:
        return f"{self.device_id} {self.kind} at {self.occurred_at:%Y-%m-%d %H:%M}"


class DeviceLastSeen(models.Model):
    """What Google Admin last reported about a ChromeOS device ("last seen" facts).

    Written by the Google Admin import (``imports.google``) from a GAM ``print cros`` CSV or
    the Admin console's download; one row per device, replaced by each import that lists
    the device. These are observations, not custody: the recent user is who signed in last,
    not who holds the device. ``last_sync`` is aware UTC; ``auto_update_expiration`` is the
    device's AUE date (Google's epoch milliseconds read as a UTC date); ``google_status`` is
    Google's text (``ACTIVE``, ``DISABLED``, ``DEPROVISIONED``…); ``source_run_id`` is the
    import that last changed these facts.
    """

    device = models.OneToOneField(Device, on_delete=models.CASCADE, related_name="last_seen")
    last_sync = models.DateTimeField(null=True, blank=True)
    recent_user = models.CharField("most recent user", max_length=254, blank=True)
    os_version = models.CharField("OS version", max_length=64, blank=True)
    auto_update_expiration = models.DateField("auto-update expiration", null=True, blank=True)
    boot_mode = models.CharField(max_length=32, blank=True)
    google_status = models.CharField("status in Google Admin", max_length=32, blank=True)
    source_run_id = models.BigIntegerField(null=True, blank=True, help_text="The import that last changed these facts.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "last seen in Google Admin"
        verbose_name_plural = "last seen in Google Admin"

    def __str__(self) -> str:
        return (
            f"{self.device_id} last synced {self.last_sync:%Y-%m-%d %H:%M}" if self.last_sync else str(self.device_id)
        )
