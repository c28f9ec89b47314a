"""Streaming reader for the tables districts bring: CSV (any common encoding,
delimiter and line ending) and XLSX.

Shapes
------
``open_table(source)`` reads only the header and returns a :class:`Table`::

    table = open_table("assets.csv")
    table.headers   # ["Asset Tag", "Serial Number", ...]   (cleaned original texts)
    table.keys      # ["assettag", "serialnumber", ...]     (normalize_header of each)
    serial = table.column("serialNumber", "Serial")         # -> "serialnumber" or None
    for row in table.rows():                                # streams, one Row at a time
        row.line                                            # 1-based line where the record starts
        row.values[serial]                                  # always text, stripped, "" if missing

Columns are matched by name, never by position.  Values are always strings:
identifiers such as "0041873" are never turned into numbers.

Errors
------
:class:`FileFormatError` (a ``ValueError``) when the file as a whole cannot be
read: empty file, duplicate headers, a value under a blank header, broken
quoting, a byte that fits no encoding, an ``.xls`` or non-Excel zip, a missing
sheet.  Its message names what and where (line and column numbers are 1-based).

This module does not import Django.

The code is in parts: ``imports.reading_base`` (limits, errors, rows, headers),
``imports.reading_decode`` (bytes to lines: encodings, blank runs) and
``imports.reading_formats`` (CSV and XLSX records); :class:`Table` and :func:`open_table` are
here, and every name of the parts stays importable from here.
"""

from __future__ import annotations

import codecs
import os
from collections.abc import Iterator
from typing import IO

from imports.reading_base import (  # noqa: F401
    _CELL_STRIP,
    _CHUNK_SIZE,
    _DELIMITERS,
    _INVISIBLE_RE,
    _MAX_LINE,
    _NEWLINE_BYTES_RE,
    _NEWLINE_RE,
    _NON_KEY_RE,
    _OLE_MAGIC,
    _SAMPLE_SIZE,
    _SNIFF_LINES,
    _SPACES_RE,
    _XLSX_SUFFIXES,
    _ZIP_MAGIC,
    FileFormatError,
    RepeatedHeader,
    Row,
    _clean_header,
    _column_label,
    _Layout,
    _short,
    normalize_header,
)
from imports.reading_decode import (  # noqa: F401
    _BLANK_RUN_MIN,
    _COMMON_MARKS,
    _CONTRACTION_RE,
    _RARE_CHARS,
    _UNCOMMON_LETTERS,
    _ascii_compatible,
    _BadBytes,
    _BlankRuns,
    _Blanks,
    _ByteSource,
    _chain,
    _decode_fixed,
    _decode_utf8_lazily,
    _detect_encoding,
    _guess_legacy,
    _latin_score,
    _line_of,
    _read_chunks,
    _read_exactly,
    _single_byte,
    _split,
    _split_lines,
    _split_lines_runs,
    _utf8_votes,
)
from imports.reading_formats import (  # noqa: F401
    _cell_text,
    _count_outside_quotes,
    _csv_records,
    _detect_delimiter,
    _explain_csv_error,
    _is_number,
    _load_workbook,
    _pick_sheet,
    _sheet_records,
    _xlsx_records,
)

__all__ = ["FileFormatError", "RepeatedHeader", "Row", "Table", "encoding_label", "normalize_header", "open_table"]

