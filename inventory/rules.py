"""The device rules, each stated once: pure predicates that ``inventory.services``,
``inventory.forms`` and every device importer call, and beside each, where the set-based
PostgreSQL import must apply it too, its SQL twin (``*_SQL``: an expression over columns the
caller names). ``inventory/tests/test_rules.py`` feeds the same cases to both forms.

* :func:`transfer_refusal` / :func:`transfer_refusal_sql`: no transfer of a retired device or
  of one that is checked out (an open assignment, unless the device is lost or stolen).
* :func:`tag_key` / :func:`live_tag_clash` / :func:`live_tag_clash_sql`: asset tags are unique
  among live (not retired) devices, ignoring case (the database's
  ``device_unique_live_asset_tag`` index over ``lower(asset_tag)``).
* :func:`mac_normalize` / :func:`mac_normalize_sql`: a Wi-Fi MAC address's stored form.
* :func:`date_problems` / :data:`PURCHASE_IN_FUTURE_SQL` / :data:`WARRANTY_BEFORE_PURCHASE_SQL`:
  no purchase date after the district's local today; no warranty ending before the purchase.
* :func:`serial_key` / :func:`serial_key_sql` / :func:`serial_holders`: serial numbers are
  unique per manufacturer ignoring case (the database's ``device_unique_serial_per_manufacturer``
  index over ``lower(serial_number)``); the services and every importer compare them so.
* :func:`narrow_by_maker` / :func:`serial_match_sql`: a serial number that several devices
  share matches the one of the row's manufacturer; otherwise it is ambiguous.
* :func:`tag_of_other_device` / :func:`tag_of_other_device_sql`: a row whose asset tag belongs
  to a device with another serial number names two devices (refused, never merged);
  :func:`tag_candidates`: which devices holding a tag a row may be (a retired device is matched
  by tag only from a row that says Retired, and then only one without a serial number when the
  row gives one).
* :func:`text_limit` / :func:`length_problem` / :func:`too_long_sql`: how long a device's (or a
  model's, a maker's, a location's) text may be, read from the model field's ``max_length``.
* :data:`NEW_DEVICE_STATUSES` / :func:`new_device_missing` / :func:`new_device_missing_sql`: a
  new device starts in stock or in the loaner pool and needs a site and a model.
* :func:`import_status_note`: an import never changes a device's status.
* :func:`import_may_change` / :func:`import_may_change_sql`: an import never changes a retired
  device's record (the row is skipped with a warning).
* :func:`may_create_models`: only district roles add device models (a plain bool of the actor's
  scope, so the set-based import passes it to its SQL as a parameter).
* :func:`import_retag` / :func:`import_retag_refused` (and their ``*_sql``): an import may give a
  device matched by its serial number another asset tag only while it is not checked out, and
  then says so on the row (:data:`IMPORT_RETAG`; refused: :data:`IMPORT_RETAG_CHECKED_OUT`).
* :func:`device_site_field`: which site a device belongs to under each ownership mode. The rule
  lives in ``core.scoping`` (the gate needs it and core imports no domain app); it is re-exported
  here so that device code asks inventory.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Mapping, Sequence
from enum import StrEnum
from typing import Any, TypeVar

from django.db.models import Model, QuerySet
from django.db.models.functions import Lower
from django.utils import timezone

from core.scoping import device_site_field
from inventory.models import Device

__all__ = [
    "IMPORT_STATUS_DIFFERS",
    "MAC_INVALID",
    "NEW_DEVICE_STATUSES",
    "NewDeviceProblem",
    "PURCHASE_IN_FUTURE_SQL",
    "WARRANTY_BEFORE_PURCHASE_SQL",
    "DateProblem",
    "TransferRefusal",
    "date_problems",
    "device_site_field",
    "district_today",
    "is_checked_out",
    "is_checked_out_sql",
    "is_live",
    "is_live_sql",
    "import_status_note",
    "import_may_change",
    "import_may_change_sql",
    "may_create_models",
    "IMPORT_RETAG",
    "IMPORT_RETAG_CHECKED_OUT",
    "import_retag",
    "import_retag_note",
    "import_retag_refusal",
    "import_retag_refused",
    "import_retag_refused_sql",
    "import_retag_sql",
    "length_problem",
    "model_length_problem",
    "narrow_by_maker",
    "new_device_missing",
    "new_device_missing_sql",
    "new_device_status_ok",
    "status_label",
    "serial_holders",
    "serial_key",
    "serial_key_sql",
    "serial_match_sql",
    "tag_candidates",
    "tag_of_other_device",
    "tag_of_other_device_sql",
    "text_limit",
    "too_long_sql",
    "live_tag_clash",
    "live_tag_clash_sql",
    "live_tag_holders",
    "mac_normalize",
    "mac_normalize_sql",
    "tag_key",
    "tag_key_sql",
    "transfer_refusal",
    "transfer_refusal_sql",
]

Status = Device.Status
_T = TypeVar("_T")

#: Statuses in which an open assignment does not count as holding the device (it is not there
#: to be checked in).
_GONE = (Status.LOST, Status.STOLEN)


def _sql_text(value: str) -> str:
    """A Python string as a SQL string literal (quotes doubled)."""
    return "'" + value.replace("'", "''") + "'"


# --------------------------------------------------------------------------- transfers


class TransferRefusal(StrEnum):
    """Why a device may not be transferred (the values are what :func:`transfer_refusal_sql`
    gives)."""

    RETIRED = "retired"
    CHECKED_OUT = "checked_out"


def is_checked_out(*, status: str, has_open_assignment: bool) -> bool:
    """A device is checked out when it has an open assignment, unless it is lost or stolen."""
    return has_open_assignment and status not in _GONE


def is_checked_out_sql(*, status: str, has_open_assignment: str) -> str:
    """:func:`is_checked_out` in SQL: ``status`` a text column, ``has_open_assignment`` a boolean
    expression (portable SQL)."""
    gone = ", ".join(_sql_text(s) for s in _GONE)
    return f"(({has_open_assignment}) AND {status} NOT IN ({gone}))"


def transfer_refusal(*, status: str, has_open_assignment: bool) -> TransferRefusal | None:
    """Why a device in ``status`` (with an open assignment or not) may not go to another site,
    or ``None``. Retired devices stay where they are; a checked-out device is checked in first,
    so the holder's school keeps seeing what its students hold (``docs/architecture.md``)."""
    if status == Status.RETIRED:
        return TransferRefusal.RETIRED
    if is_checked_out(status=status, has_open_assignment=has_open_assignment):
        return TransferRefusal.CHECKED_OUT
    return None


