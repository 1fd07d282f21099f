"""Every route of the app, with every role and with nobody logged in.

The expected answers are written out here, route by route, independently of
the ``require`` decorators; a route added to the app without a line here
fails ``test_every_route_is_in_the_table``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine

from scheduler.domain import Assignment, iso_weeks
from scheduler.jobs.alerts import add_alert
from scheduler.jobs.records import create_job
from scheduler.storage.clock import now
from scheduler.storage.db import make_engine, session_scope
from scheduler.storage.repository import bundle_with_leave
from scheduler.storage.rotas import save_rota
from scheduler.usecases.events import record_absence
from scheduler.usecases.feeds import issue_token
from scheduler.usecases.planning import plan_week
from scheduler.usecases.requests import request_cover, request_leave
from solver import SolveOptions
from tests.web_support import (
    ACCOUNTS,
    CLINICIAN_STAFF,
    PRACTICE_SITE,
    client_as,
    csrf_token,
    save_week,
    seeded_app,
)

WEEK = "2026-W49"
ROLES = ("manager", "coordinator", "practice", "clinician")
M, C, P, K = ROLES  # K: clinician
OPEN = "open"  # no login needed

# (endpoint, method) -> the roles allowed; everyone else gets 403, strangers the login page.
ALLOWED: dict[tuple[str, str], tuple[str, ...]] = {
    ("views.healthz", "GET"): (OPEN,),
    ("static", "GET"): (OPEN,),
    ("auth.login", "GET"): (OPEN,),
    ("auth.login", "POST"): (OPEN,),
    ("auth.logout", "POST"): (OPEN,),
    ("auth.account", "GET"): (M, C, P, K),
    ("auth.logout_everywhere", "POST"): (M, C, P, K),
    ("views.index", "GET"): (M, C, P, K),
    ("admin.users", "GET"): (M,),
    ("admin.users", "POST"): (M,),
    ("admin.audit_log", "GET"): (M,),
    ("admin.import_bundle", "GET"): (M,),
    ("admin.import_bundle", "POST"): (M,),
    ("jobs_admin.runs", "GET"): (M,),
    ("weeks.overview", "GET"): (M, C),
    ("weeks.grid", "GET"): (M, C, P),
    ("weeks.shortfalls", "GET"): (M, C),
    ("weeks.export", "GET"): (M, C),
    ("weeks.clear_alert", "POST"): (M, C),
    ("rota.start_solve", "POST"): (M, C),
    ("rota.job", "GET"): (M, C),
    ("rota.job_status", "GET"): (M, C),
    ("rota.cancel_job", "POST"): (M, C),
    ("rota.edit", "GET"): (M, C),
    ("rota.edit", "POST"): (M, C),
    ("rota.publish", "POST"): (M, C),
    ("rota.publish_check", "GET"): (M, C),
    ("board.board", "GET"): (M, C),
    ("help.glossary", "GET"): (M, C, P, K),
    ("board.cell", "GET"): (M, C),
    ("board.moves", "GET"): (M, C),
    ("board.edit", "POST"): (M, C),
    ("rota.versions", "GET"): (M, C),
    ("rota.diff", "GET"): (M, C),
    ("people.person", "GET"): (M, C, K),
    ("people.request_leave", "POST"): (M, C, K),
    ("people.change_leave", "POST"): (M, C, K),
    ("people.leave_requests", "GET"): (M, C),
    ("people.decide_leave", "POST"): (M,),
    ("people.request_cover", "GET"): (M, C, P),
    ("people.request_cover", "POST"): (M, C, P),
    ("people.cover_requests", "GET"): (M, C),
    ("people.decide_cover", "POST"): (M,),
    ("feeds.feed", "GET"): (OPEN,),  # the token in the address is the credential
    ("feeds.open_feed", "GET"): (OPEN,),
    ("feeds.rotate_person", "POST"): (M, C, K),
    ("feeds.network_feeds", "GET"): (M, C),
    ("feeds.manage", "POST"): (M, C),
    ("feeds.site_feed_page", "GET"): (M, C, P),
    ("lending.capacity", "GET"): (M, C),
    ("lending.proposals", "GET"): (M, C, P),
    ("lending.generate_proposals", "POST"): (M, C),
    ("lending.decide", "POST"): (M, C, P),  # a practice for its own site's side only
    ("repair.week_page", "GET"): (M, C),
    ("repair.record_absence", "POST"): (M, C),
    ("repair.record_demand", "POST"): (M, C),
    ("repair.withdraw", "POST"): (M, C),
    ("repair.propose", "POST"): (M, C),
    ("ea.page", "GET"): (M, C),
    ("ea.download", "GET"): (M, C),
    ("fairness.page", "GET"): (M, C),
    ("fairness.download", "GET"): (M, C),
    ("ledger.page", "GET"): (M, C, P),  # a practice sees its own practice's lines only
    ("ledger.download", "GET"): (M, C, P),
    ("open.week_page", "GET"): (M, C),
    ("open.offer", "POST"): (M, C),
    ("open.withdraw", "POST"): (M, C),
    ("open.mine", "GET"): (M, C, K),  # a clinician their own only
    ("open.book", "POST"): (M, C, K),
    ("open.decide", "POST"): (M, C),
    ("open.digest", "POST"): (M, C, K),
    ("inbox.page", "GET"): (M, C, P, K),
    ("inbox.open_item", "POST"): (M, C, P, K),  # only one's own items are found
    ("inbox.read_all", "POST"): (M, C, P, K),
    ("timesheets.day", "GET"): (M, C),
    ("timesheets.confirm", "POST"): (M, C),
    ("timesheets.correct", "POST"): (M, C),
    ("timesheets.report_page", "GET"): (M, C),
    ("timesheets.download", "GET"): (M, C),
    ("timesheets.mine", "GET"): (M, C, K),  # a clinician their own only
    ("timesheets.flag", "POST"): (K,),  # the clinician themselves
    ("swaps.mine", "GET"): (M, C, K),  # a clinician their own only
    ("swaps.offer_form", "GET"): (M, C, K),
    ("swaps.offer", "POST"): (M, C, K),
    ("swaps.act", "POST"): (M, C, K),
    ("swaps.waiting", "GET"): (M, C),
    ("swaps.decide", "POST"): (M, C),
    ("availability.weeks", "GET"): (M, C, K),  # a clinician their own only
    ("availability.week_form", "GET"): (M, C, K),
    ("availability.save", "POST"): (M, C, K),
    ("availability.replies", "GET"): (M, C),
    ("availability.remind", "POST"): (M, C),
}

# What an allowed GET answers: 200, except a clinician's front page (their own page) and a
# cell's panel without htmx (the board with the panel open).
REDIRECTING_GETS = {("views.index", K), ("board.cell", M), ("board.cell", C)}
# A POST with an empty form: allowed roles get a validation answer, never 403 and never a crash.
POST_ANSWERS = {200, 302, 400, 409}


@dataclass(frozen=True)
class Seeded:
    app: Flask
    engine: Engine
    network_id: int
    job_id: int
    rota_id: int
    feed_token: str
    first_cell: Assignment
    person_token: str


@pytest.fixture
def seeded(db_url: str) -> Iterator[Seeded]:
    """The tiny network with a draft week, a finished solve, a leave and a cover request."""
    app, network_id = seeded_app(db_url)
    engine = make_engine(db_url)
    with session_scope(engine) as session:
        bundle = bundle_with_leave(session, network_id)
    outcome = plan_week(bundle, WEEK, SolveOptions(time_limit=10, workers=1))
    monday = iso_weeks(WEEK, 1)[0]
    with session_scope(engine) as session:
        rota_id = save_rota(
            session,
            network_id,
            WEEK,
            outcome.assignments,
            status=outcome.result.status.value,
            objective=outcome.result.objective,
            bound=outcome.result.bound,
            gap=outcome.result.gap,
            seconds=outcome.result.seconds,
            summary=outcome.summary(),
        )
        job_id = create_job(
            session, network_id, WEEK, weeks=1, keep_pins=False, actor=ACCOUNTS.manager
        ).id
        leave = {"start": monday.isoformat(), "end": monday.isoformat(), "kind": "annual"}
        request_leave(session, network_id, CLINICIAN_STAFF, leave, ACCOUNTS.clinician)
        cover = {"date": monday.isoformat(), "session_id": "AM", "role": "GP", "people": "1"}
        request_cover(session, network_id, PRACTICE_SITE, cover, ACCOUNTS.practice)
        sick = {"start": monday.isoformat(), "kind": "sick", "reason": "flu"}
        record_absence(session, network_id, bundle, staff_id=CLINICIAN_STAFF, form=sick, actor="t")
        # The hub feed's link: no route of the walk replaces it (rotate_person is per person).
        token = issue_token(session, network_id, "hub", "", app.config["SECRET_KEY"])
        # Someone else's link, for their open-sessions feed (a hub link has none).
        other = next(p.staff_id for p in bundle.staff if p.staff_id != CLINICIAN_STAFF)
        person_token = issue_token(session, network_id, "staff", other, app.config["SECRET_KEY"])
        # A published (empty) week for the recharge ledger's downloads; WEEK stays a draft.
        save_week(session, network_id, "2026-W50", [], state="published")
        # Alert 1 of WEEK, for weeks.clear_alert (cleared by the first role, then "already").
        add_alert(session, network_id, WEEK, "reminder", "a reminder", at=now())
    first = min(outcome.assignments)
    yield Seeded(app, engine, network_id, job_id, rota_id, token, first, person_token)
    engine.dispose()


def url_for_rule(seeded: Seeded, endpoint: str) -> str:
    """A real address for the endpoint, naming this network's own records."""
    n = f"/n/{seeded.network_id}"
    week = f"{n}/weeks/{WEEK}"
    return {
        "views.healthz": "/healthz",
        "static": "/static/site.css",
        "auth.login": "/login",
        "auth.logout": "/logout",
        "auth.account": "/account",
        "auth.logout_everywhere": "/account/logout-everywhere",
        "views.index": "/",
        "admin.users": "/admin/users",
        "admin.audit_log": "/admin/audit",
        "admin.import_bundle": "/import",
        "jobs_admin.runs": "/admin/jobs",
        "weeks.overview": week,
        "weeks.grid": f"{week}/grid?by=site&site={PRACTICE_SITE}",
        "weeks.shortfalls": f"{week}/shortfalls",
        "weeks.export": f"{week}/export/rota.csv",
        "weeks.clear_alert": f"{week}/alerts/1/clear",
        "rota.start_solve": f"{week}/solve",
        "rota.job": f"{n}/jobs/{seeded.job_id}",
        "rota.job_status": f"{n}/jobs/{seeded.job_id}.json",
        "rota.cancel_job": f"{n}/jobs/{seeded.job_id}/cancel",
        "rota.edit": f"{week}/edit",
        "rota.publish": f"{week}/publish",
        **board_urls(seeded, week),
        "rota.versions": f"{week}/versions",
        "rota.diff": f"{week}/diff?a={seeded.rota_id}&b={seeded.rota_id}",
        "people.person": f"{n}/people/{CLINICIAN_STAFF}",
        "people.request_leave": f"{n}/people/{CLINICIAN_STAFF}/leave",
        "people.change_leave": f"{n}/people/{CLINICIAN_STAFF}/leave/1/withdraw",
        "people.leave_requests": f"{n}/leave",
        "people.decide_leave": f"{n}/leave/1",
        "people.request_cover": f"{n}/sites/{PRACTICE_SITE}/cover",
        "people.cover_requests": f"{n}/cover",
        "people.decide_cover": f"{n}/cover/1",
        "feeds.feed": f"/feeds/{seeded.feed_token}.ics",
        "feeds.open_feed": f"/feeds/{seeded.person_token}/open.ics",
        "feeds.rotate_person": f"{n}/people/{CLINICIAN_STAFF}/feed",
        "feeds.network_feeds": f"{n}/feeds",
        "feeds.manage": f"{n}/feeds",
        "feeds.site_feed_page": f"{n}/sites/{PRACTICE_SITE}/feed",
        "lending.capacity": f"{week}/capacity",
        "lending.proposals": f"{week}/lending",
        "lending.generate_proposals": f"{week}/lending/generate",
        "lending.decide": f"{week}/lending/1",
        "repair.week_page": f"{week}/repair",
        "repair.record_absence": f"{week}/absences",
        "repair.record_demand": f"{week}/demand-changes",
        "repair.withdraw": f"{week}/events/absence/1/withdraw",
        "repair.propose": f"{week}/repair",
        "ea.page": f"{n}/reports/ea?week={WEEK}",
        "ea.download": f"{n}/reports/ea/ea.xlsx?week={WEEK}",
        "fairness.page": f"{n}/reports/fairness?week={WEEK}&weeks=4",
        "fairness.download": f"{n}/reports/fairness.xlsx?week={WEEK}",
        "ledger.page": f"{n}/reports/recharges?week={WEEK}",
        "ledger.download": f"{n}/reports/recharges/recharges.xlsx?week=2026-W50",
    }[endpoint]


