"""The baseline the CP-SAT planner is measured against: a manager filling a spreadsheet.

``greedy_rota`` places every pinned session, then walks the week's needs in
the order a manager reads the sheet (date, session start, site, demand row)
and fills each one to its ``min``, home staff first and then the nearest
borrowed staff; a second walk fills to ``target`` the same way, and a last
walk tops up people still under ``min_hours`` with any need they fit.  It
never takes back a choice, so it shows what planning without search gives.

Every candidate is checked against the hard rules of ``solver.rules`` with a
small incremental state, so the rota keeps every hard rule except possibly
``min_hours``, which a greedy cannot promise (``check_rota`` reports it).
Hours, evenings and weekend sessions are counted over the whole horizon, as
the solver counts them (the horizon is one ISO week).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from scheduler.domain import Assignment, DemandRow, Fixed, Staff
from scheduler.horizon import Horizon, Need, Shift, duties

Slot = tuple[dt.date, str, str]  # date, session_id, site_id


@dataclass
class _Load:
    """What one person already works, so each new session is checked in a few comparisons."""

    person: Staff
    sessions_cap: int
    max_minutes: int
    booked: list[tuple[Shift, str]] = field(default_factory=list)  # shift, site
    per_day: Counter[dt.date] = field(default_factory=Counter)
    minutes: int = 0
    evenings: int = 0
    weekends: int = 0


class _Plan:
    """The rota under construction, with the running totals the hard rules need."""

    def __init__(self, horizon: Horizon) -> None:
        self.horizon = horizon
        self.rules = horizon.bundle.rules
        self.rooms = {s.site_id: s.rooms for s in horizon.bundle.sites}
        self.loads = {p.staff_id: self._new_load(p) for p in horizon.staff}
        self.in_room: Counter[Slot] = Counter()
        self.at_site: dict[str, list[Shift]] = defaultdict(list)
        self.filled: Counter[int] = Counter()  # need index -> people counted against it
        self.assignments: set[Assignment] = set()

    def _new_load(self, person: Staff) -> _Load:
        """A person's limits from their staff row and the network rules, the stricter winning."""
        per_day = person.max_sessions_per_day
        cap = per_day if per_day is not None else self.rules.max_sessions_per_day
        hours = min(person.max_hours, self.rules.max_week_hours)
        return _Load(person, cap, math.floor(hours * 60))

    # -- the hard rules, cheapest first --------------------------------------------

    def fits(self, staff_id: str, shift: Shift, site_id: str) -> bool:
        """Whether adding this session keeps every hard rule except ``min_hours``."""
        load = self.loads[staff_id]
        return (
            self._room_free(shift, site_id)
            and self._within_caps(load, shift)
            and self._no_clash(load, shift, site_id)
            and self._rested(load, shift)
            and self._day_off_kept(load, shift)
            and self._available(staff_id, shift, site_id)
        )

    def _room_free(self, shift: Shift, site_id: str) -> bool:
        """At no moment more people at a site than its rooms, nor in its building."""
        rooms = self.rooms.get(site_id, 0)
        if rooms > 0 and self._most_at_once({site_id}, shift) >= rooms:
            return False
        building = self.horizon.bundle.building_of(site_id)
        if building is None or building.rooms <= 0:
            return True
        members = set(self.horizon.bundle.sites_in(building.building))
        return self._most_at_once(members, shift) < building.rooms

    def _most_at_once(self, site_ids: set[str], shift: Shift) -> int:
        """The most people booked at these sites at one moment of ``shift``."""
        booked = [
            other
            for site_id in site_ids
            for other in self.at_site[site_id]
            if other.start < shift.end and shift.start < other.end
        ]
        moments = {shift.start} | {o.start for o in booked if o.start > shift.start}
        return max((sum(o.start <= t < o.end for o in booked) for t in moments), default=0)

    def _within_caps(self, load: _Load, shift: Shift) -> bool:
        """Sessions per day, hours, evenings and weekend sessions all stay within limits."""
        person = load.person
        return (
            load.per_day[shift.date] < load.sessions_cap
            and load.minutes + shift.minutes <= load.max_minutes
            and (not shift.is_evening or load.evenings < person.max_evenings)
            and (not shift.is_weekend or load.weekends < person.max_weekend_sessions)
        )

    def _no_clash(self, load: _Load, shift: Shift, site_id: str) -> bool:
        """Sessions (a night and the next morning too) neither overlap nor leave too little
        time to travel between sites."""
        for other, other_site in load.booked:
            if abs((other.date - shift.date).days) > 1:
                continue
            if other.start < shift.end and shift.start < other.end:
                return False
            first, second = (other, shift) if other.start < shift.start else (shift, other)
            here, there = (other_site, site_id) if first is other else (site_id, other_site)
            gap = (second.start - first.end).total_seconds() / 60
            if gap < self.horizon.travel_minutes(here, there):
                return False
        return True

    def _rested(self, load: _Load, shift: Shift) -> bool:
        """Sessions less than ``min_rest_hours`` apart are one duty, at most the person's
        ``max_duty_hours`` long."""
        rest = dt.timedelta(hours=self.rules.min_rest_hours)
        cap = dt.timedelta(hours=load.person.duty_hours(self.rules))
        spans = [(o.start, o.end) for o, _ in load.booked] + [(shift.start, shift.end)]
        return all(end - start <= cap for start, end in duties(spans, rest))

    def _day_off_kept(self, load: _Load, shift: Shift) -> bool:
        """Each ISO week keeps the person's days without any working moment."""
        most = 7 - load.person.days_off_per_week(self.rules)
        worked: dict[tuple[int, int], set[dt.date]] = defaultdict(set)
        for one in [o for o, _ in load.booked] + [shift]:
            for day in self.horizon.dates_touched(one):
                worked[day.isocalendar()[:2]].add(day)
        return all(len(days) <= most for days in worked.values())

    def _available(self, staff_id: str, shift: Shift, site_id: str) -> bool:
        """Not on leave and not marked unavailable for this session (slowest look-ups last)."""
        day, session_id = shift.date, shift.session_id
        return (
            self.horizon.leave_on(staff_id, day, session_id) is None
            and self.horizon.unavailable(staff_id, day, session_id, site_id) is None
        )

    # -- changes -----------------------------------------------------------------------

    def add(self, staff_id: str, shift: Shift, site_id: str, need: Need | None) -> None:
        """Book the session and count it against the need it fills, if any."""
        load = self.loads[staff_id]
        load.booked.append((shift, site_id))
        load.per_day[shift.date] += 1
        load.minutes += shift.minutes
        load.evenings += shift.is_evening
        load.weekends += shift.is_weekend
        self.in_room[(shift.date, shift.session_id, site_id)] += 1
        self.at_site[site_id].append(shift)
        self.assignments.add(Assignment(shift.date, shift.session_id, site_id, staff_id))
        if need is not None:
            self.filled[need.index] += 1

    def shortfall_minutes(self, person: Staff) -> int:
        """Minutes still to plan before planned plus leave hours reach ``min_hours``."""
        wanted = person.min_hours * 60 - self.horizon.leave_minutes(person)
        return math.ceil(wanted - 1e-6) - self.loads[person.staff_id].minutes


