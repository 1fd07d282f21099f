"""``rotapool absence`` and ``demand``: what changed after a week was published."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.orm import Session

from scheduler.cli.common import (
    EXIT_INPUT,
    EXIT_OK,
    cli_actor,
    db_url,
    iso_week,
    network_db_args,
    print_error,
)
from scheduler.domain import Bundle, iso_week_label, parse_iso_week
from scheduler.storage.db import (
    make_engine,
    session_scope,
)
from scheduler.storage.events import absences, current_bundle, demand_changes
from scheduler.storage.repository import network_id_of
from scheduler.usecases.events import ABSENCE_KINDS, record_absence, record_demand_change, withdraw
from scheduler.usecases.requests import RequestError, RequestNotFoundError


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


def _list_and_withdraw(commands: argparse._SubParsersAction, what: str) -> None:
    p = commands.add_parser("list", help=f"list the network's {what} events, newest first")
    p.add_argument("--week", type=iso_week, help="only this ISO week")
    network_db_args(p)
    p.set_defaults(func=cmd_events_list, what=what)
    p = commands.add_parser("withdraw", help=f"withdraw a {what} event: plans ignore it")
    p.add_argument("id", type=int, metavar="ID", help="the number `list` shows")
    network_db_args(p)
    p.set_defaults(func=cmd_events_withdraw, what=what)
