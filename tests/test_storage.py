"""Storage: migrations match the models, bundles and rotas survive a round trip,
and a failed unit of work leaves the database exactly as it was."""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, delete, func, inspect, select
from sqlalchemy.exc import IntegrityError

from scheduler.domain import (
    Assignment,
    Bundle,
    DayRule,
    DemandRow,
    Fixed,
    Leave,
    LeaveKind,
    Preference,
    PreferenceKind,
    Rules,
    SessionKind,
    SessionType,
    Site,
    SiteKind,
    Staff,
    Travel,
    Weights,
)
from scheduler.storage.db import (
    HEAD,
    alembic_config,
    at_head,
    database_url,
    make_engine,
    normalise_url,
    session_scope,
    upgrade,
)
from scheduler.storage.models.app import SolveJobRecord
from scheduler.storage.models.base import Base
from scheduler.storage.models.network import NetworkRecord, RotaRecord, StaffRecord
from scheduler.storage.repository import (
    NetworkLookupError,
    database_fingerprint,
    list_networks,
    load_bundle,
    network_id_of,
    save_bundle,
)
from scheduler.storage.rotas import list_rotas, load_rota, save_rota

EXAMPLE = Path("/work/shared/examples/tiny-network")
WEEK = "2026-W49"
MONDAY = dt.date(2026, 11, 30)


# --- factories -----------------------------------------------------------------


SESSION_TYPES = (
    SessionType(
        "AM",
        "Morning",
        dt.time(8),
        dt.time(12, 30),
        frozenset(range(5)),
        SessionKind.CORE,
        row=2,
    ),
    SessionType(
        "OOH",
        "Overnight",
        dt.time(22),
        dt.time(8),
        frozenset({5, 6}),
        SessionKind.EXTENDED,
        row=3,
    ),
)


STAFF = (
    Staff(
        "S1",
        "Grace Rees",
        "GP",
        "P01",
        "P01",
        36.0,
        4.5,
        36.0,
        skills=frozenset({"coils", "imms"}),
        sites=frozenset({"P01", "HUB"}),
        max_sessions_per_day=1,
        max_evenings=2,
        max_weekend_sessions=1,
        hourly_rate=85.5,
        email="s1@example.nhs.uk",
        row=2,
    ),
    Staff("S2", "Ben Brown", "PHARM", "P01", "FED", 37.5, 0.0, 37.5, row=3),
    Staff("S3", "Nia Walsh", "PN", "P01", "P01", 30.0, 0.0, 30.0, sites=frozenset(), row=5),
)


DEMAND = (
    DemandRow("P01", DayRule(weekdays=frozenset({0, 1})), "AM", "GP", None, 1, 2, row=2),
    DemandRow(
        "P01",
        DayRule(date=dt.date(2026, 12, 1)),
        "AM",
        None,
        "coils",
        0,
        1,
        weight=2.5,
        row=4,
    ),
    DemandRow("HUB", DayRule(weekdays=frozenset({5})), "OOH", None, None, 1, 1, row=3),
)


PREFERENCES = (
    Preference(
        "S1",
        DayRule(weekdays=frozenset({4})),
        None,
        None,
        PreferenceKind.UNAVAILABLE,
        row=2,
    ),
    Preference(
        "S2",
        DayRule(date=dt.date(2026, 12, 2)),
        "AM",
        "HUB",
        PreferenceKind.PREFER,
        weight=3.0,
        row=3,
    ),
)


def make_bundle(name: str = "Riverside PCN", **overrides: Any) -> Bundle:
    """A small bundle using every kind of record and every optional shape."""
    bundle = Bundle(
        name=name,
        timezone="Europe/London",
        rules=Rules(min_rest_hours=12.0, max_week_hours=45.5, max_sessions_per_day=3),
        weights=Weights(cost=0.02, preference=9.5),
        sites=(
            Site("P01", "Price Road", SiteKind.PRACTICE, 8864, 6, 52.03725, 1.0118, row=2),
            Site("HUB", "Hub", SiteKind.HUB, 0, 0, row=3),
        ),
        session_types=SESSION_TYPES,
        staff=STAFF,
        demand=DEMAND,
        leave=(
            Leave("S1", MONDAY, MONDAY + dt.timedelta(days=2), LeaveKind.ANNUAL, row=2),
            Leave("S3", MONDAY, MONDAY, LeaveKind.STUDY, session_id="AM", row=3),
        ),
        preferences=PREFERENCES,
        fixed=(Fixed("S2", dt.date(2026, 12, 3), "AM", "P01", row=2),),
        travel=(Travel("P01", "HUB", 15, row=2), Travel("HUB", "P01", 20, row=3)),
        enhanced_access={"minutes_per_1000_per_week": 60.0},
        bank_holidays_closed=False,
        file_labels={"staff.csv": "net.xlsx[staff]", "sites.csv": "net.xlsx[sites]"},
    )
    return dataclasses.replace(bundle, **overrides)


