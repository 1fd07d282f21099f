"""``rotapool report fairness`` and the balance ``rotapool solve`` and web solves carry in.

History: the hand-made published week 2026-W48 of tests/test_web_fairness.py
(P01 and P02 did 3 h at the hub each; P01 holds 56.36 % of the patients, so
it did 0.38 h less than its share and P02 0.38 h more).
"""

from __future__ import annotations

import argparse
import threading
from pathlib import Path

import pytest
from openpyxl import load_workbook

from scheduler.cli import planning as cli_planning
from scheduler.cli.common import EXIT_FAILED, EXIT_INPUT, EXIT_OK
from scheduler.cli.main import main
from scheduler.domain import Bundle
from scheduler.jobs.records import create_job
from scheduler.jobs.run import _begin
from scheduler.storage.db import make_engine, session_scope, upgrade
from scheduler.storage.repository import network_id_of
from scheduler.usecases.importing import import_bundle
from tests.test_web_fairness import publish_history
from tests.web_support import TINY

BALANCE = {"P01": 3 - 6 * 6200 / 11000, "P02": 3 - 6 * 4800 / 11000}


@pytest.fixture
def url(db_url: str) -> str:
    """The tiny network, imported, with 2026-W48 published."""
    upgrade(db_url)
    network_id, _ = import_bundle(db_url, TINY)
    publish_history(db_url, network_id)
    return db_url


def report(url: str, *extra: str) -> int:
    return main(["report", "fairness", "--week", "2026-W49", "--database", url, *extra])


def test_the_report_prints_a_readable_table(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert report(url, "--weeks", "2") == EXIT_OK
    out = capsys.readouterr().out.splitlines()
    assert out[0] == (
        "Fairness between practices, Tiny Test Network: "
        "2026-W48 to 2026-W49 (2 weeks, 2026-11-23 to 2026-12-06)"
    )
    assert "Hub duty 6.00 h and lending 4.50 h" in out[1]
    assert out[3].split() == [
        "Practice", "List", "share", "Hub", "h", "Hub", "share", "Hub", "balance",
        "Lent", "h", "Lent", "share", "Lent", "balance",
    ]  # fmt: skip
    assert out[4].split() == [
        "P01", "Mill", "Lane", "Surgery", "56.36%", "3.00", "50.00%", "-0.38", "h",
        "4.50", "100.00%", "+1.96", "h",
    ]  # fmt: skip


def test_the_report_writes_csv_and_xlsx(url: str, tmp_path: Path) -> None:
    csv_path, xlsx_path = tmp_path / "f.csv", tmp_path / "f.xlsx"
    assert report(url, "--csv", str(csv_path), "--xlsx", str(xlsx_path)) == EXIT_OK
    lines = csv_path.read_text().splitlines()
    assert (
        lines[2] == "P02,Station Road Surgery,4800,43.64,3.00,50.00,2.62,0.38,0.00,0.00,1.96,-1.96"
    )
    book = load_workbook(xlsx_path, read_only=True)
    period = dict(book["period"].iter_rows(min_row=2, values_only=True))
    rows = list(book["fairness"].iter_rows(min_row=2, values_only=True))
    book.close()
    assert period["weeks"] == 12 and period["first_week"] == "2026-W38"
    assert [r[7] for r in rows] == [-0.38, 0.38]


def test_a_bad_weeks_option_is_named(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert report(url, "--weeks", "zero") == EXIT_INPUT
    assert capsys.readouterr().err.startswith("error: --weeks: 'zero' is not a whole number")


def test_a_bad_week_is_a_usage_error(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["report", "fairness", "--week", "2026-W60", "--database", url])
    assert stopped.value.code == EXIT_INPUT
    assert "--week" in capsys.readouterr().err


def test_an_unwritable_file_is_named(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "no such folder" / "f.csv"
    assert report(url, "--csv", str(missing)) == EXIT_FAILED
    assert capsys.readouterr().err.startswith("error: --csv: cannot write")


def test_an_unknown_network_is_named(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert report(url, "--network", "Nowhere") == EXIT_INPUT
    assert "Nowhere" in capsys.readouterr().err


# --------------------------------------------------------------------------- solves


def solved_bundle(url: str, week: str, monkeypatch: pytest.MonkeyPatch) -> Bundle:
    """The bundle ``rotapool solve`` hands the planner (the solve itself is skipped)."""
    seen: list[Bundle] = []

    def capture(bundle: Bundle, _week: str, _args: argparse.Namespace) -> int:
        seen.append(bundle)
        return EXIT_FAILED

    monkeypatch.setattr(cli_planning, "_solve", capture)
    assert main(["solve", "--week", week, "--database", url]) == EXIT_FAILED
    return seen[0]


def test_solve_carries_the_balance_of_the_weeks_before(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert solved_bundle(url, "2026-W49", monkeypatch).fairness_balance == pytest.approx(BALANCE)


def test_solve_without_history_carries_nothing(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert solved_bundle(url, "2026-W48", monkeypatch).fairness_balance == {}


def test_a_web_solve_carries_the_balance(url: str) -> None:
    engine = make_engine(url)
    try:
        with session_scope(engine) as db:
            network_id = network_id_of(db, None)
            job_id = create_job(
                db, network_id, "2026-W49", weeks=1, keep_pins=False, actor="test"
            ).id
        plan = _begin(engine, job_id, threading.Event())
    finally:
        engine.dispose()
    assert plan is not None
    assert plan.bundle.fairness_balance == pytest.approx(BALANCE)


def test_solve_with_history_plans_a_valid_week(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--time-limit", "10", "--workers", "2", "--seed", "0"]
    assert main(["solve", "--week", "2026-W49", "--database", url, *args]) == EXIT_OK
    assert "Saved as draft rota" in capsys.readouterr().out
