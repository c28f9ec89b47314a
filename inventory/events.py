"""Writing device events. Every service that changes a device calls :func:`event_record`."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from core.types import Actor, actor_id, actor_label
from inventory.models import Device, DeviceEvent

if TYPE_CHECKING:
    from people.models import Person

__all__ = ["actor_label", "event_record"]


def event_record(
    *,
    device: Device,
    kind: str,
    actor: Actor | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    person: Person | None = None,
    note: str = "",
    source: str = DeviceEvent.Source.WEB,
    import_run_id: int | None = None,
    occurred_at: datetime.datetime | None = None,
) -> DeviceEvent:
    """Append one event to ``device``'s history. Call inside the service's transaction.

    ``before``/``after`` hold JSON-safe labels (strings, not ids only), e.g.
    ``{"status": "in_stock", "holder": None}`` → ``{"status": "assigned", "holder": "Ana Ruiz #004211"}``.
    ``occurred_at`` is aware UTC (defaults to now).
    """
    return DeviceEvent.objects.create(
        device=device,
        kind=kind,
        occurred_at=occurred_at or timezone.now(),
        actor_id=actor_id(actor),
        actor_label=actor_label(actor),
        person=person,
        person_label=person.label if person is not None else "",
        before=before or {},
        after=after or {},
        note=note,
        source=source,
        import_run_id=import_run_id,
    )
