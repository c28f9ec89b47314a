"""What custody shows on the pages of lower apps (registered by :class:`custody.apps.CustodyConfig`).

* ``person_detail``: "Holds now", the person's open assignments, with a warning when the person
  left (withdrawn, graduated, transferred, inactive, or moved to another school) and still
  holds devices;
* ``device_custody``: who holds the device now (name hidden for a person the viewer may not see);
* the ``device_list`` hook: the ``holder`` column (with due date, days overdue and whether the
  holder left), holder search and the ``overdue`` and ``left`` flags;
* the words for ``condition`` values in device events.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from core import extensions
from custody.models import Assignment
from custody.rules import days_overdue, district_today
from custody.selectors import (
    device_open_assignment,
    devices_held_matching,
    devices_holder_left,
    devices_overdue,
    devices_with_holder,
    person_holdings,
    person_left_holdings,
)
from inventory.models import Device


def _holdings(request: HttpRequest, person: Any) -> dict[str, Any]:
    today = district_today()
    holdings = list(person_holdings(person=person))
    for a in holdings:
        late = days_overdue(due_on=a.due_on, today=today) if a.device.status == Device.Status.ASSIGNED else 0
        a.days_overdue = late  # type: ignore[attr-defined]
    left_rows = person_left_holdings(person=person)
    return {
        "holdings": holdings,
        "left_reason": person.get_status_display().lower() if left_rows else "",
        "left_tags": [a.device.asset_tag for a in left_rows],
    }


def _holder(request: HttpRequest, device: Any) -> dict[str, Any]:
    return {"assignment": device_open_assignment(device=device, user=request.user)}


def register(registry: extensions.Extensions = extensions.registry) -> None:
    """Fill custody's places in ``registry``."""
    registry.register_panel(
        "person_detail", name="custody.holdings", template="custody/_person_holdings.html", context=_holdings, order=10
    )
    registry.register_panel(
        "device_custody", name="custody.holder", template="custody/_device_holder.html", context=_holder
    )
    registry.register_list_hook(
        "device_list",
        name="custody.holder",
        annotate=devices_with_holder,
        search=devices_held_matching,
        flags={"overdue": devices_overdue, "left": devices_holder_left},
    )
    registry.register_value_labels("condition", dict(Assignment.Condition.choices))
