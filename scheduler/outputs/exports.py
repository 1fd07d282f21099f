"""Exports of a rota: rota.csv, coverage.csv, recharges.csv and a readable rota.xlsx.

Each export is built first as a header plus rows from the domain, then
written, so the CSV and the workbook can never disagree.  Every text cell is
neutralised against formula injection (OWASP "CSV injection"): names and ids
come from uploaded files, and a cell such as ``=HYPERLINK(...)`` must reach a
manager's spreadsheet as text, never as a formula.  Files are written to a
temporary file beside the target and moved into place, so a crash never
leaves half a file where the last good one was.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from scheduler.checks.rota_facts import session_bounds
from scheduler.checks.validator import CoverageLine
from scheduler.domain import Assignment, Bundle, iso_week_label
from scheduler.horizon import applicable_rows, bank_holiday_sites, duties
from scheduler.money import SECONDS_PER_HOUR, cents
from scheduler.outputs.cells import Cell, Grid, Header, Row, Table, neutralise

ROTA_HEADER: Header = (
    "week",
    "date",
    "session_id",
    "start",
    "end",
    "site_id",
    "staff_id",
    "role",
    "duty_start",  # optional columns of rotapool: the duty the session belongs to (format v2,
    "duty_end",  # rule 5), local date and time; readers of the format's columns ignore them
)
COVERAGE_HEADER: Header = (
    "date",
    "site_id",
    "session_id",
    "role",
    "skill",
    "min",
    "target",
    "assigned",
    "shortfall",
    "closed",  # optional column of rotapool: the bank holiday a site closed on (format v2)
)
RECHARGE_HEADER: Header = ("host_site", "employer", "staff_id", "hours", "cost")

FILE_MODE = 0o644


# -- cells ------------------------------------------------------------------------------


def _csv_text(value: object) -> str:
    """A cell as CSV text: blanks empty, money and hours with their two decimals."""
    value = neutralise(value)
    return "" if value is None else str(value)


def _hhmm(value: dt.time) -> str:
    """A session time as the bundle writes it."""
    return value.strftime("%H:%M")


# -- tables -------------------------------------------------------------------------------


def rota_rows(bundle: Bundle, assignments: Iterable[Assignment]) -> Table:
    """rota.csv: one row per assignment, sorted by date, session start, site and staff."""
    sessions = {s.session_id: s for s in bundle.session_types}
    roles = {p.staff_id: p.role for p in bundle.staff}

    def order(a: Assignment) -> tuple[dt.date, dt.time, str, str, str]:
        start = sessions[a.session_id].start if a.session_id in sessions else dt.time.max
        return (a.date, start, a.site_id, a.staff_id, a.session_id)

    rows: list[Row] = []
    assignments = set(assignments)  # read twice: for the duties, then for the rows
    spans = duty_spans(bundle, assignments)
    for a in sorted(set(assignments), key=order):
        session = sessions.get(a.session_id)
        start, end = (_hhmm(session.start), _hhmm(session.end)) if session else ("", "")
        day, role = a.date.isoformat(), roles.get(a.staff_id, "")
        week = iso_week_label(a.date)
        duty = spans.get(a, ("", ""))
        rows.append((week, day, a.session_id, start, end, a.site_id, a.staff_id, role, *duty))
    return ROTA_HEADER, rows


def duty_spans(
    bundle: Bundle, assignments: Iterable[Assignment]
) -> dict[Assignment, tuple[str, str]]:
    """Each assignment's duty (sessions less than ``min_rest_hours`` apart), as local
    ``YYYY-MM-DD HH:MM`` first start and last end."""
    zone = ZoneInfo(bundle.timezone)
    sessions = {s.session_id: s for s in bundle.session_types}
    rest = dt.timedelta(hours=bundle.rules.min_rest_hours)
    mine: dict[str, list[tuple[tuple[dt.datetime, dt.datetime], Assignment]]] = defaultdict(list)
    for a in set(assignments):
        if a.session_id in sessions:
            mine[a.staff_id].append((session_bounds(sessions[a.session_id], a.date, zone), a))
    found: dict[Assignment, tuple[str, str]] = {}
    for timed in mine.values():
        for first, last in duties((span for span, _ in timed), rest):
            text = (
                f"{first.astimezone(zone):%Y-%m-%d %H:%M}",
                f"{last.astimezone(zone):%Y-%m-%d %H:%M}",
            )
            for (start, _), a in timed:
                if first <= start < last:
                    found[a] = text
    return found


def coverage_rows(lines: Iterable[CoverageLine], closed: Iterable[Row] = ()) -> Table:
    """coverage.csv: one row per demand row and date, in the order the validator gives, then
    the rows a bank holiday stopped (``closed_rows``), each in its date's place."""
    rows: list[Row] = [
        (
            c.date.isoformat(),
            c.site_id,
            c.session_id,
            c.role or "",
            c.skill or "",
            c.min,
            c.target,
            c.assigned,
            c.shortfall,
            "",
        )
        for c in lines
    ]
    rows.extend(closed)
    rows.sort(key=lambda row: str(row[0]))  # stable: the validator's order within a date
    return COVERAGE_HEADER, rows


