"""Export rows: devices, people, assignments and the device event log, as header + row iterators.

Pure read functions in the style of ``selectors.py``: each takes the acting ``user`` and
the raw query-string ``filters`` and returns ``(headers, rows)``, where ``headers`` is a
``list[str]`` and ``rows`` an iterator of ``list`` values of the same length, pulled from
the database in chunks of :data:`CHUNK_SIZE` rows (``QuerySet.iterator``), so memory does
not grow with the export. Every queryset goes through the scoping gate (the same
selectors as the list pages), so a site technician's export holds only their sites.

Values are Python values (``str``, ``int``, ``Decimal``, ``date``, aware ``datetime``,
``bool``, ``None``); :mod:`core.writing` turns them into text cells and neutralises
formulas. Conventions:

* identifiers (asset tag, serial, student number, sourcedId) stay ``str``;
* dates are ``date`` (written ``2024-05-01``), money ``Decimal`` (written ``289.00``);
* date-times are in the district's time zone, to the second
  (written ``2024-05-01T08:22:11-05:00``);
* choice fields hold their display labels (``In stock``, ``Chromebook``, ``ESSER``);
  grades hold the CEDS code (``KG``, ``05``).

Filters are a mapping of query-string values (``request.GET`` or a plain ``dict``).
A value that does not parse or is not a known choice is ignored, as on the list pages,
so a bad filter never raises.

The device and people headers are the names a re-import understands (round trip).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from typing import Any

from django.db.models import FilteredRelation, Q, QuerySet
from django.utils import timezone

from core.querystring import scan_clean
from core.scoping import HIDDEN_PERSON, VIEW, person_visibility
from core.types import Actor
from custody import rules as custody_rules
from custody.models import Assignment
from inventory.models import Device, DeviceEvent, DeviceModel
from inventory.selectors import device_list, device_list_filters, redact_holder
from inventory.templatetags.ledger import change_words
from people.models import Person
from people.selectors import person_list, person_list_filters
from sites.models import District

__all__ = [
    "ASSIGNMENT_HEADERS",
    "CHUNK_SIZE",
    "DEVICE_HEADERS",
    "EVENT_HEADERS",
    "EXPORTS",
    "PERSON_HEADERS",
    "ExportRows",
    "assignment_export_rows",
    "device_export_rows",
    "export_row_count",
    "event_export_rows",
    "person_export_rows",
]

#: Rows fetched from the database per round trip (server-side cursor on PostgreSQL).
CHUNK_SIZE = 2000

#: ``(headers, rows)``: column titles and an iterator of rows, each a list as long as the headers.
ExportRows = tuple[list[str], Iterator[list[Any]]]

Filters = Mapping[str, str] | None

DEVICE_HEADERS: list[str] = [
    "Asset Tag",
    "Serial Number",
    "Manufacturer",
    "Model Name",
    "Model Number",
    "Category",
    "Status",
    "Owner Site Code",
    "Current Site Code",
    "Location",
    "Purchase Date",
    "Purchase Cost",
    "Purchase Order",
    "Vendor",
    "Funding Source",
    "Warranty End",
    "Wi-Fi MAC",
    "Google Device ID",
    "Notes",
    "Holder",
    "Holder Student Number",
    "Due Date",
]

PERSON_HEADERS: list[str] = [
    "sourcedId",
    "Role",
    "Student Number",
    "State ID",
    "Given Name",
    "Family Name",
    "Preferred Name",
    "Email",
    "Grade",
    "Graduation Year",
    "Site Code",
    "Homeroom",
    "Status",
]

ASSIGNMENT_HEADERS: list[str] = [
    "Asset Tag",
    "Serial Number",
    "Model Name",
    "Current Site Code",
    "Holder",
    "Holder Student Number",
    "Holder sourcedId",
    "Loaner",
    "Checked Out At",
    "Checked Out By",
    "Due Date",
    "Condition Out",
    "Checked In At",
    "Checked In By",
    "Condition In",
    "Notes",
]

EVENT_HEADERS: list[str] = [
    "Occurred At",
    "Asset Tag",
    "Serial Number",
    "Event",
    "Actor",
    "Person",
    "Person Student Number",
    "Before",
    "After",
    "Note",
    "Source",
    "Import Run",
]

_MAX_ID = 2**63 - 1
_QUERY_MAX = 200


# --------------------------------------------------------------------------- filter parsing


def _text(filters: Filters, name: str, limit: int = _QUERY_MAX) -> str:
    """The filter's text (last value of a repeated parameter), ``""`` when absent."""
    if not filters:
        return ""
    value = filters.get(name, "")
    return value[:limit] if isinstance(value, str) else ""


