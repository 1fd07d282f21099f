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
import functools
import itertools
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor

from ortools.sat.python import cp_model, cp_model_helper

from scheduler.domain import Assignment, Bundle, Staff
from scheduler.horizon import Horizon, Need, Shift
from solver.model import Key, RotaModel, gc_paused
from solver.result import SolveOptions
from solver.rules import add_goals, build

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
    # Each person's share of the needs' counts, kept with the schedule it was counted from,
    # and their sum: counting everyone's sessions again for each person made a year's
    # construction quadratic.
    _counted: dict[str, tuple[list[Key], Counter[int]]] = dataclasses.field(
        default_factory=dict, repr=False
    )
    _total: Counter[int] = dataclasses.field(default_factory=Counter, repr=False)

    @functools.cached_property
    def _by_slot(self) -> Slots:
        return needs_by_slot(self.horizon)

    def keys(self, but: str | None = None) -> Iterable[Key]:
        for staff_id, keys in self.schedules.items():
            if staff_id != but:
                yield from keys

    def assignments(self) -> tuple[Assignment, ...]:
        return tuple(sorted(Assignment(k[1], k[2], k[3], k[0]) for k in self.keys()))

    def filled(self, but: str | None = None) -> Counter[int]:
        """How many people of the roster each need has (``filled_counts``), ``but`` left out."""
        for staff_id in set(self._counted) - set(self.schedules):
            self._total.subtract(self._counted.pop(staff_id)[1])
        for staff_id, keys in self.schedules.items():
            counted = self._counted.get(staff_id)
            if counted is None or counted[0] != keys:
                if counted is not None:
                    self._total.subtract(counted[1])
                counts = filled_counts(self.horizon, keys, self._by_slot)
                counted = (list(keys), Counter(counts))
                self._counted[staff_id] = counted
                self._total.update(counted[1])
        total = self._total.copy()
        if but in self._counted:
            total.subtract(self._counted[but][1])
        return +total  # the needs nobody fills are left out


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


Slots = dict[tuple[dt.date, str, str], list[Need]]


def needs_by_slot(horizon: Horizon) -> Slots:
    """The horizon's needs under their (date, session, site), in order."""
    by_slot: Slots = defaultdict(list)
    for need in horizon.needs:
        by_slot[(need.date, need.session_id, need.site_id)].append(need)
    return by_slot


def filled_counts(
    horizon: Horizon, keys: Iterable[Key], by_slot: Slots | None = None
) -> dict[int, int]:
    """How many of these options each need has (an option fills the first row that fits it)."""
    by_slot = needs_by_slot(horizon) if by_slot is None else by_slot
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
    model: RotaModel | None = None,
) -> list[Key] | None:
    """The best schedule for one person with everyone else in ``roster`` fixed; None if none.

    The person's present schedule, if any, is the hint, so a re-plan is never worse.
    A person without one on a horizon up to ``PRICE_FIRST_DAYS`` is priced from the
    start, any valid schedule (``first_schedule``) being the fallback; on a longer one
    any valid schedule comes first and is then priced with what is left of
    ``seconds``.  A first schedule is searched for up to ``at_least`` seconds.
    ``model`` is the person's ``hard_model`` when it was built beforehand.
    """
    started = time.monotonic()
    m = hard_model(horizon, person) if model is None else model
    keep_out_of_full_rooms(m, horizon, person, roster)
    current = set(roster.schedules.get(person.staff_id, ()))
    if current or len(horizon.dates) <= PRICE_FIRST_DAYS:
        add_person_goals(m, horizon, person, roster)
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
        hint_shortfalls(m, roster.filled(but=person.staff_id))
        first = first_schedule(m, options, max(at_least, seconds))
        if first is None:
            return None
        current = {key for key, var in m.x.items() if first.value(var)}
        if seconds - (time.monotonic() - started) < MIN_PRICE_SECONDS:
            return sorted(current)
        hint_solution(m, first)
        add_person_goals(m, horizon, person, roster)
        solver, status = _search(m, options, seconds - (time.monotonic() - started))
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return sorted(current) if current else None
    return sorted(key for key, var in m.x.items() if solver.value(var))


def person_model(horizon: Horizon, person: Staff, roster: Roster) -> RotaModel:
    """One person's model: their rules, the demand others left, and no room already full."""
    m = hard_model(horizon, person)
    keep_out_of_full_rooms(m, horizon, person, roster)
    add_person_goals(m, horizon, person, roster)
    return m


def hard_model(horizon: Horizon, person: Staff) -> RotaModel:
    """One person's model with their hard rules alone: the same whoever else is planned.

    It depends on no other person's schedule (rooms and goals are added later, by
    ``keep_out_of_full_rooms`` and ``add_person_goals``), so it can be built ahead,
    while someone else's schedule is searched.
    """
    needs = tuple(need for need in horizon.needs if need.admits(person))
    part = horizon.for_part(person_bundle(horizon.bundle, person), needs)
    with gc_paused():
        return build(RotaModel(part), soft=False)


