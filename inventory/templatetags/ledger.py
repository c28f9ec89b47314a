"""Template filters for showing device events in words.

Values that other apps write into events (custody's ``condition``) get their words from
:func:`core.extensions.Extensions.value_label`.
"""

from __future__ import annotations

from typing import Any

from django import template

from core import extensions
from inventory.models import Device, DeviceEvent

register = template.Library()

_FIELD_LABELS = {
    "status": "Status",
    "holder": "Holder",
    "due_on": "Due",
    "condition": "Condition",
    "loaner": "Loaner",
    "current_site": "Site",
    "owner_site": "Owner site",
    "location": "Location",
    "bundled_with": "Bundled with",
    "asset_tag": "Asset tag",
    "serial_number": "Serial number",
}
_STATUS = dict(Device.Status.choices)


def _word(key: str, value: Any) -> str:
    if value is None or value == "":
        return "—"
    if key == "status":
        return str(_STATUS.get(value, value))
    word = extensions.registry.value_label(key, value)  # e.g. custody's words for "condition"
    if word is not None:
        return word
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def change_words(before: Any, after: Any) -> list[tuple[str, str | None, str]]:
    """``[(label, before, after)]`` in words for an event's ``before``/``after`` dicts, e.g.
    ``("Status", "In stock", "Assigned")`` — the one wording of the device page's timeline and
    the event exports (``reports.exports``).

    ``before`` is ``None`` for a value that only has an after-state (e.g. a new device); an
    empty value is "—". Unchanged keys and empty "loaner: no" noise are left out. Anything
    that is not a dict counts as empty.
    """
    before = before if isinstance(before, dict) else {}
    after = after if isinstance(after, dict) else {}
    rows: list[tuple[str, str | None, str]] = []
    for key in [*after, *[k for k in before if k not in after]]:
        if key == "loaner" and not after.get(key):
            continue
        old, new = before.get(key), after.get(key)
        if key in before and old == new:
            continue
        label = _FIELD_LABELS.get(key, key.replace("_", " ").capitalize())
        rows.append((label, _word(key, old) if key in before else None, _word(key, new)))
    return rows


@register.filter
def event_changes(event: DeviceEvent) -> list[tuple[str, str | None, str]]:
    """The event's changes in words (:func:`change_words` of its ``before`` and ``after``)."""
    return change_words(event.before, event.after)
