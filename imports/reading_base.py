"""The reader's vocabulary and header handling: limits, :class:`FileFormatError`, :class:`Row`,
:func:`normalize_header` and the header layout shared by CSV and XLSX (moved from
``imports.reading``, which re-exports every name). No Django."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

# How much of the file is looked at to choose the encoding, delimiter and header.
_SAMPLE_SIZE = 64 * 1024
# How much is read at a time while streaming.
_CHUNK_SIZE = 64 * 1024
# A physical line longer than this is not a table (protects memory).
_MAX_LINE = 4 * 1024 * 1024
# Lines of the sample given to csv.Sniffer.
_SNIFF_LINES = 20

_DELIMITERS = (",", ";", "\t", "|")
_XLSX_SUFFIXES = (".xlsx", ".xlsm", ".xltx", ".xltm")
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

# Invisible characters: soft hyphen, zero-width and direction marks, word
# joiners, byte-order mark, C0/C1 controls other than tab/newline/CR.
_INVISIBLE_RE = re.compile("[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SPACES_RE = re.compile(r"\s+")
_NON_KEY_RE = re.compile(r"[^a-z0-9.]")
_NEWLINE_RE = re.compile(r"\r\n|\r|\n")
_NEWLINE_BYTES_RE = re.compile(rb"\r\n|\r|\n")
# Characters stripped from both ends of every cell: whitespace (incl. no-break
# spaces) and zero-width characters / byte-order marks.
_CELL_STRIP = (
    " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004"
    "\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
    "\u200b\u200c\u200d\u2060\ufeff"
)


class FileFormatError(ValueError):
    """The file as a whole cannot be read.

    The message names what and where, e.g. ``line 7, column 9: a value ('x') beyond the
    last header (the header has 8 columns)``. Repeated headers and values under a blank
    header are not errors of the reader: see ``_Layout.duplicates`` and ``_Layout.stray``.
    """


@dataclass(frozen=True, slots=True)
class Row:
    """One record of a table.

    ``line``: 1-based physical line (CSV) or sheet row (XLSX) where the record
    starts; the header is normally line 1.
    ``values``: normalized header key -> cell text, stripped of surrounding
    whitespace; a cell missing at the end of a short record is ``""``.
    ``numeric``: the keys of the cells an XLSX sheet stored as numbers (their text is the
    number written out, e.g. ``"41873"``: leading zeros and digits past Excel's 15 may be
    lost); always empty for CSV, where every cell is text. Not compared.
    """

    line: int
    values: dict[str, str]
    numeric: frozenset[str] = field(default=frozenset(), compare=False)


@dataclass(frozen=True, slots=True)
class RepeatedHeader:
    """A header whose key (``normalize_header``) an earlier column already has.

    ``first``/``first_column``: the earlier header's text and 1-based column; ``header``/``column``:
    the repeat's. The earlier column is the one read; the repeat's cells are not read at all.
    Whether that is a warning (nobody reads the key) or a file error (an importer reads it) is the
    importer's call: see ``imports.pipeline_importer.Importer.check_headers``."""

    key: str
    first: str
    first_column: int
    header: str
    column: int

    def describe(self) -> str:
        """``'Serial Number' (column 2) and 'serial number' (column 5)``."""
        return f"{self.first!r} (column {self.first_column}) and {self.header!r} (column {self.column})"


def normalize_header(name: str) -> str:
    """Return the matching key of a header text.

    NFKC, drop invisible characters, fold accents (``é`` -> ``e``), case-fold,
    keep only ``[a-z0-9.]`` and strip leading/trailing dots::

        "Serial Number" -> "serialnumber"     "serialNumber" -> "serialnumber"
        "recentUsers.0.email" -> "recentusers.0.email"
        "Model No." -> "modelno"              " \\ufeffSourcedId " -> "sourcedid"

    A header made only of punctuation or symbols normalizes to ``""``.
    """
    text = unicodedata.normalize("NFKC", name)
    text = _INVISIBLE_RE.sub("", text)
    text = "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))
    text = _NON_KEY_RE.sub("", text.casefold())
    return text.strip(".")


def _clean_header(text: str) -> str:
    """Header text as shown to people: invisible characters removed, runs of
    whitespace (incl. no-break spaces) collapsed, stripped."""
    text = _INVISIBLE_RE.sub("", unicodedata.normalize("NFC", text))
    return _SPACES_RE.sub(" ", text).strip()


def _column_label(index: int) -> str:
    """0-based column index -> "column 3"."""
    return f"column {index + 1}"


# --------------------------------------------------------------------------
# Header layout and row building (shared by CSV and XLSX)
# --------------------------------------------------------------------------


class _Layout:
    """Maps cell positions to keys; validates headers and rows."""

    def __init__(self, cells: list[str], line: int) -> None:
        texts = [_clean_header(c) for c in cells]
        #: Columns of the header line, blank ones at its end included (for messages).
        self.header_columns = len(texts)
        while texts and not texts[-1]:
            texts.pop()  # trailing empty columns are ignored
        self.width = len(texts)
        self.header_line = line
        self.headers: list[str] = []
        self.keys: list[str] = []
        self.positions: list[int] = []  # 0-based column index of each key
        # For every column index: None (blank header: must stay empty),
        # "" (header without letters/digits: ignored), or the key.
        self.slots: list[str | None] = []
        #: Headers repeating an earlier column's key (that column is read; these are not).
        self.duplicates: list[RepeatedHeader] = []
        #: Values found under a blank header while reading rows: 0-based column -> [first line,
        #: rows]. Reset by each ``Table.rows()``; such values are ignored, never read.
        self.stray: dict[int, list[int]] = {}
        seen: dict[str, int] = {}
        for index, text in enumerate(texts):
            if not text:
                self.slots.append(None)
                continue
            key = normalize_header(text)
            if not key:
                self.slots.append("")
                continue
            if key in seen:
                first = seen[key]
                self.duplicates.append(RepeatedHeader(key, texts[first], first + 1, text, index + 1))
                self.slots.append("")  # not read: the first column of that name is
                continue
            seen[key] = index
            self.slots.append(key)
            self.headers.append(text)
            self.keys.append(key)
            self.positions.append(index)
        if not self.keys:
            raise FileFormatError(f"the header on line {line} has no column names")

    def row(self, cells: list[str], line: int, numeric: Iterable[int] = ()) -> Row | None:
        """Build a Row from raw cell texts, or None for a blank record. ``numeric``: the
        0-based positions of the cells a sheet stored as numbers."""
        stripped = [c.strip(_CELL_STRIP) if c else "" for c in cells]
        if not any(stripped):
            return None
        slots = self.slots
        width = self.width
        for index, cell in enumerate(stripped):
            if not cell:
                continue
            if index >= width and index >= self.header_columns:
                raise FileFormatError(
                    f"line {line}, {_column_label(index)}: a value ({_short(cell)}) "
                    f"beyond the last header (the header has {self.header_columns} columns)"
                )
            if index >= width or slots[index] is None:
                # Under a blank header: a column nobody can read. Ignored, and counted for the
                # importer's warning (``Table.stray_values``).
                seen_at = self.stray.get(index)
                if seen_at is None:
                    self.stray[index] = [line, 1]
                else:
                    seen_at[1] += 1
        count = len(stripped)
        values = {
            key: (stripped[pos] if pos < count else "") for key, pos in zip(self.keys, self.positions, strict=True)
        }
        if numeric:
            keys = frozenset(key for pos in numeric if pos < width and (key := slots[pos]) and stripped[pos])
            return Row(line, values, keys)
        return Row(line, values)


def _short(text: str, limit: int = 40) -> str:
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")
