"""Why a demand row was not met: every shortfall explained in plain words.

A manager reviewing a rota sees each unmet ``min`` (a shortfall is never
hidden) together with what the data says about the people who could have
filled it.  Every person whose role and skills fit the row is put under the
first reason that keeps them out, and the reasons are counted and grouped:
"2 of 3 PN with cytology on leave".

Two wordings are built.  ``reasons`` is safe for anyone: a leave kind such as
sickness is health data, so it reads just "on leave".  ``private_reasons`` is
for managers and coordinators and names the kind ("on sick leave").

Each note also has a headline in the network's own words, naming people
where the cause is theirs to act on ("S0031 Jo Bloggs on annual leave",
"S0044 Kim Tan fixed at HUB1 (fixed.csv:4)") and summing up the rest ("the 3
other PN with cytology are needed at their own practices"); it too comes in
a public and a private wording.

The reasons are one small function each, registered once in the ordered
``CHECKS`` list: extending the explanation is adding a function and a line.
No I/O; the caller computes coverage and passes the short needs in.

``FixOption`` is one way to meet a shortfall (borrow someone, pay overtime,
move the clinic), found and checked against the hard rules by the caller
(``scheduler.weekview.CoverContext``); ``rank_options`` orders them, least
disruptive first, as ``option_order`` documents.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from functools import cached_property

from scheduler.domain import DAY_NAMES, FIXED, Assignment, Fixed, LeaveKind, SiteKind, Staff
from scheduler.horizon import Horizon, Need, Shift
from scheduler.validator import allocate

ShortNeed = tuple[Need, int, int]  # (need, assigned, short), as the caller counts them
NAMED_PER_REASON = 3  # people named per reason in a headline; the rest are counted
OPTIONS_SHOWN = 5  # ranked options listed per shortfall; the rest are counted


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class ShortfallNote:
    """One unmet ``min`` of a demand row on a date: its reasons, named causes and fixes."""

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
    causes: tuple[str, ...] = ()  # the headline's named causes, safe for anyone
    private_causes: tuple[str, ...] = ()  # the same naming leave kinds
    options: tuple[FixOption, ...] = ()  # ranked fixes, when the caller looked for them

    @property
    def where(self) -> str:
        """``P03 Tue 2026-12-01 PM``."""
        return f"{self.site_id} {day_label(self.date)} {self.session_id}"

    @property
    def summary(self) -> str:
        """One line a manager scans first, e.g. ``P03 Tue 2026-12-01 PM: 1 GP short (...)``."""
        counts = f"(needs {self.min}, has {self.assigned})"
        if self.role is None:
            return f"{self.where}: {self.short} short of {label(self.role, self.skill)} {counts}"
        return f"{self.where}: {self.short} {label(self.role, self.skill)} short {counts}"

    @property
    def headline(self) -> str:
        """The shortfall and its named causes in one sentence, safe for anyone."""
        return self._headline(self.causes)

    @property
    def private_headline(self) -> str:
        """The headline naming leave kinds: managers and coordinators only."""
        return self._headline(self.private_causes)

    def _headline(self, causes: Sequence[str]) -> str:
        needs = f"{self.where} needs {self.min} {people(self.role, self.skill, self.min)}"
        head = f"{needs}, has {self.assigned}"
        return f"{head}: {', '.join(causes)}" if causes else head

    @property
    def shown_options(self) -> tuple[FixOption, ...]:
        """The best few options, in rank order."""
        return self.options[:OPTIONS_SHOWN]

    @property
    def more_options(self) -> int:
        """Options beyond those shown."""
        return max(0, len(self.options) - OPTIONS_SHOWN)


class FixKind(StrEnum):
    """What a fix does: bring someone in, pay for extra hours, or move the clinic."""

    OWN_STAFF = "own_staff"  # someone of the practice itself, within their contract
    BORROW = "borrow"  # someone from another site, within their contract
    OVERTIME = "overtime"  # someone whose week would go over their contract hours
    MOVE_CLINIC = "move_clinic"  # run the clinic in another session of the same site


# How disruptive each kind is when it leaves nobody else short (lower first).  Overtime
# stretches a person past their contract; moving a clinic rebooks its patients.
DISRUPTION: dict[FixKind, int] = {
    FixKind.OWN_STAFF: 0,
    FixKind.BORROW: 0,
    FixKind.OVERTIME: 1,
    FixKind.MOVE_CLINIC: 2,
}
LEAVES_SHORT_DISRUPTION = 3  # taking someone from a need of their own comes last


@dataclass(frozen=True)
class FixOption:
    """One way to meet a shortfall that breaks no hard rule, with what it costs."""

    kind: FixKind
    text: str  # the option in words, e.g. "borrow S0012 Ann Lee (GP) from P05 at +£240.00 ..."
    name: str  # tie-break: the person's name, or the moved clinic's date and session
    cost: Decimal | None  # extra staff cost; None when someone has no hourly rate
    travel_minutes: int
    leaves_short: tuple[str, ...] = ()  # needs the change would leave short, in words
    adds: tuple[Assignment, ...] = ()  # sessions the change adds to the rota
    removes: tuple[Assignment, ...] = ()  # sessions it takes out
    moved_to: tuple[dt.date, str] | None = None  # move the clinic: its new date and session

    @property
    def disruption(self) -> int:
        """0 someone within contract, 1 overtime, 2 a moved clinic, 3 another need left short."""
        return LEAVES_SHORT_DISRUPTION if self.leaves_short else DISRUPTION[self.kind]


def option_order(option: FixOption) -> tuple[int, bool, Decimal, int, str, str]:
    """The ranking: least disruptive, then cheapest (unknown cost last), nearest, then name.

    Disruption first: someone within their contract who leaves nobody short,
    then overtime, then moving the clinic, then anything that leaves another
    need short.  Ties go to the lower extra cost, the shorter journey, the
    name, and finally the words, so the order never depends on input order.
    """
    cost = option.cost if option.cost is not None else Decimal(0)
    return (
        option.disruption,
        option.cost is None,
        cost,
        option.travel_minutes,
        option.name,
        option.text,
    )


def rank_options(options: Iterable[FixOption]) -> tuple[FixOption, ...]:
    """Options in ``option_order``."""
    return tuple(sorted(options, key=option_order))


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


def person_ref(person: Staff) -> str:
    """A person as the network's files name them: ``S0031 Jo Bloggs``."""
    return f"{person.staff_id} {person.name}"