def board_urls(seeded: Seeded, week: str) -> dict[str, str]:
    """The week board's routes, the publication check, the help page, open sessions and
    availability."""
    first = seeded.first_cell
    cell = f"cell_site={first.site_id}&cell_date={first.date}&cell_session={first.session_id}"
    return {
        "rota.publish_check": f"{week}/publish",
        "board.board": f"{week}/board",
        "board.cell": f"{week}/board/cell?{cell}",
        "board.moves": f"{week}/board/moves?{cell}&staff_id={first.staff_id}",
        "board.edit": f"{week}/board/edit",
        "help.glossary": "/help/glossary",
        "open.week_page": f"{week}/open",
        "open.offer": f"{week}/open",
        "open.withdraw": f"{week.rsplit('/weeks/', 1)[0]}/open/1/withdraw",
        "open.mine": f"{week.rsplit('/weeks/', 1)[0]}/people/{CLINICIAN_STAFF}/open",
        "open.book": f"{week.rsplit('/weeks/', 1)[0]}/people/{CLINICIAN_STAFF}/open/1/book",
        "open.decide": f"{week.rsplit('/weeks/', 1)[0]}/open/1/decline",
        "open.digest": f"{week.rsplit('/weeks/', 1)[0]}/people/{CLINICIAN_STAFF}/digest",
        "inbox.page": "/inbox",
        "inbox.open_item": "/inbox/1/open",
        "inbox.read_all": "/inbox/read",
        **timesheet_urls(week.rsplit("/weeks/", 1)[0]),
        **swap_urls(week.rsplit("/weeks/", 1)[0]),
        **availability_urls(week),
    }


