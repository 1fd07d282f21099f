"""The spreadsheet greedy: valid, repeatable, home staff first, and never ahead of CP-SAT."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from benchmarks.generate import write_network
from benchmarks.greedy import greedy_rota
from scheduler.bundle.reader import read_bundle
from scheduler.checks.validator import check_rota
from scheduler.domain import Assignment, Bundle, parse_iso_week
from scheduler.horizon import Horizon
from solver import SolveOptions, solve
from tests.factories import (
    WEEK,
    assign,
    make_bundle,
    make_demand,
    make_fixed,
    make_leave,
    make_session,
    make_site,
    make_staff,
    make_travel,
)

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data" / "riverside"
DATES = parse_iso_week("2026-W49")


def broken_rules(bundle: Bundle, rota: list[Assignment]) -> set[str]:
    """Hard rules the validator says the rota breaks, ``min_hours`` aside (greedy may miss it)."""
    report = check_rota(bundle, DATES, rota)
    return {v.rule_id for v in report.violations} - {"min_hours"}


def reversed_input(bundle: Bundle) -> Bundle:
    """The same bundle with its staff and demand rows listed back to front."""
    return dataclasses.replace(bundle, staff=bundle.staff[::-1], demand=bundle.demand[::-1])


@pytest.fixture(scope="module")
def sample() -> Bundle:
    return read_bundle(SAMPLE)[0]


def generated(tmp_path: Path, seed: int) -> Bundle:
    """A generated 8-practice network for week 2026-W49."""
    write_network(tmp_path / "net", 8, seed, "2026-W49")
    return read_bundle(tmp_path / "net")[0]


def test_sample_rota_keeps_every_hard_rule_and_repeats(sample: Bundle) -> None:
    rota = greedy_rota(Horizon(sample, DATES))
    assert rota and broken_rules(sample, rota) == set()
    assert greedy_rota(Horizon(sample, DATES)) == rota
    flipped = greedy_rota(Horizon(reversed_input(sample), DATES))
    assert broken_rules(sample, flipped) == set()
    assert flipped == rota  # needs and candidates are ordered by row number and staff id


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_generated_rota_keeps_every_hard_rule_and_repeats(tmp_path: Path, seed: int) -> None:
    bundle = generated(tmp_path, seed)
    rota = greedy_rota(Horizon(bundle, DATES))
    assert rota and broken_rules(bundle, rota) == set()
    assert greedy_rota(Horizon(bundle, DATES)) == rota
    flipped = greedy_rota(Horizon(reversed_input(bundle), DATES))
    assert broken_rules(bundle, flipped) == set()


def _three_practices() -> Bundle:
    """P01 needs 1-2 people on Monday and 1 on Tuesday; its own two GPs are away on Tuesday.

    S0001 lives furthest away (P03, 30 min) but has the lowest id, so only the
    travel order puts S0002 (P02, 10 min) ahead of it.
    """
    sites = [make_site(site_id=s) for s in ("P01", "P02", "P03")]
    staff = [
        make_staff(staff_id="S0001", home_site="P03", sites="*"),
        make_staff(staff_id="S0002", home_site="P02", sites="*"),
        make_staff(staff_id="S0003", home_site="P01"),
        make_staff(staff_id="S0004", home_site="P01"),
    ]
    demand = [make_demand("P01", "Mon", min=1, target=2), make_demand("P01", "Tue", min=1)]
    travel = [make_travel("P01", "P02", 10), make_travel("P01", "P03", 30)]
    leave = [make_leave("S0003", "2026-12-01"), make_leave("S0004", "2026-12-01")]
    return make_bundle(sites=sites, staff=staff, demand=demand, travel=travel, leave=leave)


def test_home_staff_go_first_then_the_nearest_and_filling_stops_at_target() -> None:
    rota = greedy_rota(Horizon(_three_practices(), WEEK))
    assert rota == [
        assign("S0003", "2026-11-30"),
        assign("S0004", "2026-11-30"),
        assign("S0002", "2026-12-01"),
    ]


@pytest.mark.parametrize(
    ("travel", "expected"),
    [
        # P02's PM starts 15 min after P01's AM ends: too soon with 30 min to travel. The late
        # one (18:00-23:00) would make Monday one duty of 15 hours, over the 13 a day leaves
        # after 11 hours' rest; Tuesday's AM comes 19.5 hours after Monday's.
        (30, [("2026-11-30", "AM", "P01"), ("2026-12-01", "AM", "P01")]),
        # With 10 min to travel the PM fits, the day is full at two sessions, Tuesday is rested.
        (
            10,
            [("2026-11-30", "AM", "P01"), ("2026-11-30", "PM", "P02"), ("2026-12-01", "AM", "P01")],
        ),
    ],
)
def test_travel_and_rest_between_sessions_are_kept(
    travel: int, expected: list[tuple[str, str, str]]
) -> None:
    sessions = [
        make_session("AM", "08:00", "12:30"),
        make_session("PM", "12:45", "17:00"),
        make_session("LATE", "18:00", "23:00", kind="extended"),
    ]
    demand = [
        make_demand("P01", "Mon", "AM"),
        make_demand("P02", "Mon", "PM"),
        make_demand("P01", "Mon", "LATE"),
        make_demand("P01", "Tue", "AM"),
    ]
    bundle = make_bundle(
        sites=[make_site(site_id="P01"), make_site(site_id="P02")],
        session_types=sessions,
        staff=[make_staff(sites="P01;P02", max_evenings=1)],
        demand=demand,
        travel=[make_travel("P01", "P02", travel)],
    )
    rota = greedy_rota(Horizon(bundle, WEEK))
    assert rota == [assign("S0001", day, session, site) for day, session, site in expected]
    assert check_rota(bundle, WEEK, rota).ok


def test_pins_are_placed_and_count_towards_the_need() -> None:
    bundle = dataclasses.replace(
        _three_practices(), fixed=(make_fixed("S0001", "2026-11-30", row=2),)
    )
    rota = greedy_rota(Horizon(bundle, WEEK))
    monday = {a.staff_id for a in rota if a.date.isoformat() == "2026-11-30"}
    assert monday == {"S0001", "S0003"}  # the pin takes min, the first home GP takes target


def test_people_under_min_hours_are_topped_up_beyond_target() -> None:
    # Nobody is needed (min = target = 0), but 9 h of min_hours buys two 4.5 h mornings.
    bundle = make_bundle(staff=[make_staff(min_hours=9)], demand=[make_demand(min=0, target=0)])
    rota = greedy_rota(Horizon(bundle, WEEK))
    assert rota == [assign(date="2026-11-30"), assign(date="2026-12-01")]
    assert check_rota(bundle, WEEK, rota).ok


def test_unreachable_min_hours_is_left_for_the_validator_to_report() -> None:
    # Five 4.5 h mornings are 22.5 h, short of 30 h: every morning is taken and no more.
    bundle = make_bundle(staff=[make_staff(min_hours=30)], demand=[make_demand(min=0, target=0)])
    rota = greedy_rota(Horizon(bundle, WEEK))
    assert len(rota) == 5
    assert {v.rule_id for v in check_rota(bundle, WEEK, rota).violations} == {"min_hours"}


def test_solver_never_leaves_more_people_short_than_the_greedy(sample: Bundle) -> None:
    greedy = check_rota(sample, DATES, greedy_rota(Horizon(sample, DATES)))
    result = solve(Horizon(sample, DATES), SolveOptions(time_limit=20, workers=2, seed=1))
    assert result.status.has_rota
    planned = check_rota(sample, DATES, result.assignments)
    assert planned.ok
    assert planned.shortfall <= greedy.shortfall
