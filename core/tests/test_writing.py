"""Tests for core.writing: plain pytest, no database."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from core.writing import FORMULA_PREFIXES, csv_stream, neutralize, xlsx_write
from imports.reading import Row, open_table

# ---------------------------------------------------------------- neutralize


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ""),
        ("", ""),
        ("0041873", "0041873"),
        ("José", "José"),
        (42, "42"),
        (Decimal("1234.50"), "1234.50"),
        (Decimal("1E+3"), "1000"),
        (date(2024, 5, 1), "2024-05-01"),
        (datetime(2024, 5, 1, 13, 22, 11, tzinfo=UTC), "2024-05-01T13:22:11+00:00"),
        (datetime(2024, 5, 1, 13, 22, 11), "2024-05-01T13:22:11"),
        (True, "TRUE"),
        (2.5, "2.5"),
        (3.0, "3"),
        (Decimal("-5.00"), "-5.00"),  # numbers cannot carry a formula
        (-3, "-3"),
    ],
)
def test_neutralize_plain(value: object, expected: str) -> None:
    assert neutralize(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=SUM(A1:A9)", "'=SUM(A1:A9)"),
        ("+1-555-0100", "'+1-555-0100"),
        ("-2+3", "'-2+3"),
        ("@cmd", "'@cmd"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ('=HYPERLINK("http://x","click")', '\'=HYPERLINK("http://x","click")'),
    ],
)
def test_neutralize_formulas(value: str, expected: str) -> None:
    assert neutralize(value) == expected


def test_formula_prefixes() -> None:
    assert FORMULA_PREFIXES == ("=", "+", "-", "@", "\t", "\r")
    for prefix in FORMULA_PREFIXES:
        assert neutralize(prefix + "x") == "'" + prefix + "x"


# ---------------------------------------------------------------- csv_stream


def test_csv_stream_bytes() -> None:
    rows = [
        ["0041873", 'Macbook Pro 13"', "Kunde, Doyle and Kozey", "line1\nline2", Decimal("289.00")],
        ["=cmd|' /C calc'!A0", None, "José", "", date(2024, 5, 1)],
    ]
    data = b"".join(csv_stream(["Asset Tag", "Model", "Supplier", "Notes", "Cost"], rows))
    assert data.startswith(b"\xef\xbb\xbfAsset Tag,Model,Supplier,Notes,Cost\r\n")
    assert (
        data
        == (
            "\ufeffAsset Tag,Model,Supplier,Notes,Cost\r\n"
            '0041873,"Macbook Pro 13""","Kunde, Doyle and Kozey","line1\nline2",289.00\r\n'
            "'=cmd|' /C calc'!A0,,José,,2024-05-01\r\n"
        ).encode()
    )


def test_csv_stream_is_lazy() -> None:
    pulled: list[int] = []

    def rows() -> Iterator[Sequence[object]]:
        for i in range(50_000):
            pulled.append(i)
            yield [f"{i:07d}", "Chromebook"]

    stream = csv_stream(["Asset Tag", "Model"], rows())
    first = next(stream)
    assert first == b"\xef\xbb\xbfAsset Tag,Model\r\n"
    assert pulled == []
    second = next(stream)
    assert 0 < len(pulled) < 50_000
    assert second.startswith(b"0000000,Chromebook\r\n")
    assert len(second) < 64 * 1024
    rest = b"".join(stream)
    assert len(pulled) == 50_000
    assert rest.endswith(b"0049999,Chromebook\r\n")


def test_csv_stream_empty() -> None:
    assert list(csv_stream(["A"], [])) == [b"\xef\xbb\xbfA\r\n"]


def test_csv_stream_rejects_ragged_rows() -> None:
    with pytest.raises(ValueError, match="row 2 has 1 values but there are 2 headers"):
        list(csv_stream(["A", "B"], [["1", "2"], ["3"]]))


def test_csv_round_trip_through_reader() -> None:
    rows = [["0041873", "x, y", 'q"uote'], ["007", "multi\r\nline", "=1+1"]]
    data = b"".join(csv_stream(["Asset Tag", "Notes", "Formula"], rows))
    table = open_table(io.BytesIO(data), filename="export.csv")
    assert table.encoding == "utf-8-sig"
    assert list(table.rows()) == [
        Row(2, {"assettag": "0041873", "notes": "x, y", "formula": 'q"uote'}),
        Row(3, {"assettag": "007", "notes": "multi\r\nline", "formula": "'=1+1"}),  # kept as written
    ]


# ---------------------------------------------------------------- xlsx_write


