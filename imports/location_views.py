"""The Snipe-IT locations page: district admins map Snipe-IT location names to sites
(:class:`imports.models.LocationMapping`), remembered for every later Snipe-IT import, as
Google org units are on the org units page."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from core.errors import DomainError
from core.scoping import ADMIN, get_visible_or_404
from core.types import Actor
from core.views import form_error, ledger_view
from imports.forms import LocationMappingForm
from imports.models import ImportIssue, LocationMapping
from imports.selectors import location_mapping_list
from imports.services import location_mapping_delete, location_mapping_save


def _unmapped(user: Actor) -> list[str]:
    """Snipe-IT locations the user's recent imports could not place (up to 50, by name): the
    values of the Location column's "not a site" errors, offered to map."""
    from imports.messages import Msg, say

    start = say(Msg.DEVICE_LOCATION_UNKNOWN).split(";")[0]  # the stable part of the words
    values = (
        ImportIssue.objects.visible_to(user)
        .filter(run__kind="snipeit", reason__startswith=start)
        .order_by()
        .values_list("value", flat=True)
        .distinct()[:200]
    )
    mapped = set(LocationMapping.objects.values_list("name_key", flat=True))
    found = {LocationMapping.key_of(v): v for v in values if v.strip()}
    return sorted((v for k, v in found.items() if k not in mapped), key=str.lower)[:50]


@ledger_view(ADMIN)
def locations(request: HttpRequest) -> HttpResponse:
    """List the mappings, add or replace one (a location name → a site)."""
    initial = {"name": request.GET.get("name", "")[:255]}
    form = LocationMappingForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            mapping = location_mapping_save(
                actor=request.user, name=form.cleaned_data["name"], site=form.cleaned_data["site"]
            )
        except DomainError as error:
            form_error(form, error)
        else:
            messages.success(request, f"Snipe-IT location {mapping.name} → {mapping.site.name} saved.")
            return redirect("imports:locations")
    context = {"form": form, "mappings": location_mapping_list(user=request.user), "unmapped": _unmapped(request.user)}
    return render(request, "imports/locations.html", context)


@require_POST
@ledger_view(ADMIN)
def location_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Forget one mapping."""
    mapping = get_visible_or_404(LocationMapping.objects.select_related("site"), request.user, ADMIN, pk=pk)
    location_mapping_delete(actor=request.user, mapping=mapping)
    messages.success(request, f"Snipe-IT location {mapping.name} is no longer mapped.")
    return redirect("imports:locations")
