"""The reasons one person did not fill a need, one small function each, in order.

The first reason that applies wins, so the order in ``CHECKS`` is part of
the meaning: site rights first (someone who may never work here is not
missed for being on leave), "free but not used" last (it always applies).
Each reason reads the indexed plan (``Plan``) of the rota being explained.

A reason that is a hard rule carries the rule's id from ``scheduler.catalogue``
(``max_hours``, ``rest``, ``overlap``...); the others (``assigned``,
``pinned_elsewhere``, ``needed``, ``other_rule``, ``free``) describe the rota.  The
rules over several days that have no reason of their own (runs, sequences,
weekends worked, hours over the plan, sessions of one type) are found by
``breaks_another_rule`` through spare capacity's checks of one person's week,
and worded with the catalogue's ``bites``.  Those checks see the ISO week of
the need: a run that crosses into the next week of a longer plan is not seen,
and that person reads as "free but not used"."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property

from scheduler import catalogue
from scheduler.checks.capacity import PERSON_RULES, PersonWeek, RotaIndex, keeps_daily_rest
from scheduler.checks.validator import allocate
from scheduler.checks.wording import Reason, Wording, hours_words, same_reason
from scheduler.domain import FIXED, Assignment, Fixed, LeaveKind, SiteKind, Staff
from scheduler.horizon import Horizon, Need, Shift

# --------------------------------------------------------------------------- the plan


class Plan:
    """The rota indexed by person and by slot, for the questions the checks ask."""

    def __init__(self, horizon: Horizon, assignments: Iterable[Assignment]) -> None:
        self.horizon = horizon
        self.by_staff: dict[str, list[Assignment]] = {}
        self.per_slot: Counter[tuple[dt.date, str, str]] = Counter()
        self.in_slot: dict[tuple[dt.date, str, str], list[str]] = {}
        for a in sorted(set(assignments)):
            self.by_staff.setdefault(a.staff_id, []).append(a)
            self.per_slot[(a.date, a.session_id, a.site_id)] += 1
            self.in_slot.setdefault((a.date, a.session_id, a.site_id), []).append(a.staff_id)
        self._needed: dict[Assignment, bool] = {}
        self._weeks: dict[dt.date, RotaIndex] = {}

    def of(self, staff_id: str) -> list[Assignment]:
        return self.by_staff.get(staff_id, [])

    @cached_property
    def staff(self) -> dict[str, Staff]:
        """The bundle's people by id (a stored rota may name someone since removed)."""
        return {p.staff_id: p for p in reversed(self.horizon.staff)}

    @cached_property
    def pins(self) -> dict[Assignment, Fixed]:
        """fixed.csv's rows by the assignment each one pins."""
        return {
            Assignment(f.date, f.session_id, f.site_id, f.staff_id): f
            for f in self.horizon.bundle.fixed
        }

    @cached_property
    def needs_by_slot(self) -> dict[tuple[dt.date, str, str], list[Need]]:
        """The horizon's needs per (date, session, site)."""
        out: dict[tuple[dt.date, str, str], list[Need]] = {}
        for need in self.horizon.needs:
            out.setdefault((need.date, need.session_id, need.site_id), []).append(need)
        return out

    def needed(self, a: Assignment) -> bool:
        """Whether the slot of ``a`` would fall (further) short of a ``min`` without its person.

        People are shared out over the slot's rows as the validator counts
        coverage, so the answer matches coverage.csv.
        """
        if a not in self._needed:
            slot = (a.date, a.session_id, a.site_id)
            rows = [n.demand for n in self.needs_by_slot.get(slot, [])]
            staff = self.staff
            here = [staff[s] for s in self.in_slot.get(slot, []) if s in staff]
            before = allocate(rows, here)
            after = allocate(rows, [p for p in here if p.staff_id != a.staff_id])
            self._needed[a] = any(
                max(0, r.min - got) > max(0, r.min - had)
                for r, had, got in zip(rows, before, after, strict=True)
            )
        return self._needed[a]

    def shift(self, a: Assignment) -> Shift:
        return self.horizon.shifts[(a.date, a.session_id)]

    def shifts_of(self, staff_id: str) -> list[Shift]:
        return [self.shift(a) for a in self.of(staff_id)]

    def week_index(self, day: dt.date) -> RotaIndex:
        """The rota of the ISO week of ``day``, indexed as spare capacity checks one person.

        Only one person's rules are asked of it, which never read coverage, so
        none is computed.
        """
        monday = day - dt.timedelta(days=day.weekday())
        if monday not in self._weeks:
            dates = [monday + dt.timedelta(days=i) for i in range(7)]
            mine = [a for a in self.all() if a.date in dates]
            self._weeks[monday] = RotaIndex(self.horizon.bundle, dates, mine, coverage=())
        return self._weeks[monday]

    def all(self) -> list[Assignment]:
        return [a for found in self.by_staff.values() for a in found]