def timesheet_urls(n: str) -> dict[str, str]:
    """Timesheets: a coordinator's day and report, a clinician's own timesheet."""
    return {
        "timesheets.day": f"{n}/timesheets?date=2026-12-01",
        "timesheets.confirm": f"{n}/timesheets/confirm",
        "timesheets.correct": f"{n}/timesheets/correct",
        "timesheets.report_page": f"{n}/reports/timesheets?month=2026-12",
        "timesheets.download": f"{n}/reports/timesheets/timesheets.xlsx?month=2026-12",
        "timesheets.mine": f"{n}/people/{CLINICIAN_STAFF}/timesheet?month=2026-12",
        "timesheets.flag": f"{n}/people/{CLINICIAN_STAFF}/timesheet/flag",
    }


def swap_urls(n: str) -> dict[str, str]:
    """Swaps and give-aways: a person's page, the offer form, acting on one, approving."""
    person = f"{n}/people/{CLINICIAN_STAFF}/swaps"
    return {
        "swaps.mine": person,
        "swaps.offer_form": f"{person}/offer",
        "swaps.offer": f"{person}/offer",
        "swaps.act": f"{person}/1/accept",
        "swaps.waiting": f"{n}/swaps",
        "swaps.decide": f"{n}/swaps/1/approve",
    }


