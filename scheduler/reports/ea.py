"""Enhanced access compliance per ISO week (Network Contract DES; DOMAIN.md).

For one week and the sessions published for it, the check answers what a
commissioner asks:

- **Minutes against the floor.**  The floor is ``minutes_per_1000_per_week``
  x adjusted population / 1,000.  Minutes delivered are clinician minutes of
  bookable roles in ``extended`` sessions *inside* the windows: each
  clinician's minutes count, so two clinicians working 18:30-20:00 side by
  side deliver 180 minutes.  A session running past a window counts only its
  part inside.
- **Every minute of every window covered** by at least one bookable clinician
  in an ``extended`` session at some site of the network.
- **A GP physically present** (``gp_role``, bookable or not) in an
  ``extended`` session at some site throughout each window.

Choices where the issue is silent:

- Only ``extended`` sessions count, for coverage and GP presence too: a core
  surgery that overruns into 18:30 is not enhanced access.
- Times are real instants in the network's zone (Europe/London): a window or
  a session lasts what the clock really did.  In England clocks change at
  01:00 UTC on Sundays, so a Saturday 09:00-17:00 window is always 480
  minutes; a window across the change (e.g. Sunday 00:30-03:30) is 120 or 240.
- Bank holidays (England, from ``holidays``) are shown; a window on one is not
  required, and its gaps are listed as such but do not fail the week.  Minutes
  delivered on a bank holiday still count and the floor is not reduced.
- People on leave or recorded absent for the session (the bundle's leave,
  approved requests and absences, as plans use them) are not counted, and each
  one left out is listed; so is a session of someone or some session type no
  longer in the bundle.
- Without ``adjusted_population``, the practices' list sizes stand in, and
  the report says so.  The floor uses the network's settings as they are now,
  for past weeks too.
- The week passes when the minutes reach the floor and no required window
  has a gap.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from scheduler.checks.rota_facts import session_bounds
from scheduler.domain import (
    DAY_NAMES,
    FIRST_WEEK_YEAR,
    LAST_WEEK_YEAR,
    AccessSpan,
    Assignment,
    Bundle,
    EnhancedAccess,
    SessionKind,
    iso_week_label,
    iso_weeks,
    parse_iso_week,
)
from scheduler.horizon import bank_holidays as england_and_wales
from scheduler.money import cents
from scheduler.outputs.exports import Header, Row, Table, write_csv, write_workbook
from scheduler.storage.events import current_bundle
from scheduler.storage.rotas import published_assignments, week_rotas

MAX_REPORT_WEEKS = 53  # a year of ISO weeks in one report
UNCOVERED = "no bookable clinician"
Interval = tuple[dt.datetime, dt.datetime]  # UTC, start inclusive, end exclusive

SUMMARY_HEADER: Header = (
    "week",
    "first_date",
    "last_date",
    "result",
    "minutes_delivered",
    "floor_minutes",
    "minutes_short",
    "minutes_per_1000_per_week",
    "adjusted_population",
    "population_source",
    "required_gaps",
    "bank_holidays",
    "published",
)
WINDOWS_HEADER: Header = (
    "week",
    "date",
    "day",
    "window",
    "start",
    "end",
    "window_minutes",
    "minutes_delivered",
    "bank_holiday",
    "required",
    "gaps",
)
GAPS_HEADER: Header = (
    "week",
    "date",
    "day",
    "window",
    "start",
    "end",
    "minutes",
    "problem",
    "bank_holiday",
    "required",
    "text",
)


class NoEnhancedAccessError(Exception):
    """The network has no ``[enhanced_access]`` section: there is nothing to check."""

    def __init__(self, network: str) -> None:
        super().__init__(
            f"{network} has no [enhanced_access] section in network.toml, so there is no "
            "enhanced-access floor or window to check. Add the section (e.g. "
            "minutes_per_1000_per_week = 60 and adjusted_population = ...) and import the "
            "bundle again."
        )


# --------------------------------------------------------------------------- results


def _day(day: dt.date) -> str:
    return f"{DAY_NAMES[day.weekday()]} {day.isoformat()}"


@dataclass(frozen=True)
class Gap:
    """Part of a window without a bookable clinician, or without a GP."""

    date: dt.date
    window: str
    start: dt.datetime  # UTC
    end: dt.datetime  # UTC
    problem: str  # "no bookable clinician" or "no GP present"
    bank_holiday: str | None
    local_start: str  # HH:MM in the network's zone
    local_end: str

    @property
    def required(self) -> bool:
        return self.bank_holiday is None

    @property
    def minutes(self) -> int:
        return round((self.end - self.start).total_seconds() / 60)

    @property
    def text(self) -> str:
        """``Tue 2026-12-01 18:30-19:00: no GP present``, marked when not required."""
        text = f"{_day(self.date)} {self.local_start}-{self.local_end}: {self.problem}"
        if not self.required:
            text += f" (bank holiday, {self.bank_holiday}: not required)"
        return text


@dataclass(frozen=True)
class WindowCheck:
    """One date's window: how long it really was, the minutes delivered in it, its gaps."""

    span: AccessSpan
    local_start: str
    local_end: str
    delivered: int
    bank_holiday: str | None
    gaps: tuple[Gap, ...]

    @property
    def required(self) -> bool:
        return self.bank_holiday is None


