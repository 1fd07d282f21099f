"""``rotapool absence``, ``demand`` and ``repair``: what happens after publication."""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from scheduler.cli.common import (
    EXIT_CONFLICT,
    EXIT_FAILED,
    EXIT_INPUT,
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
    solve_options_of,
    tell,
)
from scheduler.domain import DAY_NAMES, Assignment, Bundle, iso_week_label, parse_iso_week
from scheduler.storage.db import (
    make_engine,
    session_scope,
)
from scheduler.storage.events import absences, current_bundle, demand_changes
from scheduler.storage.repository import network_id_of
from scheduler.usecases import notices, repair
from scheduler.usecases.events import ABSENCE_KINDS, record_absence, record_demand_change, withdraw
from scheduler.usecases.planning import (
    InvalidRotaError,
)
from scheduler.usecases.publishing import PublishError, publish_week
from scheduler.usecases.repair import RepairOutcome
from scheduler.usecases.requests import RequestError, RequestNotFoundError
from solver import SolveStatus


def _event_error(err: RequestError) -> int:
    print_error(*(f"error: {field}: {text}" for field, text in err.problems.items()))
    print_error("Nothing was recorded. Fix the option(s) named and run again.")
    return EXIT_INPUT


Event = TypeVar("Event")


def _record_event(
    args: argparse.Namespace, record: Callable[[Session, int, Bundle], Event]
) -> Event | int:
    """Record an event in one transaction; the exit code, with every problem printed, if refused."""
    engine = make_engine(db_url(args))
    try:
        with session_scope(engine) as session:
            network_id = network_id_of(session, args.network)
            return record(session, network_id, current_bundle(session, network_id))
    except RequestError as err:
        return _event_error(err)
    finally:
        engine.dispose()


def cmd_absence_add(args: argparse.Namespace) -> int:
    """Record an absence (planned around from now on; ``repair`` re-plans a published week)."""
    form = {
        "start": args.start,
        "end": args.end or args.start,
        "kind": args.kind,
        "session_id": args.session or "",
        "reason": args.reason or "",
    }
    absence = _record_event(
        args,
        lambda session, network_id, bundle: record_absence(
            session, network_id, bundle, staff_id=args.staff_id, form=form, actor=cli_actor()
        ),
    )
    if isinstance(absence, int):
        return absence
    print(f"Recorded absence {absence.id}: {absence.staff_id} {absence.kind}, {absence.when}.")
    print(f"Repair the published week with: rotapool repair --week {iso_week_label(absence.start)}")
    return EXIT_OK


def cmd_demand_add(args: argparse.Namespace) -> int:
    """Record a demand change: a site's need on one date, or a cancelled session."""
    form = {
        "site_id": args.site,
        "date": args.date,
        "session_id": args.session,
        "kind": "cancel" if args.cancel else "set",
        "role": args.role or "",
        "skill": args.skill or "",
        "min": "" if args.min is None else str(args.min),
        "target": "" if args.target is None else str(args.target),
        "note": args.note or "",
    }
    if not args.cancel and args.min is None:
        print_error("error: min: give --min N (people needed), or --cancel for a cancelled session")
        return EXIT_INPUT
    change = _record_event(
        args,
        lambda session, network_id, bundle: record_demand_change(
            session, network_id, bundle, form, actor=cli_actor()
        ),
    )
    if isinstance(change, int):
        return change
    print(f"Recorded demand change {change.id}: {change.summary}.")
    print(f"Repair the published week with: rotapool repair --week {iso_week_label(change.date)}")
    return EXIT_OK


def cmd_events_list(args: argparse.Namespace) -> int:
    """``absence list`` and ``demand list``: current and withdrawn events, newest first."""
    dates = parse_iso_week(args.week) if args.week else None
    engine = make_engine(db_url(args))
    try:
        with session_scope(engine) as session:
            network_id = network_id_of(session, args.network)
            if args.what == "absence":
                lines = [
                    f"{a.id:>5}  {a.staff_id}  {a.kind:<8}  {a.when}"
                    + ("  (withdrawn)" if a.withdrawn else "")
                    for a in absences(session, network_id, dates)
                ]
            else:
                lines = [
                    f"{c.id:>5}  {c.summary}" + ("  (withdrawn)" if c.withdrawn else "")
                    for c in demand_changes(session, network_id, dates)
                ]
    finally:
        engine.dispose()
    print("\n".join(lines) if lines else f"No {args.what} recorded.")
    return EXIT_OK


