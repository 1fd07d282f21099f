"""The fairness page and its downloads, through Flask's test client.

The tiny network (P01 6,200 patients, P02 4,800: 56.36 % and 43.64 %) gets
a hand-made published week 2026-W48: four hub evenings, two by P01's GPs and
two by P02's (3 h each), and Imran (home P01) lent to P02 one morning (4.5 h).
"""

from __future__ import annotations

import datetime as dt
import io
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from flask import Flask
from openpyxl import load_workbook

from scheduler.domain import Assignment
from scheduler.reports.fairness import (
    FAIRNESS_HEADER,
    fairness_bytes,
    fairness_report,
    fairness_rows,
    rolling_period,
)
from scheduler.storage.db import make_engine, session_scope
from scheduler.usecases.publishing import publish_week
from tests.test_fairness import HISTORY, PERIOD, network
from tests.web_support import client_as, save_week, seeded_app
from web.report_fairness import share_chart

HISTORY_WEEK = "2026-W48"
MON = dt.date(2026, 11, 23)
PUBLISHED = [
    Assignment(MON, "EVE", "HUB1", "S01"),
    Assignment(MON + dt.timedelta(days=1), "EVE", "HUB1", "S02"),
    Assignment(MON + dt.timedelta(days=2), "EVE", "HUB1", "S03"),
    Assignment(MON + dt.timedelta(days=3), "EVE", "HUB1", "S04"),
    Assignment(MON, "AM", "P02", "S02"),
]
SVG = "{http://www.w3.org/2000/svg}"


def publish_history(db_url: str, network_id: int, cells: list[Assignment] = PUBLISHED) -> None:
    """Save the hand-made week as a draft and publish it (the hard rules are checked)."""
    engine = make_engine(db_url)
    try:
        with session_scope(engine) as db:
            save_week(db, network_id, HISTORY_WEEK, cells)
            publish_week(db, network_id, HISTORY_WEEK, "test")
    finally:
        engine.dispose()


@dataclass(frozen=True)
class Seeded:
    app: Flask
    network_id: int

    def page(self, query: str = "week=2026-W49&weeks=2") -> str:
        return f"/n/{self.network_id}/reports/fairness?{query}"


@pytest.fixture
def seeded(db_url: str) -> Iterator[Seeded]:
    app, network_id = seeded_app(db_url, FIXED_TODAY="2026-12-02")
    publish_history(db_url, network_id)
    yield Seeded(app, network_id)


def test_the_page_shows_the_chart_and_the_figures(seeded: Seeded) -> None:
    response = client_as(seeded.app, "manager").get(seeded.page())
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.count("<h1>") == 1 and "Fairness between practices" in html
    assert "2026-W48 to 2026-W49 (2 weeks, 2026-11-23 to 2026-12-06)" in html
    assert "Hub duty share vs list share</title>" in html
    # P01: 3 h of 6 at the hub (50 %), fair share 3.38 h; lent 4.5 h of 4.5, fair 2.54 h.
    for figure in ("56.36%", "50.00%", "3.38", "-0.38", "100.00%", "2.54", "+1.96", "-1.96"):
        assert figure in html, figure
    assert html.count('scope="row"') == 6  # two practices and a total, in each of two tables


def test_coordinators_see_it_and_practices_and_clinicians_do_not(seeded: Seeded) -> None:
    assert client_as(seeded.app, "coordinator").get(seeded.page()).status_code == 200
    assert client_as(seeded.app, "practice").get(seeded.page()).status_code == 403
    assert client_as(seeded.app, "clinician").get(seeded.page()).status_code == 403
    stranger = seeded.app.test_client().get(seeded.page())
    assert stranger.status_code == 302 and stranger.headers["Location"].startswith("/login")


def test_without_a_week_the_period_ends_this_week(seeded: Seeded) -> None:
    html = client_as(seeded.app, "manager").get(seeded.page("")).get_data(as_text=True)
    assert "2026-W38 to 2026-W49 (12 weeks" in html


@pytest.mark.parametrize(
    ("query", "field"), [("week=2026-W60", "week"), ("week=2026-W49&weeks=0", "weeks")]
)
def test_a_bad_period_is_refused_naming_the_field(seeded: Seeded, query: str, field: str) -> None:
    response = client_as(seeded.app, "manager").get(seeded.page(query))
    assert response.status_code == 400
    assert f"{field}:" in response.get_data(as_text=True)


def test_an_unknown_network_is_a_404(seeded: Seeded) -> None:
    client = client_as(seeded.app, "manager")
    assert client.get("/n/999/reports/fairness?week=2026-W49").status_code in {403, 404}


def test_the_csv_download_is_the_report(seeded: Seeded) -> None:
    client = client_as(seeded.app, "manager")
    url = f"/n/{seeded.network_id}/reports/fairness.csv?week=2026-W49&weeks=2"
    response = client.get(url)
    assert response.status_code == 200
    assert response.content_type.startswith("text/csv")
    assert (
        'filename="Tiny-Test-Network-2026-W48-to-2026-W49-fairness.csv"'
        in response.headers["Content-Disposition"]
    )
    lines = response.get_data(as_text=True).splitlines()
    assert lines[0] == ",".join(FAIRNESS_HEADER)
    assert lines[1:] == [
        "P01,Mill Lane Surgery,6200,56.36,3.00,50.00,3.38,-0.38,4.50,100.00,2.54,1.96",
        "P02,Station Road Surgery,4800,43.64,3.00,50.00,2.62,0.38,0.00,0.00,1.96,-1.96",
    ]


def test_the_workbook_download_round_trips(seeded: Seeded) -> None:
    client = client_as(seeded.app, "coordinator")
    url = f"/n/{seeded.network_id}/reports/fairness.xlsx?week=2026-W49&weeks=2"
    response = client.get(url)
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.get_data()), read_only=True)
    rows = list(book["fairness"].iter_rows(values_only=True))
    book.close()
    assert rows[1] == ("P01", "Mill Lane Surgery", 6200, 56.36, 3.0, 50.0, 3.38, -0.38, 4.5,
                       100.0, 2.54, 1.96)  # fmt: skip


def test_the_week_pages_link_to_the_report(seeded: Seeded) -> None:
    html = client_as(seeded.app, "manager").get(f"/n/{seeded.network_id}/weeks/2026-W49")
    assert f"/n/{seeded.network_id}/reports/fairness?week=2026-W49" in html.get_data(as_text=True)


# --------------------------------------------------------------------------- the chart


def test_the_chart_draws_both_series_for_every_practice() -> None:
    report = fairness_report(network(), PERIOD, HISTORY)
    svg = ET.fromstring(str(share_chart(report, "hub")))
    assert svg.findtext(f"{SVG}title") == "Hub duty share vs list share"
    texts = [t.text for t in svg.iter(f"{SVG}text")]
    assert texts[:2] == ["List share", "Hub duty share"]  # the legend
    assert [t for t in texts if t in {"P01", "P02", "P03"}] == ["P01", "P02", "P03"]
    values = [t for t in texts if t and t.endswith("%")]
    # Each practice: its list share, then its hub share (one decimal on the chart).
    assert values == ["60 %", "23.1 %", "30 %", "34.6 %", "10 %", "42.3 %"]
    bars = [r for r in svg.iter(f"{SVG}rect") if r.get("height") == "14"]
    assert len(bars) == 6


def test_the_download_bytes_match_the_rows() -> None:
    report = fairness_report(network(), rolling_period("2026-W49"), HISTORY)
    text = fairness_bytes(report, "csv").decode()
    assert len(text.splitlines()) == 1 + len(fairness_rows(report))
