"""Build a first rota person by person: many small searches instead of one large one.

Nearly every hard rule concerns one person (rest, runs of days, hours over
the horizon, weekends, sequences, leave); cover is a goal.  So a valid rota
is a set of valid personal schedules, and each person's schedule is a small
search of its own: a ``RotaModel`` of a bundle holding that person alone,
with the rule registry applying exactly the product's rules to them.

The people are planned in turn.  Each one's goals are the product's own goals
with every demand row reduced by the people already placed (what is still
short, what would now be over target), so the person's objective is exactly
what their schedule adds to the whole rota's: the rota built is a good start,
not merely a valid one.  The same step re-plans one person with everyone else
fixed, which ``improve`` repeats while time remains.

A person's first schedule is found before it is priced: any valid schedule by
a short search restarted with new seeds (``first_schedule``), then the best one
from it in what is left of the person's share.  Over a year the hard rules
alone are the hard part, and this finds them several times faster than
searching the goals from the start.

Rooms are the one cross-person hard rule: an option is left out when the
rooms of its site or building are already full at some moment of it (people
placed before, and every pinned session, count).  Pinned sessions stay in
their person's own model, so the rota keeps every pin.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import time
from collections import defaultdict
from collections.abc import Iterable

from ortools.sat.python import cp_model

from scheduler.domain import Assignment, Bundle, Staff
from scheduler.horizon import Horizon, Need, Shift
from solver.model import Key, RotaModel, gc_paused
from solver.result import SolveOptions
from solver.rules import build

MIN_PERSON_SECONDS = 0.5  # the least a person's re-plan is given
# A first schedule's tries: each with a new seed and a longer limit; the last runs on
# for as long as the person is given.
FIRST_TRIES = (0.5, 1.0, 2.0, 4.0, 8.0, float("inf"))
# Up to four weeks a person's goals are searched from the start, as before restarts came
# (Instance8 measured 1464 and 1742 with restarts first, 1359 and 1637 without).
PRICE_FIRST_DAYS = 28
MIN_PRICE_SECONDS = 0.2  # a first schedule is priced only when this much of its share is left
# A first schedule of a year takes CP-SAT up to a second or two: a person whose share of
# the construction's time ends without a schedule searches on, up to this long in all,
# for a first one (a rota a little late is better than none).
MIN_FIRST_SECONDS = 3.0
PERSON_WORKERS = 2  # the two-worker portfolio finds a person's year in well under a second
CONSTRUCT_SHARE = 1 / 2  # of the time given, at most, to build the first rota


@dataclasses.dataclass
class Roster:
    """The schedules found so far, one per person, and how many each need has."""

    horizon: Horizon
    schedules: dict[str, list[Key]] = dataclasses.field(default_factory=dict)

    def keys(self, but: str | None = None) -> Iterable[Key]:
        for staff_id, keys in self.schedules.items():
            if staff_id != but:
                yield from keys

    def assignments(self) -> tuple[Assignment, ...]:
        return tuple(sorted(Assignment(k[1], k[2], k[3], k[0]) for k in self.keys()))


def person_bundle(bundle: Bundle, person: Staff) -> Bundle:
    """The bundle with one person in it; network-wide goals are left to the full model."""
    sid = person.staff_id
    return dataclasses.replace(
        bundle,
        staff=(person,),
        leave=tuple(lv for lv in bundle.leave if lv.staff_id == sid),
        preferences=tuple(p for p in bundle.preferences if p.staff_id == sid),
        fixed=tuple(f for f in bundle.fixed if f.staff_id == sid),
        session_limits=tuple(lim for lim in bundle.session_limits if lim.staff_id == sid),
        enhanced_access_settings=None,
        fairness_balance={},
    )


def residual_needs(
    needs: Iterable[Need], filled: dict[int, int], person: Staff
) -> tuple[Need, ...]:
    """The needs this person could fill, each reduced by the people already on it.

    A row already at its ``min`` wants nobody more for that goal, and one at its
    ``target`` makes every further person over target: the goals of the reduced
    rows price exactly what one more person adds.
    """
    out = []
    for need in needs:
        if not need.admits(person):
            continue
        have = filled.get(need.index, 0)
        row = need.demand
        if have:
            row = dataclasses.replace(
                row, min=max(0, row.min - have), target=max(0, row.target - have)
            )
        out.append(Need(need.index, row, need.date))
    return tuple(out)


def filled_counts(horizon: Horizon, keys: Iterable[Key]) -> dict[int, int]:
    """How many of these options each need has (an option fills the first row that fits it)."""
    by_slot: dict[tuple[dt.date, str, str], list[Need]] = defaultdict(list)
    for need in horizon.needs:
        by_slot[(need.date, need.session_id, need.site_id)].append(need)
    staff = {p.staff_id: p for p in horizon.staff}
    counts: dict[int, int] = defaultdict(int)
    for key in keys:
        for need in by_slot.get((key[1], key[2], key[3]), ()):
            if need.admits(staff[key[0]]):
                counts[need.index] += 1
                break
    return counts


def full_rooms(horizon: Horizon, taken: Iterable[Key]) -> set[tuple[dt.date, str, str]]:
    """(date, session, site) options a new person cannot take: some room group is full then."""
    bundle = horizon.bundle
    groups = [(frozenset({s.site_id}), s.rooms) for s in bundle.sites if s.rooms > 0]
    groups += [(bundle.sites_in(b.building), b.rooms) for b in bundle.buildings if b.rooms > 0]
    if not groups:
        return set()
    taken = list(taken)
    out: set[tuple[dt.date, str, str]] = set()
    for members, rooms in groups:
        present = [horizon.shifts[(k[1], k[2])] for k in taken if k[3] in members]
        if len(present) < rooms:
            continue
        for (day, session_id), shift in horizon.shifts.items():
            if _most_at_once(shift, present) >= rooms:
                out.update((day, session_id, site) for site in members)
    return out


def _most_at_once(shift: Shift, others: list[Shift]) -> int:
    """The most of ``others`` present at one moment of ``shift`` (counts at their starts)."""
    during = [o for o in others if o.start < shift.end and o.end > shift.start]
    moments = [shift.start] + [o.start for o in during if o.start > shift.start]
    return max((sum(1 for o in during if o.start <= t < o.end) for t in moments), default=0)


def plan_person(
    horizon: Horizon,
    person: Staff,
    roster: Roster,
    options: SolveOptions,
    seconds: float,
    *,
    at_least: float = 0.0,
) -> list[Key] | None:
    """The best schedule for one person with everyone else in ``roster`` fixed; None if none.

    The person's present schedule, if any, is the hint, so a re-plan is never worse.
    A person without one on a horizon up to ``PRICE_FIRST_DAYS`` is priced from the
    start, any valid schedule (``first_schedule``) being the fallback; on a longer one
    any valid schedule comes first and is then priced with what is left of
    ``seconds``.  A first schedule is searched for up to ``at_least`` seconds.
    """
    started = time.monotonic()
    m = person_model(horizon, person, roster)
    current = set(roster.schedules.get(person.staff_id, ()))
    if current:
        for key, var in m.x.items():
            m.model.add_hint(var, key in current)
        solver, status = _search(m, options, max(MIN_PERSON_SECONDS, seconds))
    elif len(horizon.dates) <= PRICE_FIRST_DAYS:
        solver, status = _search(m, options, max(MIN_PERSON_SECONDS, seconds))
        if status == cp_model.UNKNOWN and at_least > seconds:
            first = first_schedule(m, options, at_least - seconds)
            return None if first is None else [k for k, x in m.x.items() if first.value(x)]
    else:
        first = first_schedule(m, options, max(at_least, seconds))
        if first is None:
            return None
        current = {key for key, var in m.x.items() if first.value(var)}
        hint_solution(m, first)
        left = seconds - (time.monotonic() - started)
        if left < MIN_PRICE_SECONDS:
            return sorted(current)
        solver, status = _search(m, options, left)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return sorted(current) if current else None
    return sorted(key for key, var in m.x.items() if solver.value(var))


def person_model(horizon: Horizon, person: Staff, roster: Roster) -> RotaModel:
    """One person's model: their rules, the demand others left, and no room already full."""
    sid = person.staff_id
    others = list(roster.keys(but=sid))
    pins = [(f.staff_id, f.date, f.session_id, f.site_id) for f in horizon.bundle.fixed]
    full = full_rooms(horizon, others + [p for p in pins if p[0] != sid])
    part = Horizon(person_bundle(horizon.bundle, person), horizon.dates)
    part.needs = residual_needs(horizon.needs, filled_counts(horizon, others), person)
    with gc_paused():
        m = build(RotaModel(part))
    for key, var in m.x.items():
        if (key[1], key[2], key[3]) in full:
            m.model.add(var == 0)
    return m


