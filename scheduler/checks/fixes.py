"""Ways to meet each shortfall of a week, found and checked, ranked least disruptive first.

For every unmet ``min``: borrow someone free from another site, give the
session to one of the practice's own staff, pay overtime, or move the clinic
to a day with spare people.  Every option is checked against the whole week
by the independent validator before it is offered, so no fix shown breaks a
hard rule; the figures (extra hours, cost, travel, whose need it leaves
short) are computed as the exports compute them."""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from scheduler.checks.explain import (
    FixKind,
    FixOption,
    ShortfallNote,
    explain_shortfalls,
    rank_options,
)
from scheduler.checks.reasons import Plan, Slot, already_here, marked_unavailable, on_leave
from scheduler.checks.validator import CoverageLine, allocate, rule_breaks
from scheduler.checks.wording import day_label, join_and, people, person_ref
from scheduler.domain import (
    DAY_NAMES,
    Assignment,
    Bundle,
    DemandRow,
    SiteKind,
    Staff,
    iso_week_label,
)
from scheduler.horizon import Horizon, Need, Shift
from scheduler.money import cents

DAYS = len(DAY_NAMES)
CANDIDATES_SHOWN = 10  # per shortfall; the rest are counted, not listed


# --------------------------------------------------------------------------- shortfalls

CLINIC_MOVE_DAYS = 2  # a clinic may move this many days either way, within its ISO week


@dataclass(frozen=True)
class LeftShort:
    """A demand row that moving a candidate would leave short."""

    date: dt.date
    session_id: str
    site_id: str
    who: str  # "GP", "PN with cytology", "anyone"
    short: int  # people short of its min after the move
    role: str | None = None
    skill: str | None = None

    def __str__(self) -> str:
        day = f"{DAY_NAMES[self.date.weekday()]} {self.date.isoformat()}"
        return f"{self.site_id} {day} {self.session_id}: {self.who} {self.short} short"

    @property
    def in_words(self) -> str:
        """``P05 Tue 2026-12-01 PM 1 GP short``, as an option says it."""
        noun = people(self.role, self.skill, self.short)
        return f"{self.site_id} {day_label(self.date)} {self.session_id} {self.short} {noun} short"


@dataclass(frozen=True)
class Candidate:
    """Somebody who could fill a shortfall without breaking a hard rule, and what it costs."""

    person: Staff
    hours: Decimal  # the session's length
    extra_hours: Decimal  # change to their week's hours (less when a session is given up)
    travel_minutes: int  # from their home site
    rate: Decimal | None
    gives_up: tuple[Assignment, ...]  # sessions they would move from
    leaves_short: tuple[LeftShort, ...]
    overtime_hours: Decimal = Decimal(0)  # how far the move takes their week over contract

    @property
    def extra_cost(self) -> Decimal | None:
        """Their extra hours at their rate; unknown without a rate."""
        return None if self.rate is None else cents(self.extra_hours * self.rate)


@dataclass(frozen=True)
class ShortfallItem:
    """One unmet need, its explanation (with ranked fixes), and who could cover it."""

    note: ShortfallNote
    candidates: tuple[Candidate, ...]
    more: int  # candidates beyond those listed


@dataclass(frozen=True)
class FreeSeat:
    """Someone free to run a moved clinic: there already and not needed, or able to come."""

    person: Staff
    cost: Decimal | None  # extra cost: nothing for someone already there
    adds: tuple[Assignment, ...]  # the session added for them, if any


def moved_row(row: DemandRow, day: dt.date, session_id: str, minimum: int) -> DemandRow:
    """The demand row of a clinic moved to ``day`` ``session_id``, for ``minimum`` people.

    A weekday row, so it adds to the rows already there instead of replacing them.
    """
    weekday = dataclasses.replace(row.day, weekdays=frozenset({day.weekday()}), date=None)
    return dataclasses.replace(row, day=weekday, session_id=session_id, min=minimum, target=minimum)


def money(value: Decimal | None) -> str:
    """``+£240.00``, ``-£20.00`` when a longer session is given up, or an unknown cost."""
    if value is None:
        return "an unknown cost (no hourly rate)"
    sign = "-" if value < 0 else "+"
    return f"{sign}£{abs(value):,.2f}"


