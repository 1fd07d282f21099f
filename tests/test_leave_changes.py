"""A clinician withdraws a leave request not yet decided, or asks to cancel approved leave,
which a manager decides (declining it cancels it)."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask

from scheduler.storage.db import make_engine, session_scope
from scheduler.storage.repository import approved_leave
from scheduler.usecases.requests import (
    RequestError,
    RequestNotFoundError,
    ask_to_cancel_leave,
    decide_leave,
    leave_requests,
    request_leave,
    withdraw_leave,
)
from scheduler.views.home import inbox
from tests.web_support import CLINICIAN_STAFF, client_as, csrf_token, seeded_app

DAY = {"start": "2026-12-09", "end": "2026-12-10", "kind": "annual"}
NOW = dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC)


@pytest.fixture
def network(db_url: str) -> tuple[Flask, int, str]:
    app, network_id = seeded_app(db_url)
    return app, network_id, db_url


def test_a_request_is_withdrawn_once_and_only_by_its_person(
    network: tuple[Flask, int, str],
) -> None:
    _, network_id, db_url = network
    engine = make_engine(db_url)
    try:
        with session_scope(engine) as db:
            made = request_leave(db, network_id, CLINICIAN_STAFF, DAY, "grace")
            with pytest.raises(RequestNotFoundError):
                withdraw_leave(db, network_id, "S02", made.id, "imran")  # not his
            gone = withdraw_leave(db, network_id, CLINICIAN_STAFF, made.id, "grace")
            assert gone.state == "withdrawn"
            with pytest.raises(RequestError, match="can no longer be withdrawn"):
                withdraw_leave(db, network_id, CLINICIAN_STAFF, made.id, "grace")
            assert inbox(db, network_id, NOW).leave == 0  # nothing left to decide
    finally:
        engine.dispose()


def test_approved_leave_is_cancelled_when_a_manager_declines_the_ask(
    network: tuple[Flask, int, str],
) -> None:
    _, network_id, db_url = network
    engine = make_engine(db_url)
    try:
        with session_scope(engine) as db:
            made = request_leave(db, network_id, CLINICIAN_STAFF, DAY, "grace")
            decide_leave(db, network_id, made.id, "approve", "manager")
            assert len(approved_leave(db, network_id)) == 1
            with pytest.raises(RequestError, match="ask to cancel it instead"):
                withdraw_leave(db, network_id, CLINICIAN_STAFF, made.id, "grace")
            asked = ask_to_cancel_leave(db, network_id, CLINICIAN_STAFF, made.id, "grace")
            assert asked.cancel_asked and asked.state == "approved"
            assert inbox(db, network_id, NOW).leave == 1  # waits for a manager
            with pytest.raises(RequestError, match="already asked"):
                ask_to_cancel_leave(db, network_id, CLINICIAN_STAFF, made.id, "grace")
            decided = decide_leave(db, network_id, made.id, "decline", "manager")
            assert decided.state == "declined" and not decided.cancel_asked
            assert approved_leave(db, network_id) == ()
            assert inbox(db, network_id, NOW).leave == 0
    finally:
        engine.dispose()


def test_the_person_page_withdraws_and_asks_to_cancel(network: tuple[Flask, int, str]) -> None:
    app, network_id, db_url = network
    engine = make_engine(db_url)
    with session_scope(engine) as db:
        pending = request_leave(db, network_id, CLINICIAN_STAFF, DAY, "grace")
        approved = request_leave(
            db,
            network_id,
            CLINICIAN_STAFF,
            {**DAY, "start": "2026-12-14", "end": "2026-12-14"},
            "grace",
        )
        decide_leave(db, network_id, approved.id, "approve", "manager")
    engine.dispose()
    grace = client_as(app, "clinician")
    page = f"/n/{network_id}/people/{CLINICIAN_STAFF}"
    text = grace.get(page).get_data(as_text=True)
    assert "Withdraw" in text and "Ask to cancel" in text
    token = {"csrf_token": csrf_token(grace)}
    grace.post(f"{page}/leave/{pending.id}/withdraw", data=token)
    grace.post(f"{page}/leave/{approved.id}/cancel", data=token)
    text = grace.get(page).get_data(as_text=True)
    assert f"Leave request {approved.id}: a manager is asked to cancel it." in text
    assert "cancellation asked" in text
    other = grace.post(f"/n/{network_id}/people/S02/leave/{pending.id}/withdraw", data=token)
    assert other.status_code == 403
    manager = client_as(app, "manager").get(f"/n/{network_id}/leave").get_data(as_text=True)
    assert "asks to cancel" in manager
    engine = make_engine(db_url)
    with session_scope(engine) as db:
        states = {r.id: r.state for r in leave_requests(db, network_id, CLINICIAN_STAFF)}
    engine.dispose()
    assert states == {pending.id: "withdrawn", approved.id: "approved"}
