"""Site pages and district settings. (The Sites list, a table of counts, is a report: ``reports.views``.)"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from core.changelog import change_log_for
from core.scoping import ADMIN, VIEW, forget_scope, get_visible_or_404
from core.views import ledger_view
from sites.forms import DistrictForm
from sites.models import District, Site
from sites.services import district_update


@ledger_view(VIEW)
def site_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One site: its facts, the panels other apps fill (``site_detail``, see
    :mod:`core.extensions`: devices by status from reports) and its locations."""
    site = get_visible_or_404(Site.objects.all(), request.user, VIEW, pk=pk)
    return render(
        request,
        "sites/site_detail.html",
        {"site": site, "locations": site.locations.all(), "change_log": change_log_for(obj=site, user=request.user)},
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
    return render(
        request,
        "sites/district_settings.html",
        {"form": form, "change_log": change_log_for(obj=form.instance, user=request.user)},
    )
