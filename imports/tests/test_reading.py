"""Tests for imports.reading: plain pytest, no database, tiny files made here."""

from __future__ import annotations

import csv
import io
import tracemalloc
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pytest

from core.writing import xlsx_write
from imports.reading import (
    FileFormatError,
    Row,
    _guess_legacy,
    _split_lines,
    normalize_header,
    open_table,
)

REAL_DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "real"


def make(tmp_path: Path, data: bytes, name: str = "input.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def read(path_or_stream, **kwargs) -> tuple:
    table = open_table(path_or_stream, **kwargs)
    return table, list(table.rows())


# ---------------------------------------------------------------- headers


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Serial Number", "serialnumber"),
        ("serialNumber", "serialnumber"),
        ("recentUsers.0.email", "recentusers.0.email"),
        ("Model No.", "modelno"),
        (" \ufeffSourcedId ", "sourcedid"),
        ("Serial\u00a0Number", "serialnumber"),
        ("\u200bAsset\u200d Tag", "assettag"),
        ("School_id", "schoolid"),
        ("Número de serie", "numerodeserie"),
        ("Warranty (months)", "warrantymonths"),
        ("..metadata.x..", "metadata.x"),
        ("#", ""),
    ],
)
def test_normalize_header(text: str, key: str) -> None:
    assert normalize_header(text) == key


# ---------------------------------------------------------------- encodings


def test_utf8_without_bom(tmp_path: Path) -> None:
    table, rows = read(make(tmp_path, "Serial Number,Asset Tag,Name\nABC1,0041873,Zoë\n".encode()))
    assert table.encoding == "utf-8"
    assert table.delimiter == ","
    assert table.headers == ["Serial Number", "Asset Tag", "Name"]
    assert table.keys == ["serialnumber", "assettag", "name"]
    assert rows == [Row(2, {"serialnumber": "ABC1", "assettag": "0041873", "name": "Zoë"})]


def test_utf8_with_bom(tmp_path: Path) -> None:
    data = "\ufeffsourcedId,givenName\nu1,José\n".encode()
    table, rows = read(make(tmp_path, data))
    assert table.encoding == "utf-8-sig"
    assert table.headers == ["sourcedId", "givenName"]
    assert table.keys == ["sourcedid", "givenname"]
    assert rows == [Row(2, {"sourcedid": "u1", "givenname": "José"})]


@pytest.mark.parametrize("encoding", ["cp1252", "mac_roman"])
def test_legacy_encodings_are_told_apart(tmp_path: Path, encoding: str) -> None:
    data = "First Name,Last Name\nJosé,Peña\nFrançois,Müller\n".encode(encoding)
    table, rows = read(make(tmp_path, data))
    assert table.encoding == encoding
    assert [r.values for r in rows] == [
        {"firstname": "José", "lastname": "Peña"},
        {"firstname": "François", "lastname": "Müller"},
    ]


@pytest.mark.parametrize("encoding", ["cp1252", "mac_roman"])
@pytest.mark.parametrize("name", ["José", "JOSÉ", "O’Brien", "Björn", "García", "Noël"])
def test_guess_legacy_single_names(encoding: str, name: str) -> None:
    assert _guess_legacy(f"name\n{name}\n".encode(encoding)) == encoding


def test_guess_legacy_asks_charset_normalizer_for_other_alphabets() -> None:
    text = (
        "Name,City,School\n"
        "Γιώργος Παπαδόπουλος,Αθήνα,Γυμνάσιο Καλαμαριάς\n"
        "Μαρία Κωνσταντίνου,Θεσσαλονίκη,Λύκειο Πυλαίας\n"
    )
    assert _guess_legacy(text.encode("cp1253")) == "cp1253"


def test_ascii_sample_then_cp1252_switches_lazily(tmp_path: Path) -> None:
    filler = "".join(f"SN{i:06d},Plain ASCII name\n" for i in range(5000))  # > 64 KiB
    data = ("Serial,Name\n" + filler + "SN999999,José Peña\n").encode("cp1252")
    table = open_table(make(tmp_path, data))
    assert table.encoding == "utf-8"  # the sample was plain ASCII
    rows = list(table.rows())
    assert table.encoding == "cp1252"
    assert rows[-1] == Row(5002, {"serial": "SN999999", "name": "José Peña"})
    assert len(rows) == 5001


