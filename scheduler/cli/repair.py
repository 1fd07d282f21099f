"""``rotapool repair``: a published week repaired around its absences and demand changes."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from scheduler.cli.common import (
    EXIT_CONFLICT,
    EXIT_FAILED,
    EXIT_OK,
    LONDON,
    cli_actor,
    date_list,
    db_url,
    iso_date,
    iso_week,
    london_today,
    network_db_args,
    print_error,
    tell,
)
from scheduler.domain import DAY_NAMES, Assignment, Bundle, parse_iso_week
from scheduler.storage.db import (
    make_engine,
    session_scope,
)
from scheduler.storage.events import current_bundle
from scheduler.storage.repository import network_id_of
from scheduler.usecases import repair
from scheduler.usecases.planning import (
    InvalidRotaError,
)
from scheduler.usecases.publishing import PublishError, publish_week
from scheduler.usecases.repair import RepairOutcome
from solver import SolveOptions, SolveStatus


def _print_repair(outcome: RepairOutcome, bundle: Bundle) -> None:
    s = outcome.summary()
    window = ", ".join(f"{DAY_NAMES[d.weekday()]} {d}" for d in sorted(outcome.window))
    print(f"Repair of {outcome.week} ({window}): {s['status']}, {s['seconds']}s")
    print(
        f"{outcome.in_words()}; people short of a minimum: "
        f"{s['shortfall_before']} before, {s['shortfall']} after."
    )
    for change in outcome.changes:
        print(f"  {change.words(bundle.person(change.staff_id).name)}")
    figures = outcome.figures
    if figures is not None and figures.people:
        print(
            f"Hours {figures.hours:+}, cost {figures.cost:+} GBP, "
            f"extra travel {figures.extra_travel_minutes:+} min."
        )
        for site, hours in figures.lenders.items():
            print(f"  {site} lends {hours} h")
    for note in outcome.notes:
        print(f"  SHORT {note.headline}")


RepairInputs = tuple[int, Bundle, frozenset[Assignment], frozenset[Assignment], set[dt.date]]


def _repair_inputs(engine: Engine, args: argparse.Namespace) -> RepairInputs:
    """The network, its bundle, the published and pinned cells and the event days of the week."""
    with session_scope(engine) as session:
        network_id = network_id_of(session, args.network)
        bundle = current_bundle(session, network_id)
        _, published, pinned = repair.published_cells(session, network_id, args.week)
        days = repair.week_events(session, network_id, parse_iso_week(args.week))
        if not args.replace_draft and repair.draft_differs(
            session, network_id, args.week, published
        ):
            raise repair.RepairError(
                f"{args.week} has a draft with edits not yet published; publish it first, "
                "or pass --replace-draft to repair from the published rota anyway"
            )
    return network_id, bundle, published, pinned, days


def cmd_repair(args: argparse.Namespace) -> int:
    """Propose the smallest repair of a published week, save it as the draft, maybe publish."""
    today = args.today or london_today()
    engine = make_engine(db_url(args))
    try:
        network_id, bundle, published, pinned, days = _repair_inputs(engine, args)
        outcome = repair.propose_repair(
            bundle,
            args.week,
            published,
            today=today,
            event_days=days,
            extra_days=args.dates or (),
            options=SolveOptions(time_limit=args.time_limit, workers=args.workers, seed=args.seed),
            now=None if args.today else dt.datetime.now(ZoneInfo(LONDON)),
        )
        if outcome.report is None:
            print_error(outcome.result.message or "no repair found", *outcome.result.conflicts)
            return EXIT_CONFLICT if outcome.result.status is SolveStatus.CONFLICT else EXIT_FAILED
        _print_repair(outcome, bundle)
        with session_scope(engine) as session:
            rota_id, revision = repair.save_repair(
                session,
                network_id,
                outcome,
                pinned,
                replace_draft=args.replace_draft,
                actor=cli_actor(),
            )
            if args.approve:
                from scheduler.usecases import notices  # noqa: PLC0415 - only when publishing

                version = publish_week(
                    session, network_id, outcome.week, cli_actor(), expected_revision=revision
                )
                recorded = notices.record_notices(session, notices.notifiable(version), today)
        if args.out:  # only once saved: no files for a repair that was refused
            for path in repair.write_repair(Path(args.out), bundle, outcome):
                print(f"Wrote {path}")
        if not args.approve:
            print(f"Saved as draft rota {rota_id}. Publish it with:")
            print(f"  rotapool publish --week {outcome.week}")
            return EXIT_OK
        print(f"Published {version.week} as version {version.version} (rota {rota_id}).")
        told = tell(engine, len(recorded), today)
        if told:
            print(told)
    except (repair.RepairError, PublishError) as err:
        print_error(f"error: {err}")
        return EXIT_FAILED
    except InvalidRotaError as err:
        print_error(str(err))
        return EXIT_FAILED
    finally:
        engine.dispose()
    return EXIT_OK


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "repair",
        help="repair a published week around absences and demand changes, fewest changes first",
    )
    p.add_argument("--week", required=True, type=iso_week, help="ISO week, e.g. 2026-W49")
    p.add_argument("--out", help="write changes.csv, rota.csv and summary.json here")
    p.add_argument("--approve", action="store_true", help="publish the repair as the next version")
    p.add_argument("--dates", type=date_list, help="also re-plan these dates (comma-separated)")
    p.add_argument(
        "--today",
        type=iso_date,
        help="the day the repair is made, from its start (default: now; begun sessions stay)",
    )
    p.add_argument(
        "--replace-draft", action="store_true", help="replace a draft with unpublished edits"
    )
    network_db_args(p)
    p.add_argument(
        "--time-limit",
        type=float,
        default=repair.DEFAULT_TIME_LIMIT,
        help=f"seconds of solving (default {repair.DEFAULT_TIME_LIMIT:g})",
    )
    p.add_argument("--workers", type=int, default=2, help="CP-SAT workers (default 2)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.set_defaults(func=cmd_repair)
