"""The rota blueprint: background solves, edits, publishing, versions and diffs over HTTP.

CSRF stays on (forms post the token the page carries); the database is the
test's own; solves of the tiny network run for real in the runner's thread
and tests wait on the job's future instead of sleeping.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, func, select
from werkzeug.test import TestResponse

from scheduler import jobs
from scheduler.audit import entries
from scheduler.editing import Cells, load_cells
from scheduler.storage.db import make_engine, session_scope
from scheduler.storage.models import AssignmentRecord, RotaRecord, SolveJobRecord
from scheduler.storage.repository import database_fingerprint, find_rota
from tests.test_jobs import Gate, old_job
from tests.test_publishing import WEEK, cell, seed_draft, tiny_optimum
from tests.web_support import ACCOUNTS, client_as, csrf_token, post, seeded_app
from web.db import dispose

WAIT = 120.0
JOB_URL = re.compile(r"/n/\d+/jobs/(\d+)$")


@dataclass
class Site:
    """The app under test, its network and an engine for looking at the database."""

    app: Flask
    network_id: int
    engine: Engine

    def url(self, tail: str) -> str:
        return f"/n/{self.network_id}/{tail}"

    def week(self, tail: str = "", week: str = WEEK) -> str:
        return self.url(f"weeks/{week}/{tail}".rstrip("/"))

    def draft(self) -> tuple[RotaRecord, Cells] | None:
        with session_scope(self.engine) as session:
            rota = find_rota(session, self.network_id, WEEK, "draft")
            return None if rota is None else (rota, load_cells(session, rota.id))

    def fingerprint(self) -> dict[str, list[tuple[Any, ...]]]:
        with session_scope(self.engine) as session:
            return database_fingerprint(session)

    def actions(self) -> list[tuple[str, str]]:
        """(actor, action) of the audit log, newest first, logins left out."""
        with session_scope(self.engine) as session:
            return [
                (e.actor, e.action)
                for e in entries(session, self.network_id)
                if e.action != "login"
            ]


@pytest.fixture
def site(db_url: str) -> Iterator[Site]:
    app, network_id = seeded_app(db_url, SOLVE_TIME_LIMIT=10, SOLVE_WORKERS=1)
    engine = make_engine(db_url)
    yield Site(app, network_id, engine)
    engine.dispose()
    dispose(app)


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Iterator[Gate]:
    held = Gate()
    monkeypatch.setattr(jobs, "plan_week", held)
    yield held
    held.release.set()


def _job_id(response: TestResponse) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)
    match = JOB_URL.search(response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match.group(1))


def _cell_form(item: Any, action: str, revision: int, **extra: str) -> dict[str, str]:
    return {
        "action": action,
        "staff_id": item.staff_id,
        "date": item.date.isoformat(),
        "session_id": item.session_id,
        "site_id": item.site_id,
        "revision": str(revision),
        **extra,
    }


def _edit(site: Site, client: FlaskClient, form: dict[str, str]) -> TestResponse:
    return post(client, site.week("edit"), form)


# -- who may use the routes ---------------------------------------------------------------------


def _routes(site: Site, job_id: int, rota_id: int) -> list[tuple[str, str]]:
    return [
        ("POST", site.week("solve")),
        ("GET", site.url(f"jobs/{job_id}")),
        ("GET", site.url(f"jobs/{job_id}.json")),
        ("POST", site.url(f"jobs/{job_id}/cancel")),
        ("GET", site.week("edit")),
        ("POST", site.week("edit")),
        ("POST", site.week("publish")),
        ("GET", site.week("versions")),
        ("GET", site.week(f"diff?a={rota_id}&b={rota_id}")),
    ]


def _queued_job(site: Site) -> int:
    with session_scope(site.engine) as session:
        return jobs.create_job(
            session, site.network_id, WEEK, weeks=1, keep_pins=False, actor=ACCOUNTS.manager
        ).id


def _call(client: FlaskClient, method: str, url: str) -> TestResponse:
    return post(client, url, {}) if method == "POST" else client.get(url)


@pytest.mark.parametrize("role", ["practice", "clinician", "other_clinician"])
def test_practices_and_clinicians_are_refused_every_route(site: Site, role: str) -> None:
    rota_id = seed_draft(site.engine, site.network_id)
    client = client_as(site.app, role)
    before = site.fingerprint()
    for method, url in _routes(site, _queued_job(site), rota_id):
        assert _call(client, method, url).status_code == 403, (method, url)
    after = site.fingerprint()
    assert after["rotas"] == before["rotas"] and after["assignments"] == before["assignments"]


def test_strangers_are_sent_to_the_login_page(site: Site) -> None:
    rota_id = seed_draft(site.engine, site.network_id)
    client = site.app.test_client()
    for method, url in _routes(site, _queued_job(site), rota_id):
        response = _call(client, method, url)
        assert response.status_code == 302, (method, url)
        assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("role", ["coordinator", "manager"])
def test_staff_roles_open_every_page(site: Site, role: str) -> None:
    rota_id = seed_draft(site.engine, site.network_id)
    job_id = _queued_job(site)
    client = client_as(site.app, role)
    for method, url in _routes(site, job_id, rota_id):
        if method == "GET":
            assert client.get(url).status_code == 200, url


def test_another_networks_pages_are_refused(site: Site) -> None:
    client = client_as(site.app, "coordinator")
    other = f"/n/{site.network_id + 1}/weeks/{WEEK}"
    assert client.get(f"{other}/edit").status_code == 403
    assert post(client, f"{other}/solve", {}).status_code == 403


@pytest.mark.parametrize("week", ["week-49", "9999-W52", "0001-W01"])
def test_a_malformed_week_is_a_404_saying_how_to_write_one(site: Site, week: str) -> None:
    client = client_as(site.app, "coordinator")
    for page in ("edit", "versions", "diff?a=1&b=1"):
        response = client.get(site.week(page, week=week))
        assert response.status_code == 404, page
        assert "ISO week such as 2026-W49" in response.get_data(as_text=True)
    assert post(client, site.week("publish", week=week), {"revision": "0"}).status_code == 404


def test_an_unknown_job_is_a_404(site: Site) -> None:
    client = client_as(site.app, "coordinator")
    assert client.get(site.url("jobs/999")).status_code == 404
    assert client.get(site.url("jobs/999.json")).status_code == 404
    too_long = "9" * 20  # more than the database's integers hold: no job, not a driver error
    assert client.get(site.url(f"jobs/{too_long}")).status_code == 404
    assert post(client, site.url(f"jobs/{too_long}/cancel"), {}).status_code == 404
    assert client.get(f"/n/{too_long}/weeks/{WEEK}/edit").status_code == 404


def test_forms_without_the_csrf_token_are_refused(site: Site) -> None:
    seed_draft(site.engine, site.network_id)
    client = client_as(site.app, "coordinator")
    form = _cell_form(tiny_optimum()[0], "unassign", 0)
    assert client.post(site.week("edit"), data=form).status_code == 400
    assert client.post(site.week("solve"), data={}).status_code == 400
    draft = site.draft()
    assert draft is not None and draft[0].revision == 0


# -- solving ----------------------------------------------------------------------------------


def test_a_solve_runs_in_the_background_and_saves_a_valid_draft(site: Site) -> None:
    client = client_as(site.app, "coordinator")
    job_id = _job_id(post(client, site.week("solve"), {"weeks": "1", "keep_pins": "0"}))
    jobs.wait(site.engine, job_id, WAIT)
    status = client.get(site.url(f"jobs/{job_id}.json")).get_json()
    assert status["state"] == "done" and status["finished"] is True
    assert isinstance(status["objective"], float) and isinstance(status["bound"], float)
    assert 0.0 <= status["gap"] <= 1.0 and status["elapsed"] > 0 and status["solutions"] >= 1
    assert status["rota_url"] == site.week("edit")
    assert "saved a draft of 2026-W49" in status["message"]
    page = client.get(site.url(f"jobs/{job_id}")).get_data(as_text=True)
    assert "done" in page and "Cancel this solve" not in page
    assert 'src="/static/job.js"' in page
    draft = site.draft()
    assert draft is not None and draft[1].assignments
    edit_page = client.get(site.week("edit")).get_data(as_text=True)
    assert "Every hard rule is met" in edit_page
    assert site.actions()[:2] == [
        (ACCOUNTS.coordinator, "solve finished"),
        (ACCOUNTS.coordinator, "solve started"),
    ]


def test_the_job_page_shows_progress_and_cancel_stops_the_solve(site: Site, gate: Gate) -> None:
    client = client_as(site.app, "coordinator")
    job_id = _job_id(post(client, site.week("solve"), {}))
    assert gate.started.wait(WAIT)
    status = client.get(site.url(f"jobs/{job_id}.json")).get_json()
    assert status == {
        "id": job_id,
        "week": WEEK,
        "weeks": 1,
        "state": "running",
        "finished": False,
        "objective": 123.0,
        "bound": 100.0,
        "gap": pytest.approx(23 / 123),
        "elapsed": 0.25,
        "solutions": 1,
        "attempts": 1,
        "cancel_requested": False,
        "message": None,
        "rota_url": None,
    }
    page = client.get(site.url(f"jobs/{job_id}")).get_data(as_text=True)
    assert "Cancel this solve" in page and "123.0" in page
    assert f'data-status-url="/n/{site.network_id}/jobs/{job_id}.json"' in page
    cancelled = post(client, site.url(f"jobs/{job_id}/cancel"), {})
    assert cancelled.status_code == 302
    assert gate.stop is not None and gate.stop.is_set()
    gate.release.set()
    jobs.wait(site.engine, job_id, WAIT)
    status = client.get(site.url(f"jobs/{job_id}.json")).get_json()
    assert status["state"] == "cancelled" and status["cancel_requested"] is True
    assert site.draft() is None
    again = client.get(site.url(f"jobs/{job_id}")).get_data(as_text=True)
    assert "Cancel this solve" not in again and "nothing was saved" in again
    late = post(client, site.url(f"jobs/{job_id}/cancel"), {}, follow_redirects=True)
    assert "already finished" in late.get_data(as_text=True)
    assert (ACCOUNTS.coordinator, "solve cancelled") in site.actions()


def test_a_second_solve_of_the_week_shows_the_running_one(site: Site, gate: Gate) -> None:
    client = client_as(site.app, "manager")
    first = _job_id(post(client, site.week("solve"), {}))
    assert gate.started.wait(WAIT)
    second = post(client, site.week("solve"), {"weeks": "2"})
    assert _job_id(second) == first
    gate.release.set()
    jobs.wait(site.engine, first, WAIT)
    with session_scope(site.engine) as session:
        assert session.scalar(select(func.count()).select_from(SolveJobRecord)) == 1


def test_asking_again_for_a_solve_already_done_shows_that_job(site: Site) -> None:
    client = client_as(site.app, "coordinator")
    first = _job_id(post(client, site.week("solve"), {}))
    jobs.wait(site.engine, first, WAIT)
    again = post(client, site.week("solve"), {})
    assert _job_id(again) == first
    page = client.get(again.headers["Location"]).get_data(as_text=True)
    assert "This same solve, from the same data, was already asked for" in page
    with session_scope(site.engine) as session:
        assert session.scalar(select(func.count()).select_from(SolveJobRecord)) == 1


def test_a_solve_when_the_queue_is_down_fails_its_job_and_says_so(db_url: str) -> None:
    # Port 9 (discard) has no Redis: sending the job fails after the quick retries.
    app, network_id = seeded_app(
        db_url, SOLVE_TIME_LIMIT=10, SOLVE_WORKERS=1, BROKER_URL="redis://127.0.0.1:9/0"
    )
    client = client_as(app, "coordinator")
    response = post(client, f"/n/{network_id}/weeks/{WEEK}/solve", {})
    job_id = _job_id(response)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "the job queue could not be reached" in page
    status = client.get(f"/n/{network_id}/jobs/{job_id}.json").get_json()
    assert (status["state"], status["message"]) == ("failed", jobs.NO_QUEUE)
    dispose(app)


def _job_row(site: Site, **fields: Any) -> int:
    """A running job's row as another process left it; its id."""
    with session_scope(site.engine) as session:
        record = old_job(site.network_id, WEEK, "running", **fields)
        session.add(record)
        session.flush()
        return record.id