@dataclass(frozen=True)
class Slot:
    """The need being explained, with the horizon and plan every check reads."""

    horizon: Horizon
    plan: Plan
    need: Need
    shift: Shift


def utc(moment: dt.datetime) -> dt.datetime:
    """Instants compared in UTC, so a clock-change night counts its real length."""
    return moment.astimezone(dt.UTC)


def _gap_minutes(a: Shift, b: Shift) -> float:
    """Minutes between two shifts, whichever comes first; negative when they overlap."""
    after = (utc(b.start) - utc(a.end)).total_seconds()
    before = (utc(a.start) - utc(b.end)).total_seconds()
    return max(after, before) / 60


# --------------------------------------------------------------------------- the checks


def already_here(slot: Slot, person: Staff) -> Reason | None:
    """Someone already in this slot is counted as assigned, whatever else the data says."""
    here = (slot.need.date, slot.need.session_id, slot.need.site_id)
    if any((a.date, a.session_id, a.site_id) == here for a in slot.plan.of(person.staff_id)):
        return same_reason("already assigned here")
    return None


def _leave_words(kind: LeaveKind) -> str:
    """Private leave words: 'on annual leave', and 'on leave (other)' for the catch-all kind."""
    return "on leave (other)" if kind is LeaveKind.OTHER else f"on {kind.value} leave"


def on_leave(slot: Slot, person: Staff) -> Reason | None:
    """Leave beats every reason but site rights; its kind is kept out of the public words."""
    leave = slot.horizon.leave_on(person.staff_id, slot.need.date, slot.need.session_id)
    if leave is None:
        return None
    private = _leave_words(leave.kind)
    return Reason(Wording("on leave", "on leave"), Wording(private, private))


def marked_unavailable(slot: Slot, person: Staff) -> Reason | None:
    """A hard 'unavailable' preference keeps the person out of this session."""
    need = slot.need
    if slot.horizon.unavailable(person.staff_id, need.date, need.session_id, need.site_id):
        return same_reason("marked unavailable")
    return None


def barred_from_site(slot: Slot, person: Staff) -> Reason | None:
    """The person's ``sites`` do not include this one."""
    if person.may_work_at(slot.need.site_id):
        return None
    return same_reason(f"may not work at {slot.need.site_id}")


def _clashes(slot: Slot, person: Staff) -> list[tuple[bool, Assignment]]:
    """The person's sessions that overlap this one (False) or leave too little time to travel."""
    found = []
    for a in slot.plan.of(person.staff_id):
        gap = _gap_minutes(slot.plan.shift(a), slot.shift)
        if gap < slot.horizon.travel_minutes(a.site_id, slot.need.site_id):
            found.append((gap >= 0, a))
    return found


def fixed_elsewhere(slot: Slot, person: Staff) -> Reason | None:
    """A fixed.csv row pins them to a session that clashes with this one."""
    for _, a in _clashes(slot, person):
        pin = slot.plan.pins.get(a)
        if pin is not None:
            source = f"{slot.horizon.bundle.label(FIXED)}:{pin.row}"
            return same_reason(f"fixed at {a.site_id}", detail=source)
    return None


