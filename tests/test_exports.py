"""Exports: exact headers, order, formula neutralising, workbook round trip, recharge hours."""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from scheduler.checks.validator import coverage_of
from scheduler.domain import FEDERATION, Assignment, Bundle
from scheduler.outputs.exports import (
    coverage_rows,
    neutralise,
    recharge_rows,
    rota_rows,
    write_csv,
    write_exports,
)
from tests.factories import (
    WEEK,
    assign,
    make_bundle,
    make_demand,
    make_session,
    make_site,
    make_staff,
)

EVIL = '=HYPERLINK("http://evil.example","click")'


def _network(**first_staff: object) -> Bundle:
    """Two practices, AM and PM, a borrowed nurse and a federation pharmacist."""
    return make_bundle(
        sites=[make_site(), make_site(site_id="P02", name="Hill Surgery", rooms=1)],
        session_types=[make_session("PM", "13:30", "18:00"), make_session()],
        staff=[
            make_staff(sites="*", **first_staff),
            make_staff(
                "PN", staff_id="S0002", name="Bo Nurse", home_site="P02", sites="*", hourly_rate=30
            ),
            make_staff(
                "PHARM",
                staff_id="S0003",
                name="Cy Pharm",
                employer=FEDERATION,
                sites="*",
                hourly_rate=41.5,
            ),
        ],
        demand=[make_demand(), make_demand(session_id="PM"), make_demand(site_id="P02", min=2)],
    )


ROTA = (
    assign("S0003", "2026-12-01", "PM", "P01"),
    assign("S0002", "2026-12-01", "AM", "P01"),
    assign("S0001", "2026-12-01", "AM", "P02"),
    assign("S0001", "2026-11-30", "PM", "P01"),
    assign("S0003", "2026-12-01", "AM", "P01"),
)


