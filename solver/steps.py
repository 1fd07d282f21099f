"""The search steps a solve is made of, each one CP-SAT search on the whole model.

``solver.solve`` chains them: a first valid rota with every goal ignored
(``seed_with_any_rota``), the fewest people short of a minimum proven before
any softer goal is weighed (``settle_first_goal``), and, once who works where
is settled, the exact filling of demand rows (``polish_rota``).  Each step
hands its rota to the next as a complete hint (``hint_everything``), and a
``Watcher`` reports every improving rota and stops a search on request.
"""

from __future__ import annotations

import math
import re
import threading
import time
from dataclasses import dataclass
from typing import Any

from ortools.sat.python import cp_model

from solver.budget import polish_seconds
from solver.model import SCALE, PenaltyTerm, RotaModel
from solver.result import Progress, ProgressCallback, SolveOptions
from solver.rules import SOFT_RULES
from solver.stopping import stoppable

# On two cores the default portfolio lacks the subsolvers that prove bounds for
# this model.  The full linear relaxation proves the bound; the default search
# with the usual relaxation finds rotas (and feeds the neighbourhood searches
# CP-SAT interleaves).  Measured in BENCHMARKS.md against max_lp + core, which
# proves the sample networks as fast but finds worse rotas on long horizons.
TWO_WORKER_SUBSOLVERS = ("max_lp", "default_lp")


class Watcher(cp_model.CpSolverSolutionCallback):
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

    def found(self, score: float, bound: float) -> None:
        """A rota found by a step outside CP-SAT's search, reported like the search's own."""
        self.solutions += 1
        if self._progress is not None and score < self.best:
            self._progress(Progress(score, bound, time.monotonic() - self._started, self.solutions))
        self.best = min(self.best, score)

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


SEARCH_STARTS = re.compile(r"Starting search at ([0-9.]+)s")


class PresolveClock:
    """Reads, from CP-SAT's log of one search, how long its presolve took (None: not seen).

    The log is captured, not printed (unless the options ask for it): only the line
    that opens the search after presolve is kept.
    """

    def __init__(self, solver: cp_model.CpSolver, options: SolveOptions) -> None:
        self.seconds: float | None = None
        solver.parameters.log_search_progress = True
        solver.parameters.log_to_stdout = options.log
        solver.log_callback = self._line

    def _line(self, line: str) -> None:
        found = SEARCH_STARTS.match(line)
        if found:
            self.seconds = float(found.group(1))


# When the full presolve of the whole model would take more than this share of the last
# search, that search presolves lightly (``presolve_lightly``).
LIGHT_PRESOLVE_SHARE = 1 / 4
# The full objective's presolve against the proof's (one sum): 4.2 s against 2.4 s on a
# 60-practice federation.
FULL_OBJECTIVE_PRESOLVE = 2.0


def presolve_lightly(solver: cp_model.CpSolver, presolve: float | None, seconds: float) -> None:
    """One presolve pass without probing, when the full presolve would take more than
    ``LIGHT_PRESOLVE_SHARE`` of the search's ``seconds``; ``presolve`` is how long the
    proof of the fewest people short took to presolve the same model (None: unknown).

    Used for the last search of a network planned by clusters: its rota is already near
    its best (the clusters' plans), and its main work is the bound, the relaxation of the
    whole network with its cuts, which CP-SAT starts only once presolve ends.  On an
    80-practice federation the full presolve took 6.3-6.6 s of a 12 s search, which
    ended with the bound still rising; one pass without probing takes 3.5 s.  Where
    presolve is a small share (40 practices: 1.6 s from scratch), the full one proves more
    (BENCHMARKS.md).
    """
    if presolve is not None and presolve * FULL_OBJECTIVE_PRESOLVE > LIGHT_PRESOLVE_SHARE * seconds:
        solver.parameters.max_presolve_iterations = 1
        solver.parameters.cp_model_probing_level = 0


def hint_everything(m: RotaModel, values: cp_model.CpSolver) -> None:
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


def seed_with_any_rota(
    m: RotaModel, options: SolveOptions, seconds: float, watcher: Watcher
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
    hint_everything(m, solver)
    return True


@dataclass(frozen=True)
class Floor:
    """What the first goal's own search proved: no rota leaves fewer than ``people`` short of
    a minimum; ``proven`` when a rota leaving exactly that many was found, and no rota with
    more is then returned (the first goal comes first, lexicographically)."""

    people: int = 0
    proven: bool = False
    points: float = 0.0  # a lower bound on the full objective it implies
    presolve: float | None = None  # seconds CP-SAT's full presolve of the model took


def first_goal_terms(m: RotaModel) -> list[PenaltyTerm]:
    """The terms of the heaviest goal present (people short of a minimum)."""
    order = {rule.rule_id: i for i, rule in enumerate(SOFT_RULES)}
    first = min((order[t.rule_id] for t in m.penalties), default=None)
    return [t for t in m.penalties if order[t.rule_id] == first]


def settle_first_goal(
    m: RotaModel, options: SolveOptions, seconds: float, watcher: Watcher
) -> Floor:
    """Find the fewest people short of a minimum, before any softer goal is weighed.

    The count is searched alone, starting from the hinted rota, which stays
    the hint when it already has the fewest (it was found for every goal).
    When the optimum is proven, no rota returned has more people short (see
    ``solve``); otherwise the proven lower bound is reported.  Nothing is
    fixed: the hint is only a starting point.
    """
    terms = first_goal_terms(m)
    if not terms or len(terms) == len(m.penalties):
        return Floor()
    people = cp_model.LinearExpr.sum([t.var for t in terms])
    hinted = _hinted_count(m, terms)
    hint = m.model.proto.solution_hint
    kept = (list(hint.vars), list(hint.values))  # a rota found for every goal: worth keeping
    m.model.minimize(people)
    solver = make_solver(options, seconds)
    clock = PresolveClock(solver, options)
    with stoppable(solver, watcher.stop):
        status = solver.solve(m.model, watcher)
    m.objective()  # back to every goal
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return Floor(presolve=clock.seconds)
    found = round(solver.objective_value)
    if hinted is None or found < hinted:
        hint_everything(m, solver)  # fewer people short than the rota the search started from
    else:
        m.model.clear_hints()
        for index, value in zip(*kept, strict=True):
            m.model.add_hint(m.model.get_int_var_from_proto_index(index), value)
    lightest = min(t.points for t in terms) / SCALE
    if status == cp_model.OPTIMAL:
        return Floor(found, True, found * lightest, clock.seconds)
    floor = math.ceil(solver.best_objective_bound - 1e-6)
    return Floor(floor, False, floor * lightest, clock.seconds)


def _hinted_count(m: RotaModel, terms: list[PenaltyTerm]) -> int | None:
    """People short of a minimum in the hinted rota, or None when nothing is hinted."""
    hint = m.model.proto.solution_hint
    if not hint.vars:
        return None
    values = dict(zip(hint.vars, hint.values, strict=True))
    return sum(values.get(t.var.index, 0) for t in terms)


def polish_rota(m: RotaModel, x_values: dict, options: SolveOptions) -> cp_model.CpSolver | None:
    """With who-works-where fixed, find the best filling of demand rows (fast and exact)."""
    polished = m.model.clone()
    for key, on in x_values.items():
        polished.add(polished.get_bool_var_from_proto_index(m.x[key].Index()) == int(on))
    solver = make_solver(options, polish_seconds(options.time_limit))
    if solver.solve(polished) in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return solver
    return None
