"""Why a demand row was not met: every shortfall explained in plain words.

A manager reviewing a rota sees each unmet ``min`` (a shortfall is never
hidden) together with what the data says about the people who could have
filled it.  Every person whose role and skills fit the row is put under the
first reason that keeps them out, and the reasons are counted and grouped:
"2 of 3 PN with cytology on leave".

Two wordings are built.  ``reasons`` is safe for anyone: a leave kind such as
sickness is health data, so it reads just "on leave".  ``private_reasons`` is
for managers and coordinators and names the kind ("on sick leave").

The reasons are one small function each, registered once in the ordered
``CHECKS`` list: extending the explanation is adding a function and a line.
No I/O; the caller computes coverage and passes the short needs in.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from scheduler.domain import DAY_NAMES, Assignment, LeaveKind, Staff
from scheduler.horizon import Horizon, Need, Shift

ShortNeed = tuple[Need, int, int]  # (need, assigned, short), as the caller counts them


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class ShortfallNote:
    """One unmet ``min`` of a demand row on a date, with its reasons in words."""

    date: dt.date
    site_id: str
    session_id: str
    role: str | None
    skill: str | None
    min: int
    assigned: int
    short: int
    demand_row: int
    reasons: tuple[str, ...]  # safe for anyone: no leave kind
    private_reasons: tuple[str, ...]  # names leave kinds: managers/coordinators only

    @property
    def summary(self) -> str:
        """One line a manager scans first, e.g. ``P03 Tue 2026-12-01 PM: 1 GP short (...)``."""
        where = f"{self.site_id} {day_label(self.date)} {self.session_id}"
        counts = f"(needs {self.min}, has {self.assigned})"
        if self.role is None:
            return f"{where}: {self.short} short of {label(self.role, self.skill)} {counts}"
        return f"{where}: {self.short} {label(self.role, self.skill)} short {counts}"


# --------------------------------------------------------------------------- wording


def day_label(day: dt.date) -> str:
    """``Tue 2026-12-01``: weekday names fixed in English, whatever the locale."""
    return f"{DAY_NAMES[day.weekday()]} {day.isoformat()}"


def label(role: str | None, skill: str | None) -> str:
    """A demand row's people in the manager's own terms: "PN with cytology", "anyone"."""
    who = role if role is not None else "anyone"
    return who if skill is None else f"{who} with {skill}"


def people(role: str | None, skill: str | None, count: int) -> str:
    """The row's people as a counted noun: roles stay as written, a blank role is people."""
    who = role if role is not None else ("person" if count == 1 else "people")
    return who if skill is None else f"{who} with {skill}"


def _article(word: str) -> str:
    """'a' or 'an' as the word is spoken: initialisms (HCA, FCP) by their first letter."""
    initialism = word.isupper() and len(word) <= 3
    vowel_sounds = "AEFHILMNORSX" if initialism else "AEIOU"
    return "an" if word[:1].upper() in vowel_sounds else "a"


def nobody_sentence(role: str | None, skill: str | None) -> str:
    """Leading sentence when no one in the network fits the row at all."""
    if role is not None:
        return f"nobody in the network is {_article(role)} {label(role, skill)}"
    if skill is not None:
        return f"nobody in the network has the skill {skill}"
    return "nobody is on the staff list"


def _hours(value: float) -> str:
    """Hours without a needless ``.0``: 11 rather than 11.0."""
    return f"{value:g}"


@dataclass(frozen=True)
class Wording:
    """A reason phrased for one person and for several, so the verb agrees."""

    one: str
    many: str

    def for_count(self, count: int) -> str:
        return self.one if count == 1 else self.many


@dataclass(frozen=True)
class Reason:
    """Why one person did not fill the need; only leave words differ in private."""

    public: Wording
    private: Wording


def _reason(one: str, many: str | None = None) -> Reason:
    """A reason worded the same for everyone."""
    words = Wording(one, one if many is None else many)
    return Reason(words, words)


# --------------------------------------------------------------------------- the plan


class Plan:
    """The rota indexed by person and by slot, for the questions the checks ask."""

    def __init__(self, horizon: Horizon, assignments: Iterable[Assignment]) -> None:
        self.horizon = horizon
        self.by_staff: dict[str, list[Assignment]] = {}
        self.per_slot: Counter[tuple[dt.date, str, str]] = Counter()
        for a in sorted(set(assignments)):
            self.by_staff.setdefault(a.staff_id, []).append(a)
            self.per_slot[(a.date, a.session_id, a.site_id)] += 1

    def of(self, staff_id: str) -> list[Assignment]:
        return self.by_staff.get(staff_id, [])

    def shift(self, a: Assignment) -> Shift:
        return self.horizon.shifts[(a.date, a.session_id)]

    def shifts_of(self, staff_id: str) -> list[Shift]:
        return [self.shift(a) for a in self.of(staff_id)]


@dataclass(frozen=True)
class Slot:
    """The need being explained, with the horizon and plan every check reads."""

    horizon: Horizon
    plan: Plan
    need: Need
    shift: Shift


