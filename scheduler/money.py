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
