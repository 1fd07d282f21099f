"""Who may open the rota pages, and background solves over HTTP.

CSRF stays on (forms post the token the page carries); the database is the
test's own; solves of the tiny network run for real in the runner's thread
and tests wait on the job's future instead of sleeping."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from scheduler.jobs.queue import wait
from scheduler.jobs.records import now
from scheduler.jobs.settings import INTERRUPTED, NO_QUEUE
from scheduler.storage.db import session_scope
from scheduler.storage.models.app import SolveJobRecord
from tests.jobs.support import Gate
from tests.test_publishing import WEEK, seed_draft, tiny_optimum
from tests.web_rota.support import (
    WAIT,
    Site,
    _call,
    _cell_form,
    _job_id,
    _job_row,
    _queued_job,
    _routes,
)
from tests.web_support import ACCOUNTS, client_as, post, seeded_app
from web.db import dispose


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
    wait(site.engine, job_id, WAIT)
    status = client.get(site.url(f"jobs/{job_id}.json")).get_json()
    assert status["state"] == "done" and status["finished"] is True
    assert isinstance(status["objective"], float) and isinstance(status["bound"], float)
    assert 0.0 <= status["gap"] <= 1.0 and status["elapsed"] > 0 and status["solutions"] >= 1
    assert status["rota_url"] == site.week("board")
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
        "quality": "at most 18.7% from the best possible",
        "elapsed": 0.25,
        "solutions": 1,
        "attempts": 1,
        "cancel_requested": False,
        "message": None,
        "rota_url": None,
    }
    page = client.get(site.url(f"jobs/{job_id}")).get_data(as_text=True)
    assert "Cancel this solve" in page and "at most 18.7% from the best possible" in page
    assert "Bound" not in page and "penalty" not in page  # no solver words on the page
    assert f'data-status-url="/n/{site.network_id}/jobs/{job_id}.json"' in page
    cancelled = post(client, site.url(f"jobs/{job_id}/cancel"), {})
    assert cancelled.status_code == 302
    assert gate.stop is not None and gate.stop.is_set()
    gate.release.set()
    wait(site.engine, job_id, WAIT)
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
    wait(site.engine, first, WAIT)
    with session_scope(site.engine) as session:
        assert session.scalar(select(func.count()).select_from(SolveJobRecord)) == 1


def test_asking_again_for_a_solve_already_done_shows_that_job(site: Site) -> None:
    client = client_as(site.app, "coordinator")
    first = _job_id(post(client, site.week("solve"), {}))
    wait(site.engine, first, WAIT)
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
    assert (status["state"], status["message"]) == ("failed", NO_QUEUE)
    dispose(app)


def test_a_job_taken_up_again_by_another_worker_says_which_attempt_it_is(site: Site) -> None:
    job_id = _job_row(site, heartbeat_at=now(), attempts=2, backend="celery")
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
    job_id = _job_row(site, heartbeat_at=now() - dt.timedelta(minutes=4), solutions=3)
    client = client_as(site.app, "coordinator")
    status = client.get(site.url(f"jobs/{job_id}.json")).get_json()
    assert status["state"] == "failed" and status["message"] == INTERRUPTED
