"""Printable asset labels: which devices get one, and the PDF of label stock that holds them.

A label shows a device's asset tag three ways — a Code 128 barcode, a QR code and the tag in
words — with its model, its owner site's code and (optionally) the district's name. Both
symbols encode exactly the asset tag and nothing else, so a scanner reading a printed label
types what the device list's scan-to-open and the check-out / check-in scan fields already
accept (``inventory.selectors.device_find_exact``).

The symbols are drawn by reportlab's own barcode widgets (``reportlab.graphics.barcode``:
``Code128`` switches to code set C for runs of digits by itself, ``QrCodeWidget``); the
stock's grid (:data:`STOCKS`) is the manufacturer's published layout. No label shows a
person: a label is stuck on a device and outlives every loan.

Which devices: :func:`label_devices` reads them through the gate (``Device.objects.visible_to``),
for a list of ids, a tag range (``CB-000100`` to ``CB-000200``) or the device list's filters,
never more than :data:`LABELS_MAX`. Bad input raises :class:`LabelError` with words for the user.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from io import BytesIO
from typing import Any

from django.db.models import QuerySet
from django.db.models.functions import Lower
from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.code128 import Code128
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.units import inch, mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from core.scoping import VIEW
from core.types import Actor
from inventory.models import Device
from inventory.selectors import device_list

#: At most this many labels in one PDF (34 sheets of Avery 5160): a larger job is printed in parts.
LABELS_MAX = 1000


class LabelError(Exception):
    """Input the labels page cannot print, with the words to show (``message``) and the form
    field at fault (``field``, or ``None`` for the whole form)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class LabelStock:
    """One kind of label stock: a page of ``columns`` × ``rows`` labels.

    Every length is in PDF points (1/72 inch). ``left``/``top`` are the page's margins to the
    first label's left and top edges, ``pitch_x``/``pitch_y`` the distance from one label's
    edge to the next one's (label plus gap), as the stock's maker publishes them. Positions
    are numbered from 1, across then down, as the maker's templates number them.
    """

    key: str
    name: str
    page_width: float
    page_height: float
    columns: int
    rows: int
    label_width: float
    label_height: float
    left: float
    top: float
    pitch_x: float
    pitch_y: float

    @property
    def per_page(self) -> int:
        """Labels on one page."""
        return self.columns * self.rows

    @property
    def is_sheet(self) -> bool:
        """More than one label per page (a sheet can be partly used; a thermal roll cannot)."""
        return self.per_page > 1

    def origin(self, position: int) -> tuple[float, float]:
        """The lower-left corner (points from the page's lower-left) of the label at 0-based
        ``position`` on a page (across, then down)."""
        row, column = divmod(position, self.columns)
        x = self.left + column * self.pitch_x
        y = self.page_height - self.top - row * self.pitch_y - self.label_height
        return x, y


#: The stocks offered, by key. Avery 5160 (and its laser/inkjet twins 8160, 5260, 5520, 5960,
#: 18160) and L7160 are the common US Letter and A4 address-label sheets; the thermal label is
#: the 2¼″ × 1¼″ size Zebra, Rollo and DYMO desk printers take, one label per PDF page.
STOCKS: dict[str, LabelStock] = {
    stock.key: stock
    for stock in (
        LabelStock(
            key="avery-5160",
            name="Avery 5160 / 8160 — US Letter sheet, 30 labels of 2⅝″ × 1″",
            page_width=LETTER[0],
            page_height=LETTER[1],
            columns=3,
            rows=10,
            label_width=2.625 * inch,
            label_height=1 * inch,
            left=0.1875 * inch,
            top=0.5 * inch,
            pitch_x=2.75 * inch,
            pitch_y=1 * inch,
        ),
        LabelStock(
            key="avery-l7160",
            name="Avery L7160 — A4 sheet, 21 labels of 63.5 × 38.1 mm",
            page_width=A4[0],
            page_height=A4[1],
            columns=3,
            rows=7,
            label_width=63.5 * mm,
            label_height=38.1 * mm,
            left=7.21 * mm,
            top=15.15 * mm,
            pitch_x=66.04 * mm,
            pitch_y=38.1 * mm,
        ),
        LabelStock(
            key="thermal-2.25x1.25",
            name="Thermal label 2¼″ × 1¼″ — one label per page (Zebra, Rollo, DYMO)",
            page_width=2.25 * inch,
            page_height=1.25 * inch,
            columns=1,
            rows=1,
            label_width=2.25 * inch,
            label_height=1.25 * inch,
            left=0,
            top=0,
            pitch_x=2.25 * inch,
            pitch_y=1.25 * inch,
        ),
    )
}