def _utc(moment: dt.datetime) -> dt.datetime:
    """Instants compared in UTC, so a clock-change night counts its real length."""
    return moment.astimezone(dt.UTC)


def _gap_minutes(a: Shift, b: Shift) -> float:
    """Minutes between two shifts, whichever comes first; negative when they overlap."""
    after = (_utc(b.start) - _utc(a.end)).total_seconds()
    before = (_utc(a.start) - _utc(b.end)).total_seconds()
    return max(after, before) / 60


# --------------------------------------------------------------------------- the checks


def already_here(slot: Slot, person: Staff) -> Reason | None:
    """Someone already in this slot is counted as assigned, whatever else the data says."""
    here = (slot.need.date, slot.need.session_id, slot.need.site_id)
    if any((a.date, a.session_id, a.site_id) == here for a in slot.plan.of(person.staff_id)):
        return _reason("already assigned here")
    return None


def _leave_words(kind: LeaveKind) -> str:
    """Private leave words: 'on annual leave', and 'on leave (other)' for the catch-all kind."""
    return "on leave (other)" if kind is LeaveKind.OTHER else f"on {kind.value} leave"


def on_leave(slot: Slot, person: Staff) -> Reason | None:
    """Leave beats every other reason; its kind is kept out of the public words."""
    leave = slot.horizon.leave_on(person.staff_id, slot.need.date, slot.need.session_id)
    if leave is None:
        return None
    private = _leave_words(leave.kind)
    return Reason(Wording("on leave", "on leave"), Wording(private, private))


def marked_unavailable(slot: Slot, person: Staff) -> Reason | None:
    """A hard 'unavailable' preference keeps the person out of this session."""
    need = slot.need
    if slot.horizon.unavailable(person.staff_id, need.date, need.session_id, need.site_id):
        return _reason("marked unavailable")
    return None


def barred_from_site(slot: Slot, person: Staff) -> Reason | None:
    """The person's ``sites`` do not include this one."""
    if person.may_work_at(slot.need.site_id):
        return None
    return _reason(f"may not work at {slot.need.site_id}")


def working_elsewhere(slot: Slot, person: Staff) -> Reason | None:
    """Another session overlaps, or ends too close to this one to travel between sites."""
    clashes: list[tuple[bool, str]] = []
    for a in slot.plan.of(person.staff_id):
        gap = _gap_minutes(slot.plan.shift(a), slot.shift)
        if gap < slot.horizon.travel_minutes(a.site_id, slot.need.site_id):
            clashes.append((gap >= 0, a.site_id))
    if not clashes:
        return None
    travel_only, site_id = min(clashes)
    if travel_only:
        return _reason(f"working at {site_id} with too little time to travel")
    return _reason(f"working at {site_id} at that time")


def at_daily_limit(slot: Slot, person: Staff) -> Reason | None:
    """One more session on this date would exceed the person's sessions per day."""
    limit = person.max_sessions_per_day
    if limit is None:
        limit = slot.horizon.bundle.rules.max_sessions_per_day
    worked = sum(1 for a in slot.plan.of(person.staff_id) if a.date == slot.need.date)
    if worked < limit:
        return None
    return _reason(f"already at their daily limit of {limit} sessions")


def over_weekly_hours(slot: Slot, person: Staff) -> Reason | None:
    """This session would take planned hours over max_hours or the network's weekly cap."""
    cap = min(person.max_hours, slot.horizon.bundle.rules.max_week_hours)
    planned = sum(s.minutes for s in slot.plan.shifts_of(person.staff_id))
    if planned + slot.shift.minutes <= cap * 60 + 1e-9:
        return None
    return _reason("would go over their weekly hours")


def out_of_evenings(slot: Slot, person: Staff) -> Reason | None:
    """Weekday evenings are capped per person; a cap of 0 means they do not do evenings."""
    if not slot.shift.is_evening:
        return None
    if person.max_evenings == 0:
        return _reason("does not do evenings", "do not do evenings")
    used = sum(1 for s in slot.plan.shifts_of(person.staff_id) if s.is_evening)
    if used < person.max_evenings:
        return None
    return _reason(
        "has used all their evenings this week", "have used all their evenings this week"
    )


def out_of_weekends(slot: Slot, person: Staff) -> Reason | None:
    """Weekend sessions are capped per person; a cap of 0 means they do not work weekends."""
    if not slot.shift.is_weekend:
        return None
    if person.max_weekend_sessions == 0:
        return _reason("does not work weekends", "do not work weekends")
    used = sum(1 for s in slot.plan.shifts_of(person.staff_id) if s.is_weekend)
    if used < person.max_weekend_sessions:
        return None
    return _reason(
        "has used all their weekend sessions this week",
        "have used all their weekend sessions this week",
    )


def short_of_rest(slot: Slot, person: Staff) -> Reason | None:
    """A session on another date would end or start within the daily rest of this one."""
    rest = slot.horizon.bundle.rules.min_rest_hours
    for other in slot.plan.shifts_of(person.staff_id):
        if other.date != slot.shift.date and _gap_minutes(other, slot.shift) < rest * 60:
            return _reason(f"would not get {_hours(rest)} hours' rest between working days")
    return None


