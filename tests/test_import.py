"""The importer reads a valid bundle the same way from a folder, a workbook and a zip."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from scheduler.bundle.cells import BundleError
from scheduler.bundle.reader import read_bundle, read_bundle_bytes
from scheduler.domain import (
    Bundle,
    DayRule,
    ForbiddenSequence,
    LeaveKind,
    PreferenceKind,
    Rules,
    SessionKind,
    SessionLimit,
    SiteKind,
)
from tests.bundles import (
    add_column,
    append_row,
    edit_text,
    network_rows,
    set_cell,
    write_bundle,
    write_workbook,
    write_zip,
)

WEEKDAYS = frozenset(range(5))


def without_labels(bundle: Bundle) -> Bundle:
    """File labels differ by source by design; everything else must be equal."""
    return dataclasses.replace(bundle, file_labels={})


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return write_bundle(tmp_path)


@pytest.fixture
def bundle(folder: Path) -> Bundle:
    result, warnings = read_bundle(folder)
    assert warnings == []
    return result


def test_example_counts(bundle: Bundle) -> None:
    counts = [
        len(bundle.sites),
        len(bundle.session_types),
        len(bundle.staff),
        len(bundle.demand),
        len(bundle.leave),
        len(bundle.preferences),
        len(bundle.fixed),
        len(bundle.travel),
    ]
    assert counts == [4, 5, 35, 115, 10, 7, 2, 0]


def test_example_network_settings(bundle: Bundle) -> None:
    assert bundle.name == "Example network"
    assert bundle.timezone == "Europe/London"
    assert bundle.rules == Rules(min_rest_hours=11, max_week_hours=48, max_sessions_per_day=2)
    assert bundle.enhanced_access == {"minutes_per_1000_per_week": 60.0}
    assert bundle.bank_holidays_closed is True
    assert bundle.label("staff.csv") == "staff.csv"


def test_example_sites_and_sessions(bundle: Bundle) -> None:
    hub = bundle.site("HUB1")
    assert (hub.kind, hub.list_size, hub.rooms, hub.lat, hub.row) == (SiteKind.HUB, 0, 4, 52.0, 5)
    morning = bundle.session_type("AM")
    assert (morning.start, morning.end) == (dt.time(8, 0), dt.time(12, 30))
    assert morning.days == WEEKDAYS  # Mon-Fri expanded
    assert bundle.session_type("SAT_AM").days == frozenset({5})
    assert bundle.session_type("EVE").kind is SessionKind.EXTENDED


def test_example_staff_fields(bundle: Bundle) -> None:
    first = bundle.person("S0001")
    assert first.sites == frozenset({"P01", "HUB1"})
    assert (first.contract_hours, first.max_hours, first.hourly_rate) == (36.0, 36.0, 85.0)
    assert first.max_sessions_per_day is None
    assert bundle.person("S0003").skills == frozenset({"coils", "minor_surgery"})
    pharmacist = bundle.person("S0033")
    assert pharmacist.sites is None  # "*" = any site
    assert (pharmacist.employer, pharmacist.row) == ("FED", 34)


def test_example_demand_and_optional_files(bundle: Bundle) -> None:
    first = bundle.demand[0]
    assert (first.site_id, first.day, first.session_id, first.role, first.skill) == (
        "P01",
        DayRule(weekdays=frozenset({0})),
        "AM",
        "GP",
        None,
    )
    assert (first.min, first.target, first.weight, first.row) == (2, 3, 1.0, 2)
    assert bundle.demand[2].weight == 0.5
    coils = next(d for d in bundle.demand if d.skill == "coils")
    assert coils.role is None
    assert bundle.leave[0].kind is LeaveKind.ANNUAL
    assert bundle.leave[0].session_id is None
    blank_weight = next(p for p in bundle.preferences if p.staff_id == "S0022")
    assert (blank_weight.preference, blank_weight.weight) == (PreferenceKind.UNAVAILABLE, 1.0)
    assert bundle.fixed[0].date == dt.date(2026, 12, 4)


def test_blank_optional_cells_take_defaults(tmp_path: Path) -> None:
    staff = "staff_id,role,name,home_site,employer,contract_hours\nA1,GP,Ann,P02,FED,30\n"
    folder = write_bundle(tmp_path, staff=staff, leave=None, preferences=None, fixed=None)
    person = read_bundle(folder)[0].person("A1")
    assert (person.min_hours, person.max_hours) == (0.0, 30.0)
    assert person.sites == frozenset({"P02"})
    assert (person.max_evenings, person.max_weekend_sessions) == (0, 0)
    assert (person.skills, person.hourly_rate, person.email) == (frozenset(), None, None)


def test_name_defaults_to_folder_and_calendar_setting(tmp_path: Path) -> None:
    network = 'timezone = "Europe/London"\n\n[calendar]\nbank_holidays = "open"\n'
    bundle, _ = read_bundle(write_bundle(tmp_path, name="riverside", network=network))
    assert bundle.name == "riverside"
    assert bundle.bank_holidays_closed is False
    assert bundle.rules == Rules()


def test_weights_are_read(tmp_path: Path) -> None:
    folder = write_bundle(tmp_path)
    edit_text(folder, "network", "[enhanced_access]", "[weights]\ncost = 0.5\n\n[enhanced_access]")
    assert read_bundle(folder)[0].weights.cost == 0.5


def test_missing_network_toml_is_a_warning(tmp_path: Path) -> None:
    bundle, warnings = read_bundle(write_bundle(tmp_path, network=None))
    assert (bundle.name, bundle.timezone) == ("bundle", "Europe/London")
    assert [str(w).split(" warning:")[0] for w in warnings] == ["network.toml:1: (file):"]


def test_days_lists_ranges_and_dates(tmp_path: Path) -> None:
    folder = write_bundle(tmp_path)
    set_cell(folder, "session_types", 5, "days", "Sat;sun")
    set_cell(folder, "demand", 2, "day", "Tue;Thu-Fri")
    set_cell(folder, "demand", 2, "role", "ANP")  # no other row needs an ANP on those days
    append_row(folder, "demand", "P01,2026-12-01,AM,GP,,4,4,")
    bundle = read_bundle(folder)[0]
    assert bundle.session_type("SAT_AM").days == frozenset({5, 6})
    assert bundle.demand[0].day == DayRule(weekdays=frozenset({1, 3, 4}))
    assert bundle.demand[-1].day == DayRule(date=dt.date(2026, 12, 1))


def test_overnight_session_is_allowed(tmp_path: Path) -> None:
    folder = write_bundle(tmp_path)
    append_row(folder, "session_types", "OOH,Out of hours,20:00,08:00,Mon-Thu,extended")
    night = read_bundle(folder)[0].session_type("OOH")
    assert night.overnight
    assert night.days == frozenset({0, 1, 2, 3})


def test_extra_column_is_a_warning(folder: Path) -> None:
    add_column(folder, "staff", "notes", "x")
    bundle, warnings = read_bundle(folder)
    assert len(bundle.staff) == 35
    assert [str(w) for w in warnings] == [
        "staff.csv:1: notes: warning: unknown column, ignored; check the spelling if it was "
        "meant to be one of staff_id,name,role,home_site,employer,contract_hours,min_hours,"
        "max_hours,skills,sites,max_sessions_per_day,max_duty_hours,min_days_off_per_week,"
        "max_evenings,max_weekend_sessions,"
        "hourly_rate,email,bank,max_consecutive_days,min_consecutive_days,min_days_off_in_row,"
        "max_weekends,min_horizon_hours,max_horizon_hours"
    ]


def test_max_hours_above_network_cap_is_a_warning(folder: Path) -> None:
    set_cell(folder, "staff", 2, "max_hours", "50")
    bundle, warnings = read_bundle(folder)
    assert bundle.person("S0001").max_hours == 50.0
    assert [str(w)[:38] for w in warnings] == ["staff.csv:2: max_hours: warning: 50 is"]


def test_utf8_bom_and_trailing_spaces_are_accepted(folder: Path, bundle: Bundle) -> None:
    path = folder / "staff.csv"
    text = path.read_text(encoding="utf-8").replace("Grace Rees,", "Grace Rees  ,")
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    again, warnings = read_bundle(folder)
    assert warnings == []
    assert again == bundle


def test_blank_lines_are_skipped_but_counted(folder: Path) -> None:
    path = folder / "sites.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join([*lines[:2], "", ",,,,,,", *lines[2:]]) + "\n", encoding="utf-8")
    bundle = read_bundle(folder)[0]
    assert [s.row for s in bundle.sites] == [2, 5, 6, 7]


def test_columns_in_any_order(folder: Path, bundle: Bundle) -> None:
    frame = pd.read_csv(folder / "demand.csv", dtype=str, keep_default_na=False)
    frame[list(reversed(frame.columns))].to_csv(folder / "demand.csv", index=False)
    assert read_bundle(folder)[0] == bundle


def test_workbook_gives_an_equal_bundle(tmp_path: Path, folder: Path, bundle: Bundle) -> None:
    book = write_workbook(folder, tmp_path / "tiny.xlsx")
    from_book, warnings = read_bundle(book)
    assert warnings == []
    assert without_labels(from_book) == without_labels(bundle)
    assert from_book.label("staff.csv") == "tiny.xlsx[staff]"
    assert from_book.label("network.toml") == "tiny.xlsx[network]"


def test_workbook_upload_gives_an_equal_bundle(
    tmp_path: Path, folder: Path, bundle: Bundle
) -> None:
    book = write_workbook(folder, tmp_path / "tiny.xlsx")
    from_bytes, _ = read_bundle_bytes(book.read_bytes(), "tiny.xlsx")
    assert without_labels(from_bytes) == without_labels(bundle)


def test_workbook_takes_settings_from_network_toml_beside_it(
    tmp_path: Path, folder: Path, bundle: Bundle
) -> None:
    book = write_workbook(folder, folder / "tiny.xlsx", network_sheet=False)
    from_book, _ = read_bundle(book)
    assert without_labels(from_book) == without_labels(bundle)
    assert from_book.label("network.toml") == "network.toml"


def typed(sheet: str, column: str, text: str) -> object:
    """The cell a person typing into Excel would produce: times, dates and numbers."""
    if text == "":
        return None
    if sheet == "session_types" and column in ("start", "end"):
        return dt.time.fromisoformat(text)
    if column in ("start", "end", "date"):
        return dt.date.fromisoformat(text)
    try:
        number = float(text)
    except ValueError:
        return text
    return int(number) if number.is_integer() and "." not in text else number


def write_typed_workbook(folder: Path, target: Path) -> Path:
    """The bundle as a workbook with typed cells, written cell by cell with openpyxl."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for path in sorted(folder.glob("*.csv")):
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        sheet = book.create_sheet(path.stem)
        sheet.append(list(frame.columns))
        for row in frame.itertuples(index=False):
            sheet.append([typed(path.stem, c, v) for c, v in zip(frame.columns, row, strict=True)])
    network = book.create_sheet("network")
    network.append(["key", "value"])
    for key, value in network_rows(folder):
        network.append([key, value])
    book.save(target)
    return target


