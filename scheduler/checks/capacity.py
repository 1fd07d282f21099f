"""Spare capacity: who could still work a session of the week, where, and at what cost.

For each date and session of a week's rota, the people who are free then
(not assigned, no overlapping session, not on leave), who still have unused
contracted time that week (contract hours - planned hours - leave hours > 0),
and the sites where they could take the session without breaking a hard rule.

Checking every (person, session, site) with the full validator would take
minutes on a 60-practice federation, so adding one session is checked here
rule by rule against the person's own week: one small function per hard rule
an addition can break, registered once below, each reading the same figures
the validator reads.  Rules an addition can never break (minimum hours,
pinned sessions) are not checked.  ``tests/test_capacity.py`` holds this
cheaper route to the validator's verdict on random networks.

Pure functions of a bundle and a rota; no I/O.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property

from scheduler.checks.rota_facts import DAYS_PER_WEEK, fits_row
from scheduler.checks.rule_table import RULES
from scheduler.checks.validator import CoverageLine, coverage_of
from scheduler.domain import (
    DAY_NAMES,
    Assignment,
    Bundle,
    DemandRow,
    Staff,
    iso_week_label,
)
from scheduler.horizon import Horizon, Shift, duties
from scheduler.money import SECONDS_PER_HOUR, cents, hours_of

RULE_LABELS = {rule_id: label for rule_id, label, _ in RULES}

SlotKey = tuple[dt.date, str]  # date, session_id


def day_label(day: dt.date) -> str:
    """``Tue 2026-12-01``, weekday names in English whatever the locale."""
    return f"{DAY_NAMES[day.weekday()]} {day.isoformat()}"


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class SiteOption:
    """A site where the person could work the session."""

    site_id: str
    travel_minutes: int  # from their home site
    wanted: bool  # a need there that the person fits is below its target


@dataclass(frozen=True)
class Spare:
    """One person free in one session of the week, and where they could work it."""

    date: dt.date
    session_id: str
    person: Staff
    hours: Decimal  # the session's length
    spare_hours: Decimal  # contract - planned - leave, for the whole week
    sites: tuple[SiteOption, ...]

    @property
    def rate(self) -> Decimal | None:
        rate = self.person.hourly_rate
        return None if rate is None else cents(Decimal(str(rate)))

    @property
    def day(self) -> str:
        return day_label(self.date)


# --------------------------------------------------------------------------- the rota, indexed


@dataclass(frozen=True)
class PersonWeek:
    """One person's sessions of the week (with their real instants) and the figures rules read."""

    person: Staff
    shifts: tuple[tuple[Assignment, Shift], ...]

    def without(self, cell: Assignment) -> PersonWeek:
        """The same week with one session given up."""
        return PersonWeek(self.person, tuple(s for s in self.shifts if s[0] != cell))

    @cached_property
    def seconds(self) -> int:
        return sum(seconds_of(shift) for _, shift in self.shifts)

    @cached_property
    def dates(self) -> frozenset[dt.date]:
        return frozenset(a.date for a, _ in self.shifts)

    def on(self, day: dt.date) -> list[tuple[Assignment, Shift]]:
        return [(a, s) for a, s in self.shifts if a.date == day]

    def count(self, chosen: Callable[[Shift], bool]) -> int:
        return sum(1 for _, shift in self.shifts if chosen(shift))


def seconds_of(shift: Shift) -> int:
    """Seconds actually worked (clock changes included), as the validator counts them."""
    return int((shift.end - shift.start).total_seconds())