#: What each label carries: both symbols (the default), or one of them.
SYMBOLS = {"both": "Barcode (Code 128) and QR code", "code128": "Barcode (Code 128) only", "qr": "QR code only"}


@dataclass(frozen=True)
class Label:
    """What one label shows: ``tag`` (encoded in the symbols and printed in words), ``model``
    (e.g. "Lenovo 300e Chromebook Gen 3"), ``site_code`` (the owner site's code) and
    ``district`` (the district's name, or ``""`` to leave it off)."""

    tag: str
    model: str
    site_code: str
    district: str = ""


# --- which devices ---------------------------------------------------------------------------

_RANGE_END = re.compile(r"^(?P<prefix>.*?)(?P<digits>\d+)$")


def tag_range(first: str, last: str) -> list[str]:
    """Every tag from ``first`` to ``last`` (inclusive), as they are spelled: the same prefix
    and a number that counts up, zero-padded to ``first``'s width when ``first`` is padded or
    both ends have the same width (``CB-000100`` … ``CB-000200``; ``CB-99`` … ``CB-100``).

    Raises :class:`LabelError` when an end is missing or does not end in a number, the
    prefixes differ (ignoring case), the range runs backwards, or it covers more than
    :data:`LABELS_MAX` tags (nothing is read from the database for a range that size)."""
    first, last = first.strip(), last.strip()
    if not first or not last:
        raise LabelError("Enter both ends of the tag range (for example CB-000100 to CB-000200).", "tag_from")
    ends = []
    for value, field in ((first, "tag_from"), (last, "tag_to")):
        match = _RANGE_END.match(value)
        if match is None:
            raise LabelError(f"“{value}” does not end in a number, so it cannot start or end a range.", field)
        ends.append(match)
    start, stop = ends
    if start["prefix"].lower() != stop["prefix"].lower():
        raise LabelError(
            f"Both ends of a range share their letters: “{first}” and “{last}” differ before the number.", "tag_to"
        )
    low, high = int(start["digits"]), int(stop["digits"])
    if low > high:
        raise LabelError(f"The range runs backwards: {last} comes before {first}. Put the lower tag first.", "tag_to")
    count = high - low + 1
    if count > LABELS_MAX:
        raise LabelError(
            f"{first} to {last} covers {count:,} tags; one PDF holds at most {LABELS_MAX:,} labels. "
            "Print the range in parts.",
            "tag_to",
        )
    digits = start["digits"]
    width = len(digits) if digits.startswith("0") or len(digits) == len(stop["digits"]) else 0
    return [f"{start['prefix']}{str(n).zfill(width)}" for n in range(low, high + 1)]


@dataclass
class LabelSelection:
    """The devices to label, in print order, and what the page says about the choice:
    ``devices`` (each with ``model__manufacturer`` and ``owner_site`` loaded), ``missing``
    (tags of the range with no live device the user may see), ``skipped_retired``, and
    ``not_found``: how many chosen device ids are not devices the user may see (left out; the
    page says how many, never which — an id outside the user's sites reveals nothing)."""

    devices: list[Device]
    missing: list[str]
    skipped_retired: int = 0
    not_found: int = 0


def _labelled(qs: QuerySet[Device]) -> QuerySet[Device]:
    return qs.select_related("model__manufacturer", "owner_site")


