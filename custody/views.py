"""Check-out and check-in pages for barcode scanners, single and bulk."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from core.errors import DomainError, NotCheckedOutWarning
from core.scoping import CHANGE, VIEW, get_visible_or_404, person_label_for
from core.types import Actor
from core.views import HtmxHttpRequest, form_error_messages, ledger_view
from custody.forms import BulkForm, CheckInForm, CheckOutForm, new_submission_key
from custody.selectors import person_holdings
from custody.services import (
    BulkItemResult,
    bulk_apply,
    device_check_in,
    device_check_out,
    holder_label_for,
)
from inventory.models import Device
from inventory.selectors import device_find_exact
from people.models import Person
from people.selectors import person_find_exact, person_list, person_matches_exact


def _resolve_device(user: Actor, code: str) -> Device:
    device = device_find_exact(user=user, code=code, action=CHANGE)
    if device is None:
        raise DomainError(f"No device with asset tag or serial number '{code.strip()}' at your sites.", field="code")
    return device


@ledger_view(CHANGE)
def check_out(request: HtmxHttpRequest) -> HttpResponse:
    """Step 1: find the person (scan an ID card or type a name). Step 2: scan devices, one per Enter."""
    person = None
    if request.method == "POST":
        posted = CheckOutForm(request.POST, user=request.user)
        result: dict[str, Any] = {"ok": False}
        if posted.is_valid():
            person = posted.cleaned_data["person"]
            try:
                device = _resolve_device(request.user, posted.cleaned_data["code"])
                outcome = device_check_out(
                    device=device,
                    person=person,
                    actor=request.user,
                    due_on=posted.cleaned_data["due_on"],
                    condition=posted.cleaned_data["condition"],
                    submission_key=posted.cleaned_data["submission_key"] or None,
                )
            except DomainError as error:
                result = {"ok": False, "message": error.message}
            else:
                tags = [outcome.assignment.device.asset_tag] + [
                    a.device.asset_tag for a in outcome.accessory_assignments
                ]
                verb = "was already checked out (form sent twice)" if outcome.replayed else "checked out"
                result = {
                    "ok": True,
                    "message": f"{', '.join(tags)} {verb}"
                    f"{' as a loaner' if outcome.assignment.is_loaner else ''} to "
                    f"{holder_label_for(assignment=outcome.assignment, user=request.user)}.",
                    "warnings": outcome.warnings,
                }
        else:
            result["message"] = "; ".join(form_error_messages(posted))
            person = None
        if request.htmx:
            return render(
                request,
                "custody/_scan_result.html",
                {"result": result, "submission_key": new_submission_key()},
            )
        (messages.success if result["ok"] else messages.error)(request, result["message"])
        for warning in result.get("warnings", []):
            messages.warning(request, warning)
        url = reverse("check_out")
        return redirect(f"{url}?person={person.pk}" if person else url)

    person_id = request.GET.get("person")
    find = request.GET.get("find", "")[:200]
    candidates: Any = []
    if person_id:
        person = get_visible_or_404(Person.objects.select_related("home_site"), request.user, VIEW, pk=person_id)
    elif find:
        person = person_find_exact(user=request.user, code=find)
        if person is not None:
            return redirect(f"{reverse('check_out')}?person={person.pk}")
        candidates = person_list(user=request.user, query=find).order_by("family_name", "given_name")[:25]
    form: CheckOutForm | None = (
        CheckOutForm(user=request.user, initial={"person": person.pk, "submission_key": new_submission_key()})
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
            "candidates": candidates,
            "holdings": person_holdings(person=person) if person else [],
        },
    )


@ledger_view(CHANGE)
def check_in(request: HtmxHttpRequest) -> HttpResponse:
    """Scan devices to check them in, one per Enter; the condition stays as chosen between scans."""
    form = CheckInForm(request.POST or None, initial={"condition": request.GET.get("condition", "good")})
    if request.method == "POST":
        result: dict[str, Any]
        if form.is_valid():
            try:
                device = _resolve_device(request.user, form.cleaned_data["code"])
                outcome = device_check_in(
                    device=device,
                    actor=request.user,
                    condition=form.cleaned_data["condition"],
                    notes=form.cleaned_data["notes"],
                )
            except NotCheckedOutWarning as warning:
                result = {"ok": False, "warning": True, "message": warning.message}
            except DomainError as error:
                result = {"ok": False, "message": error.message}
            else:
                tags = [outcome.assignment.device.asset_tag] + [
                    a.device.asset_tag for a in outcome.accessory_assignments
                ]
                result = {
                    "ok": True,
                    "message": f"{', '.join(tags)} checked in from "
                    f"{holder_label_for(assignment=outcome.assignment, user=request.user)}, back in "
                    f"{'the loaner pool' if outcome.assignment.is_loaner else 'stock'}."
                    f"{' It had been marked lost or stolen: it is found now.' if outcome.was_missing else ''}",
                    "warnings": outcome.warnings,
                }
        else:
            result = {"ok": False, "message": "Scan or type an asset tag or serial number."}
        if request.htmx:
            return render(request, "custody/_scan_result.html", {"result": result})
        level = messages.success if result["ok"] else (messages.warning if result.get("warning") else messages.error)
        level(request, result["message"])
        return redirect(f"{reverse('check_in')}?condition={form.data.get('condition', 'good')}")
    return render(request, "custody/check_in.html", {"form": form})


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


def _with(accessories: list[Any]) -> str:
    return f" (with {', '.join(a.device.asset_tag for a in accessories)})" if accessories else ""


@ledger_view(CHANGE)
def bulk(request: HtmxHttpRequest, operation: str) -> HttpResponse:
    """Bulk check-in (one asset tag per line) or check-out (``asset tag, student number`` per line).

    Every line gets its own result; one bad line never undoes the others.
    """
    if operation not in ("check-in", "check-out"):
        raise Http404("No such bulk operation.")
    form = BulkForm(request.POST or None)
    results: list[BulkItemResult] = []
    if request.method == "POST" and form.is_valid():
        condition = form.cleaned_data["condition"]
        user = request.user

        if operation == "check-in":

            def run_in(code: str) -> str:
                outcome = device_check_in(device=_resolve_device(user, code), actor=user, condition=condition)
                holder = holder_label_for(assignment=outcome.assignment, user=user)
                return f"checked in from {holder}{_with(outcome.accessory_assignments)}"

            results = bulk_apply(((line, line) for line in form.cleaned_data["lines"]), run_in)
        else:

            def run_out(line: str) -> str:
                parts = [p.strip() for p in line.replace("\t", ",").split(",")]
                if len(parts) != 2 or not all(parts):
                    raise DomainError("expected 'asset tag, student number'")
                person = _bulk_person(user, parts[1])
                outcome = device_check_out(
                    device=_resolve_device(user, parts[0]), person=person, actor=user, condition=condition
                )
                holder = holder_label_for(assignment=outcome.assignment, user=user)
                return f"checked out to {holder}{_with(outcome.accessory_assignments)}"

            results = bulk_apply(((line, line) for line in form.cleaned_data["lines"]), run_out)
        # Post/redirect/get: refreshing the result page must not run the bulk operation again.
        request.session[f"bulk-{operation}"] = [asdict(r) for r in results]
        return redirect("bulk", operation=operation)
    if request.method == "GET":
        results = [BulkItemResult(**r) for r in request.session.pop(f"bulk-{operation}", [])]
    return render(
        request,
        "custody/bulk.html",
        {
            "form": form,
            "operation": operation,
            "results": results,
            "ok_count": sum(1 for r in results if r.ok),
        },
    )
