"""The ``rotapool`` command line.

One parser; each command group's module (``planning``, ``web``, ``events``, ...)
adds its own commands with ``add_commands``.

Exit codes: 0 done (a valid rota, even with shortfalls), 1 a checked rota
breaks hard rules or an operation failed, 2 invalid input, 3 the bundle's
hard rules conflict.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from scheduler.cli import accounts, bench, events, jobs, lending, planning, reports, web
from scheduler.cli.common import EXIT_INPUT, print_error
from scheduler.storage.repository import NetworkLookupError

# The order of ``rotapool --help``: planning first, then the app, then the rest.
GROUPS = (planning, web, bench, accounts, events, lending, reports, jobs)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rotapool", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for group in GROUPS:
        group.add_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except NetworkLookupError as err:
        print_error(f"error: {err}")
        return EXIT_INPUT


if __name__ == "__main__":
    sys.exit(main())
