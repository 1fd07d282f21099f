"""Timesheets: planned vs actual, confirming, correcting and flagging (audited, told,
all-or-nothing), the hours split and cost of the payroll report, its files, the command, and
the recharge ledger counting confirmed actuals."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import Engine, select

from scheduler.cli.common import EXIT_INPUT, EXIT_OK
from scheduler.cli.main import main
from scheduler.domain import Assignment, SiteKind
from scheduler.reports.actuals import Recorded, gone_keys, load_entries, merge
from scheduler.reports.ledger import load_ledger, month_period, week_period
from scheduler.reports.ledger_tables import summary_lines as ledger_lines
from scheduler.reports.timesheets import (
    LINE_HEADER,
    build_timesheets,
    load_timesheets,
    summary_lines,
    write_timesheets,
)
from scheduler.storage import audit
from scheduler.storage.db import make_engine, session_scope
from scheduler.storage.events import current_bundle
from scheduler.storage.models.pool import InboxRecord, TimesheetRecord
from scheduler.storage.repository import network_id_of
from scheduler.usecases.timesheets import (
    TimesheetError,
    confirm,
    confirm_day,
    correct,
    flag,
    parse_correction,
)
from tests.factories import assign, make_bundle, make_demand, make_session, make_site, make_staff
from tests.web_support import TINY, save_week, seeded_app

WEEK = "2026-W49"
TUE, WED = dt.date(2026, 12, 1), dt.date(2026, 12, 2)
NOW = dt.datetime(2026, 12, 3, 9, tzinfo=dt.UTC)
TODAY = NOW.date()
PLANNED = [
    Assignment(TUE, "AM", "P01", "S01"),  # Grace, £95
    Assignment(TUE, "EVE", "HUB1", "S01"),  # enhanced access
    Assignment(TUE, "AM", "P02", "S02"),  # Imran (P01, £90) lent to P02
    Assignment(WED, "PM", "P02", "S03"),
]


@pytest.fixture
def tiny(db_url: str) -> Iterator[tuple[Engine, int]]:
    """The tiny network with WEEK published as PLANNED (and accounts, for the inbox)."""
    _, network_id = seeded_app(db_url)
    engine = make_engine(db_url)
    with session_scope(engine) as db:
        save_week(db, network_id, WEEK, PLANNED, state="published")
    yield engine, network_id
    engine.dispose()


def entries(engine: Engine, network_id: int) -> dict[tuple[str, dt.date, str], Any]:
    with session_scope(engine) as db:
        bundle = current_bundle(db, network_id)
        return {e.key: e for e in load_entries(db, network_id, bundle, TUE, WED)}


def fix(engine: Engine, network_id: int, **fields: str) -> Recorded:
    with session_scope(engine) as db:
        change = parse_correction(current_bundle(db, network_id), fields)
        return correct(db, network_id, change, actor="coord", moment=NOW, today=TODAY)


# --------------------------------------------------------------------------- planned vs actual


def test_planned_sessions_count_until_a_coordinator_confirms_what_happened(
    tiny: tuple[Engine, int],
) -> None:
    engine, network_id = tiny
    before = entries(engine, network_id)
    assert {k for k, e in before.items() if e.planned} == {
        (a.staff_id, a.date, a.session_id) for a in PLANNED
    }
    assert not any(e.confirmed for e in before.values())
    assert before[("S01", TUE, "AM")].seconds == 4.5 * 3600
    fix(engine, network_id, staff_id="S01", date="2026-12-01", session_id="AM",
        site_id="P01", outcome="changed", start="08:00", end="11:00")  # fmt: skip
    fix(engine, network_id, staff_id="S02", date="2026-12-01", session_id="AM",
        site_id="P02", outcome="not_worked")  # fmt: skip
    fix(engine, network_id, staff_id="S04", date="2026-12-01", session_id="PM",
        site_id="P02", outcome="worked")  # fmt: skip  # never planned
    after = entries(engine, network_id)
    assert after[("S01", TUE, "AM")].seconds == 3 * 3600
    assert after[("S02", TUE, "AM")].seconds == 0
    unplanned = after[("S04", TUE, "PM")]
    assert (unplanned.planned, unplanned.confirmed, unplanned.seconds) == (False, True, 4.5 * 3600)
    assert not after[("S01", TUE, "EVE")].confirmed  # untouched: still as planned


def test_confirming_a_day_confirms_its_planned_sessions_and_is_audited(
    tiny: tuple[Engine, int],
) -> None:
    engine, network_id = tiny
    with session_scope(engine) as db:
        done = confirm_day(db, network_id, TUE, actor="coord", moment=NOW, today=TODAY)
        again = confirm_day(db, network_id, TUE, actor="coord", moment=NOW, today=TODAY)
    assert sorted(r.staff_id + r.session_id for r in done) == ["S01AM", "S01EVE", "S02AM"]
    assert again == []
    found = entries(engine, network_id)
    assert sorted(k for k, e in found.items() if e.confirmed) == [
        ("S01", TUE, "AM"), ("S01", TUE, "EVE"), ("S02", TUE, "AM")
    ]  # fmt: skip
    with session_scope(engine) as db:
        logged = [e for e in audit.entries(db, network_id) if e.action == "timesheet confirmed"]
    assert len(logged) == 3 and logged[0].before is None
    assert logged[0].after is not None and logged[0].after["confirmed"] is True


def test_confirming_is_all_or_nothing(tiny: tuple[Engine, int]) -> None:
    engine, network_id = tiny
    keys = [("S01", TUE, "AM"), ("S09", TUE, "AM")]  # S09 had no session then
    with pytest.raises(TimesheetError, match="S09 has no AM session"), session_scope(engine) as db:
        confirm(db, network_id, keys, actor="coord", moment=NOW, today=TODAY)
    with session_scope(engine) as db:
        assert db.scalars(select(TimesheetRecord)).all() == []


def test_a_day_not_yet_come_cannot_be_confirmed(tiny: tuple[Engine, int]) -> None:
    engine, network_id = tiny
    with pytest.raises(TimesheetError, match="has not come yet"), session_scope(engine) as db:
        confirm_day(db, network_id, WED, actor="coord", moment=NOW, today=TUE)


def test_bad_corrections_name_the_field(tiny: tuple[Engine, int]) -> None:
    engine, network_id = tiny
    good = {"staff_id": "S01", "date": "2026-12-01", "session_id": "AM", "site_id": "P01",
            "outcome": "changed", "start": "08:30", "end": "12:00"}  # fmt: skip
    with session_scope(engine) as db:
        bundle = current_bundle(db, network_id)
    for change, field in [
        ({"staff_id": "S99"}, "staff_id"),
        ({"date": "1 Dec"}, "date"),
        ({"session_id": "NIGHT"}, "session_id"),
        ({"date": "2026-12-05"}, "session_id"),  # a Saturday: AM runs Mon-Fri
        ({"site_id": "P77"}, "site_id"),
        ({"outcome": "sort of"}, "outcome"),
        ({"start": "8.30"}, "start"),
        ({"end": "25:00"}, "end"),
        ({"end": "08:00"}, "end"),  # before the start
        ({"note": "x" * 201}, "note"),
    ]:
        with pytest.raises(TimesheetError) as refused:
            parse_correction(bundle, {**good, **change})
        assert refused.value.field == field, change
    with pytest.raises(TimesheetError) as refused, session_scope(engine) as db:
        change = parse_correction(bundle, {**good, "staff_id": "S05", "outcome": "not_worked"})
        correct(db, network_id, change, actor="c", moment=NOW, today=TODAY)
    assert refused.value.field == "outcome"


def test_a_correction_is_audited_before_and_after_and_tells_the_person(
    tiny: tuple[Engine, int],
) -> None:
    engine, network_id = tiny
    with session_scope(engine) as db:
        confirm(db, network_id, [("S01", TUE, "AM")], actor="coord", moment=NOW, today=TODAY)
    fix(engine, network_id, staff_id="S01", date="2026-12-01", session_id="AM",
        site_id="P01", outcome="not_worked", note="went home unwell")  # fmt: skip
    with session_scope(engine) as db:
        logged = next(e for e in audit.entries(db, network_id) if e.action == "timesheet corrected")
        told = db.scalars(select(InboxRecord).where(InboxRecord.staff_id == "S01")).all()
    assert logged.before is not None and logged.after is not None
    assert (logged.before["outcome"], logged.after["outcome"]) == ("worked", "not_worked")
    assert "unwell" not in str(logged.after)  # notes never reach the audit log
    assert len(told) == 1 and told[0].kind == "timesheet"
    assert "not worked" in told[0].text and "unwell" not in told[0].text
    assert told[0].link == f"/n/{network_id}/people/S01/timesheet?month=2026-12"


def test_a_clinician_flags_their_own_entry_and_coordinators_are_told(
    tiny: tuple[Engine, int],
) -> None:
    engine, network_id = tiny
    with session_scope(engine) as db:
        flag(db, network_id, ("S01", TUE, "EVE"), "I stayed until 20:30",
             actor="grace", moment=NOW, today=TODAY)  # fmt: skip
    with pytest.raises(TimesheetError, match="you had no PM session"), session_scope(engine) as db:
        flag(db, network_id, ("S01", TUE, "PM"), "?", actor="grace", moment=NOW, today=TODAY)
    with pytest.raises(TimesheetError) as empty, session_scope(engine) as db:
        flag(db, network_id, ("S01", TUE, "AM"), "  ", actor="grace", moment=NOW, today=TODAY)
    assert empty.value.field == "note"
    found = entries(engine, network_id)[("S01", TUE, "EVE")]
    assert found.flagged and not found.confirmed and found.seconds == 1.5 * 3600
    with session_scope(engine) as db:
        told = db.scalars(select(InboxRecord).where(InboxRecord.user_id.is_not(None))).all()
        assert {t.kind for t in told} == {"timesheet"} and len(told) == 2  # manager, coordinator
        assert "Grace Rees flagged" in told[0].text
        # The whole day confirmed as planned leaves the flagged entry for someone to look at.
        confirm_day(db, network_id, TUE, actor="coord", moment=NOW, today=TODAY)
    assert entries(engine, network_id)[("S01", TUE, "EVE")].flagged


# --------------------------------------------------------------------------- the report


def network() -> Any:
    """P01 and a hub; A (P01 GP, £90), B (bank PN, £30), D (P01 HCA, no rate)."""
    return make_bundle(
        sites=[make_site(site_id="P01"), make_site(site_id="HUB1", kind=SiteKind.HUB)],
        session_types=[
            make_session("AM", "08:00", "12:30", days="Mon-Sat"),
            make_session("EVE", "18:30", "20:00", kind="extended"),
            make_session("SAT", "09:00", "17:00", days="Sat", kind="extended"),
        ],
        staff=[
            make_staff("GP", staff_id="A", name="Ann", hourly_rate=90, sites="*"),
            make_staff("PN", staff_id="B", name="Bob", hourly_rate=30, bank=True, sites="*"),
            make_staff("HCA", staff_id="D", name="Dan", sites="*"),
        ],
        demand=[make_demand()],
    )


def row(staff_id: str, day: dt.date, session_id: str, **fields: Any) -> Recorded:
    values: dict[str, Any] = {"site_id": "P01", "outcome": "worked", "start": None, "end": None,
                              "note": None, "confirmed_by": "c", "confirmed_at": NOW,
                              "flagged_at": None, "flag_note": None}  # fmt: skip
    values.update(fields)
    return Recorded(staff_id, day, session_id, **values)


def test_hours_split_into_standard_extended_and_weekend_with_cost_and_bank_apart() -> None:
    sat = dt.date(2026, 12, 5)
    planned = [
        assign("A", "2026-12-01", "AM", "P01"),  # 4.5 standard
        assign("A", "2026-12-01", "EVE", "HUB1"),  # 1.5 extended
        assign("A", "2026-12-05", "SAT", "HUB1"),  # 8 weekend (a Saturday EA session)
        assign("A", "2026-12-05", "AM", "P01"),  # 4.5 weekend
        assign("B", "2026-12-02", "AM", "P01"),  # bank
        assign("D", "2026-12-03", "AM", "P01"),  # no rate
    ]
    records = {r.key: r for r in [row("A", sat, "AM", outcome="changed", start="09:00",
                                      end="11:15")]}  # fmt: skip
    report = build_timesheets(network(), week_period(WEEK), merge(network(), planned, records),
                              [WEEK])  # fmt: skip
    a_hub, a_p01 = (x for x in report.lines if x.staff_id == "A")
    assert (a_p01.site_id, a_p01.hours, a_p01.standard_hours, a_p01.weekend_hours) == (
        "P01", Decimal("6.75"), Decimal("4.50"), Decimal("2.25")
    )  # fmt: skip
    assert (a_p01.cost, a_p01.status) == (Decimal("607.50"), "1 of 2 confirmed")
    assert (a_hub.hours, a_hub.extended_hours, a_hub.weekend_hours) == (
        Decimal("9.50"), Decimal("1.50"), Decimal("8.00")
    )  # fmt: skip
    assert [x.staff_id for x in report.bank] == ["B"]
    assert [x.staff_id for x in report.employed] == ["A", "A", "D"]
    dan = next(x for x in report.employed if x.staff_id == "D")
    assert dan.cost is None and dan.status == "planned"
    (employer, figures), *_ = report.by_employer()
    assert (employer, figures.hours, figures.cost, figures.unpriced_hours) == (
        "P01", Decimal("20.75"), Decimal("1462.50"), Decimal("4.50")
    )  # fmt: skip
    text = "\n".join(summary_lines(report))
    assert "Bank staff:" in text and "no rate" in text and "1 of 6 session(s)" in text


def test_the_csv_and_workbook_read_back_as_the_report(
    tiny: tuple[Engine, int], tmp_path: Path
) -> None:
    engine, network_id = tiny
    fix(engine, network_id, staff_id="S02", date="2026-12-01", session_id="AM",
        site_id="P02", outcome="not_worked")  # fmt: skip
    with session_scope(engine) as db:
        report = load_timesheets(db, network_id, month_period("2026-12"))
    with (write_timesheets(report, "csv", tmp_path / "t.csv")).open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert tuple(rows[0]) == LINE_HEADER
    assert [(r["staff_id"], r["site"], r["hours"], r["cost"]) for r in rows] == [
        ("S01", "HUB1", "1.50", "142.50"), ("S01", "P01", "4.50", "427.50"),
        ("S03", "P02", "4.50", "450.00"),
    ]  # fmt: skip  # S02 not worked: gone
    book = openpyxl.load_workbook(write_timesheets(report, "xlsx", tmp_path / "t.xlsx"))
    assert book.sheetnames == ["staff", "bank", "employers", "notes"]
    sheet = book["staff"]
    assert [c.value for c in sheet[1]] == list(LINE_HEADER)
    assert [sheet.cell(r, 4).value for r in range(2, sheet.max_row + 1)] == ["S01", "S01", "S03"]
    notes = {r[0].value: r[1].value for r in book["notes"].iter_rows(min_row=2)}
    assert notes["sessions confirmed as not worked (in no figure)"] == 1


def test_sessions_whose_session_type_has_gone_are_counted_and_said(
    tiny: tuple[Engine, int],
) -> None:
    engine, network_id = tiny
    with session_scope(engine) as db:
        bundle = current_bundle(db, network_id)
        assert gone_keys(db, network_id, bundle, TUE, WED) == []
        without_eve = dataclasses.replace(
            bundle, session_types=tuple(s for s in bundle.session_types if s.session_id != "EVE")
        )
        assert gone_keys(db, network_id, without_eve, TUE, WED) == [("S01", TUE, "EVE")]
        report = load_timesheets(db, network_id, month_period("2026-12"))
    assert report.gone == 0
    said = summary_lines(dataclasses.replace(report, gone=1))
    assert any(line.startswith("Sessions in no figure because") for line in said)


# --------------------------------------------------------------------------- ledger and CLI


def test_the_ledger_counts_confirmed_actuals_and_says_so(tiny: tuple[Engine, int]) -> None:
    engine, network_id = tiny
    with session_scope(engine) as db:
        planned = load_ledger(db, network_id, week_period(WEEK))
    imran = next(x for x in planned.lines if x.staff_id == "S02")
    assert imran.hours == Decimal("4.50") and planned.confirmed_sessions == 0
    fix(engine, network_id, staff_id="S02", date="2026-12-01", session_id="AM",
        site_id="P02", outcome="changed", start="08:00", end="10:00")  # fmt: skip
    with session_scope(engine) as db:
        actual = load_ledger(db, network_id, week_period(WEEK))
    imran = next(x for x in actual.lines if x.staff_id == "S02")
    assert (imran.hours, imran.cost) == (Decimal("2.00"), Decimal("180.00"))
    assert (actual.confirmed_sessions, actual.planned_sessions) == (1, 3)
    assert "1 session(s) counted from confirmed actuals, 3 as planned" in "\n".join(
        ledger_lines(actual)
    )


def test_the_command_prints_and_writes_and_names_bad_options(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import", str(TINY), "--database", db_url]) == EXIT_OK
    engine = make_engine(db_url)
    with session_scope(engine) as db:
        save_week(db, network_id_of(db), WEEK, PLANNED, state="published")
    engine.dispose()
    capsys.readouterr()
    csv_path, xlsx_path = tmp_path / "t.csv", tmp_path / "t.xlsx"
    args = ["report", "timesheets", "--month", "2026-12", "--database", db_url]
    assert main([*args, "--csv", str(csv_path), "--xlsx", str(xlsx_path)]) == EXIT_OK
    out = capsys.readouterr().out
    assert "Timesheets of Tiny Test Network: 2026-12" in out and "Grace Rees" in out
    assert csv_path.exists() and xlsx_path.exists()
    for bad, words in [
        (["--month", "Dec"], "--month: 'Dec' is not a month such as 2026-12"),
        (["--from", "2026-12-01"], "--to: from and to go together"),
        (["--month", "2026-12", "--from", "2026-12-01", "--to", "2026-12-02"], "not several"),
        ([], "choose a period"),
    ]:
        code = main(["report", "timesheets", *bad, "--database", db_url])
        assert code == EXIT_INPUT and words in capsys.readouterr().err, bad
