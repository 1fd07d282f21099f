"""Benchmark the repair of a published week, in process and as ``rotapool repair``.

A generated federation's week is planned and taken as published.  Then one
GP falls sick for ``--days`` days from the Tuesday (the one working the most
sessions on them), and the week is repaired with
``scheduler.usecases.repair.propose_repair`` (today is the Monday), timed
from the call to its return.  With ``--cli`` the same repair is then made
end to end as a coordinator makes it: the network imported into a scratch
SQLite database, the rota published there, the absence recorded with
``rotapool absence add``, and ``rotapool repair --week ... --today ...``
timed as a new process (starting Python, reading the database, solving,
checking, explaining, saving the draft, writing ``--out``).  For comparison
the same week, with the same absence, is planned from scratch with
``plan_week`` unless ``--skip-scratch``.  Every rota is checked by the
validator.

Usage::

    python -m benchmarks.repair --practices 60 --days 2 --cli --skip-scratch
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from benchmarks.generate import write_network
from scheduler.bundle.reader import read_bundle
from scheduler.checks.validator import check_rota
from scheduler.domain import ABSENCES, Assignment, Bundle, Leave, LeaveKind, parse_iso_week
from scheduler.storage.db import make_engine, session_scope, upgrade
from scheduler.storage.events import current_bundle
from scheduler.usecases.planning import PlanOutcome, plan_week, save_draft
from scheduler.usecases.publishing import publish_week
from scheduler.usecases.repair import (
    DEFAULT_TIME_LIMIT,
    RepairOutcome,
    changes_between,
    propose_repair,
    published_cells,
    save_repair,
    week_events,
)
from solver import SolveOptions

WEEK = "2026-W49"
ROOT = Path(__file__).resolve().parents[1]


def sick_gp(bundle: Bundle, published: Sequence[Assignment], days: Sequence[dt.date]) -> str:
    """The GP working the most sessions on those days (ties: the lowest id)."""
    gps = {p.staff_id for p in bundle.staff if p.role == "GP"}
    counts = Counter(a.staff_id for a in published if a.staff_id in gps and a.date in days)
    if not counts:
        raise SystemExit("no GP works on the sick days; try another --seed")
    return min(counts, key=lambda s: (-counts[s], s))


def rotapool(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the command line of this checkout as a new process (its output kept)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "scheduler.cli.main", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, check=True)


def cli_repair(
    network: Path, first: PlanOutcome, sick: tuple[str, Sequence[dt.date]], args: argparse.Namespace
) -> tuple[float, dict[str, object]]:
    """``rotapool repair`` end to end on a scratch database: its wall time and summary."""
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/rotapool.db"
        rotapool("import", str(network), "--database", url)
        engine = make_engine(url)
        upgrade(url)
        with session_scope(engine) as session:
            save_draft(session, 1, WEEK, first.assignments, result=first.result, summary={})
            publish_week(session, 1, WEEK, "benchmark")
        engine.dispose()
        staff_id, days = sick
        period = ["--from", str(days[0]), "--to", str(days[-1])]
        rotapool("absence", "add", staff_id, *period, "--kind", "sick", "--database", url)
        command = ["repair", "--week", WEEK, "--today", str(days[0] - dt.timedelta(days=1))]
        limit = [] if args.repair_time is None else ["--time-limit", str(args.repair_time)]
        options = [*limit, "--workers", str(args.workers), "--seed", str(args.seed)]
        started = time.monotonic()
        done = rotapool(*command, *options, "--out", f"{tmp}/out", "--database", url)
        seconds = time.monotonic() - started
        print(done.stdout.splitlines()[1])
        in_app = app_repair(url, days[0] - dt.timedelta(days=1), args)
        print(f"in the web app (the repair route's work, in process): {in_app:.2f} s")
        return seconds, json.loads(Path(tmp, "out", "summary.json").read_text(encoding="utf-8"))


def app_repair(url: str, today: dt.date, args: argparse.Namespace) -> float:
    """What the web app's "Propose a repair" does, timed in a warm process: read the network,
    the published week and its events, repair, check, and save the draft (replacing the
    command line's).  The request itself (HTTP, the page) is not included."""
    engine = make_engine(url)
    limit = args.repair_time or DEFAULT_TIME_LIMIT
    options = SolveOptions(time_limit=limit, workers=args.workers, seed=args.seed)
    started = time.monotonic()
    with session_scope(engine) as db:
        bundle = current_bundle(db, 1)
        _, published, pinned = published_cells(db, 1, WEEK)
        days = week_events(db, 1, parse_iso_week(WEEK))
    outcome = propose_repair(bundle, WEEK, published, today=today, event_days=days, options=options)
    with session_scope(engine) as db:
        save_repair(db, 1, outcome, pinned, replace_draft=True, actor="benchmark")
    seconds = time.monotonic() - started
    engine.dispose()
    return seconds


def arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--practices", type=int, default=60)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--plan-time", type=float, default=60.0, help="seconds for each plan")
    parser.add_argument(
        "--repair-time", type=float, help="seconds for the repair (default: the command's)"
    )
    parser.add_argument("--days", type=int, default=3, help="days of absence from the Tuesday")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--cli", action="store_true", help="also time `rotapool repair`")
    parser.add_argument("--skip-scratch", action="store_true", help="do not plan from scratch")
    return parser.parse_args(argv)


