"""Run CP-SAT on a horizon and hand back a ``SolveResult``."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import time
from collections import Counter, defaultdict
from typing import Any

from ortools.sat.python import cp_model

from scheduler.domain import Assignment
from scheduler.horizon import Horizon
from solver.budget import MIN_SEARCH, polish_seconds, search_seconds
from solver.conflicts import explain_infeasibility, unreachable_pins
from solver.construct import plan_by_person
from solver.decompose import Solve, joined, plan_by_clusters
from solver.guided import guide, worth_guiding
from solver.model import SCALE, PenaltyTerm, RotaModel, gc_paused
from solver.result import (
    NeedCover,
    PenaltyValue,
    Progress,
    ProgressCallback,
    SolveOptions,
    SolveResult,
    SolveStatus,
)
from solver.rules import build
from solver.score import score_rota
from solver.steps import (
    Floor,
    Watcher,
    first_goal_terms,
    hint_everything,
    make_solver,
    polish_rota,
    presolve_lightly,
    seed_with_any_rota,
    settle_first_goal,
)
from solver.stopping import stoppable

STOPPED = "the search was stopped on request; no rota is kept"
FIRST_GOAL_SHARE = 1 / 2  # of the time left, at most, to prove the fewest people short
FIRST_GOAL_CAP = 1 / 3  # of the whole limit, at most, for that proof (20 s of a minute)
FIRST_CLUSTERS_SHARE = 1 / 5  # of the search time, at most, for each cluster's fewest short
CLUSTER_SHARE = 2 / 3  # of the search time left after the proof, planning each cluster alone
ANY_ROTA_SHARE = 3 / 4  # of the search time, at most, to find a first rota ignoring goals
BY_PERSON_SHARE = 1 / 2  # of the search time, to build and improve a rota person by person
# Horizons of at least four weeks are built person by person first (construct.py), when the
# time allows for everyone: over weeks and months each person's own rules (runs, weekends,
# total minutes) are the hard part.  A person's first schedule takes CP-SAT 0.2-0.4 s.
BY_PERSON_DAYS = 28
BY_PERSON_SECONDS = 0.25  # a person's expected share, to judge whether everyone fits
# When the full model would take more than this share of the limit to build (a year of
# 150 people: a million options, half a minute), the rota is built, improved and scored
# person by person alone (score.py), and the full model is never built.
BUILD_SHARE = 1 / 4
BUILD_SECONDS_PER_OPTION = 30e-6  # measured: 25-30 s for Instance24's 1.04 million options
# Scoring a rota planned person by person (score.py) took 2.9-3.9 s for Instance24's
# 1.15 million options (counted, not built): kept back before the search.
SCORE_SECONDS_PER_OPTION = 4e-6
BOUND_TOLERANCE = 1e-9  # relative: a bound this close to the objective meets it (float sums)


def solve(
    horizon: Horizon,
    options: SolveOptions | None = None,
    progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
) -> SolveResult:
    """Plan the horizon: a valid rota with its figures, or the rows that conflict."""
    options = options or SolveOptions()
    started = time.monotonic()
    if _person_by_person_only(horizon, options):
        return _solve_by_person(horizon, options, progress, stop, started)
    with gc_paused():
        m = build(RotaModel(horizon))
    built = time.monotonic() - started
    pins = unreachable_pins(horizon, set(m.x))
    if pins:
        return SolveResult(
            SolveStatus.CONFLICT, conflicts=tuple(pins), seconds=time.monotonic() - started
        )
    # The time limit is the user's whole wait, so building the model spends part of it.
    search = search_seconds(options.time_limit, built)
    watcher = Watcher(started, progress, stop, terms=m.penalties, first_only=True)
    seeded, lp_bound = _seed_first(m, options, (started, search), stop, watcher)
    # Of the time left: a failed construction has spent its share (Instance21 ran 14 s over).
    anyrota = search_seconds(options.time_limit, _since(started)) * ANY_ROTA_SHARE
    if not seeded and seed_with_any_rota(m, options, anyrota, watcher) is False:
        return conflict_result(horizon, options, started)
    watcher = Watcher(started, progress, stop, terms=m.penalties, **watcher.so_far)
    floor, proven_at, split = _first_goal_then_clusters(m, options, started, watcher)
    watcher = Watcher(started, progress, stop, **watcher.so_far)
    last = search_seconds(options.time_limit, _since(started))
    solver = make_solver(options, last)
    if split:
        presolve_lightly(solver, floor.presolve, last)
    with stoppable(solver, stop):
        status = solver.solve(m.model, watcher)
    if stop is not None and stop.is_set():  # nobody wants the rota: skip the polish
        return SolveResult(
            SolveStatus.NO_SOLUTION, seconds=_since(started), message=STOPPED, build_seconds=built
        )
    result = _outcome(m, solver, status, options, (started, built, floor.points))
    if floor.proven and result.status.has_rota and result.shortfall > floor.people:
        # The last step traded a person short for softer goals: the rota it started from
        # (with the proven fewest short) is returned instead.  Holding the search to the
        # count with a constraint would do the same, but measurably slows it down.
        kept = _seed_result(m, options, started, floor.points)
        if kept is not None and kept.shortfall <= floor.people:
            result = dataclasses.replace(kept, build_seconds=built)
    return dataclasses.replace(
        _with_bound(result, lp_bound),
        shortfall_floor=floor.people,
        shortfall_proven=floor.proven,
        shortfall_proven_at=proven_at,
    )


def _first_goal_then_clusters(
    m: RotaModel, options: SolveOptions, started: float, watcher: Watcher
) -> tuple[Floor, float | None, bool]:
    """Prove the fewest people short of a minimum, then seed the last search with each
    cluster's whole plan; the floor, when it was proven (None: it was not), and whether
    the clusters' plans were made.

    Each cluster's fewest people short come first (fast), so the network's proof starts
    from a rota that has them.
    """
    left = search_seconds(options.time_limit, _since(started))
    how = (_first_goal_part, watcher)
    first = _seed_with_clusters(m, options, left * FIRST_CLUSTERS_SHARE, how)
    left = search_seconds(options.time_limit, _since(started))
    proof = min(left * FIRST_GOAL_SHARE, options.time_limit * FIRST_GOAL_CAP)
    floor = settle_first_goal(m, options, proof, watcher)
    proven_at = _since(started) if floor.proven else None
    left = search_seconds(options.time_limit, _since(started))
    most = floor.people if floor.proven else None
    how = (_solve_part, watcher)
    plans = _seed_with_clusters(
        m, options, left * CLUSTER_SHARE, how, most_short=most, fallback=first
    )
    return floor, proven_at, plans is not None


def _seed_first(
    m: RotaModel,
    options: SolveOptions,
    timing: tuple[float, float],
    stop: threading.Event | None,
    watcher: Watcher,
) -> tuple[bool, float | None]:
    """Seed the search from the LP over personal schedules where it suits the horizon
    (guided.py), else person by person on long horizons where everyone fits in their
    share; whether a rota was hinted, and the LP's bound (None without one)."""
    started, search = timing
    lp_bound = None
    if worth_guiding(m.horizon, search):
        guidance = guide(m, options, search, stop)
        lp_bound = guidance.bound
        if guidance.rota is not None:
            hint_everything(m, guidance.rota)
            watcher.found(guidance.rota.objective_value / SCALE, lp_bound or 0.0)
            return True, lp_bound
    share = search_seconds(options.time_limit, _since(started)) * BY_PERSON_SHARE
    person_by_person = len(m.horizon.dates) >= BY_PERSON_DAYS and (
        len(m.horizon.staff) * BY_PERSON_SECONDS <= share
    )
    return person_by_person and _seed_by_person(m, options, share, stop), lp_bound


