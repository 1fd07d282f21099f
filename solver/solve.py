"""Run CP-SAT on a horizon and hand back a ``SolveResult``."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from ortools.sat.python import cp_model

from scheduler.domain import Assignment
from scheduler.horizon import Horizon
from solver.budget import MIN_SEARCH, polish_seconds, search_seconds
from solver.conflicts import explain_infeasibility, unreachable_pins
from solver.construct import plan_by_person
from solver.decompose import plan_by_clusters
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
from solver.rules import SOFT_RULES, build
from solver.score import score_rota
from solver.stopping import stoppable

STOPPED = "the search was stopped on request; no rota is kept"
FIRST_GOAL_SHARE = 1 / 2  # of the time left, at most, to prove the fewest people short
FIRST_GOAL_CAP = 1 / 3  # of the whole limit, at most, for that proof (20 s of a minute)
CLUSTER_SHARE = 1 / 2  # of the search time, spent planning each cluster of sites alone
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
# On two cores the default portfolio lacks the subsolvers that prove bounds for
# this model.  The full linear relaxation proves the bound; the default search
# with the usual relaxation finds rotas (and feeds the neighbourhood searches
# CP-SAT interleaves).  Measured in BENCHMARKS.md against max_lp + core, which
# proves the sample networks as fast but finds worse rotas on long horizons.
TWO_WORKER_SUBSOLVERS = ("max_lp", "default_lp")
BOUND_TOLERANCE = 1e-9  # relative: a bound this close to the objective meets it (float sums)


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
    watcher = _Watcher(started, progress, stop, terms=m.penalties, first_only=True)
    seeded, lp_bound = _seed_first(m, options, (started, search), stop, watcher)
    # Of the time left: a failed construction has spent its share (Instance21 ran 14 s over).
    anyrota = search_seconds(options.time_limit, _since(started)) * ANY_ROTA_SHARE
    if not seeded and _seed_with_any_rota(m, options, anyrota, watcher) is False:
        return conflict_result(horizon, options, started)
    _seed_with_clusters(m, options, search_seconds(options.time_limit, _since(started)), stop)
    left = search_seconds(options.time_limit, _since(started))
    watcher = _Watcher(started, progress, stop, terms=m.penalties, **watcher.so_far)
    proof = min(left * FIRST_GOAL_SHARE, options.time_limit * FIRST_GOAL_CAP)
    floor = _settle_first_goal(m, options, proof, watcher)
    proven_at = _since(started) if floor.proven else None
    watcher = _Watcher(started, progress, stop, **watcher.so_far)
    solver = make_solver(options, search_seconds(options.time_limit, _since(started)))
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


def _seed_first(
    m: RotaModel,
    options: SolveOptions,
    timing: tuple[float, float],
    stop: threading.Event | None,
    watcher: _Watcher,
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
            _hint_everything(m, guidance.rota)
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
    m: RotaModel, options: SolveOptions, left: float, stop: threading.Event | None
) -> bool:
    """Seed the search with each cluster's own plan when the network splits into clusters,
    in ``CLUSTER_SHARE`` of the ``left`` seconds.

    Capping the step at 15% of the limit brought the proof of the fewest people short
    (which starts from this rota) under 20 s on 3 of the 5 unseen federations, but
    left gaps and target cover worse (BENCHMARKS.md, "Networks not seen before"):
    the clusters' rota is worth its time.
    """
    if not options.decompose:
        return False
    seconds = left * CLUSTER_SHARE
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


@dataclass(frozen=True)
class Floor:
    """What the first goal's own search proved: no rota leaves fewer than ``people`` short of
    a minimum; ``proven`` when a rota leaving exactly that many was found, and no rota with
    more is then returned (the first goal comes first, lexicographically)."""

    people: int = 0
    proven: bool = False
    points: float = 0.0  # a lower bound on the full objective it implies


def _first_goal_terms(m: RotaModel) -> list[PenaltyTerm]:
    """The terms of the heaviest goal present (people short of a minimum)."""
    order = {rule.rule_id: i for i, rule in enumerate(SOFT_RULES)}
    first = min((order[t.rule_id] for t in m.penalties), default=None)
    return [t for t in m.penalties if order[t.rule_id] == first]


def _settle_first_goal(
    m: RotaModel, options: SolveOptions, seconds: float, watcher: _Watcher
) -> Floor:
    """Find the fewest people short of a minimum, before any softer goal is weighed.

    The count is searched alone, starting from the hinted rota, which stays
    the hint when it already has the fewest (it was found for every goal).
    When the optimum is proven, no rota returned has more people short (see
    ``solve``); otherwise the proven lower bound is reported.  Nothing is
    fixed: the hint is only a starting point.
    """
    terms = _first_goal_terms(m)
    if not terms or len(terms) == len(m.penalties):
        return Floor()
    people = cp_model.LinearExpr.sum([t.var for t in terms])
    hinted = _hinted_count(m, terms)
    hint = m.model.proto.solution_hint
    kept = (list(hint.vars), list(hint.values))  # a rota found for every goal: worth keeping
    m.model.minimize(people)
    solver = make_solver(options, seconds)
    with stoppable(solver, watcher.stop):
        status = solver.solve(m.model, watcher)
    m.objective()  # back to every goal
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return Floor()
    found = round(solver.objective_value)
    if hinted is None or found < hinted:
        _hint_everything(m, solver)  # fewer people short than the rota the search started from
    else:
        m.model.clear_hints()
        for index, value in zip(*kept, strict=True):
            m.model.add_hint(m.model.get_int_var_from_proto_index(index), value)
    lightest = min(t.points for t in terms) / SCALE
    if status == cp_model.OPTIMAL:
        return Floor(found, True, found * lightest)
    floor = math.ceil(solver.best_objective_bound - 1e-6)
    return Floor(floor, False, floor * lightest)


def _hinted_count(m: RotaModel, terms: list[PenaltyTerm]) -> int | None:
    """People short of a minimum in the hinted rota, or None when nothing is hinted."""
    hint = m.model.proto.solution_hint
    if not hint.vars:
        return None
    values = dict(zip(hint.vars, hint.values, strict=True))
    return sum(values.get(t.var.index, 0) for t in terms)


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
    solver = make_solver(options, polish_seconds(options.time_limit))
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
