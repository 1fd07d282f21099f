"""The recharge ledger: exact figures on a hand-built network, clock changes, rounding,
periods, published rotas only, and reconciliation with rota.csv and recharges.csv."""

from __future__ import annotations

import csv
import datetime as dt
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from scheduler.checks.validator import check_rota
from scheduler.domain import Assignment, Bundle, SiteKind
from scheduler.outputs.exports import write_exports
from scheduler.reports.ledger import (
    Amount,
    Balance,
    NothingPublishedError,
    PeriodError,
    build_ledger,
    choose_period,
    custom_period,
    load_ledger,
    month_period,
    quick_periods,
    week_period,
)
from scheduler.reports.ledger_tables import (
    ledger_tables,
    money_text,
    summary_lines,
    write_ledger_csv,
    write_ledger_xlsx,
)
from scheduler.storage.db import make_engine, session_scope, upgrade
from scheduler.storage.repository import bundle_with_leave, network_id_of, save_bundle
from scheduler.storage.rotas import published_assignments
from scheduler.usecases.importing import import_bundle
from scheduler.usecases.planning import plan_week
from solver import SolveOptions
from tests.factories import assign, make_bundle, make_demand, make_session, make_site, make_staff
from tests.web_support import TINY, save_week

W49 = week_period("2026-W49")
CENTS = Decimal("0.01")


def d(text: str) -> Decimal:
    return Decimal(text)


def network(**overrides: Any) -> Bundle:
    """P01, P02 and a hub; A (P01 GP, £90), B (P02 PN, £30), C (FED pharmacist, £32),
    D (P02 HCA, no rate) and E (P01 GP who stays home)."""
    staff = [
        make_staff("GP", staff_id="A", name="Ann", hourly_rate=90, sites="*"),
        make_staff("PN", staff_id="B", name="Bob", home_site="P02", hourly_rate=30, sites="*"),
        make_staff("PHARM", staff_id="C", name="Cat", employer="FED", hourly_rate=32, sites="*"),
        make_staff("HCA", staff_id="D", name="Dan", home_site="P02", sites="*"),
        make_staff("GP", staff_id="E", name="Eve", hourly_rate=80),
    ]
    fields: dict[str, Any] = {
        "sites": [
            make_site(site_id="P01", name="Mill Lane"),
            make_site(site_id="P02", name="Station Road"),
            make_site(site_id="HUB1", name="Hub", kind=SiteKind.HUB, list_size=0),
        ],
        "session_types": [
            make_session("AM", "08:00", "12:30"),
            make_session("PM", "13:30", "18:00"),
            make_session("EVE", "18:30", "20:00"),
            make_session("NIGHT", "01:00", "03:00", days="Sun"),
        ],
        "staff": staff,
        "demand": [make_demand()],
    }
    fields.update(overrides)
    return make_bundle(**fields)


# A's morning at P02 and evening at the hub; B, C and D at P01; E at home (not a recharge).
WEEK_ROTA = [
    assign("A", "2026-12-01", "AM", "P02"),
    assign("A", "2026-12-01", "EVE", "HUB1"),
    assign("B", "2026-12-02", "AM", "P01"),
    assign("C", "2026-12-02", "PM", "P01"),
    assign("D", "2026-12-03", "AM", "P01"),
    assign("E", "2026-12-03", "AM", "P01"),
]


# --------------------------------------------------------------------------- exact figures