def _read_csv(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def test_headers_are_exact(tmp_path: Path) -> None:
    bundle = _network()
    paths = write_exports(tmp_path, bundle, WEEK, ROTA, coverage_of(bundle, WEEK, ROTA))
    assert [p.name for p in paths] == ["rota.csv", "coverage.csv", "recharges.csv", "rota.xlsx"]
    first_lines = [p.read_text(encoding="utf-8").splitlines()[0] for p in paths[:3]]
    assert first_lines == [
        "week,date,session_id,start,end,site_id,staff_id,role,duty_start,duty_end",
        "date,site_id,session_id,role,skill,min,target,assigned,shortfall,closed",
        "host_site,employer,staff_id,hours,cost",
    ]
    workbook = openpyxl.load_workbook(paths[3])
    assert workbook.sheetnames == ["rota", "coverage", "recharges", "by site"]


def test_rota_rows_sorted_by_date_start_site_staff() -> None:
    header, rows = rota_rows(_network(), reversed(ROTA))
    assert header[0] == "week"
    assert rows == [
        ("2026-W49", "2026-11-30", "PM", "13:30", "18:00", "P01", "S0001", "GP", *MON_PM),
        ("2026-W49", "2026-12-01", "AM", "08:00", "12:30", "P01", "S0002", "PN", *TUE_AM),
        ("2026-W49", "2026-12-01", "AM", "08:00", "12:30", "P01", "S0003", "PHARM", *TUE_DAY),
        ("2026-W49", "2026-12-01", "AM", "08:00", "12:30", "P02", "S0001", "GP", *TUE_AM),
        ("2026-W49", "2026-12-01", "PM", "13:30", "18:00", "P01", "S0003", "PHARM", *TUE_DAY),
    ]


# Each row's duty: S0003's AM and PM, an hour apart, are one duty; S0001's Monday PM and
# Tuesday AM, 14 hours apart, are two.
MON_PM = ("2026-11-30 13:30", "2026-11-30 18:00")
TUE_AM = ("2026-12-01 08:00", "2026-12-01 12:30")
TUE_DAY = ("2026-12-01 08:00", "2026-12-01 18:00")


def test_coverage_rows_leave_blank_role_and_skill() -> None:
    bundle = make_bundle(demand=[make_demand(role="GP", skill="imms", min=2, target=3)])
    _, rows = coverage_rows(coverage_of(bundle, WEEK[:1], []))
    assert rows == [("2026-11-30", "P01", "AM", "GP", "imms", 2, 3, 0, 2, "")]
    _, rows = coverage_rows(coverage_of(make_bundle(), WEEK[:1], []))
    assert rows[0][3:5] == ("", "")


def test_recharges_cover_other_employers_only_sorted() -> None:
    _, rows = recharge_rows(_network(), ROTA)
    assert rows == [
        ("P01", "FED", "S0003", Decimal("9.00"), Decimal("373.50")),
        ("P01", "P02", "S0002", Decimal("4.50"), Decimal("135.00")),
        ("P02", "P01", "S0001", Decimal("4.50"), Decimal("0.00")),
    ]


def test_recharge_with_blank_rate_costs_nothing() -> None:
    bundle = make_bundle(
        sites=[make_site(), make_site(site_id="P02", name="Hill")],
        staff=[make_staff(employer="P02")],
    )
    _, rows = recharge_rows(bundle, [assign(date="2026-12-01")])
    assert rows == [("P01", "P02", "S0001", Decimal("4.50"), Decimal("0.00"))]


@pytest.mark.parametrize(
    ("day", "hours"), [(dt.date(2026, 10, 25), "4.00"), (dt.date(2026, 3, 29), "2.00")]
)
def test_recharge_hours_across_a_clock_change(tmp_path: Path, day: dt.date, hours: str) -> None:
    """00:30-03:30 on the clock-change Sundays is four real hours in autumn, two in spring."""
    bundle = make_bundle(
        session_types=[make_session("EARLY", "00:30", "03:30", days="Sun")],
        staff=[make_staff(employer=FEDERATION, hourly_rate=50)],
    )
    path = write_csv(
        tmp_path / "recharges.csv", *recharge_rows(bundle, [assign(date=day, session_id="EARLY")])
    )
    cost = f"{float(hours) * 50:.2f}"
    assert _read_csv(path)[1] == ["P01", "FED", "S0001", hours, cost]


def test_recharge_cost_uses_exact_hours_before_rounding() -> None:
    """Four hours ten minutes at 80/h is 333.33, not 4.17 x 80."""
    bundle = make_bundle(
        session_types=[make_session(end="12:10")],
        staff=[make_staff(employer="P02", hourly_rate=80)],
    )
    _, rows = recharge_rows(bundle, [assign(date="2026-12-01")])
    assert rows[0][3:] == (Decimal("4.17"), Decimal("333.33"))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+44 20", "'+44 20"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("Ann", "Ann"),
        ("", ""),
        (3, 3),
        (None, None),
    ],
)
def test_neutralise(value: object, expected: object) -> None:
    assert neutralise(value) == expected  # type: ignore[arg-type]  # the table mixes cell types


def _evil_exports(tmp_path: Path) -> tuple[Bundle, list[Path]]:
    bundle = make_bundle(
        sites=[make_site(name=EVIL)],
        staff=[make_staff(staff_id=EVIL, name=EVIL)],
    )
    rota = [assign(EVIL, "2026-12-01")]
    return bundle, write_exports(tmp_path, bundle, WEEK, rota, coverage_of(bundle, WEEK, rota))


def test_formula_injection_is_neutralised_in_csv(tmp_path: Path) -> None:
    _, paths = _evil_exports(tmp_path)
    rota = _read_csv(paths[0])
    assert rota[1][6] == "'" + EVIL
    assert not any(cell.startswith("=") for p in paths[:3] for row in _read_csv(p) for cell in row)


def test_formula_injection_is_neutralised_in_xlsx(tmp_path: Path) -> None:
    _, paths = _evil_exports(tmp_path)
    workbook = openpyxl.load_workbook(paths[3])
    cells = [c for sheet in workbook for row in sheet.iter_rows() for c in row]
    assert not any(c.data_type == "f" for c in cells)
    assert workbook["rota"]["G2"].value == "'" + EVIL
    grid = workbook["by site"]
    assert grid["C1"].value == "P01 " + EVIL
    assert grid["C3"].value == "'" + EVIL


def test_xlsx_keeps_numbers_as_numbers(tmp_path: Path) -> None:
    from scheduler.outputs.exports import write_xlsx

    path = write_xlsx(
        tmp_path / "n.xlsx",
        {"t": (("name", "value"), [("-x", Decimal("-1.50")), ("y", -2)])},
        (("a",), [], set()),
    )
    sheet = openpyxl.load_workbook(path)["t"]
    assert [c.value for c in sheet["A"]] == ["name", "'-x", "y"]
    assert [c.value for c in sheet["B"]] == ["value", -1.5, -2]
    assert sheet["B2"].number_format == "0.00"