def _with_bound(result: SolveResult, lp_bound: float | None) -> SolveResult:
    """The result with the LP's bound when it proves more than CP-SAT's (never above the
    objective: both are lower bounds of the optimum, which the rota cannot beat); a rota
    whose objective the bound meets is proven optimal."""
    if lp_bound is None or result.objective is None:
        return result
    bound = max(result.bound or 0.0, min(lp_bound, result.objective))
    met = bound >= result.objective - BOUND_TOLERANCE * max(1.0, abs(result.objective))
    status = SolveStatus.OPTIMAL if met and result.status.has_rota else result.status
    return dataclasses.replace(result, bound=bound, status=status)


def _person_by_person_only(horizon: Horizon, options: SolveOptions) -> bool:
    """Whether the full model costs too much to build and the horizon suits persons alone."""
    if len(horizon.dates) < BY_PERSON_DAYS:
        return False
    build = option_count(horizon) * BUILD_SECONDS_PER_OPTION
    return build > options.time_limit * BUILD_SHARE


def option_count(horizon: Horizon) -> int:
    """How many options the full model would have, leave aside: counted, not created.

    Slots (date, session, site) are grouped by their site and the (role, skill) of
    their rows, so each person is checked against a few groups, not every slot.
    """
    rows_of: dict[tuple[dt.date, str, str], set[tuple[str | None, str | None]]] = defaultdict(set)
    for need in horizon.needs:
        rows_of[(need.date, need.session_id, need.site_id)].add(
            (need.demand.role, need.demand.skill)
        )
    groups: Counter[tuple[str, frozenset[tuple[str | None, str | None]]]] = Counter(
        (slot[2], frozenset(rows)) for slot, rows in rows_of.items()
    )
    total = 0
    for person in horizon.staff:
        for (site, rows), slots in groups.items():
            if person.may_work_at(site) and any(
                (role is None or role == person.role) and (skill is None or skill in person.skills)
                for role, skill in rows
            ):
                total += slots
    return total


