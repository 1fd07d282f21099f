"""Run CP-SAT on a horizon and hand back a ``SolveResult``."""

from __future__ import annotations

import dataclasses
import math
import threading
import time
from typing import Any

from ortools.sat.python import cp_model

from scheduler.domain import Assignment
from scheduler.horizon import Horizon
from solver.conflicts import explain_infeasibility, unreachable_pins
from solver.construct import plan_by_person
from solver.decompose import plan_by_clusters
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
from solver.rules import SOFT_RULES, build
from solver.stopping import stoppable

POLISH_SECONDS = 5.0
STOPPED = "the search was stopped on request; no rota is kept"
FIRST_GOAL_SHARE = 1 / 2  # of the search time, spent on the heaviest goal alone
CLUSTER_SHARE = 1 / 2  # of the search time, spent planning each cluster of sites alone
ANY_ROTA_SHARE = 3 / 4  # of the search time, at most, to find a first rota ignoring goals
MIN_SEARCH_SECONDS = 1.0
BY_PERSON_SHARE = 1 / 2  # of the search time, to build and improve a rota person by person
# On two cores the default portfolio lacks the subsolvers that prove bounds for
# this model.  The full linear relaxation proves the bound; the default search
# with the usual relaxation finds rotas (and feeds the neighbourhood searches
# CP-SAT interleaves).  Measured in BENCHMARKS.md against max_lp + core, which
# proves the sample networks as fast but finds worse rotas on long horizons.
TWO_WORKER_SUBSOLVERS = ("max_lp", "default_lp")


class _Watcher(cp_model.CpSolverSolutionCallback):
    """Reports each improving rota and stops the search when asked to."""

    def __init__(
        self,
        started: float,
        progress: ProgressCallback | None,
        stop: threading.Event | None,
        *,
        terms: list[PenaltyTerm] | None = None,
        first_only: bool = False,
        best: float = math.inf,
        solutions: int = 0,
    ) -> None:
        super().__init__()
        self._started = started
        self._progress = progress
        self.stop = stop
        self._terms = terms  # score rotas by these when searching another objective
        self._first_only = first_only  # stop at the first rota found
        self.solutions = solutions  # counted on from earlier steps
        self.best = best  # reported only when better than this

    @property
    def so_far(self) -> dict[str, Any]:
        """What a watcher of the next step carries on from: best score and rotas counted."""
        return {"best": self.best, "solutions": self.solutions}

    def on_solution_callback(self) -> None:
        self.solutions += 1
        if self._progress is None:
            score = math.inf  # nobody is watching: do not score
        elif self._terms is None:
            score = self.objective_value / SCALE
        else:
            score = sum(t.points * self.value(t.var) for t in self._terms) / SCALE
        if self._progress is not None and score < self.best:
            self._progress(
                Progress(
                    score,
                    self.best_objective_bound / SCALE,
                    time.monotonic() - self._started,
                    self.solutions,
                )
            )
        self.best = min(self.best, score)
        if self._first_only or (self.stop is not None and self.stop.is_set()):
            self.stop_search()


def make_solver(
    options: SolveOptions, time_limit: float | None = None, optimising: bool = True
) -> cp_model.CpSolver:
    """A CP-SAT solver; ``optimising=False`` keeps the default portfolio, faster to any rota."""
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = options.workers
    solver.parameters.random_seed = options.seed
    solver.parameters.max_time_in_seconds = time_limit or options.time_limit
    solver.parameters.log_search_progress = options.log
    if options.workers == 2 and optimising:
        solver.parameters.subsolvers.extend(TWO_WORKER_SUBSOLVERS)
    elif options.workers == 1:
        solver.parameters.linearization_level = 2
    return solver