def _positive_id(filters: Filters, name: str) -> int | None:
    """A database id (1 … 2**63-1) from the filter, ``None`` when absent or malformed."""
    raw = _text(filters, name, 24).strip()
    if not raw.isascii() or not raw.isdigit():
        return None
    value = int(raw)
    return value if 0 < value <= _MAX_ID else None


def _choice(filters: Filters, name: str, values: list[str]) -> str:
    """The filter's value when it is one of ``values``, else ``""``."""
    value = _text(filters, name, 40)
    return value if value in values else ""


def _iso_date(filters: Filters, name: str) -> datetime.date | None:
    """A ``YYYY-MM-DD`` date (years 1900-9998) from the filter, ``None`` when absent or malformed."""
    raw = _text(filters, name, 10)
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
        return None
    try:
        value = datetime.date.fromisoformat(raw)
    except ValueError:
        return None
    # Far-off years would overflow when shifted to UTC; nothing in the log is that old or new.
    return value if 1900 <= value.year <= 9998 else None


# --------------------------------------------------------------------------- value helpers


def _labels(choices: list[tuple[str, str]]) -> Callable[[str], str]:
    """Code → display label for a choices list; unknown codes pass through unchanged."""
    table = dict(choices)
    return lambda code: table.get(code, code) if code else ""


def _local_time(tz: datetime.tzinfo) -> Callable[[datetime.datetime | None], datetime.datetime | None]:
    """Aware datetime → the same instant in ``tz``, without microseconds."""

    def convert(value: datetime.datetime | None) -> datetime.datetime | None:
        if value is None:
            return None
        if timezone.is_naive(value):
            value = timezone.make_aware(value, datetime.UTC)
        return value.astimezone(tz).replace(microsecond=0)

    return convert


def _display_name(given: str | None, preferred: str | None, family: str | None) -> str:
    """``Preferred-or-given Family`` as :attr:`people.models.Person.display_name` shows it."""
    return f"{preferred or given or ''} {family or ''}".strip()


def _change_texts(before: Any, after: Any) -> tuple[str, str]:
    """An event's ``before`` and ``after`` in words, one ``Label: value`` per changed field,
    joined by ``"; "`` (``("Status: In stock", "Status: Assigned; Holder: Ana Ruiz")``): the
    device page's timeline words (:func:`inventory.templatetags.ledger.change_words`, which
    takes custody's words from ``core.extensions``). A field with no before-state appears in
    ``after`` only; an empty value is "—"."""
    changes = change_words(before, after)
    return (
        "; ".join(f"{label}: {old}" for label, old, _ in changes if old is not None),
        "; ".join(f"{label}: {new}" for label, _, new in changes),
    )


def _iterate(qs: QuerySet[Any]) -> Iterator[tuple[Any, ...]]:
    """Stream a ``values_list`` queryset in chunks of :data:`CHUNK_SIZE`."""
    return qs.iterator(chunk_size=CHUNK_SIZE)


# --------------------------------------------------------------------------- devices


_DEVICE_FIELDS = (
    "asset_tag",
    "serial_number",
    "model__manufacturer__name",
    "model__name",
    "model__model_number",
    "model__category",
    "status",
    "owner_site__code",
    "current_site__code",
    "location__name",
    "purchase_date",
    "purchase_cost",
    "purchase_order",
    "vendor",
    "funding_source",
    "warranty_end",
    "wifi_mac",
    "google_device_id",
    "notes",
    "open_assignment__holder_label",
    "open_assignment__person__given_name",
    "open_assignment__person__preferred_name",
    "open_assignment__person__family_name",
    "open_assignment__person__student_number",
    "open_assignment__due_on",
    "open_assignment__person__home_site_id",
)


