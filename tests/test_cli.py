"""The command line end to end: plan, check, import/solve/export, exit codes."""

from __future__ import annotations

import csv
import itertools
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from scheduler.cli.common import EXIT_CONFLICT, EXIT_FAILED, EXIT_INPUT, EXIT_OK, next_week
from scheduler.cli.main import main

ROOT = Path(__file__).resolve().parent.parent
RIVERSIDE = ROOT / "sample_data" / "riverside"
TINY = ROOT / "sample_data" / "tiny"
WEEK = "2026-W49"


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def riverside_plan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("riverside")
    code = main(["plan", str(RIVERSIDE), "--week", WEEK, "--out", str(out), "--time-limit", "30"])
    assert code == EXIT_OK
    return out


def test_plan_writes_every_export(riverside_plan: Path) -> None:
    names = {p.name for p in riverside_plan.iterdir()}
    expected = {"rota.csv", "coverage.csv", "recharges.csv", "rota.xlsx", "summary.json"}
    assert expected <= names
    header = (riverside_plan / "rota.csv").read_text(encoding="utf-8").splitlines()[0].split(",")
    assert header == [
        *("week", "date", "session_id", "start", "end", "site_id", "staff_id", "role"),
        *("duty_start", "duty_end"),  # rotapool's own columns, after the format's
    ]


def test_plan_summary_matches_coverage_csv(riverside_plan: Path) -> None:
    summary = json.loads((riverside_plan / "summary.json").read_text())
    coverage = read_csv(riverside_plan / "coverage.csv")
    rota = read_csv(riverside_plan / "rota.csv")
    assert summary["shortfall"] == sum(int(r["shortfall"]) for r in coverage)
    assert summary["assignments"] == len(rota)
    assert summary["status"] in {"optimal", "feasible"}
    assert summary["gap"] is not None and summary["gap"] < 0.01
    assert set(summary) >= {
        "status",
        "objective",
        "bound",
        "gap",
        "seconds",
        "assignments",
        "shortfall",
        "min_cover_pct",
        "target_cover_pct",
    }


def test_every_shortfall_is_listed_with_a_reason(riverside_plan: Path) -> None:
    coverage = [r for r in read_csv(riverside_plan / "coverage.csv") if int(r["shortfall"])]
    notes = read_csv(riverside_plan / "shortfalls.csv")
    assert len(notes) == len(coverage)
    assert all(n["reasons"] for n in notes)


