"""Domain types shared by every layer: what a network is, what it needs, what a rota is.

Plain frozen dataclasses with no I/O.  The importer builds them from a bundle,
storage turns them into rows and back, the solver and the validator read them.
Every record remembers the row it came from (``row``, as a spreadsheet numbers
it, header = 1) so that any message about it can name the file and row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from zoneinfo import ZoneInfo

from scheduler.network_settings import (
    AvailabilitySettings,
    JobSettings,
    OpenSessionSettings,
    SwapSettings,
)

DAY_NAMES: tuple[str, ...] = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
WEEKEND = frozenset({5, 6})

# Logical file names of the bundle, used in every message about a record.
SITES = "sites.csv"
SESSION_TYPES = "session_types.csv"
STAFF = "staff.csv"
DEMAND = "demand.csv"
LEAVE = "leave.csv"
LEAVE_REQUESTS = "leave requests"  # approved in the web app; row = request number
ABSENCES = "absences"  # recorded by a coordinator after publication; row = absence number
DEMAND_CHANGES = "demand changes"  # recorded by a coordinator; see DemandRow.source_row
PREFERENCES = "preferences.csv"
AVAILABILITY = "availability"  # a clinician's own answers in the web app; row = answer number
FIXED = "fixed.csv"
TRAVEL = "travel.csv"
FORBIDDEN_SEQUENCES = "forbidden_sequences.csv"
SESSION_LIMITS = "session_limits.csv"
BUILDINGS = "buildings.csv"
NETWORK = "network.toml"

FEDERATION = "FED"
CHANGE_ROW_BASE = 1_000_000  # demand changes number their rows from here on


class SiteKind(StrEnum):
    PRACTICE = "practice"
    HUB = "hub"
    SERVICE = "service"  # a minor injuries unit, urgent care centre or out-of-hours base


class SessionKind(StrEnum):
    CORE = "core"
    EXTENDED = "extended"


class LeaveKind(StrEnum):
    ANNUAL = "annual"
    STUDY = "study"
    SICK = "sick"
    PARENTAL = "parental"
    OTHER = "other"


class PreferenceKind(StrEnum):
    UNAVAILABLE = "unavailable"
    AVOID = "avoid"
    PREFER = "prefer"


@dataclass(frozen=True)
class Rules:
    """Network-wide employment rules (``[rules]`` in network.toml)."""

    min_rest_hours: float = 11.0
    max_week_hours: float = 48.0
    max_sessions_per_day: int = 2
    # Sessions less than min_rest_hours apart form one duty of at most this many hours,
    # first start to last end; None = 24 - min_rest_hours (13 with the default rest).
    max_duty_hours: float | None = None
    min_days_off_per_week: int = 1  # whole calendar days without any work, per ISO week
    # A goal, not a limit: each further clinician of one role a site sees in an ISO week
    # costs weights.distinct_clinicians.  0 = no limit (sites differ too much for one number).
    max_clinicians_per_role: int = 0

    @property
    def duty_hours(self) -> float:
        """The longest duty: ``max_duty_hours``, else what a day leaves after its rest."""
        if self.max_duty_hours is not None:
            return self.max_duty_hours
        return max(24.0 - self.min_rest_hours, 1.0)


@dataclass(frozen=True)
class Weights:
    """Soft-goal weights, highest priority first (``[weights]`` in network.toml).

    Each weight is the penalty of one unit of its goal, so the order of the
    defaults is the order of priority: an unmet ``min`` outweighs any number of
    the goals below it that one session could buy.
    """

    min_cover: float = 10_000.0  # per person short of a demand row's min (x row weight)
    # Per hour of the enhanced-access windows without a bookable clinician, per hour without
    # a GP, and per hour below the weekly floor; only for a bundle with [enhanced_access].
    enhanced_access: float = 5_000.0
    target_cover: float = 1_000.0  # per person short of a row's target (x row weight)
    over_target: float = 100.0  # per person beyond a row's target (only pins/min_hours force it)
    away_from_home: float = 40.0  # per session worked away from the home site
    fair_share: float = 15.0  # per extra evening/weekend session beyond an even share
    practice_fairness: float = 10.0  # per hour a practice's hub duty strays from its list share
    preference: float = 8.0  # per unmet prefer / honoured-against avoid (x row weight)
    continuity: float = 3.0  # per recurring session given to someone new to it (history only)
    distinct_clinicians: float = 2.0  # per clinician beyond [rules] max_clinicians_per_role
    contract_hours: float = 2.0  # per hour of planned + leave hours under contract hours
    cost: float = 0.01  # per GBP of staff cost


@dataclass(frozen=True)
class Site:
    site_id: str
    name: str
    kind: SiteKind
    list_size: int
    rooms: int  # 0 = no limit
    lat: float | None = None
    lon: float | None = None
    building: str | None = None  # sites of one building share its rooms (buildings.csv)
    organisation: str | None = None  # who runs the site; None = the site itself
    bank_holidays: str | None = None  # "open" or "closed"; None = the network's default
    row: int = 0

    @property
    def runs_as(self) -> str:
        """The organisation that runs the site (recharges arise only between organisations)."""
        return self.organisation or self.site_id


@dataclass(frozen=True)
class Building:
    """A building whose consulting rooms its sites share (buildings.csv)."""

    building: str
    rooms: int  # usable at any one moment by all its sites together; 0 = no limit
    row: int = 0


@dataclass(frozen=True)
class SessionType:
    session_id: str
    label: str
    start: dt.time
    end: dt.time  # at or before start = ends the next day
    days: frozenset[int]  # 0 = Monday
    kind: SessionKind
    row: int = 0

    @property
    def overnight(self) -> bool:
        return self.end <= self.start

    def runs_on(self, day: dt.date) -> bool:
        return day.weekday() in self.days


@dataclass(frozen=True)
class Staff:
    staff_id: str
    name: str
    role: str
    home_site: str
    employer: str  # a site_id or FEDERATION
    contract_hours: float
    min_hours: float
    max_hours: float
    skills: frozenset[str] = frozenset()
    sites: frozenset[str] | None = None  # None = any site ("*")
    max_sessions_per_day: int | None = None  # None = the network rule
    max_duty_hours: float | None = None  # None = the network rule
    min_days_off_per_week: int | None = None  # None = the network rule
    max_evenings: int = 0
    max_weekend_sessions: int = 0
    hourly_rate: float | None = None
    email: str | None = None
    bank: bool = False  # bank or pool staff: no contracted week, they take sessions offered
    # Horizon rules (optional columns; None = no limit).  A "working day" is a
    # date on which one of the person's sessions starts.
    max_consecutive_days: int | None = None
    min_consecutive_days: int | None = None  # runs touching the horizon's edges are exempt
    min_days_off_in_row: int | None = None  # runs touching the horizon's edges are exempt
    max_weekends: int | None = None  # weekends (Sat or Sun) with any work, over the horizon
    min_horizon_hours: float | None = None  # planned plus leave hours over the horizon
    max_horizon_hours: float | None = None  # planned hours over the horizon
    row: int = 0

    def may_work_at(self, site_id: str) -> bool:
        return self.sites is None or site_id in self.sites

    def duty_hours(self, rules: Rules) -> float:
        """This person's longest duty: their own ``max_duty_hours``, else the network's."""
        return self.max_duty_hours if self.max_duty_hours is not None else rules.duty_hours

    def days_off_per_week(self, rules: Rules) -> int:
        """Whole days without work this person needs in each ISO week."""
        own = self.min_days_off_per_week
        return own if own is not None else rules.min_days_off_per_week


# The optional staff.csv columns of rules over the whole planning horizon.
HORIZON_RULE_FIELDS: tuple[str, ...] = (
    "max_consecutive_days",
    "min_consecutive_days",
    "min_days_off_in_row",
    "max_weekends",
    "min_horizon_hours",
    "max_horizon_hours",
)


@dataclass(frozen=True)
class DayRule:
    """A day as the bundle writes it: a set of weekdays, or one date."""

    weekdays: frozenset[int] = frozenset()
    date: dt.date | None = None

    def matches(self, day: dt.date) -> bool:
        if self.date is not None:
            return self.date == day
        return day.weekday() in self.weekdays


@dataclass(frozen=True)
class DemandRow:
    site_id: str
    day: DayRule
    session_id: str
    role: str | None  # None = any role
    skill: str | None  # None = no skill needed
    min: int
    target: int
    weight: float = 1.0
    row: int = 0  # unique over every source: see source_row
    source: str = DEMAND  # demand.csv, or a coordinator's demand change
    # A cancelled session (a demand change): on its date it replaces the rows with the same
    # key and is not in force itself, so nobody those rows took may work there.
    closes: bool = False

    @property
    def source_row(self) -> int:
        """The row (or change number) as its source shows it.

        Coverage lines name a demand row by ``row`` alone, so a demand change
        takes a row past any spreadsheet's (``CHANGE_ROW_BASE`` + its number).
        """
        return self.row - CHANGE_ROW_BASE if self.source == DEMAND_CHANGES else self.row

    @property
    def key(self) -> tuple[str, str, str | None, str | None]:
        """What a date row replaces: the weekday rows with the same key."""
        return (self.site_id, self.session_id, self.role, self.skill)


@dataclass(frozen=True)
class Leave:
    staff_id: str
    start: dt.date
    end: dt.date  # inclusive
    kind: LeaveKind
    session_id: str | None = None  # None = whole days
    row: int = 0
    source: str = LEAVE  # where the row is: leave.csv, or the web app's leave requests

    def covers(self, day: dt.date) -> bool:
        return self.start <= day <= self.end


@dataclass(frozen=True)
class Preference:
    staff_id: str
    day: DayRule
    session_id: str | None  # None = every session of that day
    site_id: str | None  # None = any site
    preference: PreferenceKind
    weight: float = 1.0
    row: int = 0
    source: str = PREFERENCES  # preferences.csv, or a clinician's availability answers


@dataclass(frozen=True)
class Fixed:
    staff_id: str
    date: dt.date
    session_id: str
    site_id: str
    row: int = 0


@dataclass(frozen=True)
class Travel:
    from_site: str
    to_site: str
    minutes: int
    row: int = 0


@dataclass(frozen=True)
class ForbiddenSequence:
    """A session that may not be followed by another on the next calendar day."""

    session_id: str
    next_day_session_id: str
    row: int = 0


@dataclass(frozen=True)
class SessionLimit:
    """At most ``max_sessions`` of one session type for one person over the horizon."""

    staff_id: str
    session_id: str
    max_sessions: int
    row: int = 0


def days_text(days: frozenset[int]) -> str:
    """Weekdays written compactly, runs as ranges: ``Mon-Fri;Sun``."""
    runs: list[list[int]] = []
    for day in sorted(days):
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    return ";".join(
        DAY_NAMES[r[0]] if len(r) == 1 else f"{DAY_NAMES[r[0]]}-{DAY_NAMES[r[-1]]}" for r in runs
    )


@dataclass(frozen=True)
class AccessWindow:
    """Part of the Network Standard Hours: a wall-clock span on some weekdays, within a day."""

    days: frozenset[int]  # 0 = Monday
    start: dt.time
    end: dt.time  # after start

    @property
    def text(self) -> str:
        """``Mon-Fri 18:30-20:00``, as network.toml writes it."""
        return f"{days_text(self.days)} {self.start:%H:%M}-{self.end:%H:%M}"

    def instants(self, day: dt.date, zone: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
        """The real start and end in UTC on ``day``, so that clock changes count as lived."""
        start = dt.datetime.combine(day, self.start, tzinfo=zone).astimezone(dt.UTC)
        end = dt.datetime.combine(day, self.end, tzinfo=zone).astimezone(dt.UTC)
        return start, end


# The Network Standard Hours of the Network Contract DES (since October 2022).
STANDARD_HOURS: tuple[AccessWindow, ...] = (
    AccessWindow(frozenset(range(5)), dt.time(18, 30), dt.time(20, 0)),
    AccessWindow(frozenset({5}), dt.time(9, 0), dt.time(17, 0)),
)


@dataclass(frozen=True)
class EnhancedAccess:
    """Enhanced-access settings (``[enhanced_access]`` in network.toml), defaults as the DES.

    The weekly floor is ``minutes_per_1000_per_week`` minutes of clinician time
    per 1,000 adjusted population, delivered in ``extended`` sessions inside the
    windows; every minute of a window needs a bookable clinician and a GP.
    """

    minutes_per_1000_per_week: float = 60.0
    adjusted_population: float | None = None  # None: the practices' list sizes stand in
    windows: tuple[AccessWindow, ...] = STANDARD_HOURS
    bookable_roles: frozenset[str] | None = None  # None = every role
    gp_role: str = "GP"

    def bookable(self, role: str) -> bool:
        return self.bookable_roles is None or role in self.bookable_roles

    def population(self, sites: Iterable[Site]) -> tuple[float, bool]:
        """The adjusted population, and whether list sizes stood in for it (True then)."""
        if self.adjusted_population is not None:
            return self.adjusted_population, False
        return float(sum(s.list_size for s in sites if s.kind is SiteKind.PRACTICE)), True

    def spans(self, day: dt.date, zone: ZoneInfo) -> list[AccessSpan]:
        """The windows of ``day`` as real instants, overlapping ones merged, in time order."""
        found = sorted(
            (*w.instants(day, zone), w.text) for w in self.windows if day.weekday() in w.days
        )
        spans: list[AccessSpan] = []
        for start, end, text in found:
            if spans and start <= spans[-1].end:
                last = spans[-1]
                spans[-1] = AccessSpan(day, last.start, max(last.end, end), f"{last.text} + {text}")
            else:
                spans.append(AccessSpan(day, start, end, text))
        return spans


@dataclass(frozen=True)
class AccessSpan:
    """One date's window of the Network Standard Hours, in UTC (overlapping windows merged)."""

    date: dt.date
    start: dt.datetime
    end: dt.datetime
    text: str  # the window(s) as network.toml writes them

    @property
    def minutes(self) -> int:
        return round((self.end - self.start).total_seconds() / 60)

    def overlap(self, start: dt.datetime, end: dt.datetime) -> int:
        """Minutes of ``start``-``end`` inside the span."""
        seconds = (min(end, self.end) - max(start, self.start)).total_seconds()
        return max(0, round(seconds / 60))


