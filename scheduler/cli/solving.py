"""What the commands that plan share: solver options, the progress line, reading a bundle."""

from __future__ import annotations

import argparse
import sys
import time

from scheduler.bundle.cells import BundleError
from scheduler.bundle.reader import read_bundle
from scheduler.bundle.tables import row_caps
from scheduler.cli.common import print_error
from scheduler.config import app_settings
from scheduler.domain import Bundle
from scheduler.usecases.planning import MAX_WEEKS
from solver import Progress, SolveOptions


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


def import_caps() -> dict[str, int] | None:
    """The most rows of each bundle file (``IMPORT_MAX_ROWS``); None, said why, when unusable."""
    try:
        return row_caps(app_settings().get("IMPORT_MAX_ROWS"))
    except ValueError as err:
        print_error(f"error: {err}")
        return None


def load(path: str) -> Bundle | None:
    """Read a bundle, printing every problem; None when it is invalid."""
    caps = import_caps()
    if caps is None:
        return None
    try:
        bundle, warnings = read_bundle(path, caps)
    except BundleError as err:
        print_error(*err.problems)
        print_error(
            f"{len(err.problems)} problem(s) found; nothing was imported. Fix them and run again."
        )
        return None
    print_error(*warnings)
    return bundle


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
