"""Consistency checks for custody data: what the services guarantee, written as queries.

Used by the demo tests and after seeding large scales (``python manage.py shell -c
"from demo.checks import invariant_violations; print(invariant_violations())"``). Each
problem is one readable line; an empty list means the data is consistent.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Q
from django.db.models.functions import Lower
from django.utils import timezone

from custody.models import Assignment
from inventory.models import Device, DeviceEvent, DeviceModel
from people.models import Person

S = Device.Status
K = DeviceEvent.Kind
#: Statuses a device can only reach through a ``status_changed`` event.
CHANGED_STATUSES = (S.LOST, S.STOLEN, S.RETIRED, S.IN_REPAIR)
STATUS_KINDS = (K.CREATED, K.CHECKED_OUT, K.CHECKED_IN, K.STATUS_CHANGED)


def _problem(problems: list[str], count: int, message: str) -> None:
    if count:
        problems.append(f"{count:,} {message}")


def invariant_violations(*, replay_sample: int = 2000) -> list[str]:
    """Check custody invariants over the whole database; return one line per kind of problem.

    Checks: ``assigned`` ⇔ exactly one open assignment (lost/stolen may keep theirs);
    every assignment has its ``checked_out`` (and, if closed, ``checked_in``) event with
    the same time, person, person label and actor label; every device has a ``created``
    event; lost/stolen/retired/in-repair devices got there by a ``status_changed`` event;
    the device's manufacturer is its model's; live asset tags are unique ignoring case;
    accessories are bundled with a primary device at the same site; people who left hold
    nothing but lost or stolen devices; no event lies in the future. Then the event log
    of about ``replay_sample`` devices is replayed: statuses must chain from ``created``
    to the device's current status and custody periods must not overlap.
    """
    problems: list[str] = []
    open_count = Count("assignments", filter=Q(assignments__checked_in_at__isnull=True))
    _problem(problems, Device.objects.filter(status=S.ASSIGNED).annotate(n=open_count).exclude(n=1).count(),
             "assigned devices without exactly one open assignment")  # fmt: skip
    has_open = Exists(Assignment.objects.filter(device=OuterRef("pk"), checked_in_at__isnull=True))
    _problem(problems, Device.objects.filter(has_open).exclude(status__in=(S.ASSIGNED, S.LOST, S.STOLEN)).count(),
             "devices with an open assignment that are not assigned, lost or stolen")  # fmt: skip
    out_event = DeviceEvent.objects.filter(
        device=OuterRef("device"),
        kind=K.CHECKED_OUT,
        occurred_at=OuterRef("checked_out_at"),
        person=OuterRef("person"),
        person_label=OuterRef("holder_label"),
        actor_label=OuterRef("checked_out_by_label"),
    )
    _problem(problems, Assignment.objects.exclude(Exists(out_event)).count(),
             "assignments without their matching checked_out event")  # fmt: skip
    in_event = DeviceEvent.objects.filter(
        device=OuterRef("device"),
        kind=K.CHECKED_IN,
        occurred_at=OuterRef("checked_in_at"),
        person=OuterRef("person"),
        person_label=OuterRef("holder_label"),
        actor_label=OuterRef("checked_in_by_label"),
    )
    _problem(problems, Assignment.objects.filter(checked_in_at__isnull=False).exclude(Exists(in_event)).count(),
             "closed assignments without their matching checked_in event")  # fmt: skip
    created = DeviceEvent.objects.filter(device=OuterRef("pk"), kind=K.CREATED)
    _problem(problems, Device.objects.exclude(Exists(created)).count(), "devices without a created event")
    changed = DeviceEvent.objects.filter(device=OuterRef("pk"), kind=K.STATUS_CHANGED)
    _problem(problems, Device.objects.filter(status__in=CHANGED_STATUSES).exclude(Exists(changed)).count(),
             "lost/stolen/retired/in-repair devices without a status_changed event")  # fmt: skip
    _problem(problems, Device.objects.exclude(manufacturer_id=F("model__manufacturer_id")).count(),
             "devices whose manufacturer is not their model's")  # fmt: skip
    _problem(problems,
             Device.objects.exclude(status=S.RETIRED).annotate(tag=Lower("asset_tag")).values("tag")
             .annotate(n=Count("id")).filter(n__gt=1).count(),
             "live asset tags used more than once")  # fmt: skip
    _problem(problems,
             Device.objects.filter(bundled_with__isnull=False).filter(
                 ~Q(current_site=F("bundled_with__current_site"))
                 | ~Q(model__category__in=DeviceModel.ACCESSORY_CATEGORIES)
                 | Q(bundled_with__model__category__in=DeviceModel.ACCESSORY_CATEGORIES)
             ).count(),
             "bundles that are not an accessory with a primary device at the same site")  # fmt: skip
    left = (Person.Status.INACTIVE, Person.Status.WITHDRAWN, Person.Status.GRADUATED)
    _problem(problems,
             Assignment.objects.filter(checked_in_at__isnull=True, person__status__in=left)
             .exclude(device__status__in=(S.LOST, S.STOLEN)).count(),
             "open assignments of people who left (other than lost or stolen devices)")  # fmt: skip
    _problem(problems, DeviceEvent.objects.filter(occurred_at__gt=timezone.now()).count(), "events in the future")
    problems += replay_violations(sample=replay_sample)
    return problems


def replay_violations(*, sample: int = 2000) -> list[str]:
    """Replay the events and assignments of about ``sample`` devices (every n-th by id)."""
    total = Device.objects.count()
    if not total:
        return []
    step = max(1, total // max(1, sample))
    ids = list(Device.objects.annotate(slot=F("id") % step).filter(slot=0).values_list("id", flat=True)[:sample])
    devices = dict(Device.objects.filter(id__in=ids).values_list("id", "status"))
    events: dict[int, list[Any]] = defaultdict(list)
    for event in (
        DeviceEvent.objects.filter(device_id__in=ids)
        .order_by("occurred_at", "id")
        .values("device_id", "kind", "before", "after", "occurred_at")
    ):
        events[event["device_id"]].append(event)
    periods: dict[int, list[tuple[Any, Any]]] = defaultdict(list)
    for device_id, out_at, in_at in (
        Assignment.objects.filter(device_id__in=ids)
        .order_by("checked_out_at", "id")
        .values_list("device_id", "checked_out_at", "checked_in_at")
    ):
        periods[device_id].append((out_at, in_at))
    problems: list[str] = []
    for device_id, final in devices.items():
        history = events[device_id]
        if not history or history[0]["kind"] != K.CREATED:
            problems.append(f"device {device_id}: first event is not 'created'")
            continue
        status = history[0]["after"].get("status")
        for event in history[1:]:
            if event["kind"] == K.CREATED:
                problems.append(f"device {device_id}: created twice")
            elif event["kind"] in STATUS_KINDS:
                if event["before"].get("status") != status:
                    problems.append(
                        f"device {device_id}: {event['kind']} at {event['occurred_at']:%Y-%m-%d %H:%M} starts from "
                        f"{event['before'].get('status')!r} but the device was {status!r}"
                    )
                status = event["after"].get("status")
        if status != final:
            problems.append(f"device {device_id}: events end at {status!r} but the device is {final!r}")
        spans = periods[device_id]
        for (_, in_a), (out_b, _) in zip(spans, spans[1:], strict=False):
            if in_a is None or in_a > out_b:
                problems.append(f"device {device_id}: custody periods overlap at {out_b:%Y-%m-%d %H:%M}")
    return problems