def test_utf8_then_stray_byte_names_the_line(tmp_path: Path) -> None:
    filler = "".join(f"SN{i:06d},Zoë\n" for i in range(8000))  # > 64 KiB, UTF-8
    data = ("Serial,Name\n" + filler).encode() + b"SN1,Jos\xe9\n"
    table = open_table(make(tmp_path, data))
    with pytest.raises(FileFormatError, match=r"line 8002: byte 0xE9 is not UTF-8"):
        list(table.rows())


def test_mixed_encoding_in_sample_is_an_error(tmp_path: Path) -> None:
    data = "Name\nZoë\nRenée\n".encode() + b"Jos\xe9\n"
    with pytest.raises(FileFormatError, match=r"line 4: byte 0xE9 is not UTF-8"):
        open_table(make(tmp_path, data))


def test_utf16_with_bom_tab_delimited(tmp_path: Path) -> None:
    # What Excel writes for "Unicode Text".
    data = "Serial Number\tName\r\n00123\tJosé\r\n".encode("utf-16")
    table, rows = read(make(tmp_path, data, "export.txt"))
    assert table.encoding == "utf-16"
    assert table.delimiter == "\t"
    assert rows == [Row(2, {"serialnumber": "00123", "name": "José"})]


def test_binary_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FileFormatError, match="binary"):
        open_table(make(tmp_path, b"Serial,Name\nA\x00\x01\x02,B\n"))


def test_old_xls_is_refused(tmp_path: Path) -> None:
    data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100
    with pytest.raises(FileFormatError, match=r"\.xls"):
        open_table(make(tmp_path, data, "devices.xls"))


def test_html_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FileFormatError, match="web page"):
        open_table(make(tmp_path, b"<!DOCTYPE html><html><body>x</body></html>"))


# ---------------------------------------------------------------- delimiters


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiters(tmp_path: Path, delimiter: str) -> None:
    lines = ["deviceId", "serialNumber", "annotatedAssetId"], ["d-1", "5CD1", "0042"]
    data = "".join(delimiter.join(cells) + "\n" for cells in lines).encode()
    table, rows = read(make(tmp_path, data))
    assert table.delimiter == delimiter
    assert table.keys == ["deviceid", "serialnumber", "annotatedassetid"]
    assert rows == [Row(2, {"deviceid": "d-1", "serialnumber": "5CD1", "annotatedassetid": "0042"})]


def test_delimiter_when_header_has_two_candidates(tmp_path: Path) -> None:
    # GAM with ";" where a header text holds a comma: the sniffer decides.
    data = b"deviceId;notes, misc;serialNumber\nd1;a;S1\nd2;b;S2\nd3;c, d;S3\n"
    table, rows = read(make(tmp_path, data))
    assert table.delimiter == ";"
    assert table.keys == ["deviceid", "notesmisc", "serialnumber"]
    assert rows[2].values == {"deviceid": "d3", "notesmisc": "c, d", "serialnumber": "S3"}


def test_quoted_delimiter_in_header_is_not_counted(tmp_path: Path) -> None:
    data = b'"Checked Out To; Name"|Asset Tag\nAna|0001\n'
    table, rows = read(make(tmp_path, data))
    assert table.delimiter == "|"
    assert table.headers == ["Checked Out To; Name", "Asset Tag"]


def test_single_column_file(tmp_path: Path) -> None:
    table, rows = read(make(tmp_path, b"Serial Number\nA1\nA2\n"))
    assert table.delimiter == ","
    assert [r.values for r in rows] == [{"serialnumber": "A1"}, {"serialnumber": "A2"}]


# ---------------------------------------------------------------- line endings and quoting


