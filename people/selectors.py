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


def person_search(queryset: QuerySet[Person], query: str) -> QuerySet[Person]:
    """Narrow ``queryset`` to people matching ``query`` (already cleaned, not blank).

    Matches a student number, sourcedId or email exactly, or the start of a family, given or
    preferred name in any case; two words match given (or preferred) + family name. Prefixes
    compare ``lower(name) LIKE 'abc%'`` so PostgreSQL uses the pattern indexes of
    ``people/migrations/0003_pattern_indexes.py``.
    """
    low = query.lower()
    qs = queryset.annotate(
        family_l=Lower("family_name"),
        given_l=Lower("given_name"),
        preferred_l=Lower("preferred_name"),
        email_l=Lower("email"),
    )
    cond = (
        Q(student_number=query)
        | Q(sourced_id=query)
        | Q(email_l=low)
        | Q(family_l__startswith=low)
        | Q(given_l__startswith=low)
        | Q(preferred_l__startswith=low)
    )
    parts = low.split()
    if len(parts) == 2:
        cond |= Q(given_l__startswith=parts[0], family_l__startswith=parts[1])
        cond |= Q(preferred_l__startswith=parts[0], family_l__startswith=parts[1])
    return qs.filter(cond)


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
    """People ``user`` may see. ``query`` matches a student number, sourcedId or email exactly,
    or the start of a family, given or preferred name (any case); two words match given + family."""
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
        .order_by("family_name", "given_name", "id")
    )


def person_find_exact(*, user: Actor, code: str) -> Person | None:
    """The one visible person whose student number, sourcedId or state id equals ``code`` (an ID-card scan)."""
    matches = list(person_matches_exact(user=user, code=code)[:2])
    return matches[0] if len(matches) == 1 else None
