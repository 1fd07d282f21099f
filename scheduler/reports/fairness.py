"""Fairness between practices: hub duty and lending burden against each practice's list share.

Over a rolling period of ISO weeks (by default the 12 weeks ending with the
week asked for), each practice's **hub duty** is the hours its staff worked
at hub sites, and its **lending burden** the hours its staff worked at other
practices.  Each is compared with the practice's share of the network's
patients (``list_size`` over the practices' total): its *fair share* is that
fraction of the hours every practice's staff did, and its *balance* is what
it did minus its fair share (above zero: more than its share).

Choices where the issue is silent:

- A person's hours count for their **home site**, not their employer.  The
  burden of hub duty and lending falls on the practice whose patients lose
  the clinician's time, which is where they usually work; the employer says
  who pays (the recharge ledger's business) and is often the federation,
  which has no list to compare with.
- Only people whose home site is a practice carry duty.  Hub-based staff
  (home site a hub) working at the hub are the hub's own team, so the
  network total is the hub (or lending) hours done by practices' staff.
- People, sites and session types are taken from the bundle as imported now;
  a published session of someone no longer in it, at a site or of a session
  type it no longer has, cannot be attributed (or timed) and is counted apart
  (``unattributed``).
- Hours are real worked hours (clock changes included), from published rotas
  only; figures are exact until written, then two decimals (hours) and
  percentages with two decimals.
- Without patients on any practice's list, every fair share is zero.

The solver carries the hub balance forward (``Bundle.fairness_balance``):
``running_balance`` is the balance over the period *before* a planned week,
and is empty when nothing was published then, so a network without history
plans exactly as before.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

from sqlalchemy.orm import Session

from scheduler.domain import (
    Assignment,
    Bundle,
    Site,
    SiteKind,
    iso_week_label,
    parse_iso_week,
)
from scheduler.money import cents
from scheduler.outputs.exports import Header, Row, write_csv, write_workbook
from scheduler.storage.rotas import published_assignments
from scheduler.views.totals import worked_seconds
from scheduler.views.week import stored_bundle

ROLLING_WEEKS = 12  # the default period, in ISO weeks
MAX_WEEKS = 104  # two years: far beyond any rolling period worth reading
HUB, LENDING = "hub", "lending"
KINDS = ("csv", "xlsx")

FAIRNESS_HEADER: Header = (
    "site_id",
    "practice",
    "list_size",
    "list_share_pct",
    "hub_hours",
    "hub_share_pct",
    "hub_fair_hours",
    "hub_balance_hours",
    "lending_hours",
    "lending_share_pct",
    "lending_fair_hours",
    "lending_balance_hours",
)
PERIOD_HEADER: Header = ("item", "value")


class PeriodError(ValueError):
    """A period cannot be read as asked; ``field`` names the option or form input to fix."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Period:
    """Consecutive ISO weeks, ``first_week`` to ``last_week`` inclusive."""

    first_week: str
    last_week: str
    weeks: int

    @property
    def first(self) -> dt.date:
        return parse_iso_week(self.first_week)[0]

    @property
    def last(self) -> dt.date:
        return parse_iso_week(self.last_week)[-1]

    @property
    def words(self) -> str:
        """``2026-W38 to 2026-W49 (12 weeks, 2026-09-14 to 2026-12-06)``."""
        span = f"{self.first_week} to {self.last_week}" if self.weeks > 1 else self.last_week
        plural = "week" if self.weeks == 1 else "weeks"
        return f"{span} ({self.weeks} {plural}, {self.first} to {self.last})"


