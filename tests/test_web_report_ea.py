"""The enhanced-access page and downloads, through Flask's test client with CSRF on.

The tiny network's week 2026-W49 is planned and published: its evenings are
covered (the solver's enhanced-access rule sees to it) but it has no Saturday
session at all, so the Saturday window is a gap the report must show.
"""

from __future__ import annotations

import io
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from openpyxl import load_workbook

from scheduler.reports.ea import check_weeks
from scheduler.usecases.importing import import_bundle
from tests.test_report_ea import ROTA, ea_bundle
from tests.web_support import TINY, client_as, publish_planned_week, seeded_app
from web.report_ea import minutes_chart

WEEK = "2026-W49"
SVG = "{http://www.w3.org/2000/svg}"
SATURDAY_GAPS = [
    "Sat 2026-12-05 09:00-17:00: no bookable clinician",
    "Sat 2026-12-05 09:00-17:00: no GP present",
]


@dataclass(frozen=True)
class Seeded:
    app: Flask
    db_url: str
    network_id: int

    def page(self, week: str = WEEK) -> str:
        return f"/n/{self.network_id}/reports/ea?week={week}"

    def download(self, name: str, week: str = WEEK) -> str:
        return f"/n/{self.network_id}/reports/ea/{name}?week={week}"


@pytest.fixture
def seeded(db_url: str) -> Iterator[Seeded]:
    app, network_id = seeded_app(db_url, FIXED_TODAY="2026-12-02")
    publish_planned_week(db_url, network_id, WEEK)
    yield Seeded(app, db_url, network_id)


def text_of(seeded: Seeded, role: str, url: str) -> str:
    response = client_as(seeded.app, role).get(url)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data(as_text=True)


@pytest.mark.parametrize("role", ["manager", "coordinator"])
def test_page_shows_the_verdict_gaps_and_chart(seeded: Seeded, role: str) -> None:
    html = text_of(seeded, role, seeded.page())
    assert "<h1>Enhanced access, week 2026-W49</h1>" in html
    assert "<strong>Fail.</strong>" in html
    assert "2 gaps in required windows" in html
    assert "of a floor of 660 (60 per 1,000 x adjusted population 11,000)" in html
    assert '<th scope="row">Sat 2026-12-05</th>\n        <td>09:00</td><td>17:00</td>' in html
    assert "no bookable clinician" in html and "no GP present" in html
    assert 'id="ea-minutes-title">Enhanced-access minutes vs floor per week</title>' in html
    for week in ("2026-W47", "2026-W48", "2026-W49", "2026-W50", "2026-W51"):
        assert f'?week={week}">{week}</a>' in html
    assert f"/reports/ea/ea.xlsx?week={WEEK}" in html


@pytest.mark.parametrize("role", ["practice", "clinician"])
def test_page_and_downloads_are_refused_to_practices_and_clinicians(
    seeded: Seeded, role: str
) -> None:
    client = client_as(seeded.app, role)
    assert client.get(seeded.page()).status_code == 403
    assert client.get(seeded.download("ea.xlsx")).status_code == 403


def test_page_defaults_to_this_week(seeded: Seeded) -> None:
    html = text_of(seeded, "manager", f"/n/{seeded.network_id}/reports/ea")
    assert "<h1>Enhanced access, week 2026-W49</h1>" in html


def test_a_bad_week_names_the_field(seeded: Seeded) -> None:
    response = client_as(seeded.app, "manager").get(seeded.page("week 49"))
    assert response.status_code == 400
    assert "week: &#39;week 49&#39; is not an ISO week" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("week", "shown"),
    [("1900-W01", ["1900-W01", "1900-W02", "1900-W03"]),
     ("2999-W52", ["2999-W50", "2999-W51", "2999-W52"])],
)  # fmt: skip
def test_the_first_and_last_weeks_chart_only_weeks_that_exist(
    seeded: Seeded, week: str, shown: list[str]
) -> None:
    # Two weeks either side would reach 1899 or 3000, which no week may be in: was a 500.
    html = text_of(seeded, "manager", seeded.page(week))
    assert f"<h1>Enhanced access, week {week}</h1>" in html
    assert f"Minutes against the floor, {shown[0]} to {shown[-1]}</h2>" in html


def test_unpublished_week_says_nothing_is_published(seeded: Seeded) -> None:
    html = text_of(seeded, "manager", seeded.page("2026-W50"))
    assert "Nothing is published for 2026-W50" in html


def test_week_pages_link_to_the_report(seeded: Seeded) -> None:
    html = text_of(seeded, "manager", f"/n/{seeded.network_id}/weeks/{WEEK}")
    assert f'href="/n/{seeded.network_id}/reports/ea?week={WEEK}">Enhanced access</a>' in html


def test_xlsx_download_round_trips_the_figures(seeded: Seeded) -> None:
    response = client_as(seeded.app, "manager").get(seeded.download("ea.xlsx"))
    assert response.status_code == 200
    assert (
        'filename="Tiny-Test-Network-2026-W49-ea.xlsx"' in response.headers["Content-Disposition"]
    )
    book = load_workbook(io.BytesIO(response.data))
    summary = list(book["summary"].iter_rows(values_only=True))
    figures = dict(zip(summary[0], summary[1], strict=True))
    assert (figures["week"], figures["result"], figures["floor_minutes"]) == (WEEK, "fail", 660)
    assert figures["required_gaps"] == 2 and figures["published"] == "yes"
    gaps = [row[-1] for row in book["gaps"].iter_rows(min_row=2, values_only=True)]
    assert gaps == SATURDAY_GAPS


def test_gaps_csv_download(seeded: Seeded) -> None:
    response = client_as(seeded.app, "coordinator").get(seeded.download("ea-gaps.csv"))
    assert response.status_code == 200 and response.mimetype == "text/csv"
    lines = response.get_data(as_text=True).splitlines()
    assert [line.rsplit(",", 1)[1] for line in lines[1:]] == SATURDAY_GAPS


def test_unknown_download_is_not_found(seeded: Seeded) -> None:
    response = client_as(seeded.app, "manager").get(seeded.download("ea.pdf"))
    assert response.status_code == 404


def test_network_without_the_section_says_so(seeded: Seeded, tmp_path: Path) -> None:
    folder = Path(shutil.copytree(TINY, tmp_path / "tiny"))
    toml = folder / "network.toml"
    toml.chmod(0o644)
    toml.write_text(toml.read_text(encoding="utf-8").split("[enhanced_access]")[0])
    network_id, _ = import_bundle(seeded.db_url, folder)  # the same name: replaces it
    assert network_id == seeded.network_id
    html = text_of(seeded, "manager", seeded.page())
    assert "has no <code>[enhanced_access]</code> section" in html
    response = client_as(seeded.app, "manager").get(seeded.download("ea.xlsx"))
    assert response.status_code == 404


def test_chart_has_one_bar_per_week_and_the_floor_line() -> None:
    checks = check_weeks(ea_bundle(), WEEK, 2, ROTA)
    root = ET.fromstring(str(minutes_chart(checks)))
    assert root.findtext(f"{SVG}title") == "Enhanced-access minutes vs floor per week"
    labels = [t.text for t in root.iter(f"{SVG}text")]
    assert labels == [
        "Minutes delivered",
        "2026-W49",
        "990 min",
        "2026-W50",
        "0 min",
        "Floor 360 min",
    ]
    bars = [r for r in root.iter(f"{SVG}rect") if r.get("height") == "14"]
    assert len(bars) == 2 and float(bars[1].get("width", "")) == 0
    assert len(list(root.iter(f"{SVG}line"))) == 2  # the floor, and the legend pattern's