def make_assignments(count: int = 3) -> list[Assignment]:
    """``count`` assignments of one person on consecutive days."""
    return [Assignment(MONDAY + dt.timedelta(days=i), "AM", "P01", "S1") for i in range(count)]


def store_rota(
    engine: Engine, network_id: int, assignments: list[Assignment], **overrides: Any
) -> int:
    """Save a rota with plausible solve figures; tests override what matters."""
    values: dict[str, Any] = {
        "status": "OPTIMAL",
        "objective": 12.5,
        "bound": 12.5,
        "gap": 0.0,
        "seconds": 0.7,
        "summary": {"shortfall": 0, "notes": ["fine"]},
    }
    values.update(overrides)
    with session_scope(engine) as session:
        return save_rota(session, network_id, WEEK, assignments, **values)


def store_bundle(engine: Engine, bundle: Bundle | None = None) -> int:
    """Save ``bundle`` (default: make_bundle()) in its own transaction."""
    with session_scope(engine) as session:
        return save_bundle(session, bundle or make_bundle())


def fingerprint(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """The whole database's content."""
    with session_scope(engine) as session:
        return database_fingerprint(session)


# --- migrations ----------------------------------------------------------------


def test_upgrade_creates_every_table(empty_db_url: str) -> None:
    """The migrations from an empty database, on each back end (every other test starts
    from a copy of a database migrated once)."""
    upgrade(empty_db_url)
    engine = make_engine(empty_db_url)
    try:
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert tables == set(Base.metadata.tables) | {"alembic_version"}


def test_head_is_the_newest_migration_and_an_upgraded_database_is_at_it(
    empty_db_url: str,
) -> None:
    script = ScriptDirectory.from_config(alembic_config())
    assert script.get_heads() == [HEAD]  # a new migration must move HEAD, or it never runs
    engine = make_engine(empty_db_url)
    try:
        with engine.connect() as connection:
            assert not at_head(connection)  # an empty database is migrated
        upgrade(empty_db_url)
        with engine.connect() as connection:
            assert at_head(connection)
    finally:
        engine.dispose()


def test_migrations_match_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_upgrade_twice_changes_nothing(db_url: str, engine: Engine) -> None:
    store_bundle(engine)
    before = fingerprint(engine)
    upgrade(db_url)
    assert fingerprint(engine) == before


def test_processes_starting_together_on_postgresql_migrate_one_after_another(
    empty_db_url: str,
) -> None:
    if not empty_db_url.startswith("postgresql"):
        pytest.skip("SQLite serialises writers itself; the advisory lock is PostgreSQL's")
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: upgrade(empty_db_url), range(4)))
    assert results == [None] * 4
    migrated = make_engine(empty_db_url)
    try:
        assert set(inspect(migrated).get_table_names()) == set(Base.metadata.tables) | {
            "alembic_version"
        }
    finally:
        migrated.dispose()


def test_an_active_solve_per_week_is_all_the_database_allows(engine: Engine) -> None:
    network_id = store_bundle(engine)

    def job(state: str, week: str = "2026-W49") -> SolveJobRecord:
        return SolveJobRecord(
            network_id=network_id,
            week=week,
            weeks=1,
            keep_pins=False,
            state=state,
            requested_by="t",
            created_at=dt.datetime(2026, 11, 26, tzinfo=dt.UTC),
            solutions=0,
            cancel_requested=False,
            if_free=False,
            attempts=0,
        )

    with session_scope(engine) as session:  # finished ones and other weeks are not limited
        session.add_all([job("done"), job("failed"), job("queued"), job("running", "2026-W50")])
    with pytest.raises(IntegrityError), session_scope(engine) as session:
        session.add(job("running"))


# --- bundles -------------------------------------------------------------------


def test_bundle_round_trip_is_equal(engine: Engine) -> None:
    bundle = make_bundle()
    store_bundle(engine, bundle)
    with session_scope(engine) as session:
        assert load_bundle(session) == bundle


def test_round_trip_keeps_any_site_apart_from_no_site(engine: Engine) -> None:
    store_bundle(engine)
    with session_scope(engine) as session:
        staff = {person.staff_id: person for person in load_bundle(session).staff}
    assert staff["S2"].sites is None
    assert staff["S3"].sites == frozenset()


def test_reimport_replaces_records_but_keeps_id_and_rotas(engine: Engine) -> None:
    first = store_bundle(engine)
    store_rota(engine, first, make_assignments())
    smaller = make_bundle(staff=make_bundle().staff[:1], timezone="Europe/Dublin")
    second = store_bundle(engine, smaller)
    with session_scope(engine) as session:
        assert load_bundle(session) == smaller
        assert session.scalar(select(func.count()).select_from(StaffRecord)) == 1
        assert load_rota(session, first, WEEK) is not None
    assert second == first