@dataclass(frozen=True)
class Bundle:
    """A validated scenario bundle: everything needed to plan any week."""

    name: str
    timezone: str
    rules: Rules
    weights: Weights
    sites: tuple[Site, ...]
    session_types: tuple[SessionType, ...]
    staff: tuple[Staff, ...]
    demand: tuple[DemandRow, ...]
    leave: tuple[Leave, ...] = ()
    preferences: tuple[Preference, ...] = ()
    fixed: tuple[Fixed, ...] = ()
    travel: tuple[Travel, ...] = ()
    forbidden_sequences: tuple[ForbiddenSequence, ...] = ()
    session_limits: tuple[SessionLimit, ...] = ()
    buildings: tuple[Building, ...] = ()
    enhanced_access: dict[str, float] = field(default_factory=dict)
    # The typed [enhanced_access] settings; None when the bundle has no such section (the
    # dict above keeps the section's numbers as written).
    enhanced_access_settings: EnhancedAccess | None = None
    # Weekday demand rows do not apply on bank holidays at a site that does not say
    # otherwise (sites.csv ``bank_holidays``; ``[calendar] bank_holidays`` in network.toml).
    bank_holidays_closed: bool = True
    # How each logical file is shown to the user (e.g. "staff.csv" -> "net.xlsx[staff]").
    file_labels: dict[str, str] = field(default_factory=dict)
    # Hub hours each practice did beyond (or short of) its list share of the network's, over
    # the weeks before the plan (scheduler.reports.fairness); set from published history when
    # weeks are planned from the database, never imported or stored. Empty = no history.
    fairness_balance: dict[str, float] = field(default_factory=dict)
    # Who worked each recurring session, (site, weekday 0 = Monday, session), in the last
    # published weeks before the plan (scheduler.reports.continuity); like fairness_balance,
    # set at planning time from the database, never imported or stored. Empty = no history.
    previous_sessions: dict[tuple[str, int, str], frozenset[str]] = field(default_factory=dict)
    jobs: JobSettings = field(default_factory=JobSettings)  # [jobs] in network.toml
    open_sessions: OpenSessionSettings = field(default_factory=OpenSessionSettings)
    swaps: SwapSettings = field(default_factory=SwapSettings)
    availability: AvailabilitySettings = field(default_factory=AvailabilitySettings)

    def label(self, logical_file: str) -> str:
        return self.file_labels.get(logical_file, logical_file)

    def site(self, site_id: str) -> Site:
        return next(s for s in self.sites if s.site_id == site_id)

    def closed_on_bank_holidays(self, site_id: str) -> bool:
        """Whether the site's weekday demand rows stop on bank holidays (dated rows apply)."""
        own = self._sites_by_id[site_id].bank_holidays if site_id in self._sites_by_id else None
        return self.bank_holidays_closed if own is None else own == "closed"

    def organisation_of(self, employer: str) -> str:
        """The organisation an employer (a site id, an organisation, or FED) stands for."""
        site = self._sites_by_id.get(employer)
        return site.runs_as if site is not None else employer

    def recharged(self, person: Staff, site_id: str) -> bool:
        """Whether the person's work at the site is recharged: their employer is another
        organisation than the one that runs the site (a super-partnership's own staff at
        its own sites are not; a practice's are anywhere but at that practice)."""
        return self.organisation_of(person.employer) != self.organisation_of(site_id)

    def building_of(self, site_id: str) -> Building | None:
        """The building whose rooms the site shares, if it names one."""
        site = self._sites_by_id.get(site_id)
        if site is None or site.building is None:
            return None
        return next((b for b in self.buildings if b.building == site.building), None)

    def sites_in(self, building: str) -> frozenset[str]:
        """The sites sharing a building's rooms."""
        return frozenset(s.site_id for s in self.sites if s.building == building)

    @cached_property
    def _sites_by_id(self) -> dict[str, Site]:
        return {s.site_id: s for s in reversed(self.sites)}

    def session_type(self, session_id: str) -> SessionType:
        return next(s for s in self.session_types if s.session_id == session_id)

    def person(self, staff_id: str) -> Staff:
        return self._staff_by_id[staff_id]

    @cached_property
    def _staff_by_id(self) -> dict[str, Staff]:
        """The model asks for people by id tens of thousands of times on a large network."""
        return {s.staff_id: s for s in reversed(self.staff)}  # the first row of a repeated id