def availability_urls(week: str) -> dict[str, str]:
    """Availability: a clinician's weeks and one week's form; a manager's replies."""
    person = f"{week.rsplit('/weeks/', 1)[0]}/people/{CLINICIAN_STAFF}"
    return {
        "availability.weeks": f"{person}/availability",
        "availability.week_form": f"{person}/availability/{WEEK}",
        "availability.save": f"{person}/availability/{WEEK}",
        "availability.replies": f"{week}/availability",
        "availability.remind": f"{week}/availability/remind",
    }


def call(client: FlaskClient, method: str, url: str) -> int:
    if method == "GET":
        with client.get(url) as response:  # closes a static file's handle
            return response.status_code
    # weeks=99 keeps an allowed solve request from starting a real solve.
    data = {"csrf_token": csrf_token(client), "weeks": "99"}
    return client.post(url, data=data).status_code


def routes(app: Flask) -> set[tuple[str, str]]:
    return {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        for method in rule.methods or ()
        if method not in {"HEAD", "OPTIONS"}
    }


def test_every_route_is_in_the_table(seeded: Seeded) -> None:
    assert routes(seeded.app) == set(ALLOWED)


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_exactly_the_routes_it_is_allowed(seeded: Seeded, role: str) -> None:
    wrong: list[str] = []
    for (endpoint, method), allowed in sorted(ALLOWED.items()):
        if endpoint == "auth.logout":
            continue  # logging out would end the walk; tested in test_web_auth
        client = client_as(seeded.app, role)
        status = call(client, method, url_for_rule(seeded, endpoint))
        if OPEN in allowed:  # an empty login form is a failed login
            ok = status in ({200} if method == "GET" else {*POST_ANSWERS, 401})
        elif role not in allowed:
            ok = status == 403
        elif method == "GET":
            ok = status == (302 if (endpoint, role) in REDIRECTING_GETS else 200)
        else:
            ok = status in POST_ANSWERS
        if not ok:
            wrong.append(f"{method} {endpoint} as {role}: {status}")
    assert wrong == []