def first_schedule(m: RotaModel, options: SolveOptions, seconds: float) -> cp_model.CpSolver | None:
    """Any valid schedule of a person's model, goals ignored; None if none in ``seconds``.

    One worker restarting often with no linear relaxation: over a year (runs of
    days, weekends, a narrow window on total minutes) this finds most people's
    schedule in 0.1-0.9 s, where the two-worker portfolio takes 0.2-5 s.  Its time
    to a schedule is heavy-tailed (one person of Instance22: 0.35 s with one seed,
    over 5 s with another), so it is cut short and restarted with a new seed and
    twice the time (``FIRST_TRIES``).  The model's objective is put back after.
    """
    m.model.clear_objective()
    started = time.monotonic()
    found = None
    for attempt, limit in enumerate(FIRST_TRIES):
        left = seconds - (time.monotonic() - started)
        if left <= 0:
            break
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = 1
        solver.parameters.random_seed = options.seed + attempt
        solver.parameters.search_branching = cp_model.PORTFOLIO_WITH_QUICK_RESTART_SEARCH
        solver.parameters.linearization_level = 0
        solver.parameters.max_time_in_seconds = min(left, limit)
        solver.parameters.stop_after_first_solution = True
        status = solver.solve(m.model)
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            found = solver
            break
        if status == cp_model.INFEASIBLE:
            break
    m.objective()
    return found