def transfer_refusal_sql(*, status: str, has_open_assignment: str) -> str:
    """:func:`transfer_refusal` in SQL: a text expression, ``'retired'``, ``'checked_out'`` or
    NULL (portable SQL)."""
    out = is_checked_out_sql(status=status, has_open_assignment=has_open_assignment)
    return (
        f"(CASE WHEN {status} = {_sql_text(Status.RETIRED)} THEN {_sql_text(TransferRefusal.RETIRED)} "
        f"WHEN {out} THEN {_sql_text(TransferRefusal.CHECKED_OUT)} END)"
    )


# --------------------------------------------------------------------------- asset tags


def tag_key(tag: str) -> str:
    """The form in which asset tags are compared (SQL: ``lower(tag)``, the unique index's)."""
    return tag.lower()


def tag_key_sql(expr: str) -> str:
    """:func:`tag_key` in SQL."""
    return f"lower({expr})"


def is_live(status: str) -> bool:
    """A device is live until it is retired (only live devices hold their asset tag)."""
    return status != Status.RETIRED


def is_live_sql(status: str) -> str:
    """:func:`is_live` in SQL (portable)."""
    return f"({status} <> {_sql_text(Status.RETIRED)})"


def live_tag_clash(*, tag: str, other_tag: str, other_status: str) -> bool:
    """Whether ``tag`` may not be given to a device because another device (``other_tag``, in
    ``other_status``) holds it: asset tags are unique among live devices, ignoring case; a
    retired device may share its tag."""
    return is_live(other_status) and tag_key(tag) == tag_key(other_tag)


def live_tag_clash_sql(*, tag: str, other_tag: str, other_status: str) -> str:
    """:func:`live_tag_clash` in SQL (portable; SQLite's ``lower`` folds ASCII only, PostgreSQL's
    follows the database's locale)."""
    return f"({is_live_sql(other_status)} AND {tag_key_sql(tag)} = {tag_key_sql(other_tag)})"


def tag_must_be_free(*, status: str, old_tag: str | None, new_tag: str) -> bool:
    """Whether a device in ``status`` whose tag goes from ``old_tag`` (``None``: a new device) to
    ``new_tag`` must find ``new_tag`` free among live devices (:func:`live_tag_clash`). Not when
    the tag is unchanged (a retired device keeps its own tag after a live one reused it), nor for
    a retired device (it holds no tag). A respelling (``A-1`` → ``a-1``) is checked."""
    if not is_live(status):
        return False
    return old_tag is None or old_tag != new_tag