@pytest.mark.parametrize("newline", ["\r\n", "\n", "\r"], ids=["CRLF", "LF", "CR"])
def test_line_endings_and_embedded_newline(tmp_path: Path, newline: str) -> None:
    text = newline.join(
        [
            "Asset Tag,Notes,Cost",
            'A1,"screen cracked,' + newline + 'keyboard ""sticky""",289.00',
            "A2,ok,1",
            "",
            "A3,,",
        ]
    )
    table, rows = read(make(tmp_path, (text + newline).encode()))
    assert [r.line for r in rows] == [2, 4, 6]
    assert rows[0].values == {
        "assettag": "A1",
        "notes": "screen cracked," + newline + 'keyboard "sticky"',  # the line break as written
        "cost": "289.00",
    }
    assert rows[1].values["assettag"] == "A2"
    assert rows[2].values == {"assettag": "A3", "notes": "", "cost": ""}


def test_cr_only_split_across_chunks() -> None:
    chunks = ["a,b\r", "\r", "c,d\r", "\ne\r"]
    assert list(_split_lines(chunks)) == ["a,b\r", "\r", "c,d\r\n", "e\r"]  # breaks kept as written
    assert list(_split_lines(["x\ry"])) == ["x\r", "y"]


def test_rfc4180_quoting(tmp_path: Path) -> None:
    data = (
        b"Model,Manufacturer,Notes\r\n"
        b'"Macbook Pro 13""","Kunde, Doyle and Kozey",""\r\n'
        b'"multi\r\nline\r\nnote",x,"y ""quoted"" z"\r\n'
        b"after,the,multiline\r\n"
    )
    table, rows = read(make(tmp_path, data))
    assert rows[0].values == {
        "model": 'Macbook Pro 13"',
        "manufacturer": "Kunde, Doyle and Kozey",
        "notes": "",
    }
    assert rows[1].line == 3
    assert rows[1].values["model"] == "multi\r\nline\r\nnote"  # kept as written (issue #8)
    assert rows[1].values["notes"] == 'y "quoted" z'
    assert rows[2] == Row(6, {"model": "after", "manufacturer": "the", "notes": "multiline"})


def test_unclosed_quote_names_the_line(tmp_path: Path) -> None:
    data = b'Serial,Notes\nS1,ok\nS2,"never closed\nS3,x\n'
    table = open_table(make(tmp_path, data))
    with pytest.raises(FileFormatError, match=r"line 3 \(through line 4\): a quoted field"):
        list(table.rows())


def test_text_after_closing_quote_is_an_error(tmp_path: Path) -> None:
    table = open_table(make(tmp_path, b'Serial,Model\nS1,"13" laptop\n'))
    with pytest.raises(FileFormatError, match=r"line 2: bad quoting"):
        list(table.rows())


def test_cells_are_stripped_and_stay_text(tmp_path: Path) -> None:
    data = "Asset Tag,Serial,Cost\n  0041873 ,\u00a06.37702E+15\u200b, 0289.50 \n".encode()
    table, rows = read(make(tmp_path, data))
    assert rows[0].values == {"assettag": "0041873", "serial": "6.37702E+15", "cost": "0289.50"}


# ---------------------------------------------------------------- blank rows, columns, headers


def test_blank_rows_are_skipped(tmp_path: Path) -> None:
    data = b"\n\nSerial,Name\n\nS1,A\n,\n  ,  \nS2,B\n\n"
    table, rows = read(make(tmp_path, data))
    assert table.header_line == 3
    assert [(r.line, r.values["serial"]) for r in rows] == [(5, "S1"), (8, "S2")]


def test_trailing_empty_columns_are_ignored(tmp_path: Path) -> None:
    data = b"Serial,Name,,\nS1,A,,\nS2,B\nS3,C,,,,\n"
    table, rows = read(make(tmp_path, data))
    assert table.headers == ["Serial", "Name"]
    assert [r.values for r in rows] == [
        {"serial": "S1", "name": "A"},
        {"serial": "S2", "name": "B"},
        {"serial": "S3", "name": "C"},
    ]


