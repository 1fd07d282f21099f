"""`rotapool report ea` on a hand-published week of the tiny network.

The published week 2026-W49 has a GP at the hub every weekday evening but
Wednesday, and the tiny network has no Saturday session at all.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from openpyxl import load_workbook

from scheduler.cli.main import main
from scheduler.domain import Assignment
from scheduler.storage.db import make_engine, session_scope
from scheduler.storage.repository import network_id_of
from tests.web_support import TINY, save_week

WEEK = "2026-W49"
MON = dt.date(2026, 11, 30)
EVENINGS = [
    Assignment(MON + dt.timedelta(days=day), "EVE", "HUB1", staff_id)
    for day, staff_id in ((0, "S01"), (1, "S02"), (3, "S03"), (4, "S04"))
]
GAPS = [
    "    Wed 2026-12-02 18:30-20:00: no bookable clinician",
    "    Wed 2026-12-02 18:30-20:00: no GP present",
    "    Sat 2026-12-05 09:00-17:00: no bookable clinician",
    "    Sat 2026-12-05 09:00-17:00: no GP present",
]


def publish(db_url: str, assignments: list[Assignment]) -> None:
    engine = make_engine(db_url)
    try:
        with session_scope(engine) as db:
            save_week(db, network_id_of(db), WEEK, assignments, state="published")
    finally:
        engine.dispose()


def stored(db_url: str, folder: Path, assignments: list[Assignment]) -> str:
    assert main(["import", str(folder), "--database", db_url]) == 0
    publish(db_url, assignments)
    return db_url


def tiny_with(tmp_path: Path, section: str | None) -> Path:
    """A copy of the tiny network whose [enhanced_access] section is ``section`` (None: none)."""
    folder = Path(shutil.copytree(TINY, tmp_path / "tiny"))
    toml = folder / "network.toml"
    toml.chmod(0o644)
    head = toml.read_text(encoding="utf-8").split("[enhanced_access]")[0]
    toml.write_text(head + (f"[enhanced_access]\n{section}\n" if section is not None else ""))
    return folder


def test_failing_week_lists_every_gap_and_exits_1(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    stored(db_url, TINY, EVENINGS)
    capsys.readouterr()
    assert main(["report", "ea", "--week", WEEK, "--database", db_url]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[:3] == [
        "Enhanced access, Tiny Test Network",
        "Week 2026-W49 (Mon 2026-11-30 to Sun 2026-12-06): FAIL",
        "  360 minutes delivered of a floor of 660 (60 per 1,000 x adjusted population 11,000)"
        ": 300 minutes short",
    ]
    assert lines[-5:] == ["  Gaps: 4 required", *GAPS]


def test_files_are_written_and_read_back(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stored(db_url, TINY, EVENINGS)
    csv_path, xlsx_path = tmp_path / "ea.csv", tmp_path / "ea.xlsx"
    argv = ["report", "ea", "--week", WEEK, "--database", db_url]
    assert main([*argv, "--csv", str(csv_path), "--xlsx", str(xlsx_path)]) == 1
    out = capsys.readouterr().out
    assert f"Wrote {csv_path}\nWrote {tmp_path / 'ea-gaps.csv'}\nWrote {xlsx_path}\n" in out
    gap_lines = (tmp_path / "ea-gaps.csv").read_text(encoding="utf-8").splitlines()
    assert [line.rsplit(",", 1)[1] for line in gap_lines[1:]] == [g.strip() for g in GAPS]
    summary = list(load_workbook(xlsx_path)["summary"].iter_rows(values_only=True))
    figures = dict(zip(summary[0], summary[1], strict=True))
    assert figures["minutes_delivered"] == 360 and figures["floor_minutes"] == 660
    assert figures["minutes_short"] == 300 and figures["result"] == "fail"


def test_passing_week_exits_0(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    section = 'adjusted_population = 5000\nwindows = ["Mon-Fri 18:30-20:00"]'
    wednesday = Assignment(MON + dt.timedelta(days=2), "EVE", "HUB1", "S01")
    stored(db_url, tiny_with(tmp_path, section), [*EVENINGS, wednesday])
    capsys.readouterr()
    assert main(["report", "ea", "--week", WEEK, "--database", db_url]) == 0
    out = capsys.readouterr().out
    assert "Week 2026-W49 (Mon 2026-11-30 to Sun 2026-12-06): PASS" in out
    assert "  450 minutes delivered of a floor of 300" in out and "  Gaps: none" in out


def test_several_weeks_say_which_are_unpublished(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    stored(db_url, TINY, EVENINGS)
    capsys.readouterr()
    assert main(["report", "ea", "--week", WEEK, "--weeks", "2", "--database", db_url]) == 1
    out = capsys.readouterr().out
    assert "Week 2026-W50 (Mon 2026-12-07 to Sun 2026-12-13): FAIL" in out
    assert out.count("Nothing is published for this week") == 1


def test_network_without_the_section_is_an_input_error(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stored(db_url, tiny_with(tmp_path, None), EVENINGS)
    capsys.readouterr()
    assert main(["report", "ea", "--week", WEEK, "--database", db_url]) == 2
    assert "has no [enhanced_access] section in network.toml" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--week", "49", "is not an ISO week such as 2026-W49"),
        ("--weeks", "0", "'0' is not a number of weeks from 1 to 53"),
    ],
)
def test_bad_option_is_a_usage_error(
    db_url: str, capsys: pytest.CaptureFixture[str], option: str, value: str, message: str
) -> None:
    argv = {"--week": WEEK, option: value}
    with pytest.raises(SystemExit) as caught:
        main(["report", "ea", *(x for pair in argv.items() for x in pair), "--database", db_url])
    assert caught.value.code == 2
    assert f"argument {option}: " in (err := capsys.readouterr().err) and message in err


def test_weeks_past_the_last_year_a_week_may_have_are_an_input_error(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    stored(db_url, TINY, EVENINGS)
    capsys.readouterr()
    argv = ["report", "ea", "--week", "2999-W52", "--weeks", "2", "--database", db_url]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "error: --weeks: 2 weeks from 2999-W52 reach 3000-W01" in err
