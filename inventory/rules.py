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
* :func:`device_site_field`: which site a device belongs to under each ownership mode. The rule
  lives in ``core.scoping`` (the gate needs it and core imports no domain app); it is re-exported
  here so that device code asks inventory.
"""

from __future__ import annotations

import datetime
import re
from enum import StrEnum

from django.db.models import QuerySet
from django.db.models.functions import Lower
from django.utils import timezone

from core.scoping import device_site_field
from inventory.models import Device

__all__ = [
    "MAC_INVALID",
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
