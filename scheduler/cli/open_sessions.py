"""``rotapool open``: offer places in a published week to the network's people (open sessions),
list them, take them back.  People book them on the web app."""

from __future__ import annotations

import argparse

from scheduler.cli.common import (
    EXIT_FAILED,
    EXIT_INPUT,
    EXIT_OK,
    cli_actor,
    db_url,
    iso_week,
    network_db_args,
    print_error,
)
from scheduler.storage.clock import now
from scheduler.storage.db import make_engine, session_scope
from scheduler.storage.events import current_bundle
from scheduler.storage.repository import network_id_of
from scheduler.usecases.open_sessions import (
    STATES,
    BookingRefusedError,
    OpenSession,
    OpenSessionError,
    list_places,
    offer_place,
    offer_shortfalls,
    parse_offer,
    withdraw,
)

HOW = (
    "People of the role and skill who could work the place without breaking a hard rule "
    "see it on their page of the web app and book it there; the first to book gets it."
)


def line(place: OpenSession) -> str:
    rate = f", £{place.rate:,.2f}/h" if place.rate is not None else ""
    note = f" ({place.note})" if place.note else ""
    taken = f", booked by {place.booked_staff_id}" if place.booked_staff_id else ""
    return f"  #{place.id} {place.where} {place.need}{rate}{note}: {place.state}{taken}"


def cmd_open_add(args: argparse.Namespace) -> int:
    """Offer one place, or every unmet minimum of a published week (``--short``)."""
    engine = make_engine(db_url(args))
    try:
        with session_scope(engine) as session:
            network_id = network_id_of(session, args.network)
            if args.short:
                made = offer_shortfalls(session, network_id, args.short, cli_actor(), now())
            else:
                fields = {k: getattr(args, k) or "" for k in FIELDS}
                offer = parse_offer(current_bundle(session, network_id), fields)
                made = [offer_place(session, network_id, offer, cli_actor(), now())]
    except OpenSessionError as err:
        print_error(f"error: --{err.field.replace('_', '-')}: {err.message}")
        return EXIT_INPUT
    finally:
        engine.dispose()
    if args.short and not made:
        print(
            f"Nothing to offer: nobody is short of a minimum in {args.short}, or every\n"
            "shortfall is offered already."
        )
        return EXIT_OK
    print(f"Offered {len(made)} {'place' if len(made) == 1 else 'places'}.")
    for place in made:
        print(line(place))
    print(HOW)
    return EXIT_OK


def cmd_open_list(args: argparse.Namespace) -> int:
    """The network's places (of a week, if given) in the states asked for."""
    engine = make_engine(db_url(args))
    try:
        with session_scope(engine) as session:
            network_id = network_id_of(session, args.network)
            places = list_places(session, network_id, args.week, args.state or ("open",))
    finally:
        engine.dispose()
    print(f"{len(places)} {'place' if len(places) == 1 else 'places'}.")
    for place in places:
        print(line(place))
    return EXIT_OK


def cmd_open_withdraw(args: argparse.Namespace) -> int:
    """Take an open place back."""
    engine = make_engine(db_url(args))
    try:
        with session_scope(engine) as session:
            network_id = network_id_of(session, args.network)
            place = withdraw(session, network_id, args.id, cli_actor(), now())
    except BookingRefusedError as err:
        print_error(f"error: #{args.id} {err}")
        return EXIT_FAILED
    finally:
        engine.dispose()
    print(f"Withdrew #{place.id} {place.where} {place.need}.")
    return EXIT_OK


FIELDS = ("site_id", "date", "session_id", "role", "skill", "rate", "note")


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("open", help="open sessions: places offered to the network's people")
    commands = p.add_subparsers(dest="open_command", required=True)
    p = commands.add_parser(
        "add", help="offer a place, or every unmet minimum of a week", epilog=HOW
    )
    p.add_argument("--short", metavar="WEEK", type=iso_week, help="every unmet minimum of WEEK")
    p.add_argument("--site-id", dest="site_id", help="the site, e.g. P01")
    p.add_argument("--date", help="the date, e.g. 2026-12-01")
    p.add_argument("--session-id", dest="session_id", help="the session, e.g. AM")
    p.add_argument("--role", help="the role wanted, e.g. GP (blank: anyone)")
    p.add_argument("--skill", help="a skill wanted, e.g. cytology")
    p.add_argument("--rate", help="the hourly rate offered in pounds, e.g. 95.50")
    p.add_argument("--note", help="a note for whoever books it (at most 200 characters)")
    network_db_args(p)
    p.set_defaults(func=cmd_open_add)
    p = commands.add_parser("list", help="the places offered and what became of them")
    p.add_argument("--week", type=iso_week, help="ISO week, e.g. 2026-W49 (default: every week)")
    p.add_argument(
        "--state", action="append", choices=STATES, help="open (default), booked, withdrawn..."
    )
    network_db_args(p)
    p.set_defaults(func=cmd_open_list)
    p = commands.add_parser("withdraw", help="take an open place back")
    p.add_argument("id", type=int, help="the place's number, from `rotapool open list`")
    network_db_args(p)
    p.set_defaults(func=cmd_open_withdraw)