def rolling_period(week: str, weeks: int = ROLLING_WEEKS) -> Period:
    """The ``weeks`` ISO weeks ending with ``week``; PeriodError naming the option otherwise."""
    try:
        monday = parse_iso_week(week)[0]
    except ValueError as err:
        raise PeriodError("week", str(err)) from None
    if not 1 <= weeks <= MAX_WEEKS:
        raise PeriodError("weeks", f"give a whole number of weeks from 1 to {MAX_WEEKS}")
    first = iso_week_label(monday - dt.timedelta(weeks=weeks - 1))
    try:
        parse_iso_week(first)
    except ValueError:  # the period would start before the first year a week may have
        raise PeriodError("weeks", f"{weeks} weeks back from {week} is too far") from None
    return Period(first, iso_week_label(monday), weeks)


def period_before(week: str, weeks: int = ROLLING_WEEKS) -> Period:
    """The ``weeks`` ISO weeks just before ``week``: the history a plan of ``week`` carries."""
    monday = parse_iso_week(week)[0]
    return rolling_period(iso_week_label(monday - dt.timedelta(weeks=1)), weeks)


def read_period(week: str | None, weeks: str | int | None) -> Period:
    """A period from a form or the command line: ``weeks`` blank means the default."""
    if week is None or not str(week).strip():
        raise PeriodError("week", "give the last ISO week of the period, such as 2026-W49")
    if weeks is None or not str(weeks).strip():
        return rolling_period(str(week))
    try:
        count = int(weeks)
    except ValueError:
        raise PeriodError(
            "weeks", f"{weeks!r} is not a whole number of weeks from 1 to {MAX_WEEKS}"
        ) from None
    return rolling_period(str(week), count)


# --------------------------------------------------------------------------- hours


def practices(bundle: Bundle) -> tuple[Site, ...]:
    """The bundle's practices, in its order: the sites with a list of patients."""
    return tuple(s for s in bundle.sites if s.kind is SiteKind.PRACTICE)


@dataclass(frozen=True)
class DutySeconds:
    """Seconds of hub duty and lending per practice, and the sessions nobody could own."""

    seconds: dict[tuple[str, str], int]  # (practice, HUB or LENDING) -> seconds
    sessions: int  # published sessions looked at
    unattributed: int  # a person, site or session type no longer in the bundle

    def of(self, site_id: str, kind: str) -> int:
        return self.seconds.get((site_id, kind), 0)

    def total(self, kind: str) -> int:
        return sum(s for (_, k), s in self.seconds.items() if k == kind)


def duty_seconds(bundle: Bundle, assignments: Iterable[Assignment]) -> DutySeconds:
    """Real seconds each practice's staff worked at hubs, and at other practices."""
    people = {p.staff_id: p for p in reversed(bundle.staff)}
    kinds = {s.site_id: s.kind for s in bundle.sites}
    sessions = {s.session_id for s in bundle.session_types}  # their hours: unknown otherwise
    homes = {s.site_id for s in practices(bundle)}
    groups: dict[tuple[str, str], list[Assignment]] = defaultdict(list)
    found = set(assignments)
    unattributed = 0
    for a in found:
        person = people.get(a.staff_id)
        if person is None or a.site_id not in kinds or a.session_id not in sessions:
            unattributed += 1
            continue
        if person.home_site not in homes:
            continue  # hub-based staff: nobody's duty
        if kinds[a.site_id] is SiteKind.HUB:
            groups[(person.home_site, HUB)].append(a)
        elif a.site_id != person.home_site:
            groups[(person.home_site, LENDING)].append(a)
    seconds = {key: sum(worked_seconds(bundle, group).values()) for key, group in groups.items()}
    return DutySeconds(seconds, len(found), unattributed)


def list_shares(bundle: Bundle) -> dict[str, Fraction]:
    """Each practice's exact share of the practices' patients (all zero without patients)."""
    sites = practices(bundle)
    total = sum(s.list_size for s in sites)
    return {s.site_id: Fraction(s.list_size, total) if total > 0 else Fraction(0) for s in sites}


def hub_balance(bundle: Bundle, assignments: Iterable[Assignment]) -> dict[str, float]:
    """Hours of hub duty each practice did beyond (above zero) its list share of the total."""
    duty = duty_seconds(bundle, assignments)
    total = duty.total(HUB)
    return {
        site_id: float(Fraction(duty.of(site_id, HUB) - share * total, 3600))
        for site_id, share in list_shares(bundle).items()
    }