@dataclass(frozen=True, order=True)
class Assignment:
    """One person at one site for one session on one date."""

    date: dt.date
    session_id: str
    site_id: str
    staff_id: str


@dataclass(frozen=True)
class Problem:
    """A message about the input, addressed as ``FILE:ROW: column: message``."""

    file: str
    row: int
    column: str
    message: str
    warning: bool = False

    def __str__(self) -> str:
        prefix = "warning: " if self.warning else ""
        return f"{self.file}:{self.row}: {self.column}: {prefix}{self.message}"


# Weeks outside these years are typos; the margin keeps "the weeks around it" (previous and
# next links, a horizon of several weeks) inside the dates Python can represent.
FIRST_WEEK_YEAR = 1900
LAST_WEEK_YEAR = 2999


def parse_iso_week(text: str) -> tuple[dt.date, ...]:
    """The seven dates of an ISO week written ``2026-W49``; raises ValueError otherwise."""
    try:
        year_text, week_text = text.strip().upper().split("-W")
        year = int(year_text)
        monday = dt.date.fromisocalendar(year, int(week_text), 1)
    except ValueError as err:
        raise ValueError(f"{text!r} is not an ISO week such as 2026-W49") from err
    if not FIRST_WEEK_YEAR <= year <= LAST_WEEK_YEAR:
        raise ValueError(
            f"{text!r} is outside the years {FIRST_WEEK_YEAR} to {LAST_WEEK_YEAR}; "
            "write a week such as 2026-W49"
        )
    return tuple(monday + dt.timedelta(days=i) for i in range(7))


def iso_weeks(first_week: str, count: int) -> tuple[dt.date, ...]:
    """The dates of ``count`` consecutive ISO weeks from ``first_week`` (``2026-W49``)."""
    monday = parse_iso_week(first_week)[0]
    return tuple(monday + dt.timedelta(days=i) for i in range(7 * count))


def iso_week_label(day: dt.date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"