def test_networks_are_kept_apart_by_name(engine: Engine) -> None:
    store_bundle(engine, make_bundle("North"))
    store_bundle(engine, make_bundle("South", timezone="Europe/Dublin"))
    with session_scope(engine) as session:
        assert [info.name for info in list_networks(session)] == ["North", "South"]
        assert load_bundle(session, "South").timezone == "Europe/Dublin"
        assert load_bundle(session, "North") == make_bundle("North")
        assert network_id_of(session, "North") == list_networks(session)[0].id


def test_load_bundle_without_a_name_needs_exactly_one_network(engine: Engine) -> None:
    with session_scope(engine) as session, pytest.raises(NetworkLookupError, match="no network"):
        load_bundle(session)
    store_bundle(engine, make_bundle("North"))
    store_bundle(engine, make_bundle("South"))
    with session_scope(engine) as session, pytest.raises(NetworkLookupError, match="'North'"):
        load_bundle(session)


def test_load_bundle_names_the_known_networks_when_the_name_is_wrong(engine: Engine) -> None:
    store_bundle(engine, make_bundle("North"))
    with session_scope(engine) as session, pytest.raises(NetworkLookupError, match="North"):
        load_bundle(session, "Nowhere")


def test_deleting_a_network_deletes_what_it_owns(engine: Engine) -> None:
    network_id = store_bundle(engine)
    store_rota(engine, network_id, make_assignments())
    with session_scope(engine) as session:
        session.execute(delete(NetworkRecord))
    assert all(
        rows == [] for name, rows in fingerprint(engine).items() if name != "alembic_version"
    )


# --- rotas ---------------------------------------------------------------------


def test_rota_round_trip(engine: Engine) -> None:
    network_id = store_bundle(engine)
    assignments = make_assignments()
    store_rota(engine, network_id, assignments[::-1], pinned={assignments[1]})
    with session_scope(engine) as session:
        loaded = load_rota(session, network_id, "2026-w49")
    assert loaded is not None
    info, stored = loaded
    assert stored == assignments
    assert info.pinned == frozenset({assignments[1]})
    assert (info.week, info.state, info.status) == (WEEK, "draft", "OPTIMAL")
    assert (info.objective, info.bound, info.gap, info.seconds) == (12.5, 12.5, 0.0, 0.7)
    assert info.summary == {"shortfall": 0, "notes": ["fine"]}
    assert info.created_at.tzinfo is not None


def test_a_second_draft_replaces_the_first(engine: Engine) -> None:
    network_id = store_bundle(engine)
    store_rota(engine, network_id, make_assignments(3))
    second = store_rota(engine, network_id, make_assignments(1), status="FEASIBLE")
    with session_scope(engine) as session:
        loaded = load_rota(session, network_id, WEEK)
        assert [rota.id for rota in list_rotas(session, network_id)] == [second]
    assert loaded is not None
    assert (loaded[0].id, loaded[0].status, len(loaded[1])) == (second, "FEASIBLE", 1)


def test_database_refuses_two_drafts_of_one_week(engine: Engine) -> None:
    network_id = store_bundle(engine)
    store_rota(engine, network_id, [])
    with pytest.raises(IntegrityError), session_scope(engine) as session:
        session.add(
            RotaRecord(
                network_id=network_id,
                week=WEEK,
                state="draft",
                created_at=dt.datetime.now(dt.UTC),
                status="x",
                summary={},
            )
        )
        session.flush()


def test_publishing_supersedes_the_previous_publication(engine: Engine) -> None:
    network_id = store_bundle(engine)
    first = store_rota(engine, network_id, make_assignments(2), state="published")
    draft = store_rota(engine, network_id, make_assignments(1))
    second = store_rota(engine, network_id, make_assignments(3), state="published")
    with session_scope(engine) as session:
        states = {rota.id: rota.state for rota in list_rotas(session, network_id)}
        latest = load_rota(session, network_id, WEEK, state="latest")
    assert states == {first: "superseded", draft: "draft", second: "published"}
    assert latest is not None
    assert latest[0].id == second


def test_load_rota_of_an_unplanned_week_is_none(engine: Engine) -> None:
    network_id = store_bundle(engine)
    store_rota(engine, network_id, make_assignments())
    with session_scope(engine) as session:
        assert load_rota(session, network_id, "2026-W50") is None
        assert load_rota(session, network_id, WEEK, state="published") is None


def test_save_rota_rejects_an_unknown_state(engine: Engine) -> None:
    network_id = store_bundle(engine)
    with pytest.raises(ValueError, match="draft, published, superseded"):
        store_rota(engine, network_id, [], state="final")