# --------------------------------------------------------------------------- the report


@dataclass(frozen=True)
class Duty:
    """One kind of duty of one practice over the period."""

    hours: Decimal
    share: Decimal  # percent of the network's total of this duty
    fair: Decimal  # hours: its list share of the network's total
    balance: Decimal  # hours done minus the fair share; above zero = more than its share


@dataclass(frozen=True)
class PracticeLine:
    site_id: str
    name: str
    list_size: int
    list_share: Decimal  # percent of the practices' patients
    hub: Duty
    lending: Duty


@dataclass(frozen=True)
class FairnessReport:
    network: str
    period: Period
    lines: tuple[PracticeLine, ...]
    hub_total: Decimal
    lending_total: Decimal
    sessions: int  # published sessions in the period
    unattributed: int  # sessions of people, at sites or of session types no longer in it


def _decimal(value: Fraction) -> Decimal:
    """An exact figure written with two decimals, halves rounded away from zero."""
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return cents(exact)


def _duty(seconds: int, total: int, share: Fraction) -> Duty:
    hours, all_hours = Fraction(seconds, 3600), Fraction(total, 3600)
    fair = share * all_hours
    return Duty(
        hours=_decimal(hours),
        share=_decimal(hours / all_hours * 100) if total else Decimal("0.00"),
        fair=_decimal(fair),
        balance=_decimal(hours - fair),
    )


def fairness_report(
    bundle: Bundle, period: Period, assignments: Sequence[Assignment]
) -> FairnessReport:
    """The report of a period from its published sessions (those outside it are ignored)."""
    inside = [a for a in assignments if period.first <= a.date <= period.last]
    duty = duty_seconds(bundle, inside)
    shares = list_shares(bundle)
    hub_total, lending_total = duty.total(HUB), duty.total(LENDING)
    lines = tuple(
        PracticeLine(
            site_id=site.site_id,
            name=site.name,
            list_size=site.list_size,
            list_share=_decimal(shares[site.site_id] * 100),
            hub=_duty(duty.of(site.site_id, HUB), hub_total, shares[site.site_id]),
            lending=_duty(duty.of(site.site_id, LENDING), lending_total, shares[site.site_id]),
        )
        for site in practices(bundle)
    )
    return FairnessReport(
        network=bundle.name,
        period=period,
        lines=lines,
        hub_total=_decimal(Fraction(hub_total, 3600)),
        lending_total=_decimal(Fraction(lending_total, 3600)),
        sessions=duty.sessions,
        unattributed=duty.unattributed,
    )


# --------------------------------------------------------------------------- from the database


def load_fairness(session: Session, network_id: int, period: Period) -> FairnessReport:
    """The report of a stored network from its published rotas (NetworkLookupError if none)."""
    _, bundle = stored_bundle(session, network_id)
    found = published_assignments(session, network_id, period.first, period.last)
    return fairness_report(bundle, period, found)


def running_balance(
    session: Session, network_id: int, bundle: Bundle, week: str, weeks: int = ROLLING_WEEKS
) -> dict[str, float]:
    """Each practice's hub balance over the weeks before ``week``; empty without history."""
    try:
        period = period_before(week, weeks)
    except PeriodError:
        return {}  # no week before it can hold a rota
    found = published_assignments(session, network_id, period.first, period.last)
    return hub_balance(bundle, found) if found else {}


def with_fairness_balance(session: Session, network_id: int, bundle: Bundle, week: str) -> Bundle:
    """The bundle carrying the hub balance of the weeks before ``week`` into the solver."""
    balance = running_balance(session, network_id, bundle, week)
    return dataclasses.replace(bundle, fairness_balance=balance)


# --------------------------------------------------------------------------- text