def test_short_rows_get_empty_values(tmp_path: Path) -> None:
    table, rows = read(make(tmp_path, b"a,b,c\n1\n"))
    assert rows == [Row(2, {"a": "1", "b": "", "c": ""})]


def test_headers_differing_in_case_spacing_and_invisible_chars(tmp_path: Path) -> None:
    data = "\ufeff SERIAL\u00a0number ,\u200bAsset  Tag,model no.\nS1,T1,M1\n".encode()
    table, rows = read(make(tmp_path, data))
    assert table.headers == ["SERIAL number", "Asset Tag", "model no."]
    assert table.keys == ["serialnumber", "assettag", "modelno"]
    assert table.column("serialNumber") == "serialnumber"
    assert table.column("Model No.", "Model Number") == "modelno"
    assert table.column("Annotated Asset Id", "asset tag") == "assettag"
    assert table.column("Location") is None
    assert table.header("assettag") == "Asset Tag"
    assert table.position("modelno") == 3


def test_column_prefers_earlier_alias(tmp_path: Path) -> None:
    table = open_table(make(tmp_path, b"Model,Model Name\nx,y\n"))
    assert table.column("Model Name", "Model") == "modelname"
    assert table.column("Model", "Model Name") == "model"


def test_duplicate_headers_after_normalization(tmp_path: Path) -> None:
    """Not a reader error any more: recorded, and the importer decides (``Importer.check_headers``)."""
    data = b"Asset Tag,Serial Number,Name,Status,serial number\n"
    table = open_table(make(tmp_path, data))
    assert [r.describe() for r in table.duplicates] == ["'Serial Number' (column 2) and 'serial number' (column 5)"]


def test_blank_header_over_empty_column_is_fine(tmp_path: Path) -> None:
    table, rows = read(make(tmp_path, b"Serial,,Name\nS1,,A\nS2, ,B\n"))
    assert table.headers == ["Serial", "Name"]
    assert [r.values for r in rows] == [{"serial": "S1", "name": "A"}, {"serial": "S2", "name": "B"}]


def test_blank_header_over_data_names_line_and_column(tmp_path: Path) -> None:
    table = open_table(make(tmp_path, b"Serial,,Name\nS1,,A\nS2,oops,B\n"))
    assert len(list(table.rows())) == 2
    assert table.stray_values == [(2, 3, 1)]


def test_value_beyond_the_header_is_an_error(tmp_path: Path) -> None:
    table = open_table(make(tmp_path, b"Serial,Name\nS1,A,extra\n"))
    with pytest.raises(FileFormatError, match=r"line 2, column 3: a value \('extra'\) beyond"):
        list(table.rows())


def test_a_value_under_a_trailing_blank_header_counts_the_blank_header(tmp_path: Path) -> None:
    """QA 14_blank_header.csv: a header ending with a comma has 8 columns, the last without a
    name; a value under it was said to be beyond a header of 7 columns."""
    header = b"Asset Tag,Serial Number,Manufacturer,Model Name,Current Site Code,Purchase Date,Purchase Cost,"
    table = open_table(
        make(tmp_path, header + b"\nQA-N-001,QASERN001,Lenovo,100e,CLE-HS,2024-01-15,289.00,Caf\xc3\xa9 1\n")
    )
    assert len(list(table.rows())) == 1
    assert table.stray_values == [(8, 2, 1)]  # column 8, not "beyond a header of 7 columns"
    table = open_table(make(tmp_path, b"Serial,Name,,\nS1,A,,,extra\n"))
    with pytest.raises(FileFormatError, match=r"column 5: a value \('extra'\) beyond the last header \(the header has 4 columns\)"):  # fmt: skip
        list(table.rows())


