"""The cells and tables every export is made of, and the guard on their text.

Every text cell is neutralised against formula injection (OWASP "CSV
injection"): names and ids come from uploaded files, and a cell such as
``=HYPERLINK(...)`` must reach a manager's spreadsheet as text, never as a
formula.  Shared by the CSV writers (``exports``) and the workbooks
(``workbook``).
"""

from __future__ import annotations

from decimal import Decimal

Cell = str | int | Decimal | None
Header = tuple[str, ...]
Row = tuple[Cell, ...]
Table = tuple[Header, list[Row]]
Grid = tuple[Header, list[Row], set[tuple[int, int]]]  # the by-site grid and its marked cells

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """Prefix an apostrophe to text a spreadsheet would run as a formula; numbers pass."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
