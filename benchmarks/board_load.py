"""Load benchmark of the week board: many signed-in managers on one network's week at once.

It imports a network (``sample_data/riverside`` by default, or the generated
federation with ``--practices N``), plans ``benchmarks.web_render.WEEK`` and
saves it as a draft, as ``rotapool solve`` does.  Then it serves the app with
waitress (as ``rotapool serve`` does, garbage-collector settings included) in
a subprocess, signs in once through the real login form, and drives
``--connections`` concurrent keep-alive clients carrying that session for
``--duration`` seconds, closed loop (each client asks again as soon as it has
its answer), in two rounds:

- ``board``: the week board, the page a manager keeps open;
- ``board and panels``: the board and the side panels of its cells in turn,
  as htmx asks for them (the panels are not remembered whole: each is built
  from the indexed rota for its cell).

In a closed loop the latency of N clients is about N / throughput (Little's
law): p99 under 1 s with 50 clients needs more than 50 answers a second from
one Python process on 2 cores, which also run the load generator.

Load comes from ``wrk`` (``apt-get install wrk``) when it is installed, else
from ``benchmarks.feed_load``'s asyncio generator (a lower bound: it competes
for the same cores).

Usage::

    python -m benchmarks.board_load --practices 60 --connections 50 --duration 20

The target of the issue is p99 under 1 s with 50 clients; the script exits 1
when a round misses it or any request fails.
"""

from __future__ import annotations

import argparse
import http.client
import re
import secrets
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlencode

from benchmarks.feed_load import (
    RIVERSIDE,
    Load,
    Round,
    python_round,
    start_server,
    wrk_round,
)
from benchmarks.generate import write_network
from benchmarks.web_render import MANAGER, PASSWORD, TOKEN, WEEK, seed_database
from solver import SolveOptions

TARGET_P99_MS = 1000.0
CELL = re.compile(r'hx-get="([^"]*/board/cell\?[^"]+)"')
PANELS = 40  # distinct cells the second round rotates over


def exchange(
    port: int, method: str, path: str, headers: dict[str, str], body: str = ""
) -> tuple[int, http.client.HTTPResponse, str]:
    """One request: (status, response, body text)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(method, path, body=body or None, headers=headers)
        response = connection.getresponse()
        return response.status, response, response.read().decode()
    finally:
        connection.close()


def session_cookie(response: http.client.HTTPResponse) -> str:
    """The ``name=value`` of the session cookie the response sets."""
    for header in response.headers.get_all("Set-Cookie") or ():
        name_value = header.split(";", 1)[0]
        if name_value.startswith("session="):
            return name_value
    raise SystemExit("the server set no session cookie")


def sign_in(port: int) -> str:
    """Sign in through the login form (with its CSRF token); the session cookie."""
    status, response, page = exchange(port, "GET", "/login", {})
    token = TOKEN.search(page)
    if status != 200 or token is None:
        raise SystemExit(f"the login page answered HTTP {status} without a CSRF token")
    form = urlencode({"email": MANAGER, "password": PASSWORD, "csrf_token": token.group(1)})
    headers = {
        "Cookie": session_cookie(response),
        "Content-Type": "application/x-www-form-urlencoded",
    }
    status, response, _ = exchange(port, "POST", "/login", headers, form)
    if status != 302:
        raise SystemExit(f"signing in answered HTTP {status}")
    return session_cookie(response)


def first_answers(port: int, cookie: str, board: str) -> tuple[float, list[str]]:
    """The board's first render (ms, caches empty) and the panel paths of its first cells."""
    started = time.perf_counter()
    status, _, page = exchange(port, "GET", board, {"Cookie": cookie})
    first = (time.perf_counter() - started) * 1000
    if status != 200:
        raise SystemExit(f"the board answered HTTP {status}")
    panels = [path.replace("&amp;", "&") for path in CELL.findall(page)][:PANELS]
    if not panels:
        raise SystemExit("the board links no cell")
    return first, panels


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--practices", type=int, default=0, help="generated federation (0: riverside)"
    )
    parser.add_argument("--time-limit", type=float, default=30.0, help="solver seconds")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--threads", type=int, default=8, help="waitress request threads")
    parser.add_argument("--connection-limit", type=int, default=400)
    parser.add_argument("--connections", type=int, default=50, help="concurrent clients")
    parser.add_argument("--duration", type=int, default=20, help="seconds per round")
    parser.add_argument("--wrk-threads", type=int, default=1)
    parser.add_argument("--tool", choices=("auto", "wrk", "python"), default="auto")
    return parser.parse_args(argv)


def report(loads: Sequence[Load], first: float, tool: str, heading: str) -> None:
    print(f"\n{heading}; the board's first render {first:.0f} ms; load from {tool}")
    print("| round | requests | req/s | p50 ms | p99 ms | max ms | errors |")
    print("|---|---|---|---|---|---|---|")
    for load in loads:
        print(
            f"| {load.name} | {load.requests} | {load.rate:.0f} "
            f"| {load.p50_ms:.0f} | {load.p99_ms:.0f} | {load.max_ms:.0f} | {load.errors} |"
        )


def main(argv: Sequence[str] | None = None) -> int:
    """Seed, serve, sign in, load; print the table. Exit 1 if a round misses the target."""
    args = parse_args(argv)
    tool = (
        "wrk" if args.tool == "wrk" or (args.tool == "auto" and shutil.which("wrk")) else "python"
    )
    run = wrk_round if tool == "wrk" else python_round
    secret = secrets.token_hex(32)
    options = SolveOptions(time_limit=args.time_limit, workers=args.workers, seed=args.seed)
    with tempfile.TemporaryDirectory(prefix="rotapool-board-bench-") as tmp:
        folder = Path(tmp)
        bundle_dir = RIVERSIDE
        if args.practices:
            bundle_dir = folder / "bundle"
            write_network(bundle_dir, args.practices, args.seed, WEEK)
        url, network_id = seed_database(folder, bundle_dir, options)
        server = start_server(url, secret, args, folder / "server.log")
        try:
            cookie = sign_in(args.port)
            board = f"/n/{network_id}/weeks/{WEEK}/board"
            first, panels = first_answers(args.port, cookie, board)
            signed_in = (("Cookie", cookie),)
            htmx = (*signed_in, ("HX-Request", "true"))
            mixed = tuple(path for cell in panels for path in (board, cell))
            rounds = [
                Round("board", (board,), headers=signed_in),
                Round("board and panels", mixed, headers=htmx),
            ]
            loads = [run(spec, args) for spec in rounds]
        finally:
            server.terminate()
            server.wait(timeout=30)
    network = f"{args.practices}-practice federation" if args.practices else "riverside sample"
    report(loads, first, tool, f"{network}, {args.connections} clients, {args.duration} s")
    return 0 if all(load.p99_ms < TARGET_P99_MS and not load.errors for load in loads) else 1


if __name__ == "__main__":
    sys.exit(main())