def _solve_by_person(
    horizon: Horizon,
    options: SolveOptions,
    progress: ProgressCallback | None,
    stop: threading.Event | None,
    started: float,
) -> SolveResult:
    """Plan a horizon too large for the full model: built, improved and scored person by person.

    The construction and its improvement share the search time; the time scoring the
    rota with a model of its own sessions takes (score.py; at least the polish's share)
    is kept back from it.  No lower
    bound is proven this way (the bound reported is 0).
    """
    polish = polish_seconds(options.time_limit)
    # Scoring builds a model of the rota's sessions, which passes every option by once.
    scoring = max(polish, option_count(horizon) * SCORE_SECONDS_PER_OPTION)
    search = max(MIN_SEARCH, options.time_limit - scoring - _since(started))
    rota = plan_by_person(horizon, options, search, stop)
    if stop is not None and stop.is_set():
        return SolveResult(SolveStatus.NO_SOLUTION, seconds=_since(started), message=STOPPED)
    scored = None if rota is None else score_rota(horizon, rota, options, polish)
    if scored is None:
        return SolveResult(
            SolveStatus.NO_SOLUTION,
            seconds=_since(started),
            message="no valid rota found within the time limit; allow more time",
        )
    m, values = scored
    result = result_of(m, values, False, options, started, polish=False)
    if progress is not None and result.objective is not None:
        progress(Progress(result.objective, 0.0, result.seconds, 1))
    return dataclasses.replace(result, bound=0.0)


def _outcome(
    m: RotaModel,
    solver: cp_model.CpSolver,
    status: Any,  # a CpSolverStatus
    options: SolveOptions,
    timing: tuple[float, float, float],
) -> SolveResult:
    """The result of the final search: its rota, a conflict, or the earlier steps' rota."""
    started, built, first_bound = timing
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        result = result_of(m, solver, status == cp_model.OPTIMAL, options, started)
        bound = max(result.bound or 0.0, min(first_bound, result.objective or 0.0))
        return dataclasses.replace(result, build_seconds=built, bound=bound)
    if status == cp_model.INFEASIBLE:
        return conflict_result(m.horizon, options, started)
    if status == cp_model.MODEL_INVALID:
        raise RuntimeError(f"internal model error: {m.model.validate()}")
    kept = _seed_result(m, options, started, first_bound)
    if kept is not None:  # the last search found nothing: the earlier steps' rota stands
        return dataclasses.replace(kept, build_seconds=built)
    return SolveResult(
        SolveStatus.NO_SOLUTION,
        seconds=time.monotonic() - started,
        message="no valid rota found within the time limit; allow more time",
        build_seconds=built,
    )


def _seed_result(
    m: RotaModel, options: SolveOptions, started: float, bound: float
) -> SolveResult | None:
    """The rota an earlier step found and hinted, as a result; None when there is none.

    A final search can end without a rota of its own when CP-SAT drops the hint
    (it must complete it quickly) and time runs out: the rota the seeding steps
    found is valid and is never thrown away.
    """
    if m.hinted is None:
        return None
    values = polish_rota(m, m.hinted, options)
    if values is None:
        return None
    result = result_of(m, values, False, options, started, polish=False)
    return dataclasses.replace(result, bound=min(bound, result.objective or 0.0))


def _since(started: float) -> float:
    return time.monotonic() - started


def _seed_with_clusters(
    m: RotaModel,
    options: SolveOptions,
    seconds: float,
    how: tuple[Solve, Watcher],
    *,
    most_short: int | None = None,
    fallback: list[SolveResult] | None = None,
) -> list[SolveResult] | None:
    """Seed the search with each cluster's own plan, when the network splits into clusters;
    the plans (None: the network does not split, or a cluster found no rota).

    ``how`` is how each cluster is planned (its fewest people short alone, or its whole
    plan) in its share of ``seconds``, and who hears of the rota.  A rota with more than
    ``most_short`` people short of a minimum (the proven fewest) is not hinted: the
    first goal comes first.  ``fallback`` is an earlier plan of the clusters, kept for a
    cluster whose new plan has more people short (``decompose.plan_by_clusters``).
    """
    part, watcher = how
    if not options.decompose:
        return None
    plans = plan_by_clusters(m.horizon, options, seconds, part, watcher.stop, fallback=fallback)
    if plans is None:
        return None
    chosen = {(a.staff_id, a.date, a.session_id, a.site_id) for a in joined(plans)}
    values = polish_rota(m, {key: key in chosen for key in m.x}, options)
    if values is None:
        return plans
    short = sum(values.value(t.var) for t in first_goal_terms(m))
    if most_short is not None and short > most_short:
        return plans
    hint_everything(m, values)
    watcher.found(sum(t.points * values.value(t.var) for t in m.penalties) / SCALE, 0.0)
    return plans


