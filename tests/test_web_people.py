"""People pages: a person's rota and leave requests, the manager's decisions, cover requests.

Every test runs the real app on a real database with CSRF on; leave reasons
are health data, so several tests search whole pages for them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from scheduler.checks.validator import check_rota
from scheduler.domain import LEAVE_REQUESTS, Assignment, Leave, LeaveKind
from scheduler.storage.db import make_engine, session_scope
from scheduler.storage.models.app import AuditRecord, CoverRequestRecord, LeaveRequestRecord
from scheduler.storage.repository import approved_leave, bundle_with_leave
from scheduler.storage.rotas import save_rota
from scheduler.usecases.planning import plan_week
from scheduler.usecases.requests import CoverChoices, RequestError, check_cover_form
from solver import SolveOptions
from tests.web_support import ACCOUNTS, CLINICIAN_STAFF, PRACTICE_SITE, client_as, post, seeded_app

ROLES = ("manager", "coordinator", "practice", "clinician", "other_clinician")
WEEK = "2026-W49"  # Mon 2026-11-30 to Sun 2026-12-06: the tiny network's dated rows
REASON = "hospital appointment for a private condition"
NOTE = "our locum cancelled at short notice"
GOOD_LEAVE = {"start": "2026-12-01", "end": "2026-12-02", "kind": "sick", "reason": REASON}
GOOD_COVER = {
    "date": "2026-12-01",
    "session_id": "AM",
    "role": "GP",
    "skill": "",
    "people": "1",
    "note": NOTE,
}


@dataclasses.dataclass
class Site:
    """The seeded app, its network and a database to look into."""

    app: Flask
    network_id: int
    db_url: str

    def client(self, role: str) -> FlaskClient:
        return client_as(self.app, role)

    def rows(self, table: Any) -> list[Any]:
        engine = make_engine(self.db_url)
        try:
            with session_scope(engine) as session:
                found = list(session.scalars(select(table).order_by(table.id)))
                session.expunge_all()
                return found
        finally:
            engine.dispose()

    def url(self, path: str) -> str:
        return f"/n/{self.network_id}{path}"


@pytest.fixture
def site(db_url: str) -> Iterator[Site]:
    app, network_id = seeded_app(db_url)
    yield Site(app, network_id, db_url)


def ask_leave(site: Site, who: str = "clinician", **changes: str) -> Any:
    client = site.client(who)
    return post(client, site.url(f"/people/{CLINICIAN_STAFF}/leave"), {**GOOD_LEAVE, **changes})


def text(response: Any) -> str:
    return str(response.get_data(as_text=True))


def save_week(site: Site, state: str, assignments: list[Assignment]) -> None:
    engine = make_engine(site.db_url)
    try:
        with session_scope(engine) as session:
            save_rota(
                session,
                site.network_id,
                WEEK,
                assignments,
                state=state,
                status="OPTIMAL",
                objective=0.0,
                bound=0.0,
                gap=0.0,
                seconds=0.1,
                summary={},
            )
    finally:
        engine.dispose()


# -- who may use which route ------------------------------------------------------------


def route_table(site: Site) -> list[tuple[str, str, dict[str, str], dict[str, int]]]:
    """Each route with the answer every role gets; 302 is a form's redirect after success."""
    staff = ("manager", "coordinator")
    leave = site.url(f"/people/{CLINICIAN_STAFF}/leave")
    cover = site.url(f"/sites/{PRACTICE_SITE}/cover")
    return [
        ("GET", site.url(f"/people/{CLINICIAN_STAFF}"), {}, expect((*staff, "clinician"), 200)),
        ("POST", leave, GOOD_LEAVE, expect((*staff, "clinician"), 302)),
        ("GET", site.url("/leave"), {}, expect(staff, 200)),
        ("POST", site.url("/leave/1"), {"decision": "approve"}, expect(("manager",), 302)),
        ("GET", cover, {}, expect((*staff, "practice"), 200)),
        ("POST", cover, GOOD_COVER, expect((*staff, "practice"), 302)),
        ("GET", site.url("/sites/P02/cover"), {}, expect(staff, 200)),
        ("POST", site.url("/sites/P02/cover"), GOOD_COVER, expect(staff, 302)),
        ("GET", site.url("/cover"), {}, expect(staff, 200)),
        ("POST", site.url("/cover/1"), {"decision": "approve"}, expect(("manager",), 302)),
    ]


def expect(allowed: tuple[str, ...], code: int) -> dict[str, int]:
    return {role: code if role in allowed else 403 for role in ROLES}