def keep_out_of_full_rooms(m: RotaModel, horizon: Horizon, person: Staff, roster: Roster) -> None:
    """Leave out the options whose rooms the others (and every pin) already fill."""
    sid = person.staff_id
    pins = [(f.staff_id, f.date, f.session_id, f.site_id) for f in horizon.bundle.fixed]
    taken = itertools.chain(roster.keys(but=sid), (p for p in pins if p[0] != sid))
    full = full_rooms(horizon, taken)
    for key, var in m.x.items():
        if (key[1], key[2], key[3]) in full:
            m.model.add(var == 0)


def add_person_goals(m: RotaModel, horizon: Horizon, person: Staff, roster: Roster) -> None:
    """Add the person's goals, each demand row reduced by the others now in ``roster``.

    The hard rules read which rows a person fits, never their ``min`` or ``target``,
    so a model built earlier takes the rows as they are now before its goals are added.
    """
    m.horizon.needs = residual_needs(horizon.needs, roster.filled(but=person.staff_id), person)
    with gc_paused():
        add_goals(m)


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
        _light_presolve(solver.parameters)
        status = solver.solve(m.model)
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            found = solver
            break
        if status == cp_model.INFEASIBLE:
            break
    m.objective()
    return found


def hint_shortfalls(m: RotaModel, filled: Counter[int]) -> None:
    """Hint each date's session most short of people, so a first schedule fills gaps.

    A first schedule ignores the goals (building them costs as much as the hard
    rules), and one found blind leaves the demand to chance.  The hint costs a pass
    over the person's options: on each date, the option whose row is furthest below
    its ``min`` (then its ``target``), in people times the row's weight, is hinted
    on and the others off (hinting only the first made no difference); CP-SAT
    follows the hint as far as the hard rules allow.
    """
    gaps: dict[tuple[dt.date, str, str], tuple[float, float]] = {}
    for need in m.horizon.needs:
        slot = (need.date, need.session_id, need.site_id)
        if slot not in gaps:  # an option fills the first row that fits it (filled_counts)
            row, have = need.demand, filled.get(need.index, 0)
            short = (max(0, row.min - have), max(0, row.target - have))
            gaps[slot] = (short[0] * row.weight, short[1] * row.weight)
    best: dict[dt.date, tuple[tuple[float, float], Key]] = {}
    for key in m.x:
        gap = gaps.get((key[1], key[2], key[3]), (0.0, 0.0))
        if gap > (0.0, 0.0) and (key[1] not in best or gap > best[key[1]][0]):
            best[key[1]] = (gap, key)
    chosen = {key for _, key in best.values()}
    hint = m.model.proto.solution_hint  # in two calls, not one per option
    hint.vars.extend(var.index for var in m.x.values())
    hint.values.extend(int(key in chosen) for key in m.x)


def _light_presolve(parameters: cp_model_helper.SatParameters) -> None:
    """Presolve a person's model lightly: most of a first schedule's time was its presolve.

    Over a year (~7,000 options) CP-SAT spent ~0.55 s presolving (two rounds, probing,
    symmetries, the search for overlapping linear constraints) and ~0.07 s searching;
    with one round and none of those a first schedule takes 0.1-0.2 s.
    """
    parameters.max_presolve_iterations = 1
    parameters.cp_model_probing_level = 0
    parameters.symmetry_level = 0
    parameters.find_big_linear_overlap = False


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


def models_ahead(horizon: Horizon, people: list[Staff]) -> Iterator[RotaModel]:
    """Each person's ``hard_model`` in turn, the next built while this one is searched.

    Building a person's year is Python (~0.25 s) and searching it is CP-SAT, which
    lets go of the interpreter: on two cores the two overlap, and a person costs the
    longer of the two instead of their sum.  Nothing else is shared with the builder.
    """
    if not people:
        return
    with ThreadPoolExecutor(max_workers=1) as builder:
        pending = builder.submit(hard_model, horizon, people[0])
        try:
            for following in [*people[1:], None]:
                m = pending.result()
                if following is not None:
                    pending = builder.submit(hard_model, horizon, following)
                yield m
        finally:  # a caller that stops early does not wait for a build not yet begun
            pending.cancel()


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
    for i, (person, m) in enumerate(zip(people, models_ahead(horizon, people), strict=True)):
        spent = time.monotonic() - started
        if (stop is not None and stop.is_set()) or spent >= give_up:
            return None  # far behind: the rest of the search gets the time
        share = (seconds - spent) / (len(people) - i)
        at_least = min(MIN_FIRST_SECONDS, give_up - spent)
        schedule = plan_person(horizon, person, roster, options, share, at_least=at_least, model=m)
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
    overhead = 0.0  # the longest a re-plan took beyond its search time (adding its goals)
    while True:
        changed = False
        for person, m in zip(people, models_ahead(roster.horizon, people), strict=True):
            left = seconds - (time.monotonic() - started)
            if left < MIN_PERSON_SECONDS + overhead or (stop is not None and stop.is_set()):
                return roster
            share = max(MIN_PERSON_SECONDS, (left - overhead) / len(people))
            began = time.monotonic()
            schedule = plan_person(roster.horizon, person, roster, options, share, model=m)
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
