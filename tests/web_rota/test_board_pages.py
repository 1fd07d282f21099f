"""The week board over HTTP: the page, a cell's panel, edits in place, publish with a check."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from scheduler.storage.db import session_scope
from scheduler.storage.models.network import RotaRecord
from tests.test_publishing import MONDAY, seed_draft, tiny_optimum
from tests.web_rota.support import Site, _cell_form
from tests.web_support import client_as, csrf_token, post, save_week

HX = {"HX-Request": "true"}
MON = MONDAY.isoformat()
CELL = {"cell_site": "P01", "cell_date": MON, "cell_session": "AM"}


def _short_draft(site: Site) -> int:
    """The tiny optimum without Monday's P01 morning: its GP minimum is then unmet."""
    cells = [
        a for a in tiny_optimum() if (a.date, a.site_id, a.session_id) != (MONDAY, "P01", "AM")
    ]
    return seed_draft(site.engine, site.network_id, cells)


def _revision(site: Site) -> int:
    draft = site.draft()
    assert draft is not None
    return draft[0].revision


def _assign(site: Site, client: FlaskClient, staff_id: str, revision: int, **headers: str) -> str:
    form = {
        "action": "assign",
        "staff_id": staff_id,
        "date": MON,
        "session_id": "AM",
        "site_id": "P01",
        "revision": str(revision),
        **CELL,
    }
    response = post(client, site.week("board/edit"), form, headers=headers)
    return response.get_data(as_text=True)


def test_the_board_shows_each_sites_sessions_and_what_is_short(site: Site) -> None:
    _short_draft(site)
    page = client_as(site.app, "manager").get(site.week("board")).get_data(as_text=True)
    for row in ("r-P01-AM", "r-P01-PM", "r-P02-AM", "r-HUB1-EVE"):
        assert f'id="{row}"' in page
    assert 'id="r-HUB1-AM"' not in page  # the hub runs evenings only
    assert f'id="c-P01-{MON}-AM" class="bc bc-short' in page
    short = page[page.index('id="board-short"') :]
    assert "P01</strong> Mon 30 AM" in short and "1 GP short" in short
    assert "short of a minimum" in page and "Publish…" in page


@pytest.mark.parametrize("role", ["practice", "clinician"])
def test_only_managers_and_coordinators_use_the_board(site: Site, role: str) -> None:
    _short_draft(site)
    client = client_as(site.app, role)
    assert client.get(site.week("board")).status_code == 403
    assert client.get(site.week("board/cell"), query_string=CELL).status_code == 403
    response = post(client, site.week("board/edit"), {"action": "assign", **CELL})
    assert response.status_code == 403