def cmd_events_withdraw(args: argparse.Namespace) -> int:
    """``absence withdraw`` and ``demand withdraw``: plans ignore the event from now on."""
    engine = make_engine(db_url(args))
    try:
        with session_scope(engine) as session:
            network_id = network_id_of(session, args.network)
            withdraw(session, network_id, args.what, args.id, cli_actor())
    except RequestNotFoundError as err:
        print_error(f"error: ID: {err}")
        return EXIT_INPUT
    except RequestError as err:
        return _event_error(err)
    finally:
        engine.dispose()
    print(f"Withdrew {args.what} {args.id}.")
    return EXIT_OK


def _print_repair(outcome: RepairOutcome, bundle: Bundle) -> None:
    s = outcome.summary()
    window = ", ".join(f"{DAY_NAMES[d.weekday()]} {d}" for d in sorted(outcome.window))
    print(f"Repair of {outcome.week} ({window}): {s['status']}, {s['seconds']}s")
    print(
        f"{s['changed_sessions']} session(s) changed; people short of a minimum: "
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
            options=solve_options_of(args),
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
    p = sub.add_parser("absence", help="record someone's absence after the rota was planned")
    commands = p.add_subparsers(dest="absence_command", required=True)
    p = commands.add_parser("add", help="record an absence (whole days, or one session a day)")
    p.add_argument("staff_id", metavar="STAFF", help="the person, as in staff.csv")
    p.add_argument("--from", dest="start", required=True, help="first day, YYYY-MM-DD")
    p.add_argument("--to", dest="end", help="last day, YYYY-MM-DD (default: the first day)")
    p.add_argument("--kind", required=True, choices=ABSENCE_KINDS)
    p.add_argument("--session", help="only this session of each day (default: whole days)")
    p.add_argument("--reason", help="a note; seen only by managers and coordinators")
    network_db_args(p)
    p.set_defaults(func=cmd_absence_add)
    _list_and_withdraw(commands, "absence")

    p = sub.add_parser("demand", help="change a site's need on one date after planning")
    commands = p.add_subparsers(dest="demand_command", required=True)
    p = commands.add_parser("add", help="set a need (--min/--target) or cancel a session")
    p.add_argument("--site", required=True, help="site id, as in sites.csv")
    p.add_argument("--date", required=True, help="YYYY-MM-DD")
    p.add_argument("--session", required=True, help="session id, as in session_types.csv")
    p.add_argument("--role", help="role needed (default: anyone)")
    p.add_argument("--skill", help="skill needed (default: none)")
    p.add_argument("--min", type=int, help="people needed at least")
    p.add_argument("--target", type=int, help="people wanted (default: --min)")
    p.add_argument("--cancel", action="store_true", help="the session is cancelled at the site")
    p.add_argument("--note", help="why, for the coordinators")
    network_db_args(p)
    p.set_defaults(func=cmd_demand_add)
    _list_and_withdraw(commands, "demand")

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
    p.add_argument("--time-limit", type=float, default=4.0, help="seconds (default 4)")
    p.add_argument("--workers", type=int, default=2, help="CP-SAT workers (default 2)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.set_defaults(func=cmd_repair)


def _list_and_withdraw(commands: argparse._SubParsersAction, what: str) -> None:
    p = commands.add_parser("list", help=f"list the network's {what} events, newest first")
    p.add_argument("--week", type=iso_week, help="only this ISO week")
    network_db_args(p)
    p.set_defaults(func=cmd_events_list, what=what)
    p = commands.add_parser("withdraw", help=f"withdraw a {what} event: plans ignore it")
    p.add_argument("id", type=int, metavar="ID", help="the number `list` shows")
    network_db_args(p)
    p.set_defaults(func=cmd_events_withdraw, what=what)
