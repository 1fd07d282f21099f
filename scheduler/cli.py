"""The ``rotapool`` command line.

Exit codes: 0 done (a valid rota, even with shortfalls), 1 a checked rota
breaks hard rules or an operation failed, 2 invalid input, 3 the bundle's
hard rules conflict.
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import secrets
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

import waitress
from flask import Config
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from scheduler import audit, events, feeds, jobs, notices, repair, scheduling
from scheduler.accounts import AccountError, add_user, set_password
from scheduler.bench.curtois_format import CurtoisFormatError
from scheduler.bench.curtois_map import UnsupportedInstanceError
from scheduler.bench.curtois_run import SUMMARY, BenchmarkCheckError, BenchRow, run_all
from scheduler.capacity import CAPACITY_HEADER, Spare, by_session, capacity_rows, spare_capacity
from scheduler.domain import DAY_NAMES, Assignment, Bundle, iso_week_label, parse_iso_week
from scheduler.events import network_bundle
from scheduler.exports import write_csv, write_exports
from scheduler.importer import BundleError, read_bundle
from scheduler.lending import TransferError, describe, generate, spare_week, week_transfers
from scheduler.planning import (
    MAX_WEEKS,
    InvalidRotaError,
    PlanOutcome,
    plan_week,
    save_draft,
    write_plan,
)
from scheduler.publishing import PublishError, RotaBreaksRulesError, publish_week
from scheduler.repair import RepairOutcome
from scheduler.reports import ea, fairness, ledger
from scheduler.reports.fairness import with_fairness_balance
from scheduler.requests import RequestError, RequestNotFoundError
from scheduler.rota_csv import RotaFileError, read_rota_csv
from scheduler.storage.db import (
    database_url,
    instance_folder,
    make_engine,
    session_scope,
    upgrade,
)
from scheduler.storage.models import USER_ROLES
from scheduler.storage.repository import (
    NetworkLookupError,
    load_bundle,
    load_rota,
    network_id_of,
    save_bundle,
)
from scheduler.usecases import import_bundle
from scheduler.validator import check_rota
from solver import Progress, SolveOptions, SolveStatus
from web import ConfigurationError, create_app

EXIT_OK, EXIT_FAILED, EXIT_INPUT, EXIT_CONFLICT = 0, 1, 2, 3
LONDON = "Europe/London"  # whose "today" decides which changes are within 14 days
SAMPLE = Path(__file__).resolve().parent.parent / "sample_data" / "riverside"


def _err(*lines: object) -> None:
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


def _options(args: argparse.Namespace) -> SolveOptions:
    return SolveOptions(time_limit=args.time_limit, workers=args.workers, seed=args.seed)


def _load(path: str) -> Bundle | None:
    """Read a bundle, printing every problem; None when it is invalid."""
    try:
        bundle, warnings = read_bundle(path)
    except BundleError as err:
        _err(*err.problems)
        _err(f"{len(err.problems)} problem(s) found; nothing was imported. Fix them and run again.")
        return None
    _err(*warnings)
    return bundle


def _solve(bundle: Bundle, week: str, args: argparse.Namespace) -> PlanOutcome | int:
    progress = ProgressLine()
    try:
        outcome = plan_week(bundle, week, _options(args), progress, weeks=getattr(args, "weeks", 1))
    except InvalidRotaError as err:
        _err(str(err))
        return EXIT_FAILED
    finally:
        progress.done()
    status = outcome.result.status
    if status is SolveStatus.CONFLICT:
        _err("The bundle's hard rules cannot all hold in this plan. These rows conflict:")
        _err(*(f"  {c}" for c in outcome.result.conflicts))
        _err("Change one of them (or remove a pinned row) and plan again. No rota was written.")
        return EXIT_CONFLICT
    if status is SolveStatus.NO_SOLUTION:
        _err(outcome.result.message)
        return EXIT_FAILED
    return outcome


def _weeks_word(outcome: PlanOutcome) -> str:
    return "Week" if len(outcome.weeks) == 1 else "Weeks"


def print_summary(outcome: PlanOutcome) -> None:
    s = outcome.summary()
    r = outcome.result
    print(
        f"{_weeks_word(outcome)} {outcome.label}: {r.status.value}, "
        f"{len(r.assignments)} sessions assigned, "
        f"objective {r.objective or 0:,.2f} (bound {r.bound or 0:,.2f}, "
        f"gap {(r.gap or 0) * 100:.2f}%), {r.seconds:.1f}s"
    )
    print(
        f"Minimum cover {s['min_cover_pct']}%, target cover {s['target_cover_pct']}%, "
        f"{s['shortfall']} people short of minimum."
    )
    for note in outcome.notes:
        print(f"  SHORT {note.headline}")
        for number, option in enumerate(note.shown_options, start=1):
            print(f"        {number}. {option.text}")
        if note.more_options:
            print(f"        ... and {note.more_options} more ways (shortfalls.csv)")


# -- commands -------------------------------------------------------------------


def cmd_plan(args: argparse.Namespace) -> int:
    bundle = _load(args.bundle)
    if bundle is None:
        return EXIT_INPUT
    with tempfile.TemporaryDirectory(prefix="rotapool-") as tmp:
        bundle = _through_throwaway_db(bundle, Path(tmp))
        outcome = _solve(bundle, args.week, args)
    if isinstance(outcome, int):
        return outcome
    paths = write_plan(Path(args.out), bundle, outcome)
    print_summary(outcome)
    print(f"Wrote {', '.join(p.name for p in paths)} to {args.out}")
    return EXIT_OK


def _through_throwaway_db(bundle: Bundle, tmp: Path) -> Bundle:
    """Import into a scratch SQLite database and plan from what was stored, as the app does."""

    url = f"sqlite:///{tmp / 'plan.sqlite'}"
    upgrade(url)
    engine = make_engine(url)
    try:
        with session_scope(engine) as session:
            save_bundle(session, bundle)
        with session_scope(engine) as session:
            return load_bundle(session, bundle.name)
    finally:
        engine.dispose()


def cmd_check(args: argparse.Namespace) -> int:
    bundle = _load(args.bundle)
    if bundle is None:
        return EXIT_INPUT
    try:
        assignments = read_rota_csv(Path(args.rota))
    except RotaFileError as err:
        _err(*err.problems)
        return EXIT_INPUT
    weeks = sorted({iso_week_label(a.date) for a in assignments} | set(args.week or []))
    # All weeks in one check, so rest between a Sunday and the next Monday is checked too;
    # weekly limits still apply per ISO week.
    dates = sorted({day for week in weeks for day in parse_iso_week(week)})
    report = check_rota(bundle, dates, assignments)
    for v in report.violations:
        print(f"{v.label} [{v.rule_id}]: {v.message}")
    print(
        f"{', '.join(weeks) or 'no week'}: {len(assignments)} assignments checked, "
        f"{len(report.violations)} hard-rule violation(s), "
        f"{report.shortfall} people short of minimum."
    )
    return EXIT_OK if report.ok else EXIT_FAILED


def cmd_import(args: argparse.Namespace) -> int:
    try:
        network_id, warnings = import_bundle(args.database, args.bundle)
    except BundleError as err:
        _err(*err.problems)
        _err(f"{len(err.problems)} problem(s) found; the database was not changed.")
        return EXIT_INPUT
    _err(*warnings)
    print(f"Imported {args.bundle} as network {network_id}.")
    return EXIT_OK


def cmd_solve(args: argparse.Namespace) -> int:
    engine = make_engine(_db_url(args))
    try:
        with session_scope(engine) as session:
            network_id = network_id_of(session, args.network)
            bundle = network_bundle(session, network_id)
            bundle = with_fairness_balance(session, network_id, bundle, args.week)
        outcome = _solve(bundle, args.week, args)
        if isinstance(outcome, int):
            return outcome
        with session_scope(engine) as session:  # every week of the horizon, or none
            network_id = _network_id(session, bundle.name)
            s = outcome.summary()
            saved = [
                save_draft(
                    session,
                    network_id,
                    week,
                    outcome.assignments_in(week),
                    result=outcome.result,
                    summary=s,
                )
                for week in outcome.weeks
            ]
    finally:
        engine.dispose()
    print_summary(outcome)
    for rota_id, week in zip(saved, outcome.weeks, strict=True):
        print(f"Saved as draft rota {rota_id} for {week}.")
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    engine = make_engine(_db_url(args))
    try:
        with session_scope(engine) as session:
            bundle = network_bundle(session, network_id_of(session, args.network))
            found = load_rota(session, _network_id(session, bundle.name), args.week, "latest")
    finally:
        engine.dispose()
    if found is None:
        _err(f"No rota for {args.week} yet: run `rotapool solve --week {args.week}` first.")
        return EXIT_FAILED
    assignments: Sequence[Assignment] = found[1]
    dates = parse_iso_week(args.week)
    report = check_rota(bundle, dates, assignments)
    if not report.ok:
        _err(f"The stored rota for {args.week} no longer meets the hard rules of the network:")
        _err(*(f"  {v.label}: {v.message}" for v in report.violations))
        _err(f"Nothing was exported. Plan the week again: rotapool solve --week {args.week}")
        return EXIT_FAILED
    paths = write_exports(Path(args.out), bundle, dates, assignments, report.coverage)
    print(f"Wrote {', '.join(p.name for p in paths)} to {args.out}")
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    week = args.week or next_week()
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
    password = demo_account(_db_url(args))
    print(f"Log in as {DEMO_MANAGER} with the password {password} (new for every demo run).")
    # The demo runs on the user's own machine: a throwaway per-run secret is fine there,
    # whereas `rotapool serve` insists on a configured one.
    return _serve(args, {"SECRET_KEY": secrets.token_hex(32)})


def cmd_bench_curtois(args: argparse.Namespace) -> int:
    paths = [Path(f) for f in args.files]
    missing = [p for p in paths if not p.is_file()]
    if missing:
        _err(
            *(
                f"{p}: not found; give Curtois-Qu instance files such as Instance1.txt"
                for p in missing
            )
        )
        return EXIT_INPUT
    options = SolveOptions(time_limit=args.time_limit, workers=args.workers, seed=args.seed)
    best = Path(args.best_known) if args.best_known else None

    def report(row: BenchRow) -> None:
        if row.objective is None:
            print(f"{row.instance}: no roster within the time limit ({row.seconds:.1f}s)")
            return
        ratio = f", {row.ratio_to_best:.4f} x best known" if row.ratio_to_best else ""
        print(
            f"{row.instance}: {row.objective} (bound {row.lower_bound}{ratio}), "
            f"{row.status}, {row.seconds:.1f}s"
        )

    try:
        rows = run_all(paths, options, Path(args.out), best, report)
    except CurtoisFormatError as err:
        _err(str(err))
        return EXIT_INPUT
    except (BenchmarkCheckError, UnsupportedInstanceError) as err:
        _err(f"error: {err}")
        return EXIT_FAILED
    print(f"Wrote {Path(args.out) / SUMMARY}")
    unsolved = [row.instance for row in rows if row.objective is None]
    if unsolved:
        _err(f"No roster within {args.time_limit:g} s for: {', '.join(unsolved)}; allow more time.")
        return EXIT_FAILED
    return EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    return _serve(args, {})


def _serve(args: argparse.Namespace, config: dict[str, object]) -> int:
    """Serve through waitress, a production WSGI server, after migrating the database."""
    config["DATABASE_URL"] = _db_url(args)
    try:
        app = create_app(config)
    except ConfigurationError as err:
        _err(f"error: {err}")
        return EXIT_INPUT
    print(f"Serving on http://{args.host}:{args.port}/ (Ctrl+C to stop)")
    # Calendar apps keep connections open: allow more than waitress's default 100.
    waitress.serve(app, host=args.host, port=args.port, threads=args.threads, connection_limit=400)
    return EXIT_OK


def cmd_publish(args: argparse.Namespace) -> int:
    """Publish the week's current draft, exactly as the web app's Publish button does.

    Changed sessions in the next 14 days become change notices, e-mailed
    when SMTP is configured (the web app's settings: ``ROTAPOOL_SMTP_*``).
    """
    today = dt.datetime.now(ZoneInfo(LONDON)).date()
    engine = make_engine(_db_url(args))
    try:
        with session_scope(engine) as session:
            network_id = network_id_of(session, args.network)
            published = publish_week(session, network_id, args.week, _actor())
            recorded = notices.record_notices(session, notices.notifiable(published), today)
        told = _tell(engine, len(recorded), today)
    except RotaBreaksRulesError as err:
        _err(f"error: {err}", *(f"  {v.label}: {v.message}" for v in err.violations))
        return EXIT_FAILED
    except PublishError as err:
        _err(f"error: {err}")
        return EXIT_FAILED
    finally:
        engine.dispose()
    print(f"Published {published.week} as version {published.version} (rota {published.rota_id}).")
    if told:
        print(told)
    return EXIT_OK


def _actor() -> str:
    """Who the command line acts as, in the audit log."""
    return f"cli:{getpass.getuser()}"


def _tell(engine: Engine, recorded: int, today: dt.date) -> str:
    """E-mail the change notices just recorded when SMTP is set; what was done, in words."""
    config = _settings()
    smtp = notices.smtp_settings(config)
    if smtp is None:
        return notices.unsent_summary(recorded)
    host = str(config.get("PUBLIC_HOST") or feeds.DEFAULT_HOST)
    return notices.deliver_pending(engine, smtp, host, today=today).summary


def _settings() -> Config:
    """The web app's settings without building the app: the instance file, then ROTAPOOL_*."""
    config = Config(str(instance_folder()))
    config.from_pyfile("config.py", silent=True)
    config.from_prefixed_env("ROTAPOOL")
    return config


def cmd_users_add(args: argparse.Namespace) -> int:
    if not args.password_stdin:
        _err("error: give the password on standard input with --password-stdin")
        return EXIT_INPUT
    password = sys.stdin.readline().rstrip("\n")
    engine = make_engine(_db_url(args))
    try:
        with session_scope(engine) as session:
            network_id = None
            if args.network or args.role != "manager":
                network_id = network_id_of(session, args.network)
            user = add_user(
                session,
                args.email,
                password,
                args.role,
                network_id=network_id,
                staff_id=args.staff_id,
                site_id=args.site_id,
            )
            audit.record(
                session,
                f"cli:{getpass.getuser()}",
                "user added",
                user.email,
                network_id=network_id,
                after={"role": user.role, "staff_id": user.staff_id, "site_id": user.site_id},
            )
    except AccountError as err:
        _err(f"error: --{err.field.replace('_', '-')}: {err.message}")
        return EXIT_INPUT
    finally:
        engine.dispose()
    scope = "every network" if network_id is None else f"network {network_id}"
    print(f"Added {user.role} account {user.email} ({scope}).")
    return EXIT_OK


# -- calendar feed links ----------------------------------------------------------


class MissingSecretError(RuntimeError):
    """Feed links cannot be shown or made without the web app's secret key."""


def feed_settings() -> tuple[str | bytes, str]:
    """The web app's secret key and public host, from the same layers the app reads.

    Defaults, the instance folder's ``config.py``, then ``ROTAPOOL_*``
    variables: a link printed here is the link the app serves.  Production
    mode is forced, so a debug setting never substitutes a throwaway key.
    """
    try:
        app = create_app({"TESTING": False, "DEBUG": False})
    except ConfigurationError as err:
        raise MissingSecretError(
            "ROTAPOOL_SECRET_KEY is not set; feed links are derived from the web app's "
            "secret key. Set ROTAPOOL_SECRET_KEY (or SECRET_KEY in the instance folder's "
            "config.py) to the key the web app uses, and run again."
        ) from err
    return app.config["SECRET_KEY"], str(app.config.get("PUBLIC_HOST") or feeds.DEFAULT_HOST)


def _print_links(host: str, token: str) -> None:
    https, webcal = feeds.feed_urls(host, token)
    print(f"  {https}")
    print(f"  {webcal}")


def _audit_feed(session: Session, network_id: int, staff_id: str, action: str) -> None:
    """An audit entry for a link change: who and whose link, never the token."""
    audit.record(
        session,
        f"cli:{getpass.getuser()}",
        action,
        f"calendar feed of staff {staff_id}",
        network_id=network_id,
        after={"kind": "staff", "subject": staff_id},
    )


def _feed_url(session: Session, network_id: int, staff_id: str, secret: str | bytes) -> str:
    """The person's working link, issuing one (and saying so) when there is none."""
    feeds.check_subject(session, network_id, "staff", staff_id)
    token = feeds.current_token(session, network_id, "staff", staff_id, secret)
    if token is None:
        token = feeds.issue_token(session, network_id, "staff", staff_id, secret)
        _audit_feed(session, network_id, staff_id, "feed link issued")
        print(f"{staff_id} had no working calendar link: issued a new one.")
    return token


def _feed_rotate(session: Session, network_id: int, staff_id: str, secret: str | bytes) -> str:
    """A new link for the person; the old one stops working."""
    token = feeds.issue_token(session, network_id, "staff", staff_id, secret)
    _audit_feed(session, network_id, staff_id, "feed link rotated")
    print(f"Replaced the calendar link of {staff_id}; the old link no longer works.")
    return token


def cmd_feeds_link(args: argparse.Namespace) -> int:
    """``feeds url`` and ``feeds rotate``: print the person's https:// and webcal:// links."""
    try:
        secret, host = feed_settings()
    except MissingSecretError as err:
        _err(f"error: {err}")
        return EXIT_INPUT
    action = _feed_rotate if args.feeds_command == "rotate" else _feed_url
    engine = make_engine(_db_url(args))
    try:
        with session_scope(engine) as session:
            network_id = network_id_of(session, args.network)
            token = action(session, network_id, args.staff_id, secret)
    except feeds.FeedSubjectError as err:
        _err(f"error: STAFF_ID: {err}")
        return EXIT_INPUT
    finally:
        engine.dispose()
    print(f"Calendar links of {args.staff_id} (subscribe with either):")
    _print_links(host, token)
    return EXIT_OK


def cmd_feeds_revoke(args: argparse.Namespace) -> int:
    """``feeds revoke``: the person's link stops working; no new one is made."""
    engine = make_engine(_db_url(args))
    try:
        with session_scope(engine) as session:
            network_id = network_id_of(session, args.network)
            revoked = feeds.revoke_token(session, network_id, "staff", args.staff_id)
            if revoked:
                _audit_feed(session, network_id, args.staff_id, "feed link revoked")
            else:
                feeds.check_subject(session, network_id, "staff", args.staff_id)
    except feeds.FeedSubjectError as err:
        _err(f"error: STAFF_ID: {err}")
        return EXIT_INPUT
    finally:
        engine.dispose()
    if revoked:
        print(f"Revoked the calendar link of {args.staff_id}.")
    else:
        print(f"{args.staff_id} had no active calendar link; nothing changed.")
    return EXIT_OK


DEMO_MANAGER = "manager@demo.rotapool.test"


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


def next_week(today: dt.date | None = None) -> str:
    today = today or dt.date.today()
    return iso_week_label(today + dt.timedelta(days=7))


def _db_url(args: argparse.Namespace) -> str:

    url = args.database or database_url()
    upgrade(url)
    return url


def _network_id(session: Session, name: str) -> int:
    return network_id_of(session, name)


def iso_week(text: str) -> str:
    """An argparse type: a week such as 2026-W49, normalised, or a clear usage error."""
    try:
        return iso_week_label(parse_iso_week(text)[0])
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from err


# -- parser ---------------------------------------------------------------------------


def _solver_args(p: argparse.ArgumentParser) -> None:
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


def _weeks_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--weeks",
        type=week_count,
        default=1,
        help=f"plan this many ISO weeks from --week as one horizon (1-{MAX_WEEKS}, default 1)",
    )