def timed_repair(
    after: Bundle,
    published: Sequence[Assignment],
    sick_days: Sequence[dt.date],
    args: argparse.Namespace,
) -> tuple[float, RepairOutcome]:
    """``propose_repair`` with today the day before the absence: its wall time and outcome."""
    limit = args.repair_time or DEFAULT_TIME_LIMIT
    started = time.monotonic()
    repaired = propose_repair(
        after,
        WEEK,
        published,
        today=sick_days[0] - dt.timedelta(days=1),
        event_days=sick_days,
        options=SolveOptions(time_limit=limit, workers=args.workers, seed=args.seed),
    )
    seconds = time.monotonic() - started
    if repaired.report is None or not repaired.report.ok:
        raise SystemExit(f"repair failed: {repaired.result.status} {repaired.result.message}")
    return seconds, repaired


def main(argv: Sequence[str] | None = None) -> int:
    args = arguments(argv)

    with tempfile.TemporaryDirectory() as tmp:
        write_network(tmp, args.practices, args.seed, WEEK)
        bundle, _ = read_bundle(tmp)
        dates = parse_iso_week(WEEK)
        options = SolveOptions(time_limit=args.plan_time, workers=args.workers, seed=args.seed)
        first = plan_week(bundle, WEEK, options)
        published = first.assignments
        sick_days = dates[1 : 1 + args.days]
        staff_id = sick_gp(bundle, published, sick_days)
        leave = Leave(staff_id, sick_days[0], sick_days[-1], LeaveKind.SICK, row=1, source=ABSENCES)
        after = dataclasses.replace(bundle, leave=(*bundle.leave, leave))
        repair_seconds, repaired = timed_repair(after, published, sick_days, args)
        assert repaired.report is not None
        lost = sum(1 for a in published if a.staff_id == staff_id and a.date in sick_days)
        print(f"network: {args.practices} practices, {len(bundle.staff)} staff, seed {args.seed}")
        short = first.report.shortfall if first.report else "?"
        print(f"published: {len(published)} sessions, {short} short")
        print(
            f"sick: {staff_id} {sick_days[0]} to {sick_days[-1]} ({lost} published sessions lost)"
        )
        print(
            f"repair: {repair_seconds:.2f} s wall ({repaired.result.seconds:.2f} s in the solver), "
            f"{repaired.in_words()}, change cost {repaired.summary()['change_cost']}, "
            f"short {repaired.shortfall_before} -> {repaired.report.shortfall}"
        )
        if args.cli:
            seconds, summary = cli_repair(Path(tmp), first, (staff_id, sick_days), args)
            proven = summary.get("changes_proven_fewest")
            print(
                f"rotapool repair: {seconds:.2f} s wall, {summary['changed_sessions']} changed "
                f"sessions, change cost {summary['change_cost']}, proven {proven}"
            )
    if args.skip_scratch:
        return 0
    again = plan_week(after, WEEK, options)
    if again.report is None or not check_rota(after, dates, again.assignments).ok:
        raise SystemExit("the from-scratch plan failed")
    scratch_changes = changes_between(published, again.assignments)
    print(
        f"from scratch: {again.result.seconds:.1f} s, {len(scratch_changes)} changed sessions, "
        f"short {again.report.shortfall}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
