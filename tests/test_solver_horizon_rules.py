"""Each solver rule over a horizon (sequences, runs, weekends, hours, session limits)
on the smallest bundle where it bites, and one where it does not."""

from __future__ import annotations

import datetime as dt

from scheduler.checks.validator import check_rota
from scheduler.domain import Bundle, ForbiddenSequence, SessionLimit
from scheduler.horizon import Horizon
from solver import SolveOptions, SolveResult, SolveStatus, solve
from tests.factories import (
    WEEK,
    make_bundle,
    make_demand,
    make_fixed,
    make_leave,
    make_session,
    make_staff,
)
from tests.solver_rules_support import COVER_ONLY, EVE, SAT, plan, worked

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


def test_a_horizon_rule_conflict_names_the_staff_row_and_the_pins() -> None:
    # Four pinned days in a row against max_consecutive_days = 3.
    pins = [make_fixed(date=d) for d in ("2026-11-30", "2026-12-01", "2026-12-02", "2026-12-03")]
    bundle = make_bundle(staff=[make_staff(max_consecutive_days=3)], fixed=pins)
    result = solve(Horizon(bundle, WEEK), SolveOptions(time_limit=20, workers=2))
    assert result.status is SolveStatus.CONFLICT
    named = {(c.file, c.row, c.column) for c in result.conflicts}
    assert ("staff.csv", 2, "max_consecutive_days") in named
    assert {("fixed.csv", row, "staff_id") for row in (2, 3, 4, 5)} <= named
