"""Report pages: the dashboard and the Sites list (counts), both scoped through the gate.

The downloads of the lists are in :mod:`reports.export_views`.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from core.scoping import CHANGE, VIEW, scope_for
from core.views import ledger_view
from inventory.models import Device
from reports.selectors import (
    active_people_by_site,
    device_counts_by_site,
    device_status_counts,
    device_total,
    holder_left_count,
    overdue_count,
)
from sites.models import Site


@ledger_view(VIEW)
def dashboard(request: HttpRequest) -> HttpResponse:
    """Devices by status for the user's sites, overdue check-outs and devices held by people
    who left; each number links to the device list showing exactly its rows."""
    counts = device_status_counts(user=request.user)
    rows = [(value, label, counts[value]) for value, label in Device.Status.choices]
    return render(
        request,
        "dashboard.html",
        {
            "status_rows": rows,
            "total": device_total(counts),
            "overdue": overdue_count(user=request.user),
            "held_by_leavers": holder_left_count(user=request.user),
            "can_check_out": scope_for(request.user).allows(CHANGE),
        },
    )


@ledger_view(VIEW)
def site_list(request: HttpRequest) -> HttpResponse:
    """The user's sites with device counts (retired ones apart, as on the dashboard and the
    site page) and active people counts."""
    sites = Site.objects.visible_to(request.user).order_by("name")
    device_counts = device_counts_by_site(user=request.user)
    people_counts = active_people_by_site(user=request.user)
    rows = [(site, *device_counts.get(site.pk, (0, 0)), people_counts.get(site.pk, 0)) for site in sites]
    return render(request, "reports/site_list.html", {"rows": rows})