def test_plan_rota_passes_the_independent_check(
    riverside_plan: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", str(RIVERSIDE), str(riverside_plan / "rota.csv")]) == EXIT_OK
    assert "0 hard-rule violation(s)" in capsys.readouterr().out


def test_xlsx_has_the_same_rows_as_the_csvs(riverside_plan: Path) -> None:
    sheets = pd.read_excel(riverside_plan / "rota.xlsx", sheet_name=None, dtype=str)
    assert {"rota", "coverage", "recharges"} <= set(sheets)
    assert len(sheets["rota"]) == len(read_csv(riverside_plan / "rota.csv"))


def test_check_reports_a_hand_edited_violation(
    riverside_plan: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = read_csv(riverside_plan / "rota.csv")
    first = rows[0]
    clash = dict(first, site_id="HUB1" if first["site_id"] != "HUB1" else "P01")
    edited = tmp_path / "rota.csv"
    with edited.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(first))
        writer.writeheader()
        writer.writerows([*rows, clash])
    assert main(["check", str(RIVERSIDE), str(edited)]) == EXIT_FAILED
    assert f"{first['staff_id']}" in capsys.readouterr().out


def test_plan_refuses_invalid_input_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bundle = tmp_path / "bundle"
    shutil.copytree(TINY, bundle)
    staff = (bundle / "staff.csv").read_text().splitlines()
    header = staff[0].split(",")
    cells = staff[1].split(",")
    cells[header.index("home_site")] = "NOPE"
    staff[1] = ",".join(cells)
    (bundle / "staff.csv").write_text("\n".join(staff) + "\n")
    out = tmp_path / "out"
    assert main(["plan", str(bundle), "--week", WEEK, "--out", str(out)]) == EXIT_INPUT
    assert "staff.csv:2: home_site:" in capsys.readouterr().err
    assert not out.exists()


def test_plan_names_conflicting_rows_with_exit_3(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bundle = tmp_path / "bundle"
    shutil.copytree(TINY, bundle)
    fixed = read_csv(bundle / "fixed.csv")[0]
    with (bundle / "leave.csv").open("a", encoding="utf-8") as handle:
        handle.write(f"{fixed['staff_id']},{fixed['date']},{fixed['date']},sick,\n")
    leave_row = len((bundle / "leave.csv").read_text().splitlines())
    out = tmp_path / "out"
    assert main(["plan", str(bundle), "--week", WEEK, "--out", str(out)]) == EXIT_CONFLICT
    err = capsys.readouterr().err
    assert "fixed.csv:2:" in err and f"leave.csv:{leave_row}:" in err
    assert not out.exists()


def test_import_solve_export_on_a_persistent_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'rotapool.sqlite'}"
    assert main(["import", str(TINY), "--database", url]) == EXIT_OK
    assert main(["solve", "--week", WEEK, "--database", url, "--time-limit", "10"]) == EXIT_OK
    out = tmp_path / "out"
    assert main(["export", "--week", WEEK, "--out", str(out), "--database", url]) == EXIT_OK
    assert read_csv(out / "rota.csv")
    assert main(["check", str(TINY), str(out / "rota.csv")]) == EXIT_OK


def test_export_of_an_unplanned_week_says_what_to_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'rotapool.sqlite'}"
    assert main(["import", str(TINY), "--database", url]) == EXIT_OK
    code = main(["export", "--week", "2026-W50", "--out", str(tmp_path), "--database", url])
    assert code == EXIT_FAILED
    assert "rotapool solve --week 2026-W50" in capsys.readouterr().err


def test_demo_plans_without_serving(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'demo.sqlite'}"
    args = ["demo", "--no-serve", "--week", WEEK, "--database", url, "--time-limit", "30"]
    assert main(args) == EXIT_OK
    assert (tmp_path / "out" / "demo" / "rota.csv").exists()


def test_next_week_is_the_iso_week_after_today() -> None:
    import datetime as dt

    assert next_week(dt.date(2026, 11, 24)) == "2026-W49"
    assert next_week(dt.date(2026, 12, 28)) == "2027-W01"


def test_export_refuses_a_stored_rota_that_new_leave_breaks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'rotapool.sqlite'}"
    bundle = tmp_path / "bundle"
    shutil.copytree(TINY, bundle)
    assert main(["import", str(bundle), "--database", url]) == EXIT_OK
    assert main(["solve", "--week", WEEK, "--database", url, "--time-limit", "10"]) == EXIT_OK
    out = tmp_path / "first"
    assert main(["export", "--week", WEEK, "--out", str(out), "--database", url]) == EXIT_OK
    worker = read_csv(out / "rota.csv")[0]
    with (bundle / "leave.csv").open("a", encoding="utf-8") as handle:
        handle.write(f"{worker['staff_id']},{worker['date']},{worker['date']},sick,\n")
    assert main(["import", str(bundle), "--database", url]) == EXIT_OK
    again = tmp_path / "again"
    code = main(["export", "--week", WEEK, "--out", str(again), "--database", url])
    assert code == EXIT_FAILED
    assert "Nothing was exported" in capsys.readouterr().err
    assert not again.exists()


def test_a_malformed_week_is_a_usage_error() -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["plan", str(TINY), "--week", "2026-49", "--out", "x"])
    assert exit_info.value.code == EXIT_INPUT


