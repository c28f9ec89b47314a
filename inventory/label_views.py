"""The "Print labels" page: choose devices (chosen on the list or a device's page, the list's
filters, or a tag range), a stock and where to start on a sheet; get the PDF.

Everything the page shows or prints is read through the gate by
:func:`inventory.labels.label_devices`; bad input is a message on the form, never an error page.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.http import HttpResponse, QueryDict
from django.shortcuts import render

from core.forms import parse_id
from core.scoping import VIEW
from core.views import HtmxHttpRequest, ledger_view
from inventory.labels import LABELS_MAX, STOCKS, SYMBOLS, LabelError, LabelSelection, label_devices, labels_for
from inventory.labels import labels_pdf as render_labels_pdf
from inventory.models import Device
from inventory.selectors import device_list_filters
from sites.models import District

#: Query parameters the labels page reads itself; a link from the device list carries every
#: other one through as the list's filters (``device_list_filters`` reads what it knows).
OWN_PARAMS = frozenset({"sent", "print", "check", "device", "from_list", "after", "before", "exact"})
_TAG_MAX = Device._meta.get_field("asset_tag").max_length


class LabelForm(forms.Form):
    """The label options: a tag range (used when no device is chosen), the stock, the
    position of the first label on the first sheet (1-based, across then down), the symbols,
    and whether to print the district's name and the labels' outlines."""

    tag_from = forms.CharField(label="From asset tag", required=False, max_length=_TAG_MAX)
    tag_to = forms.CharField(label="To asset tag", required=False, max_length=_TAG_MAX)
    stock = forms.ChoiceField(label="Label stock", choices=[(key, s.name) for key, s in STOCKS.items()])
    start_at = forms.IntegerField(
        label="Start at label",
        min_value=1,
        required=False,
        help_text="On a partly used sheet: the first free label, counting across then down from the top left.",
    )
    symbols = forms.ChoiceField(label="Print", choices=list(SYMBOLS.items()))
    district_name = forms.BooleanField(label="Print the district's name", required=False)
    outlines = forms.BooleanField(label="Draw the label edges (a test print on plain paper)", required=False)

    #: Values of a form the user has not sent yet.
    DEFAULTS = {"stock": "avery-5160", "start_at": "1", "symbols": "both", "district_name": "on"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("tag_from", "tag_to"):
            self.fields[name].widget.attrs.update({"autocomplete": "off", "data-scan": "1", "placeholder": "CB-000100"})
        self.fields["tag_to"].widget.attrs["placeholder"] = "CB-000200"
        self.fields["start_at"].widget.attrs.update({"max": max(s.per_page for s in STOCKS.values())})

    def clean(self) -> dict[str, Any]:
        """The start position must lie on the chosen stock's page (a thermal label has one)."""
        data = super().clean() or {}
        stock = STOCKS.get(data.get("stock") or "")
        start = data.get("start_at") or 1
        if stock is not None and start > stock.per_page:
            self.add_error("start_at", f"This stock has {stock.per_page} label{'s' * (stock.per_page > 1)} a page.")
        data["start_at"] = start
        return data


def _chosen_ids(params: QueryDict) -> list[int]:
    """The ``device`` ids of the query string (junk dropped; one past the cap kept, so the cap is said)."""
    ids = [parse_id(value) for value in params.getlist("device")[: LABELS_MAX + 1]]
    return [i for i in dict.fromkeys(ids) if i is not None]


def _filter_words(params: QueryDict) -> list[str]:
    """The list's filters in words, as the list reads them (:func:`device_list_filters`): a
    value the list drops (``site=abc``) is not named."""
    filters = device_list_filters(params)
    words = [f"“{filters['query']}”"] if filters["query"] else []
    words += [f"the chosen {name}" for name, key in (("site", "site_id"), ("model", "model_id"), ("status", "status"))
              if filters[key]]  # fmt: skip
    words += ["overdue only"] if filters["overdue"] else []
    words += ["held by someone who left"] if filters["left"] else []
    return words


def _filename(selection: LabelSelection) -> str:
    first, last = selection.devices[0].asset_tag, selection.devices[-1].asset_tag
    name = first if first == last else f"{first}_{last}"
    return "labels-" + (re.sub(r"[^A-Za-z0-9.-]+", "-", name).strip("-")[:80] or "devices") + ".pdf"


@ledger_view(VIEW)
def device_labels(request: HtmxHttpRequest) -> HttpResponse:
    """GET: the form, and what it would print ("Check"); with ``print``, the PDF (inline, so
    the browser's viewer prints it). The devices are, in this order of precedence, the
    ``device`` ids, the tag range, or the list's filters when ``from_list=1``."""
    params = request.GET
    sent = params.get("sent") == "1"
    data = params.copy()
    if not sent:
        for name, value in LabelForm.DEFAULTS.items():
            data.setdefault(name, value)
    form = LabelForm(data)
    ids = _chosen_ids(params)
    from_list = params.get("from_list") == "1"
    wants = bool(ids) or from_list or bool(params.get("tag_from") or params.get("tag_to"))
    selection: LabelSelection | None = None
    if form.is_valid() and (wants or "print" in params):
        try:
            selection = label_devices(
                user=request.user,
                device_ids=ids,
                tag_from=form.cleaned_data["tag_from"],
                tag_to=form.cleaned_data["tag_to"],
                list_filters=device_list_filters(params) if from_list else None,
            )
        except LabelError as error:
            form.add_error(
                error.field if error.field in form.fields and not ids and not from_list else None, error.message
            )
    if selection is not None and "print" in params:
        options = form.cleaned_data
        district = District.get().name if options["district_name"] else ""
        pdf = render_labels_pdf(
            labels_for(selection.devices, district=district),
            stock=STOCKS[options["stock"]],
            start_at=options["start_at"],
            symbols=options["symbols"],
            outlines=options["outlines"],
        )
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{_filename(selection)}"'
        return response
    stock = STOCKS.get(form.cleaned_data.get("stock", "") if form.is_bound and hasattr(form, "cleaned_data") else "")
    context = {
        "form": form,
        "selection": selection,
        "chosen_ids": ids,
        "from_list": from_list,
        "list_filters": [(k, v) for k, v in params.items() if v and k not in OWN_PARAMS and k not in form.fields]
        if from_list
        else [],
        "filter_words": _filter_words(params) if from_list else [],
        "labels_max": f"{LABELS_MAX:,}",
        "stock": stock,
        "pages": _pages(selection, stock, form),
    }
    return render(request, "inventory/labels.html", context)


def _pages(selection: LabelSelection | None, stock: Any, form: LabelForm) -> int:
    """How many pages (sheets) the selection takes from the chosen start position."""
    if selection is None or stock is None or form.errors:
        return 0
    start = form.cleaned_data.get("start_at") or 1
    return -(-(start - 1 + len(selection.devices)) // stock.per_page)
