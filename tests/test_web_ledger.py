"""The recharge ledger page: who may see what, its figures, chart and downloads."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import xml.etree.ElementTree as ET

import openpyxl
import pytest
from flask import Flask

from scheduler.domain import Assignment
from scheduler.storage.db import make_engine, session_scope
from tests.web_support import client_as, save_week, seeded_app

WEEK = "2026-W49"
TUE, WED = dt.date(2026, 12, 1), dt.date(2026, 12, 2)
# S02 (P01 GP, £90) at P02; S01 (P01 GP, £95) and S03 (P02 GP, £100) at the hub;
# S08 (the federation's pharmacist, £32) at P01.
PUBLISHED = [
    Assignment(TUE, "AM", "P02", "S02"),
    Assignment(TUE, "EVE", "HUB1", "S01"),
    Assignment(WED, "EVE", "HUB1", "S03"),
    Assignment(WED, "PM", "P01", "S08"),
]
SVG = "{http://www.w3.org/2000/svg}"


def publish(db_url: str, network_id: int, assignments: list[Assignment]) -> None:
    engine = make_engine(db_url)
    try:
        with session_scope(engine) as db:
            save_week(db, network_id, WEEK, assignments, state="published")
    finally:
        engine.dispose()


@pytest.fixture
def app(db_url: str) -> tuple[Flask, int]:
    app, network_id = seeded_app(db_url, FIXED_TODAY="2026-12-02")
    publish(db_url, network_id, PUBLISHED)
    return app, network_id


def page(app: tuple[Flask, int], role: str, query: str = f"week={WEEK}") -> tuple[int, str]:
    flask_app, network_id = app
    response = client_as(flask_app, role).get(f"/n/{network_id}/reports/recharges?{query}")
    return response.status_code, response.get_data(as_text=True)


def test_a_manager_sees_every_party_pair_and_invoice_line(app: tuple[Flask, int]) -> None:
    status, html = page(app, "manager")
    assert status == 200
    assert "<h1>Recharges: 2026-W49</h1>" in html
    assert "P02 owes P01 £405.00" in html
    assert "HUB1 owes P02 £150.00" in html
    assert "P01 owes FED £144.00" in html
    assert "Hub sessions are charged to the hub" in html
    invoices = html[html.index('id="invoices-heading"') : html.index('id="detail-heading"')]
    hosts = re.findall(r'<th scope="row">(\w+)</th><td>(\w+)</td>', invoices)
    assert hosts == [("HUB1", "P01"), ("HUB1", "P02"), ("P01", "FED"), ("P02", "P01")]
    assert "recharge-invoices.csv" in html and "recharges.xlsx" in html


def test_the_chart_draws_lent_and_borrowed_hours_per_party(app: tuple[Flask, int]) -> None:
    _, html = page(app, "coordinator")
    svg = ET.fromstring(re.search(r"<svg.*?</svg>", html, re.S).group(0))  # type: ignore[union-attr]
    assert svg.findtext(f"{SVG}title") == "Hours lent and borrowed per practice"
    texts = [t.text for t in svg.iter(f"{SVG}text")]
    assert texts[:2] == ["Lent", "Borrowed"]  # the legend
    labels = [t for t in texts if t in {"P01", "P02", "HUB1", "FED"}]
    assert labels == ["P01", "P02", "HUB1", "FED"]
    bars = [r for r in svg.iter(f"{SVG}rect") if r.get("height") == "14"]
    widths = [float(r.get("width", "0")) for r in bars]
    # P01 lent 6 h (the longest bar, the whole plot), borrowed 4.5 h; P02 lent 1.5, borrowed 4.5;
    # the hub borrowed 3 h; the federation lent 4.5 h.
    full = 640 - 150 - 70
    expected = [6, 4.5, 1.5, 4.5, 0, 3, 4.5, 0]
    assert widths == pytest.approx([full * h / 6 for h in expected], abs=0.1)
    assert "6 h" in texts and "4.5 h" in texts
    # The same figures are in the table beside the chart.
    assert re.search(r"P01 Mill Lane Surgery.*?</th>\s*<td>6.00</td><td>£547.50</td>", html, re.S)


def test_a_practice_sees_only_its_own_lines_and_pairs(app: tuple[Flask, int]) -> None:
    status, html = page(app, "practice")  # the practice account of P01
    assert status == 200
    assert "your practice's lines only (P01)" in html
    assert "P02 owes P01 £405.00" in html
    assert "P01 owes FED £144.00" in html
    assert "HUB1 owes P02" not in html and "S03" not in html
    assert "P02 Station Road Surgery" not in html  # no other practice's summary
    assert "HUB1 owes P01 £142.50" in html


def test_a_clinician_may_not_open_the_ledger(app: tuple[Flask, int]) -> None:
    flask_app, network_id = app
    client = client_as(flask_app, "clinician")
    assert client.get(f"/n/{network_id}/reports/recharges").status_code == 403
    url = f"/n/{network_id}/reports/recharges/recharges.xlsx?week={WEEK}"
    assert client.get(url).status_code == 403


def test_the_invoice_csv_download_is_the_command_lines_file(app: tuple[Flask, int]) -> None:
    flask_app, network_id = app
    client = client_as(flask_app, "manager")
    url = f"/n/{network_id}/reports/recharges/recharge-invoices.csv?from=2026-11-30&to=2026-12-06"
    response = client.get(url)
    assert response.status_code == 200
    assert response.content_type == "text/csv; charset=utf-8"
    disposition = response.headers["Content-Disposition"]
    assert 'filename="Tiny-Test-Network-2026-11-30-to-2026-12-06-recharge-invoices.csv"' in (
        disposition
    )
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [(r["host_site"], r["employer"], r["cost"]) for r in rows] == [
        ("HUB1", "P01", "142.50"),
        ("HUB1", "P02", "150.00"),
        ("P01", "FED", "144.00"),
        ("P02", "P01", "405.00"),
    ]


def test_a_practice_download_holds_only_its_own_lines(app: tuple[Flask, int]) -> None:
    flask_app, network_id = app
    client = client_as(flask_app, "practice")
    response = client.get(f"/n/{network_id}/reports/recharges/recharges.xlsx?week={WEEK}")
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.get_data()))
    invoices = list(book["invoices"].iter_rows(min_row=2, values_only=True))
    assert [(r[2], r[3]) for r in invoices] == [("HUB1", "P01"), ("P01", "FED"), ("P02", "P01")]
    assert [r[0] for r in book["practices"].iter_rows(min_row=2, values_only=True)] == ["P01"]


def test_a_bad_period_is_a_400_that_keeps_the_form(app: tuple[Flask, int]) -> None:
    status, html = page(app, "manager", "from=2026-12-10&to=2026-12-01")
    assert status == 400
    assert "to: 2026-12-01 is before from 2026-12-10" in html
    assert 'id="ledger-from"' in html and 'value="2026-12-10"' in html
    status, html = page(app, "manager", "from=2026-12-99&to=2026-12-01")
    assert status == 400 and "from: &#39;2026-12-99&#39; is not a date" in html
    flask_app, network_id = app
    url = f"/n/{network_id}/reports/recharges/recharges.xlsx?week=2026-W99"
    assert client_as(flask_app, "manager").get(url).status_code == 400


def test_a_period_without_a_publication_says_so_and_has_no_download(
    app: tuple[Flask, int],
) -> None:
    status, html = page(app, "manager", "week=2026-W50")
    assert status == 200
    assert "No rota is published between 2026-12-07 and 2026-12-13" in html
    assert "recharge-invoices.csv" not in html
    flask_app, network_id = app
    url = f"/n/{network_id}/reports/recharges/recharge-invoices.csv?week=2026-W50"
    response = client_as(flask_app, "manager").get(url)
    assert response.status_code == 404
    assert "nothing to recharge" in response.get_data(as_text=True)


def test_without_a_period_the_page_shows_this_month_with_quick_links(
    app: tuple[Flask, int],
) -> None:
    status, html = page(app, "manager", "")
    assert status == 200
    assert "<h1>Recharges: 2026-12</h1>" in html  # FIXED_TODAY is 2026-12-02
    assert "Not published, so not counted: 2026-W50, 2026-W51, 2026-W52, 2026-W53." in html
    _, network_id = app
    base = f"/n/{network_id}/reports/recharges"
    for link in ("week=2026-W49", "week=2026-W48", "month=2026-12", "month=2026-11"):
        assert f'href="{base}?{link}"' in html


def test_the_week_pages_link_to_the_ledger_of_their_week(app: tuple[Flask, int]) -> None:
    flask_app, network_id = app
    html = (
        client_as(flask_app, "practice")
        .get(f"/n/{network_id}/weeks/{WEEK}/grid")
        .get_data(as_text=True)
    )
    assert f'href="/n/{network_id}/reports/recharges?week={WEEK}">Recharges</a>' in html


def test_a_practice_with_no_lines_of_its_own_is_told_so(db_url: str) -> None:
    flask_app, network_id = seeded_app(db_url)
    publish(db_url, network_id, [Assignment(WED, "EVE", "HUB1", "S03")])  # P02's GP at the hub
    html = page((flask_app, network_id), "practice")[1]
    assert "P01 lent nobody and borrowed nobody in this period: nothing to recharge." in html
    assert "HUB1 owes P02" not in html