def test_check_sees_short_rest_across_a_week_boundary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bundle = tmp_path / "bundle"
    shutil.copytree(TINY, bundle)
    with (bundle / "session_types.csv").open("a", encoding="utf-8") as handle:
        handle.write("SUN,Sunday late clinic,16:00,23:00,Sun,extended\n")
    with (bundle / "demand.csv").open("a", encoding="utf-8") as handle:
        handle.write("HUB1,Sun,SUN,GP,,0,1,1\n")
    gp = next(p for p in read_csv(TINY / "staff.csv") if p["role"] == "GP")
    rota = tmp_path / "rota.csv"
    rota.write_text(
        "week,date,session_id,start,end,site_id,staff_id,role\n"
        f"2026-W49,2026-12-06,SUN,16:00,23:00,HUB1,{gp['staff_id']},GP\n"
        f"2026-W50,2026-12-07,AM,08:00,12:30,{gp['home_site']},{gp['staff_id']},GP\n",
        encoding="utf-8",
    )
    assert main(["check", str(bundle), str(rota)]) == EXIT_FAILED
    out = capsys.readouterr().out
    assert "[rest]" in out and "2026-W49, 2026-W50" in out


def _tiny_with_horizon_rules(tmp_path: Path) -> Path:
    """The tiny network with horizon rules on every person and a banned EVE -> AM."""
    folder = tmp_path / "tiny"
    shutil.copytree(TINY, folder)
    staff = pd.read_csv(folder / "staff.csv", dtype=str, keep_default_na=False)
    staff["max_consecutive_days"] = "4"
    staff["min_days_off_in_row"] = "2"
    staff["max_weekends"] = "1"
    staff.to_csv(folder / "staff.csv", index=False)
    (folder / "forbidden_sequences.csv").write_text(
        "session_id,next_day_session_id\nEVE,AM\n", encoding="utf-8"
    )
    return folder


def test_plan_two_weeks_as_one_horizon(tmp_path: Path) -> None:
    bundle_dir = _tiny_with_horizon_rules(tmp_path)
    out = tmp_path / "out"
    args = ["plan", str(bundle_dir), "--week", WEEK, "--weeks", "2", "--out", str(out)]
    assert main([*args, "--time-limit", "20"]) == EXIT_OK
    rows = read_csv(out / "rota.csv")
    assert {r["week"] for r in rows} == {"2026-W49", "2026-W50"}
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["weeks"] == ["2026-W49", "2026-W50"]
    by_person: dict[str, set[str]] = {}
    for r in rows:
        by_person.setdefault(r["staff_id"], set()).add(r["date"])
    for dates in by_person.values():  # max_consecutive_days 4 over the fortnight
        days = sorted(pd.Timestamp(d).toordinal() for d in dates)
        run = longest = 1
        for a, b in itertools.pairwise(days):
            run = run + 1 if b == a + 1 else 1
            longest = max(longest, run)
        assert longest <= 4
    assert main(["check", str(bundle_dir), str(out / "rota.csv")]) == EXIT_OK


def test_solve_two_weeks_saves_a_draft_per_week(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'rotapool.sqlite'}"
    assert main(["import", str(_tiny_with_horizon_rules(tmp_path)), "--database", url]) == EXIT_OK
    args = ["solve", "--week", WEEK, "--weeks", "2", "--database", url, "--time-limit", "20"]
    assert main(args) == EXIT_OK
    for week in ("2026-W49", "2026-W50"):
        out = tmp_path / week
        assert main(["export", "--week", week, "--out", str(out), "--database", url]) == EXIT_OK
        assert {r["week"] for r in read_csv(out / "rota.csv")} == {week}


@pytest.mark.parametrize("weeks", ["0", "9", "two"])
def test_weeks_outside_one_to_eight_is_a_usage_error(weeks: str) -> None:
    with pytest.raises(SystemExit):
        main(["plan", str(TINY), "--week", WEEK, "--weeks", weeks, "--out", "x"])
