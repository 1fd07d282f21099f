"""``rotapool serve`` and ``rotapool demo``: the web app, started from the command line.

The command line sits beside the web app, not above it: ``scheduler`` never
imports ``web``.  The web package declares its application factory as the
``rotapool.web`` entry point (``pyproject.toml``) and these commands load it
by that name, so the arrows between the packages point one way.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import secrets
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any

import waitress

from scheduler.cli.common import (
    EXIT_INPUT,
    EXIT_OK,
    SAMPLE,
    db_arg,
    db_url,
    iso_week,
    next_week,
    print_error,
    solver_args,
)
from scheduler.cli.planning import cmd_export, cmd_solve
from scheduler.config import ConfigurationError, app_settings, public_address
from scheduler.storage.db import make_engine, session_scope
from scheduler.usecases.accounts import AccountError, add_user, set_password
from scheduler.usecases.importing import import_bundle

DEMO_MANAGER = "manager@demo.rotapool.test"
WILDCARD_HOSTS = ("0.0.0.0", "::", "")
WEB_APP = "rotapool.web"  # the entry-point group naming the web app's factory


def web_app_factory() -> Callable[[dict[str, Any]], Any]:
    """``web.create_app``, found through its entry point.

    A checkout run without being installed (on ``PYTHONPATH``) has no entry
    points: the ``web`` package beside this one is loaded by name instead.
    """
    found = entry_points(group=WEB_APP, name="create_app")
    if found:
        factory: Callable[[dict[str, Any]], Any] = next(iter(found)).load()
        return factory
    try:
        web = importlib.import_module("web")
    except ImportError:
        raise ConfigurationError(
            "the rotapool web app is not installed: run `make install` (pip install -e .)"
        ) from None
    loaded: Callable[[dict[str, Any]], Any] = web.create_app
    return loaded


def cmd_demo(args: argparse.Namespace) -> int:
    week = args.week or next_week()
    try:
        address = served_address(args)  # before the work: a bad setting is said at once
    except ConfigurationError as err:
        print_error(f"error: {err}")
        return EXIT_INPUT
    print(f"Importing the sample network from {SAMPLE} ...")
    import_bundle(args.database, str(SAMPLE))
    args.network = None
    args.week = week
    code = cmd_solve(args)
    if code != EXIT_OK:
        return code
    args.out = args.out or "out/demo"
    code = cmd_export(args)
    if code != EXIT_OK or args.no_serve:
        return code
    password = demo_account(db_url(args))
    print(f"Log in as {DEMO_MANAGER} with the password {password} (new for every demo run).")
    # The demo runs on the user's own machine: a throwaway per-run secret is fine there,
    # whereas `rotapool serve` insists on a configured one.
    return serve(args, {"SECRET_KEY": secrets.token_hex(32), **address})


def served_address(args: argparse.Namespace) -> dict[str, str]:
    """The demo's public address: the one it serves on (plain http), unless one is configured.

    Calendar links then open on the demo server.  A wildcard address (0.0.0.0)
    names no machine: links are then taken from each request instead.
    """
    if public_address(app_settings()).configured or args.host in WILDCARD_HOSTS:
        return {}
    host = f"[{args.host}]" if ":" in args.host else args.host
    return {"PUBLIC_HOST": f"{host}:{args.port}", "PUBLIC_SCHEME": "http"}


# The oldest generation is collected a tenth as often as Python's default (10).
FULL_COLLECTION_EVERY = 100


def settle_for_serving() -> None:
    """Keep the garbage collector from pausing requests of a long-running server.

    A server holds large, long-lived caches (imported bundles, indexed rotas,
    rendered boards); each full collection walks all of them, which showed as
    100-170 ms pauses on one edit in seven on the 60-practice federation.  What
    start-up made is frozen out of the collector's sight, and full collections
    are made rarer; cyclic garbage is still collected.
    """
    gc.collect()
    gc.freeze()
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, FULL_COLLECTION_EVERY)


def cmd_serve(args: argparse.Namespace) -> int:
    return serve(args, {})


def serve(args: argparse.Namespace, config: dict[str, Any]) -> int:
    """Serve through waitress, a production WSGI server, after migrating the database."""
    config["DATABASE_URL"] = db_url(args)
    try:
        app = web_app_factory()(config)
    except ConfigurationError as err:
        print_error(f"error: {err}")
        return EXIT_INPUT
    settle_for_serving()
    print(f"Serving on http://{args.host}:{args.port}/ (Ctrl+C to stop)")
    # Calendar apps keep connections open: allow more than waitress's default 100.
    waitress.serve(app, host=args.host, port=args.port, threads=args.threads, connection_limit=400)
    return EXIT_OK


def demo_account(url: str) -> str:
    """The demo's manager account, with a fresh password for this run; returns the password."""
    password = secrets.token_urlsafe(12)
    engine = make_engine(url)
    try:
        with session_scope(engine) as session:
            try:
                set_password(session, DEMO_MANAGER, password)
            except AccountError:
                add_user(session, DEMO_MANAGER, password, "manager")
    finally:
        engine.dispose()
    return password


def serve_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=5000)
    p.add_argument("--threads", type=int, default=8, help="request threads (default 8)")


def add_commands(sub: argparse._SubParsersAction) -> None:
    """demo and serve."""
    p = sub.add_parser("demo", help="sample network: plan next week, then serve the web app")
    p.add_argument("--week", type=iso_week, help="ISO week (default: next week)")
    p.add_argument("--out", help="export folder (default out/demo)")
    p.add_argument("--no-serve", action="store_true", help="stop after planning")
    serve_args(p)
    db_arg(p)
    solver_args(p)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("serve", help="serve the web app (waitress; needs a SECRET_KEY)")
    serve_args(p)
    db_arg(p)
    p.set_defaults(func=cmd_serve)
