"""What the command groups share: exit codes, common arguments, the database, printing.

Kept light (no solver, no bundle reader): every ``rotapool`` command imports
it, and a command loads only its own group's module (``main.COMMANDS``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from scheduler.config import app_settings, public_address
from scheduler.domain import iso_week_label, parse_iso_week
from scheduler.storage.db import (
    DATABASE_ERRORS,
    database_trouble,
    database_url,
    upgrade,
)
from scheduler.storage.repository import network_id_of

EXIT_OK, EXIT_FAILED, EXIT_INPUT, EXIT_CONFLICT, EXIT_BUSY = 0, 1, 2, 3, 4
LONDON = "Europe/London"  # whose "today" decides which changes are within 14 days
SAMPLE = Path(__file__).resolve().parents[2] / "sample_data" / "riverside"


def print_error(*lines: object) -> None:
    for line in lines:
        print(line, file=sys.stderr)


def cli_actor() -> str:
    """Who the command line acts as, in the audit log."""
    return f"cli:{getpass.getuser()}"


def tell(engine: Engine, recorded: int, today: dt.date) -> str:
    """E-mail the change notices just recorded when SMTP is set; what was done, in words."""
    from scheduler.usecases import notices  # noqa: PLC0415 - only the commands that publish

    config = app_settings()
    smtp = notices.smtp_settings(config)
    if smtp is None:
        return notices.unsent_summary(recorded)
    host = public_address(config).host
    try:
        return notices.deliver_pending(engine, smtp, host, today=today).summary
    except DATABASE_ERRORS as err:  # after the commit: what was done stands
        if database_trouble(err) is None:
            raise
        return "change notices recorded but not e-mailed: the database was busy"


def next_week(today: dt.date | None = None) -> str:
    today = today or dt.date.today()
    return iso_week_label(today + dt.timedelta(days=7))


def db_url(args: argparse.Namespace) -> str:

    url = args.database or database_url()
    upgrade(url)
    return url


def network_id_by_name(session: Session, name: str) -> int:
    return network_id_of(session, name)


def iso_week(text: str) -> str:
    """An argparse type: a week such as 2026-W49, normalised, or a clear usage error."""
    try:
        return iso_week_label(parse_iso_week(text)[0])
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from err


# -- parser ---------------------------------------------------------------------------


def solver_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--time-limit", type=float, default=20.0, help="seconds (default 20)")
    p.add_argument("--workers", type=int, default=2, help="CP-SAT workers (default 2)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")


def db_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--database", help="SQLAlchemy URL (default: DATABASE_URL or instance/)")


# -- events and repair -----------------------------------------------------------------


def london_today() -> dt.date:
    return dt.datetime.now(ZoneInfo(LONDON)).date()


def iso_date(text: str) -> dt.date:
    """An argparse type: a date written YYYY-MM-DD."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date such as 2026-12-01") from err


def date_list(text: str) -> list[dt.date]:
    """An argparse type: dates written YYYY-MM-DD, separated by commas."""
    return [iso_date(part.strip()) for part in text.split(",") if part.strip()]


def network_db_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--network", help="network name (default: the only one)")
    db_arg(p)
