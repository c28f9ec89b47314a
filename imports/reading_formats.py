"""CSV records (delimiter detection, parsing, error wording) and XLSX records (cells as text,
sheets) (moved from ``imports.reading``, which re-exports every name). No Django."""

from __future__ import annotations

import csv
import math
import warnings
import zipfile
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import IO, Any

from core.writing import xlsx_unescape
from imports.reading_base import (
    _DELIMITERS,
    FileFormatError,
)
from imports.reading_decode import (
    _Blanks,
)

# --------------------------------------------------------------------------
# Delimiter detection and CSV parsing
# --------------------------------------------------------------------------


def _count_outside_quotes(line: str, delimiter: str) -> int:
    count = 0
    quoted = False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        elif ch == delimiter and not quoted:
            count += 1
    return count


def _detect_delimiter(lines: list[str]) -> str:
    """Delimiter among , ; TAB | from the first lines (header first).

    If exactly one candidate occurs in the header line it is the delimiter.
    Otherwise csv.Sniffer (restricted to the four) decides, and if it cannot,
    the candidate occurring most often in the header line wins (ties in the
    order , ; TAB |).  A header with none of them is a one-column file: ",".
    """
    header = lines[0]
    counts = {d: _count_outside_quotes(header, d) for d in _DELIMITERS}
    present = [d for d in _DELIMITERS if counts[d]]
    if not present:
        return ","
    if len(present) == 1:
        return present[0]
    try:
        sniffed = csv.Sniffer().sniff("".join(lines), delimiters="".join(_DELIMITERS))
        if sniffed.delimiter in present:
            return sniffed.delimiter
    except csv.Error:
        pass
    return max(present, key=lambda d: counts[d])


def _csv_records(
    lines: Iterable[str | _Blanks], delimiter: str, on_blank_run: Callable[[int], None] | None = None
) -> Iterator[tuple[int, list[str]]]:
    """(start line, cells) for each record, blank records included — except the runs of
    blank lines :func:`_split_lines_runs` gives as one item between records: they are
    skipped (counted for the line numbers, and given to ``on_blank_run`` as a count)."""
    consumed = 0  # physical lines read so far
    start = 0  # the line the current record starts on (0: none read yet)

    def feed() -> Iterator[str]:
        nonlocal consumed, start
        for item in lines:
            if isinstance(item, _Blanks):
                if not start:  # between records: blank records, which nobody keeps
                    consumed += item.count
                    if on_blank_run is not None:
                        on_blank_run(item.count)
                    continue
                for line in item.lines():  # inside a quoted field: its text
                    consumed += 1
                    yield line
                continue
            consumed += 1
            if not start:
                start = consumed
            yield item

    reader = csv.reader(
        feed(),
        delimiter=delimiter,
        quotechar='"',
        doublequote=True,
        skipinitialspace=True,
        strict=True,
    )
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            first = start or consumed + 1
            span = f"line {first}" + (f" (through line {consumed})" if consumed > first else "")
            raise FileFormatError(f"{span}: {_explain_csv_error(error)}") from None
        yield start, record
        start = 0


def _explain_csv_error(error: csv.Error) -> str:
    text = str(error)
    if "unexpected end of data" in text:
        return (
            'a quoted field is never closed (an unmatched " character); '
            "the rest of the file was swallowed into one cell"
        )
    if "expected after" in text:
        return (
            f'bad quoting ({text}): a field that starts with " must end with " '
            'right before the delimiter, and a " inside it must be doubled ("")'
        )
    if "field larger than field limit" in text:
        return f"a cell is larger than {csv.field_size_limit()} characters (unclosed quote?)"
    return f"cannot parse the CSV ({text})"


# --------------------------------------------------------------------------
# XLSX
# --------------------------------------------------------------------------


def _cell_text(value: Any) -> str:
    """Text of an openpyxl cell value, without damage.

    int -> "123"; whole float -> "123"; other float -> plain decimal
    ("0.00001", never "1e-05"); bool -> "TRUE"/"FALSE"; datetime at midnight
    -> "YYYY-MM-DD", other datetime -> "YYYY-MM-DDTHH:MM:SS"; date -> ISO.
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return xlsx_unescape(value)  # "_x000D_" is a CR (XML would have made a raw one LF)
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        if value.is_integer():
            return str(int(value))
        return format(Decimal(repr(value)), "f")
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        if value.tzinfo is None and value.time() == time(0):
            return value.date().isoformat()
        return value.isoformat(timespec="microseconds" if value.microsecond else "seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.isoformat(timespec="microseconds" if value.microsecond else "seconds")
    if isinstance(value, timedelta):
        return str(value)
    return str(value)


def _load_workbook(file: str | IO[bytes]) -> Any:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return load_workbook(file, read_only=True, data_only=True, keep_links=False)
    except (InvalidFileException, zipfile.BadZipFile, KeyError):
        raise FileFormatError(_not_a_workbook(file)) from None


def _not_a_workbook(file: str | IO[bytes]) -> str:
    """Why a zip-signed file is not a workbook, in words (never the library's text, which
    named file extensions openpyxl supports): a plain zip, an OpenDocument sheet, or damage."""
    names: list[str] = []
    try:
        if not isinstance(file, str):
            file.seek(0)
        with zipfile.ZipFile(file) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return "this Excel workbook is damaged (it cannot be opened); open it in Excel and save it again as .xlsx"
    finally:
        if not isinstance(file, str):
            file.seek(0)
    if "mimetype" in names and any(name == "content.xml" for name in names):
        return "this is an OpenDocument spreadsheet (.ods), not an Excel .xlsx workbook; save it as .xlsx or CSV"
    if "[Content_Types].xml" in names:
        return "this is an Office file but not an Excel workbook (a Word or PowerPoint file?); choose the spreadsheet"
    shown = ", ".join(names[:5]) + (" …" if len(names) > 5 else "") if names else "nothing"
    return (
        f"this is a zip file (it holds {shown}), not an Excel workbook or a CSV file; "
        "unzip it and import the spreadsheet inside"
    )


def _pick_sheet(workbook: Any, sheet: str | None) -> Any:
    worksheets = workbook.worksheets
    if sheet is None:
        if not worksheets:
            raise FileFormatError("the workbook has no worksheet")
        return worksheets[0]
    for worksheet in worksheets:
        if worksheet.title == sheet:
            return worksheet
    names = ", ".join(repr(w.title) for w in worksheets)
    raise FileFormatError(f"no sheet named {sheet!r} in the workbook (sheets: {names})")


def _is_number(value: Any) -> bool:
    """True for a cell Excel stored as a number (not a date, not a boolean)."""
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def _sheet_records(worksheet: Any) -> Iterator[tuple[int, list[str], list[int]]]:
    """(sheet row number, cell texts, positions of the cells stored as numbers)."""
    worksheet.reset_dimensions()  # stored dimensions are often wrong
    for number, values in enumerate(worksheet.iter_rows(values_only=True), start=1):
        yield number, [_cell_text(v) for v in values], [i for i, v in enumerate(values) if _is_number(v)]


def _xlsx_records(file: str | IO[bytes], sheet: str | None) -> Iterator[tuple[int, list[str], list[int]]]:
    """(sheet row number, cell texts, positions of numbers) for each row; the workbook is
    closed when the generator ends or is closed."""
    workbook = _load_workbook(file)
    try:
        yield from _sheet_records(_pick_sheet(workbook, sheet))
    finally:
        workbook.close()
