"""Say which bundle rows make a week impossible, instead of returning a broken rota.

Two steps: a direct check of pinned rows that no variable can honour at all,
then, when CP-SAT proves the model infeasible, a single-threaded re-solve with
one assumption literal per hard-rule row and a shrink of the core it returns.
"""

from __future__ import annotations

import time
from collections.abc import Collection

from ortools.sat.python import cp_model

from scheduler.domain import FIXED, Bundle, Fixed
from scheduler.horizon import Horizon
from solver.model import Guard, Key, RotaModel
from solver.result import Conflict
from solver.rules import build

SHRINK_BUDGET_SECONDS = 10.0
SHRINK_MAX_CORE = 24


def unreachable_pins(horizon: Horizon, x_keys: Collection[Key]) -> list[Conflict]:
    """Pinned rows inside the horizon that no assignment variable can represent."""
    dates = set(horizon.dates)
    out = []
    for fixed in horizon.bundle.fixed:
        key = (fixed.staff_id, fixed.date, fixed.session_id, fixed.site_id)
        if fixed.date in dates and key not in x_keys:
            out.append(_pin_conflict(horizon, fixed))
    return out


def _pin_conflict(horizon: Horizon, fixed: Fixed) -> Conflict:
    bundle: Bundle = horizon.bundle
    person = bundle.person(fixed.staff_id)
    where = f"{fixed.site_id} {fixed.session_id} on {fixed.date:%a %Y-%m-%d}"
    if (fixed.date, fixed.session_id) not in horizon.shifts:
        why = f"{fixed.session_id} does not run on {fixed.date:%a %Y-%m-%d}"
    elif not person.may_work_at(fixed.site_id):
        why = (
            f"{person.staff_id} may not work at {fixed.site_id} (staff.csv row {person.row}, sites)"
        )
    else:
        why = f"no demand row at {where} takes a {person.role} with {person.staff_id}'s skills"
    return Conflict(
        bundle.label(FIXED),
        fixed.row,
        "site_id",
        f"{person.staff_id} is pinned to {where} but {why}; fix or remove the pinned row",
    )


def explain_infeasibility(horizon: Horizon, seed: int = 0) -> list[Conflict] | None:
    """Rows of a small conflicting set; None if single-threaded CP-SAT finds no conflict."""
    m = build(RotaModel(horizon, explain=True), soft=False)
    by_index = {lit.Index(): guard for lit, guard in m.guards}
    core = _core(m, [lit for lit, _ in m.guards], seed)
    if core is None:
        return None
    core = _shrink(m, core, seed)
    guards = [by_index[lit.Index()] for lit in core]
    return [_as_conflict(g) for g in sorted(guards, key=lambda g: (g.file, g.row, g.column))]


def _core(m: RotaModel, assumptions: list, seed: int) -> list | None:
    """Solve under the given assumptions; return a sufficient subset if infeasible."""
    m.model.clear_assumptions()
    m.model.add_assumptions(assumptions)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1  # cores are only reliable single-threaded
    solver.parameters.random_seed = seed
    solver.parameters.max_time_in_seconds = 60.0
    if solver.solve(m.model) != cp_model.INFEASIBLE:
        return None
    wanted = set(solver.sufficient_assumptions_for_infeasibility())
    return [lit for lit in assumptions if lit.Index() in wanted]


def _shrink(m: RotaModel, core: list, seed: int) -> list:
    """Drop rows one by one while the rest still conflict (bounded in time and size)."""
    if len(core) > SHRINK_MAX_CORE:
        return core
    deadline = time.monotonic() + SHRINK_BUDGET_SECONDS
    kept = list(core)
    for literal in list(core):
        if time.monotonic() > deadline:
            break
        trial = [lit for lit in kept if lit is not literal]
        smaller = _core(m, trial, seed) if trial else None
        if smaller is not None:
            kept = smaller
    return kept


def _as_conflict(guard: Guard) -> Conflict:
    return Conflict(guard.file, guard.row, guard.column, guard.message)