def _db_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--database", help="SQLAlchemy URL (default: DATABASE_URL or instance/)")


def _bench_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="run a public benchmark through the product's solver")
    bench = p.add_subparsers(dest="benchmark", required=True)
    p = bench.add_parser("curtois", help="Curtois-Qu nurse rostering instances (.txt)")
    p.add_argument("files", nargs="+", help="instance files, e.g. Instance1.txt")
    p.add_argument("--time-limit", type=float, default=60.0, help="seconds each (default 60)")
    p.add_argument("--workers", type=int, default=2, help="CP-SAT workers (default 2)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--out", required=True, help="folder for <Instance>.csv and summary.csv")
    p.add_argument("--best-known", help="best_known.csv (default: beside the instances folder)")
    p.set_defaults(func=cmd_bench_curtois)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rotapool", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("plan", help="import a bundle, plan a week, write CSV/XLSX")
    p.add_argument("bundle")
    p.add_argument("--week", required=True, type=iso_week, help="ISO week, e.g. 2026-W49")
    _weeks_arg(p)
    p.add_argument("--out", required=True, help="output folder")
    _solver_args(p)
    p.set_defaults(func=cmd_plan)

    p = sub.add_parser("check", help="check a rota.csv against a bundle's hard rules")
    p.add_argument("bundle")
    p.add_argument("rota")
    p.add_argument(
        "--week", action="append", type=iso_week, help="also check this ISO week if it has no rows"
    )
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("import", help="import a bundle into the database (all or nothing)")
    p.add_argument("bundle")
    _db_arg(p)
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("solve", help="plan a week of the imported network; saves a draft")
    p.add_argument("--week", required=True, type=iso_week, help="ISO week, e.g. 2026-W49")
    _weeks_arg(p)
    p.add_argument("--network", help="network name (default: the only one)")
    _db_arg(p)
    _solver_args(p)
    p.set_defaults(func=cmd_solve)

    p = sub.add_parser("export", help="write a stored week's rota as CSV/XLSX")
    p.add_argument("--week", required=True, type=iso_week, help="ISO week, e.g. 2026-W49")
    p.add_argument("--out", required=True)
    p.add_argument("--network")
    _db_arg(p)
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("demo", help="sample network: plan next week, then serve the web app")
    p.add_argument("--week", type=iso_week, help="ISO week (default: next week)")
    p.add_argument("--out", help="export folder (default out/demo)")
    p.add_argument("--no-serve", action="store_true", help="stop after planning")
    _serve_args(p)
    _db_arg(p)
    _solver_args(p)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("serve", help="serve the web app (waitress; needs a SECRET_KEY)")
    _serve_args(p)
    _db_arg(p)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("publish", help="publish the current draft of a week (as the web app does)")
    p.add_argument("--week", required=True, type=iso_week, help="ISO week, e.g. 2026-W49")
    p.add_argument("--network")
    _db_arg(p)
    p.set_defaults(func=cmd_publish)

    for add_commands in (
        _bench_parser,
        _users_parser,
        _feeds_parser,
        _events_parser,
        _lending_parser,
        _report_parser,
        _jobs_parser,
    ):
        add_commands(sub)
    return parser


