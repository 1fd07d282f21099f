"""Repair a published rota with the fewest changes that matter.

Someone is sick, a clinic is cancelled, a site needs one more GP: the
published rota no longer fits the network.  A repair re-plans only the
*window* of affected dates and keeps every session outside it exactly as
published.  Inside the window the goals are lexicographic:

1. the fewest people short of a ``min``;
2. then the cheapest changes to the published rota, each change weighted by
   how soon it happens (``URGENCY``: a change tomorrow costs far more than
   one next week) and by whether it sends someone to another site
   (``SITE_FACTOR``);
3. then the usual soft goals of a plan.

The first two are searched as one objective scaled to keep their order,
starting from the standing rota (the published one less what now breaks a
rule); the third is searched next, keeping the score of the first two, in
whatever the time limit leaves.  When the first search ends optimal, the
repair is *proven*: no rota that changes only the window has fewer people
short (weighted as a plan weighs them), and none with as few short has
cheaper changes.

The model holds only what can change: every option of the window, and
outside it the published sessions as constants (every other option there is
fixed to nothing, so it is left out).  Each person's weekly rules still see
their whole week; the optimum is the whole week's.  The soft rules other
than the shortfall join the model only for the last step.

Dates before ``today`` are history: only their sessions that now break a
rule may be taken away (an absence recorded afterwards); nothing is added.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from ortools.sat.python import cp_model
from ortools.util.python import sorted_interval_list

from scheduler.domain import Assignment
from scheduler.horizon import Horizon
from solver.model import Key, RotaModel, gc_paused
from solver.result import SolveOptions, SolveResult
from solver.rules import SOFT_RULES, build
from solver.solve import conflict_result, result_of
from solver.steps import make_solver
from solver.stopping import stoppable

# Weight of one change by days ahead of today: today, tomorrow, the day after, ...;
# every later day weighs 1.  A change the next day costs 8 of those a week ahead.
URGENCY: tuple[int, ...] = (16, 8, 4, 2)
SITE_FACTOR = 2  # a change that puts someone at another site counts twice
MIN_STEP_SECONDS = 0.5  # the first step's search, however little of the limit is left
MIN_SOFT_SECONDS = 0.3  # less time than this left: the soft goals are settled, not searched
WORKED = sorted_interval_list.Domain(1, 1)  # an option kept as published
# The soft rules of the first step: the shortfall it minimises.  The others wait for the
# last step, so the first step's model stays small and its optimum is proven fast.
FIRST_RULES = frozenset({"min_cover"})


def urgency(day: dt.date, today: dt.date) -> int:
    """The weight of a change on ``day`` seen from ``today`` (past dates weigh 1)."""
    ahead = (day - today).days
    return URGENCY[ahead] if 0 <= ahead < len(URGENCY) else 1


@dataclass(frozen=True)
class RepairScope:
    """What a repair may change, and the rota it starts from."""

    published: frozenset[Assignment]
    window: frozenset[dt.date]  # dates whose sessions may change
    today: dt.date
    # The published rota less the sessions that now break a hard rule (someone absent):
    # a valid rota, so the search starts from it; its sessions before ``today`` stay.
    standing: frozenset[Assignment] = frozenset()
    # Sessions of today that have already begun: history, like the days before today.
    begun: frozenset[tuple[dt.date, str]] = frozenset()


@dataclass(frozen=True)
class RepairResult:
    """The solve of the repaired week, with the weighted change cost it reached."""

    result: SolveResult
    change_cost: int | None  # the weighted changes to the published rota; None without a rota
    window: frozenset[dt.date]  # as used: widened when a kept session had no option left
    # Whether the search proved that no rota changing only the window has fewer people
    # short (weighted as the plan weighs them), nor, with as few short, cheaper changes.
    proven: bool = False


def _key(a: Assignment) -> Key:
    return (a.staff_id, a.date, a.session_id, a.site_id)


def _change_cost(
    m: RotaModel, scope: RepairScope, window: frozenset[dt.date]
) -> tuple[cp_model.LinearExpr, int]:
    """The weighted changes to the published rota inside the window, and the most they can be.

    Per person, date and session: taking away a published session costs its
    urgency; putting the person at another site instead costs ``SITE_FACTOR``
    times it; adding a session costs its urgency, times ``SITE_FACTOR`` away
    from their home site.
    """
    published = {(a.staff_id, a.date, a.session_id): a.site_id for a in scope.published}
    by_slot: dict[tuple[str, dt.date, str], list[Key]] = defaultdict(list)
    for key in m.x:
        if key[1] in window:
            by_slot[(key[0], key[1], key[2])].append(key)
    for slot in published:
        if slot[1] in window:
            by_slot.setdefault(slot, [])
    variables: list[cp_model.IntVar] = []
    weights: list[int] = []
    constant = 0
    for slot, keys in by_slot.items():
        weight = urgency(slot[1], scope.today)
        was = published.get(slot)
        if was is None:
            home = m.bundle.person(slot[0]).home_site
            for key in keys:
                variables.append(m.x[key])
                weights.append(weight * (1 if key[3] == home else SITE_FACTOR))
            continue
        kept = (slot[0], slot[1], slot[2], was)
        constant += weight  # 1 - x[kept]: taken away unless kept
        if kept in m.x:
            variables.append(m.x[kept])
            weights.append(-weight)
        for key in keys:
            if key != kept:  # moved: counted on top of taking the published one away
                variables.append(m.x[key])
                weights.append(weight * (SITE_FACTOR - 1))
    most = constant + sum(w for w in weights if w > 0)
    return cp_model.LinearExpr.weighted_sum(variables, weights) + constant, most


def _shortfall_then_changes(
    m: RotaModel, changes: cp_model.LinearExpr, most: int
) -> cp_model.LinearExpr:
    """People short of a ``min``, then changes, as one objective that keeps that order.

    One person short costs at least the lightest ``min_cover`` term; the
    shortfall is scaled so that it outweighs the most the changes can cost.
    Searching both goals at once from the standing rota keeps every rota
    found close to the published one (a search of the shortfall alone
    wanders off into hundreds of needless changes).
    """
    terms = [t for t in m.penalties if t.rule_id == "min_cover"]
    if not terms:
        return changes
    lightest = min(t.points for t in terms)
    factor = most // lightest + 1
    short = cp_model.LinearExpr.weighted_sum([t.var for t in terms], [t.points for t in terms])
    return short * factor + changes


def _offered(scope: RepairScope, window: frozenset[dt.date]) -> Callable[[Key], bool]:
    """Which options the repair's model holds: what may change, and what must stay.

    Outside the window only the published sessions (kept as they are); on a
    window date before ``today`` (or in a session of today that has begun)
    only the published ones (some may have to go); the rest of the window in
    full.  An option left out is one no repaired rota can work, so the model
    is the whole week's with every option outside the window fixed, less the
    options fixed to nothing: the same rotas, the same optimum.
    """
    published = {_key(a) for a in scope.published}

    def offered(key: Key) -> bool:
        day = key[1]
        if day not in window or day < scope.today or (day, key[2]) in scope.begun:
            return key in published
        return True

    return offered


def _must_join(m: RotaModel, scope: RepairScope, window: frozenset[dt.date]) -> set[dt.date]:
    """Dates outside the window whose published rota cannot be kept as it is.

    A published session with no option left (its need was removed, its
    person barred), or a pinned session that is not published: its date must
    be re-planned too.
    """
    published = {_key(a) for a in scope.published}
    pinned = {(f.staff_id, f.date, f.session_id, f.site_id) for f in m.bundle.fixed}
    dates = set(m.horizon.dates)
    lost = {key[1] for key in published if key not in m.x}
    unpublished_pins = {key[1] for key in pinned - published if key[1] in dates}
    return (lost | unpublished_pins) - window


def _fix_kept(m: RotaModel, scope: RepairScope, window: frozenset[dt.date]) -> None:
    """Fix every option that must stay: outside the window, and the past that still stands.

    The past happened: nobody is added to it (those options were never
    offered), and only a session that now breaks a rule may be taken away (a
    worked session never goes to free someone's hours).
    """
    standing = {_key(a) for a in scope.standing}
    for key, var in m.x.items():
        day = key[1]
        past = day < scope.today or (day, key[2]) in scope.begun
        if day not in window or (past and key in standing):
            var.with_domain(WORKED)


def _repair_model(horizon: Horizon, scope: RepairScope) -> tuple[RotaModel, frozenset[dt.date]]:
    """The model of what the repair may change, and the window as it must be.

    Built once; a second time only when a kept session had no option left
    (rare: a demand row or a person removed since publication).
    """
    window = scope.window
    with gc_paused():
        m = RotaModel(horizon, offered=_offered(scope, window))
        joining = _must_join(m, scope, window)
        if joining:
            window = window | joining
            m = RotaModel(horizon, offered=_offered(scope, window))
        _fix_kept(m, scope, window)
        build(m, soft=False)
        for rule in SOFT_RULES:
            if rule.rule_id in FIRST_RULES:
                rule.apply(m)
    return m, window


def _add_soft_goals(m: RotaModel) -> None:
    """The soft goals of a plan the first step left out, and the objective weighing them all."""
    with gc_paused():
        for rule in SOFT_RULES:
            if rule.rule_id not in FIRST_RULES:
                rule.apply(m)
    m.objective()


def _hint_standing(m: RotaModel, scope: RepairScope) -> None:
    """Start the first step from the standing rota (CP-SAT completes the rest of the hint).

    Written straight into the model's hint (one call, not one per variable): a
    model of a federation's week has tens of thousands of variables.
    """
    standing = {_key(a) for a in scope.standing}
    m.model.clear_hints()
    hint = m.model.proto.solution_hint
    hint.vars.extend(var.index for var in m.x.values())
    hint.values.extend(int(key in standing) for key in m.x)


def _hint(m: RotaModel, values: cp_model.CpSolver) -> None:
    """Start from a solution found for this model: every variable's value."""
    m.model.clear_hints()
    solution = list(values.response_proto.solution)
    hint = m.model.proto.solution_hint
    hint.vars.extend(range(len(solution)))
    hint.values.extend(solution)


def _solver(options: SolveOptions, seconds: float) -> cp_model.CpSolver:
    """A solver for a repair's model: a light presolve, since most of the model is fixed.

    Every option outside the window is a constant; one presolve pass removes
    them, and the further passes cost more time than they save (on the
    federation's week they took twice as long as the search itself).
    """
    solver = make_solver(options, seconds)
    solver.parameters.max_presolve_iterations = 0
    return solver


@dataclass(frozen=True)
class Step:
    """One search of the repair: the solver holding its rota, and whether it is proven best."""

    solver: cp_model.CpSolver
    proven: bool


def _step(
    m: RotaModel,
    objective: cp_model.LinearExprT,
    seconds: float,
    options: SolveOptions,
    stop: threading.Event | None,
) -> Step | None:
    """Minimise one objective, then keep its best value as a bound for the next steps."""
    m.model.minimize(objective)
    solver = _solver(options, max(MIN_STEP_SECONDS, seconds))
    if stop is not None and stop.is_set():
        solver.parameters.max_time_in_seconds = MIN_STEP_SECONDS
    with stoppable(solver, stop):
        status = solver.solve(m.model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    m.model.add(objective <= round(solver.objective_value))  # later steps keep this score
    return Step(solver, status == cp_model.OPTIMAL)


def repair(
    horizon: Horizon,
    scope: RepairScope,
    options: SolveOptions | None = None,
    stop: threading.Event | None = None,
) -> RepairResult:
    """The repaired rota of the horizon (one week), or the rows that conflict.

    The first step (fewest people short, then fewest weighted changes) may
    use the whole time limit; the soft goals are searched in what it leaves.
    When the first step is proven optimal, both of its goals are proven
    (``RepairResult.proven``).  Past the limit come only settling the soft
    goals of the rota found and reading the result (a fraction of a second).
    """
    options = options or SolveOptions()
    started = time.monotonic()
    deadline = started + options.time_limit
    m, window = _repair_model(horizon, scope)
    changes, most = _change_cost(m, scope, window)
    _hint_standing(m, scope)
    first_goals = _shortfall_then_changes(m, changes, most)
    first = _step(m, first_goals, deadline - time.monotonic(), options, stop)
    if first is None:
        return RepairResult(conflict_result(horizon, options, started), None, window)
    _add_soft_goals(m)
    final = _soft_step(m, first.solver, deadline, options, stop)
    return RepairResult(
        dataclasses.replace(final, seconds=time.monotonic() - started),
        round(first.solver.value(changes)),
        window,
        first.proven,
    )


def _settle(m: RotaModel, rota: cp_model.CpSolver, options: SolveOptions) -> cp_model.CpSolver:
    """Every variable's value for the first step's rota: its soft goals, its demand rows.

    Who works where is fixed in a copy of the model, so the search only
    settles the rest (fast and exact).
    """
    settled = m.model.clone()
    variables = settled.proto.variables
    for var in m.x.values():
        worked = rota.value(var)
        domain = variables[var.index].domain
        domain[0], domain[1] = worked, worked
    solver = _solver(options, max(MIN_STEP_SECONDS, options.time_limit))
    if solver.solve(settled) not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        raise RuntimeError("internal error: the first step's rota could not be completed")
    return solver


def _soft_step(
    m: RotaModel,
    first: cp_model.CpSolver,
    deadline: float,
    options: SolveOptions,
    stop: threading.Event | None,
) -> SolveResult:
    """The soft goals within what is left of the time, keeping the first step's score.

    The search starts from the first step's rota, settled; with too little
    time left for a search (``MIN_SOFT_SECONDS``), or none finding better,
    that rota is the answer (its soft goals searched no further: no bound).
    """
    settled = _settle(m, first, options)
    fallback = dataclasses.replace(
        result_of(m, settled, False, options, time.monotonic(), polish=False), bound=None
    )
    left = deadline - time.monotonic()
    if left < MIN_SOFT_SECONDS or (stop is not None and stop.is_set()):
        return fallback
    _hint(m, settled)
    solver = _solver(options, left)
    with stoppable(solver, stop):
        status = solver.solve(m.model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return fallback
    return result_of(m, solver, status == cp_model.OPTIMAL, options, time.monotonic(), polish=False)
