"""`rotapool absence`, `rotapool demand` and `rotapool repair` on a real database."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from scheduler.cli.main import main
from scheduler.domain import Assignment, parse_iso_week
from scheduler.storage.db import make_engine, session_scope
from scheduler.storage.models.app import AuditRecord, CalendarEventRecord, ChangeNoticeRecord
from scheduler.storage.rotas import find_rota
from scheduler.usecases import repair as repair_usecase
from scheduler.usecases.editing import Edit, apply_edit, editable_rota, load_cells
from scheduler.usecases.repair import changes_between
from tests.web_support import TINY

WEEK = "2026-W49"
MONDAY, TUESDAY, WEDNESDAY = parse_iso_week(WEEK)[:3]


def run(db_url: str, *args: str) -> int:
    return main([*args, "--database", db_url])


@pytest.fixture
def published(db_url: str) -> frozenset[Assignment]:
    """The tiny network imported, its week planned and published (version 1)."""
    assert run(db_url, "import", str(TINY)) == 0
    solve = ["solve", "--week", WEEK, "--time-limit", "5", "--workers", "2"]
    assert run(db_url, *solve) == 0
    assert run(db_url, "publish", "--week", WEEK) == 0
    return rota_of(db_url, "published")


def rota_of(db_url: str, state: str) -> frozenset[Assignment]:
    engine = make_engine(db_url)
    try:
        with session_scope(engine) as db:
            rota = find_rota(db, 1, WEEK, state)
            assert rota is not None
            return load_cells(db, rota.id).assignments
    finally:
        engine.dispose()


def busiest(published: frozenset[Assignment], days: set[dt.date]) -> str:
    """The person with the most published sessions on those days (ties: lowest id)."""
    counts: dict[str, int] = {}
    for a in published:
        if a.date in days:
            counts[a.staff_id] = counts.get(a.staff_id, 0) + 1
    return min(counts, key=lambda s: (-counts[s], s))


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_a_sick_gp_is_repaired_reviewed_in_files_and_approved_as_version_two(
    db_url: str,
    published: frozenset[Assignment],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sick = busiest(published, {TUESDAY, WEDNESDAY})
    absence = ["absence", "add", sick, "--from", str(TUESDAY), "--to", str(WEDNESDAY)]
    assert run(db_url, *absence, "--kind", "sick", "--reason", "flu") == 0
    assert "Recorded absence 1" in capsys.readouterr().out
    out = tmp_path / "repair"
    repair = ["repair", "--week", WEEK, "--out", str(out), "--today", str(MONDAY)]
    assert run(db_url, *repair, "--time-limit", "10", "--approve") == 0
    printed = capsys.readouterr().out
    assert f"Published {WEEK} as version 2" in printed

    after = rota_of(db_url, "published")
    # Every session outside the absence's days is exactly as published.
    assert {a for a in after if a.date not in {TUESDAY, WEDNESDAY}} == {
        a for a in published if a.date not in {TUESDAY, WEDNESDAY}
    }
    assert not any(a.staff_id == sick and a.date in {TUESDAY, WEDNESDAY} for a in after)
    # changes.csv is the diff, row for row; rota.csv is the published week.
    rows = read_csv(out / "changes.csv")
    expected = changes_between(published, after)
    assert [tuple(r.values()) for r in rows] == [tuple(map(str, c.row)) for c in expected]
    assert list(rows[0]) == ["staff_id", "date", "session_id", "from_site", "to_site", "change"]
    rota = read_csv(out / "rota.csv")
    assert {(r["staff_id"], r["date"], r["session_id"], r["site_id"]) for r in rota} == {
        (a.staff_id, a.date.isoformat(), a.session_id, a.site_id) for a in after
    }
    # Only the people whose sessions changed got new calendar events and notices.
    changed_people = {c.staff_id for c in expected}
    engine = make_engine(db_url)
    try:
        with session_scope(engine) as db:
            noticed = {n.staff_id for n in db.scalars(select(ChangeNoticeRecord))}
            bumped = {e.staff_id for e in db.scalars(select(CalendarEventRecord)) if e.sequence > 0}
            logged = [str(e.after) for e in db.scalars(select(AuditRecord))]
    finally:
        engine.dispose()
    assert noticed == changed_people
    assert bumped <= changed_people
    assert sick in bumped
    assert not any("flu" in text or "sick" in text for text in logged)


def test_repair_without_approve_saves_a_draft_and_publishes_nothing(
    db_url: str, published: frozenset[Assignment], capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(db_url, "demand", "add", "--site", "P02", "--date", str(WEDNESDAY),
               "--session", "AM", "--cancel") == 0  # fmt: skip
    assert run(db_url, "repair", "--week", WEEK, "--today", str(MONDAY)) == 0
    assert "Saved as draft rota" in capsys.readouterr().out
    assert rota_of(db_url, "published") == published
    draft = rota_of(db_url, "draft")
    assert not any(a.site_id == "P02" and a.date == WEDNESDAY and a.session_id == "AM"
                   for a in draft)  # fmt: skip
    changes = changes_between(published, draft)
    assert changes and all(c.date == WEDNESDAY for c in changes)


def test_a_week_with_no_event_is_not_repaired_and_says_what_to_do(
    db_url: str, published: frozenset[Assignment], capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(db_url, "repair", "--week", WEEK, "--today", str(MONDAY)) == 1
    assert "record the event first" in capsys.readouterr().err


def test_an_unpublished_week_cannot_be_repaired(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(db_url, "import", str(TINY)) == 0
    assert run(db_url, "repair", "--week", WEEK) == 1
    assert "has no published rota to repair; publish the week first" in capsys.readouterr().err


def test_bad_event_input_names_each_option_and_records_nothing(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(db_url, "import", str(TINY)) == 0
    code = run(db_url, "absence", "add", "S9999", "--from", "2026-12-03", "--to", "2026-12-01",
               "--kind", "sick", "--session", "NOON")  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err
    assert "staff_id: 'S9999' is not in staff.csv" in err
    assert "end: the last day is before the first" in err
    assert "session_id: 'NOON' is not a session in session_types.csv" in err
    code = run(db_url, "demand", "add", "--site", "P01", "--date", "2026-12-05",
               "--session", "AM", "--min", "2", "--target", "1")  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err
    assert "session_id: AM does not run on Sats" in err
    assert "target: the target (1) is below the minimum (2)" in err
    assert run(db_url, "absence", "list") == 0
    assert "No absence recorded." in capsys.readouterr().out


def test_events_are_listed_and_withdrawn(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(db_url, "import", str(TINY)) == 0
    assert run(db_url, "absence", "add", "S01", "--from", "2026-12-01", "--kind", "annual") == 0
    assert run(db_url, "demand", "add", "--site", "P01", "--date", "2026-12-01",
               "--session", "AM", "--role", "GP", "--min", "4") == 0  # fmt: skip
    capsys.readouterr()
    assert run(db_url, "absence", "withdraw", "1") == 0
    assert run(db_url, "absence", "withdraw", "1") == 2
    assert "already withdrawn" in capsys.readouterr().err
    assert run(db_url, "absence", "list", "--week", WEEK) == 0
    assert "(withdrawn)" in capsys.readouterr().out
    assert run(db_url, "demand", "list") == 0
    assert "P01 Tue 2026-12-01 AM: GP needs 4 (target 4)" in capsys.readouterr().out
    assert run(db_url, "demand", "withdraw", "7") == 2
    assert "no demand 7 in this network" in capsys.readouterr().err


def test_a_draft_edited_while_the_repair_is_solved_is_kept(
    db_url: str,
    published: frozenset[Assignment],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sick = busiest(published, {TUESDAY})
    assert run(db_url, "absence", "add", sick, "--from", str(TUESDAY), "--kind", "sick") == 0
    cell = min(a for a in published if a.date == MONDAY)
    solve = repair_usecase.propose_repair

    def edited_meanwhile(*args: Any, **kwargs: Any) -> Any:
        engine = make_engine(db_url)
        try:
            with session_scope(engine) as db:
                rota = editable_rota(db, 1, WEEK)
                assert rota is not None
                edit = Edit("unassign", cell)
                apply_edit(db, 1, WEEK, edit, expected_revision=rota.revision, actor="someone")
        finally:
            engine.dispose()
        return solve(*args, **kwargs)

    monkeypatch.setattr(repair_usecase, "propose_repair", edited_meanwhile)
    assert run(db_url, "repair", "--week", WEEK, "--today", str(MONDAY)) == 1
    assert "has a draft with edits not yet published" in capsys.readouterr().err
    assert rota_of(db_url, "draft") == published - {cell}