def _serve_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=5000)
    p.add_argument("--threads", type=int, default=8, help="request threads (default 8)")


def _users_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("users", help="manage web accounts")
    users = p.add_subparsers(dest="users_command", required=True)
    p = users.add_parser("add", help="add an account; the password is read from standard input")
    p.add_argument("email")
    p.add_argument("--role", required=True, choices=USER_ROLES)
    p.add_argument("--staff-id", help="the person a clinician account belongs to")
    p.add_argument("--site-id", help="the practice a practice account belongs to")
    p.add_argument("--network", help="network name (default: the only one; managers: every one)")
    p.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    _db_arg(p)
    p.set_defaults(func=cmd_users_add)


def _feeds_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("feeds", help="a clinician's calendar feed link")
    commands = p.add_subparsers(dest="feeds_command", required=True)
    for name, text, func in (
        ("url", "print the https:// and webcal:// links (issues one if none)", cmd_feeds_link),
        ("rotate", "replace the link: the old one stops working", cmd_feeds_link),
        ("revoke", "disable the link", cmd_feeds_revoke),
    ):
        p = commands.add_parser(name, help=text)
        p.add_argument("staff_id", metavar="STAFF_ID", help="the person, as in staff.csv")
        p.add_argument("--network", help="network name (default: the only one)")
        _db_arg(p)
        p.set_defaults(func=func)


