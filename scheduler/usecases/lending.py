"""Lending proposals: a practice short of its minimum borrows someone another site can spare.

For every unmet ``min`` at a practice, the people based elsewhere who fit the
need and may work there are considered: people free in that session with
contracted time left (the spare capacity), and people working at their own
site then whose leaving would keep that site at every ``min``.  Each proposal
is checked twice: by the rules of ``scheduler.checks.capacity`` while
ranking, then by the independent validator on the person's week as it would
be.  Nobody is proposed who would break a hard rule or leave the lender below
a ``min``.  Pure (``Lending``); ``transfers`` stores and accepts them."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from scheduler.checks.capacity import (
    RULE_LABELS,
    PersonWeek,
    RotaIndex,
    day_label,
    seconds_of,
)
from scheduler.checks.validator import CoverageLine, allocate, check_rota
from scheduler.domain import Assignment, Bundle, SiteKind, Staff
from scheduler.horizon import Shift
from scheduler.money import cents, hours_of
from scheduler.usecases.editing import (
    Edit,
    added_violations,
)

OPEN = "proposed"  # a transfer's state until both sides accept or it is withdrawn
PROPOSALS_PER_SHORT = 3  # proposals kept open per person a practice is short in a session
STAFF_ROLES = ("manager", "coordinator")  # may act for either side

Key = tuple[str, dt.date, str, str]  # staff_id, date, session_id, borrower site


# --------------------------------------------------------------------------- proposals


@dataclass(frozen=True)
class Proposal:
    """One person lent by their own site to a practice that is short, for one session."""

    person: Staff
    date: dt.date
    session_id: str
    lender_site: str  # the person's home site
    borrower_site: str
    gives_up: Assignment | None  # their session at the lender then; None when free
    hours: Decimal
    travel_minutes: int  # from their home site
    leaves_lender_short: bool  # the lender below a target after the move

    @property
    def key(self) -> Key:
        return (self.person.staff_id, self.date, self.session_id, self.borrower_site)

    @property
    def cell(self) -> Assignment:
        """The session the person would work at the borrower."""
        return Assignment(self.date, self.session_id, self.borrower_site, self.person.staff_id)

    @property
    def cost(self) -> Decimal | None:
        """Hours at the person's rate: what the borrower is recharged; None without a rate."""
        rate = self.person.hourly_rate
        return None if rate is None else cents(self.hours * Decimal(str(rate)))

    def edit(self) -> Edit:
        """The change of the rota: an added session, or a move from the lender."""
        if self.gives_up is None:
            return Edit("assign", self.cell)
        return Edit("move", self.gives_up, self.cell)


@dataclass(frozen=True)
class ShortSlot:
    """A practice short of its minimum in one session."""

    date: dt.date
    session_id: str
    site_id: str
    short: int


def _who(person: Staff) -> str:
    return f"{person.staff_id} {person.name}"


def _when(shift: Shift) -> str:
    return f"{shift.session_id} on {day_label(shift.date)}"


def rank(proposal: Proposal) -> tuple[bool, bool, bool, Decimal, int, str, str]:
    """Least disruptive first: free people, then cheapest, then nearest."""
    cost = proposal.cost
    return (
        proposal.leaves_lender_short,
        proposal.gives_up is not None,
        cost is None,
        cost or Decimal(0),
        proposal.travel_minutes,
        proposal.person.name,
        proposal.person.staff_id,
    )


def person_bundle(bundle: Bundle, person: Staff, cells: Iterable[Assignment]) -> Bundle:
    """The bundle narrowed to one person and the slots of their week: every hard rule but
    the room limit concerns one person, so checking them alone is exact and fast."""
    slots = {(a.site_id, a.session_id) for a in cells}
    staff_id = person.staff_id
    return dataclasses.replace(
        bundle,
        staff=(person,),
        demand=tuple(r for r in bundle.demand if (r.site_id, r.session_id) in slots),
        leave=tuple(lv for lv in bundle.leave if lv.staff_id == staff_id),
        preferences=tuple(p for p in bundle.preferences if p.staff_id == staff_id),
        fixed=tuple(f for f in bundle.fixed if f.staff_id == staff_id),
        session_limits=tuple(s for s in bundle.session_limits if s.staff_id == staff_id),
    )


