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
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import math
import os
import re
import tempfile
import unicodedata
import warnings
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import IO, Any

__all__ = ["FileFormatError", "Row", "Table", "normalize_header", "open_table"]

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

    The message names what and where, e.g. ``duplicate headers 'Serial Number'
    (column 2) and 'serial number' (column 5)`` or ``line 7, column 4: a value
    ('x') under a blank header``.
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
                raise FileFormatError(
                    f"duplicate headers {texts[first]!r} ({_column_label(first)}) "
                    f"and {text!r} ({_column_label(index)}) on line {line}: "
                    "rename or remove one of them"
                )
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
                raise FileFormatError(
                    f"line {line}, {_column_label(index)}: a value ({_short(cell)}) "
                    "under a blank header; give the column a name or delete it"
                )
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


# --------------------------------------------------------------------------
# Byte sources
# --------------------------------------------------------------------------


class _ByteSource:
    """A path or binary stream that can be read from its start more than once
    (a non-seekable stream only once after the sample)."""

    def __init__(self, source: str | os.PathLike[str] | IO[bytes]) -> None:
        self.path: str | None = None
        self.stream: IO[bytes] | None = None
        self.start: int | None = None
        self._head: bytes | None = None
        self._used = False
        if isinstance(source, (str, os.PathLike)):
            self.path = os.fspath(source)
        else:
            self.stream = source
            try:
                if source.seekable():
                    self.start = source.tell()
            except (AttributeError, OSError, ValueError):
                self.start = None

    @property
    def name(self) -> str | None:
        if self.path is not None:
            return self.path
        name = getattr(self.stream, "name", None)
        return name if isinstance(name, str) else None

    def head(self, size: int) -> bytes:
        """The first ``size`` bytes (fewer at end of file)."""
        if self.path is not None:
            with open(self.path, "rb") as handle:
                return _read_exactly(handle, size)
        assert self.stream is not None
        if self.start is not None:
            self.stream.seek(self.start)
            data = _read_exactly(self.stream, size)
            self.stream.seek(self.start)
            return data
        if self._head is None:
            self._head = _read_exactly(self.stream, size)
        return self._head[:size]

    def chunks(self) -> Iterator[bytes]:
        """Bytes from the start, ``_CHUNK_SIZE`` at a time."""
        if self.path is not None:
            with open(self.path, "rb") as handle:
                yield from _read_chunks(handle)
            return
        assert self.stream is not None
        if self.start is not None:
            self.stream.seek(self.start)
            yield from _read_chunks(self.stream)
            return
        if self._used:
            raise RuntimeError("rows() of a table opened from a non-seekable stream can be read only once")
        self._used = True
        if self._head:
            yield self._head
        self._head = b""
        yield from _read_chunks(self.stream)

    def seekable_file(self) -> str | IO[bytes]:
        """A path or seekable file for openpyxl (a non-seekable stream is
        copied to a temporary file, in memory up to 16 MiB)."""
        if self.path is not None:
            return self.path
        assert self.stream is not None
        if self.start is not None:
            self.stream.seek(self.start)
            return self.stream
        # The spool lives as long as the Table (it is re-read by rows()).
        spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024)  # noqa: SIM115
        for chunk in self.chunks():
            spool.write(chunk)
        spool.seek(0)
        self.stream, self.start = spool, 0
        return spool


def _read_exactly(handle: IO[bytes], size: int) -> bytes:
    parts: list[bytes] = []
    remaining = size
    while remaining > 0:
        part = handle.read(remaining)
        if not part:
            break
        parts.append(part)
        remaining -= len(part)
    return b"".join(parts)


def _read_chunks(handle: IO[bytes]) -> Iterator[bytes]:
    while True:
        chunk = handle.read(_CHUNK_SIZE)
        if not chunk:
            return
        yield chunk


# --------------------------------------------------------------------------
# Encoding detection and decoding
# --------------------------------------------------------------------------

# Characters common in Western names and notes (score up), and characters
# that in a roster almost always mean the wrong code page was chosen.
_COMMON_MARKS = set("’‘“”–—…•€°©®™´¿¡«»·§¢£¥±×÷¼½¾¹²³")
_RARE_CHARS = set("ƒıﬁﬂ‡†ˆ˜¯˘˙˚¸˝˛ˇ∂∆∏∑√∞≈≠≤≥◊Ω΅πµ¬‰¶ªº\uf8ff")
# Letters of Windows-1252's 0x80-0x9F block: legitimate but uncommon in US
# rosters, while the same bytes are ä å é ö ú û ü É in Mac Roman.
_UNCOMMON_LETTERS = set("ŠšŽžŒœŸ")
# After an apostrophe inside a word: English contractions.
_CONTRACTION_RE = re.compile(r"(?:s|t|d|m|ll|re|ve)(?![^\W\d_])")