def test_a_hand_built_week_gives_known_lent_borrowed_and_balances() -> None:
    ledger = build_ledger(network(), W49, WEEK_ROTA)
    by_party = {s.party.party_id: s for s in ledger.summaries()}
    assert list(by_party) == ["P01", "P02", "HUB1", "FED"]
    p01, p02, hub, fed = by_party.values()
    assert p01.lent == Amount(d("6.00"), d("540.00"))
    assert p01.borrowed == Amount(d("13.50"), d("279.00"), d("4.50"))  # D has no rate
    assert p01.borrowed_by_role == (
        ("HCA", Amount(d("4.50"), d("0"), d("4.50"))),
        ("PHARM", Amount(d("4.50"), d("144.00"))),
        ("PN", Amount(d("4.50"), d("135.00"))),
    )
    assert p01.borrowed_from == (
        ("FED", Amount(d("4.50"), d("144.00"))),
        ("P02", Amount(d("9.00"), d("135.00"), d("4.50"))),
    )
    assert p01.lent_to == (
        ("HUB1", Amount(d("1.50"), d("135.00"))),
        ("P02", Amount(d("4.50"), d("405.00"))),
    )
    assert (p01.net_hours, p01.net_cost) == (d("-7.50"), d("261.00"))
    assert p02.lent == Amount(d("9.00"), d("135.00"), d("4.50"))
    assert p02.borrowed == Amount(d("4.50"), d("405.00"))
    assert hub.borrowed == Amount(d("1.50"), d("135.00")) and hub.lent == Amount()
    assert fed.lent == Amount(d("4.50"), d("144.00")) and fed.borrowed == Amount()
    assert ledger.balances() == [
        Balance(
            "P01", "P02", Amount(d("9.00"), d("135.00"), d("4.50")), Amount(d("4.50"), d("405.00"))
        ),
        Balance("P01", "HUB1", Amount(), Amount(d("1.50"), d("135.00"))),
        Balance("P01", "FED", Amount(d("4.50"), d("144.00")), Amount()),
    ]
    payments = [(b.payer, b.payee, b.amount, b.net) for b in ledger.balances()]
    assert payments == [
        ("P02", "P01", d("270.00"), d("-270.00")),
        ("HUB1", "P01", d("135.00"), d("-135.00")),
        ("P01", "FED", d("144.00"), d("144.00")),
    ]


def test_invoice_lines_are_one_per_host_employer_and_role() -> None:
    ledger = build_ledger(network(), W49, WEEK_ROTA)
    header, rows = ledger_tables(ledger)["invoices"]
    assert header[2:] == (
        "host_site",
        "employer",
        "role",
        "people",
        "hours",
        "cost",
        "hours_without_rate",
    )
    assert [r[2:] for r in rows] == [
        ("HUB1", "P01", "GP", 1, d("1.50"), d("135.00"), d("0.00")),
        ("P01", "FED", "PHARM", 1, d("4.50"), d("144.00"), d("0.00")),
        ("P01", "P02", "HCA", 1, d("4.50"), None, d("4.50")),  # unknown, never zero
        ("P01", "P02", "PN", 1, d("4.50"), d("135.00"), d("0.00")),
        ("P02", "P01", "GP", 1, d("4.50"), d("405.00"), d("0.00")),
    ]
    assert {r[:2] for r in rows} == {("2026-11-30", "2026-12-06")}


def test_a_person_without_a_rate_is_an_unknown_cost_counted_apart() -> None:
    ledger = build_ledger(network(), W49, [assign("D", "2026-12-03", "AM", "P01")])
    (line,) = ledger.lines
    assert (line.hours, line.rate, line.cost) == (d("4.50"), None, None)
    assert ledger.total == Amount(d("4.50"), d("0"), d("4.50"))
    assert ledger.total.known_cost is None
    assert money_text(ledger.total) == "unknown (4.50 h without a rate)"
    assert money_text(Amount(d("9.00"), d("135.00"), d("4.50"))) == (
        "£135.00 + 4.50 h without a rate"
    )
    text = "\n".join(summary_lines(ledger))
    assert "Hours without a rate: 4.50 h (D Dan of P02 at P01, 4.50 h)" in text
    assert "in no £ figure" in text


def test_staff_at_their_employer_are_no_recharge_even_away_from_home() -> None:
    away = make_staff("GP", staff_id="F", name="Fay", home_site="P02", employer="P01", sites="*")
    bundle = network(staff=[away])
    ledger = build_ledger(bundle, W49, [assign("F", "2026-12-01", "AM", "P01")])
    assert ledger.lines == ()
    assert "nothing to recharge" in "\n".join(summary_lines(ledger))


