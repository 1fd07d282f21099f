"""``rotapool plan``, ``check``, ``import``, ``solve``, ``export`` and ``publish``."""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
from collections.abc import Sequence
from pathlib import Path
from zoneinfo import ZoneInfo

from scheduler.bundle.cells import BundleError
from scheduler.bundle.rota_csv import RotaFileError, read_rota_csv
from scheduler.checks.validator import check_rota
from scheduler.cli.common import (
    EXIT_CONFLICT,
    EXIT_FAILED,
    EXIT_INPUT,
    EXIT_OK,
    LONDON,
    cli_actor,
    db_arg,
    db_url,
    iso_week,
    network_id_by_name,
    print_error,
    solver_args,
    tell,
)
from scheduler.cli.solving import ProgressLine, import_caps, load, solve_options_of, weeks_arg
from scheduler.domain import Assignment, Bundle, iso_week_label, parse_iso_week
from scheduler.outputs.exports import write_exports
from scheduler.reports.continuity import with_previous_sessions
from scheduler.reports.fairness import with_fairness_balance
from scheduler.storage.db import (
    make_engine,
    reading,
    session_scope,
    upgrade,
)
from scheduler.storage.events import current_bundle
from scheduler.storage.repository import load_bundle, network_id_of, save_bundle
from scheduler.storage.rotas import load_rota
from scheduler.usecases import notices
from scheduler.usecases.importing import import_bundle
from scheduler.usecases.planning import (
    UNEXPLORED,
    InvalidRotaError,
    PlanOutcome,
    plan_week,
    save_draft,
    shortfall_words,
    write_plan,
)
from scheduler.usecases.publishing import PublishError, RotaBreaksRulesError, publish_week
from solver import SolveStatus


def _solve(bundle: Bundle, week: str, args: argparse.Namespace) -> PlanOutcome | int:
    progress = ProgressLine()
    try:
        outcome = plan_week(
            bundle, week, solve_options_of(args), progress, weeks=getattr(args, "weeks", 1)
        )
    except InvalidRotaError as err:
        print_error(str(err))
        return EXIT_FAILED
    finally:
        progress.done()
    status = outcome.result.status
    if status is SolveStatus.CONFLICT:
        print_error("The bundle's hard rules cannot all hold in this plan. These rows conflict:")
        print_error(*(f"  {c}" for c in outcome.result.conflicts))
        print_error(
            "Change one of them (or remove a pinned row) and plan again. No rota was written."
        )
        return EXIT_CONFLICT
    if status is SolveStatus.NO_SOLUTION:
        print_error(outcome.result.message)
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
        f"{shortfall_words(r, outcome.report.shortfall if outcome.report else None)}."
    )
    if outcome.continuity is not None:
        print(outcome.continuity.sentence())
    for holiday in outcome.holidays:
        print(f"Bank holiday {holiday.text()}.")
    for note in outcome.notes:
        print(f"  SHORT {note.headline}")
        if note.unexplored:
            print(f"        ways to fix it: {UNEXPLORED}")
        for number, option in enumerate(note.shown_options, start=1):
            print(f"        {number}. {option.text}")
        if note.more_options:
            print(f"        ... and {note.more_options} more ways (shortfalls.csv)")


# -- commands -------------------------------------------------------------------


def cmd_plan(args: argparse.Namespace) -> int:
    bundle = load(args.bundle)
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
        with reading(engine) as session:
            return load_bundle(session, bundle.name)
    finally:
        engine.dispose()


def cmd_check(args: argparse.Namespace) -> int:
    bundle = load(args.bundle)
    if bundle is None:
        return EXIT_INPUT
    try:
        assignments = read_rota_csv(Path(args.rota))
    except RotaFileError as err:
        print_error(*err.problems)
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
    caps = import_caps()
    if caps is None:
        return EXIT_INPUT
    try:
        network_id, warnings = import_bundle(args.database, args.bundle, caps)
    except BundleError as err:
        print_error(*err.problems)
        print_error(f"{len(err.problems)} problem(s) found; the database was not changed.")
        return EXIT_INPUT
    print_error(*warnings)
    print(f"Imported {args.bundle} as network {network_id}.")
    return EXIT_OK


