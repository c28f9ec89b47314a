"""Tests for imports.values: plain pytest, no database."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from imports.reading import open_table
from imports.values import (
    DATE_ORDERS,
    parse_bool,
    parse_date,
    parse_datetime,
    parse_identifier,
    parse_int,
    parse_list,
    parse_money,
)

REAL_DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "real"

# ---------------------------------------------------------------- parse_date


@pytest.mark.parametrize(
    ("text", "order", "expected"),
    [
        ("2024-05-01", "MDY", date(2024, 5, 1)),
        ("2024-05-01", "DMY", date(2024, 5, 1)),
        (" 2024-05-01 ", "MDY", date(2024, 5, 1)),
        ("2024-05-01T13:22:11.123Z", "MDY", date(2024, 5, 1)),
        ("2024-05-01T23:30:00-05:00", "DMY", date(2024, 5, 1)),  # the date as written
        ("2017-05-06 08:01:05", "MDY", date(2017, 5, 6)),
        ("2024/5/1", "DMY", date(2024, 5, 1)),
        ("1/23/23", "MDY", date(2023, 1, 23)),
        ("01/23/2023", "MDY", date(2023, 1, 23)),
        ("1-23-2023", "MDY", date(2023, 1, 23)),
        ("1.23.2023", "MDY", date(2023, 1, 23)),
        ("23/01/2023", "DMY", date(2023, 1, 23)),
        ("23.01.23", "DMY", date(2023, 1, 23)),
        ("10/27/28", "MDY", date(2028, 10, 27)),
        ("12/31/68", "MDY", date(2068, 12, 31)),
        ("1/1/69", "MDY", date(1969, 1, 1)),
        ("1/23/2023 0:00", "MDY", date(2023, 1, 23)),
        ("3/4/2024", "MDY", date(2024, 3, 4)),
        ("3/4/2024", "DMY", date(2024, 4, 3)),
    ],
)
def test_parse_date(text: str, order: str, expected: date) -> None:
    assert parse_date(text, order=order) == expected


@pytest.mark.parametrize("text", ["", "   ", "\u00a0"])
def test_parse_date_blank(text: str) -> None:
    assert parse_date(text) is None


def test_parse_date_impossible_under_order_is_not_guessed() -> None:
    with pytest.raises(ValueError) as caught:
        parse_date("13/01/2024")
    assert str(caught.value) == "expected a date as YYYY-MM-DD or MM/DD/YYYY, got '13/01/2024'"
    with pytest.raises(ValueError, match=r"or DD/MM/YYYY, got '01/13/2024'"):
        parse_date("01/13/2024", order="DMY")


@pytest.mark.parametrize(
    "text", ["2/30/2024", "2024-02-30", "May 1", "1/23", "1/23-2023", "2024-05-01T99:00", "20240501", "tomorrow"]
)
def test_parse_date_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="expected a date"):
        parse_date(text)


def test_parse_date_unknown_order() -> None:
    assert DATE_ORDERS == ("MDY", "DMY")
    with pytest.raises(ValueError, match="date order"):
        parse_date("1/2/2024", order="YMD")


# ---------------------------------------------------------------- parse_datetime


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-01T13:22:11.123Z", datetime(2024, 5, 1, 13, 22, 11, 123000, tzinfo=UTC)),
        ("2024-05-01T13:22:11Z", datetime(2024, 5, 1, 13, 22, 11, tzinfo=UTC)),
        ("2024-05-01T13:22:11.123456789Z", datetime(2024, 5, 1, 13, 22, 11, 123456, tzinfo=UTC)),
        ("2024-05-01T08:22:11-05:00", datetime(2024, 5, 1, 13, 22, 11, tzinfo=UTC)),
        ("2024-05-01T18:22:11+0500", datetime(2024, 5, 1, 13, 22, 11, tzinfo=UTC)),
        ("2024-05-01T13:22:11", datetime(2024, 5, 1, 13, 22, 11, tzinfo=UTC)),
        ("2017-05-06 08:01:05", datetime(2017, 5, 6, 8, 1, 5, tzinfo=UTC)),
        ("2024-05-01", datetime(2024, 5, 1, tzinfo=UTC)),
        ("1714569731123", datetime(2024, 5, 1, 13, 22, 11, 123000, tzinfo=UTC)),
        ("999999999999", datetime(2001, 9, 9, 1, 46, 39, 999000, tzinfo=UTC)),
    ],
)
def test_parse_datetime(text: str, expected: datetime) -> None:
    parsed = parse_datetime(text)
    assert parsed == expected
    assert parsed is not None and parsed.utcoffset() is not None and parsed.utcoffset().total_seconds() == 0


def test_parse_datetime_blank() -> None:
    assert parse_datetime("") is None
    assert parse_datetime("  ") is None


@pytest.mark.parametrize(
    "text", ["yesterday", "1714569731", "17145697311234", "2024-05-01T25:00:00Z", "5/1/2024 13:22", "2024-05-01T13"]
)
def test_parse_datetime_rejects(text: str) -> None:
    with pytest.raises(ValueError, match=r"expected a date-time as YYYY-MM-DDTHH:MM:SSZ, got"):
        parse_datetime(text)


def test_parse_datetime_on_real_oneroster_orgs() -> None:
    path = REAL_DATA / "oneroster-1.1-sample" / "orgs.csv"
    if not path.exists():
        pytest.skip(f"{path} is absent")
    table = open_table(path)
    key = table.column("dateLastModified")
    assert key is not None
    parsed = [parse_datetime(row.values[key]) for row in table.rows()]
    assert parsed == [datetime(2017, 5, 6, 8, 1, 5, tzinfo=UTC), None]


def test_parse_date_on_real_snipe_assets() -> None:
    path = REAL_DATA / "snipe-it" / "assets-sample.csv"
    if not path.exists():
        pytest.skip(f"{path} is absent")
    table = open_table(path)
    purchased = table.column("Purchase Date")
    cost = table.column("Purchase Cost")
    assert purchased and cost
    rows = list(table.rows())
    dates = [parse_date(row.values[purchased]) for row in rows]
    costs = [parse_money(row.values[cost]) for row in rows]
    assert dates[0] == date(2023, 1, 23)
    assert costs[0] == Decimal("2266.13")
    assert all(d is None or isinstance(d, date) for d in dates)


# ---------------------------------------------------------------- parse_money


@pytest.mark.parametrize(
    ("text", "decimal_comma", "expected"),
    [
        ("$1,234.50", False, Decimal("1234.50")),
        ("1234.5", False, Decimal("1234.50")),
        (" 289 ", False, Decimal("289.00")),
        ("USD 289.00", False, Decimal("289.00")),
        ("289.00 usd", False, Decimal("289.00")),
        ("$ 1,234,567", False, Decimal("1234567.00")),
        ("0.005", False, Decimal("0.01")),  # ROUND_HALF_UP
        ("0.004", False, Decimal("0.00")),
        ("2.675", False, Decimal("2.68")),  # a float would give 2.67
        (".5", False, Decimal("0.50")),
        ("1.234,50", True, Decimal("1234.50")),
        ("289,00", True, Decimal("289.00")),
        ("1 234,5", True, Decimal("1234.50")),
        ("€ 12", True, Decimal("12.00")),
        ("1.234", True, Decimal("1234.00")),
    ],
)
def test_parse_money(text: str, decimal_comma: bool, expected: Decimal) -> None:
    result = parse_money(text, decimal_comma=decimal_comma)
    assert result == expected
    assert result is not None and result.as_tuple().exponent == -2


def test_parse_money_blank() -> None:
    assert parse_money("") is None
    assert parse_money(" ", decimal_comma=True) is None


@pytest.mark.parametrize("text", ["-5", "-$5", "$-5.00", "(5.00)", "5-"])
def test_parse_money_negative(text: str) -> None:
    with pytest.raises(ValueError, match="expected an amount of 0 or more"):
        parse_money(text)


@pytest.mark.parametrize(
    ("text", "decimal_comma"),
    [
        ("abc", False),
        ("1,5", False),
        ("12,34.5", False),
        ("1e3", False),
        ("ABC12", False),
        ("289.00", True),
        ("$", False),
    ],
)
def test_parse_money_rejects(text: str, decimal_comma: bool) -> None:
    with pytest.raises(ValueError, match=r"expected an amount like"):
        parse_money(text, decimal_comma=decimal_comma)


# ---------------------------------------------------------------- parse_identifier


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0041873", "0041873"),
        ("  5CD1234XYZ\t", "5CD1234XYZ"),
        ("\u200bICC-2065556\ufeff", "ICC-2065556"),
        ("", ""),
        ("   ", ""),
        ("12E45", "12E45"),  # a serial, not Excel's notation (no sign)
        ("1786VM80X07", "1786VM80X07"),
    ],
)
def test_parse_identifier(text: str, expected: str) -> None:
    assert parse_identifier(text) == expected


@pytest.mark.parametrize("text", ["6.37702E+15", "1.23e+11", " 6E+15 ", "4.5E-05"])
def test_parse_identifier_scientific_notation(text: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_identifier(text)
    assert str(caught.value) == (
        f"looks like Excel changed this identifier into scientific notation ({text.strip()}); "
        "export the column as text and try again"
    )


# ---------------------------------------------------------------- parse_bool, parse_int, parse_list


@pytest.mark.parametrize("text", ["true", "TRUE", "True", "yes", "Y", "1", "t", " T "])
def test_parse_bool_true(text: str) -> None:
    assert parse_bool(text) is True


@pytest.mark.parametrize("text", ["false", "FALSE", "No", "n", "0", "F"])
def test_parse_bool_false(text: str) -> None:
    assert parse_bool(text) is False


def test_parse_bool_blank_and_bad() -> None:
    assert parse_bool("") is None
    with pytest.raises(ValueError, match=r"expected true or false .*got 'maybe'"):
        parse_bool("maybe")


@pytest.mark.parametrize(
    ("text", "expected"), [("42", 42), (" 007 ", 7), ("-3", -3), ("+5", 5), ("1,200", 1200), ("", None)]
)
def test_parse_int(text: str, expected: int | None) -> None:
    assert parse_int(text) == expected


@pytest.mark.parametrize("text", ["4.5", "ten", "1,20", "1e3"])
def test_parse_int_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="expected a whole number"):
        parse_int(text)


def test_parse_int_minimum() -> None:
    assert parse_int("0", minimum=0) == 0
    with pytest.raises(ValueError, match=r"at least 0, got '-1'"):
        parse_int("-1", minimum=0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("a,b, c", ["a", "b", "c"]), ("sch1", ["sch1"]), ("", []), (" ", []), ("a,,b,", ["a", "b"])],
)
def test_parse_list(text: str, expected: list[str]) -> None:
    assert parse_list(text) == expected


# ---------------------------------------------------------------- identifiers a spreadsheet stored as numbers


@pytest.mark.parametrize("text", ["6377020000000000", "123456789012345678", "100000000000000000000"])
def test_a_numeric_identifier_longer_than_excel_keeps_is_refused(text: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_identifier(text, numeric=True)
    assert str(caught.value) == (
        f"was stored by Excel as a number with {len(text)} digits, and Excel keeps only "
        "15: the last digits may be lost; format the column as text in Excel and export again"
    )
    assert parse_identifier(text) == text  # the same text in a CSV is an identifier like any other


@pytest.mark.parametrize("text", ["41873", "123456789012345", "0.5"])
def test_a_numeric_identifier_of_up_to_15_digits_is_kept(text: str) -> None:
    assert parse_identifier(text, numeric=True) == text
