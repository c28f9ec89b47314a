"""Money helpers (core/money.py): Decimal to the cent, half-up on final amounts, never float."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.money import format_money, parse_money, to_cents


@pytest.mark.parametrize(
    ("value", "cents"),
    [
        (Decimal("2.345"), Decimal("2.35")),
        (Decimal("2.344"), Decimal("2.34")),
        (Decimal("-2.345"), Decimal("-2.35")),
        (Decimal("0.005"), Decimal("0.01")),
        (12, Decimal("12.00")),
        ("1.005", Decimal("1.01")),  # float(1.005) is 1.00499…: a float would round down
    ],
)
def test_to_cents_rounds_half_up(value, cents):
    result = to_cents(value)
    assert result == cents
    assert result.as_tuple().exponent == -2


def test_to_cents_refuses_floats_and_non_numbers():
    with pytest.raises(TypeError, match="never a float"):
        to_cents(1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not an amount"):
        to_cents("twelve")
    with pytest.raises(ValueError, match="not an amount"):
        to_cents(Decimal("NaN"))


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("12", Decimal("12.00")),
        (" $1,234.5 ", Decimal("1234.50")),
        ("-3.10", Decimal("-3.10")),
        ("0.99", Decimal("0.99")),
        (".5", Decimal("0.50")),
        ("289.", Decimal("289.00")),
    ],
)
def test_parse_money(text, amount):
    assert parse_money(text) == amount


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "not an amount of money"),
        ("abc", "not an amount of money"),
        ("1,23", "not an amount of money"),
        ("$", "not an amount of money"),
        ("1e3", "not an amount of money"),
        ("12.345", "more than two decimal places"),
    ],
)
def test_parse_money_refuses_with_a_message(text, message):
    with pytest.raises(ValueError, match=message):
        parse_money(text)


def test_format_money():
    assert format_money(Decimal("1234.5")) == "$1,234.50"
    assert format_money(Decimal("-3.1")) == "-$3.10"
    assert format_money(Decimal("0.004")) == "$0.00"
