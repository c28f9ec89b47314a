"""Reads of custody shared by views, reports and the pages of lower apps. All go through the gate.

Besides its own pages, custody fills places that ``people`` and ``inventory`` pages declare
(see :mod:`core.extensions` and :mod:`custody.panels`): what a person holds, a device's
current holder, and the device list's holder column, holder search and overdue filter.
"""

from __future__ import annotations

from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from core.scoping import HIDDEN_PERSON, VIEW, person_visibility, scope_for
from core.types import Actor
from custody.models import Assignment
from inventory.models import Device
from people.models import Person
from people.selectors import person_search

#: Devices matched through their holder's name are capped (a one-letter name prefix can match
#: tens of thousands of people); asset tag and serial matches are not.
HOLDER_MATCH_LIMIT = 2000


def assignment_overdue(*, user: Actor) -> QuerySet[Assignment]:
    """Open assignments past their due date (in the district's time zone) that ``user`` may see."""
    return Assignment.objects.visible_to(user).filter(checked_in_at__isnull=True, due_on__lt=timezone.localdate())


def person_holdings(*, person: Person) -> QuerySet[Assignment]:
    """What the person holds now (open assignments), with devices, by asset tag. The caller
    resolved ``person`` through the gate."""
    return (
        Assignment.objects.filter(person=person, checked_in_at__isnull=True)
        .select_related("device__model__manufacturer", "device__current_site")
        .order_by("device__asset_tag")
    )


def device_open_assignment(*, device: Device, user: Actor) -> Assignment | None:
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


def devices_with_holder(queryset: QuerySet[Device], user: Actor) -> QuerySet[Device]:
    """``queryset`` annotated with ``holder``: the open assignment's holder label, or ``None``
    when the device is not checked out or the holder is a person ``user`` may not see (FERPA)."""
    holder_rows = Assignment.objects.filter(device=OuterRef("pk"), checked_in_at__isnull=True)
    if not scope_for(user).allows_everywhere(VIEW):  # everyone is visible to district-wide roles
        holder_rows = holder_rows.filter(Q(person__isnull=True) | Q(person__in=Person.objects.visible_to(user)))
    return queryset.annotate(holder=Subquery(holder_rows.values("holder_label")[:1]))


def devices_held_matching(user: Actor, query: str) -> Q:
    """Devices whose holder matches ``query`` (cleaned, not blank) like the person search, among
    the people ``user`` may see only: a search term never reveals another school's student
    through their devices. The held devices are fetched first (at most
    :data:`HOLDER_MATCH_LIMIT`) so the database can combine this with index scans on tags."""
    holders = person_search(Person.objects.visible_to(user), query).values("pk")
    held = list(
        Assignment.objects.filter(checked_in_at__isnull=True, person__in=holders).values_list("device_id", flat=True)[
            :HOLDER_MATCH_LIMIT
        ]
    )
    return Q(pk__in=held)


def devices_overdue(queryset: QuerySet[Device], user: Actor) -> QuerySet[Device]:
    """``queryset`` narrowed to devices with an overdue open assignment ``user`` may see."""
    return queryset.filter(pk__in=assignment_overdue(user=user).values("device_id"))
