"""Serial numbers are unique per manufacturer ignoring case: the unique constraint over
(manufacturer, serial_number) becomes a unique index over (manufacturer, lower(serial_number)),
as the asset tag's ``device_unique_live_asset_tag`` is over ``lower(asset_tag)``.

Devices that already share a serial number in another case stop the migration with their asset
tags named (correct one serial number, then migrate again): no serial is changed silently."""

from django.db import migrations, models
from django.db.models import Count, Min
from django.db.models.functions import Lower


def refuse_serials_differing_only_in_case(apps, schema_editor):
    Device = apps.get_model("inventory", "Device")
    clashes = (
        Device.objects.exclude(serial_number="")
        .annotate(serial_lower=Lower("serial_number"))
        .values("manufacturer_id", "serial_lower")
        .annotate(n=Count("id"), first=Min("id"))
        .filter(n__gt=1)
        .order_by("first")
    )
    lines = []
    for clash in clashes[:20]:
        tags = Device.objects.annotate(serial_lower=Lower("serial_number")).filter(
            manufacturer_id=clash["manufacturer_id"], serial_lower=clash["serial_lower"]
        )
        lines.append(", ".join(f"{d.asset_tag} (serial {d.serial_number})" for d in tags.order_by("id")))
    if lines:
        raise RuntimeError(
            "These devices of one manufacturer have serial numbers that differ only in case; serial "
            "numbers are unique ignoring case. Correct them, then migrate again:\n" + "\n".join(lines)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0007_location_protect"),
        ("sites", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(refuse_serials_differing_only_in_case, migrations.RunPython.noop, elidable=True),
        migrations.RemoveConstraint(
            model_name="device",
            name="device_unique_serial_per_manufacturer",
        ),
        migrations.AddConstraint(
            model_name="device",
            constraint=models.UniqueConstraint(
                models.F("manufacturer"),
                Lower("serial_number"),
                condition=models.Q(("serial_number", ""), _negated=True),
                name="device_unique_serial_per_manufacturer",
                violation_error_message="This manufacturer already has a device with this serial number.",
            ),
        ),
    ]