def test_a_million_blank_lines_are_read_as_runs_not_line_by_line(tmp_path: Path, monkeypatch) -> None:
    """QA m_blank_20mb.zip: 20 MB of blank lines took minutes of CPU. Runs of blank lines between
    records go past the CSV parser as one piece; line numbers after them stay right, and blank
    lines inside a quoted cell are kept."""
    import imports.reading_formats as reading  # where the CSV records are parsed

    lines_parsed = 0
    real_reader = reading.csv.reader

    def counting_reader(lines, **kwargs):
        def count():
            nonlocal lines_parsed
            for line in lines:
                lines_parsed += 1
                yield line

        return real_reader(count(), **kwargs)

    monkeypatch.setattr(reading.csv, "reader", counting_reader)
    data = b"Serial,Notes\nS1,a\n" + b"\n" * 1_000_000 + b" , \r\n" * 1000 + b'S2,"x\n\n\n\n\n\n\n\n\n\ny"\n\n\nS3,b'
    table, rows = read(make(tmp_path, data))
    assert [(r.line, r.values["serial"]) for r in rows] == [(2, "S1"), (1_001_003, "S2"), (1_001_016, "S3")]
    assert rows[1].values["notes"] == "x\n\n\n\n\n\n\n\n\n\ny"
    assert lines_parsed < 100


def test_symbol_only_header_is_ignored(tmp_path: Path) -> None:
    table, rows = read(make(tmp_path, b"#,Serial\n1,S1\n"))
    assert table.keys == ["serial"]
    assert rows == [Row(2, {"serial": "S1"})]


@pytest.mark.parametrize("data", [b"", b"\n\n", b"\xef\xbb\xbf", b"  \r\n \t\r\n"])
def test_empty_file(tmp_path: Path, data: bytes) -> None:
    with pytest.raises(FileFormatError, match="empty"):
        open_table(make(tmp_path, data))


@pytest.mark.parametrize("data", [b"Serial,Name\n", b"Serial,Name", b"Serial,Name\r\n\r\n"])
def test_header_only_file(tmp_path: Path, data: bytes) -> None:
    table, rows = read(make(tmp_path, data))
    assert table.keys == ["serial", "name"]
    assert rows == []


# ---------------------------------------------------------------- sources


def test_seekable_stream_can_be_read_twice() -> None:
    stream = io.BytesIO(b"Serial;Name\nS1;A\n")
    table = open_table(stream, filename="upload.csv")
    assert list(table.rows()) == list(table.rows()) == [Row(2, {"serial": "S1", "name": "A"})]
    assert not stream.closed


class GeneratedStream(io.RawIOBase):
    """A non-seekable binary stream producing ``count`` CSV rows on the fly."""

    def __init__(self, count: int) -> None:
        self._lines = self._generate(count)
        self._pending = bytearray()

    @staticmethod
    def _generate(count: int) -> Iterator[bytes]:
        yield b"Asset Tag,Serial Number,Model\r\n"
        for i in range(count):
            yield f"{i:07d},SN{i:010d},Chromebook 3110 #{i}\r\n".encode()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        while len(self._pending) < len(buffer):
            try:
                self._pending += next(self._lines)
            except StopIteration:
                break
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        del self._pending[:size]
        return size


def test_non_seekable_stream_reads_once() -> None:
    table = open_table(io.BufferedReader(GeneratedStream(3)))
    assert [r.values["assettag"] for r in table.rows()] == ["0000000", "0000001", "0000002"]
    with pytest.raises(RuntimeError, match="only once"):
        list(table.rows())


@pytest.mark.slow
def test_rows_stream_with_flat_memory() -> None:
    count = 200_000  # about 9 MB of CSV
    tracemalloc.start()
    try:
        table = open_table(io.BufferedReader(GeneratedStream(count)))
        seen = 0
        last = None
        for row in table.rows():
            seen += 1
            last = row
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert seen == count
    assert last == Row(
        count + 1,
        {
            "assettag": f"{count - 1:07d}",
            "serialnumber": f"SN{count - 1:010d}",
            "model": f"Chromebook 3110 #{count - 1}",
        },
    )
    assert peak < 4 * 1024 * 1024, f"peak {peak} bytes"


# ---------------------------------------------------------------- XLSX


