"""Check-out and check-in pages for barcode scanners, single and bulk."""

from __future__ import annotations

import datetime
from dataclasses import asdict
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from core.errors import ConflictError, DomainError, NotCheckedOutWarning
from core.querystring import query_id, query_param, scan_clean
from core.scoping import CHANGE, VIEW, get_visible_or_404, person_label_for, scope_for
from core.types import Actor
from core.views import HtmxHttpRequest, form_error_messages, ledger_view
from custody import rules
from custody.forms import BulkForm, CheckInForm, CheckOutForm, new_submission_key
from custody.models import Assignment
from custody.selectors import person_holdings
from custody.services import (
    BulkItemResult,
    Claim,
    bulk_apply,
    device_check_in,
    device_check_out,
    holder_label_for,
    submission_claim,
    submission_record,
)
from inventory.models import Device
from inventory.selectors import device_find_exact
from people.models import Person
from people.selectors import person_find_exact, person_list, person_matches_exact
from sites.models import District


def _resolve_device(user: Actor, code: str, *, doing: str) -> Device:
    """The device a scanned ``code`` names that ``user`` may change (the gate's ``CHANGE``),
    for check-out, check-in and bulk alike; ``doing`` is the verb phrase (``"check it out"``).

    Raises :class:`DomainError` (``field="code"``): when the device is visible to the user
    (``VIEW``) but not changeable — a read-only role (principal, auditor) at its site — the
    message says so and names the site; a device the user may not see at all gets the neutral
    "No device … at your sites", so nothing about it is revealed.
    """
    device = device_find_exact(user=user, code=code, action=CHANGE)
    if device is not None:
        return device
    seen = device_find_exact(user=user, code=code, action=VIEW)
    if seen is not None:
        site = getattr(seen, scope_for(user).device_site_field.removesuffix("_id"), None) or seen.owner_site
        raise DomainError(
            f"{seen.asset_tag} is at {site.name}, where your role is read-only: you can look it up but not {doing}.",
            field="code",
        )
    raise DomainError(f"No device with asset tag or serial number '{scan_clean(code)}' at your sites.", field="code")


def _devices_phrase(device: Device, accessories: list[Any]) -> str:
    """The devices a scan moved, model named: ``CB-000001 (Dell Chromebook 3100) with CHG-0001``."""
    phrase = f"{device.asset_tag} ({device.model})"
    return phrase + (f" with {', '.join(a.device.asset_tag for a in accessories)}" if accessories else "")


def _claim(request: HtmxHttpRequest, key: str, operation: str, content: Any) -> Claim | dict[str, Any]:
    """The form's one-time key claimed (:func:`custody.services.submission_claim`), or the
    refusal as a scan result."""
    try:
        return submission_claim(key=key, actor=request.user, operation=operation, content=content)
    except ConflictError as error:
        return {"ok": False, "message": error.message}


def _replayed(result: dict[str, Any]) -> dict[str, Any]:
    if result.get("ok"):
        return {**result, "message": f"{result['message']} (form sent twice: done once)"}
    return result


def _scan_answer(
    request: HtmxHttpRequest, result: dict[str, Any], redirect_to: str, person: Person | None = None
) -> HttpResponse:
    """A scan's result: the result panel for the page's script (with the person's holdings,
    refreshed, on check-out), or a message and a redirect without JavaScript."""
    if request.htmx:
        context: dict[str, Any] = {"result": result, "submission_key": new_submission_key()}
        if person is not None:
            context.update(person=person, holdings=person_holdings(person=person), oob=True)
        return render(request, "custody/_scan_result.html", context)
    (messages.success if result["ok"] else messages.warning if result.get("warning") else messages.error)(
        request, result["message"]
    )
    for warning in result.get("warnings", []):
        messages.warning(request, warning)
    return redirect(redirect_to)


