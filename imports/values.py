"""Parsers for the cell texts of imported tables.

Each parser takes the raw text of one cell and returns a Python value, or
raises ``ValueError`` with a short message saying what was expected and what
was found (callers prefix the line and column), e.g.
``expected a date as YYYY-MM-DD or MM/DD/YYYY, got '13/01/2024'``.
Parsers never guess: an ambiguous text is an error, not a coin toss.

This module does not import Django.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

__all__ = [
    "DATE_ORDERS",
    "EXCEL_DIGITS",
    "NUMERIC_IDENTIFIER_WARNING",
    "parse_bool",
    "parse_date",
    "parse_datetime",
    "parse_identifier",
    "parse_int",
    "parse_list",
    "parse_money",
    "numeric_digits",
]

DATE_ORDERS = ("MDY", "DMY")

# Whitespace and invisible characters stripped from both ends of a value.
_STRIP = " \t\n\r\x0b\x0c\xa0\u2007\u202f\u200b\u200c\u200d\u2060\ufeff"

_ISO_DATE_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_ISO_DATETIME_RE = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})"
    r"(?:[Tt ](?P<time>\d{2}:\d{2}(?::\d{2}(?P<fraction>[.,]\d+)?)?)"
    r"\s*(?P<zone>[Zz]|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?)?"
)
_YMD_RE = re.compile(r"(\d{4})([/.-])(\d{1,2})\2(\d{1,2})")
_LOCAL_DATE_RE = re.compile(
    r"(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})"
    # Excel sometimes appends a time to a date column: "1/23/2023 0:00".
    r"(?:\s+\d{1,2}:\d{2}(?::\d{2})?(?:\s*[AaPp][Mm])?)?"
)
_EPOCH_MS_RE = re.compile(r"\d{12,13}")
_SCIENTIFIC_RE = re.compile(r"[+-]?\d+(?:[.,]\d+)?[eE][+-]\d{1,3}")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _clean(value: str) -> str:
    return value.strip(_STRIP)


def _date_error(value: str, order: str) -> ValueError:
    local = "MM/DD/YYYY" if order == "MDY" else "DD/MM/YYYY"
    return ValueError(f"expected a date as YYYY-MM-DD or {local}, got {value!r}")


def _two_digit_year(year: int) -> int:
    """Python's strptime pivot: 00-68 -> 2000-2068, 69-99 -> 1969-1999."""
    return year + (2000 if year <= 68 else 1900)


def parse_date(value: str, *, order: str = "MDY") -> date | None:
    """Parse a calendar date.

    Accepted (surrounding whitespace ignored):

    * ISO ``2024-05-01`` always, and an ISO date-time such as
      ``2024-05-01T13:22:11Z``, whose date *as written* is taken (no time-zone
      conversion);
    * ``2024/5/1``, ``2024-5-1``, ``2024.05.01`` (a four-digit year first is
      unambiguous);
    * the local form with ``/``, ``-`` or ``.`` (the same separator twice) in
      the configured ``order``: ``"MDY"`` reads ``1/23/23`` and
      ``01/23/2023``; ``"DMY"`` reads ``23/01/2023``.  A time Excel may append
      (``1/23/2023 0:00``) is ignored.

    Two-digit years use Python's pivot: 00-68 -> 2000-2068, 69-99 -> 1969-1999.

    Returns None for blank input.  Raises ValueError for anything else,
    including a date impossible under ``order`` (``13/01/2024`` with MDY):
    ``expected a date as YYYY-MM-DD or MM/DD/YYYY, got '13/01/2024'``.
    Raises ValueError if ``order`` is not one of DATE_ORDERS.
    """
    if order not in DATE_ORDERS:
        raise ValueError(f"date order must be one of {', '.join(DATE_ORDERS)}, got {order!r}")
    text = _clean(value)
    if not text:
        return None
    try:
        match = _ISO_DATE_RE.fullmatch(text)
        if match:
            return date(int(match[1]), int(match[2]), int(match[3]))
        match = _ISO_DATETIME_RE.fullmatch(text)
        if match and match["time"]:
            # Validates the time part too; the date is taken as written.
            _parse_iso_datetime(match)
            return date.fromisoformat(match["date"])
        match = _YMD_RE.fullmatch(text)
        if match:
            return date(int(match[1]), int(match[3]), int(match[4]))
        match = _LOCAL_DATE_RE.fullmatch(text)
        if match:
            first, second, year_text = int(match[1]), int(match[3]), match[4]
            year = int(year_text)
            if len(year_text) == 2:
                year = _two_digit_year(year)
            month, day = (first, second) if order == "MDY" else (second, first)
            return date(year, month, day)
    except ValueError:
        pass
    raise _date_error(value.strip(), order)


