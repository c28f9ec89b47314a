"""Device pages: list with search and scan-to-open, detail with timeline, add/edit, actions."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import F
from django.db.models.functions import Lower
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from core.errors import DomainError
from core.paging import list_page
from core.scoping import CHANGE, VIEW, get_visible_or_404, scope_for
from core.views import HtmxHttpRequest, form_error, form_error_messages, ledger_view
from inventory import services
from inventory.forms import BundleForm, DeviceForm, MoveForm, StatusForm, TransferForm
from inventory.models import Device, DeviceModel
from inventory.selectors import NOT_RETIRED, device_find_exact, device_list, device_list_filters, device_timeline
from sites.models import Site

#: Sort keys of the device list: key → the columns of its order (each then by ``id``). The
#: asset tag's order is indexed within every scope; serial by ``lower(serial_number)``.
DEVICE_SORTS: dict[str, tuple[str, ...]] = {
    "tag": ("asset_tag",),
    "serial": ("sort_serial",),
    "model": ("sort_maker", "sort_model", "asset_tag"),
    "status": ("status", "asset_tag"),
    "site": ("sort_site", "asset_tag"),
}


@ledger_view(VIEW)
def device_list_view(request: HtmxHttpRequest) -> HttpResponse:
    """Search and filter devices; an exact asset tag or serial (as a scanner types it) opens the
    device. Shows how many match, sorts by a whitelisted column (``sort``: tag, serial, model,
    status, site; ``-`` for descending) and pages by keyset (``per_page``: 25–200)."""
    filters = device_list_filters(request.GET)
    q = filters["query"]
    if q and request.GET.get("exact", "1") == "1" and not request.htmx:
        match = device_find_exact(user=request.user, code=q)
        if match is not None:
            return redirect("device_detail", pk=match.pk)
    qs = device_list(user=request.user, **filters).annotate(
        sort_serial=Lower("serial_number"),
        sort_maker=F("model__manufacturer__name"),
        sort_model=F("model__name"),
        sort_site=F("current_site__name"),
    )
    whole_table = not any(filters.values()) and scope_for(request.user).site_ids(VIEW) is None
    listing = list_page(qs, request.GET, sorts=DEVICE_SORTS, default="tag", estimate=whole_table, keep={"exact": "0"})
    context = {
        "listing": listing,
        "page": listing.page,
        "q": q,
        "status": filters["status"],
        "site_id": filters["site_id"],
        "model_id": filters["model_id"],
        "overdue": filters["overdue"],
        "left": filters["left"],
        "statuses": [(NOT_RETIRED, "Any but retired"), *Device.Status.choices],
        "sites": Site.objects.visible_to(request.user).order_by("name"),
        "models": DeviceModel.objects.visible_to(request.user).select_related("manufacturer"),
        "can_change": scope_for(request.user).allows(CHANGE),
    }
    template = "inventory/_device_rows.html" if request.htmx else "inventory/device_list.html"
    return render(request, template, context)


@ledger_view(VIEW)
def device_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """One device: details, current holder, accessories and its custody timeline.

    The current holder is a panel custody fills (``device_custody``, see :mod:`core.extensions`)."""
    device = get_visible_or_404(
        Device.objects.select_related("model__manufacturer", "owner_site", "current_site", "location", "bundled_with"),
        request.user,
        VIEW,
        pk=pk,
    )
    can_change = Device.objects.visible_to(request.user, CHANGE).filter(pk=device.pk).exists()
    accessories = list(device.accessories.visible_to(request.user).select_related("model").order_by("asset_tag"))
    return render(
        request,
        "inventory/device_detail.html",
        {
            "device": device,
            "events": device_timeline(device=device, user=request.user),
            # Accessories through the gate: one left at a site the viewer may not see is only counted.
            "accessories": accessories,
            "accessories_elsewhere": device.accessories.count() - len(accessories),
            "can_change": can_change,
            "transfer_form": TransferForm(user=request.user),
            "move_form": MoveForm(user=request.user, device=device),
            "status_form": StatusForm(),
            "bundle_form": BundleForm(),
        },
    )


@ledger_view(CHANGE)
def device_create_view(request: HtmxHttpRequest) -> HttpResponse:
    """Add a device at one of the user's sites."""
    form = DeviceForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data.pop("version", None)
        try:
            device = services.device_create(
                actor=request.user,
                asset_tag=data.pop("asset_tag"),
                model=data.pop("model"),
                owner_site=data["owner_site"],
                serial_number=data.pop("serial_number"),
                **{k: v for k, v in data.items() if k != "owner_site"},
            )
        except DomainError as error:
            form_error(form, error)
        else:
            messages.success(request, f"Added {device.asset_tag}.")
            return redirect("device_detail", pk=device.pk)
    return render(request, "inventory/device_form.html", {"form": form, "title": "Add a device"})


