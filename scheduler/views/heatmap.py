"""The week's coverage heatmap: sites by sessions, each cell a symbol, numbers and a colour."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from scheduler.checks.validator import CoverageLine
from scheduler.domain import (
    DAY_NAMES,
    Bundle,
    Site,
)

# --------------------------------------------------------------------------- heatmap


@dataclass(frozen=True)
class Column:
    """One session of the week: a date and a session type that runs on it."""

    date: dt.date
    session_id: str

    @property
    def day(self) -> str:
        """``Tue 2026-12-01``, weekday names in English whatever the locale."""
        return f"{DAY_NAMES[self.date.weekday()]} {self.date.isoformat()}"


def week_columns(bundle: Bundle, dates: Sequence[dt.date]) -> list[Column]:
    """The sessions of the week in time order: by date, then session start."""
    ordered = sorted(bundle.session_types, key=lambda s: (s.start, s.session_id))
    return [Column(day, s.session_id) for day in dates for s in ordered if s.runs_on(day)]


def columns_by_date(columns: Sequence[Column]) -> list[tuple[dt.date, str, int]]:
    """(date, day label, number of sessions) for the date header row of a table."""
    counts: dict[dt.date, int] = defaultdict(int)
    labels: dict[dt.date, str] = {}
    for column in columns:
        counts[column.date] += 1
        labels[column.date] = column.day
    return [(day, labels[day], counts[day]) for day in sorted(counts)]


@dataclass(frozen=True)
class HeatCell:
    """A site's demand rows for one session, added up.

    ``status`` is ``short`` (a min unmet), ``min`` (every min met, a target
    not), ``target`` (every target met), ``none`` (nothing asked for that day) or
    ``idle`` (a session the site never runs in the week: another site's, such as a
    minor injuries unit's day shift in a practice's row; shown empty).
    """

    column: Column
    status: str
    min: int
    target: int
    assigned: int
    short: int

    @property
    def symbol(self) -> str:
        """A mark that says the same as the colour, for readers who cannot see it."""
        return {"short": "✗", "min": "◑", "target": "✓", "idle": ""}.get(self.status, "·")

    @property
    def text(self) -> str:
        """The count beside the mark: how many short, else assigned of target."""
        if self.status == "idle":
            return ""
        if self.status == "none":
            return "no need"
        if self.status == "short":
            return f"{self.short} short"
        return f"{self.assigned}/{self.target}"


@dataclass(frozen=True)
class HeatRow:
    """One site's row of the heatmap."""

    site: Site
    cells: tuple[HeatCell, ...]

    @property
    def short(self) -> int:
        return sum(cell.short for cell in self.cells)


def cover_status(lines: Sequence[CoverageLine]) -> str:
    """How a session's needs stand: ``short`` (a minimum unmet), ``target`` (every target
    met) or ``min`` (minimums met, a target not); the heatmap and the board both say so."""
    if any(line.shortfall for line in lines):
        return "short"
    return "target" if all(line.assigned >= line.target for line in lines) else "min"


def heat_cell(column: Column, lines: Sequence[CoverageLine]) -> HeatCell:
    """Add up the coverage lines of one site and session into a cell."""
    if not lines:
        return HeatCell(column, "none", 0, 0, 0, 0)
    short = sum(line.shortfall for line in lines)
    status = cover_status(lines)
    return HeatCell(
        column,
        status,
        min=sum(line.min for line in lines),
        target=sum(line.target for line in lines),
        assigned=sum(line.assigned for line in lines),
        short=short,
    )


def heatmap(
    bundle: Bundle, columns: Sequence[Column], coverage: Iterable[CoverageLine]
) -> list[HeatRow]:
    """Sites by sessions of the week, each cell from the validator's coverage lines."""
    lines: dict[tuple[str, dt.date, str], list[CoverageLine]] = defaultdict(list)
    runs: set[tuple[str, str]] = set()  # (site, session) with a need on some date of the week
    for line in coverage:
        lines[(line.site_id, line.date, line.session_id)].append(line)
        runs.add((line.site_id, line.session_id))
    return [
        HeatRow(
            site,
            tuple(
                heat_cell(c, lines.get((site.site_id, c.date, c.session_id), []))
                if (site.site_id, c.session_id) in runs
                else HeatCell(c, "idle", 0, 0, 0, 0)
                for c in columns
            ),
        )
        for site in bundle.sites
    ]


def needed_columns(columns: Sequence[Column], coverage: Iterable[CoverageLine]) -> list[Column]:
    """The columns some site needs someone in: a session nobody runs that day is left out."""
    asked = {(line.date, line.session_id) for line in coverage}
    return [c for c in columns if (c.date, c.session_id) in asked]