#: Encodings a file declares or that are certain (a byte-order mark, valid UTF-8, a workbook):
#: any other was guessed from the bytes, and the import says which (``Table.encoding_guessed``).
_CERTAIN_ENCODINGS = frozenset({"utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "xlsx"})
_ENCODING_LABELS = {
    "cp1252": "Windows-1252 (Western European, Excel on Windows)",
    "mac_roman": "Mac Roman (Excel on a Mac)",
    "latin_1": "Latin-1 (ISO-8859-1)",
    "iso8859-1": "Latin-1 (ISO-8859-1)",
    "iso8859-15": "Latin-9 (ISO-8859-15)",
    "cp1250": "Windows-1250 (Central European)",
    "cp1251": "Windows-1251 (Cyrillic)",
}


def encoding_label(encoding: str) -> str:
    """How an encoding is named to people: ``"mac_roman"`` -> ``"Mac Roman (Excel on a Mac)"``;
    a codec without a label here keeps its Python name."""
    name = codecs.lookup(encoding).name if encoding != "xlsx" else encoding
    return _ENCODING_LABELS.get(encoding) or _ENCODING_LABELS.get(name) or encoding


# --------------------------------------------------------------------------
# Table
# --------------------------------------------------------------------------


class Table:
    """An opened table; returned by :func:`open_table`.

    Attributes:
        headers: original header texts (invisible characters removed,
            whitespace collapsed, stripped), in column order; blank headers
            and headers without any letter or digit are left out.
        keys: ``normalize_header`` of each header, same order.
        encoding: "utf-8", "utf-8-sig", "utf-16", "cp1252", "mac_roman", ...
            or "xlsx".  For a file whose first 64 KiB are plain ASCII it is
            "utf-8" until ``rows()`` meets a non-UTF-8 byte, when it becomes
            the legacy code page used from there on.
        delimiter: "," ";" "\\t" "|" for CSV, None for XLSX.
        sheet: worksheet title for XLSX, None for CSV.
        header_line: line (or sheet row) of the header.
        duplicates: headers repeating an earlier column's name (:class:`RepeatedHeader`);
            the earlier column is read, the repeat is not.
        blank_rows: blank records between the header and the last data row that the latest
            ``rows()`` skipped (blank rows after the last data row are not counted).
    """

    headers: list[str]
    keys: list[str]
    encoding: str
    delimiter: str | None
    sheet: str | None
    header_line: int

    def __init__(
        self,
        source: _ByteSource,
        layout: _Layout,
        *,
        encoding: str,
        delimiter: str | None,
        sheet: str | None,
    ) -> None:
        self._source = source
        self._layout = layout
        self.headers = list(layout.headers)
        self.keys = list(layout.keys)
        self.encoding = encoding
        self.delimiter = delimiter
        self.sheet = sheet
        self.header_line = layout.header_line
        self._key_set = {key: i for i, key in enumerate(self.keys)}
        self.duplicates: list[RepeatedHeader] = list(layout.duplicates)
        self.blank_rows = 0
        self._pending_blanks = 0

    @property
    def encoding_guessed(self) -> bool:
        """True when the encoding was guessed from the bytes (a legacy code page such as
        Windows-1252 or Mac Roman), not declared by a byte-order mark nor certain (UTF-8, XLSX)."""
        return self.encoding not in _CERTAIN_ENCODINGS

    @property
    def stray_values(self) -> list[tuple[int, int, int]]:
        """Values the latest ``rows()`` found under a blank header, which are ignored:
        (1-based column, first line, rows), by column."""
        return [(index + 1, first, rows) for index, (first, rows) in sorted(self._layout.stray.items())]

    def _blank(self, count: int = 1) -> None:
        self._pending_blanks += count

    def __repr__(self) -> str:
        return (
            f"<Table {len(self.keys)} columns, encoding={self.encoding!r}, "
            f"delimiter={self.delimiter!r}, sheet={self.sheet!r}>"
        )

    def column(self, *aliases: str) -> str | None:
        """Key of the column named by the first alias present (aliases are
        tried in the order given, each through ``normalize_header``), or None.
        """
        for alias in aliases:
            key = normalize_header(alias)
            if key in self._key_set:
                return key
        return None

    def header(self, key: str) -> str:
        """Original header text of a key (for messages). KeyError if absent."""
        return self.headers[self._key_set[key]]

    def position(self, key: str) -> int:
        """1-based column number of a key in the file (for messages)."""
        return self._layout.positions[self._key_set[key]] + 1

    def _switch_encoding(self, encoding: str) -> None:
        self.encoding = encoding

    @property
    def slots(self) -> list[str | None]:
        """For every column position of the header line: its key, "" (a header without
        letters or digits: ignored) or None (a blank header: its cells must stay empty)."""
        return list(self._layout.slots)

    def raw_chunks(self) -> Iterator[bytes]:
        """The file's bytes from its very start (byte-order mark and header included), for a
        loader that hands a clean CSV file to the database as it is."""
        return self._source.chunks()

    def rows(self) -> Iterator[Row]:
        """Data rows after the header, one at a time, in file order.

        Streams: memory does not grow with the file.  Blank records are
        skipped (a CSV's runs of blank lines go past the parser as one piece: a
        file padded with millions of them reads in a second or two).  Each call starts again from the top (a table opened from a
        non-seekable stream can be read once).  Raises FileFormatError on the
        first record that cannot be read (message names the line).
        """
        layout = self._layout
        layout.stray = {}
        self.blank_rows = 0
        self._pending_blanks = 0
        if self.encoding == "xlsx":
            for line, cells, numeric in _xlsx_records(self._source.seekable_file(), self.sheet):
                if line <= layout.header_line:
                    continue
                row = layout.row(cells, line, numeric)
                if row is not None:
                    self.blank_rows += self._pending_blanks
                    self._pending_blanks = 0
                    yield row
                else:
                    self._pending_blanks += 1
            return
        assert self.delimiter is not None
        records = _csv_records(_split_lines_runs(self._decode(), self.delimiter), self.delimiter, self._blank)
        for line, cells in records:
            if line <= layout.header_line:
                self._pending_blanks = 0
                continue
            row = layout.row(cells, line)
            if row is not None:
                self.blank_rows += self._pending_blanks
                self._pending_blanks = 0
                yield row
            else:
                self._pending_blanks += 1

    def _decode(self) -> Iterator[str]:
        if self.encoding == "utf-8":
            return _decode_utf8_lazily(self._source.chunks(), self)
        return _decode_fixed(self._source.chunks(), self.encoding)


def open_table(
    source: str | os.PathLike[str] | IO[bytes],
    *,
    filename: str | None = None,
    sheet: str | None = None,
) -> Table:
    """Open a CSV or XLSX table and read its header.

    ``source`` is a path (a ``str`` is always a path, never CSV text) or a
    binary stream (read from its current position; ``filename`` helps to
    tell the kind and appears in messages).  XLSX is recognized by its zip
    signature or an .xlsx/.xlsm name; everything else is read as CSV.
    ``sheet`` selects a worksheet by title (default: the first).

    The header is the first non-blank record (normally line 1).  A file with
    only a header is fine (``rows()`` yields nothing).

    Raises FileFormatError: empty file, no header, a header too long for the first 64 KiB, .xls / HTML /
    binary / non-Excel zip content, unknown sheet, undecodable bytes.
    Raises OSError when a path cannot be opened.
    """
    byte_source = _ByteSource(source)
    name = (filename or byte_source.name or "").lower()
    head = byte_source.head(_SAMPLE_SIZE)
    if head.startswith(_ZIP_MAGIC) or (name.endswith(_XLSX_SUFFIXES) and head):
        if not head.startswith(_ZIP_MAGIC):
            raise FileFormatError(
                "the file is named like an Excel workbook but is not one; open it in Excel and save it as .xlsx or CSV"
            )
        return _open_xlsx(byte_source, sheet)
    if head.startswith(_OLE_MAGIC):
        raise FileFormatError(
            "this is an old-style Excel .xls (or a password-protected) workbook; "
            "save it as .xlsx or CSV UTF-8 without a password"
        )
    if sheet is not None:
        raise FileFormatError(f"a sheet ({sheet!r}) was asked for, but this is a CSV file")
    return _open_csv(byte_source, head)


def _open_xlsx(byte_source: _ByteSource, sheet: str | None) -> Table:
    workbook = _load_workbook(byte_source.seekable_file())
    try:
        worksheet = _pick_sheet(workbook, sheet)
        title: str = worksheet.title
        for line, cells, _numeric in _sheet_records(worksheet):
            if any(c.strip(_CELL_STRIP) for c in cells):
                layout = _Layout(cells, line)
                break
        else:
            raise FileFormatError(f"sheet {title!r} is empty (no header row)")
    finally:
        workbook.close()
    return Table(byte_source, layout, encoding="xlsx", delimiter=None, sheet=title)


def _open_csv(byte_source: _ByteSource, head: bytes) -> Table:
    complete = len(head) < _SAMPLE_SIZE
    if not head.strip(b" \t\r\n" + codecs.BOM_UTF8):
        raise FileFormatError("the file is empty (no header line)")
    sniff = head[:1024].lstrip().lower()
    if sniff.startswith((b"<!doctype html", b"<html", b"<table", b"<?xml")):
        raise FileFormatError("this is a web page or XML file, not CSV; export the data as CSV or .xlsx")
    encoding = _detect_encoding(head, complete)
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        text = decoder.decode(head, final=complete)
    except UnicodeDecodeError as error:
        raise FileFormatError(f"line {_line_of(head, error.start)}: bytes that are not valid {encoding}") from None
    lines = list(_split_lines([text]))
    if not complete and lines and not lines[-1].endswith(("\n", "\r")):
        lines.pop()  # the sample ends inside this line
    content = [line for line in lines if line.strip(_CELL_STRIP)]
    if not content:
        raise FileFormatError(
            "the file is empty (no header line)"
            if complete
            else "no complete header line in the first 64 KiB of the file (is the header that long?)"
        )
    delimiter = _detect_delimiter(content[:_SNIFF_LINES])
    layout: _Layout | None = None
    for line, cells in _csv_records(lines, delimiter):
        if any(c.strip(_CELL_STRIP) for c in cells):
            layout = _Layout(cells, line)
            break
    if layout is None:  # pragma: no cover - content is non-blank
        raise FileFormatError("the file is empty (no header line)")
    return Table(byte_source, layout, encoding=encoding, delimiter=delimiter, sheet=None)
