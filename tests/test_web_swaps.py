"""Swaps over HTTP: a GP offers a session to a colleague, who accepts it giving one back, a
coordinator approves it; refusals say why; and the whole flow on a phone, in chromium."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect

from scheduler.domain import Assignment, iso_week_label
from scheduler.storage.db import make_engine, session_scope
from scheduler.storage.rotas import find_rota
from scheduler.usecases.editing import load_cells
from scheduler.usecases.publishing import publish_week
from tests.browser_support import LiveServer, axe_violations, screenshot_path
from tests.web_support import ACCOUNTS, PASSWORD, client_as, csrf_token, save_week, seeded_app

AHEAD = dt.date.today() + dt.timedelta(days=14)  # a week whose sessions have not started
WEEK = iso_week_label(AHEAD)
WEDNESDAY = dt.date.fromisocalendar(*AHEAD.isocalendar()[:2], 3)
THURSDAY = WEDNESDAY + dt.timedelta(days=1)
GRACE = Assignment(WEDNESDAY, "AM", "P01", "S01")  # Grace Rees, the clinician account
IMRAN = Assignment(THURSDAY, "AM", "P01", "S02")  # Imran Shah, the other clinician


def key(cell: Assignment) -> str:
    return f"{cell.date.isoformat()}|{cell.session_id}|{cell.site_id}"


@pytest.fixture
def network(db_url: str) -> Iterator[tuple[Flask, int]]:
    """The tiny network with WEEK published: Grace on Wednesday, Imran on Thursday morning."""
    app, network_id = seeded_app(db_url)
    engine = make_engine(db_url)
    with session_scope(engine) as db:
        save_week(db, network_id, WEEK, [GRACE, IMRAN])
        publish_week(db, network_id, WEEK, "m")
    engine.dispose()
    yield app, network_id


def published(db_url: str, network_id: int) -> tuple[int | None, frozenset[Assignment]]:
    engine = make_engine(db_url)
    try:
        with session_scope(engine) as db:
            rota = find_rota(db, network_id, WEEK, "published")
            assert rota is not None
            return rota.version, load_cells(db, rota.id).assignments
    finally:
        engine.dispose()


def test_a_swap_offered_accepted_and_approved_over_http(
    network: tuple[Flask, int], db_url: str
) -> None:
    app, network_id = network
    grace = client_as(app, "clinician")
    page = grace.get(f"/n/{network_id}/people/S01").get_data(as_text=True)
    assert "Swap or give away" in page and "Swaps and give-aways" in page
    mine = f"/n/{network_id}/people/S01/swaps"
    form = {"cell": key(GRACE), "kind": "swap", "to_staff_id": "S02"}
    bad = grace.post(
        f"{mine}/offer", data={**form, "kind": "lend", "csrf_token": csrf_token(grace)}
    )
    assert bad.status_code == 400 and "kind: choose swap or give away" in bad.get_data(as_text=True)
    assert (
        grace.post(f"{mine}/offer", data={**form, "csrf_token": csrf_token(grace)}).status_code
        == 302
    )
    assert "offered to Imran Shah" in grace.get(mine).get_data(as_text=True)
    assert (
        grace.post(
            f"/n/{network_id}/people/S02/swaps/1/accept", data={"csrf_token": csrf_token(grace)}
        ).status_code
        == 403
    )  # not for someone else
    imran = client_as(app, "other_clinician")
    theirs = f"/n/{network_id}/people/S02/swaps"
    assert "Accept the swap" in imran.get(theirs).get_data(as_text=True)
    accepted = imran.post(
        f"{theirs}/1/accept", data={"back": key(IMRAN), "csrf_token": csrf_token(imran)}
    )
    assert accepted.status_code == 302
    assert "A coordinator approves it" in imran.get(theirs).get_data(as_text=True)
    coordinator = client_as(app, "coordinator")
    home = coordinator.get("/").get_data(as_text=True)
    assert f"Swaps of {WEEK}" in home and "1 swap to approve" in home
    decided = coordinator.post(
        f"/n/{network_id}/swaps/1/approve", data={"csrf_token": csrf_token(coordinator)}
    )
    assert decided.status_code == 302
    assert "Approved" in coordinator.get(f"/n/{network_id}/swaps").get_data(as_text=True)
    version, cells = published(db_url, network_id)
    assert version == 2
    assert cells == {
        Assignment(WEDNESDAY, "AM", "P01", "S02"),
        Assignment(THURSDAY, "AM", "P01", "S01"),
    }
    assert "done: Imran Shah works it" in grace.get(mine).get_data(as_text=True)


def test_a_refusal_says_which_rule(network: tuple[Flask, int]) -> None:
    app, network_id = network
    imran = client_as(app, "other_clinician")
    mine = f"/n/{network_id}/people/S02/swaps"
    form = {"cell": key(IMRAN), "kind": "give", "to_staff_id": "S01"}
    imran.post(f"{mine}/offer", data={**form, "csrf_token": csrf_token(imran)})
    again = imran.post(f"{mine}/offer", data={**form, "csrf_token": csrf_token(imran)})
    assert again.status_code == 400 and "already on offer" in again.get_data(as_text=True)
    grace = client_as(app, "clinician")
    # Grace is not a coordinator: the approval page is not hers.
    assert grace.get(f"/n/{network_id}/swaps").status_code == 403
    withdrawn = imran.post(f"{mine}/1/withdraw", data={"csrf_token": csrf_token(imran)})
    assert withdrawn.status_code == 302
    taken = grace.post(
        f"/n/{network_id}/people/S01/swaps/1/accept", data={"csrf_token": csrf_token(grace)}
    )
    assert taken.status_code == 302
    assert "Sorry: not taken: it was withdrawn" in grace.get(
        f"/n/{network_id}/people/S01/swaps"
    ).get_data(as_text=True)


def log_in(page: Page, url: str, email: str) -> None:
    page.goto(f"{url}/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


@pytest.mark.pages_only
def test_two_gps_swap_on_their_phones(network: tuple[Flask, int], browser: Browser) -> None:
    app, _ = network
    phone = {"viewport": {"width": 390, "height": 844}, "bypass_csp": True}
    with LiveServer(app) as server:
        context = browser.new_context(**phone)  # type: ignore[arg-type]
        page = context.new_page()
        log_in(page, server.url, ACCOUNTS.clinician)
        page.get_by_role("link", name="Swap or give away").first.click()
        page.get_by_label("Swap it for one of their sessions that week").check()
        page.get_by_label("Offer it to").select_option(label="Imran Shah")
        page.screenshot(path=screenshot_path("swap-offer-phone"), full_page=True)
        assert axe_violations(page) == []
        page.get_by_role("button", name="Offer it").click()
        expect(page.get_by_text("offered to Imran Shah")).to_be_visible()
        context.close()

        context = browser.new_context(**phone)  # type: ignore[arg-type]
        page = context.new_page()
        log_in(page, server.url, ACCOUNTS.other_clinician)
        page.get_by_role("link", name="Swaps and give-aways").click()
        expect(page.get_by_label("Give back in return")).to_be_visible()
        page.screenshot(path=screenshot_path("swap-take-phone"), full_page=True)
        assert axe_violations(page) == []
        page.get_by_role("button", name="Accept the swap").click()
        expect(page.get_by_role("status").or_(page.get_by_role("alert")).first).to_contain_text(
            "Accepted"
        )
        context.close()

        context = browser.new_context(**phone)  # type: ignore[arg-type]
        page = context.new_page()
        log_in(page, server.url, ACCOUNTS.coordinator)
        page.get_by_role("link", name=f"Swaps of {WEEK}").click()
        page.screenshot(path=screenshot_path("swap-approve-phone"), full_page=True)
        assert axe_violations(page) == []
        page.get_by_role("button", name="Approve").click()
        expect(page.get_by_text("Approved")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        context.close()

        for who in (ACCOUNTS.clinician, ACCOUNTS.other_clinician):
            context = browser.new_context(**phone)  # type: ignore[arg-type]
            page = context.new_page()
            log_in(page, server.url, who)
            page.get_by_role("link", name="Swaps and give-aways").click()
            expect(page.get_by_text("done: Imran Shah works it")).to_be_visible()
            page.screenshot(path=screenshot_path(f"swap-done-{who[:5]}"), full_page=True)
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
            context.close()
