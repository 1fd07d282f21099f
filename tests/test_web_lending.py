"""The spare capacity and lending pages, through Flask's test client with CSRF on.

The tiny network's week 2026-W49 has a hand-made draft: Grace (S01) and
Imran (S02) both at P01 on Monday morning, and P02 without a GP then, so
Imran can be lent from P01 (the practice account's site) to P02.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

import pytest
from flask import Flask
from sqlalchemy import Engine, select

from scheduler.domain import Assignment
from scheduler.storage.clock import now
from scheduler.storage.db import make_engine, session_scope
from scheduler.storage.events import current_bundle
from scheduler.storage.models.app import AuditRecord, TransferRecord
from scheduler.storage.rotas import find_rota
from scheduler.usecases.editing import Edit, apply_edit, editable_rota, load_cells
from scheduler.usecases.events import record_absence
from scheduler.usecases.lending import Transfer
from scheduler.usecases.transfers import week_transfers
from scheduler.views.totals import RechargeTotal, recharge_totals
from tests.web_support import client_as, post, save_week, seeded_app

WEEK = "2026-W49"
MON, TUE = dt.date(2026, 11, 30), dt.date(2026, 12, 1)
ROTA = [
    Assignment(MON, "AM", "P01", "S01"),
    Assignment(MON, "AM", "P01", "S02"),
    Assignment(TUE, "AM", "P01", "S05"),  # pinned in fixed.csv
]
IMRAN_AT_P02 = Assignment(MON, "AM", "P02", "S02")


@dataclass(frozen=True)
class Site:
    app: Flask
    engine: Engine
    network_id: int

    @property
    def week(self) -> str:
        return f"/n/{self.network_id}/weeks/{WEEK}"

    def decide(self, transfer_id: int) -> str:
        return f"{self.week}/lending/{transfer_id}"


@pytest.fixture
def site(db_url: str) -> Iterator[Site]:
    app, network_id = seeded_app(db_url)
    engine = make_engine(db_url)
    with session_scope(engine) as db:
        save_week(db, network_id, WEEK, ROTA)
    yield Site(app, engine, network_id)
    engine.dispose()


def proposed(site: Site) -> Transfer:
    """Propose transfers as the manager; the one lending Imran to P02 on Monday morning."""
    client = client_as(site.app, "manager")
    response = post(client, f"{site.week}/lending/generate", follow_redirects=True)
    assert response.status_code == 200
    assert "new proposals" in response.get_data(as_text=True)
    with session_scope(site.engine) as db:
        found = week_transfers(db, site.network_id, WEEK)
    return next(t for t in found if (t.staff_id, t.date, t.borrower_site) == ("S02", MON, "P02"))


def draft_cells(site: Site) -> frozenset[Assignment]:
    with session_scope(site.engine) as db:
        draft = find_rota(db, site.network_id, WEEK, "draft")
        assert draft is not None
        return load_cells(db, draft.id).assignments


def flashes(html: str) -> list[str]:
    return re.findall(r'<p class="flash [a-z]+" role="[a-z]+">([^<]*)</p>', html)


# --------------------------------------------------------------------------- spare capacity


def test_the_capacity_page_lists_who_is_free_without_saying_why_anyone_is_away(
    site: Site,
) -> None:
    with session_scope(site.engine) as db:  # Tom is off sick on Tuesday
        form = {"start": TUE.isoformat(), "end": TUE.isoformat(), "kind": "sick", "reason": "flu"}
        bundle = current_bundle(db, site.network_id)
        record_absence(
            db, site.network_id, bundle, staff_id="S04", form=form, actor="coordinator@tiny.test"
        )
    client = client_as(site.app, "coordinator")
    html = client.get(f"{site.week}/capacity").get_data(as_text=True)
    assert html.count("<h1") == 1
    assert "Spare capacity, week 2026-W49" in html
    assert "Mon 2026-11-30 PM" in html
    assert "Imran Shah" in html
    assert "P02 (5 min, wanted)" in html
    assert '<label for="capacity-role">' in html
    for private in ("sick", "flu", "annual"):
        assert private not in html
    tuesday = html[html.index("Tue 2026-12-01 AM") : html.index("Tue 2026-12-01 PM")]
    assert "Tom Owusu" not in tuesday


def test_the_capacity_page_filters_by_role_and_site(site: Site) -> None:
    client = client_as(site.app, "manager")
    html = client.get(f"{site.week}/capacity?role=PN&site=P02").get_data(as_text=True)
    assert "Sana Davies" in html  # the PN with diabetes P02 needs on Wednesday afternoon
    assert "Leah Price" not in html  # a PN who may work at P02, but fits none of its needs
    assert "Imran Shah" not in html  # a GP


def test_a_week_without_a_rota_says_so(site: Site) -> None:
    client = client_as(site.app, "manager")
    html = client.get(f"/n/{site.network_id}/weeks/2026-W50/capacity").get_data(as_text=True)
    assert "No rota exists for 2026-W50 yet" in html


# --------------------------------------------------------------------------- lending


def stored_transfer(site: Site, transfer_id: int) -> tuple[tuple[object, ...], list[str]]:
    """The transfer's state and who accepted it; the audit log's actions but logins."""
    with session_scope(site.engine) as db:
        record = db.get(TransferRecord, transfer_id)
        assert record is not None
        state = (record.state, record.lender_accepted_by, record.borrower_accepted_by)
        actions = [
            action
            for action in db.scalars(select(AuditRecord.action).order_by(AuditRecord.id))
            if action != "login"
        ]
    return state, actions


def test_both_practices_accept_and_the_transfer_enters_the_draft_and_the_recharges(
    site: Site,
) -> None:
    transfer = proposed(site)
    assert (transfer.lender_site, transfer.cost, transfer.leaves_lender_short) == (
        "P01",
        Decimal("405.00"),
        True,
    )
    with session_scope(site.engine) as db:
        bundle = current_bundle(db, site.network_id)
    assert recharge_totals(bundle, sorted(draft_cells(site))) == []

    practice = client_as(site.app, "practice")  # P01: the lender
    page = practice.get(f"{site.week}/lending").get_data(as_text=True)
    assert "Imran Shah" in page
    assert f"Accept transfer {transfer.id} for P01 (lender)" in page
    assert "for P02 (borrower)" not in page
    borrower_side = {"decision": "accept", "side": "borrower"}
    assert post(practice, site.decide(transfer.id), borrower_side).status_code == 403
    lender_side = {"decision": "accept", "side": "lender"}
    answer = post(practice, site.decide(transfer.id), lender_side, follow_redirects=True)
    assert f"Transfer {transfer.id} accepted for P01 (lender); it waits for P02 (borrower)." in (
        flashes(answer.get_data(as_text=True))
    )
    assert IMRAN_AT_P02 not in draft_cells(site)

    clinician = client_as(site.app, "clinician")
    assert post(clinician, site.decide(transfer.id), borrower_side).status_code == 403

    coordinator = client_as(site.app, "coordinator")
    answer = post(coordinator, site.decide(transfer.id), borrower_side, follow_redirects=True)
    (message,) = flashes(answer.get_data(as_text=True))
    assert message.startswith(f"Transfer {transfer.id} accepted by both practices")
    assert "The draft must be published to reach calendars." in message

    cells = draft_cells(site)
    assert IMRAN_AT_P02 in cells
    assert Assignment(MON, "AM", "P01", "S02") not in cells
    assert recharge_totals(bundle, sorted(cells)) == [
        RechargeTotal("P02", "P01", 1, Decimal("4.50"), Decimal("405.00"))
    ]
    state, actions = stored_transfer(site, transfer.id)
    assert state == ("accepted", "practice@tiny.test", "coordinator@tiny.test")
    assert actions[-4:] == [
        "transfer accepted by lender",
        "transfer accepted by borrower",
        "rota edited",
        "transfer put in the rota",
    ]


def test_a_proposal_that_no_longer_holds_is_refused_at_the_second_acceptance(
    site: Site,
) -> None:
    transfer = proposed(site)
    practice = client_as(site.app, "practice")
    post(practice, site.decide(transfer.id), {"decision": "accept", "side": "lender"})
    with session_scope(site.engine) as db:  # P02's own GP is put on Monday morning meanwhile
        rota = editable_rota(db, site.network_id, WEEK)
        assert rota is not None
        edit = Edit("assign", Assignment(MON, "AM", "P02", "S03"))
        apply_edit(db, site.network_id, WEEK, edit, expected_revision=rota.revision, actor="x")
    before = draft_cells(site)
    manager = client_as(site.app, "manager")
    answer = post(
        manager,
        site.decide(transfer.id),
        {"decision": "accept", "side": "borrower"},
        follow_redirects=True,
    )
    (message,) = flashes(answer.get_data(as_text=True))
    assert message == (
        f"Refused, nothing was changed: transfer {transfer.id} no longer holds: P02 is no longer "
        "short of anyone for AM on Mon 2026-11-30. It is withdrawn when transfers are next "
        "proposed."
    )
    assert draft_cells(site) == before
    with session_scope(site.engine) as db:
        record = db.get(TransferRecord, transfer.id)
        assert record is not None
        assert (record.state, record.borrower_accepted_by) == ("proposed", None)


def test_a_practice_sees_and_decides_only_transfers_of_its_own_site(site: Site) -> None:
    with session_scope(site.engine) as db:
        other = TransferRecord(
            network_id=site.network_id,
            week=WEEK,
            staff_id="S03",
            date=TUE,
            session_id="PM",
            lender_site="P02",
            borrower_site="HUB1",
            hours=4.5,
            cost=None,
            travel_minutes=0,
            leaves_lender_short=False,
            state="proposed",
            proposed_by="manager@tiny.test",
            proposed_at=now(),
        )
        db.add(other)
        db.flush()
        other_id = other.id
    practice = client_as(site.app, "practice")
    page = practice.get(f"{site.week}/lending").get_data(as_text=True)
    assert "Nia Walsh" not in page
    for side in ("lender", "borrower"):
        form = {"decision": "decline", "side": side}
        assert post(practice, site.decide(other_id), form).status_code == 403
    assert post(practice, site.decide(other_id), {"decision": "withdraw"}).status_code == 403
    manager_page = client_as(site.app, "manager").get(f"{site.week}/lending")
    assert "Nia Walsh" in manager_page.get_data(as_text=True)


def test_a_practice_declines_its_side_and_a_manager_withdraws(site: Site) -> None:
    transfer = proposed(site)
    practice = client_as(site.app, "practice")
    answer = post(
        practice,
        site.decide(transfer.id),
        {"decision": "decline", "side": "lender"},
        follow_redirects=True,
    )
    assert f"Transfer {transfer.id} declined for P01 (lender)." in flashes(
        answer.get_data(as_text=True)
    )
    with session_scope(site.engine) as db:
        others = [t for t in week_transfers(db, site.network_id, WEEK) if t.open]
    manager = client_as(site.app, "manager")
    answer = post(
        manager, site.decide(others[0].id), {"decision": "withdraw"}, follow_redirects=True
    )
    assert f"Transfer {others[0].id} withdrawn." in flashes(answer.get_data(as_text=True))
    page = manager.get(f"{site.week}/lending").get_data(as_text=True)
    assert "Decided" in page
    again = post(
        practice,
        site.decide(transfer.id),
        {"decision": "accept", "side": "lender"},
        follow_redirects=True,
    )
    assert f"Refused: transfer {transfer.id} is already declined." in flashes(
        again.get_data(as_text=True)
    )


def test_a_transfer_of_another_week_is_not_found(site: Site) -> None:
    transfer = proposed(site)
    manager = client_as(site.app, "manager")
    url = f"/n/{site.network_id}/weeks/2026-W50/lending/{transfer.id}"
    assert post(manager, url, {"decision": "withdraw"}).status_code == 404
    assert post(manager, site.decide(9999), {"decision": "withdraw"}).status_code == 404


def test_proposing_for_a_week_without_a_rota_says_what_to_do(site: Site) -> None:
    manager = client_as(site.app, "manager")
    url = f"/n/{site.network_id}/weeks/2026-W50/lending/generate"
    answer = post(manager, url, follow_redirects=True)
    assert flashes(answer.get_data(as_text=True)) == [
        "No proposals made: 2026-W50 has no rota yet: solve the week first."
    ]