def _latin_score(text: str) -> float:
    """How plausible ``text`` is as Western-European text (higher is better).

    Looks only at non-ASCII characters: a lower-case accented letter inside a
    word scores up; an upper-case letter right after a lower-case one
    ("JosÈ"), punctuation between two letters ("Pe–a"), rare symbols ("ƒ"),
    control characters and runs of three non-ASCII letters score down.  An
    apostrophe scores up in "O’Brien" and "don’t" only.
    """
    score = 0.0
    length = len(text)
    for index, ch in enumerate(text):
        if ch < "\x80":
            continue
        prev = text[index - 1] if index else " "
        nxt = text[index + 1] if index + 1 < length else " "
        if ch in _RARE_CHARS:
            score -= 3
            continue
        category = unicodedata.category(ch)
        if category[0] == "C":
            score -= 10
            continue
        if category == "Ll":
            if ch in _UNCOMMON_LETTERS:
                score += 0.5
            else:
                score += 2 if (prev.isalpha() or nxt.isalpha()) else 0.5
            if prev.isupper() and index >= 2 and text[index - 2].isupper():
                score -= 4  # "JOSé"
            if nxt.isupper():
                score -= 4  # "OíBrien"
        elif category == "Lu":
            if prev.islower():
                score -= 4  # "JosÈ"
            else:
                score += 0.5 if ch in _UNCOMMON_LETTERS else 1
        elif category[0] in "PS":
            if ch in "’‘" and prev.isalpha() and nxt.isalpha():
                if nxt.isupper() or _CONTRACTION_RE.match(text, index + 1):
                    score += 2  # "O’Brien", "don’t"
            elif ch in _COMMON_MARKS:
                if prev.isalpha() and nxt.isalpha():
                    score -= 3  # "Pe–a"
                else:
                    score += 0.5
            else:
                score -= 2
        if (
            ch.isalpha()
            and index >= 2
            and prev >= "\x80"
            and prev.isalpha()
            and text[index - 2] >= "\x80"
            and text[index - 2].isalpha()
        ):
            score -= 3  # three accented letters in a row: another alphabet
    return score


def _ascii_compatible(encoding: str) -> bool:
    probe = "Serial,Asset;Tag|\t0\r\n"
    try:
        return probe.encode(encoding) == probe.encode("ascii")
    except (LookupError, UnicodeError):
        return False


def _single_byte(encoding: str) -> bool:
    """True for a code page with one byte per character (not CJK and the like)."""
    try:
        return len(bytes(range(256)).decode(encoding, "replace")) == 256
    except LookupError:
        return False


def _guess_legacy(sample: bytes) -> str:
    """Choose a single-byte code page for bytes that are not UTF-8.

    Windows-1252 and Mac Roman are scored by :func:`_latin_score` (a tie goes
    to Windows-1252).  Only when neither reads as Western text is
    charset-normalizer asked (its opinion on a small sample is weak, and it
    cannot tell these two apart); its first single-byte, ASCII-compatible
    answer that decodes the sample is taken, else the better of the two.
    """
    scores: dict[str, float] = {}
    for candidate in ("cp1252", "mac_roman"):
        try:
            scores[candidate] = _latin_score(sample.decode(candidate))
        except UnicodeDecodeError:
            scores[candidate] = -math.inf
    best = "cp1252" if scores["cp1252"] >= scores["mac_roman"] else "mac_roman"
    if scores[best] > 0:
        return best
    try:
        from charset_normalizer import from_bytes

        matches = list(from_bytes(sample))
    except (ValueError, LookupError, RuntimeError):  # pragma: no cover - not fatal
        matches = []
    for match in matches[:8]:
        if not match.encoding:
            continue
        guess = codecs.lookup(match.encoding).name
        if _single_byte(guess) and _ascii_compatible(guess):
            try:
                sample.decode(guess)
            except UnicodeDecodeError:
                continue
            return guess
    return best


def _line_of(data: bytes, offset: int) -> int:
    """1-based line number of byte ``offset`` in ``data``."""
    return len(_NEWLINE_BYTES_RE.findall(data, 0, offset)) + 1


def _utf8_votes(data: bytes) -> tuple[int, int]:
    """(valid non-ASCII characters, invalid bytes) when ``data`` is read as UTF-8."""
    text = data.decode("utf-8", "replace")
    invalid = text.count("\ufffd")
    valid = sum(1 for ch in text if ch >= "\x80") - invalid
    return valid, invalid


