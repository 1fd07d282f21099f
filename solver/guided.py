"""A first rota guided by the linear programme over personal schedules, and its bound.

Over weeks, each person's own rules (runs of days on and off, weekends,
total minutes) are where a rota is hard, and the relaxation CP-SAT proves
bounds with (over single assignments) is weak there.  The LP over whole
personal schedules (``solver.colgen``) is far tighter, and its solution is
mostly whole: most options are worked by every schedule the LP weighs, or by
none.  So the full model is searched with those options fixed and only the
fractional ones free (the neighbourhood of the LP's solution), which CP-SAT
settles in seconds, and the rota found seeds the search of the whole model.
The LP's Lagrangian bound is a proven lower bound of the objective.

It is tried on horizons of at least ``MIN_DAYS`` where someone's rules tie
days together (``ties_days``), whose size (people times days) the LP can be
expected to handle in its share of the time
(``PERSON_DAYS_PER_SECOND``, measured on the Curtois-Qu instances: the LP of
40 people over 28 days converged in 14-19 s, of 60 people in 35-49 s); a
week of a federation is left to the other steps (there the LP of 400 people
had not converged after 60 s, and CP-SAT's own bound is within a few percent).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from ortools.sat.python import cp_model

from scheduler.domain import Staff
from scheduler.horizon import Horizon
from solver.colgen import NoScheduleError, colgen_bound
from solver.model import Key, RotaModel
from solver.result import SolveOptions
from solver.stopping import stoppable

MIN_DAYS = 14  # horizons of two weeks or more: personal rules over weeks
LP_SHARE = 1 / 2  # of the search time, at most, for the LP
FIX_SHARE = 1 / 4  # of the search time, at most, for the search around the LP's solution
PERSON_DAYS_PER_SECOND = 60  # people x days the LP is expected to handle per second it gets
SETTLED = 0.01  # an option the LP works this little is fixed off, this close to 1 fixed on


@dataclass(frozen=True)
class Guidance:
    """What the LP gave: a rota in the neighbourhood of its solution, and its bound."""

    rota: cp_model.CpSolver | None  # a solution of the full model, fixed options and all
    bound: float | None  # the Lagrangian bound, in objective units


def worth_guiding(horizon: Horizon, search: float) -> bool:
    """Whether the horizon is long enough, someone's rules tie its days together, and the
    LP fits ``search`` seconds."""
    if len(horizon.dates) < MIN_DAYS or not any(ties_days(p) for p in horizon.staff):
        return False
    size = len(horizon.staff) * len(horizon.dates)
    return size <= PERSON_DAYS_PER_SECOND * search * LP_SHARE


def ties_days(person: Staff) -> bool:
    """Whether a rule of the person's ties days together as a relaxation of single
    assignments cannot: runs of a least length, on or off, or least hours over the horizon.

    Without them (weekly limits only), CP-SAT's own relaxation is tight: a two-week plan
    of the sample network is proven optimal in 6 s, and the LP's time is better left to it.
    """
    runs = (person.min_consecutive_days or 0) > 1 or (person.min_days_off_in_row or 0) > 1
    return runs or bool(person.min_horizon_hours)


def guide(
    m: RotaModel, options: SolveOptions, search: float, stop: threading.Event | None = None
) -> Guidance:
    """The LP over schedules in ``LP_SHARE`` of ``search``, then the full model searched with
    what the LP settles fixed, in ``FIX_SHARE`` of it (or until proven best there)."""
    try:
        lp = colgen_bound(m.horizon, options, search * LP_SHARE, stop)
    except (NoScheduleError, ValueError):  # no rota at all, or no bound: the other steps say
        return Guidance(None, None)
    if not lp.worked or (stop is not None and stop.is_set()):
        return Guidance(None, lp.bound)
    rota = around(m, lp.worked, options, search * FIX_SHARE, stop)
    return Guidance(rota, lp.bound)


def around(
    m: RotaModel,
    worked: dict[Key, float],
    options: SolveOptions,
    seconds: float,
    stop: threading.Event | None = None,
) -> cp_model.CpSolver | None:
    """The best rota with every option the LP settles fixed as it is; None if none in time.

    Searched on a copy of the model, so the model itself keeps every option free.
    """
    near = m.model.clone()
    domains = near.proto.variables
    for key, var in m.x.items():
        share = worked.get(key, 0.0)
        if share <= SETTLED or share >= 1 - SETTLED:
            value = int(share >= 1 - SETTLED)
            domain = domains[var.index].domain
            domain[0], domain[1] = value, value
        near.add_hint(near.get_bool_var_from_proto_index(var.index), share >= 1 / 2)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = options.workers
    solver.parameters.random_seed = options.seed
    solver.parameters.max_time_in_seconds = seconds
    with stoppable(solver, stop):
        status = solver.solve(near)
    if stop is not None and stop.is_set():
        return None
    return solver if status in (cp_model.OPTIMAL, cp_model.FEASIBLE) else None
