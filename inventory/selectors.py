"""Reads of devices shared by views, exports and reports. All go through the scoping gate."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Lower
from django.utils import timezone

from accounts.scoping import VIEW
from custody.models import Assignment
from inventory.models import Device, DeviceEvent

#: Devices matched through their holder's name are capped (a one-letter name prefix can match
#: tens of thousands of people); asset tag and serial matches are not.
HOLDER_MATCH_LIMIT = 2000


def scan_clean(code: str) -> str:
    """Clean what a barcode scanner typed: strip whitespace, control characters and a trailing Enter/Tab."""
    return "".join(ch for ch in (code or "") if ch.isprintable()).strip()[:200]


def device_list(
    *,
    user: Any,
    query: str = "",
    site_id: int | None = None,
    model_id: int | None = None,
    status: str = "",
    action: str = VIEW,
) -> QuerySet[Device]:
    """Devices ``user`` may see, filtered.

    ``query`` matches the start of an asset tag or serial number (any case), a holder's
    student number exactly, or the start of a holder's family or given name. ``site_id``
    matches the current site. Each device is annotated with ``holder`` (the open
    assignment's holder label, or None). Returns an unordered queryset (callers page it).
    """
    open_holder = Assignment.objects.filter(device=OuterRef("pk"), checked_in_at__isnull=True).values("holder_label")[
        :1
    ]
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
    q = scan_clean(query)
    if q:
        from people.models import Person
        from people.selectors import person_search

        low = q.lower()
        # Holders are matched like the person search (through the person's own scope-free
        # table: the devices' scope already limits what is shown).
        # The held devices are fetched first (at most HOLDER_MATCH_LIMIT) so the database can
        # combine three index scans (tag prefix, serial prefix, ids) instead of scanning devices.
        holders = person_search(Person.objects.all(), q).values("pk")
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


def device_timeline(*, device: Device) -> QuerySet[DeviceEvent]:
    """A device's events, newest first (the caller resolved ``device`` through the gate)."""
    return DeviceEvent.objects.filter(device=device).order_by("-occurred_at", "-id")


def device_open_assignment(*, device: Device) -> Assignment | None:
    """The device's current (open) assignment, if it is checked out."""
    return Assignment.objects.filter(device=device, checked_in_at__isnull=True).select_related("person").first()


def device_status_counts(*, user: Any) -> dict[str, int]:
    """Number of visible devices per status, every status present (0 when none)."""
    counts = {value: 0 for value, _ in Device.Status.choices}
    for row in Device.objects.visible_to(user).order_by().values("status").annotate(n=Count("id")):
        counts[row["status"]] = row["n"]
    return counts


def assignment_overdue(*, user: Any) -> QuerySet[Assignment]:
    """Open assignments past their due date (in the district's time zone) that ``user`` may see."""
    return Assignment.objects.visible_to(user).filter(checked_in_at__isnull=True, due_on__lt=timezone.localdate())