def needed_at_home(slot: Slot, person: Staff) -> Reason | None:
    """They work at their home site then, and it would fall short of a minimum without them."""
    for _, a in _clashes(slot, person):
        if a.site_id == person.home_site and slot.plan.needed(a):
            if slot.horizon.bundle.site(a.site_id).kind is SiteKind.HUB:
                return same_reason("is needed at their home hub", "are needed at their home hubs")
            return same_reason(
                "is needed at their own practice", "are needed at their own practices"
            )
    return None


def working_elsewhere(slot: Slot, person: Staff) -> Reason | None:
    """Another session overlaps, or ends too close to this one to travel between sites."""
    clashes = [(travel_only, a.site_id) for travel_only, a in _clashes(slot, person)]
    if not clashes:
        return None
    travel_only, site_id = min(clashes)
    if travel_only:
        return same_reason(f"working at {site_id} with too little time to travel")
    return same_reason(f"working at {site_id} at that time")


def at_daily_limit(slot: Slot, person: Staff) -> Reason | None:
    """One more session on this date would exceed the person's sessions per day."""
    limit = person.max_sessions_per_day
    if limit is None:
        limit = slot.horizon.bundle.rules.max_sessions_per_day
    worked = sum(1 for a in slot.plan.of(person.staff_id) if a.date == slot.need.date)
    if worked < limit:
        return None
    return same_reason(f"already at their daily limit of {limit} sessions")


def over_weekly_hours(slot: Slot, person: Staff) -> Reason | None:
    """This session would take planned hours over max_hours or the network's weekly cap."""
    cap = min(person.max_hours, slot.horizon.bundle.rules.max_week_hours)
    planned = sum(s.minutes for s in slot.plan.shifts_of(person.staff_id))
    if planned + slot.shift.minutes <= cap * 60 + 1e-9:
        return None
    return same_reason("would go over their weekly hours")


def out_of_evenings(slot: Slot, person: Staff) -> Reason | None:
    """Weekday evenings are capped per person; 0 (also a blank cell) allows none."""
    if not slot.shift.is_evening:
        return None
    if person.max_evenings == 0:  # blank and 0 read alike: say what the data says
        return same_reason(
            "has max_evenings 0 (the default for a blank cell)",
            "have max_evenings 0 (the default for a blank cell)",
        )
    used = sum(1 for s in slot.plan.shifts_of(person.staff_id) if s.is_evening)
    if used < person.max_evenings:
        return None
    return same_reason(
        "has used all their evenings this week", "have used all their evenings this week"
    )


def out_of_weekends(slot: Slot, person: Staff) -> Reason | None:
    """Weekend sessions are capped per person; 0 (also a blank cell) allows none."""
    if not slot.shift.is_weekend:
        return None
    if person.max_weekend_sessions == 0:  # blank and 0 read alike: say what the data says
        return same_reason(
            "has max_weekend_sessions 0 (the default for a blank cell)",
            "have max_weekend_sessions 0 (the default for a blank cell)",
        )
    used = sum(1 for s in slot.plan.shifts_of(person.staff_id) if s.is_weekend)
    if used < person.max_weekend_sessions:
        return None
    return same_reason(
        "has used all their weekend sessions this week",
        "have used all their weekend sessions this week",
    )


def _week_and_shift(slot: Slot, person: Staff) -> tuple[RotaIndex, PersonWeek, Shift] | None:
    """The ISO week of the need as spare capacity indexes it, the person's week and the shift."""
    index = slot.plan.week_index(slot.need.date)
    shift = index.shift(slot.need.date, slot.need.session_id)
    return None if shift is None else (index, index.week_of(person), shift)


def short_of_rest(slot: Slot, person: Staff) -> Reason | None:
    """The session would join a duty (sessions less than the rest apart) longer than allowed."""
    found = _week_and_shift(slot, person)
    if found is None or keeps_daily_rest(*found):
        return None
    rules = slot.horizon.bundle.rules
    return same_reason(
        f"would work a duty of over {hours_words(person.duty_hours(rules))} hours without "
        f"{hours_words(rules.min_rest_hours)} hours' rest"
    )


