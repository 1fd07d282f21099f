"""`rotapool capacity` and `rotapool lending propose` on a stored week of the tiny network."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest

from scheduler.checks.capacity import CAPACITY_HEADER
from scheduler.cli.main import main
from scheduler.domain import Assignment
from scheduler.storage.db import make_engine, session_scope
from scheduler.storage.repository import network_id_of
from tests.web_support import TINY, save_week

WEEK = "2026-W49"
MON, TUE = dt.date(2026, 11, 30), dt.date(2026, 12, 1)
DRAFT = [
    Assignment(MON, "AM", "P01", "S01"),
    Assignment(MON, "AM", "P01", "S02"),
    Assignment(TUE, "AM", "P01", "S05"),  # pinned in fixed.csv
]


def store(db_url: str, assignments: list[Assignment], state: str = "draft") -> None:
    engine = make_engine(db_url)
    try:
        with session_scope(engine) as db:
            save_week(db, network_id_of(db), WEEK, assignments, state=state)
    finally:
        engine.dispose()


@pytest.fixture
def tiny(db_url: str) -> str:
    """The tiny network imported, with a hand-made draft of 2026-W49."""
    assert main(["import", str(TINY), "--database", db_url]) == 0
    store(db_url, DRAFT)
    return db_url


def test_capacity_prints_who_is_free_session_by_session(
    tiny: str, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(["capacity", "--week", WEEK, "--database", tiny]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Spare capacity of Tiny Test Network, 2026-W49 (draft rota): ")
    monday_pm = out[out.index("Mon 2026-11-30 PM\n") : out.index("Mon 2026-11-30 EVE\n")]
    assert (
        "  S02 Imran Shah (GP; no skills), home P01, employer P01: 4.50 h, 22.50 h spare, "
        "£90.00/h\n      may work at P01 (0 min, wanted); P02 (5 min, wanted)\n"
    ) in monday_pm
    tuesday_am = out[out.index("Tue 2026-12-01 AM\n") : out.index("Tue 2026-12-01 PM\n")]
    assert "S02 Imran Shah" in tuesday_am
    assert "S05 Leah Price" not in tuesday_am  # pinned at P01 that morning
    assert "Tom Owusu" not in out[out.index("Wed 2026-12-02 AM") : out.index("Wed 2026-12-02 PM")]


def test_capacity_reads_the_published_rota_when_there_is_one(
    tiny: str, capsys: pytest.CaptureFixture[str]
) -> None:
    store(tiny, [*DRAFT, Assignment(MON, "PM", "P01", "S02")], state="published")
    capsys.readouterr()
    assert main(["capacity", "--week", WEEK, "--database", tiny]) == 0
    out = capsys.readouterr().out
    assert "(published rota)" in out
    assert (
        "S02 Imran Shah"
        not in out[out.index("Mon 2026-11-30 PM") : out.index("Mon 2026-11-30 EVE")]
    )


def test_capacity_writes_a_csv_with_its_header(
    tiny: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "capacity.csv"
    assert main(["capacity", "--week", WEEK, "--database", tiny, "--csv", str(target)]) == 0
    with target.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert tuple(rows[0]) == CAPACITY_HEADER
    imran = next(r for r in rows[1:] if r[:4] == ["2026-11-30", "Mon", "PM", "S02"])
    assert imran[4:] == [
        "Imran Shah",
        "GP",
        "",
        "P01",
        "P01",
        "4.50",
        "22.50",
        "90.00",
        "P01 (0 min, wanted); P02 (5 min, wanted)",
    ]
    assert f"Wrote {len(rows) - 1} free sessions of 2026-W49 to {target}" in capsys.readouterr().out


def test_capacity_of_a_week_without_a_rota_says_what_to_do(
    tiny: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["capacity", "--week", "2026-W50", "--database", tiny]) == 1
    assert "No rota for 2026-W50 yet: run `rotapool solve --week 2026-W50` first." in (
        capsys.readouterr().err
    )


def test_lending_propose_prints_the_proposals_and_is_idempotent(
    tiny: str, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(["lending", "propose", "--week", WEEK, "--database", tiny]) == 0
    first = capsys.readouterr().out
    assert first.startswith("Lending proposals for 2026-W49: ")
    assert " new, 0 still open, 0 withdrawn." in first.splitlines()[0]
    assert (
        ": S02 Imran Shah from P01 to P02, 4.50 h, £405.00, 5 min travel; leaves P01 below target\n"
    ) in first
    assert "web app's Lending page" in first
    assert main(["lending", "propose", "--week", WEEK, "--database", tiny]) == 0
    second = capsys.readouterr().out
    made = first.splitlines()[0].split(": ")[1].split(" new")[0]
    assert second.splitlines()[0] == (
        f"Lending proposals for 2026-W49: 0 new, {made} still open, 0 withdrawn."
    )
    assert second.splitlines()[1:] == first.splitlines()[1:]


def test_lending_propose_needs_a_rota(tiny: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lending", "propose", "--week", "2026-W50", "--database", tiny]) == 1
    assert "error: 2026-W50 has no rota yet: solve the week first" in capsys.readouterr().err


def test_lending_help_says_acceptance_is_in_the_web_app(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        main(["lending", "propose", "--help"])
    assert "Lending page" in capsys.readouterr().out