# -- events and repair -----------------------------------------------------------------


def _london_today() -> dt.date:
    return dt.datetime.now(ZoneInfo(LONDON)).date()


def _event_error(err: RequestError) -> int:
    _err(*(f"error: {field}: {text}" for field, text in err.problems.items()))
    _err("Nothing was recorded. Fix the option(s) named and run again.")
    return EXIT_INPUT


Event = TypeVar("Event")


def _record_event(
    args: argparse.Namespace, record: Callable[[Session, int, Bundle], Event]
) -> Event | int:
    """Record an event in one transaction; the exit code, with every problem printed, if refused."""
    engine = make_engine(_db_url(args))
    try:
        with session_scope(engine) as session:
            network_id = network_id_of(session, args.network)
            return record(session, network_id, network_bundle(session, network_id))
    except RequestError as err:
        return _event_error(err)
    finally:
        engine.dispose()


def cmd_absence_add(args: argparse.Namespace) -> int:
    """Record an absence (planned around from now on; ``repair`` re-plans a published week)."""
    form = {
        "start": args.start,
        "end": args.end or args.start,
        "kind": args.kind,
        "session_id": args.session or "",
        "reason": args.reason or "",
    }
    absence = _record_event(
        args,
        lambda session, network_id, bundle: events.record_absence(
            session, network_id, bundle, staff_id=args.staff_id, form=form, actor=_actor()
        ),
    )
    if isinstance(absence, int):
        return absence
    print(f"Recorded absence {absence.id}: {absence.staff_id} {absence.kind}, {absence.when}.")
    print(f"Repair the published week with: rotapool repair --week {iso_week_label(absence.start)}")
    return EXIT_OK


