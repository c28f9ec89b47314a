"""What reports show on the pages of lower apps (registered by :class:`reports.apps.ReportsConfig`).

* ``site_detail``: "Devices by status" at the site (the same counts as the dashboard's, each
  linking to the device list of exactly those rows).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from core import extensions
from inventory.models import Device
from reports.selectors import device_status_counts, device_total, holder_left_count, overdue_count


def _site_devices(request: HttpRequest, site: Any) -> dict[str, Any]:
    counts = device_status_counts(user=request.user, site_id=site.pk)
    return {
        "status_rows": [(label, value, counts[value]) for value, label in Device.Status.choices],
        "total": device_total(counts),
        "overdue": overdue_count(user=request.user, site_id=site.pk),
        "held_by_leavers": holder_left_count(user=request.user, site_id=site.pk),
    }


def register(registry: extensions.Extensions = extensions.registry) -> None:
    """Fill reports' places in ``registry``."""
    registry.register_panel(
        "site_detail", name="reports.site_devices", template="reports/_site_devices.html", context=_site_devices
    )
