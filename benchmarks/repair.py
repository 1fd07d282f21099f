"""Benchmark the repair of a published week against planning the week again from scratch.

A generated federation's week is planned and taken as published.  Then one
GP falls sick for three days (Tuesday to Thursday), recorded as an absence,
and the week is repaired with ``scheduler.usecases.repair.propose_repair`` (today is
the Monday).  For comparison the same week, with the same absence, is planned
from scratch with ``plan_week``.  Both rotas are checked by the validator.
Reported: the repair's time, its changed sessions and shortfall, and how
many sessions the from-scratch plan changes against the published rota.

Usage::

    python -m benchmarks.repair --practices 60 --plan-time 60 --repair-time 5 --workers 2
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence

from benchmarks.generate import write_network
from scheduler.bundle.reader import read_bundle
from scheduler.checks.validator import check_rota
from scheduler.domain import ABSENCES, Assignment, Bundle, Leave, LeaveKind, parse_iso_week
from scheduler.usecases.planning import plan_week
from scheduler.usecases.repair import changes_between, propose_repair
from solver import SolveOptions

WEEK = "2026-W49"


def sick_gp(bundle: Bundle, published: Sequence[Assignment], days: Sequence[dt.date]) -> str:
    """The GP working the most sessions on those days (ties: the lowest id)."""
    gps = {p.staff_id for p in bundle.staff if p.role == "GP"}
    counts = Counter(a.staff_id for a in published if a.staff_id in gps and a.date in days)
    if not counts:
        raise SystemExit("no GP works on the sick days; try another --seed")
    return min(counts, key=lambda s: (-counts[s], s))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--practices", type=int, default=60)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--plan-time", type=float, default=60.0, help="seconds for each plan")
    parser.add_argument("--repair-time", type=float, default=5.0, help="seconds for the repair")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--skip-scratch", action="store_true", help="do not plan from scratch")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        write_network(tmp, args.practices, args.seed, WEEK)
        bundle, _ = read_bundle(tmp)
    dates = parse_iso_week(WEEK)
    options = SolveOptions(time_limit=args.plan_time, workers=args.workers, seed=args.seed)
    first = plan_week(bundle, WEEK, options)
    published = first.assignments
    sick_days = dates[1:4]
    staff_id = sick_gp(bundle, published, sick_days)
    absence = Leave(staff_id, sick_days[0], sick_days[-1], LeaveKind.SICK, row=1, source=ABSENCES)
    after = dataclasses.replace(bundle, leave=(*bundle.leave, absence))

    started = time.monotonic()
    repaired = propose_repair(
        after,
        WEEK,
        published,
        today=dates[0],
        event_days=sick_days,
        options=SolveOptions(time_limit=args.repair_time, workers=args.workers, seed=args.seed),
    )
    repair_seconds = time.monotonic() - started
    if repaired.report is None or not repaired.report.ok:
        raise SystemExit(f"repair failed: {repaired.result.status} {repaired.result.message}")
    if args.skip_scratch:
        print(f"repair: {repair_seconds:.2f} s, {len(repaired.changes)} changed sessions")
        return 0
    again = plan_week(after, WEEK, options)
    if again.report is None or not check_rota(after, dates, again.assignments).ok:
        raise SystemExit("the from-scratch plan failed")
    scratch_changes = changes_between(published, again.assignments)
    lost = sum(1 for a in published if a.staff_id == staff_id and a.date in sick_days)
    print(f"network: {args.practices} practices, {len(bundle.staff)} staff, seed {args.seed}")
    short = first.report.shortfall if first.report else "?"
    print(f"published: {len(published)} sessions, {short} short")
    print(f"sick: {staff_id} {sick_days[0]} to {sick_days[-1]} ({lost} published sessions lost)")
    print(
        f"repair: {repair_seconds:.2f} s wall ({repaired.result.seconds:.2f} s in the solver), "
        f"{repaired.result.status.value}, {len(repaired.changes)} changed sessions, "
        f"short {repaired.shortfall_before} -> {repaired.report.shortfall}"
    )
    print(
        f"from scratch: {again.result.seconds:.1f} s, {len(scratch_changes)} changed sessions, "
        f"short {again.report.shortfall}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
