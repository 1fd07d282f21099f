"""Bundles that are ambiguous, carry control characters or are too big are refused whole.

Each refusal names the file, the row and the column (or the entries) and says
what to do; nothing of such a bundle is read into the network.
"""

from __future__ import annotations

import io
import json
import warnings
import zipfile
from pathlib import Path

import openpyxl
import pytest

from scheduler.bundle.cells import BundleError
from scheduler.bundle.reader import read_bundle, read_bundle_bytes
from scheduler.bundle.tables import MAX_ROWS
from scheduler.cli.common import EXIT_INPUT, EXIT_OK
from scheduler.cli.main import main
from scheduler.config import ConfigurationError
from scheduler.domain import DEMAND, Problem
from tests.bundles import append_row, edit_text, set_cell, write_bundle, write_workbook
from tests.web_support import client_as, post, seeded_app
from web import create_app


def problems_of(source: Path | bytes, filename: str = "upload.zip") -> list[str]:
    with pytest.raises(BundleError) as refused:
        if isinstance(source, bytes):
            read_bundle_bytes(source, filename)
        else:
            read_bundle(source)
    return [str(p) for p in refused.value.problems if not p.warning]


def zipped(files: list[tuple[str, bytes]]) -> bytes:
    out = io.BytesIO()
    with warnings.catch_warnings():  # zipfile warns of a repeated name: that is the point
        warnings.simplefilter("ignore")
        with zipfile.ZipFile(out, "w") as archive:
            for name, data in files:
                archive.writestr(name, data)
    return out.getvalue()


def bundle_files(folder: Path) -> list[tuple[str, bytes]]:
    return [(p.name, p.read_bytes()) for p in sorted(folder.iterdir())]


# -- ambiguous bundles ------------------------------------------------------------------------


def test_a_zip_with_one_file_twice_is_refused_naming_it(tmp_path: Path) -> None:
    files = bundle_files(write_bundle(tmp_path))
    staff = next(data for name, data in files if name == "staff.csv")
    problems = problems_of(zipped([*files, ("staff.csv", staff.replace(b"Grace", b"Gail"))]))
    assert problems == [
        "upload.zip:1: (file): holds 2 entries for staff.csv (staff.csv, staff.csv); "
        "keep one of each and zip again"
    ]


def test_a_zip_with_a_name_in_another_case_is_refused(tmp_path: Path) -> None:
    files = bundle_files(write_bundle(tmp_path))
    sites = next(data for name, data in files if name == "sites.csv")
    (problem,) = problems_of(zipped([*files, ("Sites.CSV", sites)]))
    assert "2 entries for sites.csv (Sites.CSV, sites.csv)" in problem


def test_a_folder_with_names_differing_in_case_is_refused(tmp_path: Path) -> None:
    folder = write_bundle(tmp_path)
    (folder / "Demand.csv").write_bytes((folder / "demand.csv").read_bytes())
    (problem,) = problems_of(folder)
    assert problem.startswith("bundle:1: (file): holds 2 entries for demand.csv")


def test_a_zip_with_each_file_once_is_read(tmp_path: Path) -> None:
    bundle, _ = read_bundle_bytes(zipped(bundle_files(write_bundle(tmp_path))), "net.zip")
    assert len(bundle.staff) == 35


# -- control characters -------------------------------------------------------------------------


def test_a_line_break_in_a_name_is_refused_with_its_address(tmp_path: Path) -> None:
    folder = write_bundle(tmp_path)
    set_cell(folder, "staff", 2, "name", "Grace\nRees")
    set_cell(folder, "sites", 3, "name", "Hill\tSurgery")
    assert problems_of(folder) == [
        "sites.csv:3: name: holds a control character (a tab); write the value on one "
        "line, without line breaks or tabs",
        "staff.csv:2: name: holds a control character (a line break); write the value on one "
        "line, without line breaks or tabs",
    ]


