"""Money helpers: amounts are ``Decimal`` in US dollars, never ``float``.

The rule (issue #7, "`core` gains … money helpers (Decimal to the cent, half-up rounding on
final amounts only)"): compute with exact ``Decimal`` values and round once, half-up to the
cent, when an amount is final (a fee charged, a total shown) — never in between, so a sum of
rounded parts cannot drift from the rounded whole.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")

_MONEY_TEXT = re.compile(r"^(?P<sign>-)?\$?(?P<digits>\d{1,3}(?:,\d{3})+|\d+)?(?P<cents>\.\d*)?$")


def to_cents(value: Decimal | int | str) -> Decimal:
    """``value`` rounded half-up to the cent: ``to_cents(Decimal("2.345")) == Decimal("2.35")``,
    ``to_cents(Decimal("-2.345")) == Decimal("-2.35")`` (half away from zero).

    For final amounts only (issue #7). Accepts ``Decimal``, ``int`` or a decimal string;
    a ``float`` raises ``TypeError`` (binary fractions are not cents), a non-number
    ``ValueError``.
    """
    if isinstance(value, float | bool):
        raise TypeError("Money is never a float; pass a Decimal or a string such as '12.50'.")
    try:
        amount = value if isinstance(value, Decimal) else Decimal(value)
    except InvalidOperation as exc:
        raise ValueError(f"'{value}' is not an amount of money.") from exc
    if not amount.is_finite():
        raise ValueError(f"'{value}' is not an amount of money.")
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def parse_money(text: str) -> Decimal:
    """An amount typed by a person or read from a file, to the cent: ``"$1,234.5"`` →
    ``Decimal("1234.50")``; ``"12"`` → ``Decimal("12.00")``; ``"-3.10"`` → ``Decimal("-3.10")``.

    Leading and trailing spaces, a dollar sign and thousands separators (groups of three) are
    accepted. More than two decimal places are refused rather than rounded (a typed amount is
    what the person meant, to the cent). Raises ``ValueError`` with a message that can be shown
    to the person next to the field.
    """
    if not isinstance(text, str):
        raise TypeError("parse_money reads text; use to_cents for numbers.")
    cleaned = text.strip()
    match = _MONEY_TEXT.match(cleaned)
    if not cleaned or match is None or not (match["digits"] or (match["cents"] or ".")[1:]):
        raise ValueError(f"'{text.strip()}' is not an amount of money; write it like 12.50 or $1,234.00.")
    cents = match["cents"] or ""
    if len(cents) > 3:
        raise ValueError(f"'{text.strip()}' has more than two decimal places; amounts are to the cent.")
    digits = (match["digits"] or "0").replace(",", "")
    return to_cents(Decimal(f"{match['sign'] or ''}{digits}{cents if cents != '.' else ''}"))


def format_money(value: Decimal) -> str:
    """``Decimal("1234.5")`` → ``"$1,234.50"``; negative amounts as ``"-$3.10"``. Rounds
    half-up to the cent (for showing a final amount)."""
    amount = to_cents(value)
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,.2f}"