def cmd_demand_add(args: argparse.Namespace) -> int:
    """Record a demand change: a site's need on one date, or a cancelled session."""
    form = {
        "site_id": args.site,
        "date": args.date,
        "session_id": args.session,
        "kind": "cancel" if args.cancel else "set",
        "role": args.role or "",
        "skill": args.skill or "",
        "min": "" if args.min is None else str(args.min),
        "target": "" if args.target is None else str(args.target),
        "note": args.note or "",
    }
    if not args.cancel and args.min is None:
        _err("error: min: give --min N (people needed), or --cancel for a cancelled session")
        return EXIT_INPUT
    change = _record_event(
        args,
        lambda session, network_id, bundle: events.record_demand_change(
            session, network_id, bundle, form, actor=_actor()
        ),
    )
    if isinstance(change, int):
        return change
    print(f"Recorded demand change {change.id}: {change.summary}.")
    print(f"Repair the published week with: rotapool repair --week {iso_week_label(change.date)}")
    return EXIT_OK


def cmd_events_list(args: argparse.Namespace) -> int:
    """``absence list`` and ``demand list``: current and withdrawn events, newest first."""
    dates = parse_iso_week(args.week) if args.week else None
    engine = make_engine(_db_url(args))
    try:
        with session_scope(engine) as session:
            network_id = network_id_of(session, args.network)
            if args.what == "absence":
                lines = [
                    f"{a.id:>5}  {a.staff_id}  {a.kind:<8}  {a.when}"
                    + ("  (withdrawn)" if a.withdrawn else "")
                    for a in events.absences(session, network_id, dates)
                ]
            else:
                lines = [
                    f"{c.id:>5}  {c.summary}" + ("  (withdrawn)" if c.withdrawn else "")
                    for c in events.demand_changes(session, network_id, dates)
                ]
    finally:
        engine.dispose()
    print("\n".join(lines) if lines else f"No {args.what} recorded.")
    return EXIT_OK


def cmd_events_withdraw(args: argparse.Namespace) -> int:
    """``absence withdraw`` and ``demand withdraw``: plans ignore the event from now on."""
    engine = make_engine(_db_url(args))
    try:
        with session_scope(engine) as session:
            network_id = network_id_of(session, args.network)
            events.withdraw(session, network_id, args.what, args.id, _actor())
    except RequestNotFoundError as err:
        _err(f"error: ID: {err}")
        return EXIT_INPUT
    except RequestError as err:
        return _event_error(err)
    finally:
        engine.dispose()
    print(f"Withdrew {args.what} {args.id}.")
    return EXIT_OK


def _print_repair(outcome: RepairOutcome, bundle: Bundle) -> None:
    s = outcome.summary()
    window = ", ".join(f"{DAY_NAMES[d.weekday()]} {d}" for d in sorted(outcome.window))
    print(f"Repair of {outcome.week} ({window}): {s['status']}, {s['seconds']}s")
    print(
        f"{s['changed_sessions']} session(s) changed; people short of a minimum: "
        f"{s['shortfall_before']} before, {s['shortfall']} after."
    )
    for change in outcome.changes:
        print(f"  {change.words(bundle.person(change.staff_id).name)}")
    figures = outcome.figures
    if figures is not None and figures.people:
        print(
            f"Hours {figures.hours:+}, cost {figures.cost:+} GBP, "
            f"extra travel {figures.extra_travel_minutes:+} min."
        )
        for site, hours in figures.lenders.items():
            print(f"  {site} lends {hours} h")
    for note in outcome.notes:
        print(f"  SHORT {note.headline}")


def cmd_repair(args: argparse.Namespace) -> int:
    """Propose the smallest repair of a published week, save it as the draft, maybe publish."""
    today = args.today or _london_today()
    engine = make_engine(_db_url(args))
    try:
        with session_scope(engine) as session:
            network_id = network_id_of(session, args.network)
            bundle = network_bundle(session, network_id)
            _, published, pinned = repair.published_cells(session, network_id, args.week)
            days = repair.week_events(session, network_id, parse_iso_week(args.week))
            if not args.replace_draft and repair.draft_differs(
                session, network_id, args.week, published
            ):
                raise repair.RepairError(
                    f"{args.week} has a draft with edits not yet published; publish it first, "
                    "or pass --replace-draft to repair from the published rota anyway"
                )
        outcome = repair.propose_repair(
            bundle,
            args.week,
            published,
            today=today,
            event_days=days,
            extra_days=args.dates or (),
            options=_options(args),
            now=None if args.today else dt.datetime.now(ZoneInfo(LONDON)),
        )
        if outcome.report is None:
            _err(outcome.result.message or "no repair found", *outcome.result.conflicts)
            return EXIT_CONFLICT if outcome.result.status is SolveStatus.CONFLICT else EXIT_FAILED
        _print_repair(outcome, bundle)
        with session_scope(engine) as session:
            rota_id, revision = repair.save_repair(
                session,
                network_id,
                outcome,
                pinned,
                replace_draft=args.replace_draft,
                actor=_actor(),
            )
            if args.approve:
                version = publish_week(
                    session, network_id, outcome.week, _actor(), expected_revision=revision
                )
                recorded = notices.record_notices(session, notices.notifiable(version), today)
        if args.out:  # only once saved: no files for a repair that was refused
            for path in repair.write_repair(Path(args.out), bundle, outcome):
                print(f"Wrote {path}")
        if not args.approve:
            print(f"Saved as draft rota {rota_id}. Publish it with:")
            print(f"  rotapool publish --week {outcome.week}")
            return EXIT_OK
        print(f"Published {version.week} as version {version.version} (rota {rota_id}).")
        told = _tell(engine, len(recorded), today)
        if told:
            print(told)
    except (repair.RepairError, PublishError) as err:
        _err(f"error: {err}")
        return EXIT_FAILED
    except InvalidRotaError as err:
        _err(str(err))
        return EXIT_FAILED
    finally:
        engine.dispose()
    return EXIT_OK


