"""Compare the CP-SAT planner with the spreadsheet greedy on the same networks.

For each network, the greedy (``benchmarks.greedy``) and the product solver
plan the same week; both rotas go through the independent validator, and
every coverage figure below is the validator's, never the solver's own.

Usage::

    python -m benchmarks.compare_greedy --practices 8 60 --seed 1 --week 2026-W49 \\
        --time-limit 60 --workers 2 [--sample] [--out FILE.md]

Generated networks are written to a temporary folder from ``--seed``, which
also seeds the solver, so the same command compares the same networks.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks.greedy import greedy_rota
from benchmarks.run_solve import markdown_table, networks
from scheduler.bundle.reader import read_bundle
from scheduler.checks.validator import ValidationReport, check_rota
from scheduler.domain import Assignment, Bundle, parse_iso_week
from scheduler.horizon import Horizon
from solver import SolveOptions, SolveResult, solve


@dataclass(frozen=True)
class Row:
    """One network's figures, in the column order of the table."""

    network: str
    staff: int
    needs: int
    greedy_short_min: int
    greedy_short_target: int
    solver_short_min: int | None
    solver_short_target: int | None
    solver_status: str
    solver_objective: float | None
    solver_bound: float | None
    solver_gap_pct: float | None
    greedy_s: float
    solver_s: float
    greedy_valid: str
    solver_valid: str


def target_shortfall(report: ValidationReport) -> int:
    """People missing against every ``target``, from the validator's coverage."""
    return sum(max(0, line.target - line.assigned) for line in report.coverage)


def validity(report: ValidationReport) -> str:
    """``yes``, or ``no`` with the broken rules and how often, e.g. ``no (min_hours x3)``."""
    if report.ok:
        return "yes"
    counts = Counter(v.rule_id for v in report.violations)
    return "no (" + ", ".join(f"{rule} x{n}" for rule, n in sorted(counts.items())) + ")"


def run_greedy(bundle: Bundle, week: str) -> tuple[list[Assignment], float]:
    """The greedy's rota and its wall seconds (on a fresh horizon, so no warm caches)."""
    started = time.perf_counter()
    rota = greedy_rota(Horizon(bundle, parse_iso_week(week)))
    return rota, time.perf_counter() - started


def run_solver(bundle: Bundle, week: str, options: SolveOptions) -> tuple[SolveResult, float]:
    """The solver's result and its wall seconds, model build included."""
    started = time.perf_counter()
    result = solve(Horizon(bundle, parse_iso_week(week)), options)
    return result, time.perf_counter() - started


def compare(name: str, folder: Path, week: str, options: SolveOptions) -> Row:
    """Plan one network both ways and gather the validator's figures for each."""
    bundle, _warnings = read_bundle(folder)
    dates = parse_iso_week(week)
    greedy, greedy_s = run_greedy(bundle, week)
    greedy_report = check_rota(bundle, dates, greedy)
    result, solver_s = run_solver(bundle, week, options)
    solver_report = None
    if result.status.has_rota:
        solver_report = check_rota(bundle, dates, result.assignments)
    return Row(
        network=name,
        staff=len(bundle.staff),
        needs=len(Horizon(bundle, dates).needs),
        greedy_short_min=greedy_report.shortfall,
        greedy_short_target=target_shortfall(greedy_report),
        solver_short_min=solver_report.shortfall if solver_report else None,
        solver_short_target=target_shortfall(solver_report) if solver_report else None,
        solver_status=result.status.value,
        solver_objective=result.objective,
        solver_bound=result.bound,
        solver_gap_pct=None if result.gap is None else 100.0 * result.gap,
        greedy_s=greedy_s,
        solver_s=solver_s,
        greedy_valid=validity(greedy_report),
        solver_valid=validity(solver_report) if solver_report else "no rota",
    )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options; defaults match the two-core, 60 s benchmark setting."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--practices", type=int, nargs="*", default=[8, 60])
    parser.add_argument("--sample", action="store_true", help="also compare sample_data/riverside")
    parser.add_argument("--seed", type=int, default=1, help="generator and solver seed")
    parser.add_argument("--week", default="2026-W49", help="ISO week to plan")
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds per solve")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None, help="also write the table here")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Compare every requested network in turn and print the table."""
    args = parse_args(argv)
    options = SolveOptions(time_limit=args.time_limit, workers=args.workers, seed=args.seed)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="rotapool-greedy-") as tmp:
        found = networks(args.sample, args.practices, args.seed, Path(tmp), args.week)
        for name, folder in found:
            print(f"{name}: planning ...", file=sys.stderr, flush=True)
            rows.append(compare(name, folder, args.week, options))
    table = markdown_table(rows)
    print(table)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(table + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
