"""Publishing a week's draft as numbered versions, and the per-person diff of two rotas."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select

from scheduler.bundle.reader import read_bundle
from scheduler.domain import Assignment
from scheduler.storage.audit import entries
from scheduler.storage.db import make_engine, session_scope, upgrade
from scheduler.storage.models.network import AssignmentRecord, RotaRecord
from scheduler.storage.repository import database_fingerprint
from scheduler.storage.rotas import find_rota, save_rota
from scheduler.usecases.importing import import_bundle
from scheduler.usecases.planning import plan_week
from scheduler.usecases.publishing import (
    DraftChangedError,
    Move,
    NothingToPublishError,
    PersonChange,
    RotaBreaksRulesError,
    diff_rotas,
    list_versions,
    publish_week,
    week_rota_cells,
)
from solver import SolveOptions
from tests.web_support import TINY

WEEK = "2026-W49"
MONDAY = dt.date(2026, 11, 30)
OPTIONS = SolveOptions(time_limit=10, workers=1)
ACTOR = "coordinator@tiny.test"


# -- shared with tests/jobs/ and tests/web_rota/ --------------------------------


@functools.cache
def tiny_optimum() -> tuple[Assignment, ...]:
    """The tiny network's planned rota for WEEK, solved once per test run."""
    bundle, _ = read_bundle(TINY)
    outcome = plan_week(bundle, WEEK, OPTIONS)
    assert outcome.report is not None and outcome.report.ok
    return outcome.assignments


def seed_draft(
    engine: Engine,
    network_id: int,
    cells: tuple[Assignment, ...] | list[Assignment] | None = None,
    pinned: frozenset[Assignment] = frozenset(),
    week: str = WEEK,
) -> int:
    """Store a draft of the week (the tiny optimum unless ``cells`` is given); its id."""
    with session_scope(engine) as session:
        return save_rota(
            session,
            network_id,
            week,
            tiny_optimum() if cells is None else cells,
            status="optimal",
            objective=1.0,
            bound=1.0,
            gap=0.0,
            seconds=0.1,
            summary={"shortfall": 0},
            pinned=pinned,
        )


def cell(staff_id: str, day: int, session_id: str = "AM", site_id: str = "P01") -> Assignment:
    """A cell of WEEK; ``day`` 0 is Monday."""
    return Assignment(MONDAY + dt.timedelta(days=day), session_id, site_id, staff_id)


def tiny_network(db_url: str) -> Iterator[tuple[Engine, int]]:
    """A migrated database holding the tiny network: its engine and the network id."""
    upgrade(db_url)
    network_id, _ = import_bundle(db_url, TINY)
    engine = make_engine(db_url)
    yield engine, network_id
    engine.dispose()


@pytest.fixture
def tiny(db_url: str) -> Iterator[tuple[Engine, int]]:
    yield from tiny_network(db_url)


# -- the diff --------------------------------------------------------------------------------


def test_diff_of_identical_rotas_is_empty() -> None:
    rota = [cell("S1", 0), cell("S2", 1, "PM")]
    assert diff_rotas(rota, list(reversed(rota))) == []


def test_diff_pairs_the_same_session_at_another_site_as_a_move() -> None:
    old = [cell("S1", 0, "AM", "P01"), cell("S1", 1, "AM", "P01")]
    new = [cell("S1", 0, "AM", "P02"), cell("S1", 1, "AM", "P01")]
    assert diff_rotas(old, new) == [
        PersonChange("S1", (Move(cell("S1", 0, "AM", "P01"), cell("S1", 0, "AM", "P02")),), (), ())
    ]


def test_diff_pairs_another_session_the_same_day_as_a_move() -> None:
    old = [cell("S1", 2, "AM", "P01")]
    new = [cell("S1", 2, "EVE", "HUB1")]
    (change,) = diff_rotas(old, new)
    assert change.moved == (Move(old[0], new[0]),)
    assert change.added == change.removed == ()


def test_diff_prefers_the_same_session_when_pairing_moves() -> None:
    old = [cell("S1", 0, "AM", "P01")]
    new = [cell("S1", 0, "PM", "P01"), cell("S1", 0, "AM", "P02")]
    (change,) = diff_rotas(old, new)
    assert change.moved == (Move(old[0], cell("S1", 0, "AM", "P02")),)
    assert change.added == (cell("S1", 0, "PM", "P01"),)


def test_diff_lists_added_and_removed_days_per_person() -> None:
    old = [cell("S1", 0), cell("S2", 3, "PM")]
    new = [cell("S1", 0), cell("S1", 4), cell("S3", 1)]
    assert diff_rotas(old, new) == [
        PersonChange("S1", (), (cell("S1", 4),), ()),
        PersonChange("S2", (), (), (cell("S2", 3, "PM"),)),
        PersonChange("S3", (), (cell("S3", 1),), ()),
    ]