class RotaIndex:
    """A week's rota indexed for "could this person also work that session there?".

    ``dates`` are one ISO week: weekly rules are counted over all of them.
    """

    def __init__(
        self,
        bundle: Bundle,
        dates: Sequence[dt.date],
        assignments: Iterable[Assignment],
        coverage: Sequence[CoverageLine] | None = None,
    ) -> None:
        self.bundle = bundle
        self.horizon = Horizon(bundle, dates)
        self.dates = self.horizon.dates
        self.assignments = tuple(sorted(set(assignments)))
        self.staff = {p.staff_id: p for p in reversed(bundle.staff)}  # first row of an id
        self.sites = {s.site_id: s for s in bundle.sites}
        if coverage is None:
            coverage = coverage_of(bundle, self.dates, self.assignments)
        self.lines: dict[tuple[dt.date, str, str], list[CoverageLine]] = defaultdict(list)
        for line in coverage:
            self.lines[(line.date, line.site_id, line.session_id)].append(line)
        self.by_staff: dict[str, list[Assignment]] = defaultdict(list)
        self.per_slot: Counter[tuple[dt.date, str, str]] = Counter()
        for a in self.assignments:
            self.by_staff[a.staff_id].append(a)
            self.per_slot[(a.date, a.session_id, a.site_id)] += 1
        self.rows: dict[SlotKey, dict[str, list[DemandRow]]] = defaultdict(dict)
        for need in self.horizon.needs:
            self.rows[(need.date, need.session_id)].setdefault(need.site_id, []).append(need.demand)
        self.banned = {(f.session_id, f.next_day_session_id) for f in bundle.forbidden_sequences}
        self.session_limits: dict[tuple[str, str], int] = {}
        for limit in bundle.session_limits:
            key = (limit.staff_id, limit.session_id)
            self.session_limits[key] = min(limit.max_sessions, self.session_limits.get(key, 10**9))

    # -- look-ups ----------------------------------------------------------------------

    def shifts_in_order(self) -> list[Shift]:
        """The week's sessions by date, then start time."""
        return sorted(self.horizon.shifts.values(), key=lambda s: (s.start, s.session_id))

    def shift(self, day: dt.date, session_id: str) -> Shift | None:
        return self.horizon.shifts.get((day, session_id))

    def week_of(self, person: Staff) -> PersonWeek:
        """The person's sessions; an assignment of a session the bundle lacks is left out."""
        found = []
        for a in self.by_staff.get(person.staff_id, ()):
            shift = self.shift(a.date, a.session_id)
            if shift is not None:
                found.append((a, shift))
        return PersonWeek(person, tuple(found))

    def present(self, day: dt.date, session_id: str, site_id: str) -> list[Staff]:
        """The known people assigned to one site in one session, by staff id."""
        ids = sorted(
            a.staff_id
            for a in self.by_staff_in_slot.get((day, session_id, site_id), ())
            if a.staff_id in self.staff
        )
        return [self.staff[i] for i in ids]

    @cached_property
    def by_staff_in_slot(self) -> dict[tuple[dt.date, str, str], list[Assignment]]:
        out: dict[tuple[dt.date, str, str], list[Assignment]] = defaultdict(list)
        for a in self.assignments:
            out[(a.date, a.session_id, a.site_id)].append(a)
        return out

    def most_present(self, site_ids: Iterable[str], shift: Shift) -> int:
        """The most people working at once at these sites during the session (cached)."""
        key = (frozenset(site_ids), shift.date, shift.session_id)
        if key not in self._present:
            timed = [
                other
                for site_id in key[0]
                for other in self._shifts_at.get(site_id, ())
                if other.start < shift.end and shift.start < other.end
            ]
            moments = {shift.start} | {o.start for o in timed if o.start > shift.start}
            self._present[key] = max(
                (sum(1 for o in timed if o.start <= t < o.end) for t in moments), default=0
            )
        return self._present[key]

    def rooms_left(self, site_id: str, shift: Shift) -> int | None:
        """Rooms free throughout the session at the site and in the building it shares;
        None when neither limits rooms."""
        left: list[int] = []
        rooms = self.sites[site_id].rooms
        if rooms > 0:
            left.append(rooms - self.most_present({site_id}, shift))
        building = self.bundle.building_of(site_id)
        if building is not None and building.rooms > 0:
            members = self.bundle.sites_in(building.building)
            left.append(building.rooms - self.most_present(members, shift))
        return max(0, min(left)) if left else None

    @cached_property
    def _present(self) -> dict[tuple[frozenset[str], dt.date, str], int]:
        return {}

    @cached_property
    def _shifts_at(self) -> dict[str, list[Shift]]:
        """Each site's worked sessions, one entry per person assigned."""
        out: dict[str, list[Shift]] = defaultdict(list)
        for a in self.assignments:
            shift = self.shift(a.date, a.session_id)
            if shift is not None:
                out[a.site_id].append(shift)
        return dict(out)

    def spare_seconds(self, week: PersonWeek) -> float:
        """Contracted time not yet planned nor taken as leave this week."""
        leave = self.horizon.leave_minutes(week.person) * 60
        return week.person.contract_hours * SECONDS_PER_HOUR - week.seconds - leave

    def travel(self, a: str, b: str) -> int:
        return self.horizon.travel_minutes(a, b)

    # -- the verdict ---------------------------------------------------------------------

    def person_breaks(self, week: PersonWeek, shift: Shift) -> str | None:
        """The first hard rule adding the session (at any site) would break, or None."""
        for rule_id, keeps in PERSON_RULES:
            if not keeps(self, week, shift):
                return rule_id
        return None

    def site_breaks(self, week: PersonWeek, shift: Shift, site_id: str) -> str | None:
        """The first hard rule adding the session at this site would break, or None."""
        for rule_id, keeps in SITE_RULES:
            if not keeps(self, week, shift, site_id):
                return rule_id
        return None

    def breaks(self, week: PersonWeek, shift: Shift, site_id: str) -> str | None:
        """The first hard rule adding the session at the site would break, or None."""
        return self.person_breaks(week, shift) or self.site_breaks(week, shift, site_id)

    def wanted(self, person: Staff, shift: Shift, site_id: str) -> bool:
        """A need of the site in that session that the person fits is below its target."""
        lines = self.lines.get((shift.date, site_id, shift.session_id), ())
        return any(
            line.assigned < line.target
            and (line.role is None or line.role == person.role)
            and (line.skill is None or line.skill in person.skills)
            for line in lines
        )

    def site_options(self, week: PersonWeek, shift: Shift) -> list[SiteOption]:
        """Every site where the person could work the session, nearest first."""
        person = week.person
        there = self.rows.get((shift.date, shift.session_id), {})
        sites = there if person.sites is None else [s for s in person.sites if s in there]
        options = []
        for site_id in sites:
            if self.site_breaks(week, shift, site_id) is None:
                options.append(
                    SiteOption(
                        site_id,
                        self.travel(person.home_site, site_id),
                        self.wanted(person, shift, site_id),
                    )
                )
        return sorted(options, key=lambda o: (o.travel_minutes, o.site_id))


