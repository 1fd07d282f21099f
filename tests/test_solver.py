"""The solver as a whole: known optima, conflicts, order independence, random bundles."""

from __future__ import annotations

import dataclasses
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ortools.sat.python import cp_model

from scheduler.checks.validator import check_rota
from scheduler.domain import Building, Bundle, Rules, Weights
from scheduler.horizon import Horizon
from scheduler.usecases.planning import shortfall_words
from solver import SolveOptions, SolveStatus, solve
from solver.model import RotaModel
from solver.rules import build
from solver.solve import _outcome
from solver.steps import hint_everything, make_solver
from tests.factories import (
    WEEK,
    make_bundle,
    make_demand,
    make_fixed,
    make_leave,
    make_preference,
    make_session,
    make_site,
    make_staff,
)

OPTIONS = SolveOptions(time_limit=20, workers=2, seed=1)


def _two_gp_week() -> Bundle:
    """Two GPs, one practice, AM Mon-Fri (4.5 h): one GP needed, two wanted, each day."""
    staff = [
        make_staff(staff_id="S0001", contract_hours=9, hourly_rate=100),
        make_staff(staff_id="S0002", contract_hours=13.5, hourly_rate=80),
    ]
    return make_bundle(staff=staff, demand=[make_demand(role="GP", min=1, target=2)])


def test_tiny_bundle_reaches_the_hand_computed_optimum() -> None:
    # Capacity is 2 + 3 = 5 sessions for 5 days: every min is met, every target is 1 short
    # (5 x 1000), contract hours are met exactly (0), and cost is
    # 9 h x 100 x 0.01 + 13.5 h x 80 x 0.01 = 9 + 10.8.
    result = solve(Horizon(_two_gp_week(), WEEK), OPTIONS)
    assert result.status is SolveStatus.OPTIMAL
    assert result.objective == pytest.approx(5019.8)
    assert result.penalties["target_cover"] == pytest.approx(5000)
    assert result.penalties["cost"] == pytest.approx(19.8)
    assert result.shortfall == 0 and len(result.assignments) == 5


def test_tiny_bundle_with_leave_reaches_the_hand_computed_optimum() -> None:
    # S0002 away Mon and Tue: Mon/Tue can only be S0001 (2 sessions = all of S0001's hours),
    # so Wed-Fri fall to S0002 (3 sessions): all mins met again, targets 5 short.
    # S0002's leave counts 2 x 13.5/5 = 5.4 h, so S0002 is 5.4 h over contract:
    # 5.4 h x 2 = 10.8 points on top of 5019.8.
    bundle = dataclasses.replace(
        _two_gp_week(), leave=(make_leave("S0002", "2026-11-30", "2026-12-01", row=2),)
    )
    result = solve(Horizon(bundle, WEEK), OPTIONS)
    assert result.status is SolveStatus.OPTIMAL
    assert result.objective == pytest.approx(5030.6)
    assert result.penalties["contract_hours"] == pytest.approx(10.8)


def test_shuffled_input_gives_the_same_optimum() -> None:
    bundle = _two_gp_week()
    shuffled = dataclasses.replace(bundle, staff=tuple(reversed(bundle.staff)))
    a = solve(Horizon(bundle, WEEK), OPTIONS)
    b = solve(Horizon(shuffled, WEEK), OPTIONS)
    assert a.objective == b.objective


def test_fixed_on_a_leave_day_names_both_rows() -> None:
    bundle = make_bundle(
        demand=[make_demand()],
        fixed=[make_fixed(date="2026-12-01", row=2)],
        leave=[make_leave(start="2026-12-01", row=3)],
    )
    result = solve(Horizon(bundle, WEEK), OPTIONS)
    assert result.status is SolveStatus.CONFLICT and not result.assignments
    assert {(c.file, c.row) for c in result.conflicts} == {("fixed.csv", 2), ("leave.csv", 3)}


def test_fixed_beyond_max_hours_names_the_staff_row_and_the_pins() -> None:
    pins = [make_fixed(date=f"2026-12-0{d}", row=d + 1) for d in (1, 2, 3)]
    bundle = make_bundle(staff=[make_staff(max_hours=9)], demand=[make_demand()], fixed=pins)
    result = solve(Horizon(bundle, WEEK), OPTIONS)
    assert result.status is SolveStatus.CONFLICT
    found = {(c.file, c.row, c.column) for c in result.conflicts}
    assert ("staff.csv", 2, "max_hours") in found
    assert {(f, r) for f, r, _ in found if f == "fixed.csv"} == {
        ("fixed.csv", 2),
        ("fixed.csv", 3),
        ("fixed.csv", 4),
    }


def test_fixed_at_a_site_the_person_may_not_work_at_is_a_conflict() -> None:
    sites = [make_site(), make_site(site_id="P02")]
    bundle = make_bundle(
        sites=sites, demand=[make_demand(site_id="P02")], fixed=[make_fixed(site_id="P02", row=2)]
    )
    result = solve(Horizon(bundle, WEEK), OPTIONS)
    assert result.status is SolveStatus.CONFLICT
    assert result.conflicts[0].file == "fixed.csv" and result.conflicts[0].row == 2
    assert "may not work at P02" in result.conflicts[0].message


