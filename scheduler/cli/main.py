"""The ``rotapool`` command line.

One parser; each command group's module (``planning``, ``web``, ``events``, ...)
adds its own commands with ``add_commands``.  A command loads only its own
group's module: ``rotapool absence add`` never loads the solver, so it
answers in a fraction of the time a plan needs.  ``rotapool --help`` (or a
command that does not exist) loads them all.

Exit codes: 0 done (a valid rota, even with shortfalls), 1 a checked rota
breaks hard rules or an operation failed, 2 invalid input, 3 the bundle's
hard rules conflict, 4 the database is busy or cannot be reached (nothing
was changed: try again).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from types import ModuleType

from scheduler.cli.common import EXIT_BUSY, EXIT_INPUT, print_error
from scheduler.storage.db import DATABASE_ERRORS, database_trouble
from scheduler.storage.repository import NetworkLookupError

# Each command and the group module that adds it, in the order of ``rotapool --help``.
COMMANDS: dict[str, str] = {
    "plan": "planning",
    "check": "planning",
    "import": "planning",
    "solve": "planning",
    "export": "planning",
    "publish": "planning",
    "demo": "web",
    "serve": "web",
    "bench": "bench",
    "users": "accounts",
    "feeds": "accounts",
    "absence": "events",
    "demand": "events",
    "repair": "repair",
    "capacity": "lending",
    "lending": "lending",
    "open": "open_sessions",
    "report": "reports",
    "scheduler": "jobs",
    "worker": "jobs",
    "jobs": "jobs",
}


def group(name: str) -> ModuleType:
    """The module of a command group (``scheduler.cli.<name>``)."""
    return importlib.import_module(f"scheduler.cli.{name}")


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser with ``command``'s group only, or with every group when None or unknown."""
    parser = argparse.ArgumentParser(prog="rotapool", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    names = [COMMANDS[command]] if command in COMMANDS else list(dict.fromkeys(COMMANDS.values()))
    for name in names:
        group(name).add_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    command = words[0] if words else None
    args = build_parser(command).parse_args(words)
    try:
        return int(args.func(args))
    except NetworkLookupError as err:
        print_error(f"error: {err}")
        return EXIT_INPUT
    except DATABASE_ERRORS as err:
        trouble = database_trouble(err)
        if trouble is None:
            raise
        print_error(f"error: {trouble}")
        return EXIT_BUSY


if __name__ == "__main__":
    sys.exit(main())