def label_devices(
    *,
    user: Actor,
    device_ids: Sequence[int] = (),
    tag_from: str = "",
    tag_to: str = "",
    list_filters: Mapping[str, Any] | None = None,
) -> LabelSelection:
    """The devices ``user`` may see to print labels for, by the first of these that is given:
    ``device_ids`` (devices chosen on the list or a device's page; ids the user may not see are
    left out), a tag range ``tag_from``–``tag_to`` (live devices only, in the range's order; see
    :func:`tag_range`), or ``list_filters`` (the keyword arguments of
    :func:`inventory.selectors.device_list`: exactly the rows the device list shows, by tag).

    Raises :class:`LabelError` when nothing is chosen, nothing visible matches, or more than
    :data:`LABELS_MAX` devices would be printed."""
    base = Device.objects.visible_to(user, VIEW)
    missing: list[str] = []
    retired = not_found = 0
    if device_ids:
        if len(device_ids) > LABELS_MAX:
            raise LabelError(f"{len(device_ids):,} devices chosen; one PDF holds at most {LABELS_MAX:,} labels.")
        devices = list(_labelled(base.filter(pk__in=list(device_ids))).order_by("asset_tag", "id"))
        if not devices:
            raise LabelError("None of the chosen devices is at your sites.")
        not_found = len(set(device_ids)) - len(devices)
    elif tag_from.strip() or tag_to.strip():
        tags = tag_range(tag_from, tag_to)
        keys = [tag.lower() for tag in tags]
        found = list(_labelled(base.annotate(tag_l=Lower("asset_tag")).filter(tag_l__in=keys)))
        live = {d.tag_l: d for d in found if d.status != Device.Status.RETIRED}  # type: ignore[attr-defined]
        retired_keys = {d.tag_l for d in found} - set(live)  # type: ignore[attr-defined]
        retired = len(retired_keys)
        devices = [live[key] for key in keys if key in live]
        missing = [tag for tag, key in zip(tags, keys, strict=True) if key not in live and key not in retired_keys]
        if not devices:
            raise LabelError(f"No device at your sites has a tag from {tags[0]} to {tags[-1]}.", "tag_from")
    elif list_filters is not None:
        qs = _labelled(device_list(user=user, **list_filters)).order_by("asset_tag", "id")
        devices = list(qs[: LABELS_MAX + 1])
        if len(devices) > LABELS_MAX:
            raise LabelError(
                f"More than {LABELS_MAX:,} devices match the list's filters; one PDF holds at most "
                f"{LABELS_MAX:,} labels. Narrow the list (a site, a model, a search) or print a tag range."
            )
        if not devices:
            raise LabelError("No devices match the list's filters.")
    else:
        raise LabelError("Choose devices on the Devices list, or enter a tag range.", "tag_from")
    return LabelSelection(devices=devices, missing=missing, skipped_retired=retired, not_found=not_found)


def labels_for(devices: Sequence[Device], *, district: str = "") -> list[Label]:
    """One :class:`Label` per device (its tag, model, owner site's code), with ``district``."""
    return [Label(tag=d.asset_tag, model=str(d.model), site_code=d.owner_site.code, district=district) for d in devices]


# --- the PDF ---------------------------------------------------------------------------------

_BOLD, _REGULAR = "Helvetica-Bold", "Helvetica"
#: Code 128's quiet zone on each side, in modules (the standard asks for at least 10).
_QUIET = 10
#: The widest bar module drawn (0.015″): larger prints no better and crowds the text.
_MODULE_MAX = 0.015 * inch


def _fit_text(canvas: Canvas, text: str, font: str, size: float, x: float, y: float, width: float) -> None:
    """Draw ``text`` at (``x``, ``y``) no wider than ``width``: the size shrinks as needed, the
    text is never cut (an asset tag must stay whole)."""
    actual = stringWidth(text, font, size)
    if actual > width:
        size *= width / actual
    canvas.setFont(font, size)
    canvas.drawString(x, y, text)


