"""Benchmark the planner end to end on the sample network and on generated networks.

For each network it times the import, then the model build plus solve (which
``solve`` reports as one figure), notes when the first valid rota arrived,
and checks the returned rota with the independent validator.  A rota the
validator rejects stops the run with an error: a fast wrong answer is no
benchmark result.

Usage::

    python -m benchmarks.run_solve --sample --practices 5 8 --time-limit 20 --workers 2
    python -m benchmarks.run_solve --practices 60 --time-limit 120 --workers 2
    python -m benchmarks.run_solve --practices --bundle sample_data/coastal --time-limit 60

Generated networks are written to a temporary folder from ``--seed``, which
also seeds the solver, so the same command builds the same networks.
"""

from __future__ import annotations

import argparse
import csv
import resource
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from benchmarks.generate import write_network
from scheduler.bundle.reader import read_bundle
from scheduler.checks.validator import check_rota
from scheduler.domain import Bundle, SiteKind, parse_iso_week
from scheduler.horizon import Horizon
from solver import Progress, SolveOptions, SolveResult, solve

WEEK = "2026-W49"  # the week the sample network's leave and pinned sessions fall in
SAMPLE = Path(__file__).resolve().parent.parent / "sample_data" / "riverside"
DEFAULT_OUT = Path("benchmarks") / "results" / "solve.csv"


class RotaRejectedError(RuntimeError):
    """The solver returned a rota that the independent validator rejects."""


@dataclass(frozen=True)
class Row:
    """One network's figures, in the column order of the table and the CSV."""

    network: str
    practices: int
    staff: int
    demand_rows: int
    needs: int
    import_s: float
    solve_s: float
    first_rota_s: float | None
    solutions: int
    status: str
    objective: float | None
    bound: float | None
    gap_pct: float | None
    assignments: int
    shortfall: int | None
    validator_shortfall: int | None
    validator_ok: bool | None
    peak_rss_mb: int


class FirstRota:
    """Progress callback that keeps the time of the first rota and the number found."""

    def __init__(self) -> None:
        self.seconds: float | None = None
        self.solutions = 0

    def __call__(self, progress: Progress) -> None:
        if self.seconds is None:
            self.seconds = progress.seconds
        self.solutions = progress.solutions


def timed_import(folder: Path) -> tuple[Bundle, float]:
    """Read a bundle folder and how long that took in seconds."""
    started = time.perf_counter()
    bundle, _warnings = read_bundle(folder)
    return bundle, time.perf_counter() - started


def timed_solve(horizon: Horizon, options: SolveOptions) -> tuple[SolveResult, FirstRota, float]:
    """Build the model and solve it; wall seconds include both, as a user waits for both."""
    first = FirstRota()
    started = time.perf_counter()
    result = solve(horizon, options, progress=first)
    return result, first, time.perf_counter() - started


def validate(bundle: Bundle, horizon: Horizon, result: SolveResult, name: str) -> int | None:
    """The validator's shortfall for the rota; raises if it breaks a hard rule."""
    if not result.status.has_rota:
        return None
    report = check_rota(bundle, horizon.dates, result.assignments)
    if not report.ok:
        details = "\n".join(f"  {v.rule_id}: {v.message}" for v in report.violations[:20])
        raise RotaRejectedError(f"{name}: the validator rejects the rota:\n{details}")
    if report.shortfall != result.shortfall:
        print(
            f"{name}: solver counts {result.shortfall} short, validator {report.shortfall}",
            file=sys.stderr,
        )
    return report.shortfall


def peak_rss_mb() -> int:
    """Peak resident memory of this process so far (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def percent(value: float | None) -> float | None:
    """A gap fraction as a percentage, or None when there is no gap to speak of."""
    return None if value is None else 100.0 * value


def measure(name: str, folder: Path, options: SolveOptions) -> Row:
    """Import, solve and validate one network folder, and gather its figures."""
    bundle, import_s = timed_import(folder)
    horizon = Horizon(bundle, parse_iso_week(WEEK))
    result, first, solve_s = timed_solve(horizon, options)
    validator_shortfall = validate(bundle, horizon, result, name)
    practices = sum(1 for s in bundle.sites if s.kind is SiteKind.PRACTICE)
    return Row(
        network=name,
        practices=practices,
        staff=len(bundle.staff),
        demand_rows=len(bundle.demand),
        needs=len(horizon.needs),
        import_s=import_s,
        solve_s=solve_s,
        first_rota_s=first.seconds,
        solutions=first.solutions,
        status=result.status.value,
        objective=result.objective,
        bound=result.bound,
        gap_pct=percent(result.gap),
        assignments=len(result.assignments),
        shortfall=result.shortfall if result.status.has_rota else None,
        validator_shortfall=validator_shortfall,
        validator_ok=None if validator_shortfall is None else True,
        peak_rss_mb=peak_rss_mb(),
    )


def networks(
    sample: bool, practices: Sequence[int], seed: int, tmp: Path, week: str = WEEK
) -> Iterator[tuple[str, Path]]:
    """The sample network if asked for, then one generated network per practice count."""
    if sample:
        yield "sample (riverside)", SAMPLE
    for count in practices:
        folder = tmp / f"generated-{count}"
        write_network(folder, count, seed, week)
        yield f"generated {count}", folder


def cell(value: object) -> str:
    """How one figure is shown in the table and the CSV."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def markdown_table(rows: Sequence[Any]) -> str:
    """Dataclass rows as a markdown table with one column per field."""
    if not rows:
        return ""
    names = [f.name for f in fields(rows[0])]
    lines = ["| " + " | ".join(names) + " |", "|" + "---|" * len(names)]
    lines += ["| " + " | ".join(cell(v) for v in asdict(r).values()) + " |" for r in rows]
    return "\n".join(lines)


def write_csv(rows: Sequence[Row], out: Path) -> None:
    """Write the rows to ``out`` (its folder is created if missing)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([f.name for f in fields(Row)])
        writer.writerows([cell(v) for v in asdict(r).values()] for r in rows)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options; defaults match the issue's two-core, 60 s setting."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--practices", type=int, nargs="*", default=[5, 8, 60])
    parser.add_argument("--sample", action="store_true", help="also solve sample_data/riverside")
    parser.add_argument(
        "--bundle", type=Path, action="append", default=[], help="also solve this bundle folder"
    )
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds per solve")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0, help="generator and solver seed")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument(
        "--no-decompose",
        action="store_true",
        help="do not seed the search with each cluster of sites planned alone",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run every requested network in turn, print the table and write the CSV."""
    args = parse_args(argv)
    options = SolveOptions(
        time_limit=args.time_limit,
        workers=args.workers,
        seed=args.seed,
        decompose=not args.no_decompose,
    )
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="rotapool-bench-") as tmp:
        chosen = networks(args.sample, args.practices, args.seed, Path(tmp))
        given = [(f"{folder.name} (given)", folder) for folder in args.bundle]
        for name, folder in [*given, *chosen]:
            print(f"{name}: solving ...", file=sys.stderr, flush=True)
            rows.append(measure(name, folder, options))
            write_csv(rows, args.out)  # keep what is measured if a later network fails
    print(markdown_table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