def test_xlsx_round_trip_keeps_text(tmp_path: Path) -> None:
    path = tmp_path / "export.xlsx"
    rows_in = [
        ["0041873", "5CD1234XYZ", "=HYPERLINK(1)", "#N/A", None],
        ["00007", "1.23e+11", "José", "TRUE", "289.50"],
    ]
    with path.open("wb") as handle:
        xlsx_write(["Asset Tag", "Serial Number", "Notes", "Status", "Cost"], rows_in, handle)
    table, rows = read(path)
    assert table.encoding == "xlsx"
    assert table.delimiter is None
    assert table.sheet == "Export"
    assert table.keys == ["assettag", "serialnumber", "notes", "status", "cost"]
    assert rows == [
        Row(
            2,
            {
                "assettag": "0041873",
                "serialnumber": "5CD1234XYZ",
                "notes": "=HYPERLINK(1)",  # a string cell: no apostrophe needed in XLSX
                "status": "#N/A",
                "cost": "",
            },
        ),
        Row(
            3,
            {
                "assettag": "00007",
                "serialnumber": "1.23e+11",
                "notes": "José",
                "status": "TRUE",
                "cost": "289.50",
            },
        ),
    ]


def _typed_workbook(path: Path) -> None:
    from openpyxl import Workbook

    workbook = Workbook()
    first = workbook.active
    first.title = "Notes"
    first.append(["not", "this", "sheet"])
    sheet = workbook.create_sheet("Devices")
    sheet.append(["Asset Tag", "Count", "Cost", "Purchased", "Last Sync", "Active", "Ratio", None])
    sheet.append([41873, 3.0, 289.5, date(2024, 5, 1), datetime(2024, 5, 1, 13, 22, 11), True, 1e-05])
    sheet.append([])
    sheet.append(["A-2", 12, 0.1, datetime(2023, 1, 23), None, False, 2.5])
    sheet["H5"] = None
    workbook.save(path)


def test_xlsx_values_become_text_without_damage(tmp_path: Path) -> None:
    path = tmp_path / "typed.xlsx"
    _typed_workbook(path)
    table, rows = read(path, sheet="Devices")
    assert table.sheet == "Devices"
    assert table.keys == ["assettag", "count", "cost", "purchased", "lastsync", "active", "ratio"]
    assert rows == [
        Row(
            2,
            {
                "assettag": "41873",
                "count": "3",
                "cost": "289.5",
                "purchased": "2024-05-01",
                "lastsync": "2024-05-01T13:22:11",
                "active": "TRUE",
                "ratio": "0.00001",
            },
        ),
        Row(
            4,
            {
                "assettag": "A-2",
                "count": "12",
                "cost": "0.1",
                "purchased": "2023-01-23",
                "lastsync": "",
                "active": "FALSE",
                "ratio": "2.5",
            },
        ),
    ]


def test_xlsx_cells_stored_as_numbers_are_told_apart(tmp_path: Path) -> None:
    from openpyxl import Workbook

    path = tmp_path / "numbers.xlsx"
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Asset Tag", "Serial", "Cost", "Bought", "Active", "Notes"])
    sheet.append([41873, 6377020000000000, 289.5, date(2024, 5, 1), True, "0041873"])
    sheet.append(["0041873", "5CD1", None, None, None, 12])
    workbook.save(path)
    table, rows = read(path)
    assert [r.values["assettag"] for r in rows] == ["41873", "0041873"]
    assert rows[0].values["serial"] == "6377020000000000"
    assert rows[0].numeric == {"assettag", "serial", "cost"}  # not the date, the boolean or the text
    assert rows[1].numeric == {"notes"}
    csv_table, csv_rows = read(make(tmp_path, b"Asset Tag\n41873\n"))
    assert csv_rows[0].numeric == frozenset()  # CSV cells are all text


def test_xlsx_first_sheet_by_default_and_from_stream(tmp_path: Path) -> None:
    path = tmp_path / "typed.xlsx"
    _typed_workbook(path)
    table, rows = read(io.BytesIO(path.read_bytes()))
    assert table.sheet == "Notes"
    assert table.keys == ["not", "this", "sheet"]
    assert rows == []


def test_xlsx_unknown_sheet(tmp_path: Path) -> None:
    path = tmp_path / "typed.xlsx"
    _typed_workbook(path)
    with pytest.raises(FileFormatError, match=r"no sheet named 'Staff'.*'Notes', 'Devices'"):
        open_table(path, sheet="Staff")