def _seed_by_person(
    m: RotaModel, options: SolveOptions, seconds: float, stop: threading.Event | None
) -> bool:
    """Seed the search with a rota built and improved one person at a time (construct.py)."""
    rota = plan_by_person(m.horizon, options, seconds, stop)
    if rota is None:
        return False
    chosen = set(rota)
    values = polish_rota(m, {key: key in chosen for key in m.x}, options)
    if values is None:
        return False
    hint_everything(m, values)
    return True


def _solve_part(
    horizon: Horizon, options: SolveOptions, stop: threading.Event | None
) -> SolveResult:
    return solve(horizon, options, None, stop)


def _first_goal_part(
    horizon: Horizon, options: SolveOptions, stop: threading.Event | None
) -> SolveResult:
    """A rota of a part of the network with its fewest people short of a minimum, softer
    goals ignored (found, not always proven, within the limit); no rota when none is found."""
    started = time.monotonic()
    with gc_paused():
        m = build(RotaModel(horizon))
    search = search_seconds(options.time_limit, _since(started))
    watcher = Watcher(started, None, stop, first_only=True)
    if seed_with_any_rota(m, options, search * ANY_ROTA_SHARE, watcher) is not True:
        return SolveResult(SolveStatus.NO_SOLUTION, seconds=_since(started))
    left = search_seconds(options.time_limit, _since(started))
    floor = settle_first_goal(m, options, left, Watcher(started, None, stop))
    kept = _seed_result(m, options, started, floor.points)
    return kept or SolveResult(SolveStatus.NO_SOLUTION, seconds=_since(started))


def conflict_result(horizon: Horizon, options: SolveOptions, started: float) -> SolveResult:
    conflicts = explain_infeasibility(horizon, options.seed)
    if conflicts is None:  # the single-threaded check did not confirm the verdict
        return SolveResult(
            SolveStatus.NO_SOLUTION,
            seconds=time.monotonic() - started,
            message="the solver could not confirm a conflict; allow more time",
        )
    return SolveResult(
        SolveStatus.CONFLICT, conflicts=tuple(conflicts), seconds=time.monotonic() - started
    )


def result_of(
    m: RotaModel,
    solver: cp_model.CpSolver,
    optimal: bool,
    options: SolveOptions,
    started: float,
    *,
    polish: bool = True,
) -> SolveResult:
    """The result of a solve; ``polish`` settles a non-optimal rota's demand rows (<= 5 s)."""
    x_values = {key: bool(solver.value(x)) for key, x in m.x.items()}
    values = solver
    if polish and not optimal and _has_choices_left(m):
        values = polish_rota(m, x_values, options) or solver
    amounts = _amounts(m, values)
    objective = sum(amount for _, amount in amounts)
    return SolveResult(
        status=SolveStatus.OPTIMAL if optimal else SolveStatus.FEASIBLE,
        objective=objective,
        bound=min(solver.best_objective_bound / SCALE, objective),
        seconds=time.monotonic() - started,
        assignments=tuple(
            sorted(Assignment(k[1], k[2], k[3], k[0]) for k, on in x_values.items() if on)
        ),
        cover=_cover(m, values),
        penalties=_breakdown(amounts),
        terms=tuple(
            PenaltyValue(t.rule_id, t.label, t.subject, amount) for t, amount in amounts if amount
        ),
    )


def _has_choices_left(m: RotaModel) -> bool:
    """Whether fixing who works where still leaves which demand row each fills to decide."""
    return bool(m.fill_of)


def _cover(m: RotaModel, values: cp_model.CpSolver) -> tuple[NeedCover, ...]:
    out = []
    for need in m.horizon.needs:
        assigned = sum(values.value(y) for y in m.fills.get(need.index, []))
        out.append(NeedCover(need.index, assigned, max(0, need.demand.min - assigned)))
    return tuple(out)


def _amounts(m: RotaModel, values: cp_model.CpSolver) -> list[tuple[PenaltyTerm, float]]:
    """What each penalty term costs in the returned rota, in objective points."""
    return [(t, t.points * values.value(t.var) / SCALE) for t in m.penalties]


def _breakdown(amounts: list[tuple[PenaltyTerm, float]]) -> dict[str, float]:
    totals: dict[str, float] = {}
    for term, amount in amounts:
        totals[term.rule_id] = totals.get(term.rule_id, 0.0) + amount
    return totals
