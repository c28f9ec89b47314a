"""Reads of devices shared by views, exports and reports. All go through the scoping gate."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Lower
from django.utils import timezone

from core.forms import parse_id
from core.scoping import HIDDEN_PERSON, VIEW, person_visibility, scope_for
from custody.models import Assignment
from inventory.models import Device, DeviceEvent
from people.models import Person

#: Devices matched through their holder's name are capped (a one-letter name prefix can match
#: tens of thousands of people); asset tag and serial matches are not.
HOLDER_MATCH_LIMIT = 2000


def scan_clean(code: str) -> str:
    """Clean what a barcode scanner typed: strip whitespace, control characters and a trailing Enter/Tab."""
    return "".join(ch for ch in (code or "") if ch.isprintable()).strip()[:200]


#: Longest search text the lists read from a query string.
QUERY_MAX = 200


def query_param(params: Mapping[str, Any] | None, name: str, limit: int = QUERY_MAX) -> str:
    """A query-string value as text (``request.GET`` gives the last of repeated values), at
    most ``limit`` characters; ``""`` when absent or not text."""
    value = params.get(name, "") if params else ""
    return value[:limit] if isinstance(value, str) else ""


def query_id(params: Mapping[str, Any] | None, name: str) -> int | None:
    """A database id from a query string, ``None`` when absent or not an id."""
    raw = query_param(params, name, 40)
    return parse_id(raw) if raw else None


def device_list_filters(params: Mapping[str, Any] | None) -> dict[str, Any]:
    """The device list's filters read from a query string, as keyword arguments of
    :func:`device_list`: ``q``, ``site``, ``model``, ``status`` and ``overdue=1``.

    The list page and its export (``imports.exports``) both read their filters here, so
    an export holds exactly the devices the list shows. Bad values are dropped, never raise.
    """
    status = query_param(params, "status", 40)
    return {
        "query": query_param(params, "q"),
        "site_id": query_id(params, "site"),
        "model_id": query_id(params, "model"),
        "status": status if status in Device.Status.values else "",
        "overdue": query_param(params, "overdue", 10) == "1",
    }


def device_list(
    *,
    user: Any,
    query: str = "",
    site_id: int | None = None,
    model_id: int | None = None,
    status: str = "",
    overdue: bool = False,
    action: str = VIEW,
) -> QuerySet[Device]:
    """Devices ``user`` may see, filtered.

    ``query`` matches the start of an asset tag or serial number (any case), a holder's
    student number exactly, or the start of a holder's family or given name. ``site_id``
    matches the current site. Each device is annotated with ``holder`` (the open
    assignment's holder label, or None). Returns an unordered queryset (callers page it).
    """
    # The holder's name only when the viewer may see that person (FERPA).
    holder_rows = Assignment.objects.filter(device=OuterRef("pk"), checked_in_at__isnull=True)
    if not scope_for(user).allows_everywhere(VIEW):  # everyone is visible to district-wide roles
        holder_rows = holder_rows.filter(Q(person__isnull=True) | Q(person__in=Person.objects.visible_to(user)))
    open_holder = holder_rows.values("holder_label")[:1]
    qs = (
        Device.objects.visible_to(user, action)
        .select_related("model__manufacturer", "current_site", "location")
        .annotate(holder=Subquery(open_holder))
    )
    if site_id:
        qs = qs.filter(current_site_id=site_id)
    if model_id:
        qs = qs.filter(model_id=model_id)
    if status:
        qs = qs.filter(status=status)
    if overdue:
        qs = qs.filter(pk__in=assignment_overdue(user=user).values("device_id"))
    q = scan_clean(query)
    if q:
        from people.selectors import person_search

        low = q.lower()
        # Holders are matched like the person search, and only among the people the user may
        # see (a search term never reveals another school's student through their devices).
        # The held devices are fetched first (at most HOLDER_MATCH_LIMIT) so the database can
        # combine three index scans (tag prefix, serial prefix, ids) instead of scanning devices.
        holders = person_search(Person.objects.visible_to(user), q).values("pk")
        held = list(
            Assignment.objects.filter(checked_in_at__isnull=True, person__in=holders).values_list(
                "device_id", flat=True
            )[:HOLDER_MATCH_LIMIT]
        )
        qs = qs.annotate(tag_l=Lower("asset_tag"), serial_l=Lower("serial_number")).filter(
            Q(tag_l__startswith=low) | Q(serial_l__startswith=low) | Q(pk__in=held)
        )
    return qs


def device_find_exact(*, user: Any, code: str, action: str = VIEW) -> Device | None:
    """The one device whose asset tag or serial number equals ``code`` (any case), as a scanner types it.

    Prefers a live device over a retired one with the same tag. ``None`` when there is
    no match or the match is ambiguous.
    """
    code = scan_clean(code)
    if not code:
        return None
    low = code.lower()
    visible = Device.objects.visible_to(user, action).annotate(tag_l=Lower("asset_tag"))
    by_tag = list(visible.filter(tag_l=low).order_by("id")[:5])
    live = [d for d in by_tag if d.status != Device.Status.RETIRED]
    if len(live) == 1:
        return live[0]
    if len(by_tag) == 1:
        return by_tag[0]
    by_serial = list(
        Device.objects.visible_to(user, action).annotate(serial_l=Lower("serial_number")).filter(serial_l=low)[:2]
    )
    return by_serial[0] if len(by_serial) == 1 else None


def redact_holder(values: Any) -> Any:
    """An event's before/after dict with the holder's name replaced (for viewers who may not see them)."""
    if isinstance(values, dict) and values.get("holder"):
        return {**values, "holder": HIDDEN_PERSON}
    return values


def device_timeline(*, device: Device, user: Any, limit: int = 200) -> list[DeviceEvent]:
    """A device's latest events, newest first (the caller resolved ``device`` through the gate).

    Each event gets ``person_visible``; for a person ``user`` may not see (a student of
    another school) ``person_label`` and the holder in ``before``/``after`` are replaced
    by :data:`~core.scoping.HIDDEN_PERSON` (FERPA).
    """
    visible = person_visibility(user)
    events = list(
        DeviceEvent.objects.filter(device=device).select_related("person").order_by("-occurred_at", "-id")[:limit]
    )
    for event in events:
        event.person_visible = event.person is None or visible(event.person.home_site_id)  # type: ignore[attr-defined]
        if not event.person_visible:  # type: ignore[attr-defined]
            event.person_label = HIDDEN_PERSON
            event.before, event.after = redact_holder(event.before), redact_holder(event.after)
    return events


def device_open_assignment(*, device: Device, user: Any) -> Assignment | None:
    """The device's current (open) assignment, if it is checked out.

    ``person_visible`` is set on it; the holder's name is replaced for a viewer who may
    not see that person (a student of another school).
    """
    assignment = Assignment.objects.filter(device=device, checked_in_at__isnull=True).select_related("person").first()
    if assignment is not None:
        assignment.person_visible = assignment.person is None or person_visibility(user)(  # type: ignore[attr-defined]
            assignment.person.home_site_id
        )
        if not assignment.person_visible:  # type: ignore[attr-defined]
            assignment.holder_label = HIDDEN_PERSON
    return assignment


def device_status_counts(*, user: Any, site_id: int | None = None) -> dict[str, int]:
    """Number of visible devices per status, every status present (0 when none).

    ``site_id``: only the devices of that site (its owner or current site, as the district's
    ownership mode makes devices belong to sites, like the Sites list). The number of
    devices a page shows is :func:`device_total` of these counts: retired devices are
    shown on their own, never in it.
    """
    counts = {value: 0 for value, _ in Device.Status.choices}
    qs = Device.objects.visible_to(user)
    if site_id is not None:
        qs = qs.filter(**{scope_for(user).device_site_field: site_id})
    for row in qs.order_by().values("status").annotate(n=Count("id")):
        counts[row["status"]] = row["n"]
    return counts


def device_total(counts: dict[str, int]) -> int:
    """The devices a site or a district has: every status but retired (retired devices have
    left the inventory; pages show them separately)."""
    return sum(n for status, n in counts.items() if status != Device.Status.RETIRED)


def device_counts_by_site(*, user: Any) -> dict[int, tuple[int, int]]:
    """Site id → (devices, retired devices) of the devices ``user`` may see, by the site they
    belong to (owner site when decentralized, current site when centralized). ``devices``
    is :func:`device_total`'s number: what the dashboard and the site page show."""
    field = scope_for(user).device_site_field
    retired = Q(status=Device.Status.RETIRED)
    rows = (
        Device.objects.visible_to(user)
        .order_by()
        .values_list(field)
        .annotate(n_live=Count("id", filter=~retired), n_retired=Count("id", filter=retired))
    )
    return {site_id: (live, gone) for site_id, live, gone in rows}


def assignment_overdue(*, user: Any) -> QuerySet[Assignment]:
    """Open assignments past their due date (in the district's time zone) that ``user`` may see."""
    return Assignment.objects.visible_to(user).filter(checked_in_at__isnull=True, due_on__lt=timezone.localdate())
