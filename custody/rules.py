"""The custody rules, each stated once: pure predicates that ``custody.services`` and every
path that checks devices out (the importers' check-outs included) call.

* :func:`checkout_refusal`: a device may be checked out only from stock or the loaner pool
  (``Device.CHECKOUT_READY``); a checked-out device is refused as already out, any other
  status as unavailable.
* :func:`due_date_in_past` / :func:`district_today`: a check-out's due date may not be before
  today in the district's time zone (wherever the check-out runs: a request, an import, a
  command).

No SQL twins: no set-based path checks devices out.
"""

from __future__ import annotations

import datetime
from enum import StrEnum

from django.utils import timezone

from inventory.models import Device

__all__ = ["CHECKOUT_READY", "CheckOutRefusal", "checkout_refusal", "district_today", "due_date_in_past"]

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
