"""``rotapool report ea|fairness|recharges|timesheets``: the network reports, printed or written."""

from __future__ import annotations

import argparse
from pathlib import Path

from scheduler.cli.common import (
    EXIT_FAILED,
    EXIT_INPUT,
    EXIT_OK,
    db_url,
    iso_week,
    network_db_args,
    print_error,
)
from scheduler.reports import ea, fairness, timesheets
from scheduler.reports.ledger import NothingPublishedError, PeriodError, choose_period, load_ledger
from scheduler.reports.ledger_tables import summary_lines, write_ledger
from scheduler.storage.db import (
    make_engine,
    reading,
)
from scheduler.storage.repository import network_id_of


def cmd_report_ea(args: argparse.Namespace) -> int:
    """Enhanced-access compliance of published weeks; exit 0 when every week passes, else 1."""
    try:
        ea.report_weeks(args.week, args.weeks)
    except ValueError as err:
        print_error(f"error: --weeks: {err}")
        return EXIT_INPUT
    engine = make_engine(db_url(args))
    try:
        with reading(engine) as session:
            network_id = network_id_of(session, args.network)
            bundle, checks = ea.load_checks(session, network_id, args.week, args.weeks)
    except ea.NoEnhancedAccessError as err:
        print_error(f"error: {err}")
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
                print_error(f"error: --{kind}: cannot write {path}: {err.strerror or err}")
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
    network_db_args(p)
    p.set_defaults(func=cmd_report_ea)


def cmd_report_fairness(args: argparse.Namespace) -> int:
    """Hub duty and lending per practice against its list share, from published rotas."""
    try:
        period = fairness.read_period(args.week, args.weeks)
    except fairness.PeriodError as err:
        print_error(f"error: --{err.field}: {err.message}")
        return EXIT_INPUT
    engine = make_engine(db_url(args))
    try:
        with reading(engine) as session:
            report = fairness.load_fairness(session, network_id_of(session, args.network), period)
    finally:
        engine.dispose()
    print(*fairness.fairness_text(report), sep="\n")
    for kind, path in (("csv", args.csv), ("xlsx", args.xlsx)):
        if path:
            try:
                fairness.write_fairness(Path(path), report, kind)
            except OSError as err:
                print_error(f"error: --{kind}: cannot write {path}: {err.strerror or err}")
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
    network_db_args(p)
    p.set_defaults(func=cmd_report_fairness)


def cmd_report_recharges(args: argparse.Namespace) -> int:
    """The recharge ledger of a period's published rotas: printed, and written if asked."""
    try:
        period = choose_period(week=args.week, month=args.month, first=args.first, last=args.last)
    except PeriodError as err:
        option = "--week, --month or --from/--to" if err.field == "period" else f"--{err.field}"
        print_error(f"error: {option}: {err.message}")
        return EXIT_INPUT
    engine = make_engine(db_url(args))
    try:
        with reading(engine) as session:
            found = load_ledger(session, network_id_of(session, args.network), period)
    except NothingPublishedError as err:
        print_error(f"error: {err}")
        return EXIT_FAILED
    finally:
        engine.dispose()
    print(*summary_lines(found), sep="\n")
    for kind, path in (("csv", args.csv), ("xlsx", args.xlsx)):
        if path:
            try:
                written = write_ledger(found, kind, Path(path))
            except OSError as err:
                print_error(f"error: --{kind}: cannot write {path}: {err.strerror or err}")
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
    network_db_args(p)
    p.set_defaults(func=cmd_report_recharges)


def cmd_report_timesheets(args: argparse.Namespace) -> int:
    """Each person's hours and cost over a period, confirmed timesheets where they exist."""
    try:
        period = choose_period(week=None, month=args.month, first=args.first, last=args.last)
    except PeriodError as err:
        option = "--month or --from/--to" if err.field == "period" else f"--{err.field}"
        print_error(f"error: {option}: {err.message}")
        return EXIT_INPUT
    engine = make_engine(db_url(args))
    try:
        with reading(engine) as session:
            report = timesheets.load_timesheets(
                session, network_id_of(session, args.network), period
            )
    finally:
        engine.dispose()
    print(*timesheets.summary_lines(report), sep="\n")
    for kind, path in (("csv", args.csv), ("xlsx", args.xlsx)):
        if path:
            try:
                written = timesheets.write_timesheets(report, kind, Path(path))
            except OSError as err:
                print_error(f"error: --{kind}: cannot write {path}: {err.strerror or err}")
                return EXIT_FAILED
            print(f"Wrote {written}")
    return EXIT_OK


def _report_timesheets_parser(reports: argparse._SubParsersAction) -> None:
    p = reports.add_parser(
        "timesheets",
        help="hours and cost per person by site, weekend and extended hours apart, bank apart",
    )
    p.add_argument("--month", help="a month, e.g. 2026-12")
    p.add_argument("--from", dest="first", metavar="DATE", help="instead of --month: first date")
    p.add_argument("--to", dest="last", metavar="DATE", help="last date, included")
    p.add_argument("--csv", metavar="FILE", help="also write every line as CSV")
    p.add_argument("--xlsx", metavar="FILE", help="also write staff, bank, employers and notes")
    network_db_args(p)
    p.set_defaults(func=cmd_report_timesheets)


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report", help="network reports: enhanced access, recharges, fairness, timesheets"
    )
    reports = p.add_subparsers(dest="report", required=True)
    for add_report in (  # one function per report, each adding its subcommand
        _report_ea_parser,
        _report_fairness_parser,
        _report_recharges_parser,
        _report_timesheets_parser,
    ):
        add_report(reports)
