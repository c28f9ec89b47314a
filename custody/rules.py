"""The custody rules, each stated once: pure predicates that ``custody.services`` and every
path that checks devices out (the importers' check-outs included) call.

* :func:`checkout_refusal`: a device may be checked out only from stock or the loaner pool
  (``Device.CHECKOUT_READY``); a checked-out device is refused as already out, any other
  status as unavailable.
* :func:`due_date_in_past` / :func:`district_today`: a check-out's due date may not be before
  today in the district's time zone (wherever the check-out runs: a request, an import, a
  command); :func:`due_date_too_far` / :func:`latest_due_on`: nor more than
  :data:`DUE_DATE_MAX_YEARS` years after it (9999-12-31 is a typo, not a due date);
  :func:`due_date_problem` / :func:`due_date_refusal` say either in words.
* :func:`is_overdue` / :func:`overdue_q`: a check-out is overdue when it is open, its due date
  is before the district's today and its device is checked out (a lost or stolen device whose
  check-out stays open is counted as lost or stolen, never as overdue); :func:`days_overdue`.
* :func:`holder_left` / :func:`holder_left_q`: a device is with a person who left when its
  open check-out's holder may no longer receive devices (withdrawn, graduated, transferred,
  inactive: ``people.rules.may_receive_devices``): the person's status only. Where the device
  belongs is no part of it (lending across sites is routine); a student who moves to another
  school while active is reported by the import's warning and the change log.
* :func:`default_due_on`: the due date check-out pre-fills (the district's month/day, next).
* :func:`second_device_message`: a second device of one category for one person is warned
  about or refused, by the district's ``second_device_policy``.
* :func:`person_refusal`: only active people receive devices, said as a sentence.

The ``_q`` forms are the same rules as Django ``Q`` objects over ``Assignment`` rows, which
every count, list, filter and export applies (``custody.selectors``); ``custody/tests/
test_rules.py`` feeds the same cases to both forms. No set-based path checks devices out.
"""

from __future__ import annotations

import calendar
import datetime
from enum import StrEnum

from django.db.models import Q
from django.utils import timezone

from inventory.models import Device
from people import rules as people_rules
from people.models import Person

__all__ = [
    "CHECKOUT_READY",
    "CheckOutRefusal",
    "SecondDevice",
    "checkout_refusal",
    "days_overdue",
    "default_due_on",
    "district_today",
    "DUE_DATE_MAX_YEARS",
    "due_date_in_past",
    "due_date_problem",
    "due_date_refusal",
    "due_date_too_far",
    "latest_due_on",
    "holder_left",
    "holder_left_q",
    "leaver_still_holds",
    "leaver_still_holds_sql",
    "is_overdue",
    "overdue_q",
    "person_refusal",
    "second_device_message",
]

#: The statuses from which a device may be checked out.
CHECKOUT_READY = Device.CHECKOUT_READY


class CheckOutRefusal(StrEnum):
    """Why a device may not be checked out."""

    #: It is checked out already (to someone: the caller names them through the gate).
    ALREADY_OUT = "already_out"
    #: Lost, stolen, retired or in repair.
    UNAVAILABLE = "unavailable"


def checkout_refusal(*, status: str) -> CheckOutRefusal | None:
    """Why a device in ``status`` may not be checked out, or ``None`` when it may."""
    if status in CHECKOUT_READY:
        return None
    if status == Device.Status.ASSIGNED:
        return CheckOutRefusal.ALREADY_OUT
    return CheckOutRefusal.UNAVAILABLE


def district_today(at: datetime.datetime | None = None) -> datetime.date:
    """The date of ``at`` (default now) in the district's time zone (one query)."""
    from sites.models import District

    return timezone.localdate(at, timezone=District.get().tzinfo)


def due_date_in_past(*, due_on: datetime.date | None, today: datetime.date) -> bool:
    """Whether a check-out's due date ``due_on`` is before ``today`` (the district's:
    :func:`district_today`); no due date is never in the past."""
    return due_on is not None and due_on < today


#: How far ahead a check-out's due date may be, in years after the district's today. Devices
#: are lent for a school year, at most for the years of a school (a device's life is four to
#: five years); a later date is a typo (9999-12-31, 2205 for 2025) that would keep the check-out
#: from ever being overdue. Source: issue #8 (testing).
DUE_DATE_MAX_YEARS = 5