def closed_rows(bundle: Bundle, dates: Iterable[dt.date]) -> list[Row]:
    """Coverage rows for the weekday demand rows a bank holiday stopped at a closed site:
    nothing needed, and the holiday's name in ``closed`` so a reader sees why."""
    rows: list[Row] = []
    for holiday in bank_holiday_sites(bundle, dates):
        for site_id in holiday.closed:
            mine = [r for r in bundle.demand if r.site_id == site_id]
            kept = set(applicable_rows(mine, holiday.date, bank_holiday=True))
            for r in applicable_rows(mine, holiday.date, bank_holiday=False):
                if r not in kept:
                    day = holiday.date.isoformat()
                    row = (day, site_id, r.session_id, r.role or "", r.skill or "")
                    rows.append((*row, 0, 0, 0, 0, f"bank holiday: {holiday.name}"))
    return rows


def _borrowed_seconds(
    bundle: Bundle, assignments: Iterable[Assignment]
) -> dict[tuple[str, str, str], int]:
    """Seconds actually worked per (host site, employer, staff) where the employer is elsewhere."""
    zone = ZoneInfo(bundle.timezone)
    sessions = {s.session_id: s for s in bundle.session_types}
    staff = {p.staff_id: p for p in bundle.staff}
    seconds: dict[tuple[str, str, str], int] = defaultdict(int)
    for a in set(assignments):
        person, session = staff.get(a.staff_id), sessions.get(a.session_id)
        if person is None or session is None or not bundle.recharged(person, a.site_id):
            continue
        start, end = session_bounds(session, a.date, zone)
        seconds[(a.site_id, person.employer, a.staff_id)] += int((end - start).total_seconds())
    return seconds


def recharge_rows(bundle: Bundle, assignments: Iterable[Assignment]) -> Table:
    """recharges.csv: hours and cost each site owes for staff another employer pays.

    Cost is the exact hours times the rate, then rounded, so rounding never compounds.
    """
    rates = {p.staff_id: Decimal(str(p.hourly_rate or 0)) for p in bundle.staff}
    rows: list[Row] = []
    for key, seconds in sorted(_borrowed_seconds(bundle, assignments).items()):
        hours = Decimal(seconds) / SECONDS_PER_HOUR
        rows.append((*key, cents(hours), cents(hours * rates[key[2]])))
    return RECHARGE_HEADER, rows


Slot = tuple[dt.date, str, str]


def _names_by_slot(bundle: Bundle, assignments: Iterable[Assignment]) -> dict[Slot, list[str]]:
    """Staff names per (date, session, site), sorted for a stable grid."""
    names = {p.staff_id: p.name for p in bundle.staff}
    out: dict[Slot, list[str]] = defaultdict(list)
    for a in set(assignments):
        out[(a.date, a.session_id, a.site_id)].append(names.get(a.staff_id, a.staff_id))
    return {slot: sorted(found) for slot, found in out.items()}


def _short_by_slot(coverage: Iterable[CoverageLine]) -> dict[Slot, int]:
    """People missing against the mins of each (date, session, site)."""
    out: dict[Slot, int] = defaultdict(int)
    for line in coverage:
        out[(line.date, line.session_id, line.site_id)] += line.shortfall
    return out