def _default_due_on() -> datetime.date | None:
    district = District.get()
    return rules.default_due_on(
        month=district.default_due_month, day=district.default_due_day, today=rules.district_today()
    )


@ledger_view(CHANGE)
def check_out(request: HtmxHttpRequest) -> HttpResponse:
    """Step 1: find the person (scan an ID card or type a name). Step 2: scan devices, one per Enter.

    ``?device=TAG`` (the device page's Check out button) carries the device through step 1 and
    fills the scan field; the due date is the district's default (``custody.rules.default_due_on``).
    """
    person = None
    if request.method == "POST":
        posted = CheckOutForm(request.POST, user=request.user)
        result: dict[str, Any] = {"ok": False}
        if posted.is_valid():
            person = posted.cleaned_data["person"]
            data = posted.cleaned_data
            content = {
                "person": person.pk,
                "code": scan_clean(data["code"]).lower(),
                "due_on": data["due_on"].isoformat() if data["due_on"] else None,
                "condition": data["condition"],
            }
            claim = _claim(request, data["submission_key"], "check-out", content) if data["submission_key"] else None
            if isinstance(claim, dict):
                result = claim
            elif claim is not None and claim.replayed:
                result = _replayed(claim.replay)
            else:
                try:
                    device = _resolve_device(request.user, data["code"], doing="check it out")
                    outcome = device_check_out(
                        device=device,
                        person=person,
                        actor=request.user,
                        due_on=data["due_on"],
                        condition=data["condition"],
                        submission_key=data["submission_key"] or None,
                    )
                except DomainError as error:
                    result = {"ok": False, "message": error.message}
                else:
                    assignment = outcome.assignment
                    verb = "was already checked out (form sent twice)" if outcome.replayed else "checked out"
                    result = {
                        "ok": True,
                        "message": f"{_devices_phrase(assignment.device, outcome.accessory_assignments)} {verb}"
                        f"{' as a loaner' if assignment.is_loaner else ''} to "
                        f"{holder_label_for(assignment=assignment, user=request.user)}.",
                        "warnings": outcome.warnings,
                    }
                if claim is not None:
                    submission_record(claim=claim, result=result)
        else:
            result["message"] = "; ".join(form_error_messages(posted))
            person = None
        url = reverse("check_out")
        return _scan_answer(request, result, f"{url}?person={person.pk}" if person else url, person)

    person_id = query_id(request.GET, "person")
    find = query_param(request.GET, "find")
    device_code = scan_clean(query_param(request.GET, "device"))
    candidates: Any = []
    if person_id or request.GET.get("person"):
        person = get_visible_or_404(Person.objects.select_related("home_site"), request.user, VIEW, pk=person_id)
    elif find:
        person = person_find_exact(user=request.user, code=find)
        if person is not None:
            target = f"{reverse('check_out')}?person={person.pk}"
            return redirect(f"{target}&{urlencode({'device': device_code})}" if device_code else target)
        candidates = person_list(user=request.user, query=find).order_by("family_name", "given_name")[:25]
    form: CheckOutForm | None = (
        CheckOutForm(
            user=request.user,
            initial={
                "person": person.pk,
                "submission_key": new_submission_key(),
                "due_on": _default_due_on(),
                "code": device_code,
            },
        )
        if person
        else None
    )
    return render(
        request,
        "custody/check_out.html",
        {
            "person": person,
            "form": form,
            "find": find,
            "device_code": device_code,
            "candidates": candidates,
            "holdings": person_holdings(person=person) if person else [],
            "person_refusal": rules.person_refusal(
                person_label=person.display_name, status=person.status, status_label=person.get_status_display()
            )
            if person
            else None,
        },
    )


