"""Timesheets for payroll: each person's hours and cost over a period, by site, from the
published rotas and the confirmed timesheets.

What counts
    Each session of the current publications, replaced by its confirmed
    timesheet where there is one (``scheduler.reports.actuals``): not worked
    drops out, different times count as worked, an unplanned session worked is
    added.  Every line says how many of its sessions are confirmed and how many
    still count as planned, so payroll can wait for the rest or pay on the plan.

The split
    Hours are split three ways, so a network that pays them at different
    rates can: *weekend* hours (any session on a Saturday or Sunday),
    *extended* hours (sessions of kind ``extended`` in session_types.csv, the
    enhanced-access evenings, on a weekday) and the rest, *standard* hours.
    A Saturday enhanced-access session is weekend hours.  Standard hours are
    the line's hours less the other two, so the three always add up.

Money
    A line is one person's hours at one site; its cost is the exact hours
    times their ``hourly_rate`` (staff.csv), rounded once to the penny, the
    recharge ledger's rule.  A person without a rate has no cost (blank, never
    zero) and their hours are counted apart.  Bank staff (staff.csv ``bank``)
    are listed apart from employed staff: they are usually paid through the
    bank, not the payroll of their employer.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from sqlalchemy.orm import Session

from scheduler.domain import Bundle
from scheduler.money import SECONDS_PER_HOUR, cents
from scheduler.outputs.exports import Header, Row, Table, write_csv, write_workbook
from scheduler.reports.actuals import Entry, gone_keys, load_entries
from scheduler.reports.ledger import MONEY_RULE, Period, published_weeks
from scheduler.views.week import stored_bundle

SPLIT_RULE = (
    "Weekend hours: any session on a Saturday or Sunday. Extended hours: enhanced-access "
    "sessions (kind extended) on a weekday. Standard hours: the rest (hours less the two)."
)
COUNT_RULE = (
    "Confirmed timesheets count where they exist (not worked drops out, different times "
    "count as worked, unplanned sessions worked are added); other sessions count as planned."
)
RATE_RULE = "People without an hourly rate have a blank cost, never zero; add hourly_rate."
DOWNLOADS = ("timesheets.csv", "timesheets.xlsx")


def _hours(seconds: int) -> Decimal:
    return cents(Decimal(seconds) / SECONDS_PER_HOUR)


@dataclass(frozen=True)
class Line:
    """One person's hours at one site over the period."""

    staff_id: str
    name: str
    role: str
    employer: str
    bank: bool
    site_id: str
    rate: Decimal | None
    seconds: int
    extended_seconds: int
    weekend_seconds: int
    sessions: int
    confirmed: int  # of ``sessions``, from a confirmed timesheet

    @property
    def hours(self) -> Decimal:
        return _hours(self.seconds)

    @property
    def extended_hours(self) -> Decimal:
        return _hours(self.extended_seconds)

    @property
    def weekend_hours(self) -> Decimal:
        return _hours(self.weekend_seconds)

    @property
    def standard_hours(self) -> Decimal:
        return self.hours - self.extended_hours - self.weekend_hours

    @property
    def cost(self) -> Decimal | None:
        if self.rate is None:
            return None
        return cents(Decimal(self.seconds) / SECONDS_PER_HOUR * self.rate)

    @property
    def status(self) -> str:
        """``confirmed``, ``planned`` or ``2 of 5 confirmed``."""
        if self.confirmed == self.sessions:
            return "confirmed"
        return "planned" if not self.confirmed else f"{self.confirmed} of {self.sessions} confirmed"


@dataclass(frozen=True)
class Sum:
    """Line figures added up (rounded figures, so totals add up to the lines shown)."""

    hours: Decimal
    standard: Decimal
    extended: Decimal
    weekend: Decimal
    cost: Decimal  # of the lines with a rate
    unpriced_hours: Decimal
    sessions: int
    confirmed: int


def add_up(lines: Iterable[Line]) -> Sum:
    found = list(lines)
    zero = Decimal("0.00")
    return Sum(
        sum((x.hours for x in found), zero),
        sum((x.standard_hours for x in found), zero),
        sum((x.extended_hours for x in found), zero),
        sum((x.weekend_hours for x in found), zero),
        sum((x.cost for x in found if x.cost is not None), zero),
        sum((x.hours for x in found if x.cost is None), zero),
        sum(x.sessions for x in found),
        sum(x.confirmed for x in found),
    )


