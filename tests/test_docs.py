"""Every command the docs show is run, in the order the page shows it, and must work.

Each page (README.md and docs/*.md) is run in a sandbox of its own: an empty
folder holding links to the project's ``sample_data``, ``.venv`` and
``Makefile`` (and a copy of ``pyproject.toml``); the instance folder is the
default, ``instance/`` in the sandbox, so each page starts with an empty
SQLite database.  No ``ROTAPOOL_*`` setting is set: a page sets the secret
key itself where its commands need one, as a reader must.  Commands are the lines of the page's
``sh`` code blocks; they run one after another, so a page's tour builds on
its own earlier steps (import, then solve, then publish...).  ``export``
lines carry over to the following commands.

A plain ``rotapool ...`` command (no pipe, redirection or variable) runs in
this test process through the console script's own ``main``, in the
sandbox's folder and with exactly the sandbox's environment: the same code
as the installed script, without a second or more of interpreter start-up
each.  Anything with shell syntax runs in ``bash``.

A command must exit 0, or the code written after it as ``# exit N``.  The
servers (``rotapool serve``, ``rotapool demo``, ``make demo``, ``rotapool
scheduler`` without ``--once``, ``rotapool worker``) are started, must come
up (the web app answers its login page; the others stay running), and are
stopped.  ``make test`` is the one command not run here: it is this suite,
and CI runs it.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")])
BLOCK = re.compile(r"^```sh\n(.*?)^```", re.MULTILINE | re.DOTALL)
EXPECTED = re.compile(r"\s+#\s*exit\s+(\d+)\s*$")
LINKED = ("sample_data", ".venv", "Makefile")
NOT_RUN = ("make test",)  # the suite itself; CI runs it
SERVER_UP = 90.0  # seconds a server may take to come up (the demo plans a week first)
COMMAND_TIMEOUT = 300.0
STAYS_UP = 5.0  # seconds a scheduler or worker must keep running to count as started


@dataclass(frozen=True)
class Command:
    page: str
    line: int
    text: str
    expected: int

    def __str__(self) -> str:
        return f"{self.page}:{self.line}: {self.text}"


def page_commands(path: Path, root: Path = ROOT) -> list[Command]:
    """The commands of a page's ``sh`` blocks, continuation lines joined, comments left out."""
    text = path.read_text(encoding="utf-8")
    found = []
    for block in BLOCK.finditer(text):
        first_line = text.count("\n", 0, block.start(1)) + 1
        pending, start = "", 0
        for offset, raw in enumerate(block.group(1).splitlines()):
            line = raw.rstrip()
            if not pending:
                start = first_line + offset
            if line.endswith("\\"):
                pending += line[:-1].strip() + " "
                continue
            whole = (pending + line.strip()).strip()
            pending = ""
            if not whole or whole.startswith("#"):
                continue
            expected = EXPECTED.search(whole)
            code = int(expected.group(1)) if expected else 0
            whole = EXPECTED.sub("", whole)
            whole = re.sub(r"\s+#\s.*$", "", whole)  # a comment after the command
            found.append(Command(path.relative_to(root).as_posix(), start, whole, code))
    return found


def is_server(command: str) -> bool:
    words = shlex.split(command.rsplit("|", maxsplit=1)[-1])
    words = [w for w in words if "=" not in w or w.startswith("-")]  # VAR=value prefixes
    if words[:2] == ["make", "demo"]:
        return True
    if not words or not words[0].endswith("rotapool"):
        return False
    verb = words[1] if len(words) > 1 else ""
    if verb == "demo":
        return "--no-serve" not in words
    if verb == "scheduler":
        return "--once" not in words
    return verb in ("serve", "worker")


def web_port(command: str) -> int | None:
    """The port a web server command listens on; None for processes without HTTP."""
    if "serve" not in command and "demo" not in command:
        return None
    found = re.search(r"--port[ =](\d+)", command)
    return int(found.group(1)) if found else 5000


def answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def port_free(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def run_server(command: Command, cwd: Path, env: dict[str, str]) -> None:
    port = web_port(command.text)
    if port is not None:
        assert port_free(port), f"{command}: port {port} is taken by another program"
    process = subprocess.Popen(
        command.text,
        shell=True,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        started = time.monotonic()
        up = False
        while time.monotonic() - started < SERVER_UP and process.poll() is None:
            # A web server is up when it answers; another process when it keeps running.
            up = answers(port) if port is not None else time.monotonic() - started > STAYS_UP
            if up:
                break
            time.sleep(0.5)
        assert process.poll() is None and up, f"{command}: did not come up"
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
        try:
            output, _ = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            output, _ = process.communicate()
    assert "Traceback" not in output, f"{command}:\n{output[-3000:]}"


def exported(command: Command, cwd: Path, env: dict[str, str]) -> dict[str, str]:
    """The environment after an ``export`` line."""
    done = subprocess.run(
        ["bash", "-c", f"{command.text} && env -0"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, f"{command}: {done.stderr}"
    return dict(item.split("=", 1) for item in done.stdout.split("\0") if "=" in item)


# A page's time limit is what a reader should allow a solve; the test needs a valid rota
# only, so it allows less, but never below the README's own 5 s: at 3 s the solver found
# rotas while seeding and still answered "no valid rota" (issue 21, BENCHMARKS.md).
TEST_TIME_LIMIT = 5
TIME_LIMIT = re.compile(r"--time-limit (\d+(?:\.\d+)?)")


def shortened(text: str) -> str:
    """The command with any ``--time-limit`` above ``TEST_TIME_LIMIT`` brought down to it."""

    def cap(found: re.Match[str]) -> str:
        return f"--time-limit {min(float(found.group(1)), TEST_TIME_LIMIT):g}"

    return TIME_LIMIT.sub(cap, text)


SHELL_SYNTAX = re.compile(r"[|&;<>$`()*?~]")


def in_process(command: Command, cwd: Path, env: dict[str, str]) -> bool:
    """Run a plain ``rotapool`` command through ``scheduler.cli.main.main``; False when the
    command needs a shell (it is then left to ``bash``)."""
    text = shortened(command.text)
    if not text.startswith("rotapool ") or SHELL_SYNTAX.search(text):
        return False
    from scheduler.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        with (
            contextlib.chdir(cwd),
            contextlib.redirect_stdout(out),
            contextlib.redirect_stderr(err),
        ):
            try:
                code = main(shlex.split(text)[1:])
            except SystemExit as stop:  # argparse, and commands that exit on their own
                code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    output = f"{out.getvalue()[-3000:]}\n{err.getvalue()[-3000:]}"
    assert code == command.expected, f"{command}: exit {code}\n{output}"
    return True


def run(command: Command, cwd: Path, env: dict[str, str]) -> dict[str, str]:
    """Run one command; the environment the next one sees."""
    if command.text.startswith("export "):
        return exported(command, cwd, env)
    if is_server(command.text):
        run_server(command, cwd, env)
        return env
    if in_process(command, cwd, env):
        return env
    done = subprocess.run(
        shortened(command.text),
        shell=True,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
    )
    output = f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    assert done.returncode == command.expected, f"{command}: exit {done.returncode}\n{output}"
    assert "Traceback" not in done.stderr, f"{command}:\n{output}"
    return env


def sandbox(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    # The sandbox runs in the project's own virtualenv: it must be installed already.
    assert (ROOT / ".venv" / ".installed").exists(), "run `make install` first"
    for name in LINKED:
        (tmp_path / name).symlink_to(ROOT / name)
    # A copy dated long ago: the sandbox shares the project's virtualenv, which
    # ``make demo`` must take as up to date rather than build again in the sandbox.
    shutil.copyfile(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    os.utime(tmp_path / "pyproject.toml", (0, 0))
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("ROTAPOOL_") and key not in ("DATABASE_URL", "FLASK_DEBUG")
    }
    env.update(
        PATH=f"{ROOT / '.venv' / 'bin'}{os.pathsep}{env.get('PATH', '')}",
    )
    return tmp_path, env


def page_param(page: Path) -> object:
    """The page, kept in one test process with every other page serving on the same port."""
    ports = sorted(
        {port for c in page_commands(page) if is_server(c.text) and (port := web_port(c.text))}
    )
    marks = [pytest.mark.xdist_group(f"port-{ports[0]}")] if ports else []
    return pytest.param(page, marks=marks, id=page.relative_to(ROOT).as_posix())


@pytest.mark.parametrize("page", [page_param(p) for p in PAGES])
def test_every_command_on_the_page_works(page: Path, tmp_path: Path) -> None:
    commands = [c for c in page_commands(page) if not c.text.startswith(NOT_RUN)]
    cwd, env = sandbox(tmp_path)
    for command in commands:
        env = run(command, cwd, env)


def test_the_readme_shows_the_two_commands() -> None:
    texts = [c.text for c in page_commands(ROOT / "README.md")]
    assert "make demo" in texts and "make test" in texts


def test_the_docs_have_commands_to_run() -> None:
    assert len(PAGES) >= 6
    assert sum(len(page_commands(p)) for p in PAGES) >= 30


def test_the_reader_finds_blocks_continuations_comments_and_exit_codes(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "Text `rotapool plan` in prose is not run.\n"
        "```sh\n# a comment\nrotapool plan a \\\n  --week 2026-W49\n"
        "rotapool check a b  # exit 1\n```\n"
        "```text\nrotapool serve\n```\n",
        encoding="utf-8",
    )
    commands = [(c.line, c.text, c.expected) for c in page_commands(page, tmp_path)]
    assert commands == [
        (4, "rotapool plan a --week 2026-W49", 0),
        (6, "rotapool check a b", 1),
    ]


@pytest.mark.parametrize(
    ("command", "server"),
    [
        ("rotapool serve --host 127.0.0.1 --port 5000", True),
        ("rotapool demo --no-serve", False),
        ("rotapool demo", True),
        ("make demo", True),
        ("rotapool scheduler --once", False),
        ("rotapool scheduler", True),
        ("ROTAPOOL_BROKER_URL=redis://127.0.0.1:6379/0 rotapool worker", True),
        ("rotapool plan sample_data/riverside --week 2026-W49 --out out/w49", False),
    ],
)
def test_servers_are_told_from_commands_that_finish(command: str, server: bool) -> None:
    assert is_server(command) is server


# -- configuration.md lists every setting ----------------------------------------------------

# config.get("NAME"...), config["NAME"] (not an assignment), _seconds(config, "NAME"...)
SETTING_READ = re.compile(
    r'(?:config\.get\(|config\[|_seconds\(config, )"([A-Z][A-Z0-9_]+)"(?!\]\s*=[^=])'
)


def settings_read_by_the_code() -> set[str]:
    """Every deployment setting the code reads from the app's settings."""
    found = set()
    for folder in ("scheduler", "web"):
        for path in (ROOT / folder).rglob("*.py"):
            found |= set(SETTING_READ.findall(path.read_text(encoding="utf-8")))
    return found


def test_configuration_lists_every_setting_the_code_reads() -> None:
    page = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    read = settings_read_by_the_code()
    assert {"SECRET_KEY", "BROKER_URL", "VISIBILITY_TIMEOUT", "SMTP_HOST"} <= read
    assert sorted(name for name in read if f"`{name}`" not in page) == []


def test_configuration_lists_every_network_toml_key() -> None:
    from scheduler.bundle import settings

    page = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    keys = {
        "name",
        "timezone",
        "bank_holidays",
        *settings.RULE_PARSERS,
        *settings.WEIGHT_NAMES,
        *settings.ACCESS_KEYS,
        *settings.JOB_KEYS,
    }
    named = set(re.findall(r"`(?:[a-z_]+\.)?([a-z_0-9]+)`", page))
    assert sorted(keys - named) == []


def test_only_longer_time_limits_are_shortened() -> None:
    assert shortened("rotapool solve --week 2026-W49 --time-limit 10") == (
        "rotapool solve --week 2026-W49 --time-limit 5"
    )
    assert shortened("rotapool repair --time-limit 2.5 --week W") == (
        "rotapool repair --time-limit 2.5 --week W"
    )
    assert shortened("rotapool plan x --time-limit 5") == "rotapool plan x --time-limit 5"
    assert shortened("rotapool plan sample_data/tiny") == "rotapool plan sample_data/tiny"
