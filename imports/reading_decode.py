"""Bytes to text lines: byte sources, encoding detection and decoding, line splitting with
runs of blank lines (moved from ``imports.reading``, which re-exports every name). No Django."""

from __future__ import annotations

import codecs
import contextlib
import math
import os
import re
import tempfile
import unicodedata
from collections.abc import Iterable, Iterator
from typing import IO, TYPE_CHECKING

from imports.reading_base import (
    _CHUNK_SIZE,
    _MAX_LINE,
    _NEWLINE_BYTES_RE,
    _NEWLINE_RE,
    FileFormatError,
)

if TYPE_CHECKING:
    from imports.reading import Table

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

    The Western code pages districts' spreadsheets are written in — Windows-1252, Mac Roman,
    and Latin-1 for bytes Windows-1252 leaves undefined — are scored by :func:`_latin_score`
    (a tie goes to Windows-1252, then Mac Roman). One that reads as Western text, or at least
    not as the wrong alphabet (a score of 0: e.g. only "½" or "°"), is taken. Only when every
    one reads as another alphabet is charset-normalizer asked (its opinion on a small sample
    is weak: "Room 2½" came back as Urdu cp1006); its first single-byte, ASCII-compatible
    answer that decodes the sample is taken, else the best Western one.
    """
    scores: dict[str, float] = {}
    for candidate in ("cp1252", "mac_roman", "latin_1"):
        try:
            scores[candidate] = _latin_score(sample.decode(candidate))
        except UnicodeDecodeError:
            scores[candidate] = -math.inf
    if scores["cp1252"] > -math.inf:
        del scores["latin_1"]  # the same letters where both decode; cp1252 has more of them
    best = max(scores, key=lambda name: scores[name])  # the first of equals: cp1252 first
    if scores[best] >= 0:
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


#: One line with its line break.
_LINE_RE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)")

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
        """The run's lines, each with its own line break as written."""
        return _LINE_RE.findall(self.text)


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
    """Physical lines, each ending in its line break as written (CRLF, LF or CR alone), except
    possibly the last one. The break is kept, not translated: a line break inside a quoted
    field is part of the value, and the value keeps it as the file has it (a note written
    with Windows line endings reads back unchanged). Streams: holds at most one partial line."""
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
                    yield text[position : match.end()]
                    emitted += 1
                    position = match.end()
                yield _Blanks(text[start:stop], count)
                emitted += count
                position = stop
        for match in _NEWLINE_RE.finditer(text, position):
            yield text[position : match.end()]
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
        yield buffer[position : match.end()]
        position = match.end()
    if position < len(buffer):
        yield buffer[position:]
