"""Open sessions: offering places in a published week, who may book them, booking, and
twenty people booking five places at once (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from scheduler.checks.validator import check_rota
from scheduler.domain import Assignment
from scheduler.storage.db import make_engine, session_scope, upgrade
from scheduler.storage.events import current_bundle
from scheduler.storage.models.app import ChangeNoticeRecord
from scheduler.storage.rotas import find_rota
from scheduler.usecases.editing import load_cells, week_dates
from scheduler.usecases.importing import import_bundle
from scheduler.usecases.open_bookings import book
from scheduler.usecases.open_sessions import (
    BookingRefusedError,
    OpenSessionError,
    expire_due,
    list_places,
    offer_place,
    offer_shortfalls,
    parse_offer,
    places_for,
    refusal,
    who_may_book,
    withdraw,
)
from scheduler.usecases.publishing import publish_week
from tests.bundles import write_bundle
from tests.web_support import publish_planned_week, save_week, seeded_app

WEEK = "2026-W49"
TUESDAY = dt.date(2026, 12, 1)
BEFORE = dt.datetime(2026, 11, 28, 9, tzinfo=dt.UTC)  # the Saturday before the week


@pytest.fixture
def tiny(db_url: str) -> Iterator[tuple[Engine, int]]:
    """The tiny network with WEEK planned and published as version 1."""
    _, network_id = seeded_app(db_url)
    publish_planned_week(db_url, network_id, WEEK)
    engine = make_engine(db_url)
    yield engine, network_id
    engine.dispose()


def published_cells(engine: Engine, network_id: int) -> frozenset[Assignment]:
    with session_scope(engine) as db:
        rota = find_rota(db, network_id, WEEK, "published")
        assert rota is not None
        return load_cells(db, rota.id).assignments


def test_an_offer_that_makes_no_sense_names_the_field(tiny: tuple[Engine, int]) -> None:
    engine, network_id = tiny
    with session_scope(engine) as db:
        bundle = current_bundle(db, network_id)
    good = {"site_id": "P01", "date": "2026-12-01", "session_id": "AM", "role": "GP"}
    for change, field in [
        ({"site_id": "P99"}, "site_id"),
        ({"session_id": "NIGHT"}, "session_id"),
        ({"date": "1 Dec"}, "date"),
        ({"date": "2026-12-05"}, "session_id"),  # a Saturday: AM runs Mon-Fri
        ({"role": "SURGEON"}, "role"),
        ({"skill": "juggling"}, "skill"),
        ({"rate": "-3"}, "rate"),
        ({"note": "x" * 201}, "note"),
    ]:
        with pytest.raises(OpenSessionError) as refused:
            parse_offer(bundle, {**good, **change})
        assert refused.value.field == field, change
    offer = parse_offer(bundle, {**good, "rate": "95.5", "note": "bring a stethoscope"})
    assert (offer.rate, offer.note) == (95.5, "bring a stethoscope")
    with pytest.raises(OpenSessionError, match="not published"), session_scope(engine) as db:
        offer_place(
            db, network_id, parse_offer(bundle, {**good, "date": "2026-12-08"}), "m", BEFORE
        )


def test_each_unmet_minimum_becomes_one_place_once(tiny: tuple[Engine, int]) -> None:
    engine, network_id = tiny
    cells = published_cells(engine, network_id)
    with session_scope(engine) as db:
        bundle = current_bundle(db, network_id)
        short = check_rota(bundle, week_dates(WEEK), cells).shortfall
        made = offer_shortfalls(db, network_id, WEEK, "manager", BEFORE)
        again = offer_shortfalls(db, network_id, WEEK, "manager", BEFORE)
    assert len(made) == short and again == []


@pytest.mark.parametrize("network", ["tiny", "spare"])
def test_who_may_book_is_exactly_whom_the_validator_accepts(
    network: str, request: pytest.FixtureRequest
) -> None:
    engine, network_id = request.getfixturevalue(network)
    cells = published_cells(engine, network_id)
    with session_scope(engine) as db:
        bundle = current_bundle(db, network_id)
        places = [
            offer_place(db, network_id, parse_offer(bundle, fields), "m", BEFORE)
            for fields in (
                {"site_id": "P01", "date": "2026-12-01", "session_id": "AM", "role": "GP"},
                {"site_id": "HUB1", "date": "2026-12-02", "session_id": "EVE"},
                {"site_id": "P02", "date": "2026-12-01", "session_id": "AM", "role": "GP"},
            )
        ]
    dates = week_dates(WEEK)
    checked, allowed_any = 0, False
    for place in places:
        allowed = {p.staff_id for p in who_may_book(bundle, cells, place)}
        allowed_any = allowed_any or bool(allowed)
        for person in bundle.staff:
            cell = (place.date, place.session_id, place.site_id, person.staff_id)
            added = cells | {Assignment(*cell)}
            valid = not check_rota(bundle, dates, added).violations and place.admits(person)
            fresh = added != cells
            assert (person.staff_id in allowed) == (valid and fresh), (place.where, person)
            checked += 1
    assert checked == 3 * len(bundle.staff)
    assert allowed_any or network == "tiny"  # on the free network some may book


def test_a_booking_publishes_the_next_version_and_nobody_books_it_twice(
    spare: tuple[Engine, int],
) -> None:
    engine, network_id = spare
    cells = published_cells(engine, network_id)
    with session_scope(engine) as db:
        bundle = current_bundle(db, network_id)
        fields = {"site_id": "HUB1", "date": "2026-12-02", "session_id": "EVE", "role": "GP"}
        place = offer_place(db, network_id, parse_offer(bundle, fields), "m", BEFORE)
    first, second = who_may_book(bundle, cells, place)[:2]
    with session_scope(engine) as db:
        booked = book(db, network_id, place.id, first, actor="c", moment=BEFORE)
    assert booked.version.version == 2 and booked.place.booked_staff_id == first.staff_id
    assert booked.version.changes and {c.staff_id for c in booked.version.changes} == {
        first.staff_id
    }  # only the booker's calendar changes, and only they get a notice
    with session_scope(engine) as db:
        told = db.scalars(select(ChangeNoticeRecord.staff_id)).all()
    assert told == [first.staff_id]
    after = published_cells(engine, network_id)
    assert after - cells == {
        Assignment(place.date, place.session_id, place.site_id, first.staff_id)
    }
    assert check_rota(bundle, week_dates(WEEK), after).ok
    with pytest.raises(BookingRefusedError, match="booked it first"), session_scope(engine) as db:
        book(db, network_id, place.id, second, actor="c", moment=BEFORE)
    with session_scope(engine) as db:
        assert list_places(db, network_id, WEEK) == []
        assert [p.id for p in list_places(db, network_id, WEEK, ("booked",))] == [place.id]


def test_a_booking_that_would_break_a_rule_says_which_and_changes_nothing(
    spare: tuple[Engine, int],
) -> None:
    engine, network_id = spare
    cells = published_cells(engine, network_id)
    with session_scope(engine) as db:
        bundle = current_bundle(db, network_id)
        fields = {"site_id": "P02", "date": "2026-12-01", "session_id": "AM", "role": "GP"}
        place = offer_place(db, network_id, parse_offer(bundle, fields), "m", BEFORE)
    gp = bundle.person("S01")  # may work at P01 and HUB1 only
    assert "may only work at HUB1, P01" in (refusal(bundle, cells, place, gp) or "")
    with pytest.raises(BookingRefusedError, match="P02"), session_scope(engine) as db:
        book(db, network_id, place.id, gp, actor="c", moment=BEFORE)
    assert published_cells(engine, network_id) == cells
    with session_scope(engine) as db:
        assert [p.id for p in list_places(db, network_id, WEEK)] == [place.id]  # still open


def test_a_booking_goes_into_the_draft_being_worked_on(spare: tuple[Engine, int]) -> None:
    engine, network_id = spare
    cells = published_cells(engine, network_id)
    with session_scope(engine) as db:
        draft_id = save_week(db, network_id, WEEK, sorted(cells))
        bundle = current_bundle(db, network_id)
        fields = {"site_id": "HUB1", "date": "2026-12-02", "session_id": "EVE", "role": "GP"}
        place = offer_place(db, network_id, parse_offer(bundle, fields), "m", BEFORE)
    person = who_may_book(bundle, cells, place)[0]
    with session_scope(engine) as db:
        booked = book(db, network_id, place.id, person, actor="c", moment=BEFORE)
        assert booked.in_draft
        draft = load_cells(db, draft_id).assignments
    assert draft == published_cells(engine, network_id)


def test_withdrawn_and_started_places_close_and_say_so(spare: tuple[Engine, int]) -> None:
    engine, network_id = spare
    with session_scope(engine) as db:
        bundle = current_bundle(db, network_id)
        fields = {"site_id": "HUB1", "date": "2026-12-02", "session_id": "EVE", "role": "GP"}
        gone, late = (
            offer_place(db, network_id, parse_offer(bundle, fields), "m", BEFORE) for _ in "ab"
        )
        withdraw(db, network_id, gone.id, "m", BEFORE)
    start = late.closes_at
    assert start == dt.datetime(2026, 12, 2, 18, 30, tzinfo=dt.UTC)  # 18:30 in winter
    with session_scope(engine) as db:
        assert expire_due(db, network_id, start - dt.timedelta(minutes=1)) == []
        person = bundle.person("S02")
        assert [p.id for p, _ in places_for(db, network_id, person, BEFORE)] == [late.id]
        assert [p.id for p in expire_due(db, network_id, start)] == [late.id]
    with pytest.raises(BookingRefusedError, match="withdrawn"), session_scope(engine) as db:
        book(db, network_id, gone.id, person, actor="c", moment=BEFORE)


# -- twenty people, five places, at once ---------------------------------------------------

STAFF_HEADER = (
    "staff_id,name,role,home_site,employer,contract_hours,min_hours,max_hours,skills,sites,"
    "max_sessions_per_day,max_evenings,max_weekend_sessions,hourly_rate,email"
)


def twenty_gps(tmp_path: Path) -> Path:
    """Twenty GPs who may work at P01 and HUB1; five GPs wanted at P01 on Tuesday mornings,
    one at P02 (where none of them may work), one at the hub on Wednesday evenings."""
    staff = [STAFF_HEADER] + [
        f"S{i:02},GP {i},GP,P01,P01,36,0,36,,P01;HUB1,,1,0,90,gp{i}@example.nhs.uk"
        for i in range(1, 21)
    ]
    demand = (
        "site_id,day,session_id,role,skill,min,target,weight\n"
        "P01,Tue,AM,GP,,5,5,1\n"
        "P02,Tue,AM,GP,,1,1,1\n"  # nobody may work at P02
        "HUB1,Wed,EVE,GP,,1,1,1\n"
    )
    return write_bundle(
        tmp_path,
        staff="\n".join(staff) + "\n",
        demand=demand,
        leave=None,
        preferences=None,
        fixed=None,
    )


def test_twenty_people_booking_five_places_at_once_get_exactly_five(
    spare: tuple[Engine, int],
) -> None:
    engine, network_id = spare
    try:
        with session_scope(engine) as db:
            places = [
                p for p in offer_shortfalls(db, network_id, WEEK, "m", BEFORE) if p.site_id == "P01"
            ]
            bundle = current_bundle(db, network_id)
        assert len(places) == 5
        outcomes: list[str] = []
        start = threading.Barrier(20)

        def try_booking(i: int) -> None:
            start.wait()
            try:
                with session_scope(engine) as db:
                    book(
                        db, network_id, places[i % 5].id, bundle.staff[i], actor="c", moment=BEFORE
                    )
                outcomes.append("booked")
            except BookingRefusedError as err:
                outcomes.append(str(err))

        threads = [threading.Thread(target=try_booking, args=(i,)) for i in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert outcomes.count("booked") == 5, outcomes
        assert all("booked it first" in o for o in outcomes if o != "booked")
        cells = published_cells(engine, network_id)
        assert len(cells) == 5 and check_rota(bundle, week_dates(WEEK), cells).ok
        with session_scope(engine) as db:
            rota = find_rota(db, network_id, WEEK, "published")
            assert rota is not None and rota.version == 6  # one version per booking
    finally:
        pass


def published_empty(db_url: str, folder: Path) -> tuple[Engine, int]:
    """The bundle imported with WEEK published empty (version 1); the engine is the caller's."""
    upgrade(db_url)
    network_id, _ = import_bundle(db_url, folder)
    engine = make_engine(db_url)
    with session_scope(engine) as db:
        save_week(db, network_id, WEEK, [])
        publish_week(db, network_id, WEEK, "m")
    return engine, network_id


@pytest.fixture
def spare(db_url: str, tmp_path: Path) -> Iterator[tuple[Engine, int]]:
    """The twenty GPs with WEEK published empty (version 1): everyone is free."""
    engine, network_id = published_empty(db_url, twenty_gps(tmp_path))
    yield engine, network_id
    engine.dispose()
