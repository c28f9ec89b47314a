"""Reads of custody shared by views, reports and the pages of lower apps. All go through the gate.

Besides its own pages, custody fills places that ``people`` and ``inventory`` pages declare
(see :mod:`core.extensions` and :mod:`custody.panels`): what a person holds, a device's
current holder, and the device list's holder column, holder search and overdue filter.
"""

from __future__ import annotations

import datetime

from django.db.models import (
    Case,
    CharField,
    DateField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)

from core.scoping import HIDDEN_PERSON, VIEW, person_visibility, scope_for
from core.types import Actor
from custody import rules
from custody.models import Assignment
from inventory.models import Device
from people.models import Person
from people.selectors import person_search

#: Devices matched through their holder's name are capped (a one-letter name prefix can match
#: tens of thousands of people); asset tag and serial matches are not.
HOLDER_MATCH_LIMIT = 2000


def assignment_overdue(*, user: Actor, today: datetime.date | None = None) -> QuerySet[Assignment]:
    """Overdue check-outs (:func:`custody.rules.overdue_q`: open, due before the district's
    ``today``, device checked out — lost and stolen devices are not overdue) that ``user`` may
    see (on their devices or of their people)."""
    return Assignment.objects.visible_to(user).filter(rules.overdue_q(today=today or rules.district_today()))


def assignment_holder_left(*, user: Actor) -> QuerySet[Assignment]:
    """Open check-outs whose holder left (:func:`custody.rules.holder_left_q`) that ``user``
    may see (on their devices or of their people)."""
    return Assignment.objects.visible_to(user).filter(rules.holder_left_q())


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
    not see that person (a student of another school). ``holder_left`` is
    :func:`custody.rules.holder_left`'s answer (``False`` without a person holder): the
    device's school learns that its device is with someone who left even when it may not
    see who.
    """
    assignment = Assignment.objects.filter(device=device, checked_in_at__isnull=True).select_related("person").first()
    if assignment is not None:
        assignment.person_visible = assignment.person is None or person_visibility(user)(  # type: ignore[attr-defined]
            assignment.person.home_site_id
        )
        if not assignment.person_visible:  # type: ignore[attr-defined]
            assignment.holder_label = HIDDEN_PERSON
        assignment.holder_left = assignment.person is not None and rules.holder_left(  # type: ignore[attr-defined]
            person_status=assignment.person.status
        )
    return assignment


def devices_with_holder(queryset: QuerySet[Device], user: Actor) -> QuerySet[Device]:
    """``queryset`` annotated from the open assignment:

    * ``holder``: the holder's label; :data:`~core.scoping.HIDDEN_PERSON` for a person ``user``
      may not see (FERPA); ``None`` when the device is not checked out;
    * ``holder_due_on``: its due date (``date`` or ``None``);
    * ``holder_late``: how long it is overdue (``timedelta``; ``.days`` is the days overdue),
      ``None`` unless overdue (:func:`custody.rules.overdue_q`);
    * ``holder_left``: whether its holder left (:func:`custody.rules.holder_left_q`).
    """
    today = rules.district_today()
    open_rows = Assignment.objects.filter(device=OuterRef("pk"), checked_in_at__isnull=True)
    label: object = F("holder_label")
    if not scope_for(user).allows_everywhere(VIEW):  # everyone is visible to district-wide roles
        visible = Q(person__isnull=True) | Q(person__in=Person.objects.visible_to(user))
        label = Case(When(visible, then=F("holder_label")), default=Value(HIDDEN_PERSON), output_field=CharField())
    late_rows = Assignment.objects.filter(rules.overdue_q(today=today), device=OuterRef("pk")).annotate(
        late=ExpressionWrapper(Value(today, output_field=DateField()) - F("due_on"), output_field=DurationField())
    )
    left_rows = Assignment.objects.filter(rules.holder_left_q(), device=OuterRef("pk"))
    return queryset.annotate(
        holder=Subquery(open_rows.annotate(shown=label).values("shown")[:1]),
        holder_due_on=Subquery(open_rows.values("due_on")[:1]),
        holder_late=Subquery(late_rows.values("late")[:1], output_field=DurationField()),
        holder_left=Exists(left_rows),
    )


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
    """``queryset`` (devices ``user`` sees) narrowed to those whose check-out is overdue
    (:func:`custody.rules.overdue_q`). The dashboard counts exactly these rows."""
    overdue = Assignment.objects.filter(rules.overdue_q(today=rules.district_today()))
    return queryset.filter(pk__in=overdue.values("device_id"))


def devices_holder_left(queryset: QuerySet[Device], user: Actor) -> QuerySet[Device]:
    """``queryset`` (devices ``user`` sees) narrowed to those held by someone who left
    (:func:`custody.rules.holder_left_q`: the holder's status only). The dashboard counts
    exactly these rows."""
    left = Assignment.objects.filter(rules.holder_left_q())
    return queryset.filter(pk__in=left.values("device_id"))


def person_left_holdings(*, person: Person) -> list[Assignment]:
    """What the person page warns about: the open assignments of a person who left
    (:func:`custody.rules.holder_left`: withdrawn, graduated, transferred or inactive), by
    asset tag, devices selected; ``[]`` when the person holds nothing or has not left. The
    caller resolved ``person`` through the gate."""
    if not rules.holder_left(person_status=person.status):
        return []
    return list(
        Assignment.objects.filter(rules.holder_left_q(), person=person)
        .select_related("device")
        .order_by("device__asset_tag")
    )


def open_holdings_by_person(person_ids: list[int]) -> dict[int, list[str]]:
    """Person id → asset tags of the devices they hold now (open check-outs), by tag, for the
    people among ``person_ids`` who hold any. For the system (imports warning that a person
    who leaves still holds devices); callers name the person through the gate."""
    held: dict[int, list[str]] = {}
    for start in range(0, len(person_ids), 5000):
        rows = (
            Assignment.objects.filter(checked_in_at__isnull=True, person_id__in=person_ids[start : start + 5000])
            .order_by("device__asset_tag")
            .values_list("person_id", "device__asset_tag")
        )
        for pid, tag in rows:
            held.setdefault(pid, []).append(tag)
    return held


def open_holdings_sql(person_id: str) -> str:
    """SQL twin of :func:`open_holdings_by_person` for one person: a scalar subquery giving
    the ``text[]`` of the asset tags the person whose id is the SQL expression ``person_id``
    holds now (open check-outs), by tag as the Python selector orders them; NULL when they
    hold none. PostgreSQL (arrays); for the set-based import's warnings, which name the
    person through the gate's rule themselves."""
    assignment, device = Assignment._meta.db_table, Device._meta.db_table
    return (
        f"(SELECT array_agg(hd.asset_tag ORDER BY hd.asset_tag) FROM {assignment} ha "
        f"JOIN {device} hd ON hd.id = ha.device_id "
        f"WHERE ha.checked_in_at IS NULL AND ha.person_id = {person_id})"
    )