def device_export_queryset(*, user: Actor, filters: Filters = None) -> QuerySet[Any]:
    """The visible, filtered devices as a ``values_list`` of :data:`_DEVICE_FIELDS`, ordered by asset tag.

    Filters as on the device list page, read by the list's own
    :func:`~inventory.selectors.device_list_filters`: ``q`` (asset tag / serial prefix,
    holder's student number or name), ``site`` (current site id), ``model`` (device model
    id), ``status`` (a :class:`~inventory.models.Device.Status` code), ``overdue=1`` (checked
    out past the due date). The current holder comes from a
    LEFT JOIN on the open assignment (at most one per device), so the whole export is
    one query.
    """
    qs = device_list(user=user, **device_list_filters(filters), action=VIEW)
    return (
        qs.annotate(
            open_assignment=FilteredRelation("assignments", condition=Q(assignments__checked_in_at__isnull=True))
        )
        .order_by("asset_tag", "id")
        .values_list(*_DEVICE_FIELDS)
    )


def device_export_rows(*, user: Actor, filters: Filters = None) -> ExportRows:
    """Devices ``user`` may see, filtered like the device list, as :data:`DEVICE_HEADERS` rows.

    Row shape (22 values): tag, serial, manufacturer, model name, model number, category
    label, status label, owner site code, current site code, location name, purchase date
    (``date``), purchase cost (``Decimal`` USD), PO, vendor, funding source label,
    warranty end (``date``), Wi-Fi MAC, Google device id, notes, holder name (``""`` when
    not checked out), holder's student number, due date (``date`` or ``None``).
    """
    category = _labels(DeviceModel.Category.choices)
    status = _labels(Device.Status.choices)
    funding = _labels(Device.FundingSource.choices)
    qs = device_export_queryset(user=user, filters=filters)
    visible = person_visibility(user)

    def rows() -> Iterator[list[Any]]:
        for (
            tag,
            serial,
            maker,
            model_name,
            model_number,
            model_category,
            device_status,
            owner_code,
            current_code,
            location,
            purchase_date,
            purchase_cost,
            purchase_order,
            vendor,
            funding_source,
            warranty_end,
            wifi_mac,
            google_id,
            notes,
            holder_label,
            given,
            preferred,
            family,
            student_number,
            due_on,
            holder_site,
        ) in _iterate(qs):
            holder = _display_name(given, preferred, family) if (given or family) else (holder_label or "")
            if holder and not visible(holder_site):
                holder, student_number = HIDDEN_PERSON, ""
            yield [
                tag,
                serial,
                maker,
                model_name,
                model_number,
                category(model_category),
                status(device_status),
                owner_code,
                current_code,
                location or "",
                purchase_date,
                _money(purchase_cost),
                purchase_order,
                vendor,
                funding(funding_source),
                warranty_end,
                wifi_mac,
                google_id,
                notes,
                holder,
                student_number or "",
                due_on,
            ]

    return list(DEVICE_HEADERS), rows()


def _money(value: Decimal | None) -> Decimal | None:
    """USD with exactly two decimals (``Decimal("289")`` → ``289.00``)."""
    return None if value is None else value.quantize(Decimal("0.01"))


# --------------------------------------------------------------------------- people


_PERSON_FIELDS = (
    "sourced_id",
    "role",
    "student_number",
    "state_id",
    "given_name",
    "family_name",
    "preferred_name",
    "email",
    "grade",
    "graduation_year",
    "home_site__code",
    "homeroom",
    "status",
)


def person_export_queryset(*, user: Actor, filters: Filters = None) -> QuerySet[Any]:
    """The visible, filtered people as a ``values_list`` of :data:`_PERSON_FIELDS`, by name."""
    return (
        person_list(user=user, **person_list_filters(filters), action=VIEW)
        .order_by("family_name", "given_name", "id")
        .values_list(*_PERSON_FIELDS)
    )


def person_export_rows(*, user: Actor, filters: Filters = None) -> ExportRows:
    """People ``user`` may see (FERPA: only their sites), filtered like the people list.

    Filters (read by the list's own :func:`~people.selectors.person_list_filters`): ``q``,
    ``site`` (home site id), ``role`` (``student``/``staff``), ``status``.
    Row shape (13 values, :data:`PERSON_HEADERS`): sourcedId, role label, student number,
    state id, given, family, preferred name, email, grade (CEDS code), graduation year
    (``int`` or ``None``), home site code, homeroom, status label. The fee-reduction flag is
    never exported.
    """
    role = _labels(Person.Role.choices)
    status = _labels(Person.Status.choices)
    qs = person_export_queryset(user=user, filters=filters)

    def rows() -> Iterator[list[Any]]:
        for row in _iterate(qs):
            values = list(row)
            values[1] = role(values[1])
            values[12] = status(values[12])
            yield values

    return list(PERSON_HEADERS), rows()