def live_tag_holders(tag: str, *, exclude_pk: int | None = None) -> QuerySet[Device]:
    """The live devices holding ``tag`` (the ORM form of :func:`live_tag_clash`)."""
    found = Device.objects.annotate(tag_lower=Lower("asset_tag")).filter(tag_lower=tag_key(tag))
    found = found.exclude(status=Status.RETIRED)
    return found.exclude(pk=exclude_pk) if exclude_pk is not None else found


# --------------------------------------------------------------------------- MAC addresses

#: The message for a value that is not a MAC address (forms and importers).
MAC_INVALID = "expected a MAC address of 12 hex digits, e.g. 3C:22:FB:12:34:56"

#: Six pairs of hex digits, each pair after the first optionally after ``:``, ``-`` or ``.``.
MAC_PATTERN = r"^[0-9A-Fa-f]{2}([-:.]?[0-9A-Fa-f]{2}){5}$"
_MAC_RE = re.compile(MAC_PATTERN)


def mac_normalize(text: str) -> str | None:
    """A Wi-Fi MAC address as stored: ``8fad06cb0fb3`` / ``8F-AD-06-CB-0F-B3`` / ``8fad.06cb.0fb3``
    → ``8F:AD:06:CB:0F:B3``; blank (after stripping spaces) → ``""``; ``None`` when it is not a
    MAC address."""
    text = text.strip()
    if not text:
        return ""
    if not _MAC_RE.fullmatch(text):
        return None
    digits = re.sub(r"[^0-9A-Fa-f]", "", text).upper()
    return ":".join(digits[i : i + 2] for i in range(0, 12, 2))


#: Every character Python's ``str.strip()`` strips (``str.isspace``), for SQL's ``btrim``.
_WHITE_SPACE = "".join(chr(c) for c in range(0x3001) if chr(c).isspace())


def _colons(digits: str) -> str:
    """SQL: 12 hex digits as ``AA:BB:CC:DD:EE:FF``."""
    return "concat_ws(':', " + ", ".join(f"substr({digits}, {i}, 2)" for i in range(1, 12, 2)) + ")"


def mac_normalize_sql(expr: str, *, stripped: bool = False) -> str:
    """:func:`mac_normalize` in SQL (PostgreSQL: a regular expression): a text expression, ``''``
    for blank, NULL when not a MAC address. ``stripped``: ``expr`` is stripped already (a staged
    cell, stripped as the reader strips cells), so it is not stripped again. Twelve plain hex
    digits (the common case) skip the regular expression."""
    text = expr if stripped else f"btrim({expr}, {_sql_text(_WHITE_SPACE)})"
    plain = f"char_length({text}) = 12 AND translate(upper({text}), '0123456789ABCDEF', '') = ''"
    bare = f"upper(translate({text}, ':-.', ''))"
    return (
        f"(CASE WHEN {text} = '' THEN '' WHEN {plain} THEN {_colons(f'upper({text})')} "
        f"WHEN {text} ~ '{MAC_PATTERN}' THEN {_colons(bare)} END)"
    )


# --------------------------------------------------------------------------- dates


class DateProblem(StrEnum):
    """What is wrong with a device's dates; the text says it after the field's name."""

    PURCHASE_IN_FUTURE = "is in the future"
    WARRANTY_BEFORE_PURCHASE = "is before the purchase date; the warranty cannot end before it"


#: SQL: the purchase date is after today (``%(today)s``); NULL-safe (portable SQL; format
#: ``purchase``).
PURCHASE_IN_FUTURE_SQL = "coalesce({purchase} > %(today)s, false)"
#: SQL: the warranty ends before the purchase (portable SQL; format ``purchase``, ``warranty``).
WARRANTY_BEFORE_PURCHASE_SQL = "coalesce({warranty} < {purchase}, false)"


def district_today() -> datetime.date:
    """Today in the district's time zone (an import runs outside a request, where no time zone
    is active)."""
    from sites.models import District

    return timezone.localdate(timezone=District.get().tzinfo)


