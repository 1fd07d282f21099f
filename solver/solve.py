"""Run CP-SAT on a horizon and hand back a ``SolveResult``."""

from __future__ import annotations

import threading
import time

from ortools.sat.python import cp_model

from scheduler.domain import Assignment
from scheduler.horizon import Horizon
from solver.conflicts import explain_infeasibility, unreachable_pins
from solver.model import SCALE, PenaltyTerm, RotaModel
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

POLISH_SECONDS = 5.0
# On two cores the default portfolio lacks the subsolvers that prove bounds for
# this model; full linear relaxation plus core-based search closes the sample
# networks' gaps in seconds (measured in BENCHMARKS.md).
TWO_WORKER_SUBSOLVERS = ("max_lp", "core")


class _Watcher(cp_model.CpSolverSolutionCallback):
    """Reports each improving rota and stops the search when asked to."""

    def __init__(
        self, started: float, progress: ProgressCallback | None, stop: threading.Event | None
    ) -> None:
        super().__init__()
        self._started = started
        self._progress = progress
        self._stop = stop
        self.solutions = 0

    def on_solution_callback(self) -> None:
        self.solutions += 1
        if self._progress is not None:
            self._progress(
                Progress(
                    self.objective_value / SCALE,
                    self.best_objective_bound / SCALE,
                    time.monotonic() - self._started,
                    self.solutions,
                )
            )
        if self._stop is not None and self._stop.is_set():
            self.stop_search()


def _solver(options: SolveOptions, time_limit: float | None = None) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = options.workers
    solver.parameters.random_seed = options.seed
    solver.parameters.max_time_in_seconds = time_limit or options.time_limit
    solver.parameters.log_search_progress = options.log
    if options.workers == 2:
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
    m = build(RotaModel(horizon))
    pins = unreachable_pins(horizon, set(m.x))
    if pins:
        return SolveResult(
            SolveStatus.CONFLICT, conflicts=tuple(pins), seconds=time.monotonic() - started
        )
    solver = _solver(options)
    watcher = _Watcher(started, progress, stop)
    status = solver.solve(m.model, watcher)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return _result(m, solver, status == cp_model.OPTIMAL, options, started)
    if status == cp_model.INFEASIBLE:
        return _conflict(horizon, options, started)
    if status == cp_model.MODEL_INVALID:
        raise RuntimeError(f"internal model error: {m.model.validate()}")
    return SolveResult(
        SolveStatus.NO_SOLUTION,
        seconds=time.monotonic() - started,
        message="no valid rota found within the time limit; allow more time",
    )


def _conflict(horizon: Horizon, options: SolveOptions, started: float) -> SolveResult:
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


def _result(
    m: RotaModel, solver: cp_model.CpSolver, optimal: bool, options: SolveOptions, started: float
) -> SolveResult:
    x_values = {key: bool(solver.value(x)) for key, x in m.x.items()}
    values = solver
    if not optimal:
        values = _polish(m, x_values, options) or solver
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


def _polish(m: RotaModel, x_values: dict, options: SolveOptions) -> cp_model.CpSolver | None:
    """With who-works-where fixed, find the best filling of demand rows (fast and exact)."""
    polished = m.model.clone()
    for key, on in x_values.items():
        polished.add(polished.get_bool_var_from_proto_index(m.x[key].Index()) == int(on))
    solver = _solver(options, POLISH_SECONDS)
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
    return [(t, round(t.coefficient * SCALE) * values.value(t.var) / SCALE) for t in m.penalties]


def _breakdown(amounts: list[tuple[PenaltyTerm, float]]) -> dict[str, float]:
    totals: dict[str, float] = {}
    for term, amount in amounts:
        totals[term.rule_id] = totals.get(term.rule_id, 0.0) + amount
    return totals
