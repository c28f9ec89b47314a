"""Site pages and district settings."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from core.scoping import ADMIN, VIEW, forget_scope, get_visible_or_404
from core.views import ledger_view
from inventory.models import Device
from inventory.selectors import device_counts_by_site, device_status_counts, device_total
from people.models import Person
from sites.forms import DistrictForm
from sites.models import District, Site
from sites.services import district_update


@ledger_view(VIEW)
def site_list(request: HttpRequest) -> HttpResponse:
    """The user's sites with device counts (retired ones apart, as on the dashboard and the
    site page) and active people counts."""
    sites = Site.objects.visible_to(request.user).order_by("name")
    device_counts = device_counts_by_site(user=request.user)
    people_counts = dict(
        Person.objects.visible_to(request.user)
        .filter(status=Person.Status.ACTIVE)
        .order_by()
        .values_list("home_site")
        .annotate(n=Count("id"))
    )
    rows = [(site, *device_counts.get(site.pk, (0, 0)), people_counts.get(site.pk, 0)) for site in sites]
    return render(request, "sites/site_list.html", {"rows": rows})


@ledger_view(VIEW)
def site_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One site: its locations and devices by status."""
    site = get_visible_or_404(Site.objects.all(), request.user, VIEW, pk=pk)
    counts = device_status_counts(user=request.user, site_id=site.pk)
    return render(
        request,
        "sites/site_detail.html",
        {
            "site": site,
            "locations": site.locations.all(),
            "status_rows": [(label, value, counts[value]) for value, label in Device.Status.choices],
            "total": device_total(counts),
        },
    )


@ledger_view(ADMIN)
def district_settings(request: HttpRequest) -> HttpResponse:
    """District admins edit the district's settings."""
    form = DistrictForm(request.POST or None, instance=District.get())
    if request.method == "POST" and form.is_valid():
        district_update(actor=request.user, **form.cleaned_data)
        forget_scope(request.user)
        messages.success(request, "District settings saved.")
        return redirect("district_settings")
    return render(request, "sites/district_settings.html", {"form": form})