# -- order ---------------------------------------------------------------------------------


def need_order(horizon: Horizon) -> list[Need]:
    """Needs as a manager reads the sheet: date, session start, site, then demand row."""

    def key(need: Need) -> tuple[dt.date, dt.datetime, str, int, int]:
        start = horizon.shifts[(need.date, need.session_id)].start
        return (need.date, start, need.site_id, need.demand.row, need.index)

    return sorted(horizon.needs, key=key)


def candidates(horizon: Horizon, row: DemandRow) -> list[str]:
    """Who may fill a demand row: home staff first, then by travel from their home, then id."""
    site = row.site_id
    fitting = [
        p
        for p in horizon.staff
        if p.may_work_at(site)
        and (row.role is None or row.role == p.role)
        and (row.skill is None or row.skill in p.skills)
    ]
    fitting.sort(
        key=lambda p: (p.home_site != site, horizon.travel_minutes(p.home_site, site), p.staff_id)
    )
    return list(dict.fromkeys(p.staff_id for p in fitting))  # a repeated id counts once


# -- the passes ----------------------------------------------------------------------------


def place_pins(plan: _Plan, needs: list[Need]) -> None:
    """Pinned sessions go in first and unchecked: the solver treats them as given too."""
    by_slot = {(f.date, f.session_id, f.site_id, f.staff_id): f for f in plan.horizon.bundle.fixed}
    for _, pin in sorted(by_slot.items()):  # a repeated pin is placed once
        shift = plan.horizon.shifts.get((pin.date, pin.session_id))
        if shift is None or pin.staff_id not in plan.loads:
            continue  # outside the horizon, or a bundle the solver would reject anyway
        plan.add(pin.staff_id, shift, pin.site_id, pin_need(plan, needs, pin))