@dataclass(frozen=True)
class WeekCheck:
    """The enhanced-access verdict of one ISO week."""

    week: str
    dates: tuple[dt.date, ...]
    settings: EnhancedAccess
    population: Decimal
    population_estimated: bool  # True: list sizes stood in for the adjusted population
    floor: Decimal  # exact
    delivered: int  # minutes
    windows: tuple[WindowCheck, ...]
    bank_holidays: tuple[tuple[dt.date, str], ...]
    not_counted: tuple[str, ...]
    published: bool = True

    @property
    def gaps(self) -> tuple[Gap, ...]:
        return tuple(g for w in self.windows for g in w.gaps)

    @property
    def required_gaps(self) -> tuple[Gap, ...]:
        return tuple(g for g in self.gaps if g.required)

    @property
    def meets_floor(self) -> bool:
        return self.delivered >= self.floor

    @property
    def passed(self) -> bool:
        return self.meets_floor and not self.required_gaps

    @property
    def short(self) -> Decimal:
        """Minutes below the floor (0 when it is met), two decimals."""
        return cents(max(Decimal(0), self.floor - self.delivered))

    @property
    def result(self) -> str:
        return "pass" if self.passed else "fail"


# --------------------------------------------------------------------------- checking


@dataclass(frozen=True)
class Worked:
    """A counted session: who (their role) and when, in UTC."""

    role: str
    start: dt.datetime
    end: dt.datetime


def bank_holidays(dates: Sequence[dt.date]) -> dict[dt.date, str]:
    """Bank holidays among the dates (England and Wales, as published), with their names."""
    published = england_and_wales(d.year for d in dates)
    return {d: published[d] for d in dates if d in published}


def _absent(bundle: Bundle, a: Assignment) -> bool:
    """On leave or recorded absent for that date (whole day) or that session."""
    return any(
        leave.staff_id == a.staff_id
        and leave.covers(a.date)
        and leave.session_id in (None, a.session_id)
        for leave in bundle.leave
    )


def counted_sessions(
    bundle: Bundle, assignments: Iterable[Assignment]
) -> tuple[list[Worked], list[str]]:
    """The extended sessions that count, and a note for each one left out (and why)."""
    zone = ZoneInfo(bundle.timezone)
    sessions = {s.session_id: s for s in bundle.session_types}
    people = {p.staff_id: p for p in reversed(bundle.staff)}
    worked: list[Worked] = []
    notes: list[str] = []
    for a in sorted(assignments):
        session, person = sessions.get(a.session_id), people.get(a.staff_id)
        where = f"{a.staff_id} {_day(a.date)} {a.session_id} at {a.site_id}"
        if session is None or person is None:
            missing = "session type" if session is None else "person"
            notes.append(f"{where}: not counted, the {missing} is no longer in the bundle")
        elif session.kind is SessionKind.EXTENDED and _absent(bundle, a):
            notes.append(f"{where}: not counted, on leave or absent")
        elif session.kind is SessionKind.EXTENDED:
            worked.append(Worked(person.role, *session_bounds(session, a.date, zone)))
    return worked, notes