def test_typed_workbook_cells_import_the_same(tmp_path: Path, folder: Path, bundle: Bundle) -> None:
    book = write_typed_workbook(folder, tmp_path / "typed.xlsx")
    check = openpyxl.load_workbook(book)
    assert isinstance(check["session_types"]["C2"].value, dt.time)
    assert isinstance(check["sites"]["D2"].value, int)
    from_book, warnings = read_bundle(book)
    assert warnings == []
    assert without_labels(from_book) == without_labels(bundle)


@pytest.mark.parametrize("inner", [None, "tiny-network"])
def test_zip_gives_an_equal_bundle(
    tmp_path: Path, folder: Path, bundle: Bundle, inner: str | None
) -> None:
    archive = write_zip(folder, tmp_path / "upload.zip", inner_folder=inner)
    from_zip, warnings = read_bundle_bytes(archive.read_bytes(), "upload.zip")
    assert warnings == []
    assert without_labels(from_zip) == without_labels(bundle)
    assert read_bundle(archive)[0] == from_zip


def test_zip_name_defaults_to_its_folder(tmp_path: Path) -> None:
    folder = write_bundle(tmp_path, network='timezone = "Europe/London"\n')
    archive = write_zip(folder, tmp_path / "upload.zip", inner_folder="riverside")
    assert read_bundle(archive)[0].name == "riverside"


