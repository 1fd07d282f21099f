"""Repair of a published week: fewest changes, nothing outside the window, never a broken rule."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.bundle.reader import read_bundle
from scheduler.checks.validator import check_rota
from scheduler.domain import (
    ABSENCES,
    Assignment,
    Bundle,
    LeaveKind,
)
from scheduler.storage.events import Absence, DemandChange, with_events
from scheduler.usecases.planning import plan_week
from scheduler.usecases.repair import (
    Change,
    RepairError,
    changes_between,
    changes_in_words,
    figures_of,
    propose_repair,
)
from solver import SolveOptions
from solver.repair import URGENCY, urgency
from tests.factories import (
    MONDAY,
    WEEK,
    assign,
    make_bundle,
    make_demand,
    make_fixed,
    make_session,
    make_site,
    make_staff,
    make_travel,
)
from tests.web_support import TINY

OPTIONS = SolveOptions(time_limit=20, workers=2, seed=0)
TUE, WED, THU, FRI = WEEK[1], WEEK[2], WEEK[3], WEEK[4]
NOW = dt.datetime(2026, 11, 29, 18, 0, tzinfo=dt.UTC)


def network() -> Bundle:
    """Two practices, one GP needed at each every weekday morning, four GPs.

    S0001 (home P01) and S0003 (home P02, may work at P01) are published;
    S0002 (home P01) and S0004 (home P02, may work at P01) are free.
    """
    return make_bundle(
        sites=[make_site(site_id="P01"), make_site(site_id="P02", name="Hill Surgery")],
        staff=[
            make_staff(staff_id="S0001", name="Ann One"),
            make_staff(staff_id="S0002", name="Bea Two"),
            make_staff(staff_id="S0003", name="Cy Three", home_site="P02", sites="P01;P02"),
            make_staff(staff_id="S0004", name="Di Four", home_site="P02", sites="P01;P02"),
        ],
        demand=[make_demand("P01", role="GP"), make_demand("P02", role="GP")],
        travel=[make_travel("P01", "P02", 20)],
    )


def published_rota() -> frozenset[Assignment]:
    days = WEEK[:5]
    return frozenset(
        [assign("S0001", d, "AM", "P01") for d in days]
        + [assign("S0003", d, "AM", "P02") for d in days]
    )


def absence(staff_id: str, start: dt.date, end: dt.date, number: int = 1) -> Absence:
    return Absence(number, staff_id, start, end, None, "sick", None, "test", NOW, False)


def cancelled(site_id: str, day: dt.date, number: int = 1) -> DemandChange:
    return DemandChange(
        number, site_id, day, "AM", "cancel", None, None, 0, 0, None, None, "test", NOW, False
    )


def extra(site_id: str, day: dt.date, people: int, number: int = 1) -> DemandChange:
    return DemandChange(
        number,
        site_id,
        day,
        "AM",
        "set",
        "GP",
        None,
        people,
        people,
        None,
        None,
        "test",
        NOW,
        False,
    )


def test_the_published_rota_is_valid_to_start_with() -> None:
    report = check_rota(network(), WEEK, list(published_rota()))
    assert report.ok and report.shortfall == 0


def test_a_sick_gp_is_replaced_by_the_free_gp_of_the_same_practice_in_four_changes() -> None:
    bundle = with_events(network(), [absence("S0001", TUE, WED)], [])
    outcome = propose_repair(
        bundle, "2026-W49", published_rota(), today=MONDAY, event_days={TUE, WED}, options=OPTIONS
    )
    assert outcome.result.status.value == "optimal"
    # The known minimum: S0001 off Tue and Wed, S0002 (home P01, no travel) on instead.
    # S0004 could come too, but from another practice: a change counted twice.
    assert list(outcome.changes) == [
        Change(TUE, "AM", "S0001", "P01", None, "removed"),
        Change(TUE, "AM", "S0002", None, "P01", "added"),
        Change(WED, "AM", "S0001", "P01", None, "removed"),
        Change(WED, "AM", "S0002", None, "P01", "added"),
    ]
    assert outcome.window == frozenset({TUE, WED})
    assert outcome.report is not None and outcome.report.ok and outcome.report.shortfall == 0
    assert outcome.shortfall_before == 2
    assert outcome.figures is not None
    assert outcome.figures.changed_sessions == 4
    assert outcome.figures.extra_travel_minutes == 0
    assert outcome.figures.lenders == {}
    # By hand: Tuesday weighs 8 and Wednesday 4 seen from Monday; each day one removal
    # and one addition at home, (8 + 8) + (4 + 4).  The search proves nothing is cheaper.
    assert outcome.figures.change_cost == 24
    assert outcome.proven
    assert outcome.summary()["changes_proven_fewest"] is True
    assert outcome.in_words() == "4 changes (proven the fewest possible for 0 people short)"


def test_the_fewest_changes_respect_the_hours_a_person_works_outside_the_window() -> None:
    """S0002 works Monday (outside the window) and may work two sessions a week, so can
    take only one of the sick GP's two days: the other goes to S0004 from P02.

    By hand: removals 8 + 4; S0002 on Tuesday at home 8; S0004 on Wednesday away
    4 x 2 = 8: 28.  Had the model forgotten Monday, S0002 would take both (24).
    """
    bundle = dataclasses.replace(
        network(),
        staff=tuple(
            make_staff(staff_id="S0002", name="Bea Two", contract_hours=9.0)
            if p.staff_id == "S0002"
            else p
            for p in network().staff
        ),
        demand=(
            make_demand("P01", day="Mon", role="GP", min=2),
            make_demand("P01", day="Tue-Fri", role="GP"),
            make_demand("P02", role="GP"),
        ),
    )
    published = published_rota() | {assign("S0002", MONDAY, "AM", "P01")}
    assert check_rota(bundle, WEEK, list(published)).ok
    sick = with_events(bundle, [absence("S0001", TUE, WED)], [])
    outcome = propose_repair(
        sick, "2026-W49", published, today=MONDAY, event_days={TUE, WED}, options=OPTIONS
    )
    assert outcome.report is not None and outcome.report.shortfall == 0
    assert outcome.figures is not None and outcome.figures.change_cost == 28
    assert outcome.proven
    assert [c for c in outcome.changes if c.change == "added"] == [
        Change(TUE, "AM", "S0002", None, "P01", "added"),
        Change(WED, "AM", "S0004", None, "P01", "added"),
    ]


def test_a_repair_out_of_time_says_its_changes_are_not_proven() -> None:
    summary = {"changed_sessions": 1, "shortfall": 2, "changes_proven_fewest": False}
    assert changes_in_words(summary) == (
        "1 change for 2 people short (not proven the fewest: the search ran out of time)"
    )
    assert changes_in_words({**summary, "changes_proven_fewest": None}) == (
        "1 change for 2 people short"
    )


def test_nothing_outside_the_window_changes_even_where_the_goals_would_like_it() -> None:
    # The free GPs are under their contract hours all week: a plan from scratch would give
    # them work; the repair may only touch Tuesday.
    bundle = with_events(network(), [absence("S0001", TUE, TUE)], [])
    outcome = propose_repair(
        bundle, "2026-W49", published_rota(), today=MONDAY, event_days={TUE}, options=OPTIONS
    )
    outside = {a for a in outcome.assignments if a.date != TUE}
    assert outside == {a for a in published_rota() if a.date != TUE}
    assert {c.date for c in outcome.changes} == {TUE}


def test_a_gp_from_another_practice_is_borrowed_when_the_home_one_is_away_too() -> None:
    bundle = with_events(
        network(), [absence("S0001", TUE, TUE, 1), absence("S0002", TUE, TUE, 2)], []
    )
    outcome = propose_repair(
        bundle, "2026-W49", published_rota(), today=MONDAY, event_days={TUE}, options=OPTIONS
    )
    # S0004 is free and lent by P02; moving S0003 instead would leave P02 short.
    assert list(outcome.changes) == [
        Change(TUE, "AM", "S0001", "P01", None, "removed"),
        Change(TUE, "AM", "S0004", None, "P01", "added"),
    ]
    assert outcome.figures is not None
    assert outcome.figures.lenders == {"P02": pytest.approx(4.5)}
    assert outcome.figures.extra_travel_minutes == 20


def test_an_absence_recorded_afterwards_only_takes_sessions_away_from_the_past() -> None:
    bundle = with_events(network(), [absence("S0001", TUE, TUE)], [])
    outcome = propose_repair(
        bundle, "2026-W49", published_rota(), today=THU, event_days={TUE}, options=OPTIONS
    )
    assert list(outcome.changes) == [Change(TUE, "AM", "S0001", "P01", None, "removed")]
    assert outcome.report is not None and outcome.report.ok
    assert outcome.report.shortfall == 1  # nobody is sent to the past


def test_a_cancelled_clinic_sends_its_gp_home_and_that_is_the_only_change() -> None:
    bundle = with_events(network(), [], [cancelled("P02", THU)])
    outcome = propose_repair(
        bundle, "2026-W49", published_rota(), today=MONDAY, event_days={THU}, options=OPTIONS
    )
    assert list(outcome.changes) == [Change(THU, "AM", "S0003", "P02", None, "removed")]


def test_an_extra_need_is_met_by_the_free_gp_at_home_rather_than_by_moving_anyone() -> None:
    bundle = with_events(network(), [], [extra("P01", FRI, 2)])
    outcome = propose_repair(
        bundle, "2026-W49", published_rota(), today=MONDAY, event_days={FRI}, options=OPTIONS
    )
    assert list(outcome.changes) == [Change(FRI, "AM", "S0002", None, "P01", "added")]


def test_a_repaired_rota_never_breaks_a_hard_rule_even_when_need_cannot_be_met() -> None:
    everyone_away = [absence(s, TUE, THU, i) for i, s in enumerate(("S0001", "S0002"), 1)]
    tight = dataclasses.replace(
        network(),
        staff=tuple(
            dataclasses.replace(p, max_hours=9.0, contract_hours=9.0)
            if p.staff_id == "S0004"
            else p
            for p in network().staff
        ),
    )
    bundle = with_events(tight, everyone_away, [extra("P02", WED, 2, 1)])
    outcome = propose_repair(
        bundle,
        "2026-W49",
        published_rota(),
        today=MONDAY,
        event_days={TUE, WED, THU},
        options=OPTIONS,
    )
    assert outcome.report is not None
    assert check_rota(bundle, WEEK, list(outcome.assignments)).ok
    hours = sum(4.5 for a in outcome.assignments if a.staff_id == "S0004")
    assert hours <= 9.0
    assert outcome.report.shortfall > 0  # said plainly, never hidden by breaking a rule


def test_a_week_with_nothing_to_repair_is_refused_with_what_to_do() -> None:
    with pytest.raises(RepairError, match="record the event first"):
        propose_repair(
            network(), "2026-W49", published_rota(), today=MONDAY, event_days=(), options=OPTIONS
        )


def test_changes_between_pairs_a_site_change_as_one_move() -> None:
    before = [assign("S0001", TUE, "AM", "P01"), assign("S0002", TUE, "AM", "P01")]
    after = [assign("S0001", TUE, "AM", "P02"), assign("S0003", TUE, "AM", "P01")]
    assert changes_between(before, after) == [
        Change(TUE, "AM", "S0001", "P01", "P02", "moved"),
        Change(TUE, "AM", "S0002", "P01", None, "removed"),
        Change(TUE, "AM", "S0003", None, "P01", "added"),
    ]


def test_a_change_soon_costs_more_than_one_later_and_the_past_costs_least() -> None:
    weights = [urgency(MONDAY + dt.timedelta(days=d), MONDAY) for d in range(10)]
    assert weights[: len(URGENCY)] == list(URGENCY)
    assert weights == sorted(weights, reverse=True)
    assert weights[1] >= 8 * weights[8]  # tomorrow against a week later
    assert urgency(MONDAY - dt.timedelta(days=1), MONDAY) == 1


def test_absences_become_leave_named_after_their_source() -> None:
    bundle = with_events(network(), [absence("S0001", TUE, WED, 7)], [])
    leave = bundle.leave[-1]
    assert (leave.source, leave.row, leave.kind) == (ABSENCES, 7, LeaveKind.SICK)
    report = check_rota(bundle, WEEK, list(published_rota()))
    assert any("absences:7" in v.message for v in report.violations)


def test_a_withdrawn_event_plays_no_part() -> None:
    gone = dataclasses.replace(absence("S0001", TUE, WED), withdrawn=True)
    assert with_events(network(), [gone], []) == network()


# -- any event on a real network --------------------------------------------------------


@pytest.fixture(scope="module")
def tiny() -> tuple[Bundle, frozenset[Assignment]]:
    """The tiny sample network and a published plan of its week."""
    bundle, _ = read_bundle(TINY)
    outcome = plan_week(bundle, "2026-W49", SolveOptions(time_limit=5, workers=2, seed=0))
    return bundle, frozenset(outcome.assignments)


@settings(max_examples=8, deadline=None)
@given(
    who=st.integers(min_value=0, max_value=40),
    first=st.integers(min_value=0, max_value=6),
    days=st.integers(min_value=1, max_value=3),
    today=st.integers(min_value=0, max_value=4),
    cancel=st.booleans(),
)
def test_any_absence_is_repaired_validly_and_only_inside_its_window(
    tiny: tuple[Bundle, frozenset[Assignment]],
    who: int,
    first: int,
    days: int,
    today: int,
    cancel: bool,
) -> None:
    bundle, published = tiny
    person = bundle.staff[who % len(bundle.staff)].staff_id
    start = WEEK[first]
    end = WEEK[min(6, first + days - 1)]
    found_changes = [cancelled("P02", WEEK[(first + 1) % 5])] if cancel else []
    after = with_events(bundle, [absence(person, start, end)], found_changes)
    event_days = {d for d in WEEK if start <= d <= end} | {c.date for c in found_changes}
    try:
        outcome = propose_repair(
            after,
            "2026-W49",
            published,
            today=WEEK[today],
            event_days=event_days,
            options=SolveOptions(time_limit=5, workers=2, seed=0),
        )
    except RepairError:
        return  # nothing published breaks and every event is in the past: nothing to do
    pinned = [f for f in bundle.fixed if f.staff_id == person and start <= f.date <= end]
    if pinned:  # a fixed.csv row pins them inside the absence: the rows are named
        assert outcome.report is None
        assert {c.split(":")[0] for c in map(str, outcome.result.conflicts)} == {
            "fixed.csv",
            "absences",
        }
        return
    assert outcome.report is not None
    assert check_rota(after, WEEK, list(outcome.assignments)).ok
    assert {a for a in outcome.assignments if a.date not in outcome.window} == {
        a for a in published if a.date not in outcome.window
    }
    assert not any(a.staff_id == person and start <= a.date <= end for a in outcome.assignments)
    past = {d for d in outcome.window if d < WEEK[today]}
    assert not any(c.change != "removed" for c in outcome.changes if c.date in past)


@pytest.mark.parametrize(
    ("day", "today", "words"),
    [
        (dt.date(2030, 1, 1), MONDAY, "2030-01-01 is not in 2026-W49; name dates from 2026-11-30"),
        (TUE, THU, "2026-12-01 is before today (2026-12-03) and a repair adds nothing"),
    ],
)
def test_dates_asked_for_that_a_repair_would_ignore_are_refused_by_name(
    day: dt.date, today: dt.date, words: str
) -> None:
    bundle = with_events(network(), [absence("S0001", FRI, FRI)], [])
    with pytest.raises(RepairError, match=f"dates to re-plan: {re.escape(words)}"):
        propose_repair(
            bundle,
            "2026-W49",
            published_rota(),
            today=today,
            event_days={FRI},
            extra_days=[day],
            options=OPTIONS,
        )


def test_a_cancelled_overnight_session_on_the_calendars_last_day_does_not_break_the_bundle() -> (
    None
):
    # A typo for a year is stored as given; building the network's bundle with it must not
    # fail, or every page that plans, checks or publishes the network would fail with it.
    night = make_bundle(
        session_types=[make_session("OOH", "18:30", "08:00")],
        demand=[make_demand("P01", session_id="OOH")],
    )
    change = dataclasses.replace(cancelled("P01", dt.date.max), session_id="OOH")
    closed = with_events(night, [], [change]).demand[-1]
    assert (closed.day.date, closed.closes) == (dt.date.max, True)


def test_a_session_worked_in_the_past_is_never_taken_away_to_free_someones_hours() -> None:
    # S0003 was off on Monday (recorded on Wednesday): Monday joins the window.  S0002, who
    # may work one session a week, worked Monday beside S0001.  Taking that session away
    # would let S0002 cover S0001's Thursday at home, cheaper than borrowing S0004; but
    # Monday happened.
    base = network()
    one_session = dataclasses.replace(base.person("S0002"), max_hours=4.5, contract_hours=4.5)
    bundle = dataclasses.replace(
        base,
        staff=tuple(one_session if p.staff_id == "S0002" else p for p in base.staff),
        demand=(
            make_demand("P01", role="GP", target=2, row=1),
            make_demand("P02", role="GP", row=2),
        ),
    )
    published = published_rota() | {assign("S0002", MONDAY, "AM", "P01")}
    assert check_rota(bundle, WEEK, list(published)).ok
    absent = [absence("S0003", MONDAY, MONDAY, 1), absence("S0001", THU, THU, 2)]
    outcome = propose_repair(
        with_events(bundle, absent, []),
        "2026-W49",
        published,
        today=WED,
        event_days={MONDAY, THU},
        options=OPTIONS,
    )
    assert list(outcome.changes) == [
        Change(MONDAY, "AM", "S0003", "P02", None, "removed"),
        Change(THU, "AM", "S0001", "P01", None, "removed"),
        Change(THU, "AM", "S0004", None, "P01", "added"),
    ]


def test_figures_skip_a_person_a_later_import_removed_but_count_their_change() -> None:
    changes = [
        Change(TUE, "AM", "S0001", "P01", None, "removed"),
        Change(TUE, "AM", "S0999", None, "P01", "added"),  # no longer in staff.csv
    ]
    figures = figures_of(network(), WEEK, changes, 24)
    assert figures.changed_sessions == 2
    assert [p.staff_id for p in figures.people] == ["S0001"]
    assert figures.hours == -4.5


def test_a_session_that_has_begun_today_gets_no_late_cover_but_one_still_to_come_does() -> None:
    bundle = with_events(network(), [absence("S0001", TUE, TUE)], [])
    london = ZoneInfo("Europe/London")

    def repaired_at(hour: int) -> list[Change]:
        outcome = propose_repair(
            bundle,
            "2026-W49",
            published_rota(),
            today=TUE,
            event_days={TUE},
            options=OPTIONS,
            now=dt.datetime.combine(TUE, dt.time(hour), tzinfo=london),
        )
        return list(outcome.changes)

    taken_off = Change(TUE, "AM", "S0001", "P01", None, "removed")
    assert repaired_at(10) == [taken_off]  # the 08:00 surgery is under way
    assert repaired_at(7) == [taken_off, Change(TUE, "AM", "S0002", None, "P01", "added")]


def test_a_pin_added_since_publication_brings_its_date_into_the_repair() -> None:
    """S0002 is now pinned to P01 on Thursday, which the published rota does not have:
    Thursday cannot stay as published, so it is re-planned with Tuesday's absence."""
    bundle = dataclasses.replace(network(), fixed=(make_fixed("S0002", THU, "AM", "P01"),))
    sick = with_events(bundle, [absence("S0001", TUE, TUE)], [])
    outcome = propose_repair(
        sick, "2026-W49", published_rota(), today=MONDAY, event_days={TUE}, options=OPTIONS
    )
    assert outcome.window == frozenset({TUE, THU})
    assert outcome.report is not None and outcome.report.ok
    assert assign("S0002", THU, "AM", "P01") in outcome.assignments
    assert outcome.proven
