"""``rotapool capacity`` and ``rotapool lending propose``."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from scheduler.checks.capacity import (
    CAPACITY_HEADER,
    Spare,
    by_session,
    capacity_rows,
    spare_capacity,
)
from scheduler.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    cli_actor,
    db_url,
    iso_week,
    network_db_args,
    print_error,
)
from scheduler.domain import DAY_NAMES
from scheduler.outputs.exports import write_csv
from scheduler.storage.db import (
    make_engine,
    session_scope,
)
from scheduler.storage.events import current_bundle
from scheduler.storage.repository import network_id_of
from scheduler.usecases.lending import TransferError
from scheduler.usecases.transfers import describe, generate, spare_week, week_transfers

# -- spare capacity and lending (commands and parser) -----------------------------------


def _print_capacity(network: str, label: str, state: str, spares: Sequence[Spare]) -> None:
    """The spare capacity as a readable table: one block per session, one line per person."""
    print(f"Spare capacity of {network}, {label} ({state} rota): {len(spares)} free sessions.")
    for day, session_id, found in by_session(spares):
        print(f"{DAY_NAMES[day.weekday()]} {day.isoformat()} {session_id}")
        for row in capacity_rows(found):
            staff_id, name, role, skills, home, employer = row[3:9]
            session_hours, spare, rate, sites = row[9:]
            priced = "no rate" if rate is None else f"£{rate}/h"
            listed = str(skills).replace(";", ", ") or "no skills"
            print(
                f"  {staff_id} {name} ({role}; {listed}), home {home}, "
                f"employer {employer}: {session_hours} h, {spare} h spare, {priced}"
            )
            print(f"      may work at {sites}")
    print("Travel is from home; 'wanted': a need there that the person fits is under its target.")


def cmd_capacity(args: argparse.Namespace) -> int:
    """Unused contracted time of a stored week (its published rota, else its draft)."""
    engine = make_engine(db_url(args))
    try:
        with session_scope(engine) as session:
            week = spare_week(session, network_id_of(session, args.network), args.week)
    finally:
        engine.dispose()
    if week.shown is None:
        print_error(f"No rota for {args.week} yet: run `rotapool solve --week {args.week}` first.")
        return EXIT_FAILED
    spares = spare_capacity(week.bundle, week.dates, week.assignments)
    if args.csv:
        write_csv(Path(args.csv), CAPACITY_HEADER, capacity_rows(spares))
        print(f"Wrote {len(spares)} free sessions of {week.label} to {args.csv}")
    else:
        _print_capacity(week.bundle.name, week.label, week.shown.state, spares)
    return EXIT_OK


def cmd_lending_propose(args: argparse.Namespace) -> int:
    """Propose transfers to the week's short practices (idempotent) and print the open ones."""
    engine = make_engine(db_url(args))
    try:
        with session_scope(engine) as session:
            network_id = network_id_of(session, args.network)
            made = generate(session, network_id, args.week, cli_actor())
            found = [t for t in week_transfers(session, network_id, args.week) if t.open]
            names = {p.staff_id: p.name for p in current_bundle(session, network_id).staff}
    except TransferError as err:
        print_error(f"error: {err}")
        return EXIT_FAILED
    finally:
        engine.dispose()
    print(
        f"Lending proposals for {args.week}: {len(made.added)} new, {len(made.kept)} still open, "
        f"{len(made.withdrawn)} withdrawn."
    )
    for transfer, why in made.withdrawn:
        print(f"  withdrew #{transfer.id}: {why}")
    for transfer in found:
        print(f"  {describe(transfer, names.get(transfer.staff_id, ''))}")
    print(LENDING_HOW)
    return EXIT_OK


LENDING_HOW = (
    "Both practices accept each proposal on the web app's Lending page (rotapool serve); "
    "the second acceptance puts it in the week's draft, which must then be published."
)


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "capacity", help="spare capacity of a stored week: who is free, where, at what cost"
    )
    p.add_argument("--week", required=True, type=iso_week, help="ISO week, e.g. 2026-W49")
    p.add_argument("--csv", metavar="FILE", help="write it as CSV (with a header) instead")
    network_db_args(p)
    p.set_defaults(func=cmd_capacity)
    p = sub.add_parser(
        "lending", help="lending between practices (accepted in the web app)", epilog=LENDING_HOW
    )
    commands = p.add_subparsers(dest="lending_command", required=True)
    p = commands.add_parser(
        "propose",
        help="propose transfers to the week's short practices and print the open proposals",
        epilog=LENDING_HOW,
    )
    p.add_argument("--week", required=True, type=iso_week, help="ISO week, e.g. 2026-W49")
    network_db_args(p)
    p.set_defaults(func=cmd_lending_propose)