def test_a_super_partnership_is_one_party_and_its_own_staff_are_no_recharge() -> None:
    """P01 and P02 belong to CHP: A (of P01) at P02 is no recharge; C of FED at P01 is owed
    to FED by CHP, not by P01; the hub stays a party of its own."""
    sites = [
        make_site(site_id="P01", name="Mill Lane", organisation="CHP"),
        make_site(site_id="P02", name="Station Road", organisation="CHP"),
        make_site(site_id="HUB1", name="Hub", kind=SiteKind.HUB, list_size=0),
    ]
    bundle = network(sites=sites)
    ledger = build_ledger(bundle, W49, WEEK_ROTA)
    assert sorted((x.host, x.employer, x.staff_id) for x in ledger.lines) == [
        ("CHP", "FED", "C"),
        ("HUB1", "CHP", "A"),
    ]
    assert [p.party_id for p in ledger.parties] == ["CHP", "HUB1", "FED"]
    assert ledger.only("CHP").lines == ledger.lines


def test_each_line_is_rounded_once_and_totals_add_the_lines() -> None:
    """4 h 10 min at £95.55 is £398.125 exactly: £398.13 per line, £796.26 for two lines
    (rounding the total instead would give £796.25 and 8.33 h)."""
    short = make_session("AM", "08:00", "12:10")
    people = [
        make_staff("GP", staff_id=s, name=s, home_site="P02", hourly_rate=95.55, sites="*")
        for s in ("G1", "G2")
    ]
    bundle = network(session_types=[short], staff=people)
    rota = [assign(s, "2026-12-01", "AM", "P01") for s in ("G1", "G2")]
    ledger = build_ledger(bundle, W49, rota)
    assert [(x.hours, x.cost) for x in ledger.lines] == [(d("4.17"), d("398.13"))] * 2
    (invoice,) = ledger.invoice_lines()
    assert invoice.amount == Amount(d("8.34"), d("796.26"))
    assert invoice.people == 2
    (p01,) = [s for s in ledger.summaries() if s.party.party_id == "P01"]
    assert p01.borrowed == invoice.amount == ledger.balances()[0].a_owes_b


@pytest.mark.parametrize(
    ("week", "day", "hours"),
    [
        ("2026-W13", "2026-03-29", "1.00"),  # clocks go forward at 01:00: 01:00-03:00 is 1 h
        ("2026-W43", "2026-10-25", "3.00"),  # clocks go back at 02:00: 01:00-03:00 is 3 h
    ],
)
def test_a_night_session_across_a_clock_change_counts_real_hours(
    week: str, day: str, hours: str
) -> None:
    ledger = build_ledger(network(), week_period(week), [assign("A", day, "NIGHT", "P02")])
    (line,) = ledger.lines
    assert line.hours == d(hours)
    assert line.cost == d(hours) * 90
    assert ledger.balances()[0].amount == d(hours) * 90


def test_a_practice_sees_only_its_own_lines_summary_and_pairs() -> None:
    ledger = build_ledger(network(), W49, WEEK_ROTA).only("P02")
    assert {(x.host, x.employer) for x in ledger.lines} == {("P01", "P02"), ("P02", "P01")}
    assert [s.party.party_id for s in ledger.summaries()] == ["P02"]
    assert [(b.a, b.b) for b in ledger.balances()] == [("P01", "P02")]
    assert [r[0] for r in ledger_tables(ledger)["breakdown"][1]] == ["P02"] * 3


def test_sessions_of_people_no_longer_in_the_network_are_reported_not_dropped() -> None:
    gone = assign("S99", "2026-12-01", "AM", "P01")
    ledger = build_ledger(network(), W49, [*WEEK_ROTA, gone])
    assert ledger.uncounted == ("1 session(s) not counted: staff S99 is no longer in staff.csv",)
    assert ledger.lines == build_ledger(network(), W49, WEEK_ROTA).lines
    assert "Warning: 1 session(s) not counted" in "\n".join(summary_lines(ledger))