def latest_due_on(*, today: datetime.date) -> datetime.date:
    """The latest due date a check-out may have: ``today`` (the district's:
    :func:`district_today`) :data:`DUE_DATE_MAX_YEARS` years later (29 February falls on
    28 February when that year has none)."""
    year = today.year + DUE_DATE_MAX_YEARS
    return today.replace(year=year, day=min(today.day, calendar.monthrange(year, today.month)[1]))


def due_date_too_far(*, due_on: datetime.date | None, today: datetime.date) -> bool:
    """Whether a check-out's due date ``due_on`` is after :func:`latest_due_on` of ``today``
    (the district's); no due date is never too far."""
    return due_on is not None and due_on > latest_due_on(today=today)


def due_date_problem(*, due_on: datetime.date | None, today: datetime.date) -> str | None:
    """What is wrong with a check-out's due date ``due_on`` given the district's ``today``, as a
    predicate phrase for the caller's subject ("is in the past", "is more than 5 years ahead:
    the latest allowed is 2030-03-10"); ``None`` when it may be used (no due date always may).
    Every path that sets a due date asks this (check-out, bulk check-out, imports)."""
    if due_date_in_past(due_on=due_on, today=today):
        return "is in the past"
    if due_date_too_far(due_on=due_on, today=today):
        return (
            f"is more than {DUE_DATE_MAX_YEARS} years ahead: the latest allowed is "
            f"{latest_due_on(today=today).isoformat()}"
        )
    return None


def due_date_refusal(*, due_on: datetime.date | None, today: datetime.date) -> str | None:
    """:func:`due_date_problem` as the sentence a check-out is refused with ("The due date
    9999-12-31 is more than 5 years ahead: the latest allowed is 2030-03-10."; "The due date
    is in the past."); ``None`` when ``due_on`` may be used."""
    problem = due_date_problem(due_on=due_on, today=today)
    if problem is None:
        return None
    assert due_on is not None
    named = "" if due_date_in_past(due_on=due_on, today=today) else f" {due_on.isoformat()}"
    return f"The due date{named} {problem}."


# --------------------------------------------------------------------------- overdue


def is_overdue(*, checked_in: bool, due_on: datetime.date | None, device_status: str, today: datetime.date) -> bool:
    """Whether a check-out is overdue: still open, due before ``today`` (the district's:
    :func:`district_today`) and its device checked out. A device reported lost or stolen while
    checked out keeps its open check-out but is counted as lost or stolen (their own figures),
    not overdue; no due date is never overdue. Source: issue #8."""
    return not checked_in and device_status == Device.Status.ASSIGNED and due_date_in_past(due_on=due_on, today=today)


def overdue_q(*, today: datetime.date, prefix: str = "") -> Q:
    """:func:`is_overdue` as a ``Q`` over ``Assignment`` rows (``prefix``: the path from the
    queried model to the assignment, e.g. ``"assignments__"``; empty for assignments)."""
    return Q(
        **{
            f"{prefix}checked_in_at__isnull": True,
            f"{prefix}due_on__lt": today,
            f"{prefix}device__status": Device.Status.ASSIGNED,
        }
    )


def days_overdue(*, due_on: datetime.date | None, today: datetime.date) -> int:
    """Whole days since the due date ``due_on`` (1 the day after it is due); 0 when not past."""
    if not due_date_in_past(due_on=due_on, today=today):
        return 0
    assert due_on is not None
    return (today - due_on).days


# --------------------------------------------------------------------------- holders who left


def holder_left(*, person_status: str) -> bool:
    """Whether the holder of an open check-out has left: their ``Person.Status`` code
    ``person_status`` is one that may no longer receive devices (withdrawn, graduated,
    transferred, inactive: ``people.rules.may_receive_devices``).

    The person's status only: a holder whose school is not the device's site has not left
    (a technician lending another site's or the warehouse's loaner is routine), and a student
    who moves to another school while active is reported by the import run's per-person
    warning (:func:`leaver_still_holds`) and the change log, not by this rule. Source: issue #8."""
    return not people_rules.may_receive_devices(person_status)


