"""The spreadsheet side of the exports: openpyxl workbooks of the export tables.

Kept apart from ``exports`` so that openpyxl (a quarter of a second to import)
loads only when a workbook is written: a repair at 7:45 or a feed refresh does
not pay for it.  ``exports.write_xlsx`` and ``exports.write_workbook`` save
these workbooks atomically.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from scheduler.outputs.cells import Grid, Header, Row, Table, neutralise

MIN_WIDTH, MAX_WIDTH = 8, 60
HEADER_FONT = Font(bold=True)
WRAP = Alignment(wrap_text=True, vertical="top")
SHORT_FILL = PatternFill(fill_type="solid", start_color="FFC7CE", end_color="FFC7CE")


def _xlsx_value(value: object) -> str | int | float | None:
    """A cell as a workbook value: numbers stay numbers, text loses bytes Excel rejects."""
    if isinstance(value, Decimal):
        return float(value)
    if value is None or (isinstance(value, int | float) and not isinstance(value, bool)):
        return value
    return str(neutralise(ILLEGAL_CHARACTERS_RE.sub("", str(value))))


def _fill_sheet(sheet: Worksheet, header: Header, rows: Sequence[Row]) -> None:
    """Header in bold and frozen, the rows below, money and hours with two decimals."""
    sheet.append([_xlsx_value(h) for h in header])
    for cell in sheet[1]:
        cell.font = HEADER_FONT
    sheet.freeze_panes = "A2"
    for number, row in enumerate(rows, start=2):
        sheet.append([_xlsx_value(v) for v in row])
        # By position: asking the sheet for its last row walks every cell (quadratic).
        for column, value in enumerate(row, start=1):
            if isinstance(value, Decimal):
                sheet.cell(row=number, column=column).number_format = "0.00"
    _fit_widths(sheet, header, rows)


def _fit_widths(sheet: Worksheet, header: Header, rows: Sequence[Row]) -> None:
    """Columns wide enough to read their longest cell, within sensible bounds."""
    for i, title in enumerate(header):
        longest = max([len(str(title))] + [len(str(row[i] or "")) for row in rows])
        width = min(MAX_WIDTH, max(MIN_WIDTH, longest + 2))
        sheet.column_dimensions[get_column_letter(i + 1)].width = width


def _mark(sheet: Worksheet, cells: Iterable[tuple[int, int]]) -> None:
    """Highlight cells given as 0-based (data row, column) positions below the header."""
    for r, c in cells:
        cell = sheet.cell(row=r + 2, column=c + 1)
        cell.fill = SHORT_FILL


def rota_workbook(tables: dict[str, Table], by_site: Grid) -> Workbook:
    """One sheet per export, shortfalls highlighted, plus the by-site grid."""
    workbook = plain_workbook(tables)
    if "coverage" in tables:
        header, rows = tables["coverage"]
        column = header.index("shortfall")
        _mark(workbook["coverage"], [(r, column) for r, row in enumerate(rows) if row[column]])
    grid_header, grid_rows, marks = by_site
    grid = workbook.create_sheet("by site")
    _fill_sheet(grid, grid_header, grid_rows)
    for row in grid.iter_rows(min_row=2, min_col=3):
        for cell in row:
            cell.alignment = WRAP
    _mark(grid, marks)
    return workbook


def plain_workbook(tables: dict[str, Table]) -> Workbook:
    """A workbook of plain tables: one sheet each, header bold and frozen."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for name, (header, rows) in tables.items():
        _fill_sheet(workbook.create_sheet(name), header, rows)
    return workbook