def join_and(items: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


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
    detail: str = ""  # this person's own source, named in headlines: "fixed.csv:4"


def _reason(one: str, many: str | None = None, detail: str = "") -> Reason:
    """A reason worded the same for everyone."""
    words = Wording(one, one if many is None else many)
    return Reason(words, words, detail)


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
        return _reason("marked unavailable")
    return None


def barred_from_site(slot: Slot, person: Staff) -> Reason | None:
    """The person's ``sites`` do not include this one."""
    if person.may_work_at(slot.need.site_id):
        return None
    return _reason(f"may not work at {slot.need.site_id}")


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
            return _reason(f"fixed at {a.site_id}", detail=source)
    return None


def needed_at_home(slot: Slot, person: Staff) -> Reason | None:
    """They work at their home site then, and it would fall short of a minimum without them."""
    for _, a in _clashes(slot, person):
        if a.site_id == person.home_site and slot.plan.needed(a):
            if slot.horizon.bundle.site(a.site_id).kind is SiteKind.HUB:
                return _reason("is needed at their home hub", "are needed at their home hubs")
            return _reason("is needed at their own practice", "are needed at their own practices")
    return None


def working_elsewhere(slot: Slot, person: Staff) -> Reason | None:
    """Another session overlaps, or ends too close to this one to travel between sites."""
    clashes = [(travel_only, a.site_id) for travel_only, a in _clashes(slot, person)]
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
    """A reason with its stable id, the label a manager reads, and whether headlines name people.

    ``named`` reasons are a person's own and can be acted on (their leave,
    their pinned session, their hours); the others are summed up by count.
    """

    rule_id: str
    label: str
    test: Callable[[Slot, Staff], Reason | None]
    named: bool = False


ASSIGNED = "assigned"

# First that applies wins; free_but_not_used always applies, so it stays last.  Site
# rights come first: someone who may never work here is not missed for being on leave.
CHECKS: tuple[Check, ...] = (
    Check(ASSIGNED, "Already assigned here", already_here),
    Check("site", "May not work at this site", barred_from_site, named=True),
    Check("leave", "On leave", on_leave, named=True),
    Check("unavailable", "Marked unavailable", marked_unavailable, named=True),
    Check("fixed", "Fixed elsewhere", fixed_elsewhere, named=True),
    Check("needed", "Needed at their own practice", needed_at_home),
    Check("elsewhere", "Working elsewhere", working_elsewhere),
    Check("daily_limit", "At the daily session limit", at_daily_limit, named=True),
    Check("weekly_hours", "Weekly hours used up", over_weekly_hours, named=True),
    Check("evenings", "Evening allowance used up", out_of_evenings, named=True),
    Check("weekends", "Weekend allowance used up", out_of_weekends, named=True),
    Check("rest", "Daily rest", short_of_rest, named=True),
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


@dataclass(frozen=True)
class Found:
    """A person who fits the row, the first check that keeps them out, and how far away they are."""

    position: int
    reason: Reason
    person: Staff
    distance: int  # travel minutes from their home site: the nearest are named first


# People who are here already but whom coverage counts against another row of the session.
COUNTED_ELSEWHERE = Wording(
    "is here but counted for another need", "are here but counted for other needs"
)


def _named_clause(found: Sequence[Found], words: Wording) -> str:
    """'S0031 Jo Bloggs and S0032 Al Smith on leave': the nearest few by name, the rest counted."""
    ordered = sorted(found, key=lambda f: (f.distance, f.person.staff_id))
    shown = ordered[:NAMED_PER_REASON]
    names = [person_ref(f.person) for f in shown]
    rest = len(ordered) - len(shown)
    if rest:
        names.append(f"{rest} {'other' if rest == 1 else 'others'}")
    details = [f.reason.detail for f in shown if f.reason.detail]
    source = f" ({', '.join(details)})" if details else ""
    return f"{join_and(names)} {words.for_count(len(ordered))}{source}"


def _bulk_clause(
    count: int, words: Wording, noun: Callable[[int], str], after_names: bool, alone: bool
) -> str:
    """'the 3 other PN with cytology are needed at their own practices'.

    "other" when people were named before; "the" when this clause is all the
    rest of them.
    """
    if not after_names:
        return f"{count} {noun(count)} {words.for_count(count)}"
    if not alone:
        return f"{count} other {noun(count)} {words.for_count(count)}"
    if count == 1:
        return f"the other {noun(1)} {words.one}"
    return f"the {count} other {noun(count)} {words.many}"


def _causes(found: Sequence[Found], need: Need, counted_elsewhere: int, private: bool) -> list[str]:
    """The headline's causes: named reasons, then summed-up ones, each in registry order."""
    groups: dict[tuple[int, Wording], list[Found]] = {}
    for f in found:
        groups.setdefault(
            (f.position, f.reason.private if private else f.reason.public), []
        ).append(f)
    ordered = sorted(groups.items(), key=lambda item: (item[0][0], item[0][1].many))
    named = [_named_clause(group, words) for (pos, words), group in ordered if CHECKS[pos].named]
    bulk = [(len(group), words) for (pos, words), group in ordered if not CHECKS[pos].named]
    if counted_elsewhere > 0:
        bulk.append((counted_elsewhere, COUNTED_ELSEWHERE))

    def noun(count: int) -> str:
        return people(need.demand.role, need.demand.skill, count)

    return named + [
        _bulk_clause(count, words, noun, bool(named), len(bulk) == 1) for count, words in bulk
    ]


def explain_need(slot: Slot, assigned: int, short: int) -> ShortfallNote:
    """The note for one short need: who fits the row and why each is not there."""
    need, row = slot.need, slot.need.demand
    fitting = [p for p in slot.horizon.staff if need.admits(p)]
    classified = [(p, *classify(slot, p)) for p in fitting]
    found = [
        Found(pos, reason, p, slot.horizon.travel_minutes(p.home_site, need.site_id))
        for p, pos, check, reason in classified
        if check.rule_id != ASSIGNED
    ]
    here = len(fitting) - len(found)
    counted = [(f.position, f.reason) for f in found]
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
        reasons=tuple(lead + _counted(counted, len(fitting), noun, private=False)),
        private_reasons=tuple(lead + _counted(counted, len(fitting), noun, private=True)),
        causes=tuple(lead + _causes(found, need, here - assigned, private=False)),
        private_causes=tuple(lead + _causes(found, need, here - assigned, private=True)),
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