def test_xlsx_from_non_seekable_stream(tmp_path: Path) -> None:
    path = tmp_path / "export.xlsx"
    with path.open("wb") as handle:
        xlsx_write(["Serial"], [["0001"], ["0002"]], handle)

    class OneWay(io.RawIOBase):
        def __init__(self, data: bytes) -> None:
            self._data = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def readinto(self, buffer) -> int:  # type: ignore[override]
            chunk = self._data.read(len(buffer))
            buffer[: len(chunk)] = chunk
            return len(chunk)

    table, rows = read(io.BufferedReader(OneWay(path.read_bytes())))
    assert [r.values["serial"] for r in rows] == ["0001", "0002"]
    assert [r.values["serial"] for r in table.rows()] == ["0001", "0002"]


def test_zip_that_is_not_a_workbook(tmp_path: Path) -> None:
    import zipfile

    path = tmp_path / "oneroster.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("manifest.csv", "propertyName,value\n")
    with pytest.raises(FileFormatError, match=r"is a zip file \(it holds manifest.csv\), not an Excel workbook"):
        open_table(path)


def test_xlsx_name_without_workbook_content(tmp_path: Path) -> None:
    with pytest.raises(FileFormatError, match="named like an Excel workbook"):
        open_table(make(tmp_path, b"Serial\nS1\n", "devices.xlsx"))


# ---------------------------------------------------------------- real files


def _real_files() -> list[Path]:
    if not REAL_DATA.is_dir():
        return []
    return sorted(REAL_DATA.glob("*/*.csv"))


def _oracle_rows(path: Path) -> list[list[str]]:
    """Records by the standard csv module (independent of our reader)."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        records = [r for r in csv.reader(handle) if any(c.strip() for c in r)]
    return records[1:]


@pytest.mark.parametrize("path", _real_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_real_files(path: Path) -> None:
    table, rows = read(path)
    assert table.keys, "no headers found"
    assert len(table.keys) == len(set(table.keys))
    expected = _oracle_rows(path)
    assert len(rows) == len(expected)
    for row, record in zip(rows, expected, strict=True):
        assert list(row.values.values())[: len(record)] == [c.strip() for c in record][: len(row.values)]


def test_real_files_have_rows() -> None:
    files = _real_files()
    if not files:
        pytest.skip(f"{REAL_DATA} is absent")
    counts = {f"{p.parent.name}/{p.name}": len(list(open_table(p).rows())) for p in files}
    with_rows = [name for name, count in counts.items() if count > 0]
    assert "snipe-it/assets-sample.csv" in with_rows
    assert "oneroster-1.1-sample/users.csv" in with_rows
    assert len(with_rows) >= 8


def test_real_snipe_assets_details() -> None:
    path = REAL_DATA / "snipe-it" / "assets-sample.csv"
    if not path.exists():
        pytest.skip(f"{path} is absent")
    table, rows = read(path)
    assert table.encoding == "utf-8-sig"
    assert table.headers[0] == "Company"
    tag = table.column("Asset Tag")
    model = table.column("Model Name", "Model")
    supplier = table.column("Supplier")
    assert (tag, model, supplier) == ("assettag", "model", "supplier")
    assert rows[0].line == 2
    assert rows[0].values[tag] == "ICC-2065556"
    assert rows[0].values[model] == 'Macbook Pro 13"'
    assert rows[0].values[supplier] == "Kunde, Doyle and Kozey"


def test_real_oneroster_orgs_details() -> None:
    path = REAL_DATA / "oneroster-1.1-sample" / "orgs.csv"
    if not path.exists():
        pytest.skip(f"{path} is absent")
    table, rows = read(path)
    assert table.column("sourcedId") == "sourcedid"
    assert table.column("metadata.classification") == "metadata.classification"
    assert rows[0].values["datelastmodified"] == "2017-05-06 08:01:05"
    assert rows[1].values["datelastmodified"] == ""