def _tag_lines(tag: str, size: float, width: float) -> tuple[list[str], float]:
    """The tag in words as one line, or as two when one line would shrink below half of
    ``size`` (a long tag stays readable and whole), and the font size to draw them at."""
    one = min(size, size * width / stringWidth(tag, _BOLD, size))
    if one >= size / 2 or len(tag) < 8:
        return [tag], one
    middle = len(tag) / 2
    near = [i + 1 for i, ch in enumerate(tag[:-1]) if ch in "-_/. " and abs(i + 1 - middle) <= len(tag) / 4]
    cut = min(near, key=lambda i: abs(i - middle)) if near else len(tag) // 2
    lines = [tag[:cut], tag[cut:]]
    two = min(size * 0.8, *(size * width / stringWidth(line, _BOLD, size) for line in lines))
    return lines, two


def _fit_line(canvas: Canvas, text: str, font: str, size: float, x: float, y: float, width: float) -> None:
    """Draw a secondary line (model, site): shrink to two thirds of ``size``, then end it in "…"."""
    small = size * 2 / 3
    if stringWidth(text, font, size) <= width:
        pass
    elif stringWidth(text, font, small) <= width:
        size = size * width / stringWidth(text, font, size)
    else:
        size = small
        while text and stringWidth(text + "…", font, size) > width:
            text = text[:-1].rstrip()
        text += "…"
    canvas.setFont(font, size)
    canvas.drawString(x, y, text)


def _code128(canvas: Canvas, tag: str, x: float, y: float, width: float, height: float) -> None:
    """A Code 128 symbol of ``tag`` centred in the box, with its quiet zones inside the box;
    the module narrows to fit a long tag (never cut)."""
    modules = Code128(tag, barWidth=1, quiet=0).width
    module = min(_MODULE_MAX, width / (modules + 2 * _QUIET))
    symbol = Code128(tag, barWidth=module, barHeight=height, quiet=0, humanReadable=0)
    canvas.saveState()
    canvas.setFillColorRGB(0, 0, 0)
    symbol.drawOn(canvas, x + (width - symbol.width) / 2, y)
    canvas.restoreState()


def _qr(canvas: Canvas, tag: str, x: float, y: float, side: float) -> None:
    """A QR code of ``tag`` (error correction M, quiet zone of 2 modules) filling a square of ``side``."""
    widget = QrCodeWidget(tag, barLevel="M", barBorder=2)
    left, bottom, right, top = widget.getBounds()
    drawing = Drawing(side, side, transform=[side / (right - left), 0, 0, side / (top - bottom), 0, 0])
    drawing.add(widget)
    renderPDF.draw(drawing, canvas, x, y)


def _text_block(
    canvas: Canvas, label: Label, box: tuple[float, float, float, float], tag_size: float, line_size: float
) -> tuple[float, float]:
    """The tag in words at the top of ``box`` (x, y, width, height) and the model and site
    lines at its bottom; returns the free band between them (bottom, top) for a barcode."""
    left, bottom, width, height = box
    lines, tag_size = _tag_lines(label.tag, tag_size, width)
    tag_y = bottom + height - tag_size * 0.8
    for number, line in enumerate(lines):
        _fit_text(canvas, line, _BOLD, tag_size, left, tag_y - number * tag_size, width)
    tag_y -= (len(lines) - 1) * tag_size
    site_line = label.site_code + (f" · {label.district}" if label.district else "")
    _fit_line(canvas, site_line, _REGULAR, line_size, left, bottom, width)
    model_y = bottom + line_size * 1.2
    _fit_line(canvas, label.model, _REGULAR, line_size, left, model_y, width)
    return model_y + line_size * 1.25, tag_y - tag_size * 0.3


