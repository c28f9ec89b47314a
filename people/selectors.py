"""Reads of people shared by views and exports. All go through the scoping gate."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import Q, QuerySet
from django.db.models.functions import Lower

from core.querystring import query_id, query_param, scan_clean
from core.scoping import VIEW
from core.types import Actor
from people.models import Person
from people.rules import search_key


def person_search(queryset: QuerySet[Person], query: str) -> QuerySet[Person]:
    """Narrow ``queryset`` to people matching ``query`` (already cleaned, not blank).

    Matches a student number, sourcedId or email exactly, or the start of a family, given or
    preferred name ignoring accents and case (José = jose, Acuña = ACUNA: the names' search
    keys, ``people.rules.search_key``); two words match given (or preferred) + family name or
    family + given (or preferred) name ("Abbott Christopher", as the lists show names), and
    "family, given" matches too. An email is matched whole (ignoring case), not by its start
    (the search box says "full email"). Prefixes compare
    ``family_key LIKE 'acu%'``, which PostgreSQL answers from the keys' pattern indexes.
    Every name search goes through here: the people list and its export, the check-out name
    suggestions and bulk check-out (``person_list``), the device list's holder search
    (custody's list hook).
    """
    key = search_key(query).strip()
    cond = (
        Q(student_number=query)
        | Q(sourced_id=query)
        | Q(email_l=query.lower())
        | Q(family_key__startswith=key)
        | Q(given_key__startswith=key)
        | Q(preferred_key__startswith=key)
    )
    if "," in key:
        family, _, given = (part.strip() for part in key.partition(","))
        if family and given:
            cond |= Q(family_key__startswith=family, given_key__startswith=given)
            cond |= Q(family_key__startswith=family, preferred_key__startswith=given)
    parts = key.split()
    if len(parts) == 2:
        cond |= Q(given_key__startswith=parts[0], family_key__startswith=parts[1])
        cond |= Q(preferred_key__startswith=parts[0], family_key__startswith=parts[1])
        cond |= Q(family_key__startswith=parts[0], given_key__startswith=parts[1])
        cond |= Q(family_key__startswith=parts[0], preferred_key__startswith=parts[1])
    return queryset.annotate(email_l=Lower("email")).filter(cond)


#: Sort keys of the people list: key → the columns of its order (each ends with ``id``).
PERSON_SORTS: dict[str, tuple[str, ...]] = {
    "name": ("family_key", "given_key"),
    "number": ("student_number",),
    "status": ("status", "family_key", "given_key"),
}


def person_list_filters(params: Mapping[str, Any] | None) -> dict[str, Any]:
    """The people list's filters read from a query string, as keyword arguments of
    :func:`person_list`: ``q``, ``site``, ``role``, ``status``. The list page and its export
    both read them here; bad values are dropped, never raise."""
    role = query_param(params, "role", 40)
    status = query_param(params, "status", 40)
    return {
        "query": query_param(params, "q"),
        "site_id": query_id(params, "site"),
        "role": role if role in Person.Role.values else "",
        "status": status if status in Person.Status.values else "",
    }


def person_list(
    *, user: Actor, query: str = "", site_id: int | None = None, role: str = "", status: str = "", action: str = VIEW
) -> QuerySet[Person]:
    """People ``user`` may see, unordered. ``query``: see :func:`person_search` (accents and
    case ignored)."""
    qs = Person.objects.visible_to(user, action).select_related("home_site")
    if site_id:
        qs = qs.filter(home_site_id=site_id)
    if role:
        qs = qs.filter(role=role)
    if status:
        qs = qs.filter(status=status)
    q = scan_clean(query)
    return person_search(qs, q) if q else qs


def person_matches_exact(*, user: Actor, code: str) -> QuerySet[Person]:
    """The visible people whose student number, sourcedId or state id equals ``code`` (an
    ID-card scan): one, none, or several when people share a number."""
    code = scan_clean(code)
    if not code:
        return Person.objects.none()
    return (
        Person.objects.visible_to(user)
        .filter(Q(student_number=code) | Q(sourced_id=code) | Q(state_id=code))
        .order_by("family_key", "given_key", "id")
    )


def person_find_exact(*, user: Actor, code: str) -> Person | None:
    """The one visible person whose student number, sourcedId or state id equals ``code`` (an ID-card scan)."""
    matches = list(person_matches_exact(user=user, code=code)[:2])
    return matches[0] if len(matches) == 1 else None