# --- transactions --------------------------------------------------------------


def test_exception_inside_session_scope_rolls_back(engine: Engine) -> None:
    store_bundle(engine)
    before = fingerprint(engine)
    with pytest.raises(RuntimeError, match="crash"), session_scope(engine) as session:
        save_bundle(session, make_bundle(staff=()))
        save_bundle(session, make_bundle("Another network"))
        raise RuntimeError("crash mid-operation")
    assert fingerprint(engine) == before


def test_fingerprint_sees_a_changed_cell(engine: Engine) -> None:
    store_bundle(engine)
    before = fingerprint(engine)
    store_bundle(engine, make_bundle(travel=(Travel("P01", "HUB", 16, row=2),)))
    assert fingerprint(engine) != before


# --- importing through the use case ----------------------------------------------


def copy_example(tmp_path: Path) -> Path:
    """A private copy of the tiny example bundle that a test may break."""
    folder = tmp_path / "tiny-network"
    shutil.copytree(EXAMPLE, folder)
    for path in folder.iterdir():
        path.chmod(0o644)  # the shared example may be read-only
    return folder


def test_failed_import_leaves_the_database_unchanged(db_url: str, tmp_path: Path) -> None:
    from scheduler.bundle import reader as importer
    from scheduler.usecases.importing import import_bundle

    good = copy_example(tmp_path)
    import_bundle(db_url, good)
    broken = tmp_path / "broken"
    shutil.copytree(good, broken)
    staff = broken / "staff.csv"
    text = staff.read_text().replace("S0001,Grace Rees,GP,P01", "S0001,Grace Rees,GP,P99")
    staff.write_text(text)
    engine = make_engine(db_url)
    try:
        before = fingerprint(engine)
        with pytest.raises(importer.BundleError) as error:
            import_bundle(db_url, broken)
        assert any("P99" in str(problem) for problem in error.value.problems)
        assert fingerprint(engine) == before
    finally:
        engine.dispose()


def test_import_then_load_gives_the_imported_bundle(db_url: str, tmp_path: Path) -> None:
    from scheduler.bundle import reader as importer
    from scheduler.usecases.importing import import_bundle

    bundle, _ = importer.read_bundle(EXAMPLE)
    network_id, _ = import_bundle(db_url, EXAMPLE)
    assert import_bundle(db_url, EXAMPLE)[0] == network_id  # a re-import keeps the id
    engine = make_engine(db_url)
    try:
        with session_scope(engine) as session:
            assert load_bundle(session) == bundle
            assert [info.id for info in list_networks(session)] == [network_id]
    finally:
        engine.dispose()


def broken_bundle_cases() -> list[Any]:
    """Every broken bundle the importer's tests define, or one skipped case until they exist."""
    try:
        module = importlib.import_module("tests.test_import_errors")
    except ModuleNotFoundError as error:
        if error.name != "tests.test_import_errors":
            raise
        reason = "tests/test_import_errors.py (BROKEN_BUNDLES) does not exist yet"
        return [pytest.param(None, marks=pytest.mark.skip(reason=reason), id="missing")]
    return [pytest.param(case, id=case.name) for case in module.BROKEN_BUNDLES]


@pytest.mark.parametrize("case", broken_bundle_cases())
def test_broken_bundle_after_a_good_import_changes_nothing(
    case: Any, db_url: str, tmp_path: Path
) -> None:
    from scheduler.bundle import reader as importer
    from scheduler.usecases.importing import import_bundle
    from tests.bundles import write_bundle  # the base bundle the cases were written against

    import_bundle(db_url, write_bundle(tmp_path, "good"))
    broken = write_bundle(tmp_path, "broken")
    case.apply(broken)
    engine = make_engine(db_url)
    try:
        before = fingerprint(engine)
        with pytest.raises(importer.BundleError) as error:
            import_bundle(db_url, broken)
        assert any(str(p).startswith(f"{case.expected}: ") for p in error.value.problems)
        assert fingerprint(engine) == before
    finally:
        engine.dispose()


# --- configuration -------------------------------------------------------------


def test_database_url_prefers_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://db.example/rota")
    assert database_url() == "postgresql://db.example/rota"


def test_database_url_defaults_to_the_instance_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("ROTAPOOL_INSTANCE", str(tmp_path / "state"))
    assert database_url() == f"sqlite:///{tmp_path / 'state' / 'rotapool.sqlite'}"
    assert (tmp_path / "state").is_dir()


@pytest.mark.parametrize("url", ["postgres://u:p@h/db", "postgresql://u:p@h/db"])
def test_postgresql_urls_use_psycopg(url: str) -> None:
    assert normalise_url(url).drivername == "postgresql+psycopg"
    assert normalise_url(url).password == "p"