def hours_text(value: Decimal) -> str:
    """Hours without needless zeros: ``4``, ``4.5``, ``4.17``."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def travel_text(minutes: int) -> str:
    """``20 min travel``, or ``no travel`` between sites on one campus."""
    return f"{minutes} min travel" if minutes else "no travel"


def _person_words(need: Need, c: Candidate) -> tuple[FixKind, str]:
    """The option's kind and its first words, e.g. ``borrow S0012 Ann Lee (GP) from P05 ...``."""
    p = c.person
    person = f"{person_ref(p)} ({p.role})"
    away = p.home_site != need.site_id
    if c.overtime_hours > 0:
        origin = f" from {p.home_site}" if away else ""
        over = f"+{hours_text(c.overtime_hours)} h over contract"
        travel = f" and {travel_text(c.travel_minutes)}" if c.travel_minutes else ""
        cost = f"{money(c.extra_cost)} for the session{travel}"
        return FixKind.OVERTIME, f"pay {person}{origin} overtime: {over}, {cost}"
    if away:
        cost = f"at {money(c.extra_cost)} and {travel_text(c.travel_minutes)}"
        return FixKind.BORROW, f"borrow {person} from {p.home_site} {cost}"
    return (
        FixKind.OWN_STAFF,
        f"give the session to {person} of {need.site_id} at {money(c.extra_cost)}",
    )


def person_option(need: Need, c: Candidate) -> FixOption:
    """A checked candidate as a fix: borrowed, the practice's own, or paid overtime."""
    kind, text = _person_words(need, c)
    if c.gives_up:
        text += ", moving them from " + join_and(
            [f"{a.site_id} {a.session_id}" for a in c.gives_up]
        )
    left = tuple(s.in_words for s in c.leaves_short)
    if left:
        text += f"; leaves {join_and(left)}"
    added = Assignment(need.date, need.session_id, need.site_id, c.person.staff_id)
    return FixOption(
        kind=kind,
        text=text,
        name=c.person.name,
        cost=c.extra_cost,
        travel_minutes=c.travel_minutes,
        leaves_short=left,
        adds=(added,),
        removes=c.gives_up,
    )


def move_option(
    need: Need, short: int, day: dt.date, session_id: str, free: Sequence[FreeSeat]
) -> FixOption:
    """Moving the clinic to a session where ``free`` people could run it; the cheapest run it."""
    chosen = free[:short]
    costs = [s.cost for s in chosen]
    cost = None if None in costs else sum((c for c in costs if c is not None), Decimal(0))
    noun = people(need.demand.role, need.demand.skill, len(free))
    verb = "is" if len(free) == 1 else "are"
    price = "no extra cost" if cost == 0 else f"at {money(cost)}"
    return FixOption(
        kind=FixKind.MOVE_CLINIC,
        text=(
            f"move the clinic to {day_label(day)} {session_id}, when {len(free)} {noun} "
            f"{verb} free at {need.site_id} ({price})"
        ),
        name=f"{day.isoformat()} {session_id}",
        cost=cost,
        travel_minutes=0,
        adds=tuple(a for s in chosen for a in s.adds),
        moved_to=(day, session_id),
    )