def test_strangers_are_sent_to_the_login_page_everywhere_but_the_open_routes(
    seeded: Seeded,
) -> None:
    wrong: list[str] = []
    for (endpoint, method), allowed in sorted(ALLOWED.items()):
        client = seeded.app.test_client()
        url = url_for_rule(seeded, endpoint)
        if OPEN in allowed:
            continue
        if method == "GET":
            response = client.get(url)
        else:
            response = client.post(url, data={"csrf_token": csrf_token(client)})
        location = response.headers.get("Location", "")
        if response.status_code != 302 or not location.startswith("/login"):
            wrong.append(f"{method} {endpoint}: {response.status_code} {location}")
    assert wrong == []


def test_a_clinician_cannot_open_a_colleagues_page(seeded: Seeded) -> None:
    client = client_as(seeded.app, "clinician")
    assert client.get(f"/n/{seeded.network_id}/people/S02").status_code == 403
    assert client.get(f"/n/{seeded.network_id}/people/{CLINICIAN_STAFF}").status_code == 200


def test_a_practice_cannot_open_another_practice(seeded: Seeded) -> None:
    client = client_as(seeded.app, "practice")
    assert client.get(f"/n/{seeded.network_id}/sites/P02/cover").status_code == 403
    assert client.get(f"/n/{seeded.network_id}/sites/P02/feed").status_code == 403
    grid = f"/n/{seeded.network_id}/weeks/{WEEK}/grid?by=site&site=P02"
    assert client.get(grid).status_code == 403
