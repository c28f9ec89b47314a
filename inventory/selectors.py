"""Reads of devices shared by views, exports and reports. All go through the scoping gate.

The device list's holder column, holder search and overdue filter come from the apps that own
that data, through the ``device_list`` list hook of :mod:`core.extensions` (``custody``
supplies them); this module imports no app above ``inventory``.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import reduce
from operator import or_
from typing import Any

from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet, Value
from django.db.models.functions import Lower

from core import extensions
from core.querystring import QUERY_MAX, query_id, query_param, scan_clean
from core.scoping import HIDDEN_PERSON, VIEW, person_visibility, scope_for
from core.types import Actor
from inventory.models import Device, DeviceEvent
from people.models import Person

__all__ = [
    "NOT_RETIRED",
    "QUERY_MAX",
    "device_find_exact",
    "device_list",
    "device_list_filters",
    "device_timeline",
    "person_history",
    "query_id",
    "query_param",
    "redact_holder",
    "scan_clean",
]


#: The ``status`` filter value for every status but retired: the devices a site or the district
#: "has" (the dashboard's, the site page's and the Sites list's device totals).
NOT_RETIRED = "not_retired"


def device_list_filters(params: Mapping[str, Any] | None) -> dict[str, Any]:
    """The device list's filters read from a query string, as keyword arguments of
    :func:`device_list`: ``q``, ``site``, ``model``, ``status``, ``overdue=1`` and ``left=1``.

    The list page and its export (``reports.exports``) both read their filters here, so
    an export holds exactly the devices the list shows. Bad values are dropped, never raise.
    """
    status = query_param(params, "status", 40)
    return {
        "query": query_param(params, "q"),
        "site_id": query_id(params, "site"),
        "model_id": query_id(params, "model"),
        "status": status if status in Device.Status.values or status == NOT_RETIRED else "",
        "overdue": query_param(params, "overdue", 10) == "1",
        "left": query_param(params, "left", 10) == "1",
    }


def device_list(
    *,
    user: Actor,
    query: str = "",
    site_id: int | None = None,
    model_id: int | None = None,
    status: str = "",
    overdue: bool = False,
    left: bool = False,
    action: str = VIEW,
) -> QuerySet[Device]:
    """Devices ``user`` may see, filtered.

    ``status``: a ``Device.Status`` code, or :data:`NOT_RETIRED` for every status but retired.
    ``query`` matches the start of an asset tag or serial number (any case), or what the
    ``device_list`` hooks match (custody: a holder's student number exactly, or the start of
    a holder's family or given name, among the people ``user`` may see). ``site_id`` matches
    the site a device belongs to under the district's ownership mode (owner site when
    decentralized, current site when centralized: the gate's rule), so a count of a site's
    devices and this list agree. ``overdue`` and ``left`` are the hooks' flags of those names
    (custody: overdue check-outs; devices held by people who left). The hooks annotate each
    device (custody: ``holder``, the open assignment's holder label or None, and its due
    date, days overdue, whether the holder left). Returns an unordered queryset (callers page it).
    """
    qs: QuerySet[Device] = Device.objects.visible_to(user, action).select_related(
        "model__manufacturer", "current_site", "location"
    )
    qs = extensions.registry.annotate_list("device_list", qs, user=user)
    if site_id:
        qs = qs.filter(**{scope_for(user).device_site_field: site_id})
    if model_id:
        qs = qs.filter(model_id=model_id)
    if status == NOT_RETIRED:
        qs = qs.exclude(status=Device.Status.RETIRED)
    elif status:
        qs = qs.filter(status=status)
    if overdue:
        qs = extensions.registry.filter_list("device_list", "overdue", qs, user=user)
    if left:
        qs = extensions.registry.filter_list("device_list", "left", qs, user=user)
    q = scan_clean(query)
    if q:
        low = q.lower()
        own = Q(tag_l__startswith=low) | Q(serial_l__startswith=low)
        hooked = extensions.registry.search_conditions("device_list", user=user, query=q)
        qs = qs.annotate(tag_l=Lower("asset_tag"), serial_l=Lower("serial_number")).filter(reduce(or_, hooked, own))
    return qs


def device_find_exact(*, user: Actor, code: str, action: str = VIEW) -> Device | None:
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


def device_timeline(*, device: Device, user: Actor, limit: int = 200) -> list[DeviceEvent]:
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


def person_history(*, person: Person, user: Actor) -> QuerySet[DeviceEvent]:
    """Device events about the person, newest first, as the gate lets ``user`` see them (the
    caller resolved ``person`` through the gate, so every event naming them is visible, also
    on a device since transferred to another school: a school keeps its students' custody
    record). Shown on the person's page. Each event carries ``device_visible`` (``bool``):
    whether ``user`` may open the device's page (the page links the tag only then)."""
    device_visible: Any = Value(True)
    if scope_for(user).site_ids(VIEW) is not None:  # a district-wide role sees every device
        visible_devices = Device.objects.visible_to(user).values("pk")
        device_visible = ExpressionWrapper(Q(device__in=visible_devices), output_field=BooleanField())
    return (
        DeviceEvent.objects.visible_to(user)
        .filter(person=person)
        .select_related("device")
        .annotate(device_visible=device_visible)
        .order_by("-occurred_at", "-id")
    )
