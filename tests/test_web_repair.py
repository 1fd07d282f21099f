"""The coordinator's page: absences, demand changes, and the repair of a published week."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.domain import Assignment, parse_iso_week
from scheduler.storage.db import make_engine, session_scope
from scheduler.storage.events import current_bundle
from scheduler.storage.models.app import AuditRecord, DemandChangeRecord
from scheduler.storage.rotas import find_rota
from scheduler.usecases import repair as repair_usecase
from scheduler.usecases.editing import Edit, apply_edit, editable_rota, load_cells
from scheduler.usecases.publishing import publish_week
from scheduler.usecases.repair import changes_between
from scheduler.usecases.requests import request_cover
from tests.web_support import (
    ACCOUNTS,
    PRACTICE_SITE,
    client_as,
    post,
    publish_planned_week,
    save_week,
    seeded_app,
)

WEEK = "2026-W49"
MONDAY, TUESDAY, WEDNESDAY = parse_iso_week(WEEK)[:3]


@dataclass(frozen=True)
class Published:
    app: Flask
    db_url: str
    network_id: int
    rota: frozenset[Assignment]

    @property
    def page(self) -> str:
        return f"/n/{self.network_id}/weeks/{WEEK}/repair"

    def rota_of(self, state: str) -> frozenset[Assignment]:
        engine = make_engine(self.db_url)
        try:
            with session_scope(engine) as db:
                rota = find_rota(db, self.network_id, WEEK, state)
                assert rota is not None
                return load_cells(db, rota.id).assignments
        finally:
            engine.dispose()


@pytest.fixture
def published(db_url: str) -> Iterator[Published]:
    """The tiny network with its week planned and published; today is the Monday."""
    app, network_id = seeded_app(db_url, FIXED_TODAY=MONDAY, REPAIR_TIME_LIMIT=10)
    rota = publish_planned_week(db_url, network_id, WEEK)
    yield Published(app, db_url, network_id, rota)


def sick_person(rota: frozenset[Assignment]) -> str:
    counts: dict[str, int] = {}
    for a in rota:
        if a.date == TUESDAY:
            counts[a.staff_id] = counts.get(a.staff_id, 0) + 1
    return min(counts, key=lambda s: (-counts[s], s))


def test_record_an_absence_propose_a_repair_review_it_and_approve_it(
    published: Published,
) -> None:
    client = client_as(published.app, "coordinator")
    sick = sick_person(published.rota)
    form = {"staff_id": sick, "start": str(TUESDAY), "end": "", "kind": "sick", "reason": "flu"}
    assert post(client, f"/n/{published.network_id}/weeks/{WEEK}/absences", form).status_code == 302
    page = client.get(published.page).get_data(as_text=True)
    assert "flu" in page and ">sick<" in page  # coordinators see the kind and the reason
    assert 'aria-label="Withdraw absence 1"' in page
    assert "Tue 2026-12-01" in page

    assert post(client, published.page, {}).status_code == 302
    page = client.get(published.page).get_data(as_text=True)
    assert "Proposed repair" in page
    draft = published.rota_of("draft")
    changes = changes_between(published.rota, draft)
    assert changes and {c.date for c in changes} == {TUESDAY}
    replanned = "The repair re-planned\n        Tue 2026-12-01; every other day stays as published"
    assert replanned in page
    # The tiny week's repair is proven within the default time limit; the page says so.
    assert f"<strong>{len(changes)} change" in page and "(proven the fewest possible for" in page
    for change in changes:
        assert f'<tr class="diff-{change.change}">' in page
    revision = re.search(r'name="revision" value="(\d+)"', page)
    assert revision is not None

    form = {"revision": revision.group(1)}
    if 'name="accept_short"' in page:  # people still short: publishing needs the tick
        assert "still short of a minimum and want to publish anyway" in page
        form["accept_short"] = "yes"
    answer = post(client, f"/n/{published.network_id}/weeks/{WEEK}/publish", form)
    assert answer.status_code == 302
    assert published.rota_of("published") == draft
    engine = make_engine(published.db_url)
    try:
        with session_scope(engine) as db:
            logged = " ".join(str(e.after) for e in db.scalars(select(AuditRecord)))
    finally:
        engine.dispose()
    assert "flu" not in logged and "sick" not in logged


def test_a_bad_absence_is_refused_with_every_field_named_and_nothing_saved(
    published: Published,
) -> None:
    client = client_as(published.app, "manager")
    form = {"staff_id": "S99", "start": "2026-12-04", "end": "2026-12-01", "kind": "flu"}
    answer = post(client, f"/n/{published.network_id}/weeks/{WEEK}/absences", form)
    assert answer.status_code == 400
    page = answer.get_data(as_text=True)
    assert "The form was not saved" in page
    assert "&#39;S99&#39; is not in staff.csv" in page
    assert "the last day is before the first" in page
    assert "choose one of sick, annual" in page or "choose one of annual" in page
    assert "No absence recorded" in page


def test_a_cancelled_session_is_recorded_and_withdrawn(published: Published) -> None:
    client = client_as(published.app, "coordinator")
    form = {"site_id": "P02", "date": str(WEDNESDAY), "session_id": "AM", "kind": "cancel"}
    url = f"/n/{published.network_id}/weeks/{WEEK}/demand-changes"
    assert post(client, url, form).status_code == 302
    page = client.get(published.page).get_data(as_text=True)
    assert "P02 Wed 2026-12-02 AM: session cancelled" in page
    withdraw = f"/n/{published.network_id}/weeks/{WEEK}/events/demand/1/withdraw"
    assert post(client, withdraw).status_code == 302
    assert ">withdrawn<" in client.get(published.page).get_data(as_text=True)


def test_a_repair_with_nothing_to_repair_says_so_and_saves_nothing(
    published: Published,
) -> None:
    client = client_as(published.app, "coordinator")
    answer = post(client, published.page, {}, follow_redirects=True)
    assert "Not repaired: nothing to repair in 2026-W49" in answer.get_data(as_text=True)
    engine = make_engine(published.db_url)
    try:
        with session_scope(engine) as db:
            assert find_rota(db, published.network_id, WEEK, "draft") is None
    finally:
        engine.dispose()


@pytest.mark.parametrize("role", ["practice", "clinician"])
def test_only_managers_and_coordinators_see_absences(published: Published, role: str) -> None:
    assert client_as(published.app, role).get(published.page).status_code == 403


def test_an_approved_cover_request_becomes_a_demand_change_and_declining_withdraws_it(
    published: Published,
) -> None:
    engine = make_engine(published.db_url)
    try:
        with session_scope(engine) as db:
            ask = {"date": str(TUESDAY), "session_id": "PM", "role": "GP", "people": "1"}
            cover = request_cover(db, published.network_id, PRACTICE_SITE, ask, ACCOUNTS.practice)
        client = client_as(published.app, "manager")
        url = f"/n/{published.network_id}/cover/{cover.id}"
        assert post(client, url, {"decision": "approve"}).status_code == 302
        with session_scope(engine) as db:
            bundle = current_bundle(db, published.network_id)
            change = db.scalar(select(DemandChangeRecord))
            assert change is not None and change.cover_request_id == cover.id
            rows = [
                r
                for r in bundle.demand
                if r.day.date == TUESDAY
                and (r.site_id, r.session_id, r.role) == ("P01", "PM", "GP")
            ]
        # The tiny network needs 1 GP at P01 on weekday afternoons: now 2, on that date only.
        assert [(r.min, r.target) for r in rows] == [(2, 2)]
        assert post(client, url, {"decision": "decline"}).status_code == 302
        with session_scope(engine) as db:
            change = db.scalar(select(DemandChangeRecord))
            assert change is not None and change.withdrawn_at is not None
    finally:
        engine.dispose()


def _meanwhile(
    monkeypatch: pytest.MonkeyPatch, published: Published, act: Callable[[Session], None]
) -> None:
    """Run ``act`` in its own transaction while the repair is being solved (another user)."""
    solve = repair_usecase.propose_repair

    def slow_solve(*args: Any, **kwargs: Any) -> Any:
        engine = make_engine(published.db_url)
        try:
            with session_scope(engine) as db:
                act(db)
        finally:
            engine.dispose()
        return solve(*args, **kwargs)

    monkeypatch.setattr(repair_usecase, "propose_repair", slow_solve)


def _hand_edited_draft(published: Published) -> Callable[[Session], None]:
    """Someone unassigns a published Monday session: a draft with an unpublished edit."""
    cell = min(a for a in published.rota if a.date == MONDAY)

    def edit(db: Session) -> None:
        rota = editable_rota(db, published.network_id, WEEK)
        assert rota is not None
        apply_edit(
            db,
            published.network_id,
            WEEK,
            Edit("unassign", cell),
            expected_revision=rota.revision,
            actor=ACCOUNTS.manager,
        )

    return edit


def test_a_draft_edited_while_the_repair_is_solved_is_not_replaced(
    published: Published, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = client_as(published.app, "coordinator")
    sick = sick_person(published.rota)
    form = {"staff_id": sick, "start": str(TUESDAY), "end": "", "kind": "sick", "reason": ""}
    assert post(client, f"/n/{published.network_id}/weeks/{WEEK}/absences", form).status_code == 302
    _meanwhile(monkeypatch, published, _hand_edited_draft(published))
    answer = post(client, published.page, {}, follow_redirects=True)
    assert "has a draft with edits not yet published" in answer.get_data(as_text=True)
    edited = {a for a in published.rota if a != min(a for a in published.rota if a.date == MONDAY)}
    assert published.rota_of("draft") == edited  # the hand edit is still there


def test_a_week_published_again_while_the_repair_is_solved_is_not_overwritten(
    published: Published, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = client_as(published.app, "coordinator")
    sick = sick_person(published.rota)
    form = {"staff_id": sick, "start": str(TUESDAY), "end": "", "kind": "sick", "reason": ""}
    assert post(client, f"/n/{published.network_id}/weeks/{WEEK}/absences", form).status_code == 302
    # Someone takes the sick person off Tuesday by hand and publishes version 2.
    by_hand = frozenset(a for a in published.rota if (a.staff_id, a.date) != (sick, TUESDAY))

    def edit_and_publish(db: Session) -> None:
        save_week(db, published.network_id, WEEK, by_hand)
        publish_week(db, published.network_id, WEEK, ACCOUNTS.manager)

    _meanwhile(monkeypatch, published, edit_and_publish)
    answer = post(client, published.page, {"replace_draft": "1"}, follow_redirects=True)
    assert "was published again while the repair was made" in answer.get_data(as_text=True)
    engine = make_engine(published.db_url)
    try:
        with session_scope(engine) as db:
            assert find_rota(db, published.network_id, WEEK, "draft") is None
    finally:
        engine.dispose()


def test_a_date_outside_the_week_is_refused_naming_the_dates_field(published: Published) -> None:
    client = client_as(published.app, "coordinator")
    answer = post(client, published.page, {"dates": "2030-01-01"}, follow_redirects=True)
    assert "Not repaired: dates to re-plan: 2030-01-01 is not in 2026-W49" in answer.get_data(
        as_text=True
    )


def test_a_proposed_repair_is_in_the_audit_log_with_who_and_which_sessions_but_no_reason(
    published: Published,
) -> None:
    client = client_as(published.app, "coordinator")
    sick = sick_person(published.rota)
    form = {"staff_id": sick, "start": str(TUESDAY), "end": "", "kind": "sick", "reason": "flu"}
    assert post(client, f"/n/{published.network_id}/weeks/{WEEK}/absences", form).status_code == 302
    assert post(client, published.page, {}).status_code == 302
    changes = changes_between(published.rota, published.rota_of("draft"))
    engine = make_engine(published.db_url)
    try:
        with session_scope(engine) as db:
            entry = db.scalar(select(AuditRecord).where(AuditRecord.action == "repair proposed"))
            assert entry is not None and entry.after is not None
            assert entry.actor == ACCOUNTS.coordinator
            assert len(entry.after["changes"]) == len(changes)
            assert "flu" not in str(entry.after) and "sick" not in str(entry.after)
    finally:
        engine.dispose()