def hint_solution(m: RotaModel, values: cp_model.CpSolver) -> None:
    """Hint every variable of the model from a solution of it (penalties are exact, so it holds)."""
    m.model.clear_hints()
    for index in range(len(m.model.proto.variables)):
        var = m.model.get_int_var_from_proto_index(index)
        m.model.add_hint(var, values.value(var))


def _search(
    m: RotaModel, options: SolveOptions, seconds: float
) -> tuple[cp_model.CpSolver, object]:
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = min(options.workers, PERSON_WORKERS)
    solver.parameters.random_seed = options.seed
    if options.workers == 1:  # one worker: deterministic, and the full relaxation finds runs
        solver.parameters.linearization_level = 2
    solver.parameters.max_time_in_seconds = seconds
    return solver, solver.solve(m.model)


def construct(
    horizon: Horizon,
    options: SolveOptions,
    seconds: float,
    stop: threading.Event | None = None,
    *,
    give_up: float | None = None,
) -> Roster | None:
    """A valid rota built one person at a time in ``seconds``; None when some person fails.

    People are planned in the bundle's order, each given an even share of the time
    left; a first schedule is searched for up to ``MIN_FIRST_SECONDS`` past that share
    (a rota a little late is better than none), but never past ``give_up`` seconds
    from the start, when the construction ends without a rota.  A person whose
    search finds nothing ends it too.
    """
    started = time.monotonic()
    give_up = seconds if give_up is None else give_up
    roster = Roster(horizon)
    people = list(horizon.staff)
    for i, person in enumerate(people):
        spent = time.monotonic() - started
        if (stop is not None and stop.is_set()) or spent >= give_up:
            return None  # far behind: the rest of the search gets the time
        share = (seconds - spent) / (len(people) - i)
        at_least = min(MIN_FIRST_SECONDS, give_up - spent)
        schedule = plan_person(horizon, person, roster, options, share, at_least=at_least)
        if schedule is None:
            return None
        roster.schedules[person.staff_id] = schedule
    return roster


def improve(
    roster: Roster,
    options: SolveOptions,
    seconds: float,
    stop: threading.Event | None = None,
) -> Roster:
    """Re-plan one person at a time, everyone else fixed, in rounds while time remains.

    Each re-plan starts from the person's schedule, so the rota never gets worse;
    the rounds end early once a whole round changes nobody.
    """
    started = time.monotonic()
    people = list(roster.horizon.staff)
    overhead = 0.0  # the longest a re-plan took beyond its search time (building its model)
    while True:
        changed = False
        for person in people:
            left = seconds - (time.monotonic() - started)
            if left < MIN_PERSON_SECONDS + overhead or (stop is not None and stop.is_set()):
                return roster
            share = max(MIN_PERSON_SECONDS, (left - overhead) / len(people))
            began = time.monotonic()
            schedule = plan_person(roster.horizon, person, roster, options, share)
            overhead = max(overhead, time.monotonic() - began - share)
            if schedule is not None and schedule != roster.schedules[person.staff_id]:
                roster.schedules[person.staff_id] = schedule
                changed = True
        if not changed:
            return roster


def plan_by_person(
    horizon: Horizon,
    options: SolveOptions,
    seconds: float,
    stop: threading.Event | None = None,
) -> list[Key] | None:
    """A rota built person by person, then improved a person at a time, in ``seconds``."""
    started = time.monotonic()
    roster = construct(horizon, options, seconds * CONSTRUCT_SHARE, stop, give_up=seconds)
    if roster is None:
        return None
    left = seconds - (time.monotonic() - started)
    return sorted(improve(roster, options, left, stop).keys())
