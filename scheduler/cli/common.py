"""What the command groups share: exit codes, common arguments, printing and loading."""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from scheduler.bundle.cells import BundleError
from scheduler.bundle.reader import read_bundle
from scheduler.config import app_settings
from scheduler.domain import Bundle, iso_week_label, parse_iso_week
from scheduler.storage.db import (
    database_url,
    upgrade,
)
from scheduler.storage.feeds import DEFAULT_HOST
from scheduler.storage.repository import network_id_of
from scheduler.usecases import notices
from scheduler.usecases.planning import (
    MAX_WEEKS,
)
from solver import Progress, SolveOptions

EXIT_OK, EXIT_FAILED, EXIT_INPUT, EXIT_CONFLICT = 0, 1, 2, 3
LONDON = "Europe/London"  # whose "today" decides which changes are within 14 days
SAMPLE = Path(__file__).resolve().parents[2] / "sample_data" / "riverside"


def print_error(*lines: object) -> None:
    for line in lines:
        print(line, file=sys.stderr)


class ProgressLine:
    """Shows the best objective and bound while the solver works (at most twice a second)."""

    def __init__(self) -> None:
        self._last = 0.0
        self._tty = sys.stderr.isatty()

    def __call__(self, p: Progress) -> None:
        now = time.monotonic()
        if now - self._last < 0.5:
            return
        self._last = now
        gap = abs(p.objective - p.bound) / max(abs(p.objective), 1e-9) * 100
        text = (
            f"  solving: best {p.objective:,.1f}  bound {p.bound:,.1f}  "
            f"gap {gap:.1f}%  {p.seconds:.1f}s"
        )
        print(
            ("\r" + text) if self._tty else text,
            end="" if self._tty else "\n",
            file=sys.stderr,
            flush=True,
        )

    def done(self) -> None:
        if self._tty and self._last:
            print(file=sys.stderr)


def solve_options_of(args: argparse.Namespace) -> SolveOptions:
    return SolveOptions(time_limit=args.time_limit, workers=args.workers, seed=args.seed)


def load(path: str) -> Bundle | None:
    """Read a bundle, printing every problem; None when it is invalid."""
    try:
        bundle, warnings = read_bundle(path)
    except BundleError as err:
        print_error(*err.problems)
        print_error(
            f"{len(err.problems)} problem(s) found; nothing was imported. Fix them and run again."
        )
        return None
    print_error(*warnings)
    return bundle


def cli_actor() -> str:
    """Who the command line acts as, in the audit log."""
    return f"cli:{getpass.getuser()}"


def tell(engine: Engine, recorded: int, today: dt.date) -> str:
    """E-mail the change notices just recorded when SMTP is set; what was done, in words."""
    config = app_settings()
    smtp = notices.smtp_settings(config)
    if smtp is None:
        return notices.unsent_summary(recorded)
    host = str(config.get("PUBLIC_HOST") or DEFAULT_HOST)
    return notices.deliver_pending(engine, smtp, host, today=today).summary


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


def week_count(text: str) -> int:
    """An argparse type: how many weeks to plan in one horizon, 1 to MAX_WEEKS."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_WEEKS:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of weeks from 1 to {MAX_WEEKS}")
    return value


def weeks_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--weeks",
        type=week_count,
        default=1,
        help=f"plan this many ISO weeks from --week as one horizon (1-{MAX_WEEKS}, default 1)",
    )


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