def test_a_cell_opens_its_panel_with_people_checked_against_every_rule(site: Site) -> None:
    _short_draft(site)
    client = client_as(site.app, "coordinator")
    response = client.get(site.week("board/cell"), query_string=CELL, headers=HX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html  # a fragment for htmx
    assert "P01 Mill Lane Surgery" in html and "0 of 2 wanted, at least 1" in html
    offered = re.findall(
        r'name="staff_id" value="(S\d+)">\s*<input type="hidden" name="action"', html
    )
    # S02 for the GP, S05 for the nurse; S01 has no hours left, S03 and S04 may not work at P01
    assert "S02" in offered and set(offered) <= {"S02", "S05"}
    without_js = client.get(site.week("board/cell"), query_string=CELL)
    assert without_js.status_code == 302 and "cell_site=P01" in without_js.headers["Location"]


def test_adding_from_the_panel_saves_and_replaces_the_row_and_the_short_list(site: Site) -> None:
    _short_draft(site)
    client = client_as(site.app, "coordinator")
    html = _assign(site, client, "S02", _revision(site), **HX)
    assert "Imran Shah added to P01 AM" in html
    assert 'id="r-P01-AM" class="site-first" hx-swap-oob="true"' in html
    assert 'id="board-short" class="board-short" hx-swap-oob="true"' in html
    assert f'id="c-P01-{MON}-AM" class="bc bc-min' in html  # 1 of 2: minimum met
    draft = site.draft()
    assert draft is not None and draft[0].revision == 1
    assert any(a.staff_id == "S02" and a.site_id == "P01" for a in draft[1].assignments)


def test_a_stale_board_is_refused_and_nothing_changes(site: Site) -> None:
    _short_draft(site)
    client = client_as(site.app, "coordinator")
    before = site.fingerprint()
    html = _assign(site, client, "S02", _revision(site) + 5, **HX)
    assert "someone changed this rota since the board was opened" in html
    assert site.fingerprint() == before


def test_a_refused_edit_names_the_rule_and_the_person(site: Site) -> None:
    _short_draft(site)
    client = client_as(site.app, "coordinator")
    before = site.fingerprint()
    html = _assign(site, client, "S03", _revision(site), **HX)  # S03 may not work at P01
    assert "Not saved: it would break a hard rule" in html and "S03" in html
    assert site.fingerprint() == before


def test_without_javascript_an_edit_redirects_back_to_the_open_cell(site: Site) -> None:
    _short_draft(site)
    client = client_as(site.app, "coordinator")
    response = post(
        client,
        site.week("board/edit"),
        {
            "action": "assign",
            "staff_id": "S02",
            "date": MON,
            "session_id": "AM",
            "site_id": "P01",
            "revision": "0",
            **CELL,
        },
    )
    assert response.status_code == 302 and "cell_session=AM" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Imran Shah added to P01 AM" in page and 'id="panel-title"' in page


def test_an_unknown_filter_value_is_a_404_naming_it(site: Site) -> None:
    _short_draft(site)
    client = client_as(site.app, "manager")
    response = client.get(site.week("board"), query_string={"role": "Wizard"})
    assert response.status_code == 404 and "role: &#39;Wizard&#39;" in response.get_data(
        as_text=True
    )


# -- publishing with a check --------------------------------------------------------------------


def _published(site: Site) -> int:
    with session_scope(site.engine) as session:
        rows = session.scalars(select(RotaRecord).where(RotaRecord.state == "published")).all()
        return len(rows)


def test_publishing_a_short_rota_asks_for_the_tick_first(site: Site) -> None:
    _short_draft(site)
    client = client_as(site.app, "manager")
    check = client.get(site.week("publish")).get_data(as_text=True)
    assert "1 person short of a minimum" in check and 'name="accept_short"' in check
    assert "This is the first version" in check
    refused = post(client, site.week("publish"), {"revision": "0"})
    assert refused.status_code == 409 and "tick the box" in refused.get_data(as_text=True)
    assert _published(site) == 0
    done = post(client, site.week("publish"), {"revision": "0", "accept_short": "yes"})
    assert done.status_code == 302 and _published(site) == 1


def test_the_check_counts_what_changed_since_the_published_version(site: Site) -> None:
    seed_draft(site.engine, site.network_id)
    client = client_as(site.app, "manager")
    assert post(client, site.week("publish"), {"revision": "0"}).status_code == 302
    board = client.get(site.week("board")).get_data(as_text=True)
    found = re.search(r'data-revision="(\d+)"', board)
    assert found
    gone = sorted(tiny_optimum())[0]  # the first edit copies version 1 into a new draft
    form = {**_cell_form(gone, "unassign", int(found.group(1))), **CELL}
    removed = post(client, site.week("board/edit"), form, headers=HX).get_data(as_text=True)
    assert "removed from" in removed
    check = client.get(site.week("publish")).get_data(as_text=True)
    assert "This replaces <strong>version 1</strong>" in check
    assert "1 session</strong> changed for 1 person" in check
    assert csrf_token(client, site.week("publish"))


def test_a_ranked_fix_is_applied_from_the_shortfalls_page_in_one_click(site: Site) -> None:
    _short_draft(site)
    client = client_as(site.app, "manager")
    page = client.get(site.week("shortfalls")).get_data(as_text=True)
    form_html = page[page.index('class="inline apply-fix"') :]
    form_html = form_html[: form_html.index("</form>")]
    fields = dict(re.findall(r'name="([a-z_]+)" value="([^"]*)"', form_html))
    assert fields["action"] in ("assign", "move") and fields["cell_site"] == "P01"
    response = post(client, site.week("board/edit"), fields)
    assert response.status_code == 302 and "cell_site=P01" in response.headers["Location"]
    draft = site.draft()
    assert draft is not None and draft[0].revision == 1
    added = {(a.staff_id, a.site_id) for a in draft[1].assignments if a.date == MONDAY}
    assert (fields["staff_id"], "P01") in added
    after = client.get(site.week("shortfalls")).get_data(as_text=True)
    assert "Every minimum is met" in after


def test_two_weeks_with_the_same_empty_rota_each_show_their_own_days(site: Site) -> None:
    for week in ("2026-W49", "2026-W50"):
        with session_scope(site.engine) as db:
            save_week(db, site.network_id, week, [])
    client = client_as(site.app, "manager")
    first = client.get(site.week("board", week="2026-W49")).get_data(as_text=True)
    second = client.get(site.week("board", week="2026-W50")).get_data(as_text=True)
    assert 'data-date="2026-11-30"' in first and 'data-date="2026-11-30"' not in second
    assert 'data-date="2026-12-07"' in second  # remembered pages are per week


def test_one_day_to_print_names_who_works_where(site: Site) -> None:
    _short_draft(site)
    client = client_as(site.app, "manager")
    week = client.get(site.week("board")).get_data(as_text=True)
    day = client.get(site.week("board") + "?one_day=1&day=1").get_data(as_text=True)
    assert 'class="bc-names"' not in week  # the week shows counts; names would not fit
    tuesday = day[day.index('id="c-P01-2026-12-01-AM"') :]
    names = re.search(r'class="bc-names">([^<]*)<', tuesday)
    assert names is not None and "GP" in names.group(1)
