"""Bank staff (staff.csv's optional ``bank`` column): read, stored, and booking open sessions
with no contracted week."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from scheduler.bundle.cells import BundleError
from scheduler.bundle.reader import read_bundle
from scheduler.storage.db import make_engine, session_scope, upgrade
from scheduler.storage.events import current_bundle
from scheduler.usecases.importing import import_bundle
from scheduler.usecases.open_bookings import book
from scheduler.usecases.open_sessions import offer_place, parse_offer, who_may_book
from scheduler.usecases.publishing import publish_week
from tests.bundles import add_column, append_row, set_cell, write_bundle
from tests.web_support import save_week

WEEK = "2026-W49"
BEFORE = dt.datetime(2026, 11, 28, 9, tzinfo=dt.UTC)
BANK_GP = "S99,Bea Bank,GP,P01,FED,0,0,,,P01;HUB1,,2,0,80,bea@example.nhs.uk,yes"


def with_bank_gp(tmp_path: Path) -> Path:
    """The example network without its pinned sessions, a ``bank`` column (blank: no), and a
    bank GP with 0 hours."""
    folder = write_bundle(tmp_path, fixed=None)
    add_column(folder, "staff", "bank")
    append_row(folder, "staff", BANK_GP)
    return folder


def test_a_bank_gp_has_no_contract_and_may_work_the_networks_maximum(tmp_path: Path) -> None:
    bundle, _ = read_bundle(with_bank_gp(tmp_path))
    bea = bundle.person("S99")
    assert (bea.bank, bea.contract_hours, bea.max_hours) == (True, 0.0, 48.0)
    assert not any(p.bank for p in bundle.staff if p.staff_id != "S99")
    assert all(p.max_hours == p.contract_hours for p in bundle.staff if p.staff_id != "S99")


def test_a_bank_value_that_is_not_yes_or_no_names_its_cell(tmp_path: Path) -> None:
    folder = with_bank_gp(tmp_path)
    set_cell(folder, "staff", 2, "bank", "sometimes")
    with pytest.raises(BundleError) as refused:
        read_bundle(folder)
    assert [str(p) for p in refused.value.problems] == [
        "staff.csv:2: bank: 'sometimes' is not yes or no; write yes or no"
    ]


def test_a_bank_gp_is_stored_and_books_an_open_session(db_url: str, tmp_path: Path) -> None:
    upgrade(db_url)
    network_id, _ = import_bundle(db_url, with_bank_gp(tmp_path))
    engine = make_engine(db_url)
    try:
        with session_scope(engine) as db:
            save_week(db, network_id, WEEK, [])
            publish_week(db, network_id, WEEK, "m")
            bundle = current_bundle(db, network_id)
            fields = {"site_id": "HUB1", "date": "2026-12-02", "session_id": "EVE", "role": "GP"}
            place = offer_place(db, network_id, parse_offer(bundle, fields), "m", BEFORE)
        bea = bundle.person("S99")
        assert bea.bank and bea in who_may_book(bundle, frozenset(), place)
        with session_scope(engine) as db:
            booked = book(db, network_id, place.id, bea, actor="bea", moment=BEFORE)
        assert booked.place.booked_staff_id == "S99" and booked.version.version == 2
    finally:
        engine.dispose()