def test_every_people_route_answers_each_role_as_expected(site: Site) -> None:
    clients = {role: site.client(role) for role in ROLES}
    post(clients["manager"], site.url(f"/people/{CLINICIAN_STAFF}/leave"), GOOD_LEAVE)
    post(clients["manager"], site.url(f"/sites/{PRACTICE_SITE}/cover"), GOOD_COVER)
    wrong = []
    for method, url, data, answers in route_table(site):
        stranger = site.app.test_client()
        anonymous = stranger.get(url) if method == "GET" else post(stranger, url, data)
        if anonymous.status_code != 302 or "/login" not in anonymous.headers["Location"]:
            wrong.append((method, url, "anonymous", anonymous.status_code))
        for role, code in answers.items():
            client = clients[role]
            got = client.get(url) if method == "GET" else post(client, url, data)
            if got.status_code != code:
                wrong.append((method, url, role, got.status_code))
    assert wrong == []


def test_a_post_without_the_csrf_token_is_refused(site: Site) -> None:
    client = site.client("clinician")
    response = client.post(site.url(f"/people/{CLINICIAN_STAFF}/leave"), data=GOOD_LEAVE)
    assert response.status_code == 400
    assert site.rows(LeaveRequestRecord) == []


def test_unknown_person_or_site_is_404(site: Site) -> None:
    manager = site.client("manager")
    assert manager.get(site.url("/people/S99")).status_code == 404
    assert manager.get(site.url("/sites/P99/cover")).status_code == 404
    assert manager.get("/n/999/people/S01").status_code == 403  # not the manager's network


@pytest.mark.parametrize("week", ["week49", "9999-W52", "0001-W01"])
def test_a_malformed_week_is_404_saying_the_expected_form(site: Site, week: str) -> None:
    response = site.client("clinician").get(site.url(f"/people/{CLINICIAN_STAFF}?week={week}"))
    assert response.status_code == 404
    assert "2026-W49" in text(response)


# -- the person page -------------------------------------------------------------------


def test_person_page_shows_published_sessions_and_hours_against_contract(site: Site) -> None:
    tuesday = dt.date(2026, 12, 1)
    save_week(site, "published", [Assignment(tuesday, "AM", "P01", CLINICIAN_STAFF)])
    save_week(site, "draft", [Assignment(tuesday, "EVE", "HUB1", CLINICIAN_STAFF)])
    page = text(site.client("clinician").get(site.url(f"/people/{CLINICIAN_STAFF}?week={WEEK}")))
    assert "Morning surgery" in page
    assert "Planned 4.5 of 36 contract hours (31.5 under)" in page
    assert "Evening enhanced access" not in page  # a draft may change: not the clinician's
    assert "Create my calendar link" in page
    assert ".ics" not in page
    manager = text(site.client("manager").get(site.url(f"/people/{CLINICIAN_STAFF}?week={WEEK}")))
    assert "Evening enhanced access" in manager
    assert "draft: not published" in manager
    assert "away from home site" in manager  # HUB1 is not S01's home site


def test_a_week_without_a_published_rota_says_so(site: Site) -> None:
    page = text(site.client("clinician").get(site.url(f"/people/{CLINICIAN_STAFF}?week={WEEK}")))
    assert "No published rota for this week yet." in page


# -- leave requests ---------------------------------------------------------------------


def test_a_clinician_requests_leave(site: Site) -> None:
    clinician = site.client("clinician")
    response = post(clinician, site.url(f"/people/{CLINICIAN_STAFF}/leave"), GOOD_LEAVE)
    assert response.status_code == 302
    (stored,) = site.rows(LeaveRequestRecord)
    assert (stored.staff_id, stored.state, stored.kind, stored.reason) == (
        CLINICIAN_STAFF,
        "requested",
        "sick",
        REASON,
    )
    assert (stored.start_date, stored.end_date) == (dt.date(2026, 12, 1), dt.date(2026, 12, 2))
    assert stored.requested_by == ACCOUNTS.clinician
    page = text(clinician.get(response.headers["Location"]))
    assert "Leave requested from Tue 2026-12-01 to Wed 2026-12-02" in page
    assert "requested" in page


def test_the_audit_log_keeps_no_leave_kind_or_reason(site: Site) -> None:
    ask_leave(site)
    post(site.client("manager"), site.url("/leave/1"), {"decision": "approve"})
    entries = [e for e in site.rows(AuditRecord) if e.action.startswith("leave")]
    assert [e.action for e in entries] == ["leave requested", "leave approved"]
    for entry in entries:
        logged = repr((entry.subject, entry.before, entry.after))
        assert REASON not in logged
        assert "sick" not in logged
    assert entries[1].before["state"] == "requested"
    assert entries[1].after["state"] == "approved"