def iso_date(text: str) -> dt.date:
    """An argparse type: a date written YYYY-MM-DD."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date such as 2026-12-01") from err


def date_list(text: str) -> list[dt.date]:
    """An argparse type: dates written YYYY-MM-DD, separated by commas."""
    return [iso_date(part.strip()) for part in text.split(",") if part.strip()]


def _events_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("absence", help="record someone's absence after the rota was planned")
    commands = p.add_subparsers(dest="absence_command", required=True)
    p = commands.add_parser("add", help="record an absence (whole days, or one session a day)")
    p.add_argument("staff_id", metavar="STAFF", help="the person, as in staff.csv")
    p.add_argument("--from", dest="start", required=True, help="first day, YYYY-MM-DD")
    p.add_argument("--to", dest="end", help="last day, YYYY-MM-DD (default: the first day)")
    p.add_argument("--kind", required=True, choices=events.ABSENCE_KINDS)
    p.add_argument("--session", help="only this session of each day (default: whole days)")
    p.add_argument("--reason", help="a note; seen only by managers and coordinators")
    _network_db_args(p)
    p.set_defaults(func=cmd_absence_add)
    _list_and_withdraw(commands, "absence")

    p = sub.add_parser("demand", help="change a site's need on one date after planning")
    commands = p.add_subparsers(dest="demand_command", required=True)
    p = commands.add_parser("add", help="set a need (--min/--target) or cancel a session")
    p.add_argument("--site", required=True, help="site id, as in sites.csv")
    p.add_argument("--date", required=True, help="YYYY-MM-DD")
    p.add_argument("--session", required=True, help="session id, as in session_types.csv")
    p.add_argument("--role", help="role needed (default: anyone)")
    p.add_argument("--skill", help="skill needed (default: none)")
    p.add_argument("--min", type=int, help="people needed at least")
    p.add_argument("--target", type=int, help="people wanted (default: --min)")
    p.add_argument("--cancel", action="store_true", help="the session is cancelled at the site")
    p.add_argument("--note", help="why, for the coordinators")
    _network_db_args(p)
    p.set_defaults(func=cmd_demand_add)
    _list_and_withdraw(commands, "demand")

    p = sub.add_parser(
        "repair",
        help="repair a published week around absences and demand changes, fewest changes first",
    )
    p.add_argument("--week", required=True, type=iso_week, help="ISO week, e.g. 2026-W49")
    p.add_argument("--out", help="write changes.csv, rota.csv and summary.json here")
    p.add_argument("--approve", action="store_true", help="publish the repair as the next version")
    p.add_argument("--dates", type=date_list, help="also re-plan these dates (comma-separated)")
    p.add_argument(
        "--today",
        type=iso_date,
        help="the day the repair is made, from its start (default: now; begun sessions stay)",
    )
    p.add_argument(
        "--replace-draft", action="store_true", help="replace a draft with unpublished edits"
    )
    _network_db_args(p)
    p.add_argument("--time-limit", type=float, default=4.0, help="seconds (default 4)")
    p.add_argument("--workers", type=int, default=2, help="CP-SAT workers (default 2)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.set_defaults(func=cmd_repair)


def _network_db_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--network", help="network name (default: the only one)")
    _db_arg(p)


def _list_and_withdraw(commands: argparse._SubParsersAction, what: str) -> None:
    p = commands.add_parser("list", help=f"list the network's {what} events, newest first")
    p.add_argument("--week", type=iso_week, help="only this ISO week")
    _network_db_args(p)
    p.set_defaults(func=cmd_events_list, what=what)
    p = commands.add_parser("withdraw", help=f"withdraw a {what} event: plans ignore it")
    p.add_argument("id", type=int, metavar="ID", help="the number `list` shows")
    _network_db_args(p)
    p.set_defaults(func=cmd_events_withdraw, what=what)


# -- spare capacity and lending (commands and parser) -----------------------------------


def _print_capacity(network: str, label: str, state: str, spares: Sequence[Spare]) -> None:
    """The spare capacity as a readable table: one block per session, one line per person."""
    print(f"Spare capacity of {network}, {label} ({state} rota): {len(spares)} free sessions.")
    for day, session_id, found in by_session(spares):
        print(f"{DAY_NAMES[day.weekday()]} {day.isoformat()} {session_id}")
        for row in capacity_rows(found):
            staff_id, name, role, skills, home, employer = row[3:9]
            session_hours, spare, rate, sites = row[9:]
            priced = "no rate" if rate is None else f"£{rate}/h"
            listed = str(skills).replace(";", ", ") or "no skills"
            print(
                f"  {staff_id} {name} ({role}; {listed}), home {home}, "
                f"employer {employer}: {session_hours} h, {spare} h spare, {priced}"
            )
            print(f"      may work at {sites}")
    print("Travel is from home; 'wanted': a need there that the person fits is under its target.")


def cmd_capacity(args: argparse.Namespace) -> int:
    """Unused contracted time of a stored week (its published rota, else its draft)."""
    engine = make_engine(_db_url(args))
    try:
        with session_scope(engine) as session:
            week = spare_week(session, network_id_of(session, args.network), args.week)
    finally:
        engine.dispose()
    if week.shown is None:
        _err(f"No rota for {args.week} yet: run `rotapool solve --week {args.week}` first.")
        return EXIT_FAILED
    spares = spare_capacity(week.bundle, week.dates, week.assignments)
    if args.csv:
        write_csv(Path(args.csv), CAPACITY_HEADER, capacity_rows(spares))
        print(f"Wrote {len(spares)} free sessions of {week.label} to {args.csv}")
    else:
        _print_capacity(week.bundle.name, week.label, week.shown.state, spares)
    return EXIT_OK


def cmd_lending_propose(args: argparse.Namespace) -> int:
    """Propose transfers to the week's short practices (idempotent) and print the open ones."""
    engine = make_engine(_db_url(args))
    try:
        with session_scope(engine) as session:
            network_id = network_id_of(session, args.network)
            made = generate(session, network_id, args.week, _actor())
            found = [t for t in week_transfers(session, network_id, args.week) if t.open]
            names = {p.staff_id: p.name for p in network_bundle(session, network_id).staff}
    except TransferError as err:
        _err(f"error: {err}")
        return EXIT_FAILED
    finally:
        engine.dispose()
    print(
        f"Lending proposals for {args.week}: {len(made.added)} new, {len(made.kept)} still open, "
        f"{len(made.withdrawn)} withdrawn."
    )
    for transfer, why in made.withdrawn:
        print(f"  withdrew #{transfer.id}: {why}")
    for transfer in found:
        print(f"  {describe(transfer, names.get(transfer.staff_id, ''))}")
    print(LENDING_HOW)
    return EXIT_OK