def _signed(value: Decimal) -> str:
    return f"{value:+.2f}" if value else "0.00"


TEXT_COLUMNS = (
    ("Practice", "<"),
    ("List share", ">"),
    ("Hub h", ">"),
    ("Hub share", ">"),
    ("Hub balance", ">"),
    ("Lent h", ">"),
    ("Lent share", ">"),
    ("Lent balance", ">"),
)


def fairness_text(report: FairnessReport) -> list[str]:
    """The report as lines of aligned text, for a terminal or a plain e-mail."""
    cells = [
        (
            f"{line.site_id} {line.name}",
            f"{line.list_share}%",
            f"{line.hub.hours}",
            f"{line.hub.share}%",
            f"{_signed(line.hub.balance)} h",
            f"{line.lending.hours}",
            f"{line.lending.share}%",
            f"{_signed(line.lending.balance)} h",
        )
        for line in report.lines
    ]
    widths = [
        max([len(name), *(len(row[i]) for row in cells)])
        for i, (name, _) in enumerate(TEXT_COLUMNS)
    ]

    def aligned(row: Sequence[str]) -> str:
        columns = zip(row, TEXT_COLUMNS, widths, strict=True)
        return "  ".join(f"{cell:{align}{width}}" for cell, (_, align), width in columns).rstrip()

    lines = [
        f"Fairness between practices, {report.network}: {report.period.words}",
        f"Published sessions counted: {report.sessions}. Hub duty {report.hub_total} h and "
        f"lending {report.lending_total} h done by practices' staff in all.",
        "",
        *(
            [aligned([name for name, _ in TEXT_COLUMNS]), *(aligned(row) for row in cells)]
            if cells
            else ["The network has no practices."]
        ),
        "",
        "Hours count for each person's home practice. Balance: hours done less the practice's "
        "list share of the total; above zero, more than its share.",
    ]
    if report.unattributed:
        lines.append(
            f"{report.unattributed} published session(s) of people, at sites or of session types "
            "no longer in the network were left out."
        )
    return lines


# --------------------------------------------------------------------------- files


def fairness_rows(report: FairnessReport) -> list[Row]:
    """One row per practice, in the bundle's order."""
    return [
        (
            line.site_id,
            line.name,
            line.list_size,
            line.list_share,
            line.hub.hours,
            line.hub.share,
            line.hub.fair,
            line.hub.balance,
            line.lending.hours,
            line.lending.share,
            line.lending.fair,
            line.lending.balance,
        )
        for line in report.lines
    ]


def period_rows(report: FairnessReport) -> list[Row]:
    """What the figures cover, for the workbook's second sheet."""
    p = report.period
    return [
        ("network", report.network),
        ("first_week", p.first_week),
        ("last_week", p.last_week),
        ("weeks", p.weeks),
        ("from", p.first.isoformat()),
        ("to", p.last.isoformat()),
        ("published_sessions", report.sessions),
        ("unattributed_sessions", report.unattributed),
        ("hub_hours_total", report.hub_total),
        ("lending_hours_total", report.lending_total),
    ]


def write_fairness(path: Path, report: FairnessReport, kind: str) -> Path:
    """``fairness.csv`` (the practice table) or ``fairness.xlsx`` (that and the period)."""
    if kind == "csv":
        return write_csv(path, FAIRNESS_HEADER, fairness_rows(report))
    if kind == "xlsx":
        return write_workbook(
            path,
            {
                "fairness": (FAIRNESS_HEADER, fairness_rows(report)),
                "period": (PERIOD_HEADER, period_rows(report)),
            },
        )
    raise ValueError(f"{kind!r} is not one of {', '.join(KINDS)}")


def fairness_bytes(report: FairnessReport, kind: str) -> bytes:
    """The file's bytes, for a download."""
    with tempfile.TemporaryDirectory(prefix="rotapool-fairness-") as tmp:
        return write_fairness(Path(tmp) / f"fairness.{kind}", report, kind).read_bytes()