# --------------------------------------------------------------------------- assignments

#: ``state`` filter values for assignments.
ASSIGNMENT_STATES = ("open", "closed", "overdue")

_ASSIGNMENT_FIELDS = (
    "device__asset_tag",
    "device__serial_number",
    "device__model__name",
    "device__current_site__code",
    "holder_label",
    "person__given_name",
    "person__preferred_name",
    "person__family_name",
    "person__student_number",
    "person__sourced_id",
    "is_loaner",
    "checked_out_at",
    "checked_out_by_label",
    "due_on",
    "condition_out",
    "checked_in_at",
    "checked_in_by_label",
    "condition_in",
    "notes",
    "person__home_site_id",
)


def assignment_export_queryset(*, user: Actor, filters: Filters = None) -> QuerySet[Any]:
    """The visible, filtered assignments (see :func:`assignment_export_rows`) as a ``values_list``
    of :data:`_ASSIGNMENT_FIELDS`, oldest check-out first."""
    qs: QuerySet[Any] = Assignment.objects.visible_to(user, VIEW)
    site_id = _positive_id(filters, "site")
    if site_id:
        qs = qs.filter(device__current_site_id=site_id)
    state = _choice(filters, "state", list(ASSIGNMENT_STATES))
    if state == "open":
        qs = qs.filter(checked_in_at__isnull=True)
    elif state == "closed":
        qs = qs.filter(checked_in_at__isnull=False)
    elif state == "overdue":
        qs = qs.filter(custody_rules.overdue_q(today=custody_rules.district_today()))
    q = scan_clean(_text(filters, "q"))
    if q:
        qs = qs.filter(
            Q(device__asset_tag__istartswith=q) | Q(device__serial_number__istartswith=q) | Q(person__student_number=q)
        )
    return qs.order_by("checked_out_at", "id").values_list(*_ASSIGNMENT_FIELDS)


def assignment_export_rows(*, user: Actor, filters: Filters = None) -> ExportRows:
    """Assignments (custody history) ``user`` may see (on devices they see, or of people they see:
    ``custody.models.AssignmentQuerySet``), oldest check-out first.

    Filters: ``q`` (asset tag or serial prefix, or the holder's student number exactly),
    ``site`` (the device's current site id), ``state`` (``open``, ``closed`` or
    ``overdue`` — ``custody.rules.overdue_q``: open, past its due date in the district's time
    zone, the device checked out, as on the dashboard).
    Row shape (16 values, :data:`ASSIGNMENT_HEADERS`): tag, serial, model name, current
    site code, holder name, student number, sourcedId, loaner (``bool``), checked out at
    (``datetime``), by, due date (``date``), condition out label, checked in at
    (``datetime`` or ``None``), by, condition in label, notes.
    """
    qs = assignment_export_queryset(user=user, filters=filters)
    condition = _labels(Assignment.Condition.choices)
    local = _local_time(District.get().tzinfo)
    visible = person_visibility(user)

    def rows() -> Iterator[list[Any]]:
        for (
            tag,
            serial,
            model_name,
            site_code,
            holder_label,
            given,
            preferred,
            family,
            student_number,
            sourced_id,
            is_loaner,
            out_at,
            out_by,
            due_on,
            condition_out,
            in_at,
            in_by,
            condition_in,
            notes,
            holder_site,
        ) in _iterate(qs):
            holder = _display_name(given, preferred, family) if (given or family) else holder_label
            if not visible(holder_site):
                holder, student_number, sourced_id = HIDDEN_PERSON, "", ""
            yield [
                tag,
                serial,
                model_name,
                site_code,
                holder,
                student_number or "",
                sourced_id or "",
                is_loaner,
                local(out_at),
                out_by,
                due_on,
                condition(condition_out),
                local(in_at),
                in_by,
                condition(condition_in),
                notes,
            ]

    return list(ASSIGNMENT_HEADERS), rows()


# --------------------------------------------------------------------------- events

_EVENT_FIELDS = (
    "occurred_at",
    "device__asset_tag",
    "device__serial_number",
    "kind",
    "actor_label",
    "person_label",
    "person__student_number",
    "before",
    "after",
    "note",
    "source",
    "import_run_id",
    "person__home_site_id",
)


