"""Money and hours as every figure shows them: two decimals, halves rounded up.

Exports, pages, reports and proposals all round the same way, so a total on
a page is the total in the spreadsheet.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENTS = Decimal("0.01")
SECONDS_PER_HOUR = 3600


def cents(value: Decimal) -> Decimal:
    """Two decimals, halves up, as the exports round money and hours."""
    return value.quantize(CENTS, rounding=ROUND_HALF_UP)


def hours_of(seconds: float) -> Decimal:
    """Seconds as hours with two decimals."""
    return cents(Decimal(seconds) / SECONDS_PER_HOUR)


def pounds(value: Decimal | float | int) -> str:
    """Money as every page writes it: ``£1,234.50``; a refund takes a minus sign."""
    amount = cents(Decimal(str(value)))
    sign = "−" if amount < 0 else ""
    return f"{sign}£{abs(amount):,.2f}"


def pounds_change(value: Decimal | float | int) -> str:
    """A change of money: ``+£382.50``, a saving with a minus sign, nothing as ``£0.00``."""
    amount = cents(Decimal(str(value)))
    return f"+{pounds(amount)}" if amount > 0 else pounds(amount)


def counted(number: int, noun: str, plural: str | None = None) -> str:
    """``1 session``, ``5 sessions``: one way to write counts everywhere."""
    return f"{number} {noun if number == 1 else (plural or noun + 's')}"
