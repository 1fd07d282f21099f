"""Links that open: calendar links name the public address when it is set, else the address
the page was opened at (the demo's plain http on 127.0.0.1); event ids never follow the
request; and a deployment without a public address is told so on the feeds page.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest
from icalendar import Calendar

from scheduler.cli.common import EXIT_INPUT
from scheduler.cli.main import main
from scheduler.cli.web import served_address
from scheduler.config import DEFAULT_HOST, public_address
from scheduler.storage.db import make_engine, session_scope
from scheduler.usecases.feeds import issue_token
from tests.feeds.support import FIRST_ROTA, WEEK, save_draft
from tests.web_support import ACCOUNTS, PASSWORD, client_as, login, seeded_app

DEMO = "http://127.0.0.1:5000"
WARNING = "The public address is not set."


def link_on_person_page(page: str) -> str:
    match = re.search(r'class="feed-url" id="[^"]+" value="([^"]+)"', page)
    assert match is not None, "no calendar link on the page"
    return match.group(1)


def test_without_a_public_host_a_link_names_the_address_the_page_was_opened_at(
    db_url: str,
) -> None:
    app, network_id = seeded_app(db_url)
    client = app.test_client()

    def form(path: str, data: dict[str, str], page: str = "/login") -> int:
        html = client.get(page, base_url=DEMO).get_data(as_text=True)
        token = re.search(r'name="csrf-token" content="([^"]+)"', html)
        assert token is not None
        return client.post(
            path, data={**data, "csrf_token": token.group(1)}, base_url=DEMO
        ).status_code

    assert form("/login", {"email": ACCOUNTS.clinician, "password": PASSWORD}) == 302
    person = f"/n/{network_id}/people/S01"
    assert form(f"{person}/feed", {}, page=person) == 302
    page = client.get(person, base_url=DEMO).get_data(as_text=True)
    link = link_on_person_page(page)
    assert link.startswith(f"{DEMO}/feeds/") and link.endswith(".ics")
    assert 'href="webcal://127.0.0.1:5000/feeds/' in page
    assert app.test_client().get(link.removeprefix(DEMO)).status_code == 200


def test_event_ids_keep_one_host_whatever_address_a_calendar_uses(db_url: str) -> None:
    app, network_id = seeded_app(db_url)
    engine = make_engine(db_url)
    try:
        with session_scope(engine) as db:
            save_draft(db, network_id, FIRST_ROTA, WEEK)
            from scheduler.usecases.publishing import publish_week

            publish_week(db, network_id, WEEK, "test")
            token = issue_token(db, network_id, "hub", "", app.config["SECRET_KEY"])
    finally:
        engine.dispose()
    seen = []
    for base in (DEMO, "http://localhost:5000", "http://10.0.0.7"):
        body = app.test_client().get(f"/feeds/{token}.ics", base_url=base).data
        seen.append(sorted(str(e["UID"]) for e in Calendar.from_ical(body).walk("VEVENT")))
    assert seen[0] and seen[0] == seen[1] == seen[2]
    assert all(uid.endswith(f"@{DEFAULT_HOST}") for uid in seen[0])


@pytest.mark.parametrize(("public_host", "warned"), [(None, True), ("rota.example.test", False)])
def test_outside_debug_the_feeds_page_says_when_the_public_address_is_not_set(
    db_url: str, public_host: str | None, warned: bool
) -> None:
    config = {"TESTING": False, "SECRET_KEY": "a configured secret"}
    if public_host:
        config["PUBLIC_HOST"] = public_host
    app, network_id = seeded_app(db_url, **config)
    client = app.test_client()
    login(client, ACCOUNTS.manager)
    page = client.get(f"/n/{network_id}/feeds").get_data(as_text=True)
    assert (WARNING in page) is warned
    if warned:
        assert "These links start with http://localhost, the" in page


def test_in_a_test_run_the_feeds_page_does_not_warn(db_url: str) -> None:
    app, network_id = seeded_app(db_url)
    page = client_as(app, "manager").get(f"/n/{network_id}/feeds").get_data(as_text=True)
    assert WARNING not in page


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", {"PUBLIC_HOST": "127.0.0.1:5000", "PUBLIC_SCHEME": "http"}),
        ("::1", {"PUBLIC_HOST": "[::1]:5000", "PUBLIC_SCHEME": "http"}),
        ("0.0.0.0", {}),  # names no machine: links follow each request instead
    ],
)
def test_the_demo_links_to_the_address_it_serves(
    host: str, expected: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ROTAPOOL_PUBLIC_HOST", raising=False)
    assert served_address(argparse.Namespace(host=host, port=5000)) == expected


def test_the_demo_keeps_a_configured_public_address(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROTAPOOL_PUBLIC_HOST", "rota.example.test")
    assert served_address(argparse.Namespace(host="127.0.0.1", port=5000)) == {}


def test_a_public_scheme_other_than_http_stops_the_app_naming_the_setting(db_url: str) -> None:
    from web import ConfigurationError, create_app

    with pytest.raises(ConfigurationError, match="PUBLIC_SCHEME: give https or http"):
        create_app({"TESTING": True, "DATABASE_URL": db_url, "PUBLIC_SCHEME": "gopher"})


@pytest.mark.parametrize(
    ("config", "base"),
    [
        ({}, f"http://{DEFAULT_HOST}"),  # the development server serves no TLS
        ({"PUBLIC_HOST": "rota.example.test"}, "https://rota.example.test"),
        ({"PUBLIC_HOST": "rota.lan:8080", "PUBLIC_SCHEME": "http"}, "http://rota.lan:8080"),
    ],
)
def test_links_begin_with_https_only_for_a_configured_host(
    config: dict[str, str], base: str
) -> None:
    assert public_address(config).base == base


def test_the_demo_says_a_bad_public_scheme_before_doing_any_work(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ROTAPOOL_PUBLIC_SCHEME", "gopher")
    database = tmp_path / "demo.sqlite"
    assert main(["demo", "--database", f"sqlite:///{database}", "--no-serve"]) == EXIT_INPUT
    assert "PUBLIC_SCHEME: give https or http" in capsys.readouterr().err
    assert not database.exists()  # nothing imported, nothing solved
