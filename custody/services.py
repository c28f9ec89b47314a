"""Check-out and check-in: the custody rules.

``device_check_out`` and ``device_check_in`` each run in one transaction with the
device row locked, write the assignment and the device event together, and take the
device's bundled accessories along. Two simultaneous check-outs of one device: the
second waits for the lock, then sees the device assigned and gets a ConflictError;
the partial unique index ``assignment_one_open_per_device`` is the last line.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone

from core.errors import (
    ConflictError,
    DomainError,
    NotCheckedOutWarning,
    WrongStateError,
)
from core.scoping import VIEW, get_visible_or_404, person_label_for
from core.types import Actor, acting_user
from custody import rules
from custody.models import Assignment, Submission
from inventory.events import actor_label, event_record
from inventory.models import Device, DeviceEvent
from inventory.services import device_lock
from people.models import Person

Status = Device.Status


@dataclass
class CheckOutResult:
    """What a check-out did: the primary ``assignment``, accessories that went along,
    and ``warnings`` for bundled accessories that were not available and stayed behind.
    ``replayed`` is True when the same form was submitted again and nothing new was done."""

    assignment: Assignment
    accessory_assignments: list[Assignment] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    replayed: bool = False


@dataclass
class CheckInResult:
    """What a check-in did: the closed ``assignment`` and the accessories that came back."""

    assignment: Assignment
    accessory_assignments: list[Assignment] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    was_missing: bool = False


def holder_label_for(*, assignment: Assignment, user: Actor | None) -> str:
    """Who holds (or held) ``assignment``, as ``user`` may read it: the stored holder label,
    or :data:`~core.scoping.HIDDEN_PERSON` for a person ``user`` may not see (a student of
    another school holding a device lent by district staff). Every custody message that
    names a holder goes through here (:func:`core.scoping.person_label_for`)."""
    return person_label_for(person=assignment.person, user=user, label=assignment.holder_label)


def open_holder_label(*, device: Device, user: Actor | None) -> str | None:
    """The holder of ``device``'s open assignment as ``user`` may read it; ``None`` when the
    device is not checked out. For refusals ("already checked out to …")."""
    assignment = Assignment.objects.filter(device=device, checked_in_at__isnull=True).select_related("person").first()
    return holder_label_for(assignment=assignment, user=user) if assignment is not None else None


def _ensure_can_check_out(device: Device, actor: Actor | None) -> None:
    refusal = rules.checkout_refusal(status=device.status)
    if refusal is not None:
        if refusal == rules.CheckOutRefusal.ALREADY_OUT:
            holder = open_holder_label(device=device, user=actor)
            raise ConflictError(f"{device.asset_tag} is already checked out to {holder or 'someone'}.")
        raise WrongStateError(
            f"{device.asset_tag} is {device.get_status_display().lower()} and cannot be checked out.",
            field="device",
        )


def _open_assignment(*, device: Device, person: Person, actor: Actor | None, at: datetime.datetime, due_on: datetime.date | None,
                     condition: str, notes: str, is_loaner: bool, submission_key: str | None, source: str,
                     import_run_id: int | None) -> Assignment:  # fmt: skip
    before = {"status": device.status, "holder": None}
    try:
        with transaction.atomic():
            assignment = Assignment.objects.create(
                device=device,
                person=person,
                holder_label=person.label,
                is_loaner=is_loaner,
                checked_out_at=at,
                checked_out_by=acting_user(actor),
                checked_out_by_label=actor_label(actor),
                due_on=due_on,
                condition_out=condition,
                notes=notes,
                submission_key=submission_key,
            )
    except IntegrityError as exc:
        raise ConflictError(f"{device.asset_tag} was just checked out by someone else.") from exc
    device.status = Status.ASSIGNED
    device.save(update_fields=["status", "updated_at"])
    event_record(
        device=device,
        kind=DeviceEvent.Kind.CHECKED_OUT,
        actor=actor,
        person=person,
        before=before,
        after={
            "status": Status.ASSIGNED,
            "holder": person.label,
            "due_on": due_on.isoformat() if due_on else None,
            "condition": condition,
            "loaner": is_loaner,
        },
        note=notes,
        source=source,
        import_run_id=import_run_id,
        occurred_at=at,
    )
    return assignment


def _second_device(*, device: Device, person: Person, actor: Actor | None, is_loaner: bool) -> str | None:
    """The warning for a second device of ``device``'s category for ``person`` (or raise the
    refusal), by the district's ``second_device_policy`` (:func:`custody.rules.second_device_message`).
    Devices reported lost or stolen are not in hand and do not count."""
    from sites.models import District

    held = list(
        Assignment.objects.filter(
            person=person,
            checked_in_at__isnull=True,
            device__model__category=device.model.category,
            device__status=Status.ASSIGNED,
        )
        .exclude(device=device)
        .order_by("device__asset_tag")
        .values_list("device__asset_tag", flat=True)
    )
    if not held:
        return None
    said = rules.second_device_message(
        person_label=person_label_for(person=person, user=actor, label=person.display_name),
        category_label=device.model.get_category_display(),
        held_tags=held,
        policy=District.get().second_device_policy,
        is_loaner=is_loaner,
    )
    if said is None:
        return None
    words, refused = said
    if refused:
        raise WrongStateError(words, field="code")
    return words


@transaction.atomic
def device_check_out(
    *,
    device: Device,
    person: Person,
    actor: Actor | None,
    due_on: datetime.date | None = None,
    condition: str = Assignment.Condition.GOOD,
    notes: str = "",
    with_bundle: bool = True,
    submission_key: str | None = None,
    source: str = DeviceEvent.Source.WEB,
    import_run_id: int | None = None,
    at: datetime.datetime | None = None,
) -> CheckOutResult:
    """Check ``device`` (and its bundled accessories) out to ``person``.

    A device from the loaner pool goes out as a loaner. ``due_on`` is a date.
    ``submission_key`` is the form's one-time key: the same key again for the same device
    and person returns the first result with ``replayed=True`` instead of doing anything
    twice; for another device or person it is refused (ConflictError). The pages bind their
    keys to the user and the whole form as well (:func:`submission_claim`).

    Raises:
        WrongStateError: device lost, stolen, retired or in repair; person inactive,
            withdrawn, graduated or transferred; due date in the past or more than
            ``rules.DUE_DATE_MAX_YEARS`` years ahead; a second device of
            the same category when the district refuses those.
        ConflictError: the device is already checked out (e.g. by a simultaneous request);
            ``submission_key`` was used for another device or person.
        Http404: ``actor`` may not change this device or see this person.
    """
    if submission_key:
        earlier = Assignment.objects.filter(submission_key=submission_key).select_related("device", "person").first()
        if earlier is not None:
            if earlier.device_id != device.pk or earlier.person_id != person.pk:
                raise ConflictError(SUBMISSION_OTHER_CONTENT)
            return CheckOutResult(assignment=earlier, replayed=True)
    at = at or timezone.now()
    device = device_lock(device=device, actor=actor)
    if actor is not None:
        person = get_visible_or_404(Person.objects.all(), actor, VIEW, pk=person.pk)
    person_words = rules.person_refusal(
        person_label=person_label_for(person=person, user=actor, label=person.display_name),
        status=person.status,
        status_label=person.get_status_display(),
    )
    if person_words is not None:
        raise WrongStateError(person_words, field="person")
    due_words = rules.due_date_refusal(due_on=due_on, today=rules.district_today(at)) if due_on is not None else None
    if due_words is not None:
        raise WrongStateError(due_words, field="due_on")
    _ensure_can_check_out(device, actor)
    is_loaner = device.status == Status.LOANER_POOL
    second = _second_device(device=device, person=person, actor=actor, is_loaner=is_loaner)
    common: dict[str, Any] = dict(person=person, actor=actor, at=at, due_on=due_on, condition=condition, notes=notes,
                  is_loaner=is_loaner, source=source, import_run_id=import_run_id)  # fmt: skip
    result = CheckOutResult(assignment=_open_assignment(device=device, submission_key=submission_key, **common))
    if second:
        result.warnings.append(second)
    if with_bundle:
        for accessory in Device.objects.select_for_update().filter(bundled_with=device).order_by("asset_tag"):
            if rules.checkout_refusal(status=accessory.status) is not None:
                result.warnings.append(
                    f"Bundled {accessory.model.get_category_display().lower()} {accessory.asset_tag} is "
                    f"{accessory.get_status_display().lower()} and stayed behind."
                )
                continue
            result.accessory_assignments.append(_open_assignment(device=accessory, submission_key=None, **common))
    return result


def _close_assignment(*, device: Device, assignment: Assignment, actor: Actor | None, at: datetime.datetime, condition: str,
                      notes: str, source: str, import_run_id: int | None) -> Assignment:  # fmt: skip
    before = {"status": device.status, "holder": assignment.holder_label}
    assignment.checked_in_at = max(at, assignment.checked_out_at)
    assignment.checked_in_by = acting_user(actor)
    assignment.checked_in_by_label = actor_label(actor)
    assignment.condition_in = condition
    if notes:
        assignment.notes = f"{assignment.notes}\n{notes}".strip()
    assignment.save(update_fields=["checked_in_at", "checked_in_by", "checked_in_by_label", "condition_in", "notes"])
    device.status = Status.LOANER_POOL if assignment.is_loaner else Status.IN_STOCK
    device.save(update_fields=["status", "updated_at"])
    event_record(
        device=device,
        kind=DeviceEvent.Kind.CHECKED_IN,
        actor=actor,
        person=assignment.person,
        before=before,
        after={"status": device.status, "holder": None, "condition": condition},
        note=notes,
        source=source,
        import_run_id=import_run_id,
        occurred_at=assignment.checked_in_at,
    )
    return assignment


@transaction.atomic
def device_check_in(
    *,
    device: Device,
    actor: Actor | None,
    condition: str = Assignment.Condition.GOOD,
    notes: str = "",
    with_bundle: bool = True,
    source: str = DeviceEvent.Source.WEB,
    import_run_id: int | None = None,
    at: datetime.datetime | None = None,
) -> CheckInResult:
    """Check ``device`` (and bundled accessories still out) back in with its condition.

    The device returns to stock, or to the loaner pool if it went out as a loaner. A
    lost or stolen device that comes back is found by its check-in.

    Raises:
        NotCheckedOutWarning: the device is not checked out (harmless; nothing changes).
        Http404: ``actor`` may not change this device.
    """
    at = at or timezone.now()
    device = device_lock(device=device, actor=actor)
    assignment = Assignment.objects.select_for_update().filter(device=device, checked_in_at__isnull=True).first()
    if assignment is None:
        raise NotCheckedOutWarning(f"{device.asset_tag} is not checked out; nothing to check in.")
    common: dict[str, Any] = dict(
        actor=actor, at=at, condition=condition, notes=notes, source=source, import_run_id=import_run_id
    )
    was_missing = device.status in (Status.LOST, Status.STOLEN)
    result = CheckInResult(
        assignment=_close_assignment(device=device, assignment=assignment, **common), was_missing=was_missing
    )
    if with_bundle:
        for accessory in Device.objects.select_for_update().filter(bundled_with=device).order_by("asset_tag"):
            acc_assignment = (
                Assignment.objects.select_for_update().filter(device=accessory, checked_in_at__isnull=True).first()
            )
            if acc_assignment is None:
                continue
            if acc_assignment.person_id != assignment.person_id:
                result.warnings.append(f"Bundled {accessory.asset_tag} is held by someone else; left as it is.")
                continue
            result.accessory_assignments.append(
                _close_assignment(device=accessory, assignment=acc_assignment, **common)
            )
    return result


@dataclass
class BulkItemResult:
    """One item of a bulk operation: its ``key`` (asset tag), ``ok`` and a ``message``."""

    key: str
    ok: bool
    message: str
    warning: bool = False


_T = TypeVar("_T")


def bulk_apply(items: Iterable[tuple[str, _T]], operation: Callable[[_T], str]) -> list[BulkItemResult]:
    """Run ``operation`` on each item in its own transaction; report a result for every item.

    ``items`` are ``(key, item)`` pairs; ``operation`` returns a success message. Domain
    errors and 404s become failed items; one failure never undoes the others.
    """
    results: list[BulkItemResult] = []
    for key, item in items:
        try:
            with transaction.atomic():
                results.append(BulkItemResult(key=key, ok=True, message=operation(item)))
        except NotCheckedOutWarning as warning:
            results.append(BulkItemResult(key=key, ok=False, message=str(warning), warning=True))
        except DomainError as error:
            results.append(BulkItemResult(key=key, ok=False, message=str(error)))
        except Http404:
            results.append(BulkItemResult(key=key, ok=False, message=f"{key}: not found in your sites."))
    return results


# --------------------------------------------------------------------------- one-time form keys

#: How long a repeated submission waits for the first one's answer (seconds).
SUBMISSION_WAIT = 30.0

SUBMISSION_OTHER_CONTENT = (
    "This form was already sent with different content (a page left open, or sent again after a change), "
    "so nothing was done now. Reload the page and send it again."
)
SUBMISSION_STILL_RUNNING = (
    "This form is still being processed from the first time it was sent. Wait a moment, then open the "
    "page again to see its results; do not send it again."
)


def submission_fingerprint(*, operation: str, content: Any) -> str:
    """The SHA-256 (hex) of ``operation`` and ``content`` (JSON-able: text, numbers, lists,
    dicts; dates as ISO text), stable across key order."""
    raw = json.dumps([operation, content], sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(raw.encode()).hexdigest()


@dataclass
class Claim:
    """What :func:`submission_claim` found: ``submission`` to finish with
    :func:`submission_record` (a first sending), or ``replay``, the first sending's stored
    result (a repeated one)."""

    submission: Submission | None = None
    replay: Any = None

    @property
    def replayed(self) -> bool:
        """Whether this sending repeats an earlier one (its result is :attr:`replay`)."""
        return self.submission is None


def submission_claim(*, key: str, actor: Actor, operation: str, content: Any, wait: float = SUBMISSION_WAIT) -> Claim:
    """Claim a form's one-time ``key`` for ``actor`` and ``operation`` with ``content``.

    A new key is recorded (in its own transaction, so a second request sees it at once) and
    returned to be finished with :func:`submission_record`. A key already recorded by the same
    user for the same operation and content returns the first sending's result, waiting up to
    ``wait`` seconds while the first request still runs (a double-click: the browser shows the
    second answer, which must be the first's). Source: issue #8.

    Raises:
        ConflictError: the key was sent by another user or with other content
            (:data:`SUBMISSION_OTHER_CONTENT`), or the first sending is still running after
            ``wait`` seconds (:data:`SUBMISSION_STILL_RUNNING`).
    """
    fingerprint = submission_fingerprint(operation=operation, content=content)
    user = acting_user(actor)
    if user is None:
        raise ConflictError(SUBMISSION_OTHER_CONTENT)
    try:
        with transaction.atomic():
            return Claim(
                submission=Submission.objects.create(key=key, user=user, operation=operation, fingerprint=fingerprint)
            )
    except IntegrityError:
        pass
    deadline = time.monotonic() + wait
    while True:
        earlier = Submission.objects.filter(key=key).first()
        if (
            earlier is None
            or earlier.user_id != getattr(user, "pk", None)
            or earlier.operation != operation
            or (earlier.fingerprint != fingerprint)
        ):
            raise ConflictError(SUBMISSION_OTHER_CONTENT)
        if earlier.result is not None:
            return Claim(replay=earlier.result)
        if time.monotonic() >= deadline:
            raise ConflictError(SUBMISSION_STILL_RUNNING)
        time.sleep(0.2)


def submission_record(*, claim: Claim, result: Any) -> None:
    """Store ``result`` (JSON-able) as the answer to ``claim``'s key; a repeated sending of
    the key gets it back (:func:`submission_claim`). Nothing to do for a replayed claim."""
    if claim.submission is not None:
        Submission.objects.filter(pk=claim.submission.pk).update(result=result)
