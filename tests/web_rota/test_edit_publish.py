"""Edits, publishing, versions and diffs over HTTP; nothing half-done when refused."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import func, select

from scheduler.storage.audit import entries
from scheduler.storage.db import session_scope
from scheduler.storage.models.network import AssignmentRecord, RotaRecord
from tests.test_publishing import cell, seed_draft, tiny_optimum
from tests.web_rota.support import WAIT, Site, _cell_form, _edit
from tests.web_support import ACCOUNTS, client_as, csrf_token, post

# -- editing ----------------------------------------------------------------------------------


def test_every_edit_action_works_and_is_audited(site: Site) -> None:
    seed_draft(site.engine, site.network_id)
    client = client_as(site.app, "coordinator")
    page = client.get(site.week("edit")).get_data(as_text=True)
    assert 'name="revision" value="0"' in page and "Every hard rule is met" in page
    here, there = cell("S02", 0, "AM", "P01"), cell("S02", 0, "AM", "P02")
    steps: list[tuple[dict[str, str], set[Any], set[Any]]] = [
        (_cell_form(here, "unassign", 0), set(), {here}),
        (_cell_form(here, "assign", 1), {here}, set()),
        (
            _cell_form(
                here, "move", 2, to_date=here.date.isoformat(), to_session_id="AM", to_site_id="P02"
            ),
            {there},
            {here},
        ),
        (_cell_form(there, "pin", 3), {there}, set()),
        (_cell_form(there, "unpin", 4), {there}, set()),
    ]
    for revision, (form, present, absent) in enumerate(steps, start=1):
        response = _edit(site, client, form)
        assert response.status_code == 302, response.get_data(as_text=True)
        draft = site.draft()
        assert draft is not None
        rota, cells = draft
        assert rota.revision == revision
        assert present <= cells.assignments and not absent & cells.assignments
        assert cells.pinned == ({there} if form["action"] == "pin" else set())
        assert rota.status == "edited" and rota.objective is None
        assert rota.summary["shortfall"] >= 0
    done = client.get(site.week("edit")).get_data(as_text=True)
    assert "Unpinned S02 AM at P02 on 2026-11-30" in done
    assert site.actions()[:5] == [(ACCOUNTS.coordinator, "rota edited")] * 5
    with session_scope(site.engine) as session:
        moved = entries(session, site.network_id)[2]
    assert moved.before is not None and moved.after is not None
    assert [c["site_id"] for c in moved.before["cells"]] == ["P01"]
    assert [c["site_id"] for c in moved.after["cells"]] == ["P02"]
    assert (moved.before["revision"], moved.after["revision"]) == (2, 3)


@pytest.mark.parametrize(
    ("form", "label"),
    [
        (_cell_form(cell("S04", 2, "AM", "P02"), "assign", 0), "On leave"),
        (_cell_form(cell("S02", 0, "AM", "P02"), "assign", 0), "In two places at once"),
        (_cell_form(cell("S05", 1, "AM", "P01"), "unassign", 0), "Pinned session missing"),
    ],
)
def test_an_edit_that_breaks_a_hard_rule_is_refused_and_changes_nothing(
    site: Site, form: dict[str, str], label: str
) -> None:
    seed_draft(site.engine, site.network_id)
    client = client_as(site.app, "coordinator")
    before = site.fingerprint()
    response = _edit(site, client, form)
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "Not saved: it would break a hard rule." in page and label in page
    assert site.fingerprint() == before


def test_an_edit_from_a_stale_page_is_refused(site: Site) -> None:
    seed_draft(site.engine, site.network_id)
    client = client_as(site.app, "coordinator")
    first = tiny_optimum()[0]
    assert _edit(site, client, _cell_form(first, "pin", 0)).status_code == 302
    before = site.fingerprint()
    response = _edit(site, client, _cell_form(tiny_optimum()[1], "pin", 0))
    assert response.status_code == 409
    assert "someone else changed this week since you opened it" in response.get_data(as_text=True)
    assert site.fingerprint() == before


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"date": "2026-12-08"}, "date: give a date of 2026-W49"),
        ({"staff_id": "S99"}, "staff_id: nobody has staff id"),
        ({"site_id": "P77"}, "site_id: there is no site"),
        ({"action": "swap"}, "action: &#39;swap&#39; is not one of"),
        ({"revision": "x"}, "revision: the page is out of date"),
        ({"to_site_id": "P01"}, "to_site_id: choose a different date, session or site"),
    ],
)
def test_an_edit_form_that_makes_no_sense_names_the_field(
    site: Site, change: dict[str, str], field: str
) -> None:
    seed_draft(site.engine, site.network_id)
    client = client_as(site.app, "coordinator")
    item = tiny_optimum()[0]
    form = _cell_form(
        item,
        "move",
        0,
        to_date=item.date.isoformat(),
        to_session_id=item.session_id,
        to_site_id="P02",
    )
    response = _edit(site, client, {**form, **change})
    assert response.status_code == 400
    assert field in response.get_data(as_text=True)


def test_two_simultaneous_edits_of_one_revision_cannot_both_win(site: Site) -> None:
    seed_draft(site.engine, site.network_id)
    clients = [client_as(site.app, "coordinator"), client_as(site.app, "manager")]
    forms = [_cell_form(tiny_optimum()[i], "pin", 0) for i in (0, 1)]
    tokens = [csrf_token(client) for client in clients]
    barrier = threading.Barrier(2)
    results: list[int] = [0, 0]

    def edit(i: int) -> None:
        barrier.wait()
        data = {**forms[i], "csrf_token": tokens[i]}
        results[i] = clients[i].post(site.week("edit"), data=data).status_code

    threads = [threading.Thread(target=edit, args=(i,)) for i in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    assert sorted(results) == [302, 409]
    draft = site.draft()
    assert draft is not None
    assert draft[0].revision == 1 and len(draft[1].pinned) == 1


def test_editing_a_published_week_starts_a_new_draft_with_its_pins(site: Site) -> None:
    pinned = tiny_optimum()[0]
    published_id = seed_draft(site.engine, site.network_id, pinned=frozenset({pinned}))
    client = client_as(site.app, "coordinator")
    assert post(client, site.week("publish"), {"revision": "0"}).status_code == 302
    page = client.get(site.week("edit")).get_data(as_text=True)
    assert "published" in page and 'name="revision" value="1"' in page
    gone = tiny_optimum()[1]
    assert _edit(site, client, _cell_form(gone, "unassign", 1)).status_code == 302
    draft = site.draft()
    assert draft is not None
    rota, cells = draft
    assert rota.id != published_id and rota.revision == 2
    assert cells.assignments == frozenset(tiny_optimum()) - {gone}
    assert cells.pinned == {pinned}
    with session_scope(site.engine) as session:
        kept = session.scalar(select(func.count()).where(AssignmentRecord.rota_id == published_id))
        state = session.get(RotaRecord, published_id)
    assert kept == len(tiny_optimum()) and state is not None and state.state == "published"


# -- publishing, versions, diff --------------------------------------------------------------


def test_publish_twice_then_compare_the_versions(site: Site) -> None:
    first_id = seed_draft(site.engine, site.network_id)
    client = client_as(site.app, "coordinator")
    published = post(client, site.week("publish"), {"revision": "0"})
    assert published.status_code == 302 and published.headers["Location"].endswith("/versions")
    here = cell("S02", 0, "AM", "P01")
    # Whoever the optimum puts on Friday's hub evening (the first by id when several).
    removed = min(
        (a for a in tiny_optimum() if a.session_id == "EVE" and a.date.weekday() == 4),
        key=lambda a: a.staff_id,
    )
    move = _cell_form(
        here, "move", 1, to_date=here.date.isoformat(), to_session_id="AM", to_site_id="P02"
    )
    assert _edit(site, client, move).status_code == 302
    assert _edit(site, client, _cell_form(removed, "unassign", 2)).status_code == 302
    draft = site.draft()
    assert draft is not None
    second_id = draft[0].id
    manager = client_as(site.app, "manager")
    assert (
        post(manager, site.week("publish"), {"revision": "3", "accept_short": "yes"}).status_code
        == 302
    )
    with session_scope(site.engine) as session:
        first, second = session.get(RotaRecord, first_id), session.get(RotaRecord, second_id)
        assert first is not None and second is not None
        assert (first.state, first.version) == ("superseded", 1)
        assert (second.state, second.version, second.published_by) == (
            "published",
            2,
            ACCOUNTS.manager,
        )
    versions = client.get(site.week("versions")).get_data(as_text=True)
    assert ACCOUNTS.manager in versions and ACCOUNTS.coordinator in versions
    assert "superseded" in versions
    diff = client.get(site.week(f"diff?a={first_id}&b={second_id}"))
    assert diff.status_code == 200
    text = diff.get_data(as_text=True)
    assert "version 1 (superseded)" in text and "version 2 (published)" in text
    assert "S02 Imran Shah" in text and "AM at P01 → AM at P02" in text
    assert f"{removed.staff_id} " in text and "Fri 2026-12-04 EVE at HUB1" in text
    assert (ACCOUNTS.manager, "rota published") == site.actions()[0]
    assert (ACCOUNTS.coordinator, "rota published") in site.actions()


def test_a_draft_broken_behind_the_validators_back_is_not_published(site: Site) -> None:
    rota_id = seed_draft(site.engine, site.network_id)
    with session_scope(site.engine) as session:
        bad = cell("S04", 2, "AM", "P02")  # on annual leave that day
        session.add(
            AssignmentRecord(
                rota_id=rota_id,
                staff_id=bad.staff_id,
                date=bad.date,
                session_id=bad.session_id,
                site_id=bad.site_id,
                pinned=False,
            )
        )
    client = client_as(site.app, "coordinator")
    page = client.get(site.week("edit")).get_data(as_text=True)
    assert "cannot be published until they are fixed" in page
    before = site.fingerprint()
    response = post(client, site.week("publish"), {"revision": "0"})
    assert response.status_code == 409
    text = response.get_data(as_text=True)
    assert "Not published" in text and "On leave" in text
    assert site.fingerprint() == before


@pytest.mark.parametrize(
    ("seeded", "form", "message"),
    [
        (True, {"revision": "4"}, "changed since you opened it"),
        (False, {"revision": "0"}, "has no draft to publish"),
        (True, {}, "revision: the page is out of date"),
        (True, {"revision": "99999999999999999999"}, "revision: the page is out of date"),
    ],
)
def test_a_publication_that_cannot_happen_changes_nothing(
    site: Site, seeded: bool, form: dict[str, str], message: str
) -> None:
    if seeded:
        seed_draft(site.engine, site.network_id)
    client = client_as(site.app, "coordinator")
    before = site.fingerprint()
    response = post(client, site.week("publish"), form)
    assert response.status_code in (400, 409)
    assert message in response.get_data(as_text=True)
    assert site.fingerprint() == before


def test_a_diff_needs_two_versions_of_the_week(site: Site) -> None:
    rota_id = seed_draft(site.engine, site.network_id)
    other = seed_draft(site.engine, site.network_id, week="2026-W50")
    client = client_as(site.app, "coordinator")
    same = client.get(site.week(f"diff?a={rota_id}&b={rota_id}")).get_data(as_text=True)
    assert "No differences" in same
    missing = client.get(site.week(f"diff?b={rota_id}"))
    assert missing.status_code == 400 and "a: choose a version" in missing.get_data(as_text=True)
    huge = client.get(site.week(f"diff?a=99999999999999999999&b={rota_id}"))
    assert huge.status_code == 400 and "a: choose a version" in huge.get_data(as_text=True)
    foreign = client.get(site.week(f"diff?a={rota_id}&b={other}"))
    assert foreign.status_code == 400
    assert f"rota {other} is not a rota of 2026-W49" in foreign.get_data(as_text=True)


def test_the_move_link_opens_a_move_form_for_that_session(site: Site) -> None:
    seed_draft(site.engine, site.network_id)
    client = client_as(site.app, "coordinator")
    args = "move_staff_id=S02&move_date=2026-11-30&move_session_id=AM&move_site_id=P01"
    page = client.get(site.week(f"edit?{args}")).get_data(as_text=True)
    assert "Move S02 Imran Shah" in page and "From AM at P01 on Mon 2026-11-30" in page
    assert '<label for="move-site">' in page and 'name="to_site_id"' in page
    lost = client.get(site.week(f"edit?{args.replace('P01', 'P02')}")).get_data(as_text=True)
    assert "That session is no longer in the rota" in lost and "Move S02 Imran" not in lost
    refused = _edit(
        site,
        client,
        _cell_form(
            cell("S02", 0), "move", 0, to_date="2026-12-02", to_session_id="AM", to_site_id="P01"
        ),
    )
    assert refused.status_code == 400  # S02 already works Wednesday AM at P01
    text = refused.get_data(as_text=True)
    assert "S02 AM at P01 on 2026-12-02 is already in the rota" in text
    assert "Move S02 Imran Shah" in text  # the form stays open to try another place