def test_a_control_character_anywhere_in_a_row_is_refused(tmp_path: Path) -> None:
    folder = write_bundle(tmp_path)
    append_row(folder, "leave", "S0001,2026-12-01,2026-12-01,annual,\x07")
    (problem,) = problems_of(folder)
    assert problem.startswith("leave.csv:")
    assert "character 0x07" in problem


def test_a_control_character_in_network_toml_is_refused(tmp_path: Path) -> None:
    folder = write_bundle(tmp_path)
    edit_text(folder, "network", 'name = "Example network"', 'name = "Example\\nnetwork"')
    (problem,) = problems_of(folder)
    assert problem.startswith("network.toml:1: name: holds a control character (a line break)")


def test_a_line_break_in_a_workbook_cell_is_refused(tmp_path: Path) -> None:
    path = write_workbook(write_bundle(tmp_path), tmp_path / "net.xlsx")
    book = openpyxl.load_workbook(path)
    book["staff"]["B3"] = "Will\nPrice"
    book.save(path)
    (problem,) = problems_of(path)
    assert problem.startswith("net.xlsx[staff]:3: name: holds a control character")


# -- caps and repeated needs --------------------------------------------------------------------


def test_a_file_over_its_cap_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    folder = write_bundle(tmp_path)
    rows = MAX_ROWS[DEMAND] + 1
    header = (folder / "demand.csv").read_text(encoding="utf-8").splitlines()[0]
    line = "P01,Mon,AM,GP,,1,1,1\n"
    (folder / "demand.csv").write_text(f"{header}\n{line * rows}", encoding="utf-8")
    assert problems_of(folder) == [
        f"demand.csv:1: (file): has {rows:,} rows, more than the {MAX_ROWS[DEMAND]:,} a bundle "
        "may have in demand.csv; remove repeated rows, or ask the administrator to raise "
        "IMPORT_MAX_ROWS"
    ]


def test_a_configured_cap_replaces_the_default(tmp_path: Path) -> None:
    folder = write_bundle(tmp_path)
    with pytest.raises(BundleError) as refused:
        read_bundle(folder, caps={"staff.csv": 10})
    assert [p.message.split(",")[0] for p in refused.value.problems] == ["has 35 rows"]
    assert len(read_bundle(folder, caps={"staff.csv": 35})[0].staff) == 35


def test_a_workbook_sheet_over_its_cap_is_refused(tmp_path: Path) -> None:
    path = write_workbook(write_bundle(tmp_path), tmp_path / "net.xlsx")
    with pytest.raises(BundleError) as refused:
        read_bundle(path, caps={"staff.csv": 34})
    (problem,) = refused.value.problems
    assert str(problem).startswith("net.xlsx[staff]:1: (file): has 35 rows, more than the 34")


def test_a_workbook_over_its_cap_is_refused_before_any_cell_is_parsed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_workbook(write_bundle(tmp_path), tmp_path / "net.xlsx")

    def parse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the workbook was parsed")

    monkeypatch.setattr("scheduler.bundle.tables.pd.read_excel", parse)
    with pytest.raises(BundleError) as refused:
        read_bundle(path, caps={"staff.csv": 34})
    (problem,) = refused.value.problems
    assert str(problem).startswith("net.xlsx[staff]:1: (file): has 35 rows, more than the 34")


def test_workbook_sheets_differing_only_in_case_and_spaces_are_refused(tmp_path: Path) -> None:
    path = write_workbook(write_bundle(tmp_path), tmp_path / "net.xlsx")
    book = openpyxl.load_workbook(path)
    copy = book.copy_worksheet(book["staff"])
    copy.title = "Staff "
    book.save(path)
    (problem,) = problems_of(path)
    assert problem == (
        "net.xlsx:1: (file): has sheets read as the same table ('staff', 'Staff '); keep one"
    )


