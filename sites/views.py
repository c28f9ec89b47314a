"""Site pages and district settings. (The Sites list, a table of counts, is a report: ``reports.views``.)"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.db.models.functions import Lower
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from core.changelog import change_log_for
from core.errors import DomainError
from core.scoping import ADMIN, CHANGE, VIEW, forget_scope, get_visible_or_404
from core.views import form_error_messages, ledger_view
from sites.forms import DistrictForm, LocationForm
from sites.models import District, Location, Site
from sites.services import (
    LOCATION_NAME_TAKEN,
    district_update,
    location_create,
    location_delete,
    location_update,
)


@ledger_view(VIEW)
def site_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One site: its facts, the panels other apps fill (``site_detail``, see
    :mod:`core.extensions`: devices by status from reports) and its locations (active first,
    with how many devices each holds); whoever may change the site adds, renames, deactivates
    and deletes them there (:func:`location_action`)."""
    site = get_visible_or_404(Site.objects.all(), request.user, VIEW, pk=pk)
    locations = site.locations.annotate(device_count=Count("devices")).order_by("-active", Lower("name"), "name")
    may_change = Site.objects.visible_to(request.user, CHANGE).filter(pk=site.pk).exists()
    return render(
        request,
        "sites/site_detail.html",
        {
            "site": site,
            "locations": locations,
            "may_change_locations": may_change,
            "location_form": LocationForm(),
            "location_kinds": Location.Kind.choices,
            "change_log": change_log_for(obj=site, user=request.user),
        },
    )


LOCATION_ACTIONS = ("add", "rename", "deactivate", "reactivate", "delete")


@ledger_view(CHANGE)
def location_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """POST one change to a site's locations (``add``, ``rename``, ``deactivate``,
    ``reactivate``, ``delete``) through :mod:`sites.services` (logged on the site's history);
    the site must be one the user may change, the location one of that site's (404 otherwise).
    Refusals — a name the site already has, deleting a location that holds devices — come back
    as messages on the site page."""
    site = get_visible_or_404(Site.objects.all(), request.user, CHANGE, pk=pk)
    if action not in LOCATION_ACTIONS:
        raise Http404("No such action.")
    back = redirect(reverse("site_detail", args=[site.pk]) + "#locations")
    if request.method != "POST":
        return back
    try:
        if action == "add":
            form = LocationForm(request.POST)
            if not form.is_valid():
                return _errors(request, form, back)
            location = location_create(
                site=site, name=form.cleaned_data["name"], kind=form.cleaned_data["kind"], actor=request.user
            )
            messages.success(request, f"Location “{location.name}” added.")
            return back
        location = get_visible_or_404(
            Location.objects.filter(site=site), request.user, CHANGE, pk=request.POST.get("location", "")
        )
        if action == "rename":
            form = LocationForm(request.POST)
            if not form.is_valid():
                return _errors(request, form, back)
            old = location.name
            location_update(location=location, actor=request.user, **form.cleaned_data)
            messages.success(request, f"Location “{old}” saved as “{form.cleaned_data['name']}”.")
        elif action in ("deactivate", "reactivate"):
            location_update(location=location, actor=request.user, active=action == "reactivate")
            if action == "deactivate":
                messages.success(
                    request, f"“{location.name}” is inactive: it is no longer offered when moving devices."
                )
            else:
                messages.success(request, f"“{location.name}” is active again.")
        else:
            location_delete(location=location, actor=request.user)
            messages.success(request, f"Location “{location.name}” deleted.")
    except DomainError as error:
        messages.error(request, error.message)
    except ValidationError as error:
        for message in _validation_messages(error, site=site, name=request.POST.get("name", "")):
            messages.error(request, message)
    return back


def _errors(request: HttpRequest, form: LocationForm, back: HttpResponse) -> HttpResponse:
    for message in form_error_messages(form):
        messages.error(request, message)
    return back


def _validation_messages(error: ValidationError, *, site: Site, name: str) -> list[str]:
    """A model's validation error in words (a second location of the same name at the site)."""
    if hasattr(error, "message_dict"):
        out = []
        for field, texts in error.message_dict.items():
            for text in texts:
                if "location_unique_name_per_site" in text or "already exists" in text:
                    out.append(LOCATION_NAME_TAKEN.format(site=site.name, name=name.strip()))
                else:
                    out.append(text if field == "__all__" else f"{field.replace('_', ' ').capitalize()}: {text}")
        return out
    return list(error.messages)


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
