"""`rotapool report recharges` on a published week of the tiny network."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import openpyxl
import pytest

from scheduler.cli.common import EXIT_FAILED, EXIT_INPUT, EXIT_OK
from scheduler.cli.main import main
from scheduler.domain import Assignment
from scheduler.storage.db import make_engine, session_scope
from scheduler.storage.repository import network_id_of
from tests.web_support import TINY, save_week

WEEK = "2026-W49"
TUE, WED = dt.date(2026, 12, 1), dt.date(2026, 12, 2)
# Tiny: S02 (P01 GP, £90) at P02 and S01 (P01 GP, £95) at the hub; S08 (FED, £32) at P01.
PUBLISHED = [
    Assignment(TUE, "AM", "P02", "S02"),
    Assignment(TUE, "EVE", "HUB1", "S01"),
    Assignment(WED, "PM", "P01", "S08"),
    Assignment(WED, "AM", "P01", "S01"),  # at home: no recharge
]


def store(db_url: str, assignments: list[Assignment], state: str) -> None:
    engine = make_engine(db_url)
    try:
        with session_scope(engine) as db:
            save_week(db, network_id_of(db), WEEK, assignments, state=state)
    finally:
        engine.dispose()


@pytest.fixture
def tiny(db_url: str) -> str:
    """The tiny network imported, with a published 2026-W49."""
    assert main(["import", str(TINY), "--database", db_url]) == EXIT_OK
    store(db_url, PUBLISHED, "published")
    return db_url


def report(db_url: str, *args: str) -> int:
    return main(["report", "recharges", *args, "--database", db_url])


def test_the_summary_names_lent_borrowed_and_who_owes_whom(
    tiny: str, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert report(tiny, "--week", WEEK) == EXIT_OK
    out = capsys.readouterr().out
    assert (
        "Recharge ledger of Tiny Test Network: 2026-W49 (Mon 2026-11-30 to Sun 2026-12-06)" in out
    )
    assert "Counted: the published rotas of 2026-W49." in out
    assert "P02 owes P01 £405.00 (P02 used 4.50 h of P01's staff, £405.00)" in out
    assert "HUB1 owes P01 £142.50" in out
    assert "P01 owes FED £144.00" in out
    assert "Every person has an hourly rate" in out
    assert "3 invoice line(s) by host, employer and role" in out


def test_a_custom_range_and_a_month_name_the_weeks_not_published(
    tiny: str, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert report(tiny, "--from", "2026-12-01", "--to", "2026-12-08") == EXIT_OK
    out = capsys.readouterr().out
    assert "2026-12-01 to 2026-12-08" in out
    assert "Not published, so not counted: 2026-W50." in out
    assert report(tiny, "--month", "2026-12") == EXIT_OK
    assert "2026-W50, 2026-W51, 2026-W52, 2026-W53" in capsys.readouterr().out


def test_csv_to_a_folder_writes_every_table_and_to_a_file_the_invoice_lines(
    tiny: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert report(tiny, "--week", WEEK, "--csv", str(tmp_path / "out")) == EXIT_OK
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == [
        f"recharge-{n}.csv" for n in ("balances", "breakdown", "invoices", "practices", "staff")
    ]
    assert report(tiny, "--week", WEEK, "--csv", str(tmp_path / "inv.csv")) == EXIT_OK
    with (tmp_path / "inv.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["host_site"], r["employer"], r["role"], r["hours"], r["cost"]) for r in rows] == [
        ("HUB1", "P01", "GP", "1.50", "142.50"),
        ("P01", "FED", "PHARM", "4.50", "144.00"),
        ("P02", "P01", "GP", "4.50", "405.00"),
    ]
    assert f"Wrote {tmp_path / 'inv.csv'}" in capsys.readouterr().out


def test_xlsx_holds_every_sheet(tiny: str, tmp_path: Path) -> None:
    path = tmp_path / "ledger.xlsx"
    assert report(tiny, "--from", "2026-11-30", "--to", "2026-12-06", "--xlsx", str(path)) == 0
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["invoices", "practices", "balances", "breakdown", "staff", "notes"]
    balances = list(book["balances"].iter_rows(min_row=2, values_only=True))
    assert [(r[0], r[1], r[7], r[8], r[9]) for r in balances] == [
        ("P01", "P02", "P02", "P01", 405.0),
        ("P01", "HUB1", "HUB1", "P01", 142.5),
        ("P01", "FED", "P01", "FED", 144.0),
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--from", "2026-12-10", "--to", "2026-12-01"],
            "--to: 2026-12-01 is before from 2026-12-10",
        ),
        (["--from", "2026-12-32", "--to", "2026-12-01"], "--from: '2026-12-32' is not a date"),
        (["--from", "2026-12-01"], "--to: from and to go together"),
        (["--week", WEEK, "--month", "2026-12"], "--week, --month or --from/--to: choose one"),
        ([], "--week, --month or --from/--to: choose a period"),
        (["--month", "December"], "--month: 'December' is not a month such as 2026-12"),
    ],
)
def test_a_bad_period_is_refused_naming_the_option(
    tiny: str, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    capsys.readouterr()
    assert report(tiny, *args) == EXIT_INPUT
    assert f"error: {message}" in capsys.readouterr().err


def test_a_period_without_a_published_rota_is_an_error(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import", str(TINY), "--database", db_url]) == EXIT_OK
    store(db_url, PUBLISHED, "draft")
    capsys.readouterr()
    assert report(db_url, "--week", WEEK) == EXIT_FAILED
    err = capsys.readouterr().err
    assert "error: no rota is published between 2026-11-30 and 2026-12-06" in err
    assert "drafts never count" in err


def test_an_unwritable_file_is_refused_naming_the_option(
    tiny: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    missing = tmp_path / "no-such-folder" / "ledger.xlsx"
    assert report(tiny, "--week", WEEK, "--xlsx", str(missing)) == EXIT_FAILED
    assert f"error: --xlsx: cannot write {missing}" in capsys.readouterr().err