def by_site_rows(
    bundle: Bundle,
    dates: Sequence[dt.date],
    assignments: Iterable[Assignment],
    coverage: Sequence[CoverageLine],
) -> Grid:
    """The readable grid: a row per date and session, a column per site, names in cells.

    Every session that runs on a planned date gets a row, so empty slots show too.  Also
    returns the (row, column) positions, 0-based in the rows, of slots short of a min.
    """
    people, short = _names_by_slot(bundle, assignments), _short_by_slot(coverage)
    starts = {s.session_id: s.start for s in bundle.session_types}
    slots = {(d, s) for d, s, _ in (*people, *short)}
    slots |= {(d, s.session_id) for d in dates for s in bundle.session_types if s.runs_on(d)}
    ordered = sorted(slots, key=lambda k: (k[0], starts.get(k[1], dt.time.max), k[1]))
    header: Header = ("date", "session_id", *(f"{s.site_id} {s.name}" for s in bundle.sites))
    rows: list[Row] = []
    marks: set[tuple[int, int]] = set()
    for r, (day, sid) in enumerate(ordered):
        cells: list[Cell] = [day.isoformat(), sid]
        for col, site in enumerate(bundle.sites, start=len(cells)):
            text = ", ".join(people.get((day, sid, site.site_id), []))
            missing = short.get((day, sid, site.site_id), 0)
            if missing:
                marks.add((r, col))
                text = f"{text}; short {missing}" if text else f"short {missing}"
            cells.append(text)
        rows.append(tuple(cells))
    return header, rows, marks


# -- writing ---------------------------------------------------------------------------------


def _atomic(path: Path, write: Callable[[Path], None]) -> Path:
    """Write through a temporary file in the same folder, then move it into place."""
    handle, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    temp = Path(temp_name)
    try:
        write(temp)
        temp.chmod(FILE_MODE)
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: Path, text: str) -> Path:
    """Write a small text file (e.g. summary.json) so a crash never leaves half of it."""

    def write(temp: Path) -> None:
        temp.write_text(text, encoding="utf-8")

    return _atomic(Path(path), write)


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> Path:
    """Write one CSV export atomically, every text cell neutralised."""

    def write(temp: Path) -> None:
        with temp.open("w", newline="", encoding="utf-8") as handle:
            out = csv.writer(handle, lineterminator="\n")
            out.writerow([_csv_text(h) for h in header])
            out.writerows([_csv_text(v) for v in row] for row in rows)

    return _atomic(Path(path), write)


def write_xlsx(path: Path, tables: dict[str, Table], by_site: Grid) -> Path:
    """Write the workbook atomically: one sheet per export plus the by-site grid."""
    # openpyxl is loaded only when a workbook is written (a quarter of a second).
    from scheduler.outputs import workbook  # noqa: PLC0415

    return _atomic(Path(path), workbook.rota_workbook(tables, by_site).save)


def write_workbook(path: Path, tables: dict[str, Table]) -> Path:
    """A workbook of plain tables (one sheet each, header bold and frozen), written atomically."""
    from scheduler.outputs import workbook  # noqa: PLC0415 - likewise

    return _atomic(Path(path), workbook.plain_workbook(tables).save)


def write_exports(
    out_dir: Path,
    bundle: Bundle,
    dates: Sequence[dt.date],
    assignments: Iterable[Assignment],
    coverage: Sequence[CoverageLine],
) -> list[Path]:
    """Write rota.csv, coverage.csv, recharges.csv and rota.xlsx; return their paths."""
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    rota = sorted(set(assignments))
    tables = {
        "rota": rota_rows(bundle, rota),
        "coverage": coverage_rows(coverage, closed_rows(bundle, dates)),
        "recharges": recharge_rows(bundle, rota),
    }
    paths = [write_csv(folder / f"{name}.csv", *table) for name, table in tables.items()]
    grid = by_site_rows(bundle, dates, rota, coverage)
    paths.append(write_xlsx(folder / "rota.xlsx", tables, grid))
    return paths
