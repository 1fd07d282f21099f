"""Broken bundles: every problem is reported at once, addressed as ``FILE:ROW: column:``.

``BROKEN_BUNDLES`` is a table of small edits of the valid example bundle, each
with the exact address of the error it must produce and a key phrase of the
message.  Other tests reuse it (e.g. a failed import must change nothing).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pytest

from scheduler.bundle.cells import BundleError
from scheduler.bundle.reader import read_bundle, read_bundle_bytes
from scheduler.domain import Problem
from tests.bundles import (
    add_column,
    append_row,
    drop_column,
    edit_text,
    file_name,
    rename_column,
    set_cell,
    write_bundle,
    write_workbook,
)

TRAVEL_HEADER = "from_site,to_site,minutes\n"


@dataclass(frozen=True)
class Broken:
    """One way to break the valid bundle and the error it must produce."""

    name: str
    apply: Callable[[Path], object]
    expected: str  # "FILE:ROW: column"
    phrase: str  # a key part of the message

    def __str__(self) -> str:
        return self.name


def cell(key: str, row: int, column: str, value: str) -> Callable[[Path], object]:
    """An edit that sets one cell."""
    return lambda folder: set_cell(folder, key, row, column, value)


def row(key: str, line: str) -> Callable[[Path], object]:
    """An edit that appends one CSV line."""
    return lambda folder: append_row(folder, key, line)


def text(key: str, content: str) -> Callable[[Path], object]:
    """An edit that replaces a whole file."""
    return lambda folder: (folder / file_name(key)).write_text(content, encoding="utf-8")


def toml(old: str, new: str) -> Callable[[Path], object]:
    """An edit of network.toml."""
    return lambda folder: edit_text(folder, "network", old, new)


def before_access(lines: str) -> Callable[[Path], object]:
    """Insert TOML lines before ``[enhanced_access]``; the first inserted line is line 9."""
    return toml("[enhanced_access]", f"{lines}\n\n[enhanced_access]")


def remove(key: str) -> Callable[[Path], object]:
    """An edit that deletes a file."""
    return lambda folder: (folder / file_name(key)).unlink()


def cp1252_name(folder: Path) -> None:
    """Save staff.csv as a Windows editor would: 'Renée' with byte 0xE9 on line 4."""
    path = folder / "staff.csv"
    data = path.read_bytes().replace(b"Rhys Lewis", b"Ren\xe9e Lewis")
    path.write_bytes(data)


BROKEN_BUNDLES: list[Broken] = [
    # files and headers
    Broken(
        "missing staff file", remove("staff"), "staff.csv:1: (file)", "required file is missing"
    ),
    Broken(
        "missing column",
        lambda f: drop_column(f, "staff", "contract_hours"),
        "staff.csv:1: contract_hours",
        "missing required column",
    ),
    Broken(
        "column twice",
        lambda f: rename_column(f, "staff", "email", "name"),
        "staff.csv:1: name",
        "appears twice",
    ),
    Broken(
        "header only required file",
        text("demand", "site_id,day,session_id,role,skill,min,target,weight\n"),
        "demand.csv:1: (file)",
        "has no rows",
    ),
    Broken("cp1252 bytes", cp1252_name, "staff.csv:4: (file)", "save the file as 'CSV UTF-8'"),
    Broken(
        "too many cells", row("sites", "P04,X,practice,1,1,,,9"), "sites.csv:6: (row)", "more cells"
    ),
    # blank and duplicate ids
    Broken("blank name", cell("staff", 3, "name", ""), "staff.csv:3: name", "is blank"),
    Broken("blank employer", cell("staff", 2, "employer", ""), "staff.csv:2: employer", "is blank"),
    Broken(
        "duplicate site",
        row("sites", "P01,Again,practice,10,1,,"),
        "sites.csv:6: site_id",
        "already used on row 2",
    ),
    Broken(
        "duplicate session",
        row("session_types", "AM,Again,06:00,07:00,Sun,core"),
        "session_types.csv:7: session_id",
        "already used on row 2",
    ),
    Broken(
        "duplicate staff",
        cell("staff", 4, "staff_id", "S0001"),
        "staff.csv:4: staff_id",
        "already used on row 2",
    ),
    Broken(
        "site named FED",
        row("sites", "FED,Federation,hub,0,0,,"),
        "sites.csv:6: site_id",
        "federation",
    ),
    # references
    Broken(
        "unknown home site",
        cell("staff", 2, "home_site", "P09"),
        "staff.csv:2: home_site",
        "unknown site 'P09'; add it to sites.csv or fix the id",
    ),
    Broken(
        "unknown employer",
        cell("staff", 2, "employer", "XYZ"),
        "staff.csv:2: employer",
        "or write FED",
    ),
    Broken(
        "unknown site in list",
        cell("staff", 2, "sites", "P01;P09"),
        "staff.csv:2: sites",
        "unknown site 'P09'",
    ),
    Broken(
        "demand unknown site",
        cell("demand", 5, "site_id", "P09"),
        "demand.csv:5: site_id",
        "unknown site",
    ),
    Broken(
        "demand unknown session",
        cell("demand", 5, "session_id", "NIGHT"),
        "demand.csv:5: session_id",
        "unknown session 'NIGHT'; add it to session_types.csv",
    ),
    Broken(
        "leave unknown staff",
        cell("leave", 2, "staff_id", "S9999"),
        "leave.csv:2: staff_id",
        "unknown staff member 'S9999'",
    ),
    Broken(
        "preference unknown site",
        cell("preferences", 2, "site_id", "P09"),
        "preferences.csv:2: site_id",
        "unknown site",
    ),
    Broken(
        "fixed unknown session",
        cell("fixed", 2, "session_id", "XX"),
        "fixed.csv:2: session_id",
        "unknown session",
    ),
    Broken(
        "travel unknown site",
        text("travel", TRAVEL_HEADER + "P01,P09,10\n"),
        "travel.csv:2: to_site",
        "unknown site",
    ),
    # times and days
    Broken(
        "bad time", cell("session_types", 2, "start", "8am"), "session_types.csv:2: start", "HH:MM"
    ),
    Broken(
        "time 24:00",
        cell("session_types", 3, "end", "24:00"),
        "session_types.csv:3: end",
        "not a time of day",
    ),
    Broken(
        "a building nobody listed",
        lambda folder: add_column(folder, "sites", "building", "HHC"),
        "sites.csv:2: building",
        "unknown building 'HHC'; add it to buildings.csv",
    ),
    Broken(
        "a duty of no length",
        lambda folder: add_column(folder, "staff", "max_duty_hours", "0"),
        "staff.csv:2: max_duty_hours",
        "is not a possible duty",
    ),
    Broken(
        "bad days",
        cell("session_types", 6, "days", "Sat-ish"),
        "session_types.csv:6: days",
        "Mon-Fri",
    ),
    Broken(
        "demand on a day the session does not run",
        row("demand", "HUB1,Sun,EVE,GP,,1,1,1"),
        "demand.csv:117: day",
        "session 'EVE' does not run on Sun (it runs Mon-Fri)",
    ),
    Broken(
        "demand date not real",
        row("demand", "P01,2026-02-30,AM,GP,,1,1,1"),
        "demand.csv:117: day",
        "not a real date",
    ),
    Broken(
        "preference bad day",
        cell("preferences", 2, "day", "Funday"),
        "preferences.csv:2: day",
        "Mon-Fri",
    ),
    # enums
    Broken(
        "site kind",
        cell("sites", 2, "kind", "clinic"),
        "sites.csv:2: kind",
        "practice, hub or service",
    ),
    Broken(
        "session kind",
        cell("session_types", 2, "kind", "normal"),
        "session_types.csv:2: kind",
        "core or extended",
    ),
    Broken("leave kind", cell("leave", 2, "kind", "holiday"), "leave.csv:2: kind", "annual"),
    Broken(
        "preference kind",
        cell("preferences", 2, "preference", "like"),
        "preferences.csv:2: preference",
        "unavailable, avoid or prefer",
    ),
    # numbers
    Broken(
        "list size not a number",
        cell("sites", 3, "list_size", "lots"),
        "sites.csv:3: list_size",
        "whole number of patients",
    ),
    Broken("negative rooms", cell("sites", 3, "rooms", "-1"), "sites.csv:3: rooms", "at least 0"),
    Broken("latitude range", cell("sites", 2, "lat", "95"), "sites.csv:2: lat", "not a latitude"),
    Broken(
        "fractional people",
        cell("demand", 2, "min", "1.5"),
        "demand.csv:2: min",
        "must be a whole number of people, e.g. 2",
    ),
    Broken(
        "min above target", cell("demand", 2, "target", "1"), "demand.csv:2: target", "below min 2"
    ),
    Broken("zero weight", cell("demand", 2, "weight", "0"), "demand.csv:2: weight", "above 0"),
    Broken(
        "contract hours text",
        cell("staff", 2, "contract_hours", "full"),
        "staff.csv:2: contract_hours",
        "not a number",
    ),
    Broken(
        "min hours above max",
        cell("staff", 2, "min_hours", "40"),
        "staff.csv:2: min_hours",
        "above max_hours 36",
    ),
    Broken(
        "negative evenings",
        cell("staff", 2, "max_evenings", "-1"),
        "staff.csv:2: max_evenings",
        "at least 0",
    ),
    Broken(
        "zero sessions per day",
        cell("staff", 2, "max_sessions_per_day", "0"),
        "staff.csv:2: max_sessions_per_day",
        "at least 1",
    ),
    Broken("bad email", cell("staff", 2, "email", "nobody"), "staff.csv:2: email", "e-mail"),
    Broken(
        "negative travel",
        text("travel", TRAVEL_HEADER + "P01,P02,-5\n"),
        "travel.csv:2: minutes",
        "at least 0",
    ),
    Broken(
        "travel given twice for one direction",
        text("travel", TRAVEL_HEADER + "P01,P02,10\nP02,P01,12\nP01,P02,40\n"),
        "travel.csv:4: to_site",
        "already given on row 2",
    ),
    Broken(
        "fractional travel",
        text("travel", TRAVEL_HEADER + "P01,P02,7.5\n"),
        "travel.csv:2: minutes",
        "whole number of minutes",
    ),
    Broken(
        "preference weight zero",
        cell("preferences", 2, "weight", "0"),
        "preferences.csv:2: weight",
        "above 0",
    ),
    # dates
    Broken(
        "leave end before start", cell("leave", 2, "end", "2026-11-30"), "leave.csv:2: end", "swap"
    ),
    Broken(
        "date not ISO", cell("leave", 3, "start", "04/12/2026"), "leave.csv:3: start", "YYYY-MM-DD"
    ),
    Broken(
        "fixed on a day the session does not run",
        cell("fixed", 2, "date", "2026-12-05"),
        "fixed.csv:2: date",
        "does not run on Sat",
    ),
    Broken(
        "fixed date not real",
        cell("fixed", 3, "date", "2026-13-01"),
        "fixed.csv:3: date",
        "real date",
    ),
    # network.toml
    Broken(
        "invalid toml",
        toml("max_week_hours = 48", "max_week_hours = "),
        "network.toml:6: (file)",
        "not valid TOML",
    ),
    Broken(
        "unknown time zone",
        toml("Europe/London", "Europe/Londn"),
        "network.toml:2: timezone",
        "unknown time zone 'Europe/Londn'",
    ),
    Broken(
        "negative rule",
        toml("max_week_hours = 48", "max_week_hours = -1"),
        "network.toml:6: rules.max_week_hours",
        "must be above 0",
    ),
    Broken(
        "zero rule",
        toml("min_rest_hours = 11", "min_rest_hours = 0"),
        "network.toml:5: rules.min_rest_hours",
        "must be above 0",
    ),
    Broken(
        "unknown rule",
        toml("max_sessions_per_day = 2", "max_sessions_per_day = 2\nmax_nights = 3"),
        "network.toml:8: rules.max_nights",
        "unknown rule 'max_nights'",
    ),
    Broken(
        "unknown weight",
        before_access("[weights]\ncots = 1"),
        "network.toml:10: weights.cots",
        "unknown weight 'cots'",
    ),
    Broken(
        "negative weight",
        before_access("[weights]\ncost = -1"),
        "network.toml:10: weights.cost",
        "negative",
    ),
    Broken(
        "horizon minimum above maximum",
        lambda folder: (
            add_column(folder, "staff", "min_horizon_hours", "80"),
            add_column(folder, "staff", "max_horizon_hours", "60"),
        ),
        "staff.csv:2: min_horizon_hours",
        "above max_horizon_hours 60",
    ),
    Broken(
        "consecutive days not whole",
        lambda folder: add_column(folder, "staff", "max_consecutive_days", "4.5"),
        "staff.csv:2: max_consecutive_days",
        "whole number of days",
    ),
    Broken(
        "minimum run above maximum run",
        lambda folder: (
            add_column(folder, "staff", "min_consecutive_days", "6"),
            add_column(folder, "staff", "max_consecutive_days", "5"),
        ),
        "staff.csv:2: min_consecutive_days",
        "above max_consecutive_days 5",
    ),
    Broken(
        "forbidden sequence of an unknown session",
        text("forbidden_sequences", "session_id,next_day_session_id\nEVE,NIGHT\n"),
        "forbidden_sequences.csv:2: next_day_session_id",
        "unknown session 'NIGHT'",
    ),
    Broken(
        "session limit repeated",
        text("session_limits", "staff_id,session_id,max_sessions\nS0001,AM,2\nS0001,AM,3\n"),
        "session_limits.csv:3: session_id",
        "already has a limit for AM on row 2",
    ),
    Broken(
        "session limit negative",
        text("session_limits", "staff_id,session_id,max_sessions\nS0001,AM,-1\n"),
        "session_limits.csv:2: max_sessions",
        "at least 0",
    ),
    Broken(
        "bank holidays value",
        before_access('[calendar]\nbank_holidays = "sometimes"'),
        "network.toml:10: calendar.bank_holidays",
        '"closed" or "open"',
    ),
]


def errors_of(folder: Path | bytes, filename: str = "") -> list[Problem]:
    """The problems of a bundle that must fail to import."""
    with pytest.raises(BundleError) as caught:
        if isinstance(folder, bytes):
            read_bundle_bytes(folder, filename)
        else:
            read_bundle(folder)
    return caught.value.problems


def find(problems: list[Problem], expected: str, phrase: str) -> Problem:
    """The error with exactly this address whose message holds the phrase."""
    matches = [p for p in problems if str(p).startswith(f"{expected}: ") and phrase in p.message]
    assert matches, f"no error {expected}: ...{phrase}... in:\n" + "\n".join(map(str, problems))
    assert not matches[0].warning
    return matches[0]


def test_table_is_large_and_names_are_unique() -> None:
    assert len(BROKEN_BUNDLES) >= 25
    assert len({case.name for case in BROKEN_BUNDLES}) == len(BROKEN_BUNDLES)


@pytest.mark.parametrize("case", BROKEN_BUNDLES, ids=str)
def test_broken_bundle_is_reported(tmp_path: Path, case: Broken) -> None:
    folder = write_bundle(tmp_path)
    case.apply(folder)
    find(errors_of(folder), case.expected, case.phrase)


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    folder = write_bundle(tmp_path)
    set_cell(folder, "sites", 3, "kind", "clinic")
    set_cell(folder, "staff", 5, "home_site", "P09")
    set_cell(folder, "staff", 6, "min_hours", "x")
    set_cell(folder, "demand", 10, "min", "-2")
    edit_text(folder, "network", "Europe/London", "Mars/Base")
    with pytest.raises(BundleError) as caught:
        read_bundle(folder)
    prefixes = [str(p).split(": ")[0] + ": " + p.column for p in caught.value.problems]
    assert prefixes == [
        "network.toml:2: timezone",
        "sites.csv:3: kind",
        "staff.csv:5: home_site",
        "staff.csv:6: min_hours",
        "demand.csv:10: min",
    ]
    assert str(caught.value).splitlines() == [str(p) for p in caught.value.problems]


def test_cp1252_bytes_name_the_line(tmp_path: Path) -> None:
    folder = write_bundle(tmp_path)
    cp1252_name(folder)
    (problem,) = errors_of(folder)
    assert str(problem) == (
        "staff.csv:4: (file): byte 0xE9 is not UTF-8 text (the file is in another encoding); "
        "save the file as 'CSV UTF-8' and try again"
    )


def test_blank_line_keeps_csv_row_numbers(tmp_path: Path) -> None:
    folder = write_bundle(tmp_path)
    path = folder / "sites.csv"
    path.write_text(path.read_text(encoding="utf-8") + "\n\nP04,New,clinic,1,1,,\n", "utf-8")
    find(errors_of(folder), "sites.csv:8: kind", "practice, hub or service")


def test_workbook_row_numbers_with_a_blank_row(tmp_path: Path) -> None:
    folder = write_bundle(tmp_path)
    path = write_workbook(folder, tmp_path / "net.xlsx")
    book = openpyxl.load_workbook(path)
    sheet = book["sites"]
    sheet.insert_rows(3)  # blank row 3; P02 moves to row 4
    sheet["C4"] = "clinic"
    book.save(path)
    problems = errors_of(path.read_bytes(), "net.xlsx")
    find(problems, "net.xlsx[sites]:4: kind", "practice, hub or service")


def test_workbook_names_missing_sheet_and_network_keys(tmp_path: Path) -> None:
    folder = write_bundle(tmp_path)
    path = write_workbook(folder, tmp_path / "net.xlsx")
    book = openpyxl.load_workbook(path)
    del book["staff"]
    book["network"]["B4"] = -3  # rules.min_rest_hours
    book.save(path)
    problems = errors_of(path)
    find(problems, "net.xlsx[network]:4: rules.min_rest_hours", "above 0")
    find(problems, "net.xlsx[staff]:1: (file)", "sheet named 'staff'")


def test_broken_zip_is_one_clear_error() -> None:
    (problem,) = errors_of(b"not a zip", "upload.zip")
    assert str(problem).startswith("upload.zip:1: (file): is not a readable zip file")


def test_missing_references_file_does_not_flood(tmp_path: Path) -> None:
    problems = errors_of(write_bundle(tmp_path, sites=None))
    assert [str(p).split(": ")[0] for p in problems] == ["sites.csv:1"]


def test_a_session_ending_when_it_starts_is_24_hours_with_a_warning(tmp_path: Path) -> None:
    """Format v2: an end at or before the start is the next day, so equal times are a day."""
    folder = write_bundle(tmp_path)
    set_cell(folder, "session_types", 4, "end", "18:30")
    bundle, warnings = read_bundle(folder)
    (said,) = [str(w) for w in warnings if "end" in str(w)]
    assert said.startswith("session_types.csv:4: end: warning: equals start (18:30): a 24-hour")
    session = bundle.session_types[2]
    assert session.overnight and session.start == session.end