def _detect_encoding(head: bytes, complete: bool) -> str:
    """Encoding of a file from its first bytes.

    Returns "utf-8-sig", "utf-16", "utf-32", "utf-16-le"/"utf-16-be" (no BOM),
    "utf-8" (the sample is valid UTF-8; the rest is checked while streaming),
    or a legacy code page such as "cp1252" / "mac_roman".
    Raises FileFormatError for binary data and for UTF-8 with stray bytes.
    """
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "utf-32"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" in head:
        even_zeros = head[0::2].count(0)
        odd_zeros = head[1::2].count(0)
        half = max(len(head) // 2, 1)
        if odd_zeros > half * 0.3 and even_zeros < half * 0.05:
            return "utf-16-le"
        if even_zeros > half * 0.3 and odd_zeros < half * 0.05:
            return "utf-16-be"
        raise FileFormatError(
            f"line {_line_of(head, head.index(0))}: a NUL byte; this looks like a binary file, not a CSV text file"
        )
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=complete)
        return "utf-8"
    except UnicodeDecodeError as error:
        valid, invalid = _utf8_votes(head)
        if valid > invalid:
            raise FileFormatError(
                f"line {_line_of(head, error.start)}: byte 0x{head[error.start]:02X} is "
                "not UTF-8 although the rest of the file is; the file mixes "
                "encodings: save it again as CSV UTF-8"
            ) from None
    return _guess_legacy(head)