@ledger_view(CHANGE)
def check_in(request: HtmxHttpRequest) -> HttpResponse:
    """Scan devices to check them in, one per Enter.

    A condition and notes describe one device: after each scan the form goes back to Good with
    no notes (the page after the redirect; ``data-reset-to`` for ``static/js/scan.js``), and the
    scan's result line says the condition recorded (tester's report on issue #8: "Damaged,
    cracked screen" carried over to the next device). ``?code=TAG`` (the device and person
    pages' Check in buttons) fills the scan field.
    """
    form = CheckInForm(
        request.POST or None,
        initial={
            "condition": "good",
            "code": scan_clean(query_param(request.GET, "code")),
            "submission_key": new_submission_key(),
        },
    )
    form.fields["condition"].widget.attrs["data-reset-to"] = "good"
    form.fields["notes"].widget.attrs["data-reset-to"] = ""
    if request.method == "POST":
        result: dict[str, Any]
        if form.is_valid():
            data = form.cleaned_data
            content = {"code": scan_clean(data["code"]).lower(), "condition": data["condition"], "notes": data["notes"]}
            claim = _claim(request, data["submission_key"], "check-in", content) if data["submission_key"] else None
            if isinstance(claim, dict):
                result = claim
            elif claim is not None and claim.replayed:
                result = _replayed(claim.replay)
            else:
                try:
                    device = _resolve_device(request.user, data["code"], doing="check it in")
                    outcome = device_check_in(
                        device=device, actor=request.user, condition=data["condition"], notes=data["notes"]
                    )
                except NotCheckedOutWarning as warning:
                    result = {"ok": False, "warning": True, "message": warning.message}
                except DomainError as error:
                    result = {"ok": False, "message": error.message}
                else:
                    assignment = outcome.assignment
                    result = {
                        "ok": True,
                        "message": f"{_devices_phrase(assignment.device, outcome.accessory_assignments)} checked in "
                        f"from {holder_label_for(assignment=assignment, user=request.user)}, back in "
                        f"{'the loaner pool' if assignment.is_loaner else 'stock'}."
                        f"{' It had been marked lost or stolen: it is found now.' if outcome.was_missing else ''}"
                        f" {_condition_recorded(data['condition'], data['notes'])}",
                        "warnings": outcome.warnings,
                    }
                if claim is not None:
                    submission_record(claim=claim, result=result)
        else:
            result = {"ok": False, "message": "Scan or type an asset tag or serial number."}
        return _scan_answer(request, result, reverse("check_in"))
    return render(request, "custody/check_in.html", {"form": form})


def _condition_recorded(condition: str, notes: str) -> str:
    """The check-in result's last sentence: ``Condition: Damaged ("cracked screen").``"""
    label = Assignment.Condition(condition).label
    return f'Condition: {label} ("{notes}").' if notes else f"Condition: {label}."


def _bulk_person(user: Actor, code: str) -> Person:
    """The one person a bulk check-out line names by student number (or sourcedId, or state
    id). DomainError when nobody at the user's sites has it, or when several people do: the
    line cannot choose, it needs their sourcedId (or the Check out page, where the person is
    chosen by name)."""
    matches = person_matches_exact(user=user, code=code)
    found = list(matches[:6])
    if not found:
        raise DomainError(f"no person with student number '{code}' at your sites")
    if len(found) > 1:
        count = len(found) if len(found) < 6 else matches.count()
        names = ", ".join(person_label_for(person=p, user=user, label=p.display_name) for p in found[:5])
        names += " …" if count > 5 else ""
        raise DomainError(
            f"student number '{code}' matches {count} people at your sites ({names}); put the person's sourcedId "
            "on the line instead, or check the device out on the Check out page, choosing the person by name"
        )
    return found[0]