@ledger_view(CHANGE)
def device_edit_view(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Edit a device's details (not its status or custody)."""
    device = get_visible_or_404(Device.objects.all(), request.user, CHANGE, pk=pk)
    form = DeviceForm(request.POST or None, instance=device, user=request.user)
    if request.method == "POST" and form.is_valid():
        fresh = Device.objects.get(pk=device.pk)
        changes = dict(form.cleaned_data)
        version = changes.pop("version", "") or None
        try:
            services.device_update(device=fresh, actor=request.user, expected_version=version, **changes)
        except DomainError as error:
            form_error(form, error)
        else:
            messages.success(request, f"Saved {form.cleaned_data['asset_tag']}.")
            return redirect("device_detail", pk=device.pk)
    return render(request, "inventory/device_form.html", {"form": form, "title": f"Edit {device.asset_tag}"})


@require_POST
@ledger_view(CHANGE)
def device_action(request: HtmxHttpRequest, pk: int, action: str) -> HttpResponse:
    """Transfer, move, change status or bundle. Errors come back as messages on the device page."""
    device = get_visible_or_404(Device.objects.all(), request.user, CHANGE, pk=pk)
    back = redirect("device_detail", pk=device.pk)
    try:
        if action == "transfer":
            transfer = TransferForm(request.POST, user=request.user)
            if not transfer.is_valid():
                return _form_errors(request, transfer, back)
            services.device_transfer(
                device=device,
                to_site=transfer.cleaned_data["site"],
                actor=request.user,
                note=transfer.cleaned_data["note"],
            )
            to_site = transfer.cleaned_data["site"]
            along = device.accessories.filter(current_site=to_site).exclude(status=Device.Status.RETIRED)
            tags = ", ".join(along.order_by("asset_tag").values_list("asset_tag", flat=True))
            with_tags = f" (with {tags})" if tags else ""
            messages.success(request, f"{device.asset_tag}{with_tags} transferred to {to_site.name}.")
            if not Device.objects.visible_to(request.user).filter(pk=device.pk).exists():
                return redirect(reverse("device_list"))
        elif action == "move":
            form = MoveForm(request.POST, user=request.user, device=device)
            if not form.is_valid():
                return _form_errors(request, form, back)
            services.device_move(
                device=device,
                location=form.cleaned_data["location"],
                actor=request.user,
                note=form.cleaned_data["note"],
            )
            messages.success(request, f"{device.asset_tag} moved.")
        elif action == "status":
            status = StatusForm(request.POST)
            if not status.is_valid():
                return _form_errors(request, status, back)
            op = status.cleaned_data["action"]
            note = status.cleaned_data["note"]
            if op == "lost":
                services.device_mark_lost(device=device, actor=request.user, note=note)
            elif op == "stolen":
                services.device_mark_stolen(device=device, actor=request.user, note=note)
            elif op == "found":
                services.device_mark_found(device=device, actor=request.user, note=note)
            elif op == "repair":
                services.device_send_to_repair(device=device, actor=request.user, note=note)
            elif op == "repaired":
                services.device_return_from_repair(device=device, actor=request.user, note=note)
            elif op in ("loaner_in", "loaner_out"):
                services.device_set_loaner_pool(device=device, in_pool=op == "loaner_in", actor=request.user, note=note)
            else:
                services.device_retire(device=device, actor=request.user, note=note)
            device.refresh_from_db(fields=["status"])
            messages.success(request, f"{device.asset_tag} is now {device.get_status_display().lower()}.")
        elif action == "bundle":
            bundle = BundleForm(request.POST)
            if not bundle.is_valid():
                return _form_errors(request, bundle, back)
            tag = bundle.cleaned_data["accessory_tag"]
            accessory = device_find_exact(user=request.user, code=tag, action=CHANGE)
            if accessory is None:
                messages.error(request, f"Accessory asset tag: no device '{tag}' at your sites.")
                return back
            services.device_bundle(accessory=accessory, primary=device, actor=request.user)
            messages.success(request, f"{accessory.asset_tag} now goes out and comes back with {device.asset_tag}.")
        elif action == "unbundle":
            accessory = get_visible_or_404(
                Device.objects.filter(bundled_with=device), request.user, CHANGE, pk=request.POST.get("accessory")
            )
            services.device_bundle(accessory=accessory, primary=None, actor=request.user)
            messages.success(request, f"{accessory.asset_tag} unbundled.")
        else:
            messages.error(request, f"Unknown action '{action}'.")
    except DomainError as error:
        messages.error(request, error.message)
    return back


def _form_errors(request: HtmxHttpRequest, form: object, back: HttpResponse) -> HttpResponse:
    for message in form_error_messages(form):
        messages.error(request, message)
    return back
