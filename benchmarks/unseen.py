"""The solver on federations it was not developed on, against the spreadsheet greedy.

Five federations of sizes and generator seeds never used while the solver was
developed or tuned (fixed here on 2026-12-07, before any tuning for issue 21;
do not tune against them).  Each is generated, planned by the greedy and by
the solver, and both rotas go through the independent validator; every
coverage figure is the validator's.

Usage::

    python -m benchmarks.unseen [--time-limit 60] [--workers 2] [--only 40-4401] [--out F.md]

Each federation runs in a process of its own, so its peak memory is its own.
Columns: seconds to the solver's first valid rota; people short of a minimum
(solver, greedy); the solver's proof, if any, that no rota leaves fewer short;
people short of a target; enhanced-access minutes delivered in the week;
the gap of the solver's objective to its own proven bound; wall seconds of
the whole solve (the user's wait) and peak memory.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.compare_greedy import run_greedy, target_shortfall
from benchmarks.generate import write_network
from benchmarks.run_solve import FirstRota, peak_rss_mb
from scheduler.bundle.reader import read_bundle
from scheduler.checks.validator import check_rota
from scheduler.domain import Assignment, Bundle, parse_iso_week
from scheduler.horizon import Horizon
from scheduler.reports.ea import check_week
from solver import SolveOptions, solve

WEEK = "2026-W49"
# (practices, generator seed): never used before 2026-12-07. The solver seed is 0 in each.
UNSEEN: tuple[tuple[int, int], ...] = ((40, 4401), (60, 6601), (60, 6602), (80, 8801), (80, 8802))
COLUMNS = (
    "network", "staff", "needs", "first_rota_s", "short_min", "short_min_bound",
    "short_min_proven_s", "greedy_short_min", "short_target", "greedy_short_target", "ea_minutes",
    "greedy_ea_minutes", "gap_pct", "wall_s", "peak_mb", "status",
)  # fmt: skip


def ea_minutes(bundle: Bundle, rota: Sequence[Assignment]) -> int | None:
    """Enhanced-access minutes the rota delivers in the week (None: no [enhanced_access])."""
    if bundle.enhanced_access_settings is None:
        return None
    return int(check_week(bundle, WEEK, rota).delivered)


def measure(practices: int, seed: int, options: SolveOptions) -> dict[str, Any]:
    """Generate one federation, plan it both ways and gather the validator's figures."""
    with tempfile.TemporaryDirectory() as folder:
        write_network(folder, practices, seed, WEEK)
        bundle, _warnings = read_bundle(Path(folder))
    dates = parse_iso_week(WEEK)
    greedy, _greedy_s = run_greedy(bundle, WEEK)
    greedy_report = check_rota(bundle, dates, greedy)
    first = FirstRota()
    started = time.perf_counter()
    result = solve(Horizon(bundle, dates), options, progress=first)
    wall = time.perf_counter() - started
    row: dict[str, Any] = {
        "network": f"{practices}-{seed}",
        "staff": len(bundle.staff),
        "needs": len(Horizon(bundle, dates).needs),
        "first_rota_s": first.seconds,
        "greedy_short_min": greedy_report.shortfall,
        "greedy_short_target": target_shortfall(greedy_report),
        "greedy_ea_minutes": ea_minutes(bundle, greedy),
        "short_min_bound": getattr(result, "shortfall_floor", None),
        "short_min_proven_s": getattr(result, "shortfall_proven_at", None),
        "gap_pct": None if result.gap is None else round(100.0 * result.gap, 2),
        "wall_s": round(wall, 1),
        "status": result.status.value,
    }
    if result.status.has_rota:
        report = check_rota(bundle, dates, result.assignments)
        if not report.ok:
            raise RuntimeError(f"{row['network']}: the validator rejects the solver's rota")
        row |= {
            "short_min": report.shortfall,
            "short_target": target_shortfall(report),
            "ea_minutes": ea_minutes(bundle, list(result.assignments)),
        }
    row["peak_mb"] = peak_rss_mb()
    return row


def markdown(rows: Sequence[dict[str, Any]]) -> str:
    def cell(value: Any) -> str:
        if value is None:
            return "-"
        return f"{value:.2f}" if isinstance(value, float) else str(value)

    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(cell(r.get(c)) for c in COLUMNS) + " |" for r in rows]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--only", default=None, help="one federation, e.g. 40-4401")
    parser.add_argument("--one", default=None, help=argparse.SUPPRESS)  # a child process
    parser.add_argument("--out", type=Path, default=None, help="also write the table here")
    args = parser.parse_args(argv)
    options = SolveOptions(time_limit=args.time_limit, workers=args.workers, seed=0)
    if args.one:
        practices, seed = map(int, args.one.split("-"))
        print(json.dumps(measure(practices, seed, options)))
        return 0
    rows = []
    for practices, seed in UNSEEN:
        name = f"{practices}-{seed}"
        if args.only and args.only != name:
            continue
        limits = ["--time-limit", str(args.time_limit), "--workers", str(args.workers)]
        command = [sys.executable, "-m", "benchmarks.unseen", "--one", name, *limits]
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(json.dumps(rows[-1]), file=sys.stderr)
    table = markdown(rows)
    print(table)
    if args.out:
        args.out.write_text(table + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