@dataclass(frozen=True)
class Timesheets:
    """The period's lines, employed and bank staff apart, and how they were counted."""

    network: str
    period: Period
    lines: tuple[Line, ...]
    published_weeks: tuple[str, ...]
    unpublished_weeks: tuple[str, ...]
    not_worked: int  # sessions confirmed as not worked (in no figure)
    flagged: int  # entries a clinician flagged that no coordinator has looked at yet
    gone: int = 0  # sessions whose session type or person has left the network (no figure)

    @property
    def employed(self) -> tuple[Line, ...]:
        return tuple(x for x in self.lines if not x.bank)

    @property
    def bank(self) -> tuple[Line, ...]:
        return tuple(x for x in self.lines if x.bank)

    def by_employer(self) -> list[tuple[str, Sum]]:
        """Employed staff's figures per employer (bank staff are apart)."""
        grouped: dict[str, list[Line]] = defaultdict(list)
        for x in self.employed:
            grouped[x.employer].append(x)
        return [(employer, add_up(found)) for employer, found in sorted(grouped.items())]


def _line(bundle: Bundle, key: tuple[str, str], found: Sequence[Entry]) -> Line:
    staff_id, site_id = key
    person = next(p for p in bundle.staff if p.staff_id == staff_id)
    return Line(
        staff_id,
        person.name,
        person.role,
        bundle.organisation_of(person.employer),
        person.bank,
        site_id,
        None if person.hourly_rate is None else Decimal(str(person.hourly_rate)),
        sum(e.seconds for e in found),
        sum(e.seconds for e in found if e.extended and not e.weekend),
        sum(e.seconds for e in found if e.weekend),
        len(found),
        sum(1 for e in found if e.confirmed),
    )


def build_timesheets(
    bundle: Bundle, period: Period, entries: Sequence[Entry], published: Iterable[str]
) -> Timesheets:
    """The report of ``entries`` (see ``actuals.load_entries``) over ``period``."""
    known = {p.staff_id for p in bundle.staff}
    inside = [e for e in entries if period.first <= e.date <= period.last]
    grouped: dict[tuple[str, str], list[Entry]] = defaultdict(list)
    for e in inside:
        if e.seconds > 0 and e.staff_id in known:
            grouped[(e.staff_id, e.site_id)].append(e)
    lines = [_line(bundle, key, found) for key, found in grouped.items()]
    lines.sort(key=lambda x: (x.bank, x.name, x.staff_id, x.site_id))
    done = set(published)
    return Timesheets(
        network=bundle.name,
        period=period,
        lines=tuple(lines),
        published_weeks=tuple(w for w in period.weeks if w in done),
        unpublished_weeks=tuple(w for w in period.weeks if w not in done),
        not_worked=sum(1 for e in inside if e.confirmed and e.seconds == 0 and e.planned),
        flagged=sum(1 for e in inside if e.flagged),
    )


def load_timesheets(session: Session, network_id: int, period: Period) -> Timesheets:
    """The network's timesheets over ``period`` from its publications and confirmed actuals."""
    _, bundle = stored_bundle(session, network_id)
    entries = load_entries(session, network_id, bundle, period.first, period.last)
    published = published_weeks(session, network_id, period.weeks)
    report = build_timesheets(bundle, period, entries, published)
    gone = gone_keys(session, network_id, bundle, period.first, period.last)
    return dataclasses.replace(report, gone=len(gone))


# --------------------------------------------------------------------------- tables

LINE_HEADER: Header = (
    "period_start",
    "period_end",
    "pay_group",
    "staff_id",
    "name",
    "role",
    "employer",
    "site",
    "hours",
    "standard_hours",
    "extended_hours",
    "weekend_hours",
    "hourly_rate",
    "cost",
    "sessions",
    "confirmed_sessions",
    "status",
)
EMPLOYER_HEADER: Header = (
    "employer",
    "hours",
    "standard_hours",
    "extended_hours",
    "weekend_hours",
    "cost",
    "hours_without_rate",
    "sessions",
    "confirmed_sessions",
)
NOTES_HEADER: Header = ("item", "value")
GONE_ITEM = (
    "sessions in no figure because their session type or person has since been removed"
    " from the network (import them again to count them)"
)


def line_rows(report: Timesheets, lines: Iterable[Line]) -> list[Row]:
    first, last = report.period.first.isoformat(), report.period.last.isoformat()
    return [
        (
            first,
            last,
            "bank" if x.bank else "employed",
            x.staff_id,
            x.name,
            x.role,
            x.employer,
            x.site_id,
            x.hours,
            x.standard_hours,
            x.extended_hours,
            x.weekend_hours,
            None if x.rate is None else cents(x.rate),
            x.cost,
            x.sessions,
            x.confirmed,
            x.status,
        )
        for x in lines
    ]


def _sum_row(name: str, s: Sum) -> Row:
    return (
        name,
        s.hours,
        s.standard,
        s.extended,
        s.weekend,
        s.cost,
        s.unpriced_hours,
        s.sessions,
        s.confirmed,
    )


