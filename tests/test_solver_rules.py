"""Each solver rule on the smallest bundle where it bites, and one where it does not."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

import tests.test_fairness as fairness_tests
import tests.test_report_ea as report_ea_tests
from scheduler.domain import Bundle, ForbiddenSequence, Rules, SessionLimit, Weights
from scheduler.horizon import Horizon
from scheduler.validator import check_rota
from solver import SolveOptions, SolveResult, SolveStatus, solve
from solver.rules import HARD_RULES, SOFT_RULES
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
    make_travel,
)

# Only the goal under test (and a little cost to break ties) moves the optimum.
COVER_ONLY = Weights(away_from_home=0, fair_share=0, preference=0, contract_hours=0, cost=0)
EVE = make_session("EVE", "18:30", "20:00", "Mon-Fri", "extended")
PM = make_session("PM", "13:30", "18:00")
SAT = make_session("SAT", "09:00", "13:00", "Sat", "extended")
TWO_SITES = [make_site(), make_site(site_id="P02", name="Hill Surgery")]


def plan(bundle: Bundle) -> SolveResult:
    """Solve the week and insist the independent validator accepts whatever comes back."""
    result = solve(Horizon(bundle, WEEK), SolveOptions(time_limit=20, workers=2))
    if result.status.has_rota:
        report = check_rota(bundle, WEEK, result.assignments)
        assert report.ok, [v.message for v in report.violations]
        assert report.shortfall == result.shortfall
    return result


def worked(result: SolveResult, staff_id: str = "S0001") -> int:
    return sum(1 for a in result.assignments if a.staff_id == staff_id)


def one_day(session: str = "AM", site: str = "P01", **kw: object) -> object:
    return make_demand(site, "Mon", session, **kw)


# --------------------------------------------------------------------------- hard


def test_eligible_bites_when_role_does_not_fit() -> None:
    bundle = make_bundle(staff=[make_staff("PN")], demand=[one_day(role="GP")], weights=COVER_ONLY)
    result = plan(bundle)
    assert result.assignments == () and result.shortfall == 1


def test_eligible_does_not_bite_when_role_fits() -> None:
    bundle = make_bundle(staff=[make_staff("GP")], demand=[one_day(role="GP")], weights=COVER_ONLY)
    assert worked(plan(bundle)) == 1


def test_overlap_bites_for_the_same_session_at_two_sites() -> None:
    demand = [one_day(site="P01"), one_day(site="P02")]
    bundle = make_bundle(
        sites=TWO_SITES, staff=[make_staff(sites="*")], demand=demand, weights=COVER_ONLY
    )
    result = plan(bundle)
    assert worked(result) == 1 and result.shortfall == 1


def test_overlap_bites_when_travel_does_not_fit_between_sessions() -> None:
    close_pm = make_session("PM", "12:40", "17:00")
    demand = [one_day("AM", "P01"), one_day("PM", "P02")]
    bundle = make_bundle(
        sites=TWO_SITES,
        session_types=[make_session(), close_pm],
        staff=[make_staff(sites="*")],
        demand=demand,
        weights=COVER_ONLY,
        travel=[make_travel("P01", "P02", 15)],
    )
    assert worked(plan(bundle)) == 1


def test_overlap_does_not_bite_when_there_is_time_to_travel() -> None:
    demand = [one_day("AM", "P01"), one_day("PM", "P02")]
    bundle = make_bundle(
        sites=TWO_SITES,
        session_types=[make_session(), PM],
        staff=[make_staff(sites="*")],
        demand=demand,
        weights=COVER_ONLY,
        travel=[make_travel("P01", "P02", 15)],
    )
    assert worked(plan(bundle)) == 2


def test_leave_bites_on_the_leave_day() -> None:
    bundle = make_bundle(
        demand=[one_day()], leave=[make_leave(start="2026-11-30")], weights=COVER_ONLY
    )
    assert worked(plan(bundle)) == 0


def test_leave_does_not_bite_on_another_day() -> None:
    bundle = make_bundle(
        demand=[one_day()], leave=[make_leave(start="2026-12-01")], weights=COVER_ONLY
    )
    assert worked(plan(bundle)) == 1


def test_unavailable_bites() -> None:
    bundle = make_bundle(
        demand=[one_day()], preferences=[make_preference(day="Mon")], weights=COVER_ONLY
    )
    assert worked(plan(bundle)) == 0


def test_unavailable_does_not_bite_for_avoid() -> None:
    bundle = make_bundle(
        demand=[one_day()], preferences=[make_preference(day="Mon", preference="avoid")]
    )
    assert worked(plan(bundle)) == 1


def _three_sessions(cap: int) -> Bundle:
    person = make_staff(max_evenings=1, max_sessions_per_day=cap)
    demand = [one_day("AM"), one_day("PM"), one_day("EVE")]
    return make_bundle(
        session_types=[make_session(), PM, EVE], staff=[person], demand=demand, weights=COVER_ONLY
    )


def test_sessions_per_day_bites() -> None:
    assert worked(plan(_three_sessions(2))) == 2


def test_sessions_per_day_does_not_bite_when_allowed() -> None:
    assert worked(plan(_three_sessions(3))) == 3


def _evening_then_morning(rest_hours: float) -> Bundle:
    demand = [one_day("EVE"), make_demand("P01", "Tue", "AM")]
    return make_bundle(
        session_types=[make_session(), EVE],
        staff=[make_staff(max_evenings=1)],
        demand=demand,
        rules=Rules(min_rest_hours=rest_hours),
        weights=COVER_ONLY,
    )


def test_rest_bites_when_the_night_is_too_short() -> None:
    assert worked(plan(_evening_then_morning(13))) == 1  # 20:00 -> 08:00 is 12 h


def test_rest_does_not_bite_with_eleven_hours() -> None:
    assert worked(plan(_evening_then_morning(11))) == 2


def test_max_hours_bites() -> None:
    bundle = make_bundle(
        staff=[make_staff(max_hours=9)], demand=[make_demand()], weights=COVER_ONLY
    )
    assert worked(plan(bundle)) == 2  # 2 x 4.5 h


def test_max_hours_bites_through_the_network_weekly_cap() -> None:
    bundle = make_bundle(
        staff=[make_staff(contract_hours=45)],
        demand=[make_demand()],
        rules=Rules(max_week_hours=13.5),
        weights=COVER_ONLY,
    )
    assert worked(plan(bundle)) == 3


def test_max_hours_does_not_bite_with_room_to_spare() -> None:
    bundle = make_bundle(
        staff=[make_staff(max_hours=45)], demand=[make_demand()], weights=COVER_ONLY
    )
    assert worked(plan(bundle)) == 5


NOTHING_WANTED = Weights(
    min_cover=0,
    target_cover=0,
    away_from_home=0,
    fair_share=0,
    preference=0,
    contract_hours=0,
    cost=1,
)


def test_min_hours_bites() -> None:
    person = make_staff(min_hours=9, hourly_rate=100)
    bundle = make_bundle(
        staff=[person], demand=[make_demand(min=0, target=1)], weights=NOTHING_WANTED
    )
    assert worked(plan(bundle)) == 2


def test_min_hours_counts_leave_towards_the_minimum() -> None:
    person = make_staff(min_hours=9, contract_hours=22.5, hourly_rate=100)  # 4.5 h a leave day
    bundle = make_bundle(
        staff=[person],
        demand=[make_demand(min=0, target=1)],
        leave=[make_leave(start="2026-11-30")],
        weights=NOTHING_WANTED,
    )
    assert worked(plan(bundle)) == 1


def test_min_hours_does_not_bite_at_zero() -> None:
    person = make_staff(hourly_rate=100)
    bundle = make_bundle(
        staff=[person], demand=[make_demand(min=0, target=1)], weights=NOTHING_WANTED
    )
    assert worked(plan(bundle)) == 0


def _evenings(cap: int) -> Bundle:
    return make_bundle(
        session_types=[EVE],
        staff=[make_staff(max_evenings=cap)],
        demand=[make_demand(session_id="EVE")],
        weights=COVER_ONLY,
    )


def test_evenings_bites_at_zero() -> None:
    assert worked(plan(_evenings(0))) == 0


def test_evenings_does_not_bite_within_allowance() -> None:
    assert worked(plan(_evenings(2))) == 2


def _weekends(cap: int) -> Bundle:
    return make_bundle(
        session_types=[SAT],
        staff=[make_staff(max_weekend_sessions=cap)],
        demand=[make_demand(day="Sat", session_id="SAT")],
        weights=COVER_ONLY,
    )


def test_weekends_bites_at_zero() -> None:
    assert worked(plan(_weekends(0))) == 0


def test_weekends_does_not_bite_within_allowance() -> None:
    assert worked(plan(_weekends(1))) == 1


def _rooms(rooms: int) -> Bundle:
    staff = [make_staff(staff_id="S0001"), make_staff(staff_id="S0002")]
    return make_bundle(
        sites=[make_site(rooms=rooms)],
        staff=staff,
        demand=[one_day(min=2, target=2)],
        weights=COVER_ONLY,
    )


def test_rooms_bites() -> None:
    result = plan(_rooms(1))
    assert len(result.assignments) == 1 and result.shortfall == 1


def test_rooms_does_not_bite_when_unlimited() -> None:
    assert len(plan(_rooms(0)).assignments) == 2


def _pinned(fixed: list) -> Bundle:
    staff = [
        make_staff(staff_id="S0001", hourly_rate=50),
        make_staff(staff_id="S0002", hourly_rate=90),
    ]
    return make_bundle(staff=staff, demand=[one_day(min=1, target=1)], fixed=fixed)


def test_fixed_bites_and_keeps_the_dearer_pinned_person() -> None:
    result = plan(_pinned([make_fixed("S0002", "2026-11-30")]))
    assert [a.staff_id for a in result.assignments] == ["S0002"]


def test_fixed_does_not_bite_without_a_pin() -> None:
    assert [a.staff_id for a in plan(_pinned([])).assignments] == ["S0001"]


# --------------------------------------------------------------------------- soft


def test_min_cover_goes_to_the_heavier_row() -> None:
    demand = [one_day(role=None, weight=1.0), one_day(skill="coils", weight=3.0)]
    person = make_staff(skills="coils")
    bundle = make_bundle(staff=[person], demand=demand, weights=COVER_ONLY)
    result = plan(bundle)
    assert result.penalties["min_cover"] == pytest.approx(10_000.0)  # the lighter row is short


def test_min_cover_is_never_traded_for_a_heavier_rows_target() -> None:
    # One person; P01 needs them (weight 1), P02 only wants someone (weight 20).
    demand = [
        one_day(site="P01", min=1, target=1, weight=1.0),
        one_day(site="P02", min=0, target=1, weight=20.0),
    ]
    bundle = make_bundle(sites=TWO_SITES, staff=[make_staff(sites="*")], demand=demand)
    result = plan(bundle)
    assert [a.site_id for a in result.assignments] == ["P01"] and result.shortfall == 0


def test_min_cover_unweighted_leaves_the_minimum_unmet() -> None:
    bundle = make_bundle(
        staff=[make_staff(hourly_rate=80)],
        demand=[one_day()],
        weights=Weights(min_cover=0, target_cover=0, contract_hours=0),
    )
    assert worked(plan(bundle)) == 0  # nothing asks for cover, so cost keeps people home


def _target_bundle(weights: Weights) -> Bundle:
    staff = [make_staff(staff_id="S0001"), make_staff(staff_id="S0002")]
    return make_bundle(staff=staff, demand=[one_day(min=1, target=2)], weights=weights)


def test_target_cover_fills_up_to_target() -> None:
    assert len(plan(_target_bundle(Weights(contract_hours=0))).assignments) == 2


def test_target_cover_off_stops_at_min() -> None:
    assert len(plan(_target_bundle(Weights(target_cover=0, contract_hours=0))).assignments) == 1


def _crowd(weights: Weights) -> Bundle:
    staff = [make_staff(staff_id=f"S000{i}") for i in range(1, 4)]
    return make_bundle(staff=staff, demand=[one_day(min=1, target=2)], weights=weights)


def test_over_target_keeps_spare_people_out_of_a_full_clinic() -> None:
    assert len(plan(_crowd(Weights())).assignments) == 2


def test_over_target_off_lets_contract_hours_fill_the_room() -> None:
    assert len(plan(_crowd(Weights(over_target=0))).assignments) == 3


def test_over_target_gives_way_to_pins() -> None:
    staff = [make_staff(staff_id="S0001"), make_staff(staff_id="S0002")]
    pins = [make_fixed("S0001", "2026-11-30"), make_fixed("S0002", "2026-11-30")]
    bundle = make_bundle(staff=staff, demand=[one_day(min=1, target=1)], fixed=pins)
    result = plan(bundle)
    assert result.status is SolveStatus.OPTIMAL and len(result.assignments) == 2
    assert result.penalties["over_target"] == pytest.approx(100)


def _home_bundle(weight: float) -> Bundle:
    staff = [
        make_staff(staff_id="S0001", home_site="P01", sites="*", hourly_rate=80),
        make_staff(staff_id="S0002", home_site="P02", sites="*", hourly_rate=90),
    ]
    return make_bundle(
        sites=TWO_SITES,
        staff=staff,
        demand=[one_day(site="P02", target=1)],
        weights=Weights(away_from_home=weight, contract_hours=0),
    )


def test_away_from_home_keeps_people_at_their_practice() -> None:
    assert [a.staff_id for a in plan(_home_bundle(40)).assignments] == ["S0002"]


def test_away_from_home_off_lets_cost_decide() -> None:
    assert [a.staff_id for a in plan(_home_bundle(0)).assignments] == ["S0001"]


def _evening_share(weight: float) -> Bundle:
    staff = [
        make_staff(staff_id="S0001", max_evenings=2, hourly_rate=80),
        make_staff(staff_id="S0002", max_evenings=2, hourly_rate=90),
    ]
    demand = [make_demand(day="Mon;Tue", session_id="EVE")]
    return make_bundle(
        session_types=[EVE],
        staff=staff,
        demand=demand,
        weights=Weights(fair_share=weight, contract_hours=0),
    )


def test_fair_evenings_spreads_evenings() -> None:
    result = plan(_evening_share(15))
    assert worked(result, "S0001") == 1 and worked(result, "S0002") == 1


def test_fair_evenings_off_gives_both_to_the_cheaper() -> None:
    assert worked(plan(_evening_share(0)), "S0001") == 2


def _weekend_share(weight: float) -> Bundle:
    sat_pm = make_session("SATPM", "13:00", "17:00", "Sat", "extended")
    staff = [
        make_staff(staff_id="S0001", max_weekend_sessions=2, hourly_rate=80),
        make_staff(staff_id="S0002", max_weekend_sessions=2, hourly_rate=90),
    ]
    demand = [make_demand(day="Sat", session_id="SAT"), make_demand(day="Sat", session_id="SATPM")]
    return make_bundle(
        session_types=[SAT, sat_pm],
        staff=staff,
        demand=demand,
        weights=Weights(fair_share=weight, contract_hours=0),
    )


def test_fair_weekends_spreads_weekend_sessions() -> None:
    result = plan(_weekend_share(15))
    assert worked(result, "S0001") == 1 and worked(result, "S0002") == 1


def test_fair_weekends_off_gives_both_to_the_cheaper() -> None:
    assert worked(plan(_weekend_share(0)), "S0001") == 2


def _preference_bundle(kind: str, weight: float) -> Bundle:
    staff = [
        make_staff(staff_id="S0001", hourly_rate=80),
        make_staff(staff_id="S0002", hourly_rate=90),
    ]
    who = "S0001" if kind == "avoid" else "S0002"
    prefs = [make_preference(who, "Mon", preference=kind)]
    return make_bundle(
        staff=staff,
        demand=[one_day(target=1)],
        preferences=prefs,
        weights=Weights(preference=weight, contract_hours=0),
    )


def test_preference_avoid_moves_the_session_away() -> None:
    assert [a.staff_id for a in plan(_preference_bundle("avoid", 8)).assignments] == ["S0002"]


def test_preference_prefer_brings_the_session_to_them() -> None:
    assert [a.staff_id for a in plan(_preference_bundle("prefer", 8)).assignments] == ["S0002"]


def test_preference_off_lets_cost_decide() -> None:
    assert [a.staff_id for a in plan(_preference_bundle("prefer", 0)).assignments] == ["S0001"]


def _contract_bundle(weight: float) -> Bundle:
    staff = [
        make_staff(staff_id="S0001", contract_hours=4.5, max_hours=9, hourly_rate=80),
        make_staff(staff_id="S0002", contract_hours=9, hourly_rate=90),
    ]
    demand = [make_demand(day="Mon;Tue", min=1, target=1)]
    return make_bundle(staff=staff, demand=demand, weights=Weights(contract_hours=weight))


def test_contract_hours_shares_work_by_contract() -> None:
    assert worked(plan(_contract_bundle(2)), "S0001") == 1


def test_contract_hours_off_lets_cost_decide() -> None:
    assert worked(plan(_contract_bundle(0)), "S0001") == 2


def _cost_bundle(weight: float) -> Bundle:
    staff = [
        make_staff(staff_id="S0001", hourly_rate=120),
        make_staff(staff_id="S0002", hourly_rate=60),
    ]
    return make_bundle(
        staff=staff, demand=[one_day(target=1)], weights=Weights(contract_hours=0, cost=weight)
    )


def test_cost_prefers_the_cheaper_person() -> None:
    assert [a.staff_id for a in plan(_cost_bundle(0.01)).assignments] == ["S0002"]


def test_cost_off_has_no_opinion_but_still_covers() -> None:
    result = plan(_cost_bundle(0))
    assert len(result.assignments) == 1 and result.penalties.get("cost", 0) == 0


# -------------------------------------------------------------- horizon rules

TWO_WEEKS = tuple(WEEK[0] + dt.timedelta(days=i) for i in range(14))


def plan_over(bundle: Bundle, dates: tuple[dt.date, ...] = TWO_WEEKS) -> SolveResult:
    """Like ``plan`` over a longer horizon, checked by the validator over the same dates."""
    result = solve(Horizon(bundle, dates), SolveOptions(time_limit=20, workers=2))
    assert result.status.has_rota
    report = check_rota(bundle, dates, result.assignments)
    assert report.ok, [v.message for v in report.violations]
    assert report.shortfall == result.shortfall
    return result


def _eve_then_am(banned: bool) -> Bundle:
    """EVE Monday (ends 20:00) then AM Tuesday (08:00): 12 h apart, so rest alone allows it."""
    seq = (ForbiddenSequence("EVE", "AM", row=2),) if banned else ()
    return make_bundle(
        session_types=[make_session(), EVE],
        staff=[make_staff(max_evenings=1)],
        demand=[make_demand(day="Mon", session_id="EVE"), make_demand(day="Tue")],
        weights=COVER_ONLY,
        forbidden_sequences=seq,
    )


def test_sequence_bites_on_the_next_day() -> None:
    result = plan(_eve_then_am(banned=True))
    assert worked(result) == 1 and result.shortfall == 1


def test_sequence_does_not_bite_when_not_listed() -> None:
    result = plan(_eve_then_am(banned=False))
    assert worked(result) == 2 and result.shortfall == 0


def _weekdays(**person: object) -> Bundle:
    """One GP, one AM need Monday to Friday."""
    return make_bundle(staff=[make_staff(**person)], weights=COVER_ONLY)


def test_max_consecutive_bites() -> None:
    result = plan(_weekdays(max_consecutive_days=3))
    assert worked(result) == 4 and result.shortfall == 1  # e.g. Mon-Wed, Fri


def test_max_consecutive_does_not_bite_at_five() -> None:
    assert worked(plan(_weekdays(max_consecutive_days=5))) == 5


def one_day_at(day: str) -> object:
    """A single AM need on one day: working it makes a one-day run."""
    return make_demand("P01", day, "AM")


def test_min_runs_bites_on_a_lone_working_day_inside_the_horizon() -> None:
    bundle = make_bundle(
        staff=[make_staff(min_consecutive_days=2)],
        demand=[one_day_at("Wed")],
        weights=COVER_ONLY,
    )
    result = plan(bundle)
    assert worked(result) == 0 and result.shortfall == 1


def test_min_runs_does_not_bite_on_a_run_touching_the_horizon_edge() -> None:
    # Monday is the first date planned: the run may have begun the week before.
    bundle = make_bundle(
        staff=[make_staff(min_consecutive_days=2)],
        demand=[one_day_at("Mon")],
        weights=COVER_ONLY,
    )
    assert worked(plan(bundle)) == 1


def test_min_runs_lone_day_off_costs_a_second_day_off() -> None:
    # Leave on Wednesday makes a one-day break; two days off in a row are needed.
    bundle = make_bundle(
        staff=[make_staff(min_days_off_in_row=2)],
        leave=[make_leave(start="2026-12-02")],
        weights=COVER_ONLY,
    )
    result = plan(bundle)
    assert worked(result) == 3 and result.shortfall == 2


def test_min_runs_without_minimum_only_the_leave_day_is_lost() -> None:
    bundle = make_bundle(leave=[make_leave(start="2026-12-02")], weights=COVER_ONLY)
    result = plan(bundle)
    assert worked(result) == 4 and result.shortfall == 1


def _saturdays(max_weekends: int) -> Bundle:
    return make_bundle(
        session_types=[SAT],
        staff=[make_staff(max_weekend_sessions=1, max_weekends=max_weekends)],
        demand=[make_demand(day="Sat", session_id="SAT")],
        weights=COVER_ONLY,
    )


def test_max_weekends_bites_over_two_weeks() -> None:
    result = plan_over(_saturdays(1))
    assert worked(result) == 1 and result.shortfall == 1


def test_max_weekends_does_not_bite_when_both_allowed() -> None:
    result = plan_over(_saturdays(2))
    assert worked(result) == 2 and result.shortfall == 0


def test_horizon_hours_bites_over_two_weeks() -> None:
    # 27 h = six 4.5 h sessions of the ten needed; the weekly cap (37.5 h) would allow all.
    result = plan_over(_weekdays(max_horizon_hours=27))
    assert worked(result) == 6 and result.shortfall == 4


def test_horizon_hours_does_not_bite_without_a_cap() -> None:
    assert worked(plan_over(_weekdays())) == 10


def test_horizon_hours_minimum_puts_people_to_work() -> None:
    # Nobody is needed (min 0, target 0), so only min_horizon_hours makes anyone work.
    bundle = make_bundle(
        staff=[make_staff(min_horizon_hours=18)],
        demand=[make_demand(min=0, target=0)],
        weights=COVER_ONLY,
    )
    assert worked(plan_over(bundle)) == 4


def _limited(max_sessions: int) -> Bundle:
    limit = SessionLimit("S0001", "AM", max_sessions, row=2)
    return make_bundle(staff=[make_staff()], weights=COVER_ONLY, session_limits=(limit,))


def test_session_limit_bites() -> None:
    result = plan(_limited(2))
    assert worked(result) == 2 and result.shortfall == 3


def test_session_limit_does_not_bite_at_five() -> None:
    assert worked(plan(_limited(5))) == 5


def test_weekly_hours_hold_in_each_week_of_a_longer_horizon() -> None:
    # max_hours 9 = two sessions a week: four over two weeks, not two.
    result = plan_over(_weekdays(max_hours=9, contract_hours=9))
    by_week = sorted(a.date.isocalendar()[1] for a in result.assignments)
    assert by_week == [49, 49, 50, 50]


# --------------------------------------------------------------------------- registry

PAIRS: dict[str, tuple[Callable[..., None], ...]] = {
    "eligible": (
        test_eligible_bites_when_role_does_not_fit,
        test_eligible_does_not_bite_when_role_fits,
    ),
    "overlap": (
        test_overlap_bites_for_the_same_session_at_two_sites,
        test_overlap_does_not_bite_when_there_is_time_to_travel,
    ),
    "leave": (test_leave_bites_on_the_leave_day, test_leave_does_not_bite_on_another_day),
    "unavailable": (test_unavailable_bites, test_unavailable_does_not_bite_for_avoid),
    "sessions_per_day": (
        test_sessions_per_day_bites,
        test_sessions_per_day_does_not_bite_when_allowed,
    ),
    "rest": (
        test_rest_bites_when_the_night_is_too_short,
        test_rest_does_not_bite_with_eleven_hours,
    ),
    "max_hours": (test_max_hours_bites, test_max_hours_does_not_bite_with_room_to_spare),
    "min_hours": (test_min_hours_bites, test_min_hours_does_not_bite_at_zero),
    "evenings": (test_evenings_bites_at_zero, test_evenings_does_not_bite_within_allowance),
    "weekends": (test_weekends_bites_at_zero, test_weekends_does_not_bite_within_allowance),
    "rooms": (test_rooms_bites, test_rooms_does_not_bite_when_unlimited),
    "fixed": (
        test_fixed_bites_and_keeps_the_dearer_pinned_person,
        test_fixed_does_not_bite_without_a_pin,
    ),
    "min_cover": (
        test_min_cover_goes_to_the_heavier_row,
        test_min_cover_unweighted_leaves_the_minimum_unmet,
    ),
    "target_cover": (test_target_cover_fills_up_to_target, test_target_cover_off_stops_at_min),
    "over_target": (
        test_over_target_keeps_spare_people_out_of_a_full_clinic,
        test_over_target_off_lets_contract_hours_fill_the_room,
    ),
    "away_from_home": (
        test_away_from_home_keeps_people_at_their_practice,
        test_away_from_home_off_lets_cost_decide,
    ),
    "fair_evenings": (
        test_fair_evenings_spreads_evenings,
        test_fair_evenings_off_gives_both_to_the_cheaper,
    ),
    "fair_weekends": (
        test_fair_weekends_spreads_weekend_sessions,
        test_fair_weekends_off_gives_both_to_the_cheaper,
    ),
    "preference": (
        test_preference_avoid_moves_the_session_away,
        test_preference_off_lets_cost_decide,
    ),
    "contract_hours": (
        test_contract_hours_shares_work_by_contract,
        test_contract_hours_off_lets_cost_decide,
    ),
    "cost": (test_cost_prefers_the_cheaper_person, test_cost_off_has_no_opinion_but_still_covers),
    "enhanced_access": (
        report_ea_tests.test_enhanced_access_covers_every_window_with_a_gp,
        report_ea_tests.test_enhanced_access_off_leaves_the_evenings_empty,
    ),
    "practice_fairness": (
        fairness_tests.test_practice_fairness_gives_the_hub_to_the_practice_behind,
        fairness_tests.test_practice_fairness_without_history_lets_cost_decide,
    ),
    "sequence": (test_sequence_bites_on_the_next_day, test_sequence_does_not_bite_when_not_listed),
    "max_consecutive": (test_max_consecutive_bites, test_max_consecutive_does_not_bite_at_five),
    "min_runs": (
        test_min_runs_bites_on_a_lone_working_day_inside_the_horizon,
        test_min_runs_does_not_bite_on_a_run_touching_the_horizon_edge,
    ),
    "max_weekends": (
        test_max_weekends_bites_over_two_weeks,
        test_max_weekends_does_not_bite_when_both_allowed,
    ),
    "horizon_hours": (
        test_horizon_hours_bites_over_two_weeks,
        test_horizon_hours_does_not_bite_without_a_cap,
    ),
    "session_limit": (test_session_limit_bites, test_session_limit_does_not_bite_at_five),
}


def test_every_registered_rule_has_a_pair_of_tests() -> None:
    registered = {r.rule_id for r in (*HARD_RULES, *SOFT_RULES)}
    assert registered == set(PAIRS)
    assert all(len(tests) == 2 for tests in PAIRS.values())


def test_a_conflict_is_reported_not_solved_around() -> None:
    bundle = make_bundle(
        demand=[one_day()],
        fixed=[make_fixed(date="2026-11-30")],
        leave=[make_leave(start="2026-11-30")],
    )
    assert plan(bundle).status is SolveStatus.CONFLICT


def test_a_horizon_rule_conflict_names_the_staff_row_and_the_pins() -> None:
    # Four pinned days in a row against max_consecutive_days = 3.
    pins = [make_fixed(date=d) for d in ("2026-11-30", "2026-12-01", "2026-12-02", "2026-12-03")]
    bundle = make_bundle(staff=[make_staff(max_consecutive_days=3)], fixed=pins)
    result = solve(Horizon(bundle, WEEK), SolveOptions(time_limit=20, workers=2))
    assert result.status is SolveStatus.CONFLICT
    named = {(c.file, c.row, c.column) for c in result.conflicts}
    assert ("staff.csv", 2, "max_consecutive_days") in named
    assert {("fixed.csv", row, "staff_id") for row in (2, 3, 4, 5)} <= named