def cmd_solve(args: argparse.Namespace) -> int:
    engine = make_engine(db_url(args))
    try:
        with reading(engine) as session:
            network_id = network_id_of(session, args.network)
            bundle = current_bundle(session, network_id)
            bundle = with_fairness_balance(session, network_id, bundle, args.week)
            bundle = with_previous_sessions(session, network_id, bundle, args.week)
        outcome = _solve(bundle, args.week, args)
        if isinstance(outcome, int):
            return outcome
        with session_scope(engine) as session:  # every week of the horizon, or none
            network_id = network_id_by_name(session, bundle.name)
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
    engine = make_engine(db_url(args))
    try:
        with reading(engine) as session:
            bundle = current_bundle(session, network_id_of(session, args.network))
            found = load_rota(
                session, network_id_by_name(session, bundle.name), args.week, "latest"
            )
    finally:
        engine.dispose()
    if found is None:
        print_error(f"No rota for {args.week} yet: run `rotapool solve --week {args.week}` first.")
        return EXIT_FAILED
    assignments: Sequence[Assignment] = found[1]
    dates = parse_iso_week(args.week)
    report = check_rota(bundle, dates, assignments)
    if not report.ok:
        print_error(
            f"The stored rota for {args.week} no longer meets the hard rules of the network:"
        )
        print_error(*(f"  {v.label}: {v.message}" for v in report.violations))
        print_error(f"Nothing was exported. Plan the week again: rotapool solve --week {args.week}")
        return EXIT_FAILED
    paths = write_exports(Path(args.out), bundle, dates, assignments, report.coverage)
    print(f"Wrote {', '.join(p.name for p in paths)} to {args.out}")
    return EXIT_OK


def cmd_publish(args: argparse.Namespace) -> int:
    """Publish the week's current draft, exactly as the web app's Publish button does.

    Changed sessions in the next 14 days become change notices, e-mailed
    when SMTP is configured (the web app's settings: ``ROTAPOOL_SMTP_*``).
    """
    today = dt.datetime.now(ZoneInfo(LONDON)).date()
    engine = make_engine(db_url(args))
    try:
        with session_scope(engine) as session:
            network_id = network_id_of(session, args.network)
            published = publish_week(session, network_id, args.week, cli_actor())
            recorded = notices.record_notices(session, notices.notifiable(published), today)
        told = tell(engine, len(recorded), today)
    except RotaBreaksRulesError as err:
        print_error(f"error: {err}", *(f"  {v.label}: {v.message}" for v in err.violations))
        return EXIT_FAILED
    except PublishError as err:
        print_error(f"error: {err}")
        return EXIT_FAILED
    finally:
        engine.dispose()
    print(f"Published {published.week} as version {published.version} (rota {published.rota_id}).")
    if told:
        print(told)
    return EXIT_OK


def add_commands(sub: argparse._SubParsersAction) -> None:
    """plan, check, import, solve, export and publish."""
    p = sub.add_parser("plan", help="import a bundle, plan a week, write CSV/XLSX")
    p.add_argument("bundle")
    p.add_argument("--week", required=True, type=iso_week, help="ISO week, e.g. 2026-W49")
    weeks_arg(p)
    p.add_argument("--out", required=True, help="output folder")
    solver_args(p)
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
    db_arg(p)
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("solve", help="plan a week of the imported network; saves a draft")
    p.add_argument("--week", required=True, type=iso_week, help="ISO week, e.g. 2026-W49")
    weeks_arg(p)
    p.add_argument("--network", help="network name (default: the only one)")
    db_arg(p)
    solver_args(p)
    p.set_defaults(func=cmd_solve)

    p = sub.add_parser("export", help="write a stored week's rota as CSV/XLSX")
    p.add_argument("--week", required=True, type=iso_week, help="ISO week, e.g. 2026-W49")
    p.add_argument("--out", required=True)
    p.add_argument("--network")
    db_arg(p)
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("publish", help="publish the current draft of a week (as the web app does)")
    p.add_argument("--week", required=True, type=iso_week, help="ISO week, e.g. 2026-W49")
    p.add_argument("--network")
    db_arg(p)
    p.set_defaults(func=cmd_publish)