def date_problems(
    *, purchase_date: datetime.date | None, warranty_end: datetime.date | None, today: datetime.date
) -> list[tuple[str, DateProblem]]:
    """(field name, problem) for a purchase date after ``today`` (the district's:
    :func:`district_today`) and a warranty ending before the purchase date; ``[]`` when the
    dates are fine or missing."""
    problems: list[tuple[str, DateProblem]] = []
    if purchase_date and purchase_date > today:
        problems.append(("purchase_date", DateProblem.PURCHASE_IN_FUTURE))
    if purchase_date and warranty_end and warranty_end < purchase_date:
        problems.append(("warranty_end", DateProblem.WARRANTY_BEFORE_PURCHASE))
    return problems


# --------------------------------------------------------------------------- text lengths


def text_limit(field: str, model: type[Model] = Device) -> int:
    """The most characters ``model``'s text field ``field`` holds: its ``max_length``, the one
    place the number is stated (``asset_tag`` 64, ``serial_number`` 100, ``DeviceModel.name``
    150, …). Raises ``FieldDoesNotExist`` for an unknown field, ``TypeError`` for a field
    without a ``max_length``."""
    limit = model._meta.get_field(field).max_length  # type: ignore[union-attr]
    if limit is None:
        raise TypeError(f"{model.__name__}.{field} has no max_length")
    return int(limit)


def length_problem(value: str, *, field: str, model: type[Model] = Device) -> str | None:
    """Why ``value`` does not fit ``model.field`` (``"is 70 characters long; at most 64"``, said
    after the column's name), or ``None`` when it fits (:func:`text_limit`)."""
    limit = text_limit(field, model)
    if len(value) > limit:
        return f"is {len(value)} characters long; at most {limit}"
    return None


def too_long_sql(expr: str, *, field: str, model: type[Model] = Device) -> str:
    """:func:`length_problem` in SQL: true when the text ``expr`` does not fit (PostgreSQL's
    ``char_length``: characters, as Python's ``len``)."""
    return f"(char_length({expr}) > {text_limit(field, model)})"


def model_length_problem(*, name: str, manufacturer: str, model_number: str) -> tuple[str, str] | None:
    """The first of a device model's texts that does not fit — the model name, the maker's name,
    the model number, in that order — as (``"name"``, ``"manufacturer"`` or ``"model_number"``,
    :func:`length_problem`'s words), or ``None`` when all fit."""
    from inventory.models import DeviceModel, Manufacturer

    for which, value, field, model in (
        ("name", name, "name", DeviceModel),
        ("manufacturer", manufacturer, "name", Manufacturer),
        ("model_number", model_number, "model_number", DeviceModel),
    ):
        problem = length_problem(value, field=field, model=model)
        if problem:
            return which, problem
    return None


# --------------------------------------------------------------------------- matching rows to devices


def serial_key(serial: str) -> str:
    """The form in which serial numbers are compared, by the services, every importer and the
    database (SQL: :func:`serial_key_sql`, ``lower(serial)``: the unique index
    ``device_unique_serial_per_manufacturer`` over (maker, ``lower(serial_number)``) and the
    ``device_serial_lower`` lookup index)."""
    return serial.lower()


def serial_key_sql(expr: str) -> str:
    """:func:`serial_key` in SQL."""
    return f"lower({expr})"


def serial_holders(serial: str, *, manufacturer_id: int, exclude_pk: int | None = None) -> QuerySet[Device]:
    """The devices of ``manufacturer_id`` whose serial number is ``serial`` ignoring case
    (:func:`serial_key`): serial numbers are unique per manufacturer ignoring case, as the
    database's ``device_unique_serial_per_manufacturer`` index over ``lower(serial_number)``
    holds them. A blank serial is held by nobody (devices without one do not clash)."""
    if not serial:
        return Device.objects.none()
    found = Device.objects.annotate(serial_lower=Lower("serial_number")).filter(
        manufacturer_id=manufacturer_id, serial_lower=serial_key(serial)
    )
    return found.exclude(pk=exclude_pk) if exclude_pk is not None else found


def narrow_by_maker(candidates: Sequence[_T], *, maker: str | None, maker_of: Callable[[_T], str]) -> list[_T]:
    """Of the devices whose serial number is the row's (``candidates``, in id order), those the
    row may be: all of them, or when the row names a manufacturer (``maker``, any case) and
    some of them are that maker's, only those. One left is the match; more are ambiguous
    (the row must name the maker); none: no match by serial."""
    if len(candidates) > 1 and maker is not None:
        wanted = maker.lower()
        narrowed = [c for c in candidates if maker_of(c).lower() == wanted]
        if narrowed:
            return narrowed
    return list(candidates)