def holder_left_q(*, prefix: str = "") -> Q:
    """:func:`holder_left` as a ``Q`` over open ``Assignment`` rows with a person (``prefix``:
    the path from the queried model to the assignment, ``""`` for assignments)."""
    return Q(**{f"{prefix}checked_in_at__isnull": True, f"{prefix}person__isnull": False}) & ~Q(
        **{f"{prefix}person__status__in": people_rules.CAN_RECEIVE_DEVICES}
    )


# --------------------------------------------------------------------------- check-out defaults and limits


def default_due_on(*, month: int | None, day: int | None, today: datetime.date) -> datetime.date | None:
    """The due date check-out pre-fills: the next ``month``/``day`` (the district's default,
    e.g. the last day of the school year) on or after ``today`` (the district's:
    :func:`district_today`); ``None`` when the district has none. 29 February falls on
    28 February in other years. Source: issue #8."""
    if month is None or day is None:
        return None
    for year in (today.year, today.year + 1):
        last = calendar.monthrange(year, month)[1]
        candidate = datetime.date(year, month, min(day, last))
        if candidate >= today:
            return candidate
    return None  # pragma: no cover (next year's date is always after today)


class SecondDevice(StrEnum):
    """What check-out does with a second device of the same category for one person (the
    district's ``second_device_policy`` codes)."""

    WARN = "warn"
    REFUSE = "refuse"
    ALLOW = "allow"


def second_device_message(
    *, person_label: str, category_label: str, held_tags: list[str], policy: str, is_loaner: bool
) -> tuple[str, bool] | None:
    """The words for checking out a ``category_label`` device (e.g. "Chromebook") to a person
    who already holds ``held_tags`` of that category, and whether it is a refusal.

    ``policy``: the district's :class:`SecondDevice` code. ``None`` when the person holds none
    or the policy allows it silently. A loaner (the person's own device is away) is never
    refused, only warned about. Lost and stolen devices are not counted by the caller (they are
    not in hand). Source: issue #8."""
    if not held_tags or policy == SecondDevice.ALLOW:
        return None
    tags = ", ".join(held_tags)
    refused = policy == SecondDevice.REFUSE and not is_loaner
    if refused:
        return (
            f"{person_label} already holds a device of the same category ({category_label}): {tags}; the district allows one "
            f"device of each category per person. Check that one in first.",
            True,
        )
    return (
        f"{person_label} now holds more than one device of the same category ({category_label}): also {tags}.",
        False,
    )


def person_refusal(*, person_label: str, status: str, status_label: str) -> str | None:
    """Why a person whose ``Person.Status`` code is ``status`` may not receive a device, as a
    sentence ("Phillip Benson has transferred to another school; …"); ``None`` when they may
    (``people.rules.may_receive_devices``). Source: issue #8."""
    if people_rules.may_receive_devices(status):
        return None
    phrase = _STATUS_PHRASES.get(status, f"is {status_label.lower()}")
    return f"{person_label} {phrase}; devices can only be checked out to active students and staff."


_STATUS_PHRASES: dict[str, str] = {
    Person.Status.WITHDRAWN: "has withdrawn",
    Person.Status.GRADUATED: "has graduated",
    Person.Status.TRANSFERRED: "has transferred to another school",
    Person.Status.INACTIVE: "is inactive",
}


def leaver_still_holds(*, what: str, tags: list[str]) -> str:
    """The warning an import or an edit gives when it makes a person who holds devices leave
    (``what``: "made inactive", "withdrawn", "moves to Birch Middle"…): ``"withdrawn; still
    holds CB-001234, CHG-0042"``. Worded once here; the importers quote it."""
    return f"{what}; still holds {', '.join(tags)}"


def leaver_still_holds_sql(*, what: str, tags: str) -> str:
    """SQL twin of :func:`leaver_still_holds` for the set-based import: ``what`` a text SQL
    expression, ``tags`` a ``text[]`` SQL expression of the tags in holding order (as
    ``custody.selectors.open_holdings_sql`` gives them). PostgreSQL (arrays);
    ``custody/tests/test_rules.py`` feeds the same cases to both forms."""
    return f"(({what}) || '; still holds ' || array_to_string({tags}, ', '))"