def test_min_hours_above_what_the_sessions_allow_is_a_conflict() -> None:
    bundle = make_bundle(staff=[make_staff(min_hours=30)], demand=[make_demand()])
    result = solve(Horizon(bundle, WEEK), OPTIONS)
    assert result.status is SolveStatus.CONFLICT
    assert ("staff.csv", 2, "min_hours") in {(c.file, c.row, c.column) for c in result.conflicts}


def test_progress_reports_end_on_the_returned_objective() -> None:
    seen = []
    result = solve(Horizon(_two_gp_week(), WEEK), OPTIONS, progress=seen.append)
    assert seen and seen[-1].objective == pytest.approx(result.objective)


def test_progress_only_ever_improves_and_counts_every_step() -> None:
    # Reports come from three searches (any rota, first goal, everything); each one
    # is scored on every goal, so the series never goes up.
    seen = []
    result = solve(Horizon(_two_gp_week(), WEEK), OPTIONS, progress=seen.append)
    objectives = [p.objective for p in seen]
    assert objectives == sorted(objectives, reverse=True)
    assert [p.solutions for p in seen] == sorted(p.solutions for p in seen)
    assert result.build_seconds > 0 and result.seconds >= result.build_seconds


# --------------------------------------------------------------------------- property

EVE = make_session("EVE", "18:30", "20:00", "Mon-Fri", "extended")
PM = make_session("PM", "13:30", "18:00")
SAT = make_session("SAT", "09:00", "13:00", "Sat", "extended")
ROLES = ("GP", "PN")


@st.composite
def small_bundles(draw: st.DrawFn) -> Bundle:
    """Two sites, up to five people, random demand, caps, leave and preferences."""
    rng = random.Random(draw(st.integers(0, 10_000)))
    sites = [make_site(rooms=rng.choice([0, 1, 2])), make_site(site_id="P02", rooms=0)]
    homes = [rng.choice(["P01", "P02"]) for _ in range(draw(st.integers(1, 5)))]
    staff = [
        make_staff(
            rng.choice(ROLES),
            staff_id=f"S{i:04d}",
            home_site=home,
            sites=rng.choice(["*", home]),
            contract_hours=rng.choice([9, 13.5, 22.5, 37.5]),
            max_evenings=rng.randint(0, 2),
            max_weekend_sessions=rng.randint(0, 1),
            max_sessions_per_day=rng.choice([None, 1, 3]),
            hourly_rate=rng.randint(20, 100),
            skills=rng.choice(["", "cytology"]),
        )
        for i, home in enumerate(homes, start=1)
    ]
    demand = [
        make_demand(
            rng.choice(["P01", "P02"]),
            rng.choice(["Mon", "Tue", "Mon-Fri", "Sat"]),
            session,
            role=rng.choice([*ROLES, None]),
            skill=rng.choice([None, None, "cytology"]),
            min=rng.randint(0, 2),
            target=2,
            weight=rng.choice([0.5, 1.0, 2.0]),
        )
        for session in rng.sample(["AM", "PM", "EVE", "SAT"], rng.randint(1, 3))
    ]
    demand = [d for d in demand if d.day.weekdays != frozenset({5}) or d.session_id == "SAT"]
    demand = [d for d in demand if d.session_id != "SAT" or d.day.weekdays == frozenset({5})]
    leave = [make_leave(p.staff_id, "2026-12-01") for p in staff if rng.random() < 0.3]
    prefs = [
        make_preference(
            p.staff_id, "Mon", preference=rng.choice(["unavailable", "avoid", "prefer"])
        )
        for p in staff
        if rng.random() < 0.3
    ]
    return make_bundle(
        sites=sites,
        session_types=[make_session(), PM, EVE, SAT],
        staff=staff,
        demand=demand or [make_demand()],
        leave=leave,
        preferences=prefs,
        weights=Weights(),
    )