class Lending:
    """A week's rota seen as "who could another site lend to a practice that is short?"."""

    def __init__(
        self,
        bundle: Bundle,
        dates: Sequence[dt.date],
        assignments: Iterable[Assignment],
        pinned: Collection[Assignment] = frozenset(),
        coverage: Sequence[CoverageLine] | None = None,
    ) -> None:
        self.bundle = bundle
        self.index = RotaIndex(bundle, dates, assignments, coverage)
        fixed = {Assignment(f.date, f.session_id, f.site_id, f.staff_id) for f in bundle.fixed}
        self.pinned = frozenset(pinned) | fixed

    # -- the need -------------------------------------------------------------------------

    def short_slots(self) -> list[ShortSlot]:
        """Practices below a ``min`` in a session, in time order, then by site."""
        short: Counter[tuple[dt.date, str, str]] = Counter()
        for (day, site_id, session_id), lines in self.index.lines.items():
            site = self.index.sites.get(site_id)
            if site is not None and site.kind is SiteKind.PRACTICE:
                short[(day, session_id, site_id)] += sum(line.shortfall for line in lines)
        order = {(s.date, s.session_id): i for i, s in enumerate(self.index.shifts_in_order())}
        return [
            ShortSlot(day, session_id, site_id, count)
            for (day, session_id, site_id), count in sorted(
                short.items(), key=lambda item: (order[item[0][:2]], item[0][2])
            )
            if count > 0
        ]

    def shortfall(self, day: dt.date, session_id: str, site_id: str, people: list[Staff]) -> int:
        """People missing against the site's minimums in that session, with these people there."""
        rows = self.index.rows.get((day, session_id), {}).get(site_id, [])
        got = allocate(rows, sorted(people, key=lambda p: p.staff_id))
        return sum(max(0, row.min - n) for row, n in zip(rows, got, strict=True))

    def below_target(
        self, day: dt.date, session_id: str, site_id: str, people: list[Staff]
    ) -> bool:
        """Whether a need of the site in that session is below its target with these people."""
        rows = self.index.rows.get((day, session_id), {}).get(site_id, [])
        got = allocate(rows, sorted(people, key=lambda p: p.staff_id))
        return any(n < row.target for row, n in zip(rows, got, strict=True))

    # -- one person ------------------------------------------------------------------------

    def consider(
        self, person: Staff, day: dt.date, session_id: str, borrower: str
    ) -> Proposal | str:
        """The person as a proposal for the borrower's session, or why they cannot be one.

        Every check but the validator's (see ``confirm``); the reasons never
        name a kind of leave.
        """
        shift = self.index.shift(day, session_id)
        if shift is None:
            return f"there is no {session_id} on {day_label(day)}"
        problem = self._borrower_problem(person, shift, borrower)
        if problem is not None:
            return problem
        change = self._change(person, shift, borrower)
        if isinstance(change, str):
            return change
        gives_up, leaves_short = change
        return Proposal(
            person=person,
            date=day,
            session_id=session_id,
            lender_site=person.home_site,
            borrower_site=borrower,
            gives_up=gives_up,
            hours=hours_of(seconds_of(shift)),
            travel_minutes=self.index.travel(person.home_site, borrower),
            leaves_lender_short=leaves_short,
        )

    def _borrower_problem(self, person: Staff, shift: Shift, borrower: str) -> str | None:
        """Why the borrower cannot take this person in that session, if it cannot."""
        who, when = _who(person), _when(shift)
        site = self.index.sites.get(borrower)
        if site is None or site.kind is not SiteKind.PRACTICE:
            return f"{borrower} is not a practice of the network"
        if person.home_site == borrower:
            return f"{who} is based at {borrower}"
        if not person.may_work_at(borrower):
            return f"{who} may not work at {borrower}"
        there = self.index.present(shift.date, shift.session_id, borrower)
        short = self.shortfall(shift.date, shift.session_id, borrower, there)
        if short == 0:
            return f"{borrower} is no longer short of anyone for {when}"
        if self.shortfall(shift.date, shift.session_id, borrower, [*there, person]) >= short:
            return f"{who} fits none of the needs {borrower} is short of for {when}"
        return None

    def _change(
        self, person: Staff, shift: Shift, borrower: str
    ) -> tuple[Assignment | None, bool] | str:
        """The session the person gives up (None when free) and whether the lender is then
        below a target; or why they cannot go."""
        week = self.index.week_of(person)
        gives_up = self._gives_up(week, shift)
        if isinstance(gives_up, str):
            return gives_up
        mine = week if gives_up is None else week.without(gives_up)
        broken = self.index.breaks(mine, shift, borrower)
        if broken is not None:
            return f"{_who(person)} would break a hard rule ({RULE_LABELS[broken]})"
        if gives_up is None:
            return None, False
        there = self.index.present(shift.date, shift.session_id, person.home_site)
        staying = [p for p in there if p.staff_id != person.staff_id]
        if self.shortfall(shift.date, shift.session_id, person.home_site, staying):
            return (
                f"taking {_who(person)} away would leave {person.home_site} below its minimum "
                f"for {_when(shift)}"
            )
        return gives_up, self.below_target(shift.date, shift.session_id, person.home_site, staying)

    def _gives_up(self, week: PersonWeek, shift: Shift) -> Assignment | str | None:
        """The person's session at their own site in that slot, None when free; or why
        they are not free to go (on leave, elsewhere, pinned, no contracted time left)."""
        person, who = week.person, _who(week.person)
        if self.index.horizon.leave_on(person.staff_id, shift.date, shift.session_id):
            return f"{who} is on leave then"
        busy = [
            a
            for a, other in week.on(shift.date)
            if other.start < shift.end and shift.start < other.end
        ]
        home = Assignment(shift.date, shift.session_id, person.home_site, person.staff_id)
        if not busy:
            spare = self.index.spare_seconds(week) > 0
            return None if spare else f"{who} has no contracted time left this week"
        if busy != [home]:
            return f"{who} works {busy[0].session_id} at {busy[0].site_id} then"
        if home in self.pinned:
            return f"{who} is pinned to {shift.session_id} at {person.home_site} then"
        return home

    def confirm(self, proposal: Proposal) -> str | None:
        """The validator's verdict on the person's week after the change: None when it holds."""
        person = proposal.person
        before = list(self.index.by_staff.get(person.staff_id, ()))
        after = [a for a in before if a != proposal.gives_up] + [proposal.cell]
        mine = person_bundle(self.bundle, person, [*before, *after])
        dates = self.index.dates
        added = added_violations(check_rota(mine, dates, before), check_rota(mine, dates, after))
        if not added:
            return None
        first = added[0]
        if first.rule_id == "leave":  # the validator's words name the kind of leave
            return f"{person.staff_id} {person.name} is on leave then"
        return f"{first.label}: {first.message}"

    # -- everyone -------------------------------------------------------------------------

    def candidates(self, slot: ShortSlot) -> list[Proposal]:
        """Everyone who could be lent to the slot (validator not yet asked), best first."""
        lines = self.index.lines.get((slot.date, slot.site_id, slot.session_id), [])
        short = [line for line in lines if line.shortfall > 0]
        found = []
        for person in self.index.staff.values():
            fits = any(
                (line.role is None or line.role == person.role)
                and (line.skill is None or line.skill in person.skills)
                for line in short
            )
            if not fits or person.home_site == slot.site_id:
                continue
            if not person.may_work_at(slot.site_id):
                continue
            made = self.consider(person, slot.date, slot.session_id, slot.site_id)
            if isinstance(made, Proposal):
                found.append(made)
        return sorted(found, key=rank)

    def choose(
        self,
        held: Iterable[Key] = (),
        skip: Collection[Key] = frozenset(),
        per_short: int = PROPOSALS_PER_SHORT,
    ) -> list[Proposal]:
        """New proposals for every short practice, beyond those already ``held`` open.

        At most ``per_short`` open proposals per person a practice is short,
        and one person is never proposed twice for the same session (so
        accepting one proposal never spoils another).  ``skip`` holds the
        proposals not to make again (declined ones).
        """
        held = list(held)
        taken = {(staff_id, day, session_id) for staff_id, day, session_id, _ in held}
        count = Counter((day, session_id, site) for _, day, session_id, site in held)
        chosen = []
        for slot in self.short_slots():
            place = (slot.date, slot.session_id, slot.site_id)
            for proposal in self.candidates(slot):
                if count[place] >= per_short * slot.short:
                    break
                person_slot = (proposal.person.staff_id, slot.date, slot.session_id)
                if proposal.key in skip or person_slot in taken:
                    continue
                if self.confirm(proposal) is not None:
                    continue
                chosen.append(proposal)
                taken.add(person_slot)
                count[place] += 1
        return chosen

    def holds(self, transfer: Transfer) -> Proposal | str:
        """A stored proposal checked against this rota: the proposal, or why it no longer holds."""
        person = self.index.staff.get(transfer.staff_id)
        if person is None:
            return f"{transfer.staff_id} is no longer on the staff list"
        if person.home_site != transfer.lender_site:
            return f"{person.staff_id} {person.name} is no longer based at {transfer.lender_site}"
        found = self.consider(person, transfer.date, transfer.session_id, transfer.borrower_site)
        if isinstance(found, str):
            return found
        if found.leaves_lender_short and not transfer.leaves_lender_short:
            return (
                f"it would now leave {transfer.lender_site} below its target for "
                f"{transfer.session_id} on {day_label(transfer.date)}"
            )
        return self.confirm(found) or found