def rooms_full(slot: Slot, person: Staff) -> Reason | None:
    """Free, but the site, or the building it shares, has no consulting room left then."""
    found = _week_and_shift(slot, person)
    if found is None:
        return None
    index, _, shift = found
    site_id = slot.need.site_id
    site = index.sites[site_id]
    if site.rooms > 0 and index.most_present({site_id}, shift) >= site.rooms:
        return same_reason(
            f"is free but {site_id} has no room left",
            f"are free but {site_id} has no room left",
        )
    building = index.bundle.building_of(site_id)
    if building is None or building.rooms <= 0:
        return None
    members = index.bundle.sites_in(building.building)
    if index.most_present(members, shift) < building.rooms:
        return None
    shared = f"building {building.building} ({', '.join(sorted(members))})"
    in_use = f"all {building.rooms} in use" if building.rooms > 1 else "its one room in use"
    return same_reason(
        f"is free but {shared} has no room left ({in_use})",
        f"are free but {shared} has no room left ({in_use})",
    )


def free_but_not_used(slot: Slot, person: Staff) -> Reason | None:
    """Nothing in the data stops them: the plan weighed other needs or goals higher."""
    return same_reason(
        "could cover it but is needed elsewhere or was left for other goals",
        "could cover it but are needed elsewhere or were left for other goals",
    )


@dataclass(frozen=True)
class Check:
    """A reason with its stable id (a catalogue rule's, or one of ``NOT_RULES``), its test,
    and whether headlines name people.

    ``named`` reasons are a person's own and can be acted on (their leave,
    their pinned session, their hours); the others are summed up by count.
    The words come from the test's ``Reason``.
    """

    rule_id: str
    test: Callable[[Slot, Staff], Reason | None]
    named: bool = False


ASSIGNED = "assigned"
# The hard rules of one person's week that no reason above names on its own.
OTHER_RULES = (
    "days_off",
    "sequence",
    "max_consecutive",
    "min_runs",
    "max_weekends",
    "horizon_hours",
    "session_limit",
)


def breaks_another_rule(slot: Slot, person: Staff) -> Reason | None:
    """Working this session too would break a rule over several days (a run, a sequence...)."""
    index = slot.plan.week_index(slot.need.date)
    shift = index.shift(slot.need.date, slot.need.session_id)
    if shift is None:
        return None
    week = index.week_of(person)
    for rule_id, keeps in PERSON_RULES:
        if rule_id in OTHER_RULES and not keeps(index, week, shift):
            return same_reason(f"would {catalogue.rule(rule_id).bites}")
    return None


# First that applies wins; free_but_not_used always applies, so it stays last.  Site
# rights come first: someone who may never work here is not missed for being on leave.
CHECKS: tuple[Check, ...] = (
    Check(ASSIGNED, already_here),
    Check("eligible", barred_from_site, named=True),
    Check("leave", on_leave, named=True),
    Check("unavailable", marked_unavailable, named=True),
    Check("pinned_elsewhere", fixed_elsewhere, named=True),
    Check("needed", needed_at_home),
    Check("overlap", working_elsewhere),
    # A full site or building keeps out everyone free: the cause to fix before anyone's limits.
    Check("rooms", rooms_full),
    Check("sessions_per_day", at_daily_limit, named=True),
    Check("max_hours", over_weekly_hours, named=True),
    Check("evenings", out_of_evenings, named=True),
    Check("weekends", out_of_weekends, named=True),
    Check("rest", short_of_rest, named=True),
    Check("other_rule", breaks_another_rule, named=True),
    Check("free", free_but_not_used),
)
# The reasons that describe the rota rather than a rule of the catalogue.
NOT_RULES = (ASSIGNED, "pinned_elsewhere", "needed", "other_rule", "free")
