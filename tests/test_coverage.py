"""The validator's travel times, coverage (who counts for which need), bank holidays,
and reports that do not depend on the order of the input."""

from __future__ import annotations

import datetime as dt
import random

from scheduler.checks.rota_facts import straight_line_minutes
from scheduler.checks.validator import check_rota, coverage_of
from scheduler.domain import (
    Assignment,
    Bundle,
    DayRule,
)
from tests.factories import (
    WEEK,
    assign,
    make_bundle,
    make_demand,
    make_leave,
    make_session,
    make_site,
    make_staff,
    make_travel,
)
from tests.validator_support import EVE, PM, TUE, check, only, rule_ids, two_sites, week_of

# -- travel ------------------------------------------------------------------------------


def test_travel_from_coordinates_rounds_up_to_five_minutes() -> None:
    """0.1 degree of latitude is 11.12 km: 22.2 minutes at 30 km/h, rounded up to 25."""
    here = make_site(lat=51.5, lon=0.0)
    there = make_site(site_id="P02", lat=51.6, lon=0.0)
    assert straight_line_minutes(here, there) == 25
    assert straight_line_minutes(here, here) == 0
    assert straight_line_minutes(here, make_site(site_id="P03")) == 0


def _travel_bundle(travel: list | None = None) -> Bundle:
    late = make_session("LATE", "12:50", "16:00")
    return make_bundle(
        sites=[make_site(lat=51.5, lon=0.0), make_site(site_id="P02", lat=51.6, lon=0.0)],
        session_types=[make_session(), late],
        staff=[make_staff(sites="*")],
        demand=[make_demand(), make_demand(site_id="P02", session_id="LATE")],
        travel=travel or [],
    )


def test_travel_from_coordinates_is_checked() -> None:
    rota = (assign(date=TUE), assign(date=TUE, session_id="LATE", site_id="P02"))
    message = only(check(_travel_bundle(), *rota), "overlap")
    assert "20 minutes between them" in message and "takes 25 minutes" in message


def test_travel_csv_beats_coordinates_and_missing_pairs_fall_back() -> None:
    rota = (assign(date=TUE), assign(date=TUE, session_id="LATE", site_id="P02"))
    assert check(_travel_bundle([make_travel("P02", "P01", 20)]), *rota).ok
    both_ways = [make_travel("P02", "P01", 20), make_travel("P01", "P02", 30)]
    assert rule_ids(check(_travel_bundle(both_ways), *rota)) == ["overlap"]
    other_pair = [make_travel("P01", "P03", 5)]
    assert rule_ids(check(_travel_bundle(other_pair), *rota)) == ["overlap"]


# -- coverage ----------------------------------------------------------------------------


def _assigned(bundle: Bundle, *rota: Assignment) -> list[tuple[int, int, int]]:
    """(demand row, assigned, shortfall) of each coverage line on Tuesday."""
    lines = coverage_of(bundle, WEEK, rota)
    return [(c.demand_row, c.assigned, c.shortfall) for c in lines if c.date.isoformat() == TUE]


def test_coverage_person_matching_two_rows_goes_where_the_min_needs_them() -> None:
    staff = [make_staff(skills="diabetes"), make_staff(staff_id="S0002", name="Bo Other")]
    demand = [make_demand(role="GP"), make_demand(skill="diabetes")]
    bundle = make_bundle(staff=staff, demand=demand)
    assert _assigned(bundle, assign(date=TUE), assign("S0002", TUE)) == [(2, 1, 0), (3, 1, 0)]


def test_coverage_fills_heavier_rows_first_then_file_order() -> None:
    staff = [make_staff(skills="diabetes")]
    heavy = make_bundle(
        staff=staff, demand=[make_demand(), make_demand(skill="diabetes", weight=5)]
    )
    assert _assigned(heavy, assign(date=TUE)) == [(2, 0, 1), (3, 1, 0)]
    even = make_bundle(staff=staff, demand=[make_demand(), make_demand(skill="diabetes")])
    assert _assigned(even, assign(date=TUE)) == [(2, 1, 0), (3, 0, 1)]


def test_coverage_min_then_target_then_the_rest() -> None:
    staff = [make_staff(staff_id=f"S000{i}", name=f"P {i}") for i in range(1, 5)]
    demand = [make_demand(min=1, target=2), make_demand(min=1, target=1, weight=2)]
    bundle = make_bundle(sites=[make_site()], staff=staff, demand=demand)
    rota = [assign(s.staff_id, TUE) for s in staff]
    assert _assigned(bundle, *rota) == [(2, 2, 0), (3, 2, 0)]


def test_coverage_meets_every_min_before_any_target() -> None:
    staff = [make_staff(), make_staff(staff_id="S0002", name="Bo Other")]
    demand = [make_demand(min=1, target=2, weight=3), make_demand(min=1)]
    bundle = make_bundle(staff=staff, demand=demand)
    assert _assigned(bundle, assign(date=TUE), assign("S0002", TUE)) == [(2, 1, 0), (3, 1, 0)]