# --------------------------------------------------------------------------- rules a person carries

PersonRule = Callable[[RotaIndex, PersonWeek, Shift], bool]
SiteRule = Callable[[RotaIndex, PersonWeek, Shift, str], bool]


def keeps_clear_of_other_sessions(index: RotaIndex, week: PersonWeek, shift: Shift) -> bool:
    """No session overlaps it in time (the slot itself, and a night of the day before, included)."""
    return not any(other.start < shift.end and shift.start < other.end for _, other in week.shifts)


def keeps_off_leave(index: RotaIndex, week: PersonWeek, shift: Shift) -> bool:
    """No leave covers the date or the session."""
    return index.horizon.leave_on(week.person.staff_id, shift.date, shift.session_id) is None


def keeps_sessions_per_day(index: RotaIndex, week: PersonWeek, shift: Shift) -> bool:
    """The date's sessions stay within the person's (or the network's) daily limit."""
    limit = week.person.max_sessions_per_day
    if limit is None:
        limit = index.bundle.rules.max_sessions_per_day
    return len(week.on(shift.date)) + 1 <= limit


def keeps_daily_rest(index: RotaIndex, week: PersonWeek, shift: Shift) -> bool:
    """The duty it joins (sessions less than the rest apart) stays within the longest duty."""
    rest = dt.timedelta(hours=index.bundle.rules.min_rest_hours)
    cap = dt.timedelta(hours=week.person.duty_hours(index.bundle.rules))
    spans = [(other.start, other.end) for _, other in week.shifts] + [(shift.start, shift.end)]
    return all(end - start <= cap for start, end in duties(spans, rest))


def keeps_days_off(index: RotaIndex, week: PersonWeek, shift: Shift) -> bool:
    """Each ISO week keeps the person's days off: dates with no working moment."""
    needed = week.person.days_off_per_week(index.bundle.rules)
    worked: dict[tuple[int, int], set[dt.date]] = defaultdict(set)
    for one in [other for _, other in week.shifts] + [shift]:
        for day in index.horizon.dates_touched(one):
            worked[day.isocalendar()[:2]].add(day)
    return all(len(days) <= DAYS_PER_WEEK - needed for days in worked.values())


def keeps_weekly_hours(index: RotaIndex, week: PersonWeek, shift: Shift) -> bool:
    """Planned hours stay within the person's maximum and the network's weekly cap."""
    cap = min(week.person.max_hours, index.bundle.rules.max_week_hours)
    return week.seconds + seconds_of(shift) <= cap * SECONDS_PER_HOUR


def keeps_evenings(index: RotaIndex, week: PersonWeek, shift: Shift) -> bool:
    """A weekday extended session stays within the person's agreed evenings."""
    if not shift.is_evening:
        return True
    return week.count(lambda s: s.is_evening) + 1 <= week.person.max_evenings