@ledger_view(CHANGE)
def bulk(request: HtmxHttpRequest, operation: str) -> HttpResponse:
    """Bulk check-in (one asset tag per line) or check-out (``asset tag, student number`` per line).

    Every check-out gets the form's due date, pre-filled with the district's default
    (``custody.rules.default_due_on``; blank: no due date); the results page says which.
    Every line gets its own result; one bad line never undoes the others. The form carries a
    one-time key (:func:`custody.services.submission_claim`): sent twice (a double-click), the
    second answer is the first run's results; sent again with other lines, it is refused. The
    results page keeps what was pasted in the box.
    """
    if operation not in ("check-in", "check-out"):
        raise Http404("No such bulk operation.")
    default_due = _default_due_on() if operation == "check-out" else None
    form = BulkForm(request.POST or None, initial={"submission_key": new_submission_key(), "due_on": default_due})
    results: list[BulkItemResult] = []
    due_on_set: str | None = None  # the due date the results' check-outs got (ISO; "" for none)
    if request.method == "POST" and form.is_valid():
        condition = form.cleaned_data["condition"]
        due_on = form.cleaned_data["due_on"] if operation == "check-out" else None
        user = request.user
        lines = form.cleaned_data["lines"]
        key = form.cleaned_data["submission_key"]
        content = {"lines": lines, "condition": condition, "due_on": due_on.isoformat() if due_on else None}
        claim = _claim(request, key, f"bulk-{operation}", content) if key else None
        if isinstance(claim, dict):
            form.add_error(None, claim["message"])
        else:
            if claim is not None and claim.replayed:
                stored = claim.replay
            else:
                stored = [asdict(r) for r in _bulk_run(user, operation, lines, condition, due_on)]
                if claim is not None:
                    submission_record(claim=claim, result=stored)
            # Post/redirect/get: refreshing the result page must not run the bulk operation again.
            request.session[f"bulk-{operation}"] = {
                "results": stored,
                "lines": form.data.get("lines", ""),
                "condition": condition,
                "due_on": due_on.isoformat() if due_on else "",
            }
            return redirect("bulk", operation=operation)
    if request.method == "GET":
        kept = request.session.pop(f"bulk-{operation}", None)
        if isinstance(kept, dict):
            results = [BulkItemResult(**r) for r in kept.get("results", [])]
            due_on_set = kept.get("due_on", "")
            form = BulkForm(
                initial={
                    "lines": kept.get("lines", ""),
                    "condition": kept.get("condition", "good"),
                    "due_on": due_on_set,
                    "submission_key": new_submission_key(),
                }
            )
    return render(
        request,
        "custody/bulk.html",
        {
            "form": form,
            "operation": operation,
            "results": results,
            "ok_count": sum(1 for r in results if r.ok),
            "due_on_set": due_on_set,
            "default_due_on": default_due,
        },
    )


def _bulk_run(
    user: Actor, operation: str, lines: list[str], condition: str, due_on: datetime.date | None = None
) -> list[BulkItemResult]:
    """Run a bulk check-in or check-out, one result per line; every check-out gets ``due_on``
    (``None``: no due date)."""
    if operation == "check-in":

        def run_in(code: str) -> str:
            outcome = device_check_in(
                device=_resolve_device(user, code, doing="check it in"), actor=user, condition=condition
            )
            holder = holder_label_for(assignment=outcome.assignment, user=user)
            return (
                f"{_devices_phrase(outcome.assignment.device, outcome.accessory_assignments)} checked in from {holder}"
            )

        return bulk_apply(((line, line) for line in lines), run_in)

    def run_out(line: str) -> str:
        parts = [p.strip() for p in line.replace("\t", ",").split(",")]
        if len(parts) != 2 or not all(parts):
            raise DomainError("expected 'asset tag, student number'")
        person = _bulk_person(user, parts[1])
        outcome = device_check_out(
            device=_resolve_device(user, parts[0], doing="check it out"),
            person=person,
            actor=user,
            condition=condition,
            due_on=due_on,
        )
        holder = holder_label_for(assignment=outcome.assignment, user=user)
        said = f"{_devices_phrase(outcome.assignment.device, outcome.accessory_assignments)} checked out to {holder}"
        return "; ".join([said, *outcome.warnings])

    return bulk_apply(((line, line) for line in lines), run_out)