def solve(
    horizon: Horizon,
    options: SolveOptions | None = None,
    progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
) -> SolveResult:
    """Plan the horizon: a valid rota with its figures, or the rows that conflict."""
    options = options or SolveOptions()
    started = time.monotonic()
    with gc_paused():
        m = build(RotaModel(horizon))
    built = time.monotonic() - started
    pins = unreachable_pins(horizon, set(m.x))
    if pins:
        return SolveResult(
            SolveStatus.CONFLICT, conflicts=tuple(pins), seconds=time.monotonic() - started
        )
    # The time limit is the user's whole wait, so building the model spends part of it.
    search = max(MIN_SEARCH_SECONDS, options.time_limit - built)
    first_bound = 0.0
    watcher = _Watcher(started, progress, stop, terms=m.penalties, first_only=True)
    by_person = _seed_by_person(m, options, search * BY_PERSON_SHARE, stop)
    if not by_person and _seed_with_any_rota(m, options, search * ANY_ROTA_SHARE, watcher) is False:
        return conflict_result(horizon, options, started)
    left = max(MIN_SEARCH_SECONDS, options.time_limit - _since(started))
    if not _seed_with_clusters(m, options, left * CLUSTER_SHARE, stop):
        watcher = _Watcher(started, progress, stop, terms=m.penalties, **watcher.so_far)
        first_bound = _seed_with_first_goal(m, options, left * FIRST_GOAL_SHARE, watcher)
    watcher = _Watcher(started, progress, stop, **watcher.so_far)
    solver = make_solver(options, max(MIN_SEARCH_SECONDS, options.time_limit - _since(started)))
    with stoppable(solver, stop):
        status = solver.solve(m.model, watcher)
    if stop is not None and stop.is_set():  # nobody wants the rota: skip the polish
        return SolveResult(
            SolveStatus.NO_SOLUTION, seconds=_since(started), message=STOPPED, build_seconds=built
        )
    return _outcome(m, solver, status, options, (started, built, first_bound))


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
    m: RotaModel, options: SolveOptions, seconds: float, stop: threading.Event | None
) -> bool:
    """Seed the search with each cluster's own plan when the network splits into clusters."""
    if not options.decompose:
        return False
    rota = plan_by_clusters(m.horizon, options, seconds, _solve_part, stop)
    if rota is None:
        return False
    chosen = {(a.staff_id, a.date, a.session_id, a.site_id) for a in rota}
    values = polish_rota(m, {key: key in chosen for key in m.x}, options)
    if values is None:
        return False
    _hint_everything(m, values)
    return True


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
    _hint_everything(m, values)
    return True


def _hint_everything(m: RotaModel, values: cp_model.CpSolver) -> None:
    """Hint every variable from a solution of this model.

    CP-SAT starts from a hint only when it can complete it quickly; a hint
    of the assignments alone leaves every penalty variable to be found and
    is often dropped, so the whole solution is given.
    """
    m.model.clear_hints()
    for index in range(len(m.model.proto.variables)):
        var = m.model.get_int_var_from_proto_index(index)
        m.model.add_hint(var, values.value(var))
    m.hinted = {key: bool(values.value(x)) for key, x in m.x.items()}


def _solve_part(
    horizon: Horizon, options: SolveOptions, stop: threading.Event | None
) -> SolveResult:
    return solve(horizon, options, None, stop)


def _seed_with_any_rota(
    m: RotaModel, options: SolveOptions, seconds: float, watcher: _Watcher
) -> bool | None:
    """Find any valid rota, every goal ignored, and hint it: the first rota comes fast.

    On long horizons the hard rules alone (runs of days, weekends, hours over
    the horizon) are a much easier search than any objective: a half-year
    ward is planned validly in seconds this way and not at all in a minute
    with the goals switched on.  False when the hard rules cannot all hold;
    None when no rota was found in the time (the searches that follow go on
    trying).
    """
    m.model.clear_objective()
    solver = make_solver(options, seconds, optimising=False)
    solver.parameters.stop_after_first_solution = True
    with stoppable(solver, watcher.stop):
        status = solver.solve(m.model, watcher)
    m.objective()
    if status == cp_model.INFEASIBLE:
        return False
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    _hint_everything(m, solver)
    return True


def _seed_with_first_goal(
    m: RotaModel, options: SolveOptions, seconds: float, watcher: _Watcher
) -> float:
    """Search the heaviest goal alone for a while; its rota seeds the full search as a hint.

    The goals are weighted so that the first (people short of a minimum)
    dominates, while the full objective spreads the search over every goal
    at once; searching the first goal on its own aims at better cover sooner,
    and the full search then starts from that rota.  (BENCHMARKS.md: in
    single runs on two Curtois-Qu instances this was not shown to beat one
    plain search; it is to be re-measured.)  Nothing is fixed:
    the hint is only a starting point, so the full optimum stays reachable.
    Every rota found is reported through ``watcher`` scored by every goal;
    the search starts from whatever rota is hinted already.
    Returns a lower bound on the full objective (the other goals cost >= 0).
    """
    order = {rule.rule_id: i for i, rule in enumerate(SOFT_RULES)}
    first = min((order[t.rule_id] for t in m.penalties), default=None)
    terms = [t for t in m.penalties if order[t.rule_id] == first]
    if not terms or len(terms) == len(m.penalties):
        return 0.0
    m.objective(terms)
    solver = make_solver(options, seconds)
    with stoppable(solver, watcher.stop):
        status = solver.solve(m.model, watcher)
    m.objective()  # back to every goal
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return 0.0
    _hint_everything(m, solver)
    return solver.best_objective_bound / SCALE


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


def polish_rota(m: RotaModel, x_values: dict, options: SolveOptions) -> cp_model.CpSolver | None:
    """With who-works-where fixed, find the best filling of demand rows (fast and exact)."""
    polished = m.model.clone()
    for key, on in x_values.items():
        polished.add(polished.get_bool_var_from_proto_index(m.x[key].Index()) == int(on))
    solver = make_solver(options, POLISH_SECONDS)
    if solver.solve(polished) in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return solver
    return None


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
