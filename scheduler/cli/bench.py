"""``rotapool bench curtois``: public nurse-rostering instances through the product's solver."""

from __future__ import annotations

import argparse
from pathlib import Path

from scheduler.bench.curtois_format import CurtoisFormatError
from scheduler.bench.curtois_map import UnsupportedInstanceError
from scheduler.bench.curtois_run import SUMMARY, BenchmarkCheckError, BenchRow, run_all
from scheduler.cli.common import EXIT_FAILED, EXIT_INPUT, EXIT_OK, print_error
from solver import SolveOptions


def cmd_bench_curtois(args: argparse.Namespace) -> int:
    paths = [Path(f) for f in args.files]
    missing = [p for p in paths if not p.is_file()]
    if missing:
        print_error(
            *(
                f"{p}: not found; give Curtois-Qu instance files such as Instance1.txt"
                for p in missing
            )
        )
        return EXIT_INPUT
    options = SolveOptions(time_limit=args.time_limit, workers=args.workers, seed=args.seed)
    best = Path(args.best_known) if args.best_known else None

    def report(row: BenchRow) -> None:
        if row.objective is None:
            print(f"{row.instance}: no roster within the time limit ({row.seconds:.1f}s)")
            return
        ratio = f", {row.ratio_to_best:.4f} x best known" if row.ratio_to_best else ""
        colgen = ""
        if row.colgen_seconds is not None:
            colgen = f"; column-generation bound {row.colgen_bound} in {row.colgen_seconds:.1f}s"
        print(
            f"{row.instance}: {row.objective} (bound {row.lower_bound}{ratio}), "
            f"{row.status}, {row.seconds:.1f}s{colgen}"
        )

    try:
        rows = run_all(paths, options, Path(args.out), best, report, colgen_seconds=args.colgen)
    except CurtoisFormatError as err:
        print_error(str(err))
        return EXIT_INPUT
    except (BenchmarkCheckError, UnsupportedInstanceError) as err:
        print_error(f"error: {err}")
        return EXIT_FAILED
    print(f"Wrote {Path(args.out) / SUMMARY}")
    unsolved = [row.instance for row in rows if row.objective is None]
    if unsolved:
        print_error(
            f"No roster within {args.time_limit:g} s for: {', '.join(unsolved)}; allow more time."
        )
        return EXIT_FAILED
    return EXIT_OK


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="run a public benchmark through the product's solver")
    bench = p.add_subparsers(dest="benchmark", required=True)
    p = bench.add_parser("curtois", help="Curtois-Qu nurse rostering instances (.txt)")
    p.add_argument("files", nargs="+", help="instance files, e.g. Instance1.txt")
    p.add_argument("--time-limit", type=float, default=60.0, help="seconds each (default 60)")
    p.add_argument("--workers", type=int, default=2, help="CP-SAT workers (default 2)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--out", required=True, help="folder for <Instance>.csv and summary.csv")
    p.add_argument("--best-known", help="best_known.csv (default: beside the instances folder)")
    p.add_argument(
        "--colgen",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="also compute the column-generation lower bound, within SECONDS each (default off)",
    )
    p.set_defaults(func=cmd_bench_curtois)
