"""Person pages: list with search, detail (holdings and history come as panels), lookup for check-out."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import redirect, render

from core.changelog import change_log_for
from core.paging import list_page
from core.scoping import VIEW, get_visible_or_404, scope_for
from core.views import HtmxHttpRequest, ledger_view
from people.models import Person
from people.selectors import PERSON_SORTS, person_find_exact, person_list, person_list_filters
from sites.models import Site


@ledger_view(VIEW)
def person_list_view(request: HtmxHttpRequest) -> HttpResponse:
    """Search people at the user's sites; a scanned student number opens the person. Shows how
    many match, sorts by a whitelisted column (``sort``: name, number, grade, status; ``-``
    for descending) and pages by keyset (``per_page``: 25–200)."""
    filters = person_list_filters(request.GET)
    q = filters["query"]
    if q and not request.htmx:
        match = person_find_exact(user=request.user, code=q)
        if match is not None:
            return redirect("person_detail", pk=match.pk)
    qs = person_list(user=request.user, **filters)
    whole_table = not any(filters.values()) and scope_for(request.user).site_ids(VIEW) is None
    listing = list_page(qs, request.GET, sorts=PERSON_SORTS, default="name", estimate=whole_table)
    context = {
        "listing": listing,
        "page": listing.page,
        "q": q,
        "role": filters["role"],
        "status": filters["status"],
        "site_id": filters["site_id"],
        "roles": Person.Role.choices,
        "statuses": Person.Status.choices,
        "sites": Site.objects.visible_to(request.user).order_by("name"),
    }
    return render(request, "people/_person_rows.html" if request.htmx else "people/person_list.html", context)


@ledger_view(VIEW)
def person_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """One person: details, guardians, and the panels other apps fill (``person_detail``, see
    :mod:`core.extensions`): what they hold now (custody), their device history (inventory)."""
    person = get_visible_or_404(Person.objects.select_related("home_site"), request.user, VIEW, pk=pk)
    return render(
        request,
        "people/person_detail.html",
        {
            "person": person,
            "guardians": person.guardians.all(),
            "change_log": change_log_for(obj=person, user=request.user),
        },
    )


@ledger_view(VIEW)
def person_lookup(request: HtmxHttpRequest) -> HttpResponse:
    """htmx autocomplete: up to 10 active people matching ``q`` (for the check-out page)."""
    q = request.GET.get("q", "")[:200]
    people = (
        person_list(user=request.user, query=q, status=Person.Status.ACTIVE).order_by("family_key", "given_key", "id")[
            :10
        ]
        if len(q.strip()) >= 2
        else []
    )
    return render(request, "people/_lookup.html", {"people": people, "q": q})