def test_unsupported_upload_is_refused() -> None:
    with pytest.raises(BundleError) as caught:
        read_bundle_bytes(b"x", "rota.pdf")
    assert str(caught.value).startswith("rota.pdf:1: (file): unsupported file type")


def test_empty_optional_file_and_crlf_line_ends(folder: Path, bundle: Bundle) -> None:
    (folder / "travel.csv").write_bytes(b"")
    path = folder / "staff.csv"
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    again, warnings = read_bundle(folder)
    assert warnings == []
    assert again == bundle


def test_unusual_role_is_a_warning(folder: Path) -> None:
    set_cell(folder, "staff", 2, "role", "Locum")
    bundle, warnings = read_bundle(folder)
    assert bundle.person("S0001").role == "Locum"
    assert [f"{w.file}:{w.row}: {w.column}" for w in warnings] == ["staff.csv:2: role"]


def test_workbook_time_with_excel_zero_date_and_extra_sheet(
    tmp_path: Path, folder: Path, bundle: Bundle
) -> None:
    path = write_workbook(folder, tmp_path / "net.xlsx")
    book = openpyxl.load_workbook(path)
    book["session_types"]["C2"] = dt.datetime(1899, 12, 30, 8, 0)
    book.create_sheet("readme")["A1"] = "notes for the practice managers"
    book.save(path)
    from_book, warnings = read_bundle(path)
    assert from_book.session_type("AM").start == dt.time(8, 0)
    assert [str(w).split(": warning")[0] for w in warnings] == ["net.xlsx[readme]:1: (file)"]