def serial_match_sql(
    *, n: str, ids: str, n_maker: str, maker_ids: str, maker: str, otherwise: str = "NULL"
) -> tuple[str, str]:
    """:func:`narrow_by_maker` in SQL (PostgreSQL arrays), over the candidates grouped per row:
    ``n`` how many devices have the serial (NULL for none), ``ids`` their ids in order,
    ``n_maker`` / ``maker_ids`` those of the row's maker, ``maker`` the row's maker (NULL: not
    named). Returns (matched id: ``otherwise`` when no device has the serial, NULL when
    ambiguous; the ambiguous ids or NULL)."""
    named = f"{maker} IS NOT NULL"
    matched = (
        f"CASE WHEN {n} = 1 THEN ({ids})[1] WHEN {n} > 1 AND {named} AND {n_maker} = 1 THEN ({maker_ids})[1] "
        f"WHEN {n} IS NULL THEN {otherwise} END"
    )
    ambiguous = (
        f"CASE WHEN {n} > 1 AND NOT ({named} AND {n_maker} = 1) THEN "
        f"CASE WHEN {named} AND {n_maker} > 1 THEN {maker_ids} ELSE {ids} END END"
    )
    return matched, ambiguous


def tag_of_other_device(*, serial: str, device_serial: str) -> bool:
    """Whether a row giving serial ``serial`` and an asset tag held by a device with serial
    ``device_serial`` names two devices (refused: correct the tag or the serial; never a silent
    merge). Blank serials on either side say nothing."""
    return bool(serial) and bool(device_serial) and serial_key(serial) != serial_key(device_serial)


def tag_of_other_device_sql(*, serial: str, device_serial: str) -> str:
    """:func:`tag_of_other_device` in SQL (portable; NULL-safe as false)."""
    differ = f"{serial_key_sql(device_serial)} <> {serial_key_sql(serial)}"
    return f"coalesce({serial} <> '' AND {device_serial} <> '' AND {differ}, false)"


def tag_candidates(
    devices: Sequence[Mapping[str, Any]], *, row_status: str | None, row_serial: str
) -> list[Mapping[str, Any]]:
    """Of the devices holding a row's asset tag (``status`` and ``serial_number`` of each, in
    id order), those the row may be: live ones for a row that does not say Retired (at most one:
    tags are unique among live devices); retired ones for a row that does, and when the row gives
    a serial number only those without one (a retired device with a serial is matched by it).
    More than one retired candidate for a row without a serial is ambiguous."""
    retired_row = row_status == Status.RETIRED
    pool = [d for d in devices if (d["status"] == Status.RETIRED) == retired_row]
    if retired_row and row_serial:
        pool = [d for d in pool if not d["serial_number"]]
    return pool


# --------------------------------------------------------------------------- new devices and imports

#: The statuses a new device may start in (it changes status by check-out, repair, … later).
NEW_DEVICE_STATUSES = (Status.IN_STOCK, Status.LOANER_POOL)


def new_device_status_ok(status: str) -> bool:
    """Whether a new device may start in ``status`` (:data:`NEW_DEVICE_STATUSES`)."""
    return status in NEW_DEVICE_STATUSES


#: Said of a new device's status that is not one of :data:`NEW_DEVICE_STATUSES`.
NEW_DEVICE_BAD_STATUS = (
    "a new device starts in stock or in the loaner pool; add it first, then change its status on its page"
)


class NewDeviceProblem(StrEnum):
    """What a new device lacks (the value is what :func:`new_device_missing_sql` gives;
    :attr:`message` is said after the column's name)."""

    NO_TAG = "tag"
    NO_SITE = "site"
    NO_MODEL = "model"

    @property
    def message(self) -> str:
        return (
            f"is empty; a new device needs {'an asset tag' if self is NewDeviceProblem.NO_TAG else 'a ' + self.value}"
        )


def new_device_missing(*, has_site: bool, has_model: bool) -> NewDeviceProblem | None:
    """What a new device lacks of a site and a model (site first), or ``None``. (The asset tag
    is checked before: :attr:`NewDeviceProblem.NO_TAG`, then its length and uniqueness.)"""
    if not has_site:
        return NewDeviceProblem.NO_SITE
    if not has_model:
        return NewDeviceProblem.NO_MODEL
    return None


def new_device_missing_sql(*, has_site: str, has_model: str) -> str:
    """:func:`new_device_missing` in SQL (portable): ``'site'``, ``'model'`` or NULL, from two
    boolean expressions."""
    return (
        f"(CASE WHEN NOT ({has_site}) THEN {_sql_text(NewDeviceProblem.NO_SITE)} "
        f"WHEN NOT ({has_model}) THEN {_sql_text(NewDeviceProblem.NO_MODEL)} END)"
    )


