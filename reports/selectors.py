"""Counts shown on the dashboard, the Sites list and a site's page. All go through the gate.

Every number counts only what ``user`` may see (``visible_to``). The devices a page shows
as "devices" are :func:`device_total` of :func:`device_status_counts`: every status but
retired (retired devices have left the inventory; pages show them separately).

Every count links to the list that shows exactly its rows (``reports/tests/test_counts_agree.py``
walks them in both ownership modes): devices count through the device list's own selector or
its rules (a site is the one a device belongs to under the ownership mode, as the gate says),
overdue check-outs and devices held by people who left are the device list's ``overdue`` /
``left`` filters counted (:func:`overdue_count`, :func:`holder_left_count`).
"""

from __future__ import annotations

from django.db.models import Count, Q

from core.scoping import scope_for
from core.types import Actor
from inventory.models import Device
from inventory.selectors import device_list
from people.models import Person


def device_status_counts(*, user: Actor, site_id: int | None = None) -> dict[str, int]:
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


def device_counts_by_site(*, user: Actor) -> dict[int, tuple[int, int]]:
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


def active_people_by_site(*, user: Actor) -> dict[int, int]:
    """Home site id → number of active people ``user`` may see there (sites without any are absent)."""
    return dict(
        Person.objects.visible_to(user)
        .filter(status=Person.Status.ACTIVE)
        .order_by()
        .values_list("home_site")
        .annotate(n=Count("id"))
    )


def overdue_count(*, user: Actor, site_id: int | None = None) -> int:
    """Devices ``user`` may see whose check-out is overdue (``custody.rules.overdue_q``: open,
    due before the district's today, device checked out; lost and stolen devices are their own
    figures): exactly the rows of the device list's "Overdue only" filter (``?overdue=1``),
    of one site's devices when ``site_id`` is given."""
    return device_list(user=user, overdue=True, site_id=site_id).count()


def holder_left_count(*, user: Actor, site_id: int | None = None) -> int:
    """Devices ``user`` may see held by a person who left (``custody.rules.holder_left_q``):
    exactly the rows of the device list's ``?left=1`` filter, of one site's devices when
    ``site_id`` is given."""
    return device_list(user=user, left=True, site_id=site_id).count()
