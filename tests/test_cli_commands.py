"""The command table: every command is there, and a command loads only its own group."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from scheduler.cli.main import COMMANDS, build_parser


def commands_of(parser: argparse.ArgumentParser) -> list[str]:
    (sub,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return list(sub.choices)


def test_the_table_holds_every_command_in_the_order_of_the_help() -> None:
    assert commands_of(build_parser()) == list(COMMANDS)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_commands_own_parser_knows_it(command: str) -> None:
    assert command in commands_of(build_parser(command))


LOADED = (
    "import sys; from scheduler.cli.main import build_parser; build_parser({command!r}); "
    "print(' '.join(sorted(m for m in ('ortools', 'pandas', 'flask') if m in sys.modules)))"
)


@pytest.mark.parametrize(
    ("command", "loaded"),
    [("absence", ""), ("feeds", ""), ("report", ""), ("plan", "ortools pandas")],
)
def test_a_command_loads_only_what_its_group_needs(command: str, loaded: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", LOADED.format(command=command)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == loaded