@pytest.mark.parametrize(
    ("changes", "field_text"),
    [
        ({"start": ""}, "First day: this date is required"),
        ({"start": "01/12/2026"}, "First day: &#39;01/12/2026&#39; is not a date"),
        ({"end": "2026-11-30"}, "Last day: the last day is before the first"),
        ({"end": "2028-01-01"}, "Last day: ask for at most 366 days"),
        ({"kind": "holiday"}, "Kind of leave: choose one of annual, study, sick"),
        ({"reason": "x" * 2001}, "Reason: keep it under 2000 characters"),
    ],
)
def test_a_leave_request_with_a_bad_field_is_refused_naming_it(
    site: Site, changes: dict[str, str], field_text: str
) -> None:
    response = ask_leave(site, **changes)
    assert response.status_code == 400
    page = text(response)
    assert field_text in page
    assert "The form was not saved" in page
    assert site.rows(LeaveRequestRecord) == []


def test_reasons_reach_managers_and_coordinators_only(site: Site) -> None:
    ask_leave(site)
    for role in ("manager", "coordinator"):
        assert REASON in text(site.client(role).get(site.url("/leave")))
    assert REASON in text(site.client("manager").get(site.url(f"/people/{CLINICIAN_STAFF}")))
    for role in ("clinician", "other_clinician", "practice"):
        opened = pages_open_to(site, role)
        assert opened, f"{role} could open no page at all"
        leaked = [url for url, page in opened.items() if REASON in page]
        assert leaked == [], f"{role} sees the reason on {leaked}"


def pages_open_to(site: Site, role: str) -> dict[str, str]:
    """Every GET page of the whole app this role gets a 200 for, with its HTML."""
    values = {
        "network_id": str(site.network_id),
        "staff_id": CLINICIAN_STAFF,
        "site_id": PRACTICE_SITE,
        "week": WEEK,
        "job_id": "1",
        "name": "rota.csv",
        "request_id": "1",
    }
    client = site.client(role)
    opened = {}
    for rule in site.app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or rule.endpoint == "static":
            continue
        if not set(rule.arguments) <= set(values):
            continue
        url = re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: values[m.group(1)], rule.rule)
        response = client.get(url, follow_redirects=True)
        if response.status_code == 200 and response.mimetype == "text/html":
            opened[url] = text(response)
    return opened


def test_a_coordinator_sees_the_list_but_may_not_decide(site: Site) -> None:
    ask_leave(site)
    coordinator = site.client("coordinator")
    page = text(coordinator.get(site.url("/leave")))
    assert REASON in page
    assert 'value="approve"' not in page
    assert post(coordinator, site.url("/leave/1"), {"decision": "approve"}).status_code == 403
    assert [r.state for r in site.rows(LeaveRequestRecord)] == ["requested"]
    assert 'value="approve"' in text(site.client("manager").get(site.url("/leave")))


def test_deciding_an_unknown_request_or_with_a_bad_decision(site: Site) -> None:
    ask_leave(site)
    manager = site.client("manager")
    assert post(manager, site.url("/leave/99"), {"decision": "approve"}).status_code == 404
    response = post(manager, site.url("/leave/1"), {"decision": "maybe"}, follow_redirects=True)
    assert "decision: choose approve or decline" in text(response)
    assert [r.state for r in site.rows(LeaveRequestRecord)] == ["requested"]


def test_declined_leave_does_not_count_for_planning(site: Site) -> None:
    ask_leave(site)
    post(site.client("manager"), site.url("/leave/1"), {"decision": "decline"})
    assert [r.state for r in site.rows(LeaveRequestRecord)] == ["declined"]
    engine = make_engine(site.db_url)
    try:
        with session_scope(engine) as session:
            assert approved_leave(session, site.network_id) == ()
    finally:
        engine.dispose()


def test_approved_leave_is_planned_around(site: Site) -> None:
    ask_leave(site)
    response = post(site.client("manager"), site.url("/leave/1"), {"decision": "approve"})
    assert response.status_code == 302
    engine = make_engine(site.db_url)
    try:
        with session_scope(engine) as session:
            leave = approved_leave(session, site.network_id)
            bundle = bundle_with_leave(session, site.network_id)
    finally:
        engine.dispose()
    away = (dt.date(2026, 12, 1), dt.date(2026, 12, 2))
    assert leave == (Leave(CLINICIAN_STAFF, *away, LeaveKind.SICK, row=1, source=LEAVE_REQUESTS),)
    assert leave[0] in bundle.leave  # the network's bundle plans around approved leave
    merged = bundle
    dates = tuple(dt.date(2026, 11, 30) + dt.timedelta(days=i) for i in range(7))
    on_leave = Assignment(away[0], "AM", "P01", CLINICIAN_STAFF)
    violations = [
        v for v in check_rota(merged, dates, [on_leave]).violations if v.rule_id == "leave"
    ]
    assert len(violations) == 1
    assert "(leave requests:1)" in violations[0].message
    outcome = plan_week(merged, WEEK, SolveOptions(time_limit=10, workers=1))
    assert outcome.result.status.has_rota
    mine = [a for a in outcome.assignments if a.staff_id == CLINICIAN_STAFF]
    assert mine, "S01 should still work on the days they are not away"
    assert [a for a in mine if a.date in away] == []