def test_a_job_taken_up_again_by_another_worker_says_which_attempt_it_is(site: Site) -> None:
    job_id = _job_row(site, heartbeat_at=jobs.now(), attempts=2, backend="celery")
    client = client_as(site.app, "coordinator")
    assert client.get(site.url(f"jobs/{job_id}.json")).get_json()["attempts"] == 2
    page = client.get(site.url(f"jobs/{job_id}")).get_data(as_text=True)
    assert "Attempt 2: the worker running the earlier attempt stopped" in page


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"weeks": "9"}, "weeks: give a whole number of weeks from 1 to 8"),
        ({"weeks": "one"}, "weeks: give a whole number of weeks from 1 to 8"),
        ({"keep_pins": "yes"}, "keep_pins: use 1 to keep the pinned cells, or 0"),
    ],
)
def test_a_solve_with_bad_fields_is_not_started(
    site: Site, form: dict[str, str], message: str
) -> None:
    client = client_as(site.app, "coordinator")
    response = post(client, site.week("solve"), form, follow_redirects=True)
    assert message in response.get_data(as_text=True)
    with session_scope(site.engine) as session:
        assert session.scalar(select(func.count()).select_from(SolveJobRecord)) == 0


def test_a_job_left_by_a_dead_server_shows_as_interrupted(site: Site) -> None:
    # Its solve thread is gone: no heartbeat for four minutes.
    job_id = _job_row(site, heartbeat_at=jobs.now() - dt.timedelta(minutes=4), solutions=3)
    client = client_as(site.app, "coordinator")
    status = client.get(site.url(f"jobs/{job_id}.json")).get_json()
    assert status["state"] == "failed" and status["message"] == jobs.INTERRUPTED


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
    assert post(manager, site.week("publish"), {"revision": "3"}).status_code == 302
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