def proposals(
    bundle: Bundle,
    dates: Sequence[dt.date],
    assignments: Iterable[Assignment],
    pinned: Collection[Assignment] = frozenset(),
) -> list[Proposal]:
    """Lending proposals for a week's rota, from scratch (nothing held, nothing declined)."""
    return Lending(bundle, dates, assignments, pinned).choose()


# --------------------------------------------------------------------------- stored transfers


class TransferError(ValueError):
    """The transfer cannot be changed as asked; the message says why and what to do."""


class TransferNotFoundError(LookupError):
    """No transfer with that id in this network."""


class TransferStaleError(TransferError):
    """At the second acceptance the proposal no longer holds against the current rota."""


@dataclass(frozen=True)
class Transfer:
    """A stored proposal as pages and commands show it."""

    id: int
    week: str
    staff_id: str
    date: dt.date
    session_id: str
    lender_site: str
    borrower_site: str
    hours: Decimal
    cost: Decimal | None
    travel_minutes: int
    leaves_lender_short: bool
    state: str
    proposed_by: str
    proposed_at: dt.datetime
    lender_accepted_by: str | None
    lender_accepted_at: dt.datetime | None
    borrower_accepted_by: str | None
    borrower_accepted_at: dt.datetime | None
    decided_at: dt.datetime | None

    @property
    def key(self) -> Key:
        return (self.staff_id, self.date, self.session_id, self.borrower_site)

    @property
    def day(self) -> str:
        return day_label(self.date)

    @property
    def open(self) -> bool:
        return self.state == OPEN

    def site_of(self, side: str) -> str:
        return self.lender_site if side == "lender" else self.borrower_site

    def accepted_by(self, side: str) -> str | None:
        return self.lender_accepted_by if side == "lender" else self.borrower_accepted_by