# -- cover requests ---------------------------------------------------------------------


def ask_cover(
    site: Site, who: str = "practice", target: str = PRACTICE_SITE, **changes: str
) -> Any:
    client = site.client(who)
    return post(client, site.url(f"/sites/{target}/cover"), {**GOOD_COVER, **changes})


def test_a_practice_asks_for_cover(site: Site) -> None:
    practice = site.client("practice")
    response = post(practice, site.url(f"/sites/{PRACTICE_SITE}/cover"), GOOD_COVER)
    assert response.status_code == 302
    (stored,) = site.rows(CoverRequestRecord)
    assert (stored.site_id, stored.date, stored.session_id, stored.role, stored.skill) == (
        PRACTICE_SITE,
        dt.date(2026, 12, 1),
        "AM",
        "GP",
        None,
    )
    assert (stored.people, stored.note, stored.state) == (1, NOTE, "requested")
    page = text(practice.get(response.headers["Location"]))
    assert "Cover requested for AM on Tue 2026-12-01" in page
    listed = text(site.client("coordinator").get(site.url("/cover")))
    assert NOTE in listed
    assert "requested" in listed
    (entry,) = [e for e in site.rows(AuditRecord) if e.action == "cover requested"]
    assert entry.after["people"] == 1
    assert NOTE not in repr(entry.after)


@pytest.mark.parametrize(
    ("changes", "field_text"),
    [
        ({"date": "tomorrow"}, "Date: &#39;tomorrow&#39; is not a date"),
        ({"date": "2026-12-05"}, "Session: AM runs on Mon, Tue, Wed, Thu, Fri, not on Sat"),
        ({"session_id": "NIGHT"}, "Session: choose one of the network&#39;s sessions"),
        ({"role": "DENTIST"}, "Role: choose one of the network&#39;s roles"),
        ({"skill": "cytology"}, "Skill: nobody with role GP has the skill"),
        ({"people": "0"}, "People: ask for at least 1 person"),
        ({"people": "two"}, "People: &#39;two&#39; is not a number"),
        ({"people": "9"}, "People: the network has only 4 who could come"),
        ({"note": "n" * 2001}, "Note: keep it under 2000 characters"),
    ],
)
def test_a_cover_request_with_a_bad_field_is_refused_naming_it(
    site: Site, changes: dict[str, str], field_text: str
) -> None:
    response = ask_cover(site, **changes)
    assert response.status_code == 400
    assert field_text in text(response)
    assert site.rows(CoverRequestRecord) == []


def test_cover_in_a_network_without_staff_says_what_is_missing() -> None:
    with pytest.raises(RequestError) as refused:
        check_cover_form(GOOD_COVER, CoverChoices(sessions=(), staff=()))
    assert refused.value.problems["role"] == (
        "the network has no staff yet; a manager must import its staff first"
    )


def test_a_practice_cannot_ask_for_another_site(site: Site) -> None:
    practice = site.client("practice")
    assert practice.get(site.url("/sites/P02/cover")).status_code == 403
    assert ask_cover(site, target="P02").status_code == 403
    assert site.rows(CoverRequestRecord) == []


def test_the_manager_answers_a_cover_request(site: Site) -> None:
    ask_cover(site)
    assert (
        post(site.client("coordinator"), site.url("/cover/1"), {"decision": "approve"}).status_code
        == 403
    )
    manager = site.client("manager")
    response = post(manager, site.url("/cover/1"), {"decision": "approve"}, follow_redirects=True)
    assert "Cover request 1 (P01) approved." in text(response)
    assert [r.state for r in site.rows(CoverRequestRecord)] == ["approved"]
    again = post(manager, site.url("/cover/1"), {"decision": "approve"}, follow_redirects=True)
    assert "cover request 1 is already approved" in text(again)
    (entry,) = [e for e in site.rows(AuditRecord) if e.action == "cover approved"]
    assert (entry.actor, entry.before["state"], entry.after["state"]) == (
        ACCOUNTS.manager,
        "requested",
        "approved",
    )