def test_only_the_period_counts_and_unpublished_weeks_are_named() -> None:
    period = custom_period(dt.date(2026, 12, 2), dt.date(2026, 12, 8))
    ledger = build_ledger(network(), period, WEEK_ROTA, published={"2026-W49"})
    assert {x.staff_id for x in ledger.lines} == {"B", "C", "D"}  # A worked on 1 December
    assert (ledger.published_weeks, ledger.unpublished_weeks) == (("2026-W49",), ("2026-W50",))
    assert "Not published, so not counted: 2026-W50." in summary_lines(ledger)


# --------------------------------------------------------------------------- files


def _decimal_or_none(value: object) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(CENTS)


def test_every_figure_survives_a_round_trip_through_the_workbook(tmp_path: Path) -> None:
    ledger = build_ledger(network(), W49, WEEK_ROTA)
    book = openpyxl.load_workbook(write_ledger_xlsx(ledger, tmp_path / "ledger.xlsx"))
    tables = ledger_tables(ledger)
    assert book.sheetnames == [*tables, "notes"]
    for name, (header, rows) in tables.items():
        read = list(book[name].iter_rows(values_only=True))
        assert read[0] == header
        assert len(read) == len(rows) + 1
        for got, want in zip(read[1:], rows, strict=True):
            for cell, value in zip(got, want, strict=True):
                if isinstance(value, Decimal) or (value is None and cell is None):
                    assert _decimal_or_none(cell) == value, (name, header, want)
                else:
                    assert cell == value, (name, header, want)
    notes = dict(book["notes"].iter_rows(min_row=2, values_only=True))
    assert notes["hours without a rate"] == 4.5
    assert "charged to the hub" in notes["hub sessions"]