def test_xlsx_round_trip_matches_the_csvs(tmp_path: Path) -> None:
    bundle = _network(name=EVIL)
    paths = write_exports(tmp_path, bundle, WEEK, ROTA, coverage_of(bundle, WEEK, ROTA))
    for name in ("rota", "coverage", "recharges"):
        from_csv = pd.read_csv(tmp_path / f"{name}.csv", keep_default_na=False)
        from_xlsx = pd.read_excel(paths[3], sheet_name=name, keep_default_na=False)
        assert len(from_csv) > 0
        pd.testing.assert_frame_equal(from_csv, from_xlsx, check_dtype=False)


def test_xlsx_layout_bold_frozen_wide_and_shortfall_highlighted(tmp_path: Path) -> None:
    bundle = _network()
    paths = write_exports(tmp_path, bundle, WEEK, ROTA, coverage_of(bundle, WEEK, ROTA))
    workbook = openpyxl.load_workbook(paths[3])
    coverage = workbook["coverage"]
    assert coverage["A1"].font.bold and coverage.freeze_panes == "A2"
    assert coverage.column_dimensions["A"].width >= 10
    filled = {
        c.coordinate
        for row in coverage.iter_rows(min_row=2)
        for c in row
        if c.fill.fgColor.rgb.endswith("FFC7CE")
    }
    short = {
        f"I{i}"
        for i, row in enumerate(coverage.iter_rows(min_row=2, values_only=True), 2)
        if row[8]
    }
    assert filled == short and short
    grid = workbook["by site"]
    assert [c.value for c in grid[1]] == [
        "date",
        "session_id",
        "P01 Riverside Surgery",
        "P02 Hill Surgery",
    ]
    tuesday_am = next(r for r in grid.iter_rows(values_only=True) if r[:2] == ("2026-12-01", "AM"))
    assert tuesday_am[2:] == ("Bo Nurse, Cy Pharm", "Ann Example; short 1")


def test_write_is_atomic_and_leaves_no_temp_files(tmp_path: Path) -> None:
    target = tmp_path / "rota.csv"
    target.write_text("old\n", encoding="utf-8")

    def broken() -> list[tuple[str]]:
        raise RuntimeError("disk full")

    class Rows:
        def __iter__(self) -> object:
            yield ("a",)
            broken()

    with pytest.raises(RuntimeError):
        write_csv(target, ("h",), Rows())  # type: ignore[arg-type]  # a generator that fails midway
    assert target.read_text(encoding="utf-8") == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["rota.csv"]


def test_only_listed_assignments_are_exported(tmp_path: Path) -> None:
    bundle = _network()
    write_exports(tmp_path, bundle, WEEK, [], coverage_of(bundle, WEEK, []))
    assert _read_csv(tmp_path / "rota.csv")[1:] == []
    assert _read_csv(tmp_path / "recharges.csv")[1:] == []
    assert isinstance(ROTA[0], Assignment)


def test_atomic_write_text_replaces_the_file(tmp_path: Path) -> None:
    from scheduler.outputs.exports import atomic_write_text

    target = tmp_path / "summary.json"
    target.write_text("old", encoding="utf-8")
    assert atomic_write_text(target, "{}\n") == target
    assert target.read_text(encoding="utf-8") == "{}\n"
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"]


def test_write_csv_takes_any_rows_and_neutralises_text(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "x.csv", ["a", "b", "c"], [["-1", 2, None], ["@x", 1.5, ""]])
    assert _read_csv(path) == [["a", "b", "c"], ["'-1", "2", ""], ["'@x", "1.5", ""]]


def test_xlsx_strips_bytes_excel_rejects_before_neutralising(tmp_path: Path) -> None:
    from scheduler.outputs.exports import write_xlsx

    path = write_xlsx(tmp_path / "c.xlsx", {"t": (("name",), [("\x01=cmd",)])}, (("a",), [], set()))
    assert openpyxl.load_workbook(path)["t"]["A2"].value == "'=cmd"
