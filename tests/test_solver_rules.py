"""Each solver rule on the smallest bundle where it bites, and one where it does not."""

from __future__ import annotations

from collections.abc import Callable

import pytest

import tests.test_continuity as continuity_tests
import tests.test_fairness as fairness_tests
import tests.test_format_v2 as v2_tests
import tests.test_report_ea as report_ea_tests
import tests.test_solver_horizon_rules as horizon_tests
from scheduler.domain import Bundle, Rules, Weights
from solver import SolveStatus
from solver.rules import HARD_RULES, SOFT_RULES
from tests.factories import (
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
from tests.solver_rules_support import COVER_ONLY, EVE, PM, SAT, TWO_SITES, one_day, plan, worked

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
    "days_off": (
        v2_tests.test_a_weekly_day_off_leaves_one_day_of_seven_uncovered,
        v2_tests.test_no_day_off_needed_lets_a_person_work_all_week,
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
    "continuity": (
        continuity_tests.test_continuity_gives_the_regular_session_to_its_regular,
        continuity_tests.test_continuity_without_history_lets_cost_decide,
    ),
    "distinct_clinicians": (
        continuity_tests.test_distinct_clinicians_gives_both_mornings_to_one_gp,
        continuity_tests.test_distinct_clinicians_without_a_limit_shares_the_mornings,
    ),
    "sequence": (
        horizon_tests.test_sequence_bites_on_the_next_day,
        horizon_tests.test_sequence_does_not_bite_when_not_listed,
    ),
    "max_consecutive": (
        horizon_tests.test_max_consecutive_bites,
        horizon_tests.test_max_consecutive_does_not_bite_at_five,
    ),
    "min_runs": (
        horizon_tests.test_min_runs_bites_on_a_lone_working_day_inside_the_horizon,
        horizon_tests.test_min_runs_does_not_bite_on_a_run_touching_the_horizon_edge,
    ),
    "max_weekends": (
        horizon_tests.test_max_weekends_bites_over_two_weeks,
        horizon_tests.test_max_weekends_does_not_bite_when_both_allowed,
    ),
    "horizon_hours": (
        horizon_tests.test_horizon_hours_bites_over_two_weeks,
        horizon_tests.test_horizon_hours_does_not_bite_without_a_cap,
    ),
    "session_limit": (
        horizon_tests.test_session_limit_bites,
        horizon_tests.test_session_limit_does_not_bite_at_five,
    ),
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