def _parse_iso_datetime(match: re.Match[str]) -> datetime:
    """Aware UTC datetime from a match of _ISO_DATETIME_RE (ValueError if the
    fields are out of range)."""
    text = match["date"]
    if match["time"]:
        clock = match["time"]
        fraction = match["fraction"]
        if fraction:
            # Keep at most microseconds (Python's limit); more digits are truncated.
            clock = clock[: -len(fraction)] + "." + fraction[1:7]
        text += "T" + clock
    zone = match["zone"]
    if zone and zone.upper() not in ("Z", "UTC", "GMT"):
        text += zone if ":" in zone or len(zone) == 3 else zone[:3] + ":" + zone[3:]
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def parse_datetime(value: str) -> datetime | None:
    """Parse a moment in time; returns an aware datetime in UTC.

    Accepted:

    * RFC 3339 / ISO 8601 with ``Z`` or an offset (``+05:00``, ``+0500``,
      ``+05``), with or without fractional seconds (beyond microseconds they
      are truncated): ``2024-05-01T13:22:11.123Z``;
    * the same without a zone, treated as UTC, with ``T`` or a space between
      date and time as the OneRoster sample writes (``2017-05-06 08:01:05``);
      a date alone means midnight UTC;
    * epoch milliseconds, 12-13 digits, as the Google API writes
      (``1714569731123``).

    Returns None for blank input.  Raises ValueError otherwise:
    ``expected a date-time as YYYY-MM-DDTHH:MM:SSZ, got '...'``.
    """
    text = _clean(value)
    if not text:
        return None
    try:
        if _EPOCH_MS_RE.fullmatch(text):
            return _EPOCH + timedelta(milliseconds=int(text))
        match = _ISO_DATETIME_RE.fullmatch(text)
        if match:
            return _parse_iso_datetime(match)
    except (ValueError, OverflowError):
        pass
    raise ValueError(f"expected a date-time as YYYY-MM-DDTHH:MM:SSZ, got {value.strip()!r}")