def merged(intervals: Iterable[Interval]) -> list[Interval]:
    """Overlapping or touching intervals joined, in time order."""
    out: list[Interval] = []
    for start, end in sorted(intervals):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def uncovered(span: AccessSpan, covered: Iterable[Interval]) -> list[Interval]:
    """The parts of the span outside every covered interval."""
    gaps: list[Interval] = []
    cursor = span.start
    for start, end in merged(covered):
        if end <= cursor or start >= span.end:
            continue
        if start > cursor:
            gaps.append((cursor, start))
        cursor = max(cursor, end)
    if cursor < span.end:
        gaps.append((cursor, span.end))
    return gaps


def _hhmm(moment: dt.datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%H:%M")


def check_window(
    span: AccessSpan,
    worked: Sequence[Worked],
    settings: EnhancedAccess,
    zone: ZoneInfo,
    bank_holiday: str | None,
) -> WindowCheck:
    """Minutes delivered in one window and its gaps (no bookable clinician; no GP)."""
    bookable = [(w.start, w.end) for w in worked if settings.bookable(w.role)]
    gps = [(w.start, w.end) for w in worked if w.role == settings.gp_role]
    no_gp = f"no {settings.gp_role} present"
    found = [(s, e, UNCOVERED) for s, e in uncovered(span, bookable)]
    found += [(s, e, no_gp) for s, e in uncovered(span, gps)]
    gaps = tuple(
        Gap(span.date, span.text, s, e, problem, bank_holiday, _hhmm(s, zone), _hhmm(e, zone))
        for s, e, problem in sorted(found, key=lambda f: (f[0], f[2] != UNCOVERED))
    )
    delivered = sum(span.overlap(s, e) for s, e in bookable)
    local = (_hhmm(span.start, zone), _hhmm(span.end, zone))
    return WindowCheck(span, *local, delivered, bank_holiday, gaps)


def check_week(
    bundle: Bundle, week: str, assignments: Iterable[Assignment], *, published: bool = True
) -> WeekCheck:
    """The enhanced-access verdict of ISO week ``week`` for these (published) assignments."""
    settings = bundle.enhanced_access_settings
    if settings is None:
        raise NoEnhancedAccessError(bundle.name)
    dates = iso_weeks(week, 1)
    zone = ZoneInfo(bundle.timezone)
    in_week = [a for a in assignments if dates[0] <= a.date <= dates[-1]]
    worked, notes = counted_sessions(bundle, in_week)
    holidays_found = bank_holidays(dates)
    windows = tuple(
        check_window(span, worked, settings, zone, holidays_found.get(day))
        for day in dates
        for span in settings.spans(day, zone)
    )
    population, estimated = settings.population(bundle.sites)
    per_1000 = Decimal(str(settings.minutes_per_1000_per_week))
    return WeekCheck(
        week=iso_week_label(dates[0]),
        dates=dates,
        settings=settings,
        population=Decimal(str(population)),
        population_estimated=estimated,
        floor=per_1000 * Decimal(str(population)) / 1000,
        delivered=sum(w.delivered for w in windows),
        windows=windows,
        bank_holidays=tuple(sorted(holidays_found.items())),
        not_counted=tuple(notes),
        published=published,
    )


def report_weeks(first_week: str, count: int) -> list[str]:
    """The ``count`` consecutive ISO weeks from ``first_week``; ValueError when they run
    outside the years a week may have (``parse_iso_week``), which no check could read."""
    dates = iso_weeks(first_week, count)
    weeks = [iso_week_label(dates[i]) for i in range(0, len(dates), 7)]
    last = weeks[-1] if weeks else first_week
    try:
        parse_iso_week(last)
    except ValueError:
        years = f"the years {FIRST_WEEK_YEAR} to {LAST_WEEK_YEAR}"
        raise ValueError(
            f"{count} weeks from {weeks[0]} reach {last}, outside {years}; ask for fewer"
        ) from None
    return weeks


def check_weeks(
    bundle: Bundle,
    first_week: str,
    count: int,
    assignments: Iterable[Assignment],
    published_weeks: Iterable[str] | None = None,
) -> list[WeekCheck]:
    """``check_week`` for ``count`` consecutive weeks; ``published_weeks`` None = all were."""
    weeks = report_weeks(first_week, count)
    by_week: dict[str, list[Assignment]] = defaultdict(list)
    for a in assignments:
        by_week[iso_week_label(a.date)].append(a)
    shown = set(weeks if published_weeks is None else published_weeks)
    return [check_week(bundle, w, by_week[w], published=w in shown) for w in weeks]


def load_checks(
    session: Session, network_id: int, first_week: str, count: int
) -> tuple[Bundle, list[WeekCheck]]:
    """The network's bundle (as plans use it) and the checks of its published weeks."""
    bundle = current_bundle(session, network_id)
    if bundle.enhanced_access_settings is None:
        raise NoEnhancedAccessError(bundle.name)
    weeks = report_weeks(first_week, count)
    dates = iso_weeks(first_week, count)
    assignments = published_assignments(session, network_id, dates[0], dates[-1])
    published = [
        w for w in weeks if any(r.state == "published" for r in week_rotas(session, network_id, w))
    ]
    return bundle, check_weeks(bundle, first_week, count, assignments, published)


# --------------------------------------------------------------------------- words


def _number(value: Decimal) -> str:
    return f"{value:,.2f}".removesuffix(".00")


def population_note(check: WeekCheck) -> str | None:
    """What the report must say when list sizes stood in for the adjusted population."""
    if not check.population_estimated:
        return None
    return (
        "network.toml has no adjusted_population: the practices' list sizes "
        f"({_number(check.population)} patients) stand in for the NHS-published figure."
    )


def floor_text(check: WeekCheck) -> str:
    """``450 of a floor of 660 minutes (60 per 1,000 x adjusted population 11,000)``."""
    per_1000 = Decimal(str(check.settings.minutes_per_1000_per_week))
    source = "list sizes" if check.population_estimated else "adjusted population"
    return (
        f"{check.delivered:,} minutes delivered of a floor of {_number(cents(check.floor))} "
        f"({_number(per_1000)} per 1,000 x {source} {_number(check.population)})"
    )


def report_lines(check: WeekCheck) -> list[str]:
    """The week's verdict as plain lines, for the terminal."""
    first, last = check.dates[0], check.dates[-1]
    lines = [f"Week {check.week} ({_day(first)} to {_day(last)}): {check.result.upper()}"]
    short = f": {_number(check.short)} minutes short" if not check.meets_floor else ""
    lines.append(f"  {floor_text(check)}{short}")
    windows = "; ".join(w.text for w in check.settings.windows)
    lines.append(f"  Windows: {windows}; {len(check.windows)} this week")
    holidays_text = ", ".join(f"{_day(d)} {name}" for d, name in check.bank_holidays)
    lines.append(f"  Bank holidays: {holidays_text or 'none'} (their windows are not required)")
    if not check.published:
        lines.append("  Nothing is published for this week: no session counts.")
    if note := population_note(check):
        lines.append(f"  Note: {note}")
    gaps = check.gaps
    lines.append(f"  Gaps: {len(check.required_gaps)} required" if gaps else "  Gaps: none")
    lines += [f"    {g.text}" for g in gaps]
    lines += [f"  {note}" for note in check.not_counted]
    return lines


# --------------------------------------------------------------------------- tables and files


def _yes(value: bool) -> str:
    return "yes" if value else "no"


def summary_rows(checks: Sequence[WeekCheck]) -> Table:
    """One row per week: the verdict and the figures behind it."""
    rows: list[Row] = [
        (
            c.week,
            c.dates[0].isoformat(),
            c.dates[-1].isoformat(),
            c.result,
            c.delivered,
            cents(c.floor),
            c.short,
            cents(Decimal(str(c.settings.minutes_per_1000_per_week))),
            cents(c.population),
            "list sizes" if c.population_estimated else "adjusted population",
            len(c.required_gaps),
            "; ".join(f"{d.isoformat()} {name}" for d, name in c.bank_holidays),
            _yes(c.published),
        )
        for c in checks
    ]
    return SUMMARY_HEADER, rows


def window_rows(checks: Sequence[WeekCheck]) -> Table:
    """One row per date's window."""
    rows: list[Row] = [
        (
            c.week,
            w.span.date.isoformat(),
            DAY_NAMES[w.span.date.weekday()],
            w.span.text,
            w.local_start,
            w.local_end,
            w.span.minutes,
            w.delivered,
            w.bank_holiday or "",
            _yes(w.required),
            len(w.gaps),
        )
        for c in checks
        for w in c.windows
    ]
    return WINDOWS_HEADER, rows


def gap_rows(checks: Sequence[WeekCheck]) -> Table:
    """One row per gap, required or not."""
    rows: list[Row] = [
        (
            c.week,
            g.date.isoformat(),
            DAY_NAMES[g.date.weekday()],
            g.window,
            g.local_start,
            g.local_end,
            g.minutes,
            g.problem,
            g.bank_holiday or "",
            _yes(g.required),
            g.text,
        )
        for c in checks
        for g in c.gaps
    ]
    return GAPS_HEADER, rows


def gaps_path(summary: Path) -> Path:
    """Where the gaps go beside a summary CSV: ``ea.csv`` -> ``ea-gaps.csv``."""
    return summary.with_name(f"{summary.stem}-gaps{summary.suffix or '.csv'}")


def write_csvs(path: Path, checks: Sequence[WeekCheck]) -> tuple[Path, Path]:
    """The summary at ``path`` and the gaps beside it (``gaps_path``)."""
    summary = write_csv(Path(path), *summary_rows(checks))
    return summary, write_csv(gaps_path(Path(path)), *gap_rows(checks))


def write_xlsx(path: Path, checks: Sequence[WeekCheck]) -> Path:
    """A workbook with sheets summary, windows and gaps."""
    tables = {
        "summary": summary_rows(checks),
        "windows": window_rows(checks),
        "gaps": gap_rows(checks),
    }
    return write_workbook(Path(path), tables)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOWNLOADS = {
    "ea-summary.csv": "text/csv; charset=utf-8",
    "ea-gaps.csv": "text/csv; charset=utf-8",
    "ea.xlsx": XLSX,
}


def download_bytes(checks: Sequence[WeekCheck], name: str) -> bytes:
    """One download (a name of ``DOWNLOADS``), written by the same code as the command line's."""
    if name not in DOWNLOADS:
        raise KeyError(f"{name!r} is not one of {', '.join(DOWNLOADS)}")
    with tempfile.TemporaryDirectory(prefix="rotapool-ea-") as tmp:
        folder = Path(tmp)
        if name == "ea.xlsx":
            return write_xlsx(folder / name, checks).read_bytes()
        summary, gaps = write_csvs(folder / "ea-summary.csv", checks)
        return (summary if name == "ea-summary.csv" else gaps).read_bytes()


def write_report(kind: str, path: Path, checks: Sequence[WeekCheck]) -> tuple[Path, ...]:
    """``csv``: the summary at ``path`` and the gaps beside it; ``xlsx``: one workbook."""
    if kind == "xlsx":
        return (write_xlsx(path, checks),)
    return write_csvs(path, checks)