LENDING_HOW = (
    "Both practices accept each proposal on the web app's Lending page (rotapool serve); "
    "the second acceptance puts it in the week's draft, which must then be published."
)


def _lending_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "capacity", help="spare capacity of a stored week: who is free, where, at what cost"
    )
    p.add_argument("--week", required=True, type=iso_week, help="ISO week, e.g. 2026-W49")
    p.add_argument("--csv", metavar="FILE", help="write it as CSV (with a header) instead")
    _network_db_args(p)
    p.set_defaults(func=cmd_capacity)
    p = sub.add_parser(
        "lending", help="lending between practices (accepted in the web app)", epilog=LENDING_HOW
    )
    commands = p.add_subparsers(dest="lending_command", required=True)
    p = commands.add_parser(
        "propose",
        help="propose transfers to the week's short practices and print the open proposals",
        epilog=LENDING_HOW,
    )
    p.add_argument("--week", required=True, type=iso_week, help="ISO week, e.g. 2026-W49")
    _network_db_args(p)
    p.set_defaults(func=cmd_lending_propose)


def cmd_report_ea(args: argparse.Namespace) -> int:
    """Enhanced-access compliance of published weeks; exit 0 when every week passes, else 1."""
    try:
        ea.report_weeks(args.week, args.weeks)
    except ValueError as err:
        _err(f"error: --weeks: {err}")
        return EXIT_INPUT
    engine = make_engine(_db_url(args))
    try:
        with session_scope(engine) as session:
            network_id = network_id_of(session, args.network)
            bundle, checks = ea.load_checks(session, network_id, args.week, args.weeks)
    except ea.NoEnhancedAccessError as err:
        _err(f"error: {err}")
        return EXIT_INPUT
    finally:
        engine.dispose()
    print(f"Enhanced access, {bundle.name}")
    for check in checks:
        print(*ea.report_lines(check), sep="\n")
    for kind, path in (("csv", args.csv), ("xlsx", args.xlsx)):
        if path:
            try:
                written = ea.write_report(kind, Path(path), checks)
            except OSError as err:
                _err(f"error: --{kind}: cannot write {path}: {err.strerror or err}")
                return EXIT_FAILED
            print(*(f"Wrote {p}" for p in written), sep="\n")
    return EXIT_OK if all(c.passed for c in checks) else EXIT_FAILED


def _report_weeks(text: str) -> int:
    """An argparse type: how many weeks one enhanced-access report covers."""
    value = int(text) if text.strip().isdigit() else 0
    if not 1 <= value <= ea.MAX_REPORT_WEEKS:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a number of weeks from 1 to {ea.MAX_REPORT_WEEKS}"
        )
    return value


def _report_ea_parser(reports: argparse._SubParsersAction) -> None:
    p = reports.add_parser(
        "ea",
        help="enhanced access: minutes against the floor and gaps in the windows (exit 1: fail)",
    )
    p.add_argument("--week", required=True, type=iso_week, help="ISO week, e.g. 2026-W49")
    p.add_argument(
        "--weeks",
        type=_report_weeks,
        default=1,
        help=f"report this many ISO weeks from --week (1-{ea.MAX_REPORT_WEEKS}, default 1)",
    )
    p.add_argument("--csv", metavar="FILE", help="also write the summary as CSV (gaps beside it)")
    p.add_argument("--xlsx", metavar="FILE", help="also write summary, windows and gaps as .xlsx")
    _network_db_args(p)
    p.set_defaults(func=cmd_report_ea)


def cmd_report_fairness(args: argparse.Namespace) -> int:
    """Hub duty and lending per practice against its list share, from published rotas."""
    try:
        period = fairness.read_period(args.week, args.weeks)
    except fairness.PeriodError as err:
        _err(f"error: --{err.field}: {err.message}")
        return EXIT_INPUT
    engine = make_engine(_db_url(args))
    try:
        with session_scope(engine) as session:
            report = fairness.load_fairness(session, network_id_of(session, args.network), period)
    finally:
        engine.dispose()
    print(*fairness.fairness_text(report), sep="\n")
    for kind, path in (("csv", args.csv), ("xlsx", args.xlsx)):
        if path:
            try:
                fairness.write_fairness(Path(path), report, kind)
            except OSError as err:
                _err(f"error: --{kind}: cannot write {path}: {err.strerror or err}")
                return EXIT_FAILED
            print(f"Wrote {path}")
    return EXIT_OK