def pin_need(plan: _Plan, needs: list[Need], pin: Fixed) -> Need | None:
    """The need a pin counts against: the first fitting one below min, else below target."""
    person = plan.horizon.bundle.person(pin.staff_id)
    fitting = [
        n
        for n in needs
        if (n.date, n.session_id, n.site_id) == (pin.date, pin.session_id, pin.site_id)
        and n.admits(person)
    ]
    below_min = [n for n in fitting if plan.filled[n.index] < n.demand.min]
    below_target = [n for n in fitting if plan.filled[n.index] < n.demand.target]
    return next(iter(below_min + below_target + fitting), None)


def fill_pass(
    plan: _Plan,
    needs: Iterable[Need],
    who: Callable[[DemandRow], list[str]],
    wanted: Callable[[DemandRow], int],
) -> None:
    """Fill each need in turn up to ``wanted`` people with the first candidates that fit."""
    for need in needs:
        shift = plan.horizon.shifts[(need.date, need.session_id)]
        for staff_id in who(need.demand):
            if plan.filled[need.index] >= wanted(need.demand):
                break
            if plan.fits(staff_id, shift, need.site_id):
                plan.add(staff_id, shift, need.site_id, need)


def top_up(plan: _Plan, needs: list[Need]) -> None:
    """People under ``min_hours`` take any need they fit, unfilled and home needs first."""
    for person in sorted(plan.horizon.staff, key=lambda p: p.staff_id):
        if plan.shortfall_minutes(person) <= 0:
            continue
        home = person.home_site
        mine = [n for n in needs if person.may_work_at(n.site_id) and n.admits(person)]
        # the sort is stable: within each group the needs keep the sheet's order
        mine.sort(key=lambda n: (plan.filled[n.index] >= n.demand.target, n.site_id != home))
        for need in mine:
            if plan.shortfall_minutes(person) <= 0:
                break
            shift = plan.horizon.shifts[(need.date, need.session_id)]
            if plan.fits(person.staff_id, shift, need.site_id):
                plan.add(person.staff_id, shift, need.site_id, need)


def greedy_rota(horizon: Horizon) -> list[Assignment]:
    """A rota built the way a manager with a spreadsheet would, sorted; same input, same rota."""
    plan = _Plan(horizon)
    needs = need_order(horizon)
    cache: dict[DemandRow, list[str]] = {}

    def who(row: DemandRow) -> list[str]:
        if row not in cache:
            cache[row] = candidates(horizon, row)
        return cache[row]

    place_pins(plan, needs)
    fill_pass(plan, needs, who, lambda r: r.min)
    fill_pass(plan, needs, who, lambda r: r.target)
    top_up(plan, needs)
    return sorted(plan.assignments)
