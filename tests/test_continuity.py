"""Continuity of care: regular sessions keep their clinicians; a site sees few of them.

Each goal on the smallest bundle where it bites and one where it does not,
with the known optimum; the independent scorer (``scheduler.reports.continuity``)
must count exactly what the solver's objective paid.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from scheduler.bundle.cells import BundleError
from scheduler.bundle.reader import read_bundle
from scheduler.domain import Assignment, Bundle, Rules, Weights
from scheduler.horizon import Horizon
from scheduler.reports.continuity import (
    Continuity,
    clinicians_beyond_limit,
    continuity_of,
    penalties,
    regulars_of,
)
from solver import SolveOptions, SolveResult, SolveStatus, solve
from tests.bundles import write_bundle
from tests.factories import MONDAY, WEEK, make_bundle, make_demand, make_preference, make_staff
from tests.solver_rules_support import plan

TUESDAY = MONDAY + dt.timedelta(days=1)
# Only cost and the goal under test speak.
QUIET = Weights(away_from_home=0, fair_share=0, preference=0, contract_hours=0)
ANN = make_staff(staff_id="S0001", hourly_rate=80)  # AM is 4.5 h: 3.60 at 0.01 per GBP
BEN = make_staff(staff_id="S0002", name="Ben Example", hourly_rate=100)  # 4.50


def monday_clinic(regulars: dict, continuity: float = 3.0) -> Bundle:
    """One GP wanted on Monday morning; Ann is cheaper, Ben may be its regular."""
    return make_bundle(
        staff=[ANN, BEN],
        demand=[make_demand("P01", "Mon", "AM", role="GP")],
        weights=Weights(**{**QUIET.__dict__, "continuity": continuity}),
        previous_sessions=regulars,
    )


def who(result: SolveResult) -> list[str]:
    return [a.staff_id for a in result.assignments]


def scored(bundle: Bundle, result: SolveResult) -> dict[str, float]:
    """The solver's penalty of each continuity goal beside the independent scorer's."""
    assert result.status is SolveStatus.OPTIMAL
    independent = penalties(bundle, result.assignments)
    for rule_id, amount in independent.items():
        assert result.penalties.get(rule_id, 0.0) == pytest.approx(amount), rule_id
    return independent


# --------------------------------------------------------------------------- continuity

BEN_ON_MONDAYS = {("P01", 0, "AM"): frozenset({"S0002"})}


def test_continuity_gives_the_regular_session_to_its_regular() -> None:
    bundle = monday_clinic(BEN_ON_MONDAYS)
    result = plan(bundle)
    assert who(result) == ["S0002"]
    assert result.objective == pytest.approx(4.5)  # Ann would cost 3.60 + 3 for a new face
    assert scored(bundle, result)["continuity"] == 0


def test_continuity_without_history_lets_cost_decide() -> None:
    bundle = monday_clinic({})
    result = plan(bundle)
    assert who(result) == ["S0001"] and result.objective == pytest.approx(3.6)
    assert "continuity" not in result.penalties


def test_continuity_weighed_lightly_pays_for_a_new_face_and_both_sides_count_it() -> None:
    bundle = monday_clinic(BEN_ON_MONDAYS, continuity=0.5)
    result = plan(bundle)
    assert who(result) == ["S0001"] and result.objective == pytest.approx(4.1)
    assert scored(bundle, result)["continuity"] == pytest.approx(0.5)


def test_a_regular_of_another_weekday_is_a_new_face_here() -> None:
    bundle = monday_clinic({("P01", 1, "AM"): frozenset({"S0002"})})
    assert who(plan(bundle)) == ["S0001"]


# --------------------------------------------------------------------------- distinct clinicians


def two_mornings(limit: int) -> Bundle:
    """Monday and Tuesday mornings; Ann is cheaper, Ben prefers Tuesday."""
    return make_bundle(
        staff=[ANN, BEN],
        demand=[make_demand("P01", day, "AM", role="GP") for day in ("Mon", "Tue")],
        preferences=[make_preference("S0002", "Tue", "AM", preference="prefer")],
        rules=Rules(max_clinicians_per_role=limit),
        weights=Weights(**{**QUIET.__dict__, "preference": 8.0, "distinct_clinicians": 20.0}),
    )


def test_distinct_clinicians_gives_both_mornings_to_one_gp() -> None:
    bundle = two_mornings(limit=1)
    result = plan(bundle)
    assert who(result) == ["S0002", "S0002"]
    assert result.objective == pytest.approx(9.0)  # Ann + Ben would pay 8.10 + 20
    assert scored(bundle, result)["distinct_clinicians"] == 0


def test_distinct_clinicians_without_a_limit_shares_the_mornings() -> None:
    bundle = two_mornings(limit=0)
    result = plan(bundle)
    assert sorted(result.assignments) == [
        Assignment(MONDAY, "AM", "P01", "S0001"),
        Assignment(TUESDAY, "AM", "P01", "S0002"),
    ]
    assert result.objective == pytest.approx(8.1)
    assert "distinct_clinicians" not in result.penalties


def test_the_scorer_counts_each_clinician_beyond_the_limit_per_site_role_and_week() -> None:
    nurse = make_staff("PN", staff_id="S0003")
    bundle = make_bundle(staff=[ANN, BEN, nurse], rules=Rules(max_clinicians_per_role=1))
    rota = [
        Assignment(MONDAY, "AM", "P01", "S0001"),
        Assignment(TUESDAY, "AM", "P01", "S0002"),
        Assignment(TUESDAY, "AM", "P01", "S0003"),  # a nurse: another role
        Assignment(MONDAY + dt.timedelta(days=7), "AM", "P01", "S0002"),  # the next week
    ]
    assert clinicians_beyond_limit(bundle, rota) == {("P01", "GP", "2026-W49"): 1}
    assert penalties(bundle, rota)["distinct_clinicians"] == 2.0


def test_distinct_clinicians_agrees_with_the_scorer_when_paid() -> None:
    """A limit too tight to keep: the solver pays for the second GP and the scorer says so."""
    bundle = make_bundle(
        staff=[ANN, make_staff(staff_id="S0002", max_hours=4.5, contract_hours=4.5)],
        demand=[make_demand("P01", "Mon", "AM", role="GP", min=2)],
        rules=Rules(max_clinicians_per_role=1),
        weights=QUIET,
    )
    result = solve(Horizon(bundle, WEEK), SolveOptions(time_limit=10, workers=2, seed=0))
    assert len(result.assignments) == 2
    assert scored(bundle, result)["distinct_clinicians"] == pytest.approx(2.0)


# --------------------------------------------------------------------------- history and summary


def test_regulars_are_everyone_who_worked_the_weekday_session() -> None:
    history = [
        Assignment(MONDAY - dt.timedelta(days=7), "AM", "P01", "S0001"),
        Assignment(MONDAY - dt.timedelta(days=14), "AM", "P01", "S0002"),
        Assignment(MONDAY - dt.timedelta(days=13), "AM", "P01", "S0002"),
    ]
    assert regulars_of(history) == {
        ("P01", 0, "AM"): frozenset({"S0001", "S0002"}),
        ("P01", 1, "AM"): frozenset({"S0002"}),
    }


def test_the_summary_counts_regular_sessions_kept() -> None:
    regulars = {("P01", 0, "AM"): frozenset({"S0001"}), ("P01", 1, "AM"): frozenset({"S0002"})}
    rota = [
        Assignment(MONDAY, "AM", "P01", "S0001"),  # kept
        Assignment(TUESDAY, "AM", "P01", "S0001"),  # a new face
        Assignment(TUESDAY, "PM", "P01", "S0001"),  # nobody worked it before: not regular
    ]
    found = continuity_of(regulars, rota)
    assert found == Continuity(regular=2, kept=1)
    assert found.sentence() == (
        "50% of regular sessions kept their clinician from the last published weeks (1 of 2)."
    )


def test_the_summary_without_regular_sessions_says_so() -> None:
    assert Continuity(0, 0).pct is None
    assert Continuity(0, 0).sentence().startswith("No session of this plan")


# --------------------------------------------------------------------------- settings


def test_network_toml_sets_the_limit_and_the_weights(tmp_path: Path) -> None:
    folder = write_bundle(tmp_path)
    toml = (folder / "network.toml").read_text(encoding="utf-8")
    settings = "[weights]\ncontinuity = 5\ndistinct_clinicians = 1.5\n\n[rules]\n"
    settings += "max_clinicians_per_role = 4\n"
    (folder / "network.toml").write_text(toml.replace("[rules]\n", settings), encoding="utf-8")
    bundle, _ = read_bundle(folder)
    assert bundle.rules.max_clinicians_per_role == 4
    assert (bundle.weights.continuity, bundle.weights.distinct_clinicians) == (5, 1.5)


def test_the_defaults_are_in_priority_order_and_the_limit_is_off() -> None:
    defaults = list(dataclasses.asdict(Weights()).values())
    assert defaults == sorted(defaults, reverse=True)
    assert Weights().preference > Weights().continuity > Weights().distinct_clinicians > 0
    assert Rules().max_clinicians_per_role == 0


@pytest.mark.parametrize("value", ["-1", "2.5", '"many"'])
def test_a_bad_limit_is_named_with_what_to_write(tmp_path: Path, value: str) -> None:
    folder = write_bundle(tmp_path)
    toml = (folder / "network.toml").read_text(encoding="utf-8")
    bad = toml.replace("[rules]\n", f"[rules]\nmax_clinicians_per_role = {value}\n")
    (folder / "network.toml").write_text(bad, encoding="utf-8")
    with pytest.raises(BundleError) as refused:
        read_bundle(folder)
    (problem,) = [str(p) for p in refused.value.problems if not p.warning]
    assert "rules.max_clinicians_per_role:" in problem
    assert "the usual value is 0" in problem