def rooms_full(slot: Slot, person: Staff) -> Reason | None:
    """Free, but the site has no consulting room left in this session."""
    need = slot.need
    rooms = slot.horizon.bundle.site(need.site_id).rooms
    if rooms == 0 or slot.plan.per_slot[(need.date, need.session_id, need.site_id)] < rooms:
        return None
    return _reason(
        f"is free but {need.site_id} has no room left",
        f"are free but {need.site_id} has no room left",
    )


def free_but_not_used(slot: Slot, person: Staff) -> Reason | None:
    """Nothing in the data stops them: the plan weighed other needs or goals higher."""
    return _reason(
        "could cover it but is needed elsewhere or was left for other goals",
        "could cover it but are needed elsewhere or were left for other goals",
    )


@dataclass(frozen=True)
class Check:
    """A reason with its stable id and the label a manager reads."""

    rule_id: str
    label: str
    test: Callable[[Slot, Staff], Reason | None]


ASSIGNED = "assigned"

# First that applies wins; free_but_not_used always applies, so it stays last.
CHECKS: tuple[Check, ...] = (
    Check(ASSIGNED, "Already assigned here", already_here),
    Check("leave", "On leave", on_leave),
    Check("unavailable", "Marked unavailable", marked_unavailable),
    Check("site", "May not work at this site", barred_from_site),
    Check("elsewhere", "Working elsewhere", working_elsewhere),
    Check("daily_limit", "At the daily session limit", at_daily_limit),
    Check("weekly_hours", "Weekly hours used up", over_weekly_hours),
    Check("evenings", "Evening allowance used up", out_of_evenings),
    Check("weekends", "Weekend allowance used up", out_of_weekends),
    Check("rest", "Daily rest", short_of_rest),
    Check("rooms", "No room free", rooms_full),
    Check("free", "Free but not used", free_but_not_used),
)


# --------------------------------------------------------------------------- explaining


def classify(slot: Slot, person: Staff) -> tuple[int, Check, Reason]:
    """The first registered check that applies to this person, with its position."""
    for position, check in enumerate(CHECKS):
        reason = check.test(slot, person)
        if reason is not None:
            return position, check, reason
    raise AssertionError("free_but_not_used always applies")  # pragma: no cover


def _counted(found: list[tuple[int, Reason]], total: int, noun: str, private: bool) -> list[str]:
    """'2 of 3 PN with cytology on leave': one sentence per reason, in registry order."""
    counts: Counter[tuple[int, Wording]] = Counter(
        (position, reason.private if private else reason.public) for position, reason in found
    )
    ordered = sorted(counts.items(), key=lambda item: (item[0][0], item[0][1].many))
    return [f"{n} of {total} {noun} {words.for_count(n)}" for (_, words), n in ordered]


def _leading(need: Need, total: int) -> list[str]:
    """Say first when the network simply has too few people who fit the row."""
    row = need.demand
    if total == 0:
        return [nobody_sentence(row.role, row.skill)]
    if total < row.min:
        return [
            f"only {total} {people(row.role, row.skill, total)} in the network, {row.min} needed"
        ]
    return []


def explain_need(slot: Slot, assigned: int, short: int) -> ShortfallNote:
    """The note for one short need: who fits the row and why each is not there."""
    need, row = slot.need, slot.need.demand
    fitting = [p for p in slot.horizon.staff if need.admits(p)]
    found = [
        (pos, reason)
        for pos, check, reason in (classify(slot, p) for p in fitting)
        if check.rule_id != ASSIGNED
    ]
    noun = people(row.role, row.skill, len(fitting))
    lead = _leading(need, len(fitting))
    return ShortfallNote(
        date=need.date,
        site_id=need.site_id,
        session_id=need.session_id,
        role=row.role,
        skill=row.skill,
        min=row.min,
        assigned=assigned,
        short=short,
        demand_row=row.row,
        reasons=tuple(lead + _counted(found, len(fitting), noun, private=False)),
        private_reasons=tuple(lead + _counted(found, len(fitting), noun, private=True)),
    )


def explain_shortfalls(
    horizon: Horizon, assignments: Iterable[Assignment], short_needs: Iterable[ShortNeed]
) -> list[ShortfallNote]:
    """A note per short need, by date, session start, site and demand row."""
    plan = Plan(horizon, assignments)

    def order(item: ShortNeed) -> tuple[dt.date, dt.datetime, str, int, int]:
        need = item[0]
        start = _utc(horizon.shifts[(need.date, need.session_id)].start)
        return (need.date, start, need.site_id, need.demand.row, need.index)

    notes = []
    for need, assigned, short in sorted(short_needs, key=order):
        slot = Slot(horizon, plan, need, horizon.shifts[(need.date, need.session_id)])
        notes.append(explain_need(slot, assigned, short))
    return notes