_CURRENCY_CODES = r"(?:USD|CAD|MXN|EUR|GBP|AUD|NZD)"
_CURRENCY_RE = re.compile(
    rf"^(?:US\$|CA\$|{_CURRENCY_CODES}|[$€£¥])\s*|\s*(?:{_CURRENCY_CODES}|[$€£¥])$",
    re.IGNORECASE,
)
_MONEY_DOT_RE = re.compile(r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+")
_MONEY_COMMA_RE = re.compile(r"(?:\d{1,3}(?:[. \u00a0\u202f]\d{3})+|\d+)(?:,\d+)?|,\d+")
_CENT = Decimal("0.01")


def parse_money(value: str, *, decimal_comma: bool = False) -> Decimal | None:
    """Parse a non-negative amount of money; never uses float.

    Accepts an optional currency symbol ($ € £ ¥ US$ CA$) or code (USD, CAD,
    MXN, EUR, GBP, AUD, NZD) before or after the number (``$1,234.50``,
    ``USD 289.00``, ``289.00 USD``).  By default
    ``.`` is the decimal point and ``,`` groups thousands (groups of three
    only: ``1,5`` is an error, not a guess).  With ``decimal_comma=True``,
    ``,`` is the decimal point and ``.`` or a space groups thousands
    (``1.234,50``, ``289,00``).

    Returns the amount quantized to 0.01 (ROUND_HALF_UP), None for blank.
    Raises ValueError for negative (``-5``, ``(5.00)``) or non-numeric text.
    """
    text = _clean(value)
    if not text:
        return None
    example = "1.234,50" if decimal_comma else "1234.50"
    number = _CURRENCY_RE.sub("", text, count=2).strip(_STRIP)
    if number.startswith(("-", "(", "\u2212")) or number.endswith("-"):
        raise ValueError(f"expected an amount of 0 or more, got {value.strip()!r}")
    pattern = _MONEY_COMMA_RE if decimal_comma else _MONEY_DOT_RE
    if not pattern.fullmatch(number):
        raise ValueError(f"expected an amount like {example}, got {value.strip()!r}")
    if decimal_comma:
        number = re.sub(r"[. \u00a0\u202f]", "", number).replace(",", ".")
    else:
        number = number.replace(",", "")
    try:
        amount = Decimal(number)
    except InvalidOperation:  # pragma: no cover - the pattern guarantees digits
        raise ValueError(f"expected an amount like {example}, got {value.strip()!r}") from None
    return amount.quantize(_CENT, rounding=ROUND_HALF_UP)


#: Significant digits Excel keeps of a number: a longer identifier stored as a number has
#: lost its last digits (6377020000000123 → 6377020000000120).
EXCEL_DIGITS = 15

#: The warning for an identifier a spreadsheet stored as a number (see ``parse_identifier``).
NUMERIC_IDENTIFIER_WARNING = (
    "was stored by Excel as a number, not as text: leading zeros it may have had are lost "
    "(0041873 becomes 41873); imported as it reads. Format the column as text in Excel and "
    "export again if the identifier starts with zeros"
)


#: Why an identifier in scientific notation is refused (serials, tags, model numbers…).
SCIENTIFIC_NOTATION_REASON = (
    "looks like Excel changed this identifier into scientific notation ({value}); "
    "export the column as text and try again"
)


def parse_identifier(value: str, *, numeric: bool = False) -> str:
    """Clean an identifier (serial number, asset tag, student number, ...).

    Strips surrounding whitespace and invisible characters; keeps everything
    else as written, leading zeros included.  Returns "" for blank input.

    Raises ValueError when the text looks like Excel turned a long number into
    scientific notation (``6.37702E+15``, ``1.23e+11``): the digits are lost
    and cannot be recovered.

    ``numeric``: the cell was stored as a number (an XLSX cell, see
    ``imports.reading.Row.numeric``), so ``value`` is that number written out.
    ValueError when it has more than :data:`EXCEL_DIGITS` significant digits:
    Excel keeps 15, the rest were lost (callers warn about the shorter ones with
    :data:`NUMERIC_IDENTIFIER_WARNING`).
    """
    text = _clean(value)
    if _SCIENTIFIC_RE.fullmatch(text):
        raise ValueError(SCIENTIFIC_NOTATION_REASON.format(value=text))
    if numeric and numeric_digits(text) > EXCEL_DIGITS:
        raise ValueError(
            f"was stored by Excel as a number with {numeric_digits(text)} digits, and Excel keeps only "
            f"{EXCEL_DIGITS}: the last digits may be lost; format the column as text in Excel and export again"
        )
    return text


def numeric_digits(text: str) -> int:
    """Significant digits of a number written out (``"6377020000000000"`` → 16, ``"0.0012"`` → 2)."""
    digits = "".join(ch for ch in text if ch.isdigit())
    return len(digits.lstrip("0"))


_TRUE = frozenset({"true", "yes", "y", "1", "t"})
_FALSE = frozenset({"false", "no", "n", "0", "f"})


def parse_bool(value: str) -> bool | None:
    """true/false, yes/no, y/n, 1/0, t/f in any case; None for blank.

    Raises ValueError otherwise.
    """
    text = _clean(value).lower()
    if not text:
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"expected true or false (or yes/no, 1/0), got {value.strip()!r}")


_INT_RE = re.compile(r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)")


def parse_int(value: str, *, minimum: int | None = None) -> int | None:
    """A whole number (``42``, ``-3``, ``1,200``); None for blank.

    Raises ValueError for other text (``4.5``, ``ten``) or a number below
    ``minimum``.
    """
    text = _clean(value)
    if not text:
        return None
    if not _INT_RE.fullmatch(text):
        raise ValueError(f"expected a whole number, got {value.strip()!r}")
    number = int(text.replace(",", ""))
    if minimum is not None and number < minimum:
        raise ValueError(f"expected a whole number of at least {minimum}, got {value.strip()!r}")
    return number


def parse_list(value: str) -> list[str]:
    """A OneRoster list field: ``"a,b, c"`` -> ``["a", "b", "c"]``.

    Items are stripped; empty items are dropped; blank input gives ``[]``.
    """
    return [item for item in (part.strip(_STRIP) for part in value.split(",")) if item]