def keeps_weekend_sessions(index: RotaIndex, week: PersonWeek, shift: Shift) -> bool:
    """A Saturday or Sunday session stays within the person's agreed weekend sessions."""
    if not shift.is_weekend:
        return True
    return week.count(lambda s: s.is_weekend) + 1 <= week.person.max_weekend_sessions


def keeps_sequences(index: RotaIndex, week: PersonWeek, shift: Shift) -> bool:
    """No forbidden pair with a session on the date before or after."""
    if not index.banned:
        return True
    day = shift.date
    for a, _ in week.shifts:
        if (
            a.date == day - dt.timedelta(days=1)
            and (a.session_id, shift.session_id) in index.banned
        ):
            return False
        if (
            a.date == day + dt.timedelta(days=1)
            and (shift.session_id, a.session_id) in index.banned
        ):
            return False
    return True


def runs(dates: Sequence[dt.date], worked: frozenset[dt.date], working: bool) -> list[range]:
    """Maximal runs of working days (or of days off), as index ranges of ``dates``."""
    found: list[range] = []
    start: int | None = None
    for i, day in enumerate(dates):
        inside = (day in worked) == working
        if inside and start is None:
            start = i
        if not inside and start is not None:
            found.append(range(start, i))
            start = None
    if start is not None:
        found.append(range(start, len(dates)))
    return found


def keeps_consecutive_days(index: RotaIndex, week: PersonWeek, shift: Shift) -> bool:
    """No run of working days grows past max_consecutive_days."""
    cap = week.person.max_consecutive_days
    if cap is None:
        return True
    worked = week.dates | {shift.date}
    return all(len(run) <= cap for run in runs(index.dates, worked, working=True))


def keeps_minimum_runs(index: RotaIndex, week: PersonWeek, shift: Shift) -> bool:
    """Runs of days on and off stay long enough, except those touching the week's edges."""
    person, last = week.person, len(index.dates)
    worked = week.dates | {shift.date}
    for working, least in (
        (True, person.min_consecutive_days),
        (False, person.min_days_off_in_row),
    ):
        if not least:
            continue
        for run in runs(index.dates, worked, working):
            if run.start != 0 and run.stop != last and len(run) < least:
                return False
    return True


def keeps_weekends_worked(index: RotaIndex, week: PersonWeek, shift: Shift) -> bool:
    """Weekends with any work stay within max_weekends."""
    cap = week.person.max_weekends
    if cap is None:
        return True
    weekend = {iso_week_label(a.date) for a, s in week.shifts if s.is_weekend}
    if shift.is_weekend:
        weekend.add(iso_week_label(shift.date))
    return len(weekend) <= cap


def keeps_horizon_hours(index: RotaIndex, week: PersonWeek, shift: Shift) -> bool:
    """Hours over the plan stay within max_horizon_hours."""
    high = week.person.max_horizon_hours
    if high is None:
        return True
    return week.seconds + seconds_of(shift) <= high * SECONDS_PER_HOUR + 1e-6


def keeps_session_limit(index: RotaIndex, week: PersonWeek, shift: Shift) -> bool:
    """Sessions of this type stay within session_limits.csv."""
    limit = index.session_limits.get((week.person.staff_id, shift.session_id))
    if limit is None:
        return True
    return week.count(lambda s: s.session_id == shift.session_id) + 1 <= limit


# Cheap and selective first: most people are busy or on leave in most sessions.
PERSON_RULES: tuple[tuple[str, PersonRule], ...] = (
    ("overlap", keeps_clear_of_other_sessions),
    ("leave", keeps_off_leave),
    ("sessions_per_day", keeps_sessions_per_day),
    ("max_hours", keeps_weekly_hours),
    ("rest", keeps_daily_rest),
    ("days_off", keeps_days_off),
    ("evenings", keeps_evenings),
    ("weekends", keeps_weekend_sessions),
    ("sequence", keeps_sequences),
    ("max_consecutive", keeps_consecutive_days),
    ("min_runs", keeps_minimum_runs),
    ("max_weekends", keeps_weekends_worked),
    ("horizon_hours", keeps_horizon_hours),
    ("session_limit", keeps_session_limit),
)


# --------------------------------------------------------------------------- rules of a site