def employer_rows(report: Timesheets) -> list[Row]:
    """Per employer, then employed staff's total, then bank staff's."""
    rows = [_sum_row(employer, s) for employer, s in report.by_employer()]
    rows.append(_sum_row("all employed staff", add_up(report.employed)))
    rows.append(_sum_row("bank staff", add_up(report.bank)))
    return rows


def note_rows(report: Timesheets) -> list[Row]:
    period = report.period
    return [
        ("network", report.network),
        ("period", f"{period.label}: {period.dates_text}"),
        ("published weeks counted", ", ".join(report.published_weeks) or "none"),
        ("weeks without a publication", ", ".join(report.unpublished_weeks) or "none"),
        ("sessions confirmed as not worked (in no figure)", report.not_worked),
        ("entries flagged by a clinician, not yet looked at", report.flagged),
        (GONE_ITEM, report.gone),
        ("what counts", COUNT_RULE),
        ("hours split", SPLIT_RULE),
        ("rounding", MONEY_RULE),
        ("no rate", RATE_RULE),
    ]


def timesheet_tables(report: Timesheets) -> dict[str, Table]:
    """Every table by sheet name: employed staff, bank staff, employers, notes."""
    return {
        "staff": (LINE_HEADER, line_rows(report, report.employed)),
        "bank": (LINE_HEADER, line_rows(report, report.bank)),
        "employers": (EMPLOYER_HEADER, employer_rows(report)),
        "notes": (NOTES_HEADER, note_rows(report)),
    }


def write_timesheets(report: Timesheets, kind: str, path: Path) -> Path:
    """``csv``: every line (employed, then bank; ``pay_group`` says which); ``xlsx``: a
    workbook of every table."""
    if kind == "xlsx":
        return write_workbook(Path(path), timesheet_tables(report))
    return write_csv(Path(path), LINE_HEADER, line_rows(report, report.lines))


def timesheet_bytes(report: Timesheets, name: str) -> bytes:
    """One download of ``DOWNLOADS``, byte for byte what the command line writes."""
    if name not in DOWNLOADS:
        raise KeyError(f"{name!r} is not one of {', '.join(DOWNLOADS)}")
    with tempfile.TemporaryDirectory(prefix="rotapool-timesheets-") as tmp:
        kind = name.rsplit(".", 1)[-1]
        return write_timesheets(report, kind, Path(tmp) / name).read_bytes()


# --------------------------------------------------------------------------- words


def _text_line(x: Line) -> str:
    cost = "no rate" if x.cost is None else f"£{x.cost:,.2f}"
    return (
        f"  {x.staff_id:<8} {x.name[:22]:<22} {x.role:<6} {x.employer:<6} {x.site_id:<6}"
        f" {x.hours:>7} {x.extended_hours:>7} {x.weekend_hours:>7} {cost:>11}  {x.status}"
    )


def summary_lines(report: Timesheets) -> list[str]:
    """The readable report ``rotapool report timesheets`` prints."""
    period = report.period
    all_sum = add_up(report.lines)
    lines = [
        f"Timesheets of {report.network}: {period.label} ({period.dates_text})",
        f"Counted: the published rotas of {', '.join(report.published_weeks) or 'no week'}.",
        f"Timesheets: {all_sum.confirmed} of {all_sum.sessions} session(s) counted are "
        f"confirmed actuals, the rest as planned; {report.not_worked} confirmed as not worked.",
    ]
    if report.unpublished_weeks:
        lines.append(f"Not published, so not counted: {', '.join(report.unpublished_weeks)}.")
    if report.flagged:
        lines.append(f"Flagged by a clinician and not yet looked at: {report.flagged} entry(ies).")
    if report.gone:
        lines.append(f"{GONE_ITEM.capitalize()}: {report.gone}.")
    head = f"  {'staff':<8} {'name':<22} {'role':<6} {'empl.':<6} {'site':<6}"
    head += f" {'hours':>7} {'ext.':>7} {'w/end':>7} {'cost':>11}  status"
    for title, found in (("Employed staff", report.employed), ("Bank staff", report.bank)):
        lines += ["", f"{title}:"]
        lines += [head, *map(_text_line, found)] if found else ["  none in this period"]
    lines += ["", "Per employer (employed staff):"]
    for employer, s in report.by_employer():
        lines.append(f"  {employer:<8} {s.hours:>8} h  £{s.cost:,.2f}")
    lines += ["", SPLIT_RULE, MONEY_RULE, RATE_RULE]
    return lines


def entries_by_day(entries: Sequence[Entry]) -> dict[dt.date, list[Entry]]:
    """Entries grouped by date, in date order (the pages list a period day by day)."""
    grouped: dict[dt.date, list[Entry]] = defaultdict(list)
    for e in entries:
        grouped[e.date].append(e)
    return dict(sorted(grouped.items()))