def test_diff_never_pairs_another_person_or_another_day() -> None:
    old = [cell("S1", 0), cell("S2", 1)]
    new = [cell("S2", 0), cell("S1", 1)]
    changes = diff_rotas(old, new)
    assert all(change.moved == () for change in changes)
    assert [(c.staff_id, c.added, c.removed) for c in changes] == [
        ("S1", (cell("S1", 1),), (cell("S1", 0),)),
        ("S2", (cell("S2", 0),), (cell("S2", 1),)),
    ]


# -- publishing ------------------------------------------------------------------------------


def _rota(engine: Engine, rota_id: int) -> RotaRecord:
    with session_scope(engine) as session:
        record = session.get(RotaRecord, rota_id)
        assert record is not None
        return record


def test_publishing_makes_version_one_then_two_superseding_the_first(
    tiny: tuple[Engine, int],
) -> None:
    engine, network_id = tiny
    first_id = seed_draft(engine, network_id)
    with session_scope(engine) as session:
        first = publish_week(session, network_id, WEEK, ACTOR)
    assert (first.rota_id, first.version, first.superseded_rota_id) == (first_id, 1, None)
    second_id = seed_draft(engine, network_id, tiny_optimum()[1:])
    with session_scope(engine) as session:
        second = publish_week(session, network_id, "2026-w49", "manager@tiny.test")
    assert (second.rota_id, second.version, second.superseded_rota_id) == (second_id, 2, first_id)
    old, new = _rota(engine, first_id), _rota(engine, second_id)
    assert (old.state, old.version, old.published_by) == ("superseded", 1, ACTOR)
    assert (new.state, new.version, new.published_by) == ("published", 2, "manager@tiny.test")
    assert new.published_at is not None
    with session_scope(engine) as session:
        listed = list_versions(session, network_id, WEEK)
        logged = [e for e in entries(session, network_id) if e.action == "rota published"]
    assert [(v.version, v.state, v.assignments) for v in listed] == [
        (2, "published", len(tiny_optimum()) - 1),
        (1, "superseded", len(tiny_optimum())),
    ]
    assert [e.after["version"] for e in logged if e.after] == [2, 1]


def test_publishing_without_a_draft_is_refused(tiny: tuple[Engine, int]) -> None:
    engine, network_id = tiny
    with pytest.raises(NothingToPublishError, match="no draft"), session_scope(engine) as session:
        publish_week(session, network_id, WEEK, ACTOR)


def test_publishing_a_draft_changed_since_the_page_was_shown_is_refused(
    tiny: tuple[Engine, int],
) -> None:
    engine, network_id = tiny
    seed_draft(engine, network_id)
    with pytest.raises(DraftChangedError, match="changed"), session_scope(engine) as session:
        publish_week(session, network_id, WEEK, ACTOR, expected_revision=7)
    with session_scope(engine) as session:
        draft = find_rota(session, network_id, WEEK, "draft")
        assert draft is not None and draft.revision == 0


def test_a_draft_broken_behind_the_validators_back_is_never_published(
    tiny: tuple[Engine, int],
) -> None:
    engine, network_id = tiny
    rota_id = seed_draft(engine, network_id)
    with session_scope(engine) as session:  # S04 is on annual leave on Wednesday
        session.add(
            AssignmentRecord(
                rota_id=rota_id,
                staff_id="S04",
                date=MONDAY + dt.timedelta(days=2),
                session_id="AM",
                site_id="P02",
                pinned=False,
            )
        )
    with session_scope(engine) as session:
        before = database_fingerprint(session)
    with (
        pytest.raises(RotaBreaksRulesError, match="On leave") as refused,
        session_scope(engine) as session,
    ):
        publish_week(session, network_id, WEEK, ACTOR)
    assert {v.rule_id for v in refused.value.violations} >= {"leave"}
    with session_scope(engine) as session:
        assert database_fingerprint(session) == before


def test_week_rota_cells_refuses_a_rota_of_another_week(tiny: tuple[Engine, int]) -> None:
    engine, network_id = tiny
    rota_id = seed_draft(engine, network_id)
    with session_scope(engine) as session:
        assert week_rota_cells(session, network_id, WEEK, rota_id) == sorted(tiny_optimum())
        with pytest.raises(LookupError, match="not a rota of 2026-W50"):
            week_rota_cells(session, network_id, "2026-W50", rota_id)
        with pytest.raises(LookupError):
            week_rota_cells(session, network_id + 1, WEEK, rota_id)


def test_published_rotas_keep_their_cells(tiny: tuple[Engine, int]) -> None:
    engine, network_id = tiny
    rota_id = seed_draft(engine, network_id, pinned=frozenset({tiny_optimum()[0]}))
    with session_scope(engine) as session:
        publish_week(session, network_id, WEEK, ACTOR)
    with session_scope(engine) as session:
        rows = session.scalars(
            select(AssignmentRecord).where(AssignmentRecord.rota_id == rota_id)
        ).all()
        assert len(rows) == len(tiny_optimum())
        assert sum(row.pinned for row in rows) == 1