class CoverContext:
    """The rota and its coverage indexed for the question "who could fill this gap?"."""

    def __init__(
        self,
        bundle: Bundle,
        dates: Sequence[dt.date],
        assignments: Sequence[Assignment],
        coverage: Sequence[CoverageLine],
        horizon: Horizon | None = None,
    ) -> None:
        self.bundle = bundle
        self.dates = tuple(dates)
        self.assignments = tuple(sorted(set(assignments)))
        self.horizon = horizon or Horizon(bundle, self.dates)
        self.plan = Plan(self.horizon, self.assignments)
        self.demand = {row.row: row for row in bundle.demand}
        self.lines: dict[tuple[dt.date, str, str], list[CoverageLine]] = defaultdict(list)
        for line in coverage:
            self.lines[(line.date, line.site_id, line.session_id)].append(line)
        staff = {p.staff_id: p for p in bundle.staff}
        self.present: dict[tuple[dt.date, str, str], list[Staff]] = defaultdict(list)
        for a in self.assignments:
            if a.staff_id in staff:
                self.present[(a.date, a.site_id, a.session_id)].append(staff[a.staff_id])
        weeks: dict[str, list[dt.date]] = defaultdict(list)
        for day in self.dates:
            weeks[iso_week_label(day)].append(day)
        self.week_of = {day: tuple(weeks[iso_week_label(day)]) for day in self.dates}

    def needs(self) -> dict[tuple[dt.date, int], Need]:
        """The horizon's needs by date and demand row, as coverage lines name them."""
        return {(n.date, n.demand.row): n for n in self.horizon.needs}

    def clashes(self, staff_id: str, need: Need, shift: Shift) -> tuple[Assignment, ...]:
        """The person's sessions that overlap the need's, or leave too little time to travel.

        Only sessions on the same date, as the validator's overlap rule; rest
        between days is left to the validator's check of the move.
        """
        found = []
        for a in self.plan.of(staff_id):
            if a.date != need.date:
                continue
            other = self.plan.shift(a)
            if other.start < shift.end and shift.start < other.end:
                found.append(a)
                continue
            first, second = (other, shift) if other.start <= shift.start else (shift, other)
            gap = (second.start - first.end).total_seconds() // 60
            if gap < self.horizon.travel_minutes(a.site_id, need.site_id):
                found.append(a)
        return tuple(found)

    def left_short(self, moved: Assignment) -> list[LeftShort]:
        """Demand rows of the slot a person leaves that would then be short (or shorter)."""
        key = (moved.date, moved.site_id, moved.session_id)
        lines = self.lines.get(key, [])
        rows: list[DemandRow] = [self.demand[line.demand_row] for line in lines]
        staying = sorted(
            (p for p in self.present.get(key, []) if p.staff_id != moved.staff_id),
            key=lambda p: p.staff_id,
        )
        after = allocate(rows, staying)
        out = []
        for line, got in zip(lines, after, strict=True):
            short = max(0, line.min - got)
            if short > line.shortfall:
                who = line.role or "anyone"
                who = who if line.skill is None else f"{who} with {line.skill}"
                out.append(
                    LeftShort(
                        moved.date,
                        moved.session_id,
                        moved.site_id,
                        who,
                        short,
                        line.role,
                        line.skill,
                    )
                )
        return out

    def breaks_hard_rule(
        self, person: Staff, proposed: Sequence[Assignment], moved: Sequence[DemandRow] = ()
    ) -> bool:
        """The validator's verdict on the person's week after the move, them alone.

        Every hard rule but the room limit concerns one person, so checking
        them alone is exact and fast; rooms are checked apart.  ``moved`` adds
        the demand row of a moved clinic, which the person would work to.
        """
        slots = {(a.site_id, a.session_id) for a in proposed}
        demand = (*self.bundle.demand, *moved)
        mine = dataclasses.replace(
            self.bundle,
            staff=(person,),
            demand=tuple(r for r in demand if (r.site_id, r.session_id) in slots),
            leave=tuple(lv for lv in self.bundle.leave if lv.staff_id == person.staff_id),
            preferences=tuple(p for p in self.bundle.preferences if p.staff_id == person.staff_id),
            fixed=tuple(f for f in self.bundle.fixed if f.staff_id == person.staff_id),
            session_limits=tuple(
                s for s in self.bundle.session_limits if s.staff_id == person.staff_id
            ),
        )
        return bool(rule_breaks(mine, self.dates, proposed))

    def week_minutes(self, person: Staff, sessions: Iterable[Assignment], day: dt.date) -> Decimal:
        """Planned plus leave minutes in the ISO week of ``day``: what contract hours count."""
        week = self.week_of[day]
        planned = sum(self.plan.shift(a).minutes for a in sessions if a.date in week)
        return Decimal(planned) + Decimal(str(self.horizon.leave_minutes(person, week)))

    def overtime_hours(
        self, person: Staff, before: Sequence[Assignment], after: Sequence[Assignment], day: dt.date
    ) -> Decimal:
        """Hours a change takes the person's week past their contract (0 when it stays within)."""
        contract = Decimal(str(person.contract_hours)) * 60
        was = self.week_minutes(person, before, day)
        over = self.week_minutes(person, after, day) - max(was, contract)
        return cents(over / 60) if over > 0 else Decimal(0)

    def candidate(self, slot: Slot, person: Staff) -> Candidate | None:
        """The person as a candidate for the slot's need, or None when they cannot fill it."""
        need = slot.need
        if not need.admits(person) or not person.may_work_at(need.site_id):
            return None
        for excluded in (already_here, on_leave, marked_unavailable):
            if excluded(slot, person) is not None:
                return None
        gives_up = self.clashes(person.staff_id, need, slot.shift)
        added = Assignment(need.date, need.session_id, need.site_id, person.staff_id)
        mine = self.plan.of(person.staff_id)
        proposed = [a for a in mine if a not in gives_up] + [added]
        if self.breaks_hard_rule(person, proposed):
            return None
        hours = Decimal(slot.shift.minutes) / 60
        given = sum((Decimal(self.plan.shift(a).minutes) / 60 for a in gives_up), Decimal(0))
        return Candidate(
            person=person,
            hours=cents(hours),
            extra_hours=cents(hours - given),
            travel_minutes=self.horizon.travel_minutes(person.home_site, need.site_id),
            rate=None if person.hourly_rate is None else Decimal(str(person.hourly_rate)),
            gives_up=gives_up,
            leaves_short=tuple(s for a in gives_up for s in self.left_short(a)),
            overtime_hours=self.overtime_hours(person, mine, proposed, need.date),
        )

    def rooms_left(self, need: Need) -> int | None:
        """Consulting rooms free throughout the need's session, at the site and in the building
        it shares; None when neither limits rooms."""
        index = self.plan.week_index(need.date)
        shift = index.shift(need.date, need.session_id)
        return None if shift is None else index.rooms_left(need.site_id, shift)

    def rooms_full(self, need: Need) -> bool:
        """No consulting room left in the slot: nobody can be added, whoever they are."""
        return self.rooms_left(need) == 0

    def candidates(self, need: Need) -> list[Candidate]:
        """Everyone who could fill the need, least disruptive and cheapest first."""
        shift = self.horizon.shifts[(need.date, need.session_id)]
        slot = Slot(self.horizon, self.plan, need, shift)
        if self.rooms_full(need):
            return []
        found = [c for p in self.bundle.staff if (c := self.candidate(slot, p)) is not None]

        def order(c: Candidate) -> tuple[bool, bool, Decimal, int, str]:
            cost = c.extra_cost
            return (
                bool(c.leaves_short),
                cost is None,
                cost or Decimal(0),
                c.travel_minutes,
                c.person.name,
            )

        return sorted(found, key=order)

    # -- moving the clinic ---------------------------------------------------------------

    def nearby_sessions(self, need: Need) -> list[tuple[dt.date, str]]:
        """Sessions a clinic could move to: same site and kind, a few days either way, same week.

        Only sessions the site runs (demand is in force) and where every
        minimum is met: moving a clinic into a short session fixes nothing.
        """
        kind = self.horizon.shifts[(need.date, need.session_id)].session.kind
        week = self.week_of[need.date]
        found = []
        for (day, session_id), shift in self.horizon.shifts.items():
            if (day, session_id) == (need.date, need.session_id) or shift.session.kind != kind:
                continue
            if day not in week or abs((day - need.date).days) > CLINIC_MOVE_DAYS:
                continue
            lines = self.lines.get((day, need.site_id, session_id), [])
            if lines and not any(line.shortfall for line in lines):
                found.append((day, session_id))
        return found

    def spare_here(self, need: Need, pool: Sequence[Staff]) -> list[Staff]:
        """People of ``pool`` working in the need's slot whom its minimums can spare, together."""
        key = (need.date, need.site_id, need.session_id)
        lines = self.lines.get(key, [])
        rows = [self.demand[line.demand_row] for line in lines]
        present = sorted(self.present.get(key, []), key=lambda p: p.staff_id)
        spared: set[str] = set()
        for person in sorted(pool, key=lambda p: (p.name, p.staff_id)):
            gone = spared | {person.staff_id}
            after = allocate(rows, [p for p in present if p.staff_id not in gone])
            if all(line.min <= got for line, got in zip(lines, after, strict=True)):
                spared.add(person.staff_id)
        return [p for p in pool if p.staff_id in spared]

    def free_seat(self, slot: Slot, person: Staff) -> FreeSeat | None:
        """One of the site's own staff as able to come in for the moved clinic, or None.

        They must be free then, stay within their contract hours and break
        no hard rule (the validator's verdict on their week).
        """
        need = slot.need
        if person.home_site != need.site_id or self.clashes(person.staff_id, need, slot.shift):
            return None
        if on_leave(slot, person) or marked_unavailable(slot, person):
            return None
        mine = self.plan.of(person.staff_id)
        there = Assignment(need.date, need.session_id, need.site_id, person.staff_id)
        proposed = [*mine, there]
        if self.overtime_hours(person, mine, proposed, need.date) > 0:
            return None
        if self.breaks_hard_rule(person, proposed, (need.demand,)):
            return None
        rate = None if person.hourly_rate is None else Decimal(str(person.hourly_rate))
        cost = None if rate is None else cents(Decimal(slot.shift.minutes) / 60 * rate)
        return FreeSeat(person, cost, (there,))

    def free_for_clinic(self, need: Need, day: dt.date, session_id: str) -> list[FreeSeat]:
        """Who could run the need's clinic moved to ``day`` ``session_id``, cheapest first.

        Free: working there already and not needed for any minimum (all of
        them together), or the site's own staff who could come in, as many
        as there are rooms.
        """
        row = moved_row(need.demand, day, session_id, need.demand.min)
        moved = Need(need.index, row, day)
        slot = Slot(self.horizon, self.plan, moved, self.horizon.shifts[(day, session_id)])
        pool = [p for p in self.bundle.staff if need.admits(p) and p.may_work_at(need.site_id)]
        here = {p.staff_id for p in self.present.get((day, need.site_id, session_id), [])}
        spare = self.spare_here(moved, [p for p in pool if p.staff_id in here])
        added = [
            s for p in pool if p.staff_id not in here and (s := self.free_seat(slot, p)) is not None
        ]

        def order(s: FreeSeat) -> tuple[bool, Decimal, str, str]:
            return (s.cost is None, s.cost or Decimal(0), s.person.name, s.person.staff_id)

        rooms = self.rooms_left(moved)
        added = sorted(added, key=order)[: rooms if rooms is not None else len(added)]
        return [FreeSeat(p, Decimal(0), ()) for p in spare] + added

    def clinic_moves(self, need: Need, short: int) -> list[FixOption]:
        """Each nearby session where enough people who fit are free to run the clinic.

        Never for a service (an MIU, urgent care, out of hours) or a need of every day:
        its patients come that day, and the same need stands on the other days too.
        """
        every_day = need.demand.day.date is None and len(need.demand.day.weekdays) == DAYS
        if self.bundle.site(need.site_id).kind is SiteKind.SERVICE or every_day:
            return []
        moves = []
        for day, session_id in self.nearby_sessions(need):
            free = self.free_for_clinic(need, day, session_id)
            if len(free) >= short:
                moves.append(move_option(need, short, day, session_id, free))
        return moves

    def fix_options(
        self, need: Need, short: int, found: Sequence[Candidate]
    ) -> tuple[FixOption, ...]:
        """Every checked way to meet the need, ranked as ``explain.option_order`` ranks them."""
        return rank_options(
            [*(person_option(need, c) for c in found), *self.clinic_moves(need, short)]
        )


