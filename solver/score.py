"""Score a rota found outside the full model, with a model of the chosen sessions alone.

A year-long horizon's full model has a million options and takes half a minute
to build (BENCHMARKS.md, "Model build time"); a rota built person by person
(``construct.py``) needs only its own few thousand sessions to be scored.  The
model here is a ``RotaModel`` whose options are the rota's sessions, every one
fixed on, with every registered rule: the hard rules hold (a check that the
rota is valid), and each soft rule prices the rota exactly as in the full
model, because every rule prices what is worked (an option that does not
exist is one not worked: a preferred session missing from the rota costs as
"impossible", the same points as "not worked").  Which demand row each
session fills is left to the search, as the full model's polish does.
"""

from __future__ import annotations

from collections.abc import Iterable

from ortools.sat.python import cp_model

from scheduler.horizon import Horizon
from solver.model import Key, RotaModel, gc_paused
from solver.result import SolveOptions
from solver.rules import build


def score_rota(
    horizon: Horizon, keys: Iterable[Key], options: SolveOptions, seconds: float
) -> tuple[RotaModel, cp_model.CpSolver] | None:
    """The scored model of this rota and its solution; None when the rota breaks a hard rule.

    None also when a session of the rota is no option of the horizon at all, or
    when the search runs out of ``seconds`` (it rarely needs a tenth of one).
    """
    chosen = set(keys)
    with gc_paused():  # an option for each chosen session only (RotaModel's ``offered``)
        m = build(RotaModel(horizon, offered=chosen.__contains__))
    if len(m.x) != len(chosen):
        return None
    for var in m.x.values():
        m.model.add(var == 1)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = options.workers
    solver.parameters.random_seed = options.seed
    solver.parameters.max_time_in_seconds = max(0.5, seconds)
    if solver.solve(m.model) not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    return m, solver
