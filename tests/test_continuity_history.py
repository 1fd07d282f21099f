"""The regulars a plan carries come from the published weeks before it (SQLite and PostgreSQL).

History: the hand-made published week 2026-W48 of tests/test_web_fairness.py
(four hub evenings by S01 to S04 on Monday to Thursday, and S02 at P02 on
Monday morning).
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from scheduler.cli.common import EXIT_OK
from scheduler.cli.main import main
from scheduler.domain import Assignment, Rules, Weights
from scheduler.jobs.records import create_job
from scheduler.jobs.run import _begin
from scheduler.reports.continuity import SUMMARY_KEYS, continuity_of, with_previous_sessions
from scheduler.storage.db import make_engine, reading, session_scope, upgrade
from scheduler.storage.events import current_bundle
from scheduler.storage.repository import load_bundle, network_id_of, save_bundle
from scheduler.storage.rotas import load_rota
from scheduler.usecases.editing import Edit, apply_edit
from scheduler.usecases.importing import import_bundle
from tests.factories import make_bundle
from tests.jobs.support import _run
from tests.test_cli_fairness import solved_bundle
from tests.test_web_fairness import HISTORY_WEEK, PUBLISHED, publish_history
from tests.web_support import TINY, save_week

REGULARS = {
    ("HUB1", 0, "EVE"): frozenset({"S01"}),
    ("HUB1", 1, "EVE"): frozenset({"S02"}),
    ("HUB1", 2, "EVE"): frozenset({"S03"}),
    ("HUB1", 3, "EVE"): frozenset({"S04"}),
    ("P02", 0, "AM"): frozenset({"S02"}),
}


@pytest.fixture
def url(db_url: str) -> str:
    """The tiny network, imported, with 2026-W48 published."""
    upgrade(db_url)
    network_id, _ = import_bundle(db_url, TINY)
    publish_history(db_url, network_id)
    return db_url


def regulars_for(url: str, week: str) -> dict:
    engine = make_engine(url)
    try:
        with reading(engine) as db:
            network_id = network_id_of(db, None)
            bundle = current_bundle(db, network_id)
            return with_previous_sessions(db, network_id, bundle, week).previous_sessions
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("week", "expected"),
    [("2026-W49", REGULARS), ("2026-W52", REGULARS), ("2026-W53", {}), ("2026-W48", {})],
)
def test_the_last_four_published_weeks_give_the_regulars(
    url: str, week: str, expected: dict
) -> None:
    assert regulars_for(url, week) == expected


def test_a_draft_is_not_history(db_url: str) -> None:
    upgrade(db_url)
    network_id, _ = import_bundle(db_url, TINY)
    engine = make_engine(db_url)
    try:
        with session_scope(engine) as db:
            save_week(db, network_id, HISTORY_WEEK, PUBLISHED)
    finally:
        engine.dispose()
    assert regulars_for(db_url, "2026-W49") == {}


def test_solve_carries_the_regulars(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert solved_bundle(url, "2026-W49", monkeypatch).previous_sessions == REGULARS


def test_a_web_solve_carries_the_regulars(url: str) -> None:
    engine = make_engine(url)
    try:
        with session_scope(engine) as db:
            network_id = network_id_of(db, None)
            job = create_job(db, network_id, "2026-W49", weeks=1, keep_pins=False, actor="test")
        plan = _begin(engine, job.id, threading.Event())
    finally:
        engine.dispose()
    assert plan is not None and plan.bundle.previous_sessions == REGULARS


def test_the_solve_summary_says_how_many_regular_sessions_kept_their_clinician(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--time-limit", "10", "--workers", "2", "--seed", "0"]
    assert main(["solve", "--week", "2026-W49", "--database", url, *args]) == EXIT_OK
    engine = make_engine(url)
    try:
        with reading(engine) as db:
            found = load_rota(db, network_id_of(db, None), "2026-W49", "latest")
    finally:
        engine.dispose()
    assert found is not None
    kept = continuity_of(REGULARS, found[1])  # counted from the saved rota, not the solver
    assert kept.regular > 0
    assert kept.sentence() in capsys.readouterr().out.splitlines()


def test_planning_from_files_says_nothing_about_continuity(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    args = ["--time-limit", "10", "--workers", "2", "--seed", "0"]
    assert main(["plan", str(TINY), "--week", "2026-W49", "--out", str(out), *args]) == EXIT_OK
    assert "regular sessions" not in capsys.readouterr().out
    assert "continuity_pct" not in (out / "summary.json").read_text()


def test_the_limit_and_the_weights_are_stored_and_read_back(db_url: str) -> None:
    upgrade(db_url)
    bundle = make_bundle(
        rules=Rules(max_clinicians_per_role=3), weights=Weights(continuity=5, distinct_clinicians=1)
    )
    engine = make_engine(db_url)
    try:
        with session_scope(engine) as db:
            save_bundle(db, bundle)
        with reading(engine) as db:
            stored = load_bundle(db, bundle.name)
    finally:
        engine.dispose()
    assert stored.rules == bundle.rules and stored.weights == bundle.weights
    assert stored.previous_sessions == {}  # history is never stored


def test_a_web_solve_tells_the_job_page_and_stores_the_figures(url: str) -> None:
    engine = make_engine(url)
    try:
        with reading(engine) as db:
            network_id = network_id_of(db, None)
        done = _run(engine, network_id)
        with reading(engine) as db:
            found = load_rota(db, network_id, "2026-W49", "latest")
    finally:
        engine.dispose()
    assert done.state == "done" and found is not None
    kept = continuity_of(REGULARS, found[1])
    assert (done.message or "").endswith(kept.sentence())
    draft = found[0]
    assert draft.summary["regular_sessions"] == kept.regular
    assert draft.summary["regular_sessions_kept"] == kept.kept
    assert_an_edit_drops_the_figures(url, network_id, found[1][0])


def assert_an_edit_drops_the_figures(url: str, network_id: int, cell: Assignment) -> None:
    """An edited draft is no longer the rota they counted (nor is the objective its own)."""
    engine = make_engine(url)
    try:
        with session_scope(engine) as db:
            edit = Edit("unassign", cell)
            apply_edit(db, network_id, "2026-W49", edit, expected_revision=0, actor="test")
        with reading(engine) as db:
            found = load_rota(db, network_id, "2026-W49", "latest")
    finally:
        engine.dispose()
    assert found is not None and "shortfall" in found[0].summary
    assert not set(SUMMARY_KEYS) & set(found[0].summary)