@pytest.mark.parametrize(
    ("line", "first"),
    [
        ("P01,Mon-Fri,AM,PN,,1,1,1", 3),  # shares Monday with row 3
        ("P01,Mon,AM,PN,,1,1,1", 3),  # the same row twice
    ],
)
def test_a_second_row_for_the_same_need_on_a_day_is_refused(
    tmp_path: Path, line: str, first: int
) -> None:
    folder = write_bundle(tmp_path)
    row = append_row(folder, "demand", line)
    assert problems_of(folder)[0] == str(
        Problem(
            "demand.csv",
            row,
            "day",
            f"P01 AM already needs PN on this day (row {first}); keep one row per site, day, "
            "session, role and skill: put the people in that row's min and target",
        )
    )


@pytest.mark.parametrize(
    "line",
    [
        "P01,2026-12-01,AM,PN,,1,1,1",  # a date row replaces the weekday row on its date
        "P01,Mon,AM,PN,cytology,1,1,1",  # another skill is another need
        "P01,Mon,AM,ANP,,1,1,1",  # another role
    ],
)
def test_rows_for_different_needs_are_accepted(tmp_path: Path, line: str) -> None:
    folder = write_bundle(tmp_path)
    append_row(folder, "demand", line)
    read_bundle(folder)


def test_two_rows_for_one_date_are_refused(tmp_path: Path) -> None:
    folder = write_bundle(tmp_path)
    first = append_row(folder, "demand", "P01,2026-12-01,AM,PN,,1,1,1")
    second = append_row(folder, "demand", "P01,2026-12-01,AM,PN,,2,2,1")
    (problem,) = problems_of(folder)
    assert problem.startswith(f"demand.csv:{second}: day: P01 AM already needs PN")
    assert f"(row {first})" in problem


# -- IMPORT_MAX_ROWS, where the import is asked for -----------------------------------------


def test_the_command_line_takes_its_caps_from_the_settings(
    tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = write_bundle(tmp_path)
    monkeypatch.setenv("ROTAPOOL_IMPORT_MAX_ROWS", '{"staff.csv": 20}')
    assert main(["import", str(folder), "--database", db_url]) == EXIT_INPUT
    assert "staff.csv:1: (file): has 35 rows, more than the 20" in capsys.readouterr().err
    monkeypatch.setenv("ROTAPOOL_IMPORT_MAX_ROWS", '{"staff.csv": 35}')
    assert main(["import", str(folder), "--database", db_url]) == EXIT_OK


@pytest.mark.parametrize(
    ("setting", "words"),
    [
        ('{"people.csv": 10}', "'people.csv' is not a bundle file"),
        ('{"staff.csv": 0}', "give staff.csv a whole number of rows above 0"),
        ("400", "give file names and rows"),
    ],
)
def test_a_cap_setting_that_cannot_work_is_named(
    tmp_path: Path,
    db_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    setting: str,
    words: str,
) -> None:
    monkeypatch.setenv("ROTAPOOL_IMPORT_MAX_ROWS", setting)
    assert main(["import", str(write_bundle(tmp_path)), "--database", db_url]) == EXIT_INPUT
    assert f"error: IMPORT_MAX_ROWS: {words}" in capsys.readouterr().err
    with pytest.raises(ConfigurationError, match="IMPORT_MAX_ROWS"):
        create_app(
            {"TESTING": True, "DATABASE_URL": db_url, "IMPORT_MAX_ROWS": json.loads(setting)}
        )


def test_an_upload_over_the_apps_cap_is_refused(tmp_path: Path, db_url: str) -> None:
    app, _ = seeded_app(db_url, IMPORT_MAX_ROWS={"staff.csv": 20})
    zip_bytes = zipped(bundle_files(write_bundle(tmp_path)))
    response = post(
        client_as(app, "manager"),
        "/import",
        {"bundle": (io.BytesIO(zip_bytes), "net.zip")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "has 35 rows, more than the 20" in response.get_data(as_text=True)