@settings(
    max_examples=30, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(small_bundles())
def test_random_bundles_always_give_a_rota_the_validator_accepts(bundle: Bundle) -> None:
    assert_the_validator_accepts_the_optimum(bundle)


def assert_the_validator_accepts_the_optimum(bundle: Bundle) -> None:
    """The solver proves an optimum; the validator accepts it and counts the same shortfall."""
    result = solve(Horizon(bundle, WEEK), SolveOptions(time_limit=10, workers=2, seed=0))
    assert result.status is SolveStatus.OPTIMAL
    report = check_rota(bundle, WEEK, result.assignments)
    assert report.ok, [v.message for v in report.violations]
    assert report.shortfall == result.shortfall


DAY = make_session("DAY", "08:00", "20:00", "Mon-Sun")
NIGHT = make_session("NIGHT", "18:30", "08:00", "Mon-Sun")
LATE = make_session("LATE", "23:00", "08:00", "Mon-Sun")
V2_SESSIONS = {"AM": make_session(), "PM": PM, "DAY": DAY, "NIGHT": NIGHT, "LATE": LATE}


@st.composite
def v2_bundles(draw: st.DrawFn) -> Bundle:
    """Format v2: overlapping day shifts beside AM/PM, nights of two patterns, two sites in
    one building, per-person duty limits and days off, and a site open on bank holidays."""
    rng = random.Random(draw(st.integers(0, 10_000)))
    sites = [
        make_site(rooms=rng.choice([0, 2]), building="B1"),
        make_site(site_id="P02", rooms=0, building="B1", bank_holidays=rng.choice([None, "open"])),
    ]
    staff = [
        make_staff(
            rng.choice(ROLES),
            staff_id=f"S{i:04d}",
            home_site=rng.choice(["P01", "P02"]),
            sites="*",
            contract_hours=rng.choice([22.5, 37.5, 48]),
            max_weekend_sessions=rng.randint(0, 3),
            max_sessions_per_day=rng.choice([None, 1, 3]),
            max_duty_hours=rng.choice([None, None, 14, 10]),
            min_days_off_per_week=rng.choice([None, 0, 2]),
        )
        for i in range(1, draw(st.integers(2, 6)))
    ]
    demand = [
        make_demand(
            rng.choice(["P01", "P02"]),
            rng.choice(["Mon", "Tue", "Sat", "Mon-Sun"])
            if session not in ("AM", "PM")
            else "Mon-Fri",
            session,
            role=rng.choice([*ROLES, None]),
            min=rng.randint(0, 2),
            target=2,
        )
        for session in rng.sample(sorted(V2_SESSIONS), rng.randint(2, 4))
    ]
    return make_bundle(
        sites=sites,
        buildings=(Building("B1", rng.choice([0, 1, 2, 3]), row=2),),
        session_types=list(V2_SESSIONS.values()),
        staff=staff,
        demand=demand,
        rules=Rules(min_days_off_per_week=rng.choice([0, 1])),
    )


@settings(
    max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(v2_bundles())
def test_random_v2_bundles_give_a_rota_the_validator_accepts(bundle: Bundle) -> None:
    assert_the_validator_accepts_the_optimum(bundle)


def test_a_rota_an_earlier_step_found_is_kept_when_the_last_search_finds_none() -> None:
    """The final search can end without a rota of its own (CP-SAT dropped the hint and time
    ran out): the rota the seeding steps found and hinted is returned, with its figures, not
    "no valid rota"."""
    horizon = Horizon(_two_gp_week(), WEEK)
    m = build(RotaModel(horizon))
    nothing = make_solver(OPTIONS, 1.0)
    assert _outcome(m, nothing, cp_model.UNKNOWN, OPTIONS, (0.0, 0.0, 0.0)).status is (
        SolveStatus.NO_SOLUTION
    )
    seeded = make_solver(OPTIONS)
    assert seeded.solve(m.model) == cp_model.OPTIMAL
    hint_everything(m, seeded)
    kept = _outcome(m, nothing, cp_model.UNKNOWN, OPTIONS, (0.0, 0.0, 5000.0))
    assert kept.status is SolveStatus.FEASIBLE
    assert kept.objective == pytest.approx(5019.8)  # the seed was the optimum here
    assert kept.bound == pytest.approx(5000.0)  # what the steps before proved, no more
    assert check_rota(horizon.bundle, WEEK, kept.assignments).ok
    on = {(k[1], k[2], k[3], k[0]) for k, value in (m.hinted or {}).items() if value}
    assert {(a.date, a.session_id, a.site_id, a.staff_id) for a in kept.assignments} == on


def test_the_fewest_people_short_come_first_whatever_the_weights_say() -> None:
    """Weights that would rather leave a minimum unmet than pay a dear GP: the first goal is
    settled first (lexicographically), so the GP works every morning and the summary can say
    the shortfall is proven the fewest possible."""
    dear = make_staff(staff_id="S0001", contract_hours=0, max_hours=22.5, hourly_rate=1000)
    bundle = make_bundle(
        staff=[dear],
        demand=[make_demand(role="GP", min=1, target=1)],
        weights=Weights(min_cover=1.0, target_cover=0.0),
    )
    result = solve(Horizon(bundle, WEEK), OPTIONS)
    assert result.status.has_rota
    assert (result.shortfall, result.shortfall_floor, result.shortfall_proven) == (0, 0, True)
    assert len(result.assignments) == 5  # a weighted sum alone would have left all 5 short
    assert result.penalties["cost"] == pytest.approx(5 * 4.5 * 1000 * 0.01)


def test_the_summary_says_whether_the_shortfall_is_proven() -> None:
    proven = dataclasses.replace(
        solve(Horizon(_two_gp_week(), WEEK), OPTIONS), shortfall_floor=2, shortfall_proven=True
    )
    assert shortfall_words(proven, 2) == "2 people short of minimum (proven the fewest possible)"
    unproven = dataclasses.replace(proven, shortfall_proven=False, shortfall_floor=1)
    assert shortfall_words(unproven, 2) == (
        "2 people short of minimum (not proven the fewest: no rota has fewer than 1)"
    )
    assert shortfall_words(unproven, 1) == "1 person short of minimum (the fewest possible)"
    assert shortfall_words(unproven, 0) == "nobody short of minimum"
