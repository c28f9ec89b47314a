"""Export writers: CSV (streamed) and XLSX, safe to open in a spreadsheet.

Every CSV cell goes through :func:`neutralize`, which turns it into text and
defuses spreadsheet formulas (OWASP "CSV injection"): a text starting with
``= + - @ TAB CR`` gets a leading single quote.  XLSX cells are explicit string
cells (``t="s"``), which Excel and LibreOffice never evaluate, so they keep the
text as it is (no visible apostrophe).

Shapes::

    response = StreamingHttpResponse(csv_stream(headers, rows), content_type="text/csv")
    xlsx_write(headers, rows, fileobj, sheet_title="Devices")

where ``headers`` is a list of column titles and ``rows`` an iterable of
sequences of the same length (values: str, int, Decimal, date, datetime,
bool, None, ...).  Neither function holds all rows in memory.

This module does not import Django.
"""

from __future__ import annotations

import contextlib
import csv
import io
import math
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from itertools import chain
from typing import Any, BinaryIO

__all__ = ["FORMULA_PREFIXES", "csv_stream", "neutralize", "xlsx_text", "xlsx_unescape", "xlsx_write"]

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

# csv_stream yields once this much text has gathered (and always after the header).
_CHUNK_CHARS = 16 * 1024
# Characters an XLSX cell cannot hold (XML 1.0 forbids them).
_XLSX_ILLEGAL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_SHEET_TITLE_ILLEGAL_RE = re.compile(r"[\[\]:*?/\\]")


def _plain_text(value: object) -> str:
    """Text of a value without any neutralization."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return str(int(value))
        return format(Decimal(repr(value)), "f") if math.isfinite(value) else str(value)
    if isinstance(value, datetime):
        return value.isoformat(timespec="microseconds" if value.microsecond else "seconds")
    if isinstance(value, (date, time)):
        return value.isoformat()
    return str(value)


def neutralize(value: object) -> str:
    """Text of a cell value, safe against formula injection.

    None -> ""; bool -> "TRUE"/"FALSE"; Decimal -> plain digits ("1234.50",
    never an exponent); date/datetime -> ISO ("2024-05-01",
    "2024-05-01T13:22:11+00:00"); anything else -> ``str(value)``.

    A text starting with one of FORMULA_PREFIXES gets a leading ``'``:
    ``"=SUM(A1)"`` -> ``"'=SUM(A1)"``.  Numbers (int, float, Decimal) are
    exempt, as they cannot carry a formula: ``Decimal("-5")`` -> ``"-5"``.
    """
    text = _plain_text(value)
    if text.startswith(FORMULA_PREFIXES) and not isinstance(value, (int, float, Decimal)):
        return "'" + text
    return text


def _check_width(index: int, row: Sequence[object], width: int) -> None:
    if len(row) != width:
        raise ValueError(f"row {index} has {len(row)} values but there are {width} headers")


def csv_stream(headers: list[str], rows: Iterable[Sequence[object]]) -> Iterator[bytes]:
    """CSV export as a stream of byte chunks (for StreamingHttpResponse).

    UTF-8 with a byte-order mark (so Excel reads accents right), CRLF line
    ends, RFC 4180 quoting (a field with a comma, quote, CR or LF is quoted,
    quotes doubled), every cell through :func:`neutralize`.

    The first chunk is the BOM and the header line; rows follow in chunks of
    about 16 KiB, produced as rows are pulled from ``rows`` (never all at
    once).  Raises ValueError when a row's length differs from the headers'.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow([neutralize(h) for h in headers])
    yield ("\ufeff" + buffer.getvalue()).encode("utf-8")
    buffer.seek(0)
    buffer.truncate()
    width = len(headers)
    for index, row in enumerate(rows, start=1):
        _check_width(index, row, width)
        writer.writerow([neutralize(v) for v in row])
        if buffer.tell() >= _CHUNK_CHARS:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode("utf-8")


def _sheet_title(title: str) -> str:
    """A title Excel accepts: no []:*?/\\, at most 31 characters, not blank."""
    cleaned = _SHEET_TITLE_ILLEGAL_RE.sub("_", title).strip("'").strip()
    return cleaned[:31] or "Export"


#: Rows read ahead to size the columns (openpyxl's write-only sheet fixes widths before row 1).
_WIDTH_SAMPLE = 500
_WIDTH_MIN, _WIDTH_MAX = 8, 60
#: Excel number formats: dates and times as Excel dates, money to the cent with separators.
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
TIME_FORMAT = "hh:mm:ss"
DECIMAL_FORMAT = "#,##0.00"
# Excel keeps 15 significant digits: larger whole numbers are written as text, not rounded.
_EXACT_INT = 10**15
# A text that already looks like an OOXML escape ("_x000D_") keeps its leading "_" escaped.
_XLSX_ESCAPE_LIKE_RE = re.compile(r"_(x[0-9A-Fa-f]{4}_)")


def xlsx_text(value: str) -> str:
    """``value`` as an XLSX cell's text: characters XML cannot hold are dropped, and a carriage
    return is written as OOXML's escape ``_x000D_`` (ECMA-376 ST_Xstring), which Excel reads
    back as CR; a literal ``_xHHHH_`` keeps its meaning as ``_x005F_xHHHH_``.

    XML parsers turn a raw CR (or CRLF) in element text into LF, so without the escape a note
    typed in a browser (which sends CRLF) came back from an exported workbook with LF only.
    """
    text = _XLSX_ILLEGAL_RE.sub("", value)
    if "_x" in text:
        text = _XLSX_ESCAPE_LIKE_RE.sub(r"_x005F_\1", text)
    return text.replace("\r", "_x000D_") if "\r" in text else text


