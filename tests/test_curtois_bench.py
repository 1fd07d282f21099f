"""Curtois-Qu instances through the product's solver: mapping, known optima, the bench command."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from scheduler.bench.curtois_check import evaluate, read_roster_csv
from scheduler.bench.curtois_format import parse_instance, read_instance
from scheduler.bench.curtois_map import dates_of, roster_of, to_bundle
from scheduler.bench.curtois_run import run_instance
from scheduler.checks.validator import check_rota
from scheduler.cli.main import main
from scheduler.horizon import Horizon
from solver import SolveOptions, SolveStatus, solve

SHARED = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "curtois_qu"
INSTANCE1 = SHARED / "instances" / "Instance1.txt"
OPTIONS = SolveOptions(time_limit=30, workers=2, seed=1)

# Two nurses, one 8-hour day shift, one week.  Each day wants one nurse
# (under 100, over 1).  A works at most 3 shifts and B at most 2 in total
# (MaxTotalMinutes 1440 / 960), so at most 5 of the 7 days are covered: 200
# of under-cover is unavoidable.  B is off on day 6 and asks for day 0
# (weight 2); A asks not to work day 2 (weight 3).  A's runs of work must be
# at least 2 days unless they touch an edge; both need 2 days off in a row.
# B on days 0-1 and A on days 3-5 (one weekend day) cover 5 days, break no
# request and over-staff nothing: the optimum is 200.
WEEK_TEXT = """\
SECTION_HORIZON
7

SECTION_SHIFTS
D,480,

SECTION_STAFF
A,D=7,1440,0,3,2,2,1
B,D=7,960,0,3,1,2,1

SECTION_DAYS_OFF
B,6

SECTION_SHIFT_ON_REQUESTS
B,0,D,2

SECTION_SHIFT_OFF_REQUESTS
A,2,D,3

SECTION_COVER
0,D,1,100,1
1,D,1,100,1
2,D,1,100,1
3,D,1,100,1
4,D,1,100,1
5,D,1,100,1
6,D,1,100,1
"""


def _solve_text(text: str, name: str = "Week") -> tuple[int, int]:
    """The product's objective and the evaluator's score of the product's roster."""
    instance = parse_instance(text, name)
    bundle = to_bundle(instance)
    dates = dates_of(instance)
    result = solve(Horizon(bundle, dates), OPTIONS)
    assert result.status is SolveStatus.OPTIMAL and result.objective is not None
    assert check_rota(bundle, dates, result.assignments).ok
    verdict = evaluate(instance, roster_of(instance, result.assignments))
    assert verdict.ok, verdict.violations
    return round(result.objective), verdict.objective


def test_tiny_week_reaches_its_hand_computed_optimum() -> None:
    assert _solve_text(WEEK_TEXT) == (200, 200)


def test_forbidding_a_succession_leaves_only_edge_runs() -> None:
    # B may not work D at all, and D may not follow D: A's runs are one day long,
    # and a one-day run is allowed only at an edge (min 2 in a row otherwise).
    # A works days 0 and 6 (one weekend): 5 days uncovered.
    text = WEEK_TEXT.replace("D,480,", "D,480,D").replace("B,D=7,960", "B,D=0,960")
    text = text.replace("B,0,D,2\n", "").replace("B,6\n", "")
    objective, score = _solve_text(text)
    assert objective == score == 500


def test_mapping_keeps_every_rule_of_the_instance() -> None:
    bundle = to_bundle(parse_instance(WEEK_TEXT, "Week"))
    a, b = bundle.staff
    assert (a.max_consecutive_days, a.min_consecutive_days, a.min_days_off_in_row) == (3, 2, 2)
    assert (a.max_horizon_hours, b.max_horizon_hours, a.max_weekends) == (24, 16, 1)
    assert [(lv.staff_id, lv.start.weekday()) for lv in bundle.leave] == [("B", 6)]
    assert len(bundle.demand) == 7 and all(d.min == d.target == 1 for d in bundle.demand)
    assert (bundle.weights.min_cover, bundle.weights.over_target) == (100, 1)
    assert [p.preference.value for p in bundle.preferences] == ["prefer", "avoid"]


def test_bench_command_writes_roster_and_summary(tmp_path: Path) -> None:
    source = tmp_path / "sets" / "instances" / "Week.txt"
    source.parent.mkdir(parents=True)
    source.write_text(WEEK_TEXT, encoding="utf-8")
    (tmp_path / "sets" / "best_known.csv").write_text(
        "instance,best_known_objective,lower_bound,source\nWeek,200,200,hand\n", encoding="utf-8"
    )
    out = tmp_path / "out"
    assert main(["bench", "curtois", str(source), "--time-limit", "20", "--out", str(out)]) == 0
    with (out / "summary.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["instance"], r["objective"], r["best_known"], r["ratio_to_best"]) for r in rows] == [
        ("Week", "200", "200", "1.0000")
    ]
    roster = read_roster_csv(out / "Week.csv")
    assert evaluate(parse_instance(WEEK_TEXT, "Week"), roster).objective == 200


def test_bench_command_reports_a_missing_file(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    code = main(["bench", "curtois", str(tmp_path / "Nope.txt"), "--out", str(tmp_path)])
    assert code == 2
    assert "Nope.txt: not found" in capsys.readouterr().err


@pytest.mark.skipif(not INSTANCE1.is_file(), reason="the shared benchmark folder is not present")
def test_instance1_reaches_its_known_optimum(tmp_path: Path) -> None:
    row = run_instance(INSTANCE1, OPTIONS, tmp_path, {"Instance1": 607})
    assert (row.objective, row.lower_bound, row.status) == (607, 607, "optimal")
    instance = read_instance(INSTANCE1)
    assert evaluate(instance, read_roster_csv(tmp_path / "Instance1.csv")).objective == 607


def test_bench_command_adds_the_column_generation_bound_when_asked(tmp_path: Path) -> None:
    source = tmp_path / "Week.txt"
    source.write_text(WEEK_TEXT, encoding="utf-8")
    out = tmp_path / "out"
    args = ["bench", "curtois", str(source), "--time-limit", "20", "--out", str(out)]
    assert main([*args, "--workers", "1", "--colgen", "20"]) == 0
    with (out / "summary.csv").open(newline="", encoding="utf-8") as handle:
        (row,) = list(csv.DictReader(handle))
    assert row["objective"] == "200"  # the week's proven optimum
    assert 0 < int(row["colgen_bound"]) <= 200
    assert float(row["colgen_seconds"]) >= 0
    assert main(args) == 0  # off by default: the columns stay empty
    with (out / "summary.csv").open(newline="", encoding="utf-8") as handle:
        (row,) = list(csv.DictReader(handle))
    assert (row["colgen_bound"], row["colgen_seconds"]) == ("", "")