class _BadBytes(Exception):
    """Raised by the decoding generators; turned into a FileFormatError with a
    line number by :func:`_split_lines`."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _decode_fixed(chunks: Iterable[bytes], encoding: str) -> Iterator[str]:
    decoder = codecs.getincrementaldecoder(encoding)()
    for chunk in chunks:
        try:
            text = decoder.decode(chunk)
        except UnicodeDecodeError as error:
            with contextlib.suppress(UnicodeDecodeError):
                yield chunk[: error.start].decode(encoding)
            raise _BadBytes(f"a byte sequence that is not valid {encoding} ({error.reason})") from None
        if text:
            yield text
    try:
        tail = decoder.decode(b"", final=True)
    except UnicodeDecodeError as error:
        raise _BadBytes(f"the file ends inside a {encoding} character ({error.reason})") from None
    if tail:
        yield tail


def _decode_utf8_lazily(chunks: Iterable[bytes], table: Table) -> Iterator[str]:
    """Decode as strict UTF-8; when an invalid byte appears after ASCII-only
    text, switch to a legacy code page for the rest (ASCII reads the same in
    all of them) and record it in ``table.encoding``."""
    carry = b""
    seen_non_ascii = 0
    iterator = iter(chunks)
    for chunk in iterator:
        data = carry + chunk
        carry = b""
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as error:
            if error.end == len(data) and error.reason == "unexpected end of data":
                carry = data[error.start :]
                text = data[: error.start].decode("utf-8")
            else:
                prefix = data[: error.start].decode("utf-8")
                valid, invalid = _utf8_votes(data)
                if seen_non_ascii + valid > invalid:
                    yield prefix
                    raise _BadBytes(
                        f"byte 0x{data[error.start]:02X} is not UTF-8 although "
                        "earlier lines are; the file mixes encodings: save it "
                        "again as CSV UTF-8"
                    ) from None
                legacy = _guess_legacy(data)
                table._switch_encoding(legacy)
                yield from _decode_fixed(_chain([data], iterator), legacy)
                return
        seen_non_ascii += sum(1 for ch in text if ch >= "\x80") if not text.isascii() else 0
        if text:
            yield text
    if carry:
        if seen_non_ascii:
            raise _BadBytes("the file ends inside a UTF-8 character")
        legacy = _guess_legacy(carry)
        table._switch_encoding(legacy)
        yield from _decode_fixed([carry], legacy)


def _chain(first: Iterable[bytes], rest: Iterator[bytes]) -> Iterator[bytes]:
    yield from first
    yield from rest


#: Consecutive blank lines handed on as one :class:`_Blanks` by :func:`_split_lines_runs`.
_BLANK_RUN_MIN = 8


class _Blanks:
    """A run of physical lines that are blank records (nothing but spaces, tabs and
    delimiters): ``text`` as read (newlines untranslated), ``count`` lines. Reading a file
    padded with millions of blank lines costs a few regular-expression scans, not a Python
    step per line; inside a quoted field the run is handed on line by line."""

    __slots__ = ("count", "text")

    def __init__(self, text: str, count: int) -> None:
        self.text = text
        self.count = count

    def lines(self) -> list[str]:
        return [part + "\n" for part in _NEWLINE_RE.split(self.text)[:-1]]


class _BlankRuns:
    """Finds the runs of blank lines of a text (see :class:`_Blanks`) for one delimiter."""

    def __init__(self, delimiter: str) -> None:
        cells = " \t" + (delimiter if delimiter not in " \t" else "")
        # After a line's newline, a stretch of nothing but blank cells and newlines, ending at
        # a newline: its newlines are counted, and short stretches are left to the line path.
        self.pattern = re.compile(rf"(?:\r\n|\r|\n)([{re.escape(cells)}\r\n]*[\r\n])")
        # A text without any of these has no blank line after a line's end (a cheap test: most
        # chunks of most files have none, and then the pattern is not run at all).
        self.markers = ("\n\n", "\r\r", "\n\r\n", *(nl + cell for nl in "\r\n" for cell in cells))

    def find(self, text: str) -> Iterator[tuple[int, int, int]]:
        """(start, stop, lines) of each run of at least ``_BLANK_RUN_MIN`` blank lines."""
        if not any(marker in text for marker in self.markers):
            return
        for match in self.pattern.finditer(text):
            run = match.group(1)
            count = run.count("\n") + run.count("\r") - run.count("\r\n")
            if count >= _BLANK_RUN_MIN:
                yield match.start(1), match.end(1), count


def _split_lines(texts: Iterable[str]) -> Iterator[str]:
    """Physical lines, each ending in "\\n" (CRLF, LF and CR-only all accepted
    and translated), except possibly the last one.  Streams: holds at most one
    partial line."""
    for line in _split(texts, None):
        assert isinstance(line, str)
        yield line


def _split_lines_runs(texts: Iterable[str], delimiter: str) -> Iterator[str | _Blanks]:
    """:func:`_split_lines`, but runs of blank lines (see :class:`_Blanks`) come as one item."""
    return _split(texts, _BlankRuns(delimiter))


def _split(texts: Iterable[str], blank_runs: _BlankRuns | None) -> Iterator[str | _Blanks]:
    buffer = ""
    emitted = 0
    iterator = iter(texts)
    while True:
        try:
            chunk = next(iterator)
        except StopIteration:
            break
        except _BadBytes as error:
            line = emitted + 1 + (1 if buffer.endswith("\r") else 0)
            raise FileFormatError(f"line {line}: {error.message}") from None
        if not chunk:
            continue
        text = buffer + chunk
        held_cr = text.endswith("\r")  # may be the first half of CRLF
        if held_cr:
            text = text[:-1]
        position = 0
        if blank_runs is not None:
            for start, stop, count in blank_runs.find(text):
                for match in _NEWLINE_RE.finditer(text, position, start):
                    yield text[position : match.start()] + "\n"
                    emitted += 1
                    position = match.end()
                yield _Blanks(text[start:stop], count)
                emitted += count
                position = stop
        for match in _NEWLINE_RE.finditer(text, position):
            yield text[position : match.start()] + "\n"
            emitted += 1
            position = match.end()
        buffer = text[position:] + ("\r" if held_cr else "")
        if len(buffer) > _MAX_LINE:
            raise FileFormatError(
                f"line {emitted + 1} is longer than {_MAX_LINE // (1024 * 1024)} MiB; "
                "this does not look like a CSV file"
            )
    position = 0
    for match in _NEWLINE_RE.finditer(buffer):
        yield buffer[position : match.start()] + "\n"
        position = match.end()
    if position < len(buffer):
        yield buffer[position:]


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


def _csv_records(lines: Iterable[str | _Blanks], delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """(start line, cells) for each record, blank records included — except the runs of
    blank lines :func:`_split_lines_runs` gives as one item between records: they are
    skipped (counted for the line numbers)."""
    consumed = 0  # physical lines read so far
    start = 0  # the line the current record starts on (0: none read yet)

    def feed() -> Iterator[str]:
        nonlocal consumed, start
        for item in lines:
            if isinstance(item, _Blanks):
                if not start:  # between records: blank records, which nobody keeps
                    consumed += item.count
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
        return value
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
    except (InvalidFileException, zipfile.BadZipFile, KeyError) as error:
        raise FileFormatError(
            f"not a readable Excel .xlsx workbook ({error}); is it a zip, an .ods or a damaged file?"
        ) from None


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
        if self.encoding == "xlsx":
            for line, cells, numeric in _xlsx_records(self._source.seekable_file(), self.sheet):
                if line <= layout.header_line:
                    continue
                row = layout.row(cells, line, numeric)
                if row is not None:
                    yield row
            return
        assert self.delimiter is not None
        for line, cells in _csv_records(_split_lines_runs(self._decode(), self.delimiter), self.delimiter):
            if line <= layout.header_line:
                continue
            row = layout.row(cells, line)
            if row is not None:
                yield row

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

    Raises FileFormatError: empty file, no header, duplicate headers after
    normalization, a header too long for the first 64 KiB, .xls / HTML /
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
    if not complete and lines and not lines[-1].endswith("\n"):
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