def test_the_csv_files_hold_the_same_figures_blank_for_an_unknown_cost(tmp_path: Path) -> None:
    ledger = build_ledger(network(), W49, WEEK_ROTA)
    written = write_ledger_csv(ledger, tmp_path / "out")
    assert [p.name for p in written] == [f"recharge-{n}.csv" for n in ledger_tables(ledger)]
    with (tmp_path / "out" / "recharge-invoices.csv").open(encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[3][2:] == ["P01", "P02", "HCA", "1", "4.50", "", "4.50"]
    (single,) = write_ledger_csv(ledger, tmp_path / "invoices.csv")
    assert single.read_text(encoding="utf-8") == written[0].read_text(encoding="utf-8")


# --------------------------------------------------------------------------- periods


def test_weeks_months_and_custom_ranges_are_read_inclusive() -> None:
    assert (W49.first, W49.last, W49.label) == (
        dt.date(2026, 11, 30),
        dt.date(2026, 12, 6),
        "2026-W49",
    )
    assert week_period("2026-w49") == W49
    december = month_period("2026-12")
    assert (december.first, december.last) == (dt.date(2026, 12, 1), dt.date(2026, 12, 31))
    assert december.weeks == ("2026-W49", "2026-W50", "2026-W51", "2026-W52", "2026-W53")
    assert month_period("2028-02").last == dt.date(2028, 2, 29)
    assert month_period("9999-12").last == dt.date(9999, 12, 31)
    assert choose_period(first="2026-12-01", last="2026-12-01").weeks == ("2026-W49",)
    assert choose_period(month="2026-12") == december
    assert december.args == {"month": "2026-12"}
    assert choose_period(first="2026-12-01", last="2026-12-20").args == {
        "from": "2026-12-01",
        "to": "2026-12-20",
    }


@pytest.mark.parametrize(
    ("given", "field", "words"),
    [
        ({"first": "2026-12-10", "last": "2026-12-01"}, "to", "before from 2026-12-10"),
        ({"first": "2026-02-30", "last": "2026-03-01"}, "from", "not a date"),
        ({"first": "20261201", "last": "2026-12-31"}, "from", "not a date"),
        ({"first": "2026-12-01"}, "to", "give both dates"),
        ({"last": "2026-12-01"}, "from", "give both dates"),
        ({"week": "2026-W49", "month": "2026-12"}, "period", "not several (week, month given)"),
        ({}, "period", "choose a period"),
        ({"week": "2026-W54"}, "week", "not an ISO week"),
        ({"month": "2026-13"}, "month", "not a month"),
        ({"month": "0000-01"}, "month", "not a month"),
        ({"first": "2026-01-01", "last": "2027-01-02"}, "to", "longer than 366 days"),
    ],
)
def test_a_bad_period_names_the_field_to_fix(given: dict[str, str], field: str, words: str) -> None:
    with pytest.raises(PeriodError) as caught:
        choose_period(**given)
    assert caught.value.field == field
    assert words in caught.value.message


def test_quick_periods_are_this_and_last_week_and_month() -> None:
    labels = [(name, p.label) for name, p in quick_periods(dt.date(2027, 1, 6))]
    assert labels == [
        ("This week", "2027-W01"),
        ("Last week", "2026-W53"),
        ("This month", "2027-01"),
        ("Last month", "2026-12"),
    ]


# --------------------------------------------------------------------------- stored rotas


def _save(db_url: str, week: str, rota: list[Assignment], state: str) -> None:
    engine = make_engine(db_url)
    try:
        with session_scope(engine) as db:
            save_week(db, network_id_of(db), week, rota, state=state)
    finally:
        engine.dispose()


def _tiny(db_url: str) -> None:
    import_bundle(db_url, TINY)


def test_published_assignments_are_the_current_publications_in_an_inclusive_range(
    db_url: str,
) -> None:
    _tiny(db_url)
    old = assign("S01", "2026-12-06", "AM", "P01")
    sunday, saturday = (
        assign("S02", "2026-12-06", "AM", "P01"),
        assign("S02", "2026-12-05", "AM", "P01"),
    )
    monday, tuesday = (
        assign("S03", "2026-12-07", "AM", "P02"),
        assign("S03", "2026-12-08", "AM", "P02"),
    )
    _save(db_url, "2026-W49", [old], "published")
    _save(db_url, "2026-W49", [saturday, sunday], "published")  # supersedes the first
    _save(db_url, "2026-W49", [assign("S04", "2026-12-06", "AM", "P02")], "draft")
    _save(db_url, "2026-W50", [monday, tuesday], "published")
    engine = make_engine(db_url)
    try:
        with session_scope(engine) as db:
            found = published_assignments(
                db, network_id_of(db), dt.date(2026, 12, 6), dt.date(2026, 12, 7)
            )
    finally:
        engine.dispose()
    assert found == [sunday, monday]


def test_a_period_with_only_a_draft_has_nothing_to_recharge(db_url: str) -> None:
    _tiny(db_url)
    _save(db_url, "2026-W49", [assign("S08", "2026-12-01", "AM", "P02")], "draft")
    engine = make_engine(db_url)
    try:
        with session_scope(engine) as db, pytest.raises(NothingPublishedError, match="drafts"):
            load_ledger(db, network_id_of(db), W49)
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- reconciliation


def _rota_csv_seconds(path: Path, bundle: Bundle) -> dict[tuple[str, str, str], int]:
    """Real seconds per (host, employer, staff) recomputed from rota.csv's own columns."""
    zone = ZoneInfo(bundle.timezone)
    employer = {p.staff_id: p.employer for p in bundle.staff}
    out: dict[tuple[str, str, str], int] = defaultdict(int)
    with path.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            day = dt.date.fromisoformat(row["date"])
            start, end = dt.time.fromisoformat(row["start"]), dt.time.fromisoformat(row["end"])
            end_day = day + dt.timedelta(days=1) if end <= start else day
            begin = dt.datetime.combine(day, start, tzinfo=zone).timestamp()
            finish = dt.datetime.combine(end_day, end, tzinfo=zone).timestamp()
            if employer[row["staff_id"]] != row["site_id"]:
                key = (row["site_id"], employer[row["staff_id"]], row["staff_id"])
                out[key] += int(finish - begin)
    return dict(out)


def _stored(tmp_path: Path, bundle: Bundle | None = None) -> tuple[str, Bundle]:
    """A database holding tiny (imported) or ``bundle`` (saved as is); its URL and bundle."""
    db_url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    if bundle is None:
        _tiny(db_url)
    else:
        upgrade(db_url)
    engine = make_engine(db_url)
    try:
        with session_scope(engine) as db:
            if bundle is not None:
                save_bundle(db, bundle)
            stored = bundle_with_leave(db, network_id_of(db))
    finally:
        engine.dispose()
    return db_url, stored


def _reconcile(
    tmp_path: Path, db_url: str, bundle: Bundle, week: str, rota: list[Assignment]
) -> None:
    """The ledger of the published week matches rota.csv hour by hour, and recharges.csv."""
    _save(db_url, week, rota, "published")
    engine = make_engine(db_url)
    try:
        with session_scope(engine) as db:
            ledger = load_ledger(db, network_id_of(db), week_period(week))
    finally:
        engine.dispose()
    period = week_period(week)
    days = [period.first + dt.timedelta(days=i) for i in range(7)]
    write_exports(tmp_path, bundle, days, rota, check_rota(bundle, days, rota).coverage)
    expected = _rota_csv_seconds(tmp_path / "rota.csv", bundle)
    assert expected, "the rota lends nobody: the reconciliation would prove nothing"
    assert {(x.host, x.employer, x.staff_id): x.seconds for x in ledger.lines} == expected
    per_pair: dict[tuple[str, str], int] = defaultdict(int)
    for (host, employer, _), seconds in expected.items():
        per_pair[(host, employer)] += seconds
    mine: dict[tuple[str, str], int] = defaultdict(int)
    for x in ledger.lines:
        mine[(x.host, x.employer)] += x.seconds
    assert mine == per_pair
    with (tmp_path / "recharges.csv").open(encoding="utf-8") as handle:
        recharges = [tuple(r) for r in csv.reader(handle)][1:]
    lines = [(x.host, x.employer, x.staff_id, str(x.hours), str(x.cost)) for x in ledger.lines]
    assert lines == recharges
    assert ledger.total.hours == sum((Decimal(r[3]) for r in recharges), Decimal(0))
    assert ledger.total.cost == sum((Decimal(r[4]) for r in recharges), Decimal(0))


def test_the_ledger_of_a_planned_tiny_week_reconciles_with_rota_csv_and_recharges_csv(
    tmp_path: Path,
) -> None:
    db_url, bundle = _stored(tmp_path)
    outcome = plan_week(bundle, "2026-W49", SolveOptions(time_limit=10, workers=2, seed=0))
    assert outcome.report is not None and outcome.report.ok
    _reconcile(tmp_path, db_url, bundle, "2026-W49", list(outcome.assignments))


def test_a_clock_change_week_reconciles_with_rota_csv(tmp_path: Path) -> None:
    """The week the clocks go back: A's Sunday night 01:00-03:00 at P02 is 3 real hours."""
    db_url, bundle = _stored(tmp_path, network())
    rota = [
        assign("A", "2026-10-25", "NIGHT", "P02"),
        assign("C", "2026-10-19", "AM", "P02"),  # the federation's pharmacist
        assign("B", "2026-10-20", "EVE", "HUB1"),
        assign("E", "2026-10-21", "AM", "P01"),  # at home: no recharge
    ]
    _reconcile(tmp_path, db_url, bundle, "2026-W43", rota)
    assert _rota_csv_seconds(tmp_path / "rota.csv", bundle)[("P02", "P01", "A")] == 3 * 3600
