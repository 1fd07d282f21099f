"""Compare CP-SAT's default two-worker portfolio with the one the solver uses.

Usage::

    python -m benchmarks.portfolio BUNDLE [--week 2026-W49] [--time-limit 20]

Builds the product's model once per run and solves it with two workers,
first with CP-SAT's default subsolvers, then with ``TWO_WORKER_SUBSOLVERS``,
printing status, objective, bound, gap and seconds for each.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence

from ortools.sat.python import cp_model

from scheduler.domain import parse_iso_week
from scheduler.horizon import Horizon
from scheduler.importer import read_bundle
from solver.model import SCALE, RotaModel
from solver.rules import build
from solver.solve import TWO_WORKER_SUBSOLVERS


def run(bundle_path: str, week: str, time_limit: float, subsolvers: Sequence[str]) -> str:
    """Solve once with the given subsolvers (none = CP-SAT's default) and describe the outcome."""
    bundle, _ = read_bundle(bundle_path)
    model = build(RotaModel(Horizon(bundle, parse_iso_week(week))))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 2
    solver.parameters.max_time_in_seconds = time_limit
    solver.parameters.subsolvers.extend(subsolvers)
    started = time.perf_counter()
    status = solver.solve(model.model)
    seconds = time.perf_counter() - started
    objective = solver.objective_value / SCALE
    bound = solver.best_objective_bound / SCALE
    gap = abs(objective - bound) / max(abs(objective), 1e-9) * 100
    name = ",".join(subsolvers) or "default"
    return (
        f"{name:<12} {solver.status_name(status):<9} objective {objective:,.1f} "
        f"bound {bound:,.1f} gap {gap:.1f}% {seconds:.1f}s"
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle")
    parser.add_argument("--week", default="2026-W49")
    parser.add_argument("--time-limit", type=float, default=20.0)
    args = parser.parse_args(argv)
    for subsolvers in ((), TWO_WORKER_SUBSOLVERS):
        print(run(args.bundle, args.week, args.time_limit, subsolvers))


if __name__ == "__main__":
    main()
