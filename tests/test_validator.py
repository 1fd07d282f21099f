"""The independent validator: one pair of tests per hard rule, then coverage and edge cases."""

from __future__ import annotations

import datetime as dt

import pytest

from scheduler.checks.rule_table import RULES
from scheduler.domain import (
    Assignment,
    Bundle,
    ForbiddenSequence,
    Rules,
    SessionLimit,
)
from tests.factories import (
    WEEK,
    assign,
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
from tests.validator_support import (
    EVE,
    NIGHT,
    PM,
    SAT,
    TUE,
    check,
    only,
    rule_ids,
    two_sites,
    week_of,
)

# -- 1. eligible -------------------------------------------------------------------------


def test_eligible_bites() -> None:
    bundle = make_bundle(staff=[make_staff("PN")], demand=[make_demand(role="GP")])
    message = only(check(bundle, assign(date=TUE)), "eligible")
    assert "AM at P01 on Tue 2026-12-01" in message
    assert "PN" in message
    assert "demand.csv:2" in message
    assert "S0001 Ann Example" in message


def test_eligible_passes() -> None:
    bundle = make_bundle(staff=[make_staff("GP")], demand=[make_demand(role="GP")])
    assert check(bundle, assign(date=TUE)).ok


def test_eligible_needs_the_skill() -> None:
    bundle = make_bundle(demand=[make_demand(skill="cytology")])
    assert rule_ids(check(bundle, assign(date=TUE))) == ["eligible"]
    held = make_bundle(
        staff=[make_staff(skills="cytology")], demand=[make_demand(skill="cytology")]
    )
    assert check(held, assign(date=TUE)).ok


def test_eligible_site_not_in_persons_sites() -> None:
    bundle = make_bundle(sites=two_sites(), demand=[make_demand(site_id="P02")])
    message = only(check(bundle, assign(date=TUE, site_id="P02")), "eligible")
    assert "may only work at P01" in message
    assert "staff.csv:2" in message


def test_eligible_session_must_run_that_day() -> None:
    bundle = make_bundle(
        staff=[make_staff(max_weekend_sessions=1)], demand=[make_demand(day="2026-12-05")]
    )
    message = only(check(bundle, assign(date="2026-12-05")), "eligible")
    assert "AM does not run on Sats" in message


def test_eligible_unknown_person_site_and_session() -> None:
    bundle = make_bundle()
    report = check(
        bundle,
        assign(staff_id="S0999", date=TUE),
        assign(date=TUE, site_id="X9"),
        assign(date="2026-12-02", session_id="ZZ"),
    )
    assert rule_ids(report) == ["eligible"] * 3
    text = " ".join(v.message for v in report.violations)
    assert "S0999 is not in staff.csv" in text
    assert "site X9 is not in sites.csv" in text
    assert "session ZZ is not in session_types.csv" in text


# -- 2. overlap --------------------------------------------------------------------------


def test_overlap_bites() -> None:
    bundle = make_bundle(
        sites=two_sites(),
        staff=[make_staff(sites="*")],
        demand=[make_demand(), make_demand(site_id="P02")],
    )
    report = check(bundle, assign(date=TUE), assign(date=TUE, site_id="P02"))
    message = only(report, "overlap")
    assert "overlap in time" in message
    assert "AM at P01" in message and "AM at P02" in message


def test_overlap_passes() -> None:
    bundle = make_bundle(
        sites=two_sites(),
        session_types=[make_session(), PM],
        staff=[make_staff(sites="*")],
        demand=[make_demand(), make_demand(site_id="P02", session_id="PM")],
        travel=[make_travel(minutes=60)],
    )
    assert check(bundle, assign(date=TUE), assign(date=TUE, session_id="PM", site_id="P02")).ok


def test_overlap_bites_when_travel_takes_longer_than_the_gap() -> None:
    bundle = make_bundle(
        sites=two_sites(),
        session_types=[make_session(), PM],
        staff=[make_staff(sites="*")],
        demand=[make_demand(), make_demand(site_id="P02", session_id="PM")],
        travel=[make_travel(from_site="P02", to_site="P01", minutes=61)],
    )
    report = check(bundle, assign(date=TUE), assign(date=TUE, session_id="PM", site_id="P02"))
    message = only(report, "overlap")
    assert "60 minutes between them" in message
    assert "from P01 to P02 takes 61 minutes" in message


# -- 3. leave and unavailable ------------------------------------------------------------


def test_leave_bites() -> None:
    bundle = make_bundle(
        staff=[make_staff(staff_id="S0005", name="Ben Nolan")],
        leave=[make_leave("S0005", TUE)],
    )
    message = only(check(bundle, assign("S0005", TUE)), "leave")
    assert message == (
        "S0005 Ben Nolan is on annual leave on Tue 2026-12-01 (leave.csv:2) "
        "but is assigned AM at P01"
    )


def test_leave_passes() -> None:
    bundle = make_bundle(leave=[make_leave(start=TUE, session_id="PM")])
    assert check(bundle, assign(date=TUE)).ok


def test_leave_for_one_session_bites() -> None:
    bundle = make_bundle(leave=[make_leave(start="2026-11-30", end=TUE, session_id="AM")])
    assert "study" not in only(check(bundle, assign(date=TUE)), "leave")
    assert "for AM" in only(check(bundle, assign(date=TUE)), "leave")


def test_unavailable_bites() -> None:
    bundle = make_bundle(preferences=[make_preference(day="Tue")])
    message = only(check(bundle, assign(date=TUE)), "unavailable")
    assert "marked unavailable on Tue 2026-12-01 (preferences.csv:2)" in message


def test_unavailable_passes() -> None:
    bundle = make_bundle(
        preferences=[
            make_preference(day="Tue", site_id="P02"),
            make_preference(day="Tue", session_id="PM"),
            make_preference(day="Wed"),
            make_preference(day="Tue", preference="avoid"),
        ]
    )
    assert check(bundle, assign(date=TUE)).ok


def test_unavailable_on_a_date_bites() -> None:
    bundle = make_bundle(preferences=[make_preference(day=dt.date(2026, 12, 1))])
    assert rule_ids(check(bundle, assign(date=TUE))) == ["unavailable"]


# -- 4. sessions per day -----------------------------------------------------------------


def _two_sessions_bundle(**staff: object) -> Bundle:
    return make_bundle(
        session_types=[make_session(), PM],
        staff=[make_staff(**staff)],
        demand=[make_demand(), make_demand(session_id="PM")],
    )


def test_sessions_per_day_bites() -> None:
    bundle = _two_sessions_bundle(max_sessions_per_day=1)
    message = only(
        check(bundle, assign(date=TUE), assign(date=TUE, session_id="PM")), "sessions_per_day"
    )
    assert "2 sessions on Tue 2026-12-01" in message
    assert "at most 1 (staff.csv:2)" in message


def test_sessions_per_day_passes() -> None:
    bundle = _two_sessions_bundle()
    assert check(bundle, assign(date=TUE), assign(date=TUE, session_id="PM")).ok


def test_sessions_per_day_network_rule_bites() -> None:
    bundle = make_bundle(
        session_types=[make_session(), PM],
        demand=[make_demand(), make_demand(session_id="PM")],
        rules={"max_sessions_per_day": 1},
    )
    report = check(bundle, assign(date=TUE), assign(date=TUE, session_id="PM"))
    assert "(network.toml)" in only(report, "sessions_per_day")


# -- 5. rest -----------------------------------------------------------------------------


def _night_bundle() -> Bundle:
    return make_bundle(
        session_types=[make_session(), NIGHT],
        demand=[make_demand(), make_demand(day="Mon-Sun", session_id="NIGHT")],
    )


def test_rest_bites() -> None:
    """An overnight session ends the next morning, two hours before the AM starts: one duty
    from 22:00 to 12:30, longer than the 13 hours a day leaves after 11 hours' rest."""
    report = check(_night_bundle(), assign(date="2026-11-30", session_id="NIGHT"), assign(date=TUE))
    message = only(report, "rest")
    assert "would work Mon 22:00 to Tue 12:30 with 2 h rest" in message
    assert "NIGHT at P01 on Mon 2026-11-30, AM at P01 on Tue 2026-12-01" in message
    assert "one duty of 14.5 h" in message
    assert "the longest duty is 13 h (rules.max_duty_hours in network.toml)" in message


def test_rest_passes() -> None:
    report = check(
        _night_bundle(), assign(date="2026-11-30", session_id="NIGHT"), assign(date="2026-12-02")
    )
    assert report.ok


def test_a_night_running_into_the_next_morning_is_an_overlap() -> None:
    bundle = make_bundle(
        session_types=[make_session(start="05:00", end="09:00"), NIGHT],
        demand=[make_demand(), make_demand(day="Mon-Sun", session_id="NIGHT")],
    )
    report = check(bundle, assign(date="2026-11-30", session_id="NIGHT"), assign(date=TUE))
    message = only(report, "overlap")
    assert "NIGHT at P01 on Mon 2026-11-30 and AM at P01 on Tue 2026-12-01" in message
    assert "which overlap in time" in message


def test_rest_ignores_two_sessions_on_one_date() -> None:
    bundle = make_bundle(
        session_types=[make_session(), EVE],
        staff=[make_staff(max_evenings=1)],
        demand=[make_demand(), make_demand(session_id="EVE")],
    )
    assert check(bundle, assign(date=TUE), assign(date=TUE, session_id="EVE")).ok


# -- 6. weekly hours ---------------------------------------------------------------------


def test_max_hours_bites() -> None:
    bundle = make_bundle(staff=[make_staff(max_hours=4)])
    message = only(check(bundle, assign(date=TUE)), "max_hours")
    assert "planned 4.5 hours in 2026-W49" in message
    assert "at most 4 (max_hours, staff.csv:2)" in message


def test_max_hours_passes() -> None:
    bundle = make_bundle(staff=[make_staff(max_hours=4.5)])
    assert check(bundle, assign(date=TUE)).ok


def test_max_hours_network_cap_bites() -> None:
    bundle = make_bundle(rules={"max_week_hours": 8})
    report = check(bundle, assign(date=TUE), assign(date="2026-12-02"))
    message = only(report, "max_hours")
    assert "planned 9 hours" in message
    assert "max_week_hours" in message


def _sunday_night_bundle(max_hours: float) -> Bundle:
    early = make_session("EARLY", "00:30", "03:30", days="Sun")
    return make_bundle(
        session_types=[early],
        staff=[make_staff(max_hours=max_hours, max_weekend_sessions=1)],
        demand=[make_demand(day="Sun", session_id="EARLY")],
    )


def test_max_hours_counts_the_hour_gained_when_clocks_go_back() -> None:
    """2026-10-25 01:00-02:00 happens twice in London: 00:30-03:30 is four real hours."""
    day = dt.date(2026, 10, 25)
    rota = assign(date=day, session_id="EARLY")
    message = only(check(_sunday_night_bundle(3.5), rota, dates=week_of(day)), "max_hours")
    assert "planned 4 hours in 2026-W43" in message
    assert check(_sunday_night_bundle(4), rota, dates=week_of(day)).ok


def test_max_hours_counts_the_hour_lost_when_clocks_go_forward() -> None:
    day = dt.date(2026, 3, 29)
    rota = assign(date=day, session_id="EARLY")
    assert check(_sunday_night_bundle(2), rota, dates=week_of(day)).ok
    assert rule_ids(check(_sunday_night_bundle(1.5), rota, dates=week_of(day))) == ["max_hours"]


def test_min_hours_bites() -> None:
    bundle = make_bundle(staff=[make_staff(min_hours=10)])
    message = only(check(bundle, assign(date=TUE)), "min_hours")
    assert "planned 4.5 hours plus 0 hours of leave in 2026-W49" in message
    assert "minimum of 10 (min_hours, staff.csv:2)" in message


def test_min_hours_passes() -> None:
    """A whole weekday of leave counts contract_hours / 5 = 7.5 hours."""
    bundle = make_bundle(staff=[make_staff(min_hours=12)], leave=[make_leave(start="2026-12-02")])
    assert check(bundle, assign(date=TUE)).ok


def test_min_hours_counts_leave_once_per_day_and_only_sessions_that_run() -> None:
    leave = [
        make_leave(start="2026-12-02"),
        make_leave(start="2026-12-02", session_id="AM"),
        make_leave(start="2026-12-03", session_id="AM"),
        make_leave(start="2026-12-05", end="2026-12-06"),
        make_leave(start="2026-12-05", session_id="AM"),
    ]
    bundle = make_bundle(staff=[make_staff(min_hours=16.6)], leave=leave)
    message = only(check(bundle, assign(date=TUE)), "min_hours")
    assert "planned 4.5 hours plus 12 hours of leave" in message
    assert check(make_bundle(staff=[make_staff(min_hours=16.5)], leave=leave), assign(date=TUE)).ok


def test_min_hours_not_checked_on_part_of_a_week() -> None:
    bundle = make_bundle(staff=[make_staff(min_hours=10)])
    assert check(bundle, assign(date=TUE), dates=WEEK[:3]).ok


# -- 7. evenings and weekends ------------------------------------------------------------


def _extended_bundle(**staff: object) -> Bundle:
    return make_bundle(
        session_types=[EVE, SAT],
        staff=[make_staff(**staff)],
        demand=[make_demand(session_id="EVE"), make_demand(day="Sat", session_id="SAT")],
    )


def test_evenings_bites() -> None:
    message = only(check(_extended_bundle(), assign(date=TUE, session_id="EVE")), "evenings")
    assert "1 evening session in 2026-W49" in message
    assert "at most 0 (max_evenings, staff.csv:2)" in message


def test_evenings_passes() -> None:
    assert check(_extended_bundle(max_evenings=1), assign(date=TUE, session_id="EVE")).ok


def test_weekends_bites() -> None:
    report = check(_extended_bundle(max_evenings=5), assign(date="2026-12-05", session_id="SAT"))
    message = only(report, "weekends")
    assert "1 weekend session in 2026-W49 (SAT at P01 on Sat 2026-12-05)" in message
    assert "max_weekend_sessions" in message


def test_weekends_passes() -> None:
    rota = assign(date="2026-12-05", session_id="SAT")
    assert check(_extended_bundle(max_weekend_sessions=1), rota).ok


# -- 8. rooms ----------------------------------------------------------------------------


def _rooms_bundle(rooms: int) -> Bundle:
    return make_bundle(
        sites=[make_site(rooms=rooms)],
        staff=[make_staff(), make_staff(staff_id="S0002", name="Bo Other")],
        demand=[make_demand(min=2)],
    )


def test_rooms_bites() -> None:
    report = check(_rooms_bundle(1), assign(date=TUE), assign("S0002", TUE))
    message = only(report, "rooms")
    assert "P01 Riverside Surgery has 2 people in AM on Tue 2026-12-01" in message
    assert "only 1 room (sites.csv:2)" in message


def test_rooms_passes() -> None:
    assert check(_rooms_bundle(2), assign(date=TUE), assign("S0002", TUE)).ok
    assert check(_rooms_bundle(0), assign(date=TUE), assign("S0002", TUE)).ok


# -- 9. fixed ----------------------------------------------------------------------------


def test_fixed_bites() -> None:
    report = check(make_bundle(fixed=[make_fixed(date=TUE)]))
    message = only(report, "fixed")
    assert "pinned to AM at P01 on Tue 2026-12-01 (fixed.csv:2)" in message
    assert "missing" in message
    assert report.violations[0].assignments == ()


def test_fixed_passes() -> None:
    bundle = make_bundle(fixed=[make_fixed(date=TUE), make_fixed(date="2026-12-08")])
    assert check(bundle, assign(date=TUE)).ok


# -- 10. weekly days off -----------------------------------------------------------------

SEVEN_DAYS = make_session("DAY", "08:00", "18:00", days="Mon-Sun")


def _all_week(days_off: int | None) -> Bundle:
    return make_bundle(
        session_types=[SEVEN_DAYS],
        staff=[make_staff(max_weekend_sessions=2, max_hours=70, min_days_off_per_week=days_off)],
        demand=[make_demand(day="Mon-Sun", session_id="DAY")],
        rules=Rules(max_week_hours=70),
    )


def test_days_off_bites() -> None:
    rota = [assign(date=d, session_id="DAY") for d in WEEK]
    message = only(check(_all_week(None), *rota), "days_off")
    assert "works on 7 days of 2026-W49" in message
    assert "leaving 0 days off; at least 1 day off a week" in message
    assert "(rules.min_days_off_per_week in network.toml)" in message


def test_days_off_passes() -> None:
    rota = [assign(date=d, session_id="DAY") for d in WEEK]
    assert check(_all_week(0), *rota).ok
    assert check(_all_week(None), *rota[:6]).ok


# -- 11. rules over the whole horizon ------------------------------------------------------

TWO_WEEKS = tuple(WEEK[0] + dt.timedelta(days=i) for i in range(14))


def _days(*dates: str, session_id: str = "AM") -> list[Assignment]:
    return [assign(date=d, session_id=session_id) for d in dates]


def test_sequence_bites() -> None:
    bundle = make_bundle(
        session_types=[make_session(), EVE],
        staff=[make_staff(max_evenings=1)],
        demand=[make_demand(), make_demand(session_id="EVE")],
        forbidden_sequences=(ForbiddenSequence("EVE", "AM", row=2),),
    )
    rota = (assign(date="2026-11-30", session_id="EVE"), assign(date=TUE))
    message = only(check(bundle, *rota), "sequence")
    assert "EVE at P01 on Mon 2026-11-30 and then AM at P01 on Tue 2026-12-01" in message
    assert "forbidden_sequences.csv:2" in message


def test_sequence_passes() -> None:
    bundle = make_bundle(
        session_types=[make_session(), EVE],
        staff=[make_staff(max_evenings=1)],
        demand=[make_demand(), make_demand(session_id="EVE")],
        forbidden_sequences=(ForbiddenSequence("AM", "EVE", row=2),),
    )
    rota = (assign(date="2026-11-30", session_id="EVE"), assign(date=TUE))
    assert check(bundle, *rota).ok


def test_max_consecutive_bites() -> None:
    bundle = make_bundle(staff=[make_staff(max_consecutive_days=3)])
    rota = _days("2026-11-30", "2026-12-01", "2026-12-02", "2026-12-03")
    message = only(check(bundle, *rota), "max_consecutive")
    assert "works 4 days in a row (Mon 2026-11-30 to Thu 2026-12-03)" in message
    assert "max_consecutive_days, staff.csv:2" in message


def test_max_consecutive_passes() -> None:
    bundle = make_bundle(staff=[make_staff(max_consecutive_days=3)])
    rota = _days("2026-11-30", "2026-12-01", "2026-12-02", "2026-12-04")
    assert check(bundle, *rota).ok


def test_min_runs_bites() -> None:
    bundle = make_bundle(staff=[make_staff(min_consecutive_days=2)])
    message = only(check(bundle, *_days("2026-12-02")), "min_runs")
    assert "a run of 1 day of working days (Wed 2026-12-02) but needs at least 2" in message


def test_min_runs_passes() -> None:
    # Runs touching the first or last date may continue outside the plan.
    bundle = make_bundle(staff=[make_staff(min_consecutive_days=2, min_days_off_in_row=2)])
    assert check(bundle, *_days("2026-11-30", "2026-12-03", "2026-12-04")).ok


def test_min_runs_days_off_bites_and_names_the_run() -> None:
    bundle = make_bundle(staff=[make_staff(min_days_off_in_row=2)])
    rota = _days("2026-11-30", "2026-12-01", "2026-12-03", "2026-12-04")
    message = only(check(bundle, *rota), "min_runs")
    assert "a run of 1 day of days off (Wed 2026-12-02) but needs at least 2" in message
    assert "min_days_off_in_row" in message


def test_max_weekends_bites() -> None:
    bundle = make_bundle(
        session_types=[SAT],
        staff=[make_staff(max_weekend_sessions=1, max_weekends=1)],
        demand=[make_demand(day="Sat", session_id="SAT")],
    )
    rota = _days("2026-12-05", "2026-12-12", session_id="SAT")
    message = only(check(bundle, *rota, dates=TWO_WEEKS), "max_weekends")
    assert "works 2 weekends (2026-W49, 2026-W50) but may work at most 1" in message


def test_max_weekends_passes() -> None:
    bundle = make_bundle(
        session_types=[SAT],
        staff=[make_staff(max_weekend_sessions=1, max_weekends=2)],
        demand=[make_demand(day="Sat", session_id="SAT")],
    )
    rota = _days("2026-12-05", "2026-12-12", session_id="SAT")
    assert check(bundle, *rota, dates=TWO_WEEKS).ok


def test_horizon_hours_bites() -> None:
    bundle = make_bundle(staff=[make_staff(max_horizon_hours=8, min_horizon_hours=4)])
    message = only(check(bundle, *_days("2026-11-30", "2026-12-01")), "horizon_hours")
    assert "is planned 9 hours over the plan but may work at most 8 (max_horizon_hours" in message


def test_horizon_hours_passes() -> None:
    bundle = make_bundle(staff=[make_staff(max_horizon_hours=9, min_horizon_hours=9)])
    assert check(bundle, *_days("2026-11-30", "2026-12-01")).ok


def test_horizon_hours_minimum_counts_leave() -> None:
    bundle = make_bundle(
        staff=[make_staff(min_horizon_hours=12, contract_hours=37.5)],
        leave=[make_leave(start="2026-12-02")],  # 7.5 h of leave
    )
    assert check(bundle, *_days("2026-11-30")).ok
    message = only(check(make_bundle(staff=bundle.staff), *_days("2026-11-30")), "horizon_hours")
    assert "under the minimum of 12 (min_horizon_hours" in message


def test_session_limit_bites() -> None:
    bundle = make_bundle(session_limits=(SessionLimit("S0001", "AM", 1, row=2),))
    message = only(check(bundle, *_days("2026-11-30", "2026-12-01")), "session_limit")
    assert "works 2 sessions of AM but may work at most 1 (session_limits.csv:2)" in message


def test_session_limit_passes() -> None:
    bundle = make_bundle(session_limits=(SessionLimit("S0001", "AM", 2, row=2),))
    assert check(bundle, *_days("2026-11-30", "2026-12-01")).ok


# -- every rule has its pair -------------------------------------------------------------


@pytest.mark.parametrize("rule_id", [rule_id for rule_id, _, _ in RULES])
def test_every_rule_has_a_biting_and_a_passing_test(rule_id: str) -> None:
    assert callable(globals().get(f"test_{rule_id}_bites"))
    assert callable(globals().get(f"test_{rule_id}_passes"))


def test_rules_have_unique_ids_and_labels() -> None:
    assert len({r[0] for r in RULES}) == len({r[1] for r in RULES}) == len(RULES) == 19