def event_export_queryset(*, user: Actor, filters: Filters = None, tz: datetime.tzinfo | None = None) -> QuerySet[Any]:
    """The visible, filtered device events (see :func:`event_export_rows`) as a ``values_list`` of
    :data:`_EVENT_FIELDS`, oldest first. ``tz``: the district's time zone (read when not given)."""
    tz = tz or District.get().tzinfo
    qs: QuerySet[Any] = DeviceEvent.objects.visible_to(user, VIEW)
    site_id = _positive_id(filters, "site")
    if site_id:
        qs = qs.filter(device__current_site_id=site_id)
    kind = _choice(filters, "kind", DeviceEvent.Kind.values)
    if kind:
        qs = qs.filter(kind=kind)
    source = _choice(filters, "source", DeviceEvent.Source.values)
    if source:
        qs = qs.filter(source=source)
    since = _iso_date(filters, "since")
    if since:
        qs = qs.filter(occurred_at__gte=datetime.datetime.combine(since, datetime.time.min, tzinfo=tz))
    until = _iso_date(filters, "until")
    if until:
        next_day = until + datetime.timedelta(days=1)
        qs = qs.filter(occurred_at__lt=datetime.datetime.combine(next_day, datetime.time.min, tzinfo=tz))
    q = scan_clean(_text(filters, "q"))
    if q:
        qs = qs.filter(Q(device__asset_tag__istartswith=q) | Q(device__serial_number__istartswith=q))
    return qs.order_by("occurred_at", "id").values_list(*_EVENT_FIELDS)


def event_export_rows(*, user: Actor, filters: Filters = None) -> ExportRows:
    """The device event log as ``user`` may see it (events on devices they see, or naming people
    they see: ``inventory.models.DeviceEventQuerySet``), oldest first.

    Filters: ``q`` (asset tag or serial prefix), ``site`` (the device's current site id),
    ``kind`` (a :class:`~inventory.models.DeviceEvent.Kind` code), ``source`` (``web``,
    ``import``…), ``since`` / ``until`` (``YYYY-MM-DD``, inclusive, district time zone).
    Row shape (12 values, :data:`EVENT_HEADERS`): occurred at (``datetime``), tag, serial,
    event label, actor label, person label, person's student number, before and after
    (in words: :func:`_change_texts`), note, source label, import run id (``int`` or ``None``).
    """
    tz = District.get().tzinfo
    qs = event_export_queryset(user=user, filters=filters, tz=tz)
    kind_label = _labels(DeviceEvent.Kind.choices)
    source_label = _labels(DeviceEvent.Source.choices)
    local = _local_time(tz)
    visible = person_visibility(user)

    def rows() -> Iterator[list[Any]]:
        for row in _iterate(qs):
            at, tag, serial, event_kind, actor, person, number, before, after, note, event_source, run, site = row
            if person and not visible(site):
                person, number = HIDDEN_PERSON, ""
                before, after = redact_holder(before), redact_holder(after)
            before_text, after_text = _change_texts(before, after)
            yield [
                local(at),
                tag,
                serial,
                kind_label(event_kind),
                actor,
                person,
                number or "",
                before_text,
                after_text,
                note,
                source_label(event_source),
                run,
            ]

    return list(EVENT_HEADERS), rows()


#: Export name → (row builder, sheet title). The names are the URL stems (``/exports/devices.csv``).
EXPORTS: dict[str, tuple[Callable[..., ExportRows], str]] = {
    "devices": (device_export_rows, "Devices"),
    "people": (person_export_rows, "People"),
    "assignments": (assignment_export_rows, "Assignments"),
    "events": (event_export_rows, "Device events"),
}

#: Export name → the function giving its queryset (counted before a large XLSX goes to a job).
_QUERYSETS: dict[str, Callable[..., QuerySet[Any]]] = {
    "devices": device_export_queryset,
    "people": person_export_queryset,
    "assignments": assignment_export_queryset,
    "events": event_export_queryset,
}


def export_row_count(name: str, *, user: Actor, filters: Filters = None) -> int:
    """How many rows the ``name`` export of :data:`EXPORTS` holds for ``user`` with ``filters``
    (one ``COUNT`` query). Raises KeyError for an unknown name."""
    return _QUERYSETS[name](user=user, filters=filters).count()