def _draw_label(canvas: Canvas, label: Label, x: float, y: float, width: float, height: float, symbols: str) -> None:
    """One label in the box (``x``, ``y``, ``width``, ``height``), lower-left origin, points.

    A wide label (Avery 5160) puts the QR code on the left and, beside it, the tag, the
    barcode, the model and the site. A squarer one (thermal 2¼″ × 1¼″, L7160) with both
    symbols puts the QR code and the words on top and the barcode across the whole width
    below, so its bars stay wide enough for a 203 dpi printer."""
    pad = max(4.0, 0.07 * height)
    inner_w, inner_h = width - 2 * pad, height - 2 * pad
    left, bottom = x + pad, y + pad
    gap = pad * 0.75
    if symbols == "both" and width / height < 2.2:
        top_h = inner_h * 0.5
        _qr(canvas, label.tag, left, bottom + inner_h - top_h, top_h)
        text_left = left + top_h + gap
        _text_block(
            canvas, label, (text_left, bottom + inner_h - top_h, left + inner_w - text_left, top_h),
            tag_size=0.36 * top_h, line_size=0.2 * top_h,
        )  # fmt: skip
        _code128(canvas, label.tag, left, bottom, inner_w, inner_h - top_h - gap)
        return
    if symbols in ("both", "qr"):
        side = min(inner_h, inner_w * (0.5 if symbols == "qr" else 0.36))
        _qr(canvas, label.tag, left, bottom + (inner_h - side) / 2, side)
        left += side + gap
        inner_w -= side + gap
    tag_size = min(0.17 * height, 14.0) if symbols != "qr" else min(0.22 * height, 16.0)
    bar_bottom, bar_top = _text_block(
        canvas, label, (left, bottom, inner_w, inner_h), tag_size=tag_size, line_size=min(0.095 * height, 8.0)
    )
    if symbols != "qr":
        _code128(canvas, label.tag, left, bar_bottom, inner_w, max(bar_top - bar_bottom, 1.0))


def labels_pdf(
    labels: Sequence[Label],
    *,
    stock: LabelStock,
    start_at: int = 1,
    symbols: str = "both",
    outlines: bool = False,
    title: str = "Asset labels",
) -> bytes:
    """The PDF (bytes) of ``labels`` on ``stock``, in order, the first at position ``start_at``
    (1-based, across then down) of the first page so a partly used sheet can go through again.
    ``symbols`` is a key of :data:`SYMBOLS`. ``outlines`` draws each label's edge in light grey
    (a test print on plain paper, held against a sheet). Print at "actual size", not "fit".

    Raises :class:`LabelError` for an empty list, more than :data:`LABELS_MAX` labels, an
    unknown ``symbols`` or a ``start_at`` outside the page."""
    if not labels:
        raise LabelError("There is nothing to print.")
    if len(labels) > LABELS_MAX:
        raise LabelError(f"One PDF holds at most {LABELS_MAX:,} labels; {len(labels):,} were asked for.")
    if symbols not in SYMBOLS:
        raise LabelError(f"Unknown symbols “{symbols}”.", "symbols")
    if not 1 <= start_at <= stock.per_page:
        raise LabelError(f"Start at a position from 1 to {stock.per_page} on this stock.", "start_at")
    out = BytesIO()
    canvas = Canvas(out, pagesize=(stock.page_width, stock.page_height), pageCompression=1)
    canvas.setTitle(title)
    canvas.setAuthor("DeviceLedger")
    canvas.setCreator("DeviceLedger")
    position = start_at - 1
    for index, label in enumerate(labels):
        if index and position == 0:
            canvas.showPage()
        x, y = stock.origin(position)
        if outlines:
            canvas.saveState()
            canvas.setStrokeColorRGB(0.8, 0.8, 0.8)
            canvas.setLineWidth(0.3)
            canvas.roundRect(x, y, stock.label_width, stock.label_height, 0.06 * inch)
            canvas.restoreState()
        _draw_label(canvas, label, x, y, stock.label_width, stock.label_height, symbols)
        position = (position + 1) % stock.per_page
    canvas.showPage()
    canvas.save()
    return out.getvalue()