#: Said when a file gives a device another status than it has (format ``current``: its label).
IMPORT_STATUS_DIFFERS = (
    "differs from DeviceLedger's status ({current}); an import does not change a device's status (use the device page)"
)


def status_label(status: str) -> str:
    """A status code's label (the code itself when it is not one)."""
    return str(Status(status).label) if status in Status.values else status


def import_status_note(*, current: str, given: str | None) -> str | None:
    """Imports never change a device's status (check-out, repair, loss … have their own
    actions and events): the warning when a file gives ``given`` for a device in ``current``,
    or ``None`` when the file says nothing or the same."""
    if given is None or given == current:
        return None
    return IMPORT_STATUS_DIFFERS.format(current=status_label(current))


# --------------------------------------------------------------------------- re-tagging by import

#: Said (a warning on the row's asset tag, shown in the preview before the commit) when an import
#: gives a device matched by its serial number another asset tag.
IMPORT_RETAG = "the asset tag changes from {old} to {new} (matched by serial {serial})"

#: Said (a row error) when an import would give a checked-out device another asset tag.
IMPORT_RETAG_CHECKED_OUT = (
    "would change the asset tag of device {old} (matched by serial {serial}), which is checked out: its holder's "
    "records and labels use that tag; check it in first, or change the tag on the device's page"
)


def may_create_models(*, everywhere_change: bool) -> bool:
    """Whether a user adds device models (district-wide reference data): only district roles
    that change devices everywhere (district admin, district technician) — ``everywhere_change``
    is ``core.scoping.Scope.allows_everywhere("change")``, True for the system (no actor).
    Site staff ask the district office for a model their file names (an import's row error)."""
    return everywhere_change


def import_may_change(*, status: str) -> bool:
    """Whether an import may change a device's record (details, tag, model, site, location): not
    a retired one, which has left the inventory (the importers warn and skip the row; a retired
    device is still edited on its page)."""
    return is_live(status)


def import_may_change_sql(*, status: str) -> str:
    """:func:`import_may_change` in SQL (portable): ``status`` a text expression."""
    return is_live_sql(status)


def import_retag(*, old_tag: str, new_tag: str) -> bool:
    """Whether a file's asset tag ``new_tag`` for a device tagged ``old_tag`` (matched by its
    serial number) names another tag: not blank and not the same ignoring case (a change of
    case only is a respelling: scans, searches and uniqueness ignore case)."""
    return bool(new_tag) and tag_key(new_tag) != tag_key(old_tag)


def import_retag_sql(*, old_tag: str, new_tag: str) -> str:
    """:func:`import_retag` in SQL (portable; NULL-safe as false)."""
    return f"coalesce({new_tag} <> '' AND {tag_key_sql(new_tag)} <> {tag_key_sql(old_tag)}, false)"


def import_retag_refused(*, old_tag: str, new_tag: str, status: str, has_open_assignment: bool) -> bool:
    """Whether an import may not re-tag the device (:func:`import_retag`): not while it is
    checked out (:func:`is_checked_out`), since its holder's records and labels use the tag.
    Otherwise the change is made, with :data:`IMPORT_RETAG` on the row."""
    return import_retag(old_tag=old_tag, new_tag=new_tag) and is_checked_out(
        status=status, has_open_assignment=has_open_assignment
    )


def import_retag_refused_sql(*, old_tag: str, new_tag: str, status: str, has_open_assignment: str) -> str:
    """:func:`import_retag_refused` in SQL (portable): ``has_open_assignment`` a boolean
    expression."""
    checked_out = is_checked_out_sql(status=status, has_open_assignment=has_open_assignment)
    return f"({import_retag_sql(old_tag=old_tag, new_tag=new_tag)} AND {checked_out})"


def import_retag_note(*, old_tag: str, new_tag: str, serial: str) -> str:
    """:data:`IMPORT_RETAG` filled in."""
    return IMPORT_RETAG.format(old=old_tag, new=new_tag, serial=serial)


def import_retag_refusal(*, old_tag: str, serial: str) -> str:
    """:data:`IMPORT_RETAG_CHECKED_OUT` filled in (said after the asset tag column's name)."""
    return IMPORT_RETAG_CHECKED_OUT.format(old=old_tag, serial=serial)
