"""Fairness between practices: hub duty and lending against list share, and the solver's balance.

The history below is written by hand so that every figure is known:
practices P01, P02, P03 hold 60 %, 30 % and 10 % of the patients; over
2026-W38 to 2026-W49 their staff did 6 h, 9 h and 11 h at the hub (the
11 h are one night across the October clock change: 22:00-08:00 is ten
wall-clock hours) and 4.5 h, 0 h and 9 h at other practices.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from scheduler.checks.validator import check_rota
from scheduler.domain import Assignment, Bundle, SiteKind, Weights
from scheduler.horizon import Horizon
from scheduler.reports.fairness import (
    FAIRNESS_HEADER,
    PeriodError,
    fairness_report,
    fairness_rows,
    hub_balance,
    period_before,
    read_period,
    rolling_period,
    write_fairness,
)
from solver import SolveOptions, SolveResult, SolveStatus, solve
from tests.factories import WEEK, make_bundle, make_demand, make_session, make_site, make_staff

AM = make_session("AM", "08:00", "12:30")
EVE = make_session("EVE", "18:30", "20:00", "Mon-Fri", "extended")
NIGHT = make_session("NIGHT", "22:00", "08:00", "Sat", "extended")
SITES = [
    make_site(site_id="P01", name="Mill Lane", list_size=6000),
    make_site(site_id="P02", name="Station Road", list_size=3000),
    make_site(site_id="P03", name="Orchard", list_size=1000),
    make_site(site_id="HUB1", name="Hub", kind=SiteKind.HUB, list_size=0),
]


def network() -> Bundle:
    staff = [
        make_staff(staff_id="A1", home_site="P01", sites="*"),
        make_staff(staff_id="F1", home_site="P01", employer="FED", sites="*"),
        make_staff(staff_id="B1", home_site="P02", sites="*"),
        make_staff(staff_id="C1", home_site="P03", sites="*"),
        make_staff(staff_id="H1", home_site="HUB1", sites="*"),  # the hub's own team
    ]
    return make_bundle(sites=SITES, session_types=[AM, EVE, NIGHT], staff=staff, demand=[])


def on(day: str, session: str, site: str, staff: str) -> Assignment:
    return Assignment(dt.date.fromisoformat(day), session, site, staff)


HISTORY = [
    # P01: 4 evenings at the hub (6 h), two by a federation-employed person based at P01.
    on("2026-11-23", "EVE", "HUB1", "A1"),
    on("2026-11-24", "EVE", "HUB1", "A1"),
    on("2026-11-25", "EVE", "HUB1", "F1"),
    on("2026-11-26", "EVE", "HUB1", "F1"),
    # P02: 6 evenings at the hub (9 h).
    *(on(f"2026-11-{d}", "EVE", "HUB1", "B1") for d in (30, 23, 24, 25, 26, 27)),
    # P03: one night at the hub across the clock change (11 real hours).
    on("2026-10-24", "NIGHT", "HUB1", "C1"),
    # Lending: A1 at P02 once (4.5 h); C1 at P01 twice (9 h); B1 at home (not lending).
    on("2026-12-01", "AM", "P02", "A1"),
    on("2026-12-01", "AM", "P01", "C1"),
    on("2026-12-02", "AM", "P01", "C1"),
    on("2026-12-02", "AM", "P02", "B1"),
    # Not anyone's duty: the hub's own staff at the hub.
    *(on(f"2026-12-0{d}", "EVE", "HUB1", "H1") for d in (1, 2, 3)),
    # Outside the period (2026-W37), and someone no longer in the bundle.
    on("2026-09-07", "EVE", "HUB1", "A1"),
    on("2026-12-03", "AM", "P01", "GONE"),
]
PERIOD = rolling_period("2026-W49")


def d(text: str) -> Decimal:
    return Decimal(text)


# --------------------------------------------------------------------------- periods


def test_the_default_period_is_the_twelve_weeks_ending_with_the_week() -> None:
    assert PERIOD.first_week == "2026-W38" and PERIOD.last_week == "2026-W49"
    assert (PERIOD.first, PERIOD.last) == (dt.date(2026, 9, 14), dt.date(2026, 12, 6))


def test_the_solver_carries_the_weeks_before_the_planned_week() -> None:
    before = period_before("2027-W01", 4)
    assert (before.first_week, before.last_week) == ("2026-W50", "2026-W53")


@pytest.mark.parametrize(
    ("week", "weeks", "field"),
    [("2026-W60", None, "week"), ("", "4", "week"), ("2026-W49", "x", "weeks"),
     ("2026-W49", "0", "weeks"), ("2026-W49", "105", "weeks"), ("1900-W02", "3", "weeks")],
)  # fmt: skip
def test_a_bad_period_names_the_option_to_fix(week: str, weeks: str | None, field: str) -> None:
    with pytest.raises(PeriodError) as caught:
        read_period(week, weeks)
    assert caught.value.field == field


# --------------------------------------------------------------------------- the report


def test_hand_built_history_gives_known_shares_and_balances() -> None:
    report = fairness_report(network(), PERIOD, HISTORY)
    assert (report.hub_total, report.lending_total) == (d("26.00"), d("13.50"))
    assert (report.sessions, report.unattributed) == (19, 1)
    assert fairness_rows(report) == [
        ("P01", "Mill Lane", 6000, d("60.00"),
         d("6.00"), d("23.08"), d("15.60"), d("-9.60"),
         d("4.50"), d("33.33"), d("8.10"), d("-3.60")),
        ("P02", "Station Road", 3000, d("30.00"),
         d("9.00"), d("34.62"), d("7.80"), d("1.20"),
         d("0.00"), d("0.00"), d("4.05"), d("-4.05")),
        ("P03", "Orchard", 1000, d("10.00"),
         d("11.00"), d("42.31"), d("2.60"), d("8.40"),
         d("9.00"), d("66.67"), d("1.35"), d("7.65")),
    ]  # fmt: skip


def test_a_session_type_no_longer_in_the_bundle_is_left_out_and_said() -> None:
    # Its hours cannot be known: counted as nobody's (like a person who is gone), and said,
    # never silently dropped from the hub hours with the session still counted as looked at.
    gone = on("2026-11-27", "OLD_EVE", "HUB1", "A1")
    report = fairness_report(network(), PERIOD, [*HISTORY, gone])
    assert (report.sessions, report.unattributed) == (20, 2)
    assert report.hub_total == d("26.00")


def test_the_report_does_not_depend_on_the_order_of_the_sessions() -> None:
    shuffled = list(HISTORY)
    random.Random(7).shuffle(shuffled)
    assert fairness_report(network(), PERIOD, shuffled) == fairness_report(
        network(), PERIOD, HISTORY
    )


def test_a_period_without_hub_duty_has_zero_shares_and_owes_nothing() -> None:
    report = fairness_report(network(), rolling_period("2026-W50", 1), HISTORY)
    assert report.hub_total == 0 and report.sessions == 0
    assert all(line.hub.share == 0 and line.hub.balance == 0 for line in report.lines)


def test_the_solver_balance_is_hub_hours_less_the_list_share() -> None:
    assert hub_balance(network(), HISTORY[:-2]) == pytest.approx(
        {"P01": -9.6, "P02": 1.2, "P03": 8.4}
    )


def test_figures_survive_a_round_trip_through_the_workbook(tmp_path: Path) -> None:
    report = fairness_report(network(), PERIOD, HISTORY)
    path = write_fairness(tmp_path / "fairness.xlsx", report, "xlsx")
    book = load_workbook(path, read_only=True)
    rows = list(book["fairness"].iter_rows(values_only=True))
    period = dict(book["period"].iter_rows(min_row=2, values_only=True))
    book.close()
    assert rows[0] == FAIRNESS_HEADER
    expected = [
        tuple(float(v) if isinstance(v, Decimal) else v for v in row)
        for row in fairness_rows(report)
    ]
    assert rows[1:] == expected
    assert period["first_week"] == "2026-W38" and period["hub_hours_total"] == 26.0


def test_the_csv_holds_the_same_figures(tmp_path: Path) -> None:
    report = fairness_report(network(), PERIOD, HISTORY)
    text = write_fairness(tmp_path / "fairness.csv", report, "csv").read_text()
    lines = text.splitlines()
    assert lines[0] == ",".join(FAIRNESS_HEADER)
    assert lines[1] == "P01,Mill Lane,6000,60.00,6.00,23.08,15.60,-9.60,4.50,33.33,8.10,-3.60"


# --------------------------------------------------------------------------- the solver


def hub_evening(balance: dict[str, float], weight: float = 10.0) -> Bundle:
    """Two equal practices sharing one hub evening (Monday, 1.5 h) that either GP can take.

    Only fairness and cost speak: the cheaper A0 (P01) takes it unless P01 is ahead.
    """
    return make_bundle(
        sites=[
            make_site(site_id="P01", list_size=5000),
            make_site(site_id="P02", name="Hill Surgery", list_size=5000),
            make_site(site_id="HUB1", name="Hub", kind=SiteKind.HUB, list_size=0),
        ],
        session_types=[EVE],
        staff=[
            make_staff(
                staff_id="A0", home_site="P01", sites="P01;HUB1", max_evenings=1, hourly_rate=80
            ),
            make_staff(
                staff_id="B0", home_site="P02", sites="P02;HUB1", max_evenings=1, hourly_rate=100
            ),
        ],
        demand=[make_demand("HUB1", "Mon", "EVE", role="GP")],
        weights=Weights(
            away_from_home=0,
            fair_share=0,
            preference=0,
            contract_hours=0,
            practice_fairness=weight,
        ),
        fairness_balance=balance,
    )


def plan(bundle: Bundle) -> SolveResult:
    result = solve(Horizon(bundle, WEEK), SolveOptions(time_limit=10, workers=2, seed=0))
    assert result.status is SolveStatus.OPTIMAL
    assert check_rota(bundle, WEEK, result.assignments).ok
    return result


def who(result: SolveResult) -> list[str]:
    return [a.staff_id for a in result.assignments]


def test_practice_fairness_gives_the_hub_to_the_practice_behind() -> None:
    result = plan(hub_evening({"P01": 6.0, "P02": -6.0}))
    assert who(result) == ["B0"]
    # |6 - 0.75| + |-6 + 1.5 - 0.75| = 10.5 h at 10 per hour; B0's 1.5 h at 100 GBP x 0.01.
    paid = {rule: amount for rule, amount in result.penalties.items() if amount}
    assert paid == {"practice_fairness": 105.0, "cost": 1.5}
    assert result.objective == pytest.approx(106.5)


def test_practice_fairness_without_history_lets_cost_decide() -> None:
    result = plan(hub_evening({}))
    assert who(result) == ["A0"]
    assert result.objective == pytest.approx(1.2)
    assert "practice_fairness" not in result.penalties


def test_practice_fairness_weighted_zero_lets_cost_decide() -> None:
    result = plan(hub_evening({"P01": 6.0, "P02": -6.0}, weight=0))
    assert who(result) == ["A0"] and result.objective == pytest.approx(1.2)


def test_practice_fairness_balance_from_history_moves_the_hub_evening() -> None:
    bundle = hub_evening({})
    history = [on(f"2026-11-{day}", "EVE", "HUB1", "A0") for day in (16, 17, 18, 19, 20)]
    balance = hub_balance(bundle, history[:4])  # 6 h by P01, 0 by P02: +3 and -3
    assert balance == {"P01": 3.0, "P02": -3.0}
    assert who(plan(hub_evening(balance))) == ["B0"]