def test_xlsx_cells_are_text() -> None:
    from openpyxl import load_workbook

    buffer = io.BytesIO()
    xlsx_write(
        ["Asset Tag", "Status", "Formula", "Cost", "Bell\x07"],
        [["0041873", "#N/A", "=SUM(A1)", Decimal("289.00"), "x\x00y"]],
        buffer,
        sheet_title="Devices: 2024/25 [all]",
    )
    buffer.seek(0)
    workbook = load_workbook(buffer)
    sheet = workbook.active
    assert sheet.title == "Devices_ 2024_25 _all_"
    header = [c.value for c in sheet[1]]
    cells = list(sheet[2])
    assert header == ["Asset Tag", "Status", "Formula", "Cost", "Bell"]
    assert sheet["A1"].font.bold
    assert [c.value for c in cells] == ["0041873", "#N/A", "=SUM(A1)", 289, "xy"]
    text = [c for i, c in enumerate(cells) if i != 3]
    assert all(c.data_type == "s" for c in text)
    assert all(c.number_format == "@" for c in text)
    assert cells[3].data_type == "n" and cells[3].number_format == "#,##0.00"  # money is a number


def test_xlsx_is_laid_out_for_a_spreadsheet_user() -> None:
    """Numbers as numbers, dates and date-times as Excel dates (the wall-clock time given, in
    the caller's time zone), the header frozen with an auto-filter, columns sized to the text."""
    from zoneinfo import ZoneInfo

    from openpyxl import load_workbook

    chicago = ZoneInfo("America/Chicago")
    buffer = io.BytesIO()
    written = xlsx_write(
        ["Tag", "Count", "Cost", "Day", "At", "Loaner", "A rather long header", "Big id"],
        [
            [
                "T-1",
                3,
                Decimal("1289.50"),
                date(2024, 5, 1),
                datetime(2024, 5, 1, 22, 30, 5, tzinfo=chicago),
                True,
                "x" * 200,
                12345678901234567,
            ],
            ["T-2", None, None, None, None, False, "", 7],
        ],  # fmt: skip
        buffer,
    )
    assert written == 2
    buffer.seek(0)
    sheet = load_workbook(buffer).active
    row = list(sheet[2])
    assert [c.value for c in row[:6]] == [
        "T-1", 3, Decimal("1289.50"), datetime(2024, 5, 1), datetime(2024, 5, 1, 22, 30, 5), True
    ]  # fmt: skip
    assert row[3].is_date and row[3].number_format == "yyyy-mm-dd"
    assert row[4].is_date and row[4].number_format == "yyyy-mm-dd hh:mm:ss"
    assert row[7].value == "12345678901234567" and row[7].data_type == "s"  # beyond Excel's 15 digits
    assert sheet["B3"].value is None and sheet["H3"].value == 7
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:H3"
    widths = {letter: sheet.column_dimensions[letter].width for letter in "ADEG"}
    assert widths["A"] == 8 and widths["D"] == 12 and widths["E"] == 21 and widths["G"] == 60


def test_xlsx_keeps_carriage_returns() -> None:
    """XML turns a raw CR into LF; the cell text keeps it as OOXML's _x000D_, read back as CR
    (a note typed in a browser has CRLF line breaks)."""
    from core.writing import xlsx_text, xlsx_unescape

    for text in ("a\r\nb", "old Mac\rline", "literal _x000D_ and _x005F_", "plain"):
        assert xlsx_unescape(xlsx_text(text)) == text
    buffer = io.BytesIO()
    xlsx_write(["Notes"], [["Screen cracked\r\nCase replaced"]], buffer)
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "Screen cracked_x000D_\nCase replaced" in sheet


def test_xlsx_formula_is_a_string_cell_without_apostrophe() -> None:
    """XLSX: a string cell is never evaluated, so "=1+1" stays as it is (no visible ') and
    is stored as a shared string, not a formula."""
    import zipfile

    from openpyxl import load_workbook

    buffer = io.BytesIO()
    xlsx_write(["Notes", "Other"], [["=1+1", "+2"], ["-3-4", "@SUM(A1)"]], buffer)
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as archive:
        sheet_xml = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml and "<f " not in sheet_xml
    buffer.seek(0)
    sheet = load_workbook(buffer).active
    cell = sheet["A2"]
    assert cell.data_type == "s" and cell.value == "=1+1"
    assert [(c.value, c.data_type) for c in sheet[3]] == [("-3-4", "s"), ("@SUM(A1)", "s")]
    assert sheet["B2"].value == "+2" and sheet["B2"].data_type == "s"


def test_xlsx_round_trip_preserves_leading_zeros() -> None:
    buffer = io.BytesIO()
    xlsx_write(["Student Number", "Serial"], [["000123", "0041873"], ["0", "1.0"]], buffer)
    buffer.seek(0)
    table = open_table(buffer)
    assert table.sheet == "Export"
    assert [r.values for r in table.rows()] == [
        {"studentnumber": "000123", "serial": "0041873"},
        {"studentnumber": "0", "serial": "1.0"},
    ]


def test_xlsx_write_streams_a_generator() -> None:
    buffer = io.BytesIO()
    xlsx_write(["N"], ([f"{i:05d}"] for i in range(2000)), buffer)
    buffer.seek(0)
    values = [r.values["n"] for r in open_table(buffer).rows()]
    assert values[0] == "00000" and values[-1] == "01999" and len(values) == 2000


def test_xlsx_write_rejects_ragged_rows() -> None:
    with pytest.raises(ValueError, match="row 1 has 3 values"):
        xlsx_write(["A", "B"], [["1", "2", "3"]], io.BytesIO())