_XLSX_ESCAPE_RE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def xlsx_unescape(text: str) -> str:
    """The inverse of :func:`xlsx_text`'s escapes, for a text read from a workbook:
    ``_x000D_`` -> CR, ``_x005F_x000D_`` -> the literal ``_x000D_`` (ECMA-376 ST_Xstring;
    Excel writes these, and openpyxl hands them over unread)."""
    if "_x" not in text:
        return text
    return _XLSX_ESCAPE_RE.sub(lambda match: chr(int(match.group(1), 16)), text)


def _display_width(value: object) -> int:
    """Characters a value takes in its column (longest line of a text)."""
    if value is None:
        return 0
    if isinstance(value, datetime):
        return 19
    if isinstance(value, date):
        return 10
    if isinstance(value, Decimal):
        return len(f"{value:,.2f}")
    text = _plain_text(value)
    return max((len(line) for line in text.splitlines()), default=0)


def xlsx_write(
    headers: list[str],
    rows: Iterable[Sequence[object]],
    fileobj: BinaryIO,
    *,
    sheet_title: str = "Export",
    progress: Callable[[int], None] | None = None,
    progress_every: int = 2000,
) -> int:
    """Write an XLSX workbook with one sheet to ``fileobj``; returns the number of data rows.

    Uses openpyxl's write-only mode (rows go to a temporary file as they come, so memory stays
    flat; only the first :data:`_WIDTH_SAMPLE` rows are held, to size the columns). What a
    spreadsheet user expects:

    * the header row is bold, frozen (it stays while scrolling) and carries an auto-filter;
    * columns are as wide as their header and the sampled values (8 to 60 characters);
    * ``int``, ``float`` and ``Decimal`` are numbers (``Decimal`` shown ``1,234.50``; whole
      numbers beyond 15 digits, which Excel would round, stay text); ``bool`` is TRUE/FALSE;
    * ``date`` is an Excel date (``yyyy-mm-dd``); ``datetime`` an Excel date-time
      (``yyyy-mm-dd hh:mm:ss``) showing the wall-clock time it carries — callers pass it
      already in the district's time zone (Excel has no time zones, so the offset is dropped);
    * every ``str`` is a TEXT cell (data type "s": never a formula) with the "@" (Text) number
      format, so identifiers such as "0041873" stay text, "#N/A" is not an error value and
      "=1+1" is the text "=1+1" — no apostrophe is needed (or shown), unlike in CSV; text goes
      through :func:`xlsx_text` (control characters dropped, CR kept as ``_x000D_``).

    ``progress(rows_written)`` is called every ``progress_every`` rows (background jobs).
    Raises ValueError when a row's length differs from the headers'.
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=_sheet_title(sheet_title))
    bold = Font(bold=True)
    width = len(headers)

    def cell(value: object) -> WriteOnlyCell:
        if isinstance(value, str):
            text = WriteOnlyCell(sheet, value=xlsx_text(value))
            text.data_type = "s"  # a string cell: never a formula (even "=1+1"), number or error value
            text.number_format = "@"
            return text
        if value is None:
            return WriteOnlyCell(sheet, value=None)
        if isinstance(value, bool):
            return WriteOnlyCell(sheet, value=value)
        if isinstance(value, int) and -_EXACT_INT < value < _EXACT_INT:
            return WriteOnlyCell(sheet, value=value)
        if isinstance(value, float) and math.isfinite(value):
            return WriteOnlyCell(sheet, value=value)
        if isinstance(value, Decimal) and value.is_finite():
            number = WriteOnlyCell(sheet, value=value)
            number.number_format = DECIMAL_FORMAT
            return number
        if isinstance(value, datetime):
            moment = WriteOnlyCell(sheet, value=value.replace(tzinfo=None, microsecond=0))
            moment.number_format = DATETIME_FORMAT
            return moment
        if isinstance(value, date):
            day = WriteOnlyCell(sheet, value=value)
            day.number_format = DATE_FORMAT
            return day
        if isinstance(value, time):
            clock = WriteOnlyCell(sheet, value=value.replace(tzinfo=None))
            clock.number_format = TIME_FORMAT
            return clock
        return cell(_plain_text(value))

    def header_cell(title: str) -> WriteOnlyCell:
        head = cell(title)
        head.font = bold
        return head

    count = 0
    try:
        iterator = iter(rows)
        sample = []
        for row in iterator:
            sample.append(row)
            _check_width(len(sample), row, width)
            if len(sample) >= _WIDTH_SAMPLE:
                break
        for index, title in enumerate(headers):
            widest = max([len(title), *(_display_width(row[index]) for row in sample)])
            letter = get_column_letter(index + 1)
            sheet.column_dimensions[letter].width = min(max(widest + 2, _WIDTH_MIN), _WIDTH_MAX)
        sheet.freeze_panes = "A2"
        sheet.append([header_cell(h) for h in headers])
        for count, row in enumerate(chain(sample, iterator), start=1):
            if count > len(sample):
                _check_width(count, row, width)
            sheet.append([cell(v) for v in row])
            if progress is not None and count % progress_every == 0:
                progress(count)
        if width:
            sheet.auto_filter.ref = f"A1:{get_column_letter(width)}{count + 1}"
    except BaseException:
        _discard(sheet)
        raise
    workbook.save(fileobj)
    if progress is not None:
        progress(count)
    return count


def _discard(sheet: Any) -> None:
    """Finish and delete the temporary file of an abandoned write-only sheet."""
    with contextlib.suppress(Exception):
        sheet.close()
        writer = getattr(sheet, "_writer", None)
        if writer is not None:
            writer.cleanup()
