"""What any import says about the file as a whole (issue #8, Imports): repeated and blank
headers, the encoding it was guessed to be in, blank rows skipped, line breaks inside quoted
fields kept as written, a file with a header and no rows."""

from __future__ import annotations

from pathlib import Path

import pytest

from imports.models import ImportRun
from imports.reading import _guess_legacy, encoding_label, open_table
from imports.tests.device_files import errors, issues, run_file, write
from inventory.models import Device

Status = ImportRun.Status
HEADER = "Asset Tag,Serial Number,Manufacturer,Model Name,Category,Status,Current Site Code,Purchase Cost,Notes"


def make(tmp_path: Path, data: bytes, name: str = "input.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# --------------------------------------------------------------------------- the reader


def test_a_repeated_header_is_recorded_and_the_first_column_read(tmp_path):
    table = open_table(make(tmp_path, b"Asset Tag,Serial Number,Name,serial number\nT1,S1,A,S9\n"))
    assert [r.describe() for r in table.duplicates] == ["'Serial Number' (column 2) and 'serial number' (column 4)"]
    assert table.headers == ["Asset Tag", "Serial Number", "Name"]
    assert [r.values for r in table.rows()] == [{"assettag": "T1", "serialnumber": "S1", "name": "A"}]


def test_values_under_a_blank_header_are_counted_not_fatal(tmp_path):
    table = open_table(make(tmp_path, b"Serial,,Name\nS1,,A\nS2,oops,B\nS3,x,C\n"))
    assert [r.values["name"] for r in table.rows()] == ["A", "B", "C"]
    assert table.stray_values == [(2, 3, 2)]  # column 2, first on line 3, two rows
    list(table.rows())
    assert table.stray_values == [(2, 3, 2)]  # counted again from the start, not added up


def test_a_line_break_inside_a_quoted_field_is_kept_as_written(tmp_path):
    data = b'Tag,Notes\r\nA,"dented\r\nscreen ok"\r\nB,"one\rtwo"\r\nC,"lf\nonly"\r\n'
    table = open_table(make(tmp_path, data))
    rows = list(table.rows())
    assert [r.values["notes"] for r in rows] == ["dented\r\nscreen ok", "one\rtwo", "lf\nonly"]
    assert [r.line for r in rows] == [2, 4, 6]


def test_blank_rows_between_data_rows_are_counted(tmp_path):
    data = b"A,B\n1,2\n\n,\n3,4\n" + b"\n" * 20 + b"5,6\n,\n\n"
    table = open_table(make(tmp_path, data))
    assert len(list(table.rows())) == 3
    assert table.blank_rows == 22  # the trailing ones after the last row are not "skipped rows"


def test_a_guessed_encoding_is_named(tmp_path):
    table = open_table(make(tmp_path, "Name,Room\nJosé Peña,Café\n".encode("mac_roman")))
    list(table.rows())
    assert table.encoding == "mac_roman" and table.encoding_guessed
    assert encoding_label(table.encoding).startswith("Mac Roman")
    utf8 = open_table(make(tmp_path, "Name\nJosé\n".encode()))
    assert not utf8.encoding_guessed


@pytest.mark.parametrize("sample", [b"Name\nRoom 2\xbd\n", b"Name,Size\nMonitor,27\xb0\n", b"Tag\nA1 \xa9 2020\n"])
def test_western_code_pages_are_preferred_to_exotic_guesses(sample):
    """Before: "Room 2½" was guessed as Urdu (cp1006), the degree sign as Japanese (cp932)."""
    assert _guess_legacy(sample) in ("cp1252", "mac_roman", "latin_1")


# --------------------------------------------------------------------------- the pipeline

pytestmark_db = pytest.mark.django_db


@pytestmark_db
def test_a_repeated_column_the_import_does_not_read_is_a_warning(tmp_path, world):
    path = write(
        tmp_path / "d.csv", "T-9,S9,Acme,Z1,Tablets,In stock,A,,,x,y", header=HEADER + ",Sticker Color,sticker color"
    )
    run = run_file(path, "csv")
    assert run.status == Status.DONE, issues(run)
    warning = next(reason for _, column, _, reason in issues(run) if column == "sticker color")
    assert "repeats the column 'Sticker Color' (column 10)" in warning and "ignored" in warning
    assert Device.objects.filter(asset_tag="T-9").exists()


@pytestmark_db
def test_a_repeated_column_the_import_reads_is_a_file_error_and_other_rows_still_checked(tmp_path, world):
    path = write(
        tmp_path / "d.csv",
        "T-9,S9,Acme,Z1,Tablets,In stock,A,,,S9b",
        "T-10,S10,Acme,Z1,Tablets,Sideways,A,-5,,",
        header=HEADER + ",serial number",
    )
    run = run_file(path, "csv", mode="valid_rows")
    assert run.status == Status.REJECTED
    found = errors(run)
    file_errors = [reason for line, _, _, reason in found if line is None]
    assert len(file_errors) == 1
    assert "'Serial Number' (column 2) and 'serial number' (column 10)" in file_errors[0]
    rows = {(line, column) for line, column, _, _ in found if line is not None}
    assert {(3, "Status"), (3, "Purchase Cost")} <= rows  # fixed in one round trip
    from imports.selectors import import_columns_unmatched

    assert not import_columns_unmatched(run=run)  # mapping the columns cannot tell the two apart
    assert not Device.objects.filter(asset_tag="T-9").exists()


@pytestmark_db
def test_a_value_under_a_blank_header_is_a_warning_and_the_rows_import(tmp_path, world):
    path = write(tmp_path / "d.csv", "T-9,S9,Acme,Z1,Tablets,In stock,A,,,stray", header=HEADER + ",")
    run = run_file(path, "csv")
    assert run.status == Status.DONE, issues(run)
    assert any("blank header in column 10" in reason for *_, reason in issues(run))


@pytestmark_db
def test_the_run_says_the_encoding_it_guessed_and_the_blank_rows_it_skipped(tmp_path, world):
    path = write(
        tmp_path / "d.csv", "T-9,S9,Acme,Z1,Tablets,In stock,A,,Café", "", ",,,", "T-10,S10,Acme,Z1,Tablets,In stock,A,,",
        header=HEADER, encoding="mac_roman",
    )  # fmt: skip
    run = run_file(path, "csv")
    assert run.status == Status.DONE, issues(run)
    notes = " ".join(run.notes)
    assert "read as Mac Roman" in notes and "2 blank row(s) skipped" in notes
    assert Device.objects.get(asset_tag="T-9").notes == "Café"


@pytestmark_db
def test_a_header_only_file_says_it_has_no_rows(tmp_path, world):
    run = run_file(write(tmp_path / "d.csv", header=HEADER), "csv")
    assert run.status == Status.REJECTED
    assert "has a header but no rows" in errors(run)[0][3]


@pytestmark_db
def test_a_quoted_windows_line_break_in_notes_is_imported_as_written(tmp_path, world):
    data = (HEADER + '\r\nT-9,S9,Acme,Z1,Tablets,In stock,A,,"dented\r\nscreen ok"\r\n').encode()
    run = run_file(make(tmp_path, data), "csv")
    assert run.status == Status.DONE, issues(run)
    assert Device.objects.get(asset_tag="T-9").notes == "dented\r\nscreen ok"


@pytestmark_db
def test_a_model_number_damaged_by_a_spreadsheet_is_a_row_error_as_a_serial_is(tmp_path, world):
    path = write(
        tmp_path / "d.csv",
        "T-9,S9,Acme,Z1,Tablets,In stock,A,,,8.2E+11",
        "T-10,S10,Acme,Z2,Tablets,In stock,A,,,82J9",
        header=HEADER + ",Model Number",
    )
    run = run_file(path, "csv", mode="valid_rows")
    found = {(line, column): (value, reason) for line, column, value, reason in errors(run)}
    assert found[(2, "Model Number")][0] == "8.2E+11" and "scientific notation" in found[(2, "Model Number")][1]
    assert Device.objects.filter(asset_tag="T-10").exists() and not Device.objects.filter(asset_tag="T-9").exists()


@pytestmark_db
def test_a_damaged_model_number_does_not_hide_the_rows_other_problems(tmp_path, world):
    """Issue #8: the preview lists every problem of a row, so a user fixes everything in one
    round trip: the model number Excel damaged and the unknown site of the same row."""
    path = write(
        tmp_path / "d.csv",
        "T-9,S9,Acme,Z1,Tablets,In stock,NOWHERE,,,8.2E+11",
        header=HEADER + ",Model Number",
    )
    run = run_file(path, "csv", mode="valid_rows")
    found = {(line, column): (value, reason) for line, column, value, reason in errors(run)}
    assert "scientific notation" in found[(2, "Model Number")][1]
    assert found[(2, "Current Site Code")][0] == "NOWHERE"
    assert len([key for key in found if key[0] == 2]) == 2
    assert not Device.objects.filter(asset_tag="T-9").exists()


def test_a_zip_uploaded_as_a_spreadsheet_is_said_in_words(tmp_path):
    """Before: "not a readable Excel .xlsx workbook (openpyxl does not support .zip file format…)"."""
    import zipfile

    from imports.reading import FileFormatError

    for name in ("devices.xlsx", "devices.csv"):
        path = tmp_path / name
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("devices.csv", "Asset Tag\nT1\n")
        with pytest.raises(FileFormatError) as caught:
            open_table(path)
        message = str(caught.value)
        assert "openpyxl" not in message and "is a zip file (it holds devices.csv)" in message
