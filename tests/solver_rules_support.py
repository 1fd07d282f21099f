"""Helpers of the solver rule tests: goals switched off but the one under test, and a
solve whose rota the independent validator must accept."""

from __future__ import annotations

from scheduler.checks.validator import check_rota
from scheduler.domain import Bundle, Weights
from scheduler.horizon import Horizon
from solver import SolveOptions, SolveResult, solve
from tests.factories import (
    WEEK,
    make_demand,
    make_session,
    make_site,
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