def test_horizon_columns_and_files_are_read(folder: Path) -> None:
    add_column(folder, "staff", "max_consecutive_days", "5")
    add_column(folder, "staff", "min_consecutive_days", "2")
    add_column(folder, "staff", "min_days_off_in_row", "2")
    add_column(folder, "staff", "max_weekends", "1")
    add_column(folder, "staff", "min_horizon_hours", "60")
    add_column(folder, "staff", "max_horizon_hours", "150.5")
    (folder / "forbidden_sequences.csv").write_text(
        "session_id,next_day_session_id\nEVE,AM\n", encoding="utf-8"
    )
    staff_id = read_bundle(folder)[0].staff[0].staff_id
    (folder / "session_limits.csv").write_text(
        f"staff_id,session_id,max_sessions\n{staff_id},EVE,2\n", encoding="utf-8"
    )
    bundle = read_bundle(folder)[0]
    person = bundle.staff[0]
    assert (person.max_consecutive_days, person.min_consecutive_days) == (5, 2)
    assert (person.min_days_off_in_row, person.max_weekends) == (2, 1)
    assert (person.min_horizon_hours, person.max_horizon_hours) == (60, 150.5)
    assert bundle.forbidden_sequences == (ForbiddenSequence("EVE", "AM", row=2),)
    assert bundle.session_limits == (SessionLimit(staff_id, "EVE", 2, row=2),)


def test_horizon_columns_default_to_no_limit(bundle: Bundle) -> None:
    person = bundle.staff[0]
    assert person.max_consecutive_days is None and person.max_weekends is None
    assert person.min_horizon_hours is None and person.max_horizon_hours is None
    assert bundle.forbidden_sequences == () and bundle.session_limits == ()
