"""Compare two-worker CP-SAT portfolios on the product's model.

Usage::

    python -m benchmarks.portfolio BUNDLE [--week 2026-W49] [--time-limit 20]
    python -m benchmarks.portfolio --curtois Instance5.txt [--time-limit 60]

Builds the product's model once per run and solves it with two workers:
CP-SAT's default subsolvers, ``max_lp`` + ``core`` (the earlier choice),
then ``TWO_WORKER_SUBSOLVERS``, printing status, objective, bound, gap and
seconds for each.  This is one plain search of the full objective, without
the first-goal seeding ``solver.solve`` adds.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence

from ortools.sat.python import cp_model

from scheduler.bench.curtois_format import read_instance
from scheduler.bench.curtois_map import dates_of, to_bundle
from scheduler.bundle.reader import read_bundle
from scheduler.domain import parse_iso_week
from scheduler.horizon import Horizon
from solver.model import SCALE, RotaModel
from solver.rules import build
from solver.steps import TWO_WORKER_SUBSOLVERS

EARLIER = ("max_lp", "core")


def horizon_of(args: argparse.Namespace) -> Horizon:
    """The planning horizon of a bundle's week, or of a Curtois-Qu instance."""
    if args.curtois:
        instance = read_instance(args.curtois)
        return Horizon(to_bundle(instance), dates_of(instance))
    bundle, _ = read_bundle(args.bundle)
    return Horizon(bundle, parse_iso_week(args.week))


def run(horizon: Horizon, time_limit: float, subsolvers: Sequence[str]) -> str:
    """Solve once with the given subsolvers (none = CP-SAT's default) and describe the outcome."""
    model = build(RotaModel(horizon))
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
    parser.add_argument("bundle", nargs="?")
    parser.add_argument("--curtois", help="a Curtois-Qu instance file instead of a bundle")
    parser.add_argument("--week", default="2026-W49")
    parser.add_argument("--time-limit", type=float, default=20.0)
    args = parser.parse_args(argv)
    if not args.bundle and not args.curtois:
        parser.error("give a bundle or --curtois FILE")
    for subsolvers in ((), EARLIER, TWO_WORKER_SUBSOLVERS):
        print(run(horizon_of(args), args.time_limit, subsolvers))


if __name__ == "__main__":
    main()