def _report_fairness_parser(reports: argparse._SubParsersAction) -> None:
    p = reports.add_parser(
        "fairness", help="hub duty and lending per practice against its share of patients"
    )
    p.add_argument("--week", required=True, type=iso_week, help="last ISO week, e.g. 2026-W49")
    p.add_argument(
        "--weeks",
        help=f"weeks in the period, ending with --week (default {fairness.ROLLING_WEEKS})",
    )
    p.add_argument("--csv", metavar="FILE", help="also write the table as CSV")
    p.add_argument("--xlsx", metavar="FILE", help="also write it as an Excel workbook")
    _network_db_args(p)
    p.set_defaults(func=cmd_report_fairness)


def cmd_report_recharges(args: argparse.Namespace) -> int:
    """The recharge ledger of a period's published rotas: printed, and written if asked."""
    try:
        period = ledger.choose_period(
            week=args.week, month=args.month, first=args.first, last=args.last
        )
    except ledger.PeriodError as err:
        option = "--week, --month or --from/--to" if err.field == "period" else f"--{err.field}"
        _err(f"error: {option}: {err.message}")
        return EXIT_INPUT
    engine = make_engine(_db_url(args))
    try:
        with session_scope(engine) as session:
            found = ledger.load_ledger(session, network_id_of(session, args.network), period)
    except ledger.NothingPublishedError as err:
        _err(f"error: {err}")
        return EXIT_FAILED
    finally:
        engine.dispose()
    print(*ledger.summary_lines(found), sep="\n")
    for kind, path in (("csv", args.csv), ("xlsx", args.xlsx)):
        if path:
            try:
                written = ledger.write_ledger(found, kind, Path(path))
            except OSError as err:
                _err(f"error: --{kind}: cannot write {path}: {err.strerror or err}")
                return EXIT_FAILED
            print(*(f"Wrote {p}" for p in written), sep="\n")
    return EXIT_OK


def _report_recharges_parser(reports: argparse._SubParsersAction) -> None:
    p = reports.add_parser(
        "recharges", help="hours and cost each practice lent and borrowed, and who owes whom"
    )
    p.add_argument("--from", dest="first", metavar="DATE", help="first date, e.g. 2026-12-01")
    p.add_argument("--to", dest="last", metavar="DATE", help="last date, included")
    p.add_argument("--week", help="instead of --from/--to: an ISO week, e.g. 2026-W49")
    p.add_argument("--month", help="instead of --from/--to: a month, e.g. 2026-12")
    p.add_argument(
        "--csv",
        metavar="DIR_OR_FILE",
        help="a .csv file: the invoice lines; a folder: every table as recharge-*.csv",
    )
    p.add_argument("--xlsx", metavar="FILE", help="every table as one Excel workbook")
    _network_db_args(p)
    p.set_defaults(func=cmd_report_recharges)


def _report_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="network reports: enhanced access, recharges, fairness")
    reports = p.add_subparsers(dest="report", required=True)
    for add_report in (  # one function per report, each adding its subcommand
        _report_ea_parser,
        _report_fairness_parser,
        _report_recharges_parser,
    ):
        add_report(reports)


# -- scheduled jobs -------------------------------------------------------------------


def cmd_scheduler(args: argparse.Namespace) -> int:
    """Run the network's scheduled jobs: in the foreground, or what is due now (--once)."""
    try:
        jobs.queue_settings(_settings())
    except jobs.QueueSettingsError as err:
        _err(f"error: {err}")
        return EXIT_INPUT
    url = _db_url(args)
    scheduling.log_to_stderr()
    engine = make_engine(url)
    try:
        if args.once:
            results = scheduling.run_once(engine, _settings())
            for result in results:
                print(result.line())
            print(f"{len(results)} run(s) due.")
            return EXIT_FAILED if any(r.outcome == "failed" for r in results) else EXIT_OK
        scheduling.serve(engine, _settings(), scheduling.stop_on_signals())
    finally:
        engine.dispose()
    return EXIT_OK


def cmd_worker(args: argparse.Namespace) -> int:
    """Take solve jobs from the Redis queue, one at a time, until stopped."""
    from scheduler import worker  # noqa: PLC0415  (Celery is loaded only by this command)

    try:
        settings = jobs.queue_settings(_settings())
        if settings.broker_url is None:
            raise jobs.QueueSettingsError(
                "BROKER_URL: set ROTAPOOL_BROKER_URL to the Redis server the web app and "
                "the scheduler queue solves on (without it they solve in their own process)"
            )
    except jobs.QueueSettingsError as err:
        _err(f"error: {err}")
        return EXIT_INPUT
    scheduling.log_to_stderr()
    engine = make_engine(_db_url(args))
    try:
        worker.run_worker(engine, settings, loglevel=args.loglevel)
    finally:
        engine.dispose()
    return EXIT_OK


def cmd_jobs_list(args: argparse.Namespace) -> int:
    """Each job, its schedule, its next run (Europe/London) and its last run's outcome."""
    engine = make_engine(_db_url(args))
    try:
        with session_scope(engine) as session:
            network_id = None if args.network is None else network_id_of(session, args.network)
            views = scheduling.job_views(session, network_id)
    finally:
        engine.dispose()
    print("\n".join(scheduling.jobs_table(views)))
    return EXIT_OK


def _jobs_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "scheduler", help="run the scheduled jobs (exactly one such process; never in the web app)"
    )
    p.add_argument(
        "--once", action="store_true", help="run what is due now, then exit (cron-style use)"
    )
    _db_arg(p)
    p.set_defaults(func=cmd_scheduler)
    p = sub.add_parser(
        "worker",
        help="solve queued jobs from Redis (ROTAPOOL_BROKER_URL), one at a time; run N of these",
    )
    p.add_argument("--loglevel", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    _db_arg(p)
    p.set_defaults(func=cmd_worker)
    p = sub.add_parser("jobs", help="the scheduled jobs")
    commands = p.add_subparsers(dest="jobs_command", required=True)
    p = commands.add_parser("list", help="each job, its next run and its last run")
    p.add_argument("--network", help="network name (default: every network)")
    _db_arg(p)
    p.set_defaults(func=cmd_jobs_list)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except NetworkLookupError as err:
        _err(f"error: {err}")
        return EXIT_INPUT


if __name__ == "__main__":
    sys.exit(main())