def shortfall_items(
    bundle: Bundle,
    dates: Sequence[dt.date],
    assignments: Sequence[Assignment],
    coverage: Sequence[CoverageLine],
    shown: int = CANDIDATES_SHOWN,
    *,
    horizon: Horizon | None = None,
    deadline: float | None = None,
) -> list[ShortfallItem]:
    """Each unmet min, explained as ``rotapool plan`` explains it, with who could cover it.

    ``bundle`` should carry every leave the network knows of (approved
    requests included): people on leave are never offered as cover.  Each
    note carries its ranked fixes; ``horizon`` (of the same bundle and
    dates) saves building it again.  Past ``deadline`` (a ``time.monotonic()`` instant) the
    remaining notes keep their causes but are marked ``unexplored``: no fixes, no candidates.
    """
    context = CoverContext(bundle, dates, assignments, coverage, horizon)
    needs = context.needs()
    short = [
        (needs[(line.date, line.demand_row)], line.assigned, line.shortfall)
        for line in coverage
        if line.shortfall > 0 and (line.date, line.demand_row) in needs
    ]
    by_key = {(need.date, need.demand.row): need for need, _, _ in short}
    items = []
    for note in explain_shortfalls(context.horizon, context.assignments, short):
        if deadline is not None and time.monotonic() >= deadline:
            items.append(ShortfallItem(dataclasses.replace(note, unexplored=True), (), 0))
            continue
        need = by_key[(note.date, note.demand_row)]
        found = context.candidates(need)
        fixes = context.fix_options(need, note.short, found)
        items.append(
            ShortfallItem(
                dataclasses.replace(note, options=fixes),
                tuple(found[:shown]),
                max(0, len(found) - shown),
            )
        )
    return items