def test_coverage_shortfall_totals_and_people_who_fit_nothing() -> None:
    demand = [make_demand(role="GP", min=3), make_demand(role="PN", min=1)]
    bundle = make_bundle(staff=[make_staff("HCA")], demand=demand)
    report = check(bundle, assign(date=TUE))
    assert rule_ids(report) == ["eligible"]
    assert _assigned(bundle, assign(date=TUE)) == [(2, 0, 3), (3, 0, 1)]
    assert report.shortfall == 5 * (3 + 1)  # five weekdays, nobody counted


def test_coverage_lines_are_sorted_by_date_start_site_and_row() -> None:
    bundle = make_bundle(
        sites=two_sites(),
        session_types=[PM, make_session()],
        demand=[
            make_demand(site_id="P02", session_id="PM"),
            make_demand(site_id="P02"),
            make_demand(session_id="PM"),
            make_demand(),
        ],
    )
    lines = coverage_of(bundle, WEEK[:1], [])
    assert [(c.site_id, c.session_id, c.demand_row) for c in lines] == [
        ("P01", "AM", 5),
        ("P02", "AM", 3),
        ("P01", "PM", 4),
        ("P02", "PM", 2),
    ]


def test_date_row_replaces_the_weekday_row_of_the_same_key() -> None:
    demand = [
        make_demand(min=1),
        make_demand(role="GP", min=1),
        make_demand(day=TUE, min=3),
    ]
    lines = coverage_of(make_bundle(demand=demand), WEEK, [])
    tuesday = [(c.demand_row, c.min) for c in lines if c.date.isoformat() == TUE]
    monday = [(c.demand_row, c.min) for c in lines if c.date == WEEK[0]]
    assert tuesday == [(3, 1), (4, 3)]
    assert monday == [(2, 1), (3, 1)]


def test_bank_holiday_closes_weekday_rows_but_not_date_rows() -> None:
    christmas = dt.date(2026, 12, 25)  # a Friday
    demand = [make_demand(), make_demand(role="GP", day=DayRule(date=christmas))]
    week = week_of(christmas)
    lines = coverage_of(make_bundle(demand=demand), week, [])
    assert [c.demand_row for c in lines if c.date == christmas] == [3]
    assert [c.demand_row for c in lines if c.date == christmas - dt.timedelta(days=1)] == [2]
    assert check(make_bundle(demand=demand), assign(date=christmas), dates=week).ok


def test_bank_holiday_with_no_date_row_needs_nobody() -> None:
    christmas = dt.date(2026, 12, 25)
    report = check(make_bundle(), assign(date=christmas), dates=week_of(christmas))
    assert "(a bank holiday)" in only(report, "eligible")


def test_bank_holidays_open_when_the_network_says_so() -> None:
    christmas = dt.date(2026, 12, 25)
    bundle = make_bundle(bank_holidays_closed=False)
    assert check(bundle, assign(date=christmas), dates=week_of(christmas)).ok
    assert any(c.date == christmas for c in coverage_of(bundle, week_of(christmas), []))


# -- order independence ------------------------------------------------------------------


def test_shuffled_assignments_give_the_same_report() -> None:
    bundle = make_bundle(
        sites=[make_site(rooms=1), make_site(site_id="P02", name="Hill Surgery")],
        session_types=[make_session(), PM, EVE],
        staff=[
            make_staff(sites="*", max_hours=9),
            make_staff(staff_id="S0002", name="Bo Other", skills="imms"),
            make_staff("PN", staff_id="S0003", name="Cy Nurse"),
        ],
        demand=[make_demand(), make_demand(session_id="PM"), make_demand(skill="imms")],
        leave=[make_leave("S0002", "2026-12-02")],
    )
    rota = (
        [
            assign(date=day, session_id=s, site_id=site)
            for day in WEEK[:5]
            for s, site in (("AM", "P01"), ("PM", "P02"), ("EVE", "P01"))
        ]
        + [assign("S0002", day) for day in WEEK[:5]]
        + [assign("S0003", TUE)]
    )
    expected = check_rota(bundle, WEEK, rota)
    assert len(set(rule_ids(expected))) >= 5
    for seed in range(5):
        shuffled = rota[:]
        random.Random(seed).shuffle(shuffled)
        assert check_rota(bundle, list(reversed(WEEK)), shuffled) == expected


def test_eligible_names_every_row_it_tried() -> None:
    bundle = make_bundle(
        staff=[make_staff("HCA")], demand=[make_demand(role="GP"), make_demand(role="PN")]
    )
    assert "(demand.csv:2, demand.csv:3)" in only(check(bundle, assign(date=TUE)), "eligible")