def fits_a_need_there(index: RotaIndex, week: PersonWeek, shift: Shift, site_id: str) -> bool:
    """The person may work at the site and fits a need of it in force that session."""
    person = week.person
    rows = index.rows.get((shift.date, shift.session_id), {}).get(site_id, ())
    return person.may_work_at(site_id) and any(fits_row(row, person) for row in rows)


def available_there(index: RotaIndex, week: PersonWeek, shift: Shift, site_id: str) -> bool:
    """No 'unavailable' preference matches the date, session and site."""
    horizon = index.horizon
    return horizon.unavailable(week.person.staff_id, shift.date, shift.session_id, site_id) is None


def leaves_time_to_travel(index: RotaIndex, week: PersonWeek, shift: Shift, site_id: str) -> bool:
    """The gap to each of the person's other sessions is at least the travel between the sites."""
    for a, other in week.shifts:
        if other.start <= shift.start:
            gap, need = shift.start - other.end, index.travel(a.site_id, site_id)
        else:
            gap, need = other.start - shift.end, index.travel(site_id, a.site_id)
        if gap.total_seconds() // 60 < need:
            return False
    return True


def has_a_room(index: RotaIndex, week: PersonWeek, shift: Shift, site_id: str) -> bool:
    """The site, and the building it shares, have a consulting room left throughout the session."""
    return index.rooms_left(site_id, shift) != 0


SITE_RULES: tuple[tuple[str, SiteRule], ...] = (
    ("eligible", fits_a_need_there),
    ("unavailable", available_there),
    ("overlap", leaves_time_to_travel),
    ("rooms", has_a_room),
)


# --------------------------------------------------------------------------- the view


def spare_capacity(
    bundle: Bundle,
    dates: Sequence[dt.date],
    assignments: Iterable[Assignment],
    coverage: Sequence[CoverageLine] | None = None,
) -> list[Spare]:
    """Everyone free in each session of the week with contracted time left, and where they fit.

    Sorted by date, session start, then name.  ``bundle`` should carry every
    leave the network knows of (approved requests and absences included).
    """
    index = RotaIndex(bundle, dates, assignments, coverage)
    shifts = [s for s in index.shifts_in_order() if index.rows.get((s.date, s.session_id))]
    found = []
    for person in index.staff.values():
        week = index.week_of(person)
        spare = index.spare_seconds(week)
        if spare <= 0:
            continue
        for shift in shifts:
            if index.person_breaks(week, shift) is not None:
                continue
            options = index.site_options(week, shift)
            if options:
                found.append(
                    Spare(
                        date=shift.date,
                        session_id=shift.session_id,
                        person=person,
                        hours=hours_of(seconds_of(shift)),
                        spare_hours=hours_of(spare),
                        sites=tuple(options),
                    )
                )
    order = {(s.date, s.session_id): i for i, s in enumerate(index.shifts_in_order())}
    return sorted(
        found, key=lambda s: (order[(s.date, s.session_id)], s.person.name, s.person.staff_id)
    )


def by_session(spares: Iterable[Spare]) -> list[tuple[dt.date, str, list[Spare]]]:
    """The spare people grouped by date and session, in the order given."""
    groups: dict[SlotKey, list[Spare]] = {}
    for spare in spares:
        groups.setdefault((spare.date, spare.session_id), []).append(spare)
    return [(day, session_id, found) for (day, session_id), found in groups.items()]


CAPACITY_HEADER: tuple[str, ...] = (
    "date",
    "day",
    "session_id",
    "staff_id",
    "name",
    "role",
    "skills",
    "home_site",
    "employer",
    "session_hours",
    "spare_hours",
    "hourly_rate",
    "sites",
)


def site_text(option: SiteOption) -> str:
    """``P02 (15 min, wanted)``: a site, the travel from home, and whether a need is unmet."""
    wanted = ", wanted" if option.wanted else ""
    return f"{option.site_id} ({option.travel_minutes} min{wanted})"


def capacity_rows(spares: Iterable[Spare]) -> list[tuple[object, ...]]:
    """The spare capacity as rows under ``CAPACITY_HEADER``, for a CSV file or a table."""
    return [
        (
            s.date.isoformat(),
            DAY_NAMES[s.date.weekday()],
            s.session_id,
            s.person.staff_id,
            s.person.name,
            s.person.role,
            ";".join(sorted(s.person.skills)),
            s.person.home_site,
            s.person.employer,
            s.hours,
            s.spare_hours,
            s.rate,
            "; ".join(site_text(o) for o in s.sites),
        )
        for s in spares
    ]
