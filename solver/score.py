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

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from ortools.sat.python import cp_model

from scheduler.horizon import Horizon, Need
from solver.model import Key, RotaModel, gc_paused
from solver.result import SolveOptions
from solver.rules import build

Slot = tuple[tuple[dt.date, str, str], list[Need]]


class ChosenRotaModel(RotaModel):
    """A ``RotaModel`` with an option only for each of the ``chosen`` sessions."""

    def __init__(self, horizon: Horizon, chosen: Iterable[Key]) -> None:
        self._chosen: dict[str, set[tuple[dt.date, str, str]]] = defaultdict(set)
        for key in chosen:
            self._chosen[key[0]].add((key[1], key[2], key[3]))
        super().__init__(horizon)

    def _add_options(
        self,
        staff_id: str,
        sites: frozenset[str] | None,
        slots: list[Slot],
        away: set[dt.date],
        pinned: set[Key],
    ) -> None:
        mine = self._chosen.get(staff_id, set())
        super()._add_options(staff_id, sites, [s for s in slots if s[0] in mine], away, pinned)


def score_rota(
    horizon: Horizon, keys: Iterable[Key], options: SolveOptions, seconds: float
) -> tuple[RotaModel, cp_model.CpSolver] | None:
    """The scored model of this rota and its solution; None when the rota breaks a hard rule.

    None also when a session of the rota is no option of the horizon at all, or
    when the search runs out of ``seconds`` (it rarely needs a tenth of one).
    """
    keys = list(keys)
    with gc_paused():
        m = build(ChosenRotaModel(horizon, keys))
    if len(m.x) != len(set(keys)):
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
