"""``rotapool scheduler``, ``worker`` and ``jobs list``: the background processes."""

from __future__ import annotations

import argparse

from scheduler.cli.common import (
    EXIT_FAILED,
    EXIT_INPUT,
    EXIT_OK,
    app_settings,
    db_arg,
    db_url,
    print_error,
)
from scheduler.config import ConfigurationError, public_address
from scheduler.jobs.history import job_views, jobs_table
from scheduler.jobs.scheduling import log_to_stderr, run_once, serve, stop_on_signals
from scheduler.jobs.settings import QueueSettingsError, queue_settings
from scheduler.storage.db import (
    make_engine,
    reading,
)
from scheduler.storage.repository import network_id_of
from scheduler.usecases.notices import smtp_settings

# -- scheduled jobs -------------------------------------------------------------------


def cmd_scheduler(args: argparse.Namespace) -> int:
    """Run the network's scheduled jobs: in the foreground, or what is due now (--once)."""
    try:
        queue_settings(app_settings())
        address = public_address(app_settings())
    except (QueueSettingsError, ConfigurationError) as err:
        print_error(f"error: {err}")
        return EXIT_INPUT
    if smtp_settings(app_settings()) is not None and not address.configured:
        print_error(
            f"warning: ROTAPOOL_PUBLIC_HOST is not set: links in e-mails will name "
            f"{address.base}, which opens only on this machine"
        )
    url = db_url(args)
    log_to_stderr()
    engine = make_engine(url)
    try:
        if args.once:
            results = run_once(engine, app_settings())
            for result in results:
                print(result.line())
            print(f"{len(results)} run(s) due.")
            return EXIT_FAILED if any(r.outcome == "failed" for r in results) else EXIT_OK
        serve(engine, app_settings(), stop_on_signals())
    finally:
        engine.dispose()
    return EXIT_OK


def cmd_worker(args: argparse.Namespace) -> int:
    """Take solve jobs from the Redis queue, one at a time, until stopped."""
    from scheduler.jobs import worker  # noqa: PLC0415  (Celery is loaded only by this command)

    try:
        settings = queue_settings(app_settings())
        if settings.broker_url is None:
            raise QueueSettingsError(
                "BROKER_URL: set ROTAPOOL_BROKER_URL to the Redis server the web app and "
                "the scheduler queue solves on (without it they solve in their own process)"
            )
    except QueueSettingsError as err:
        print_error(f"error: {err}")
        return EXIT_INPUT
    log_to_stderr()
    engine = make_engine(db_url(args))
    try:
        worker.run_worker(engine, settings, loglevel=args.loglevel)
    finally:
        engine.dispose()
    return EXIT_OK


def cmd_jobs_list(args: argparse.Namespace) -> int:
    """Each job, its schedule, its next run (Europe/London) and its last run's outcome."""
    engine = make_engine(db_url(args))
    try:
        with reading(engine) as session:
            network_id = None if args.network is None else network_id_of(session, args.network)
            views = job_views(session, network_id)
    finally:
        engine.dispose()
    print("\n".join(jobs_table(views)))
    return EXIT_OK


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "scheduler", help="run the scheduled jobs (exactly one such process; never in the web app)"
    )
    p.add_argument(
        "--once", action="store_true", help="run what is due now, then exit (cron-style use)"
    )
    db_arg(p)
    p.set_defaults(func=cmd_scheduler)
    p = sub.add_parser(
        "worker",
        help="solve queued jobs from Redis (ROTAPOOL_BROKER_URL), one at a time; run N of these",
    )
    p.add_argument("--loglevel", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    db_arg(p)
    p.set_defaults(func=cmd_worker)
    p = sub.add_parser("jobs", help="the scheduled jobs")
    commands = p.add_subparsers(dest="jobs_command", required=True)
    p = commands.add_parser("list", help="each job, its next run and its last run")
    p.add_argument("--network", help="network name (default: every network)")
    db_arg(p)
    p.set_defaults(func=cmd_jobs_list)
