"""Why a need went unmet, in words a manager can act on.

For each unmet ``min``, everyone who fits the need is classified by the
first reason that keeps them out (``reasons.CHECKS``), and the reasons are
summed up in one headline: people a manager can act on are named ("S0031
Jo Bloggs on annual leave"), the rest are counted ("the 3 other PN with
cytology are needed at their own practices").  Leave words come in a public
and a private wording: only managers and coordinators read the kind.

``FixOption`` is one way to meet a shortfall (borrow someone, pay overtime,
move the clinic), found and checked by ``scheduler.checks.fixes``;
``rank_options`` orders them, least disruptive first.  No I/O."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from scheduler.checks.reasons import ASSIGNED, CHECKS, Check, Plan, Slot, utc
from scheduler.checks.wording import (
    Reason,
    Wording,
    day_label,
    join_and,
    label,
    nobody_sentence,
    people,
    person_ref,
)
from scheduler.domain import Assignment, Staff
from scheduler.horizon import Horizon, Need

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
    # The caller ran out of time before looking for fixes (a plan's time limit is its whole
    # wait): ``options`` is empty because nobody looked, not because there are none.
    unexplored: bool = False

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
        start = utc(horizon.shifts[(need.date, need.session_id)].start)
        return (need.date, start, need.site_id, need.demand.row, need.index)

    notes = []
    for need, assigned, short in sorted(short_needs, key=order):
        slot = Slot(horizon, plan, need, horizon.shifts[(need.date, need.session_id)])
        notes.append(explain_need(slot, assigned, short))
    return notes
