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
rule); the third is searched next, keeping the score of the first two.

Dates before ``today`` are history: only their sessions that now break a
rule may be taken away (an absence recorded afterwards); nothing is added.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import time
from collections import defaultdict
from dataclasses import dataclass

from ortools.sat.python import cp_model

from scheduler.domain import Assignment
from scheduler.horizon import Horizon
from solver.model import Key, RotaModel, gc_paused
from solver.result import SolveOptions, SolveResult
from solver.rules import build
from solver.solve import conflict_result, make_solver, polish_rota, result_of
from solver.stopping import stoppable

# Weight of one change by days ahead of today: today, tomorrow, the day after, ...;
# every later day weighs 1.  A change the next day costs 8 of those a week ahead.
URGENCY: tuple[int, ...] = (16, 8, 4, 2)
SITE_FACTOR = 2  # a change that puts someone at another site counts twice
FIRST_SHARE = 0.75  # of the time left after building, for the first two goals together
MIN_STEP_SECONDS = 0.5


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


def _keep_outside(m: RotaModel, scope: RepairScope) -> frozenset[dt.date]:
    """Fix every option outside the window as published; the window as it must be.

    A published session outside the window with no option left (its need was
    removed, its person barred) cannot be kept: its date joins the window.
    """
    window = set(scope.window)
    window |= {a.date for a in scope.published if _key(a) not in m.x}
    published = {_key(a) for a in scope.published}
    standing = {_key(a) for a in scope.standing}
    for key, var in m.x.items():
        day = key[1]
        if day not in window:
            m.model.add(var == int(key in published))
        elif (day < scope.today or (day, key[2]) in scope.begun) and (
            key in standing or key not in published
        ):
            # The past happened: nobody is added to it, and only a session that now breaks
            # a rule is taken away (a worked session never goes to free someone's hours).
            m.model.add(var == int(key in standing))
    return frozenset(window)


def _start(m: RotaModel, scope: RepairScope, options: SolveOptions) -> cp_model.CpSolver | None:
    """Every variable's value in the standing rota, when it is valid (the first step's hint).

    CP-SAT keeps a hint only when it can complete it quickly; the assignments
    alone leave every penalty variable open and are often dropped, so the
    standing rota is completed first with the assignments fixed.
    """
    standing = {_key(a) for a in scope.standing}
    if not standing <= m.x.keys():
        return None
    return polish_rota(m, {key: key in standing for key in m.x}, options)


def _hint(m: RotaModel, values: cp_model.CpSolver | None, scope: RepairScope) -> None:
    """Start from a solution of the model, else from the published rota's assignments."""
    m.model.clear_hints()
    if values is None:
        published = {_key(a) for a in scope.published}
        for key, var in m.x.items():
            m.model.add_hint(var, int(key in published))
        return
    for index in range(len(m.model.proto.variables)):
        var = m.model.get_int_var_from_proto_index(index)
        m.model.add_hint(var, values.value(var))


def _step(
    m: RotaModel,
    objective: cp_model.LinearExprT,
    seconds: float,
    options: SolveOptions,
    stop: threading.Event | None,
) -> tuple[int, cp_model.CpSolver] | None:
    """Minimise one objective; its best value (then kept as a bound) and the solver."""
    m.model.minimize(objective)
    solver = make_solver(options, max(MIN_STEP_SECONDS, seconds))
    if stop is not None and stop.is_set():
        solver.parameters.max_time_in_seconds = MIN_STEP_SECONDS
    with stoppable(solver, stop):
        status = solver.solve(m.model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    value = round(solver.objective_value)
    m.model.add(objective <= value)  # later steps keep this score
    return value, solver


def repair(
    horizon: Horizon,
    scope: RepairScope,
    options: SolveOptions | None = None,
    stop: threading.Event | None = None,
) -> RepairResult:
    """The repaired rota of the horizon (one week), or the rows that conflict."""
    options = options or SolveOptions()
    started = time.monotonic()
    with gc_paused():
        m = build(RotaModel(horizon))
    window = _keep_outside(m, scope)
    changes, most = _change_cost(m, scope, window)
    first_goals = _shortfall_then_changes(m, changes, most)

    def left() -> float:
        return max(MIN_STEP_SECONDS, options.time_limit - (time.monotonic() - started))

    _hint(m, _start(m, scope, options), scope)
    first = _step(m, first_goals, left() * FIRST_SHARE, options, stop)
    if first is None:
        return RepairResult(conflict_result(horizon, options, started), None, window)
    _hint(m, first[1], scope)
    m.objective()
    solver = make_solver(options, left())
    with stoppable(solver, stop):
        status = solver.solve(m.model)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        result = result_of(m, solver, status == cp_model.OPTIMAL, options, started, polish=False)
    else:  # out of time: the previous step's rota, with no bound on the full objective
        solver = first[1]
        result = result_of(m, solver, False, options, started, polish=False)
        result = dataclasses.replace(result, bound=None)
    return RepairResult(
        dataclasses.replace(result, seconds=time.monotonic() - started),
        round(solver.value(changes)),
        window,
    )
