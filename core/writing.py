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
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, BinaryIO

__all__ = ["FORMULA_PREFIXES", "csv_stream", "neutralize", "xlsx_write"]

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


def xlsx_write(
    headers: list[str],
    rows: Iterable[Sequence[object]],
    fileobj: BinaryIO,
    *,
    sheet_title: str = "Export",
) -> None:
    """Write an XLSX workbook with one sheet to ``fileobj``.

    Uses openpyxl's write-only mode (rows go to a temporary file as they
    come, so memory stays flat).  Every cell, header included, is a TEXT cell
    (data type "s": a shared string, never a formula) with the "@" (Text)
    number format, so identifiers such as "0041873" stay text, "#N/A" is not
    an error value and "=1+1" is the text "=1+1" — no apostrophe is needed (or
    shown), unlike in CSV.  Characters XML cannot hold (control characters)
    are dropped.  The header row is bold.

    Raises ValueError when a row's length differs from the headers'.
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=_sheet_title(sheet_title))
    bold = Font(bold=True)

    def text_cell(value: object, *, header: bool = False) -> WriteOnlyCell:
        cell = WriteOnlyCell(sheet, value=_XLSX_ILLEGAL_RE.sub("", _plain_text(value)))
        cell.data_type = "s"  # a string cell: never a formula (even "=1+1"), number or error value
        cell.number_format = "@"
        if header:
            cell.font = bold
        return cell

    try:
        sheet.append([text_cell(h, header=True) for h in headers])
        width = len(headers)
        for index, row in enumerate(rows, start=1):
            _check_width(index, row, width)
            sheet.append([text_cell(v) for v in row])
    except BaseException:
        _discard(sheet)
        raise
    workbook.save(fileobj)


def _discard(sheet: Any) -> None:
    """Finish and delete the temporary file of an abandoned write-only sheet."""
    with contextlib.suppress(Exception):
        sheet.close()
        writer = getattr(sheet, "_writer", None)
        if writer is not None:
            writer.cleanup()
