"""The week pages: overview and heatmap, rota grid, shortfalls with cover, exports, access.

Each test seeds the tiny network, stores a rota planned by the real planner
(or that rota with one assignment taken out, to make a shortfall) and reads
the pages through the Flask test client with CSRF on.  Expected figures are
worked out here from the validator and the export code, not from the page's
own module.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from flask import Flask
from sqlalchemy import select

from scheduler.checks.fixes import shortfall_items
from scheduler.checks.validator import check_rota, coverage_of
from scheduler.checks.wording import day_label
from scheduler.domain import Assignment, Bundle, LeaveKind, Staff, parse_iso_week
from scheduler.outputs.exports import recharge_rows, write_exports
from scheduler.storage.clock import now
from scheduler.storage.db import make_engine, session_scope
from scheduler.storage.models.app import LeaveRequestRecord
from scheduler.storage.models.network import RotaRecord
from scheduler.storage.repository import bundle_with_leave, save_bundle
from scheduler.storage.rotas import save_rota
from scheduler.usecases.planning import PlanOutcome, plan_week
from solver import SolveOptions
from tests.factories import assign, make_bundle, make_demand, make_leave, make_site, make_staff
from tests.web_support import ACCOUNTS, PRACTICE_SITE, client_as
from tests.web_support import seeded_app as seed
from web import db as web_db

WEEK = "2026-W49"
DATES = parse_iso_week(WEEK)
OPTIONS = SolveOptions(time_limit=10, workers=1)
EXPORTS = ("rota.csv", "coverage.csv", "recharges.csv", "rota.xlsx")

_PLANS: dict[str, PlanOutcome] = {}


def planned(bundle: Bundle) -> PlanOutcome:
    """The tiny network's plan for the week; solved once, as every test stores the same bundle."""
    if WEEK not in _PLANS:
        outcome = plan_week(bundle, WEEK, OPTIONS)
        assert outcome.report is not None and outcome.report.ok
        _PLANS[WEEK] = outcome
    return _PLANS[WEEK]


@dataclass
class Seeded:
    """The app, its database and the tiny network's bundle and planned rota."""

    app: Flask
    db_url: str
    network_id: int
    bundle: Bundle
    outcome: PlanOutcome

    @property
    def rota(self) -> tuple[Assignment, ...]:
        return self.outcome.assignments

    def url(self, page: str = "", week: str = WEEK) -> str:
        return f"/n/{self.network_id}/weeks/{week}{page}"

    def store(
        self,
        assignments: tuple[Assignment, ...] | list[Assignment],
        state: str = "draft",
        version: int | None = None,
    ) -> int:
        """Save a rota of the week as ``rotapool solve`` does (plus publication fields)."""
        summary = self.outcome.summary()
        engine = make_engine(self.db_url)
        try:
            with session_scope(engine) as session:
                rota_id = save_rota(
                    session,
                    self.network_id,
                    WEEK,
                    assignments,
                    state=state,
                    status=str(summary["status"]),
                    objective=self.outcome.result.objective,
                    bound=self.outcome.result.bound,
                    gap=self.outcome.result.gap,
                    seconds=self.outcome.result.seconds,
                    summary=summary,
                )
                if state == "published":
                    record = session.get(RotaRecord, rota_id)
                    assert record is not None
                    record.version = version or 1
                    record.published_at = now()
                    record.published_by = ACCOUNTS.manager
        finally:
            engine.dispose()
        return rota_id

    def approve_leave(self, staff_id: str, day: dt.date, kind: LeaveKind) -> None:
        """Leave approved in the app (not in leave.csv) for one whole day."""
        engine = make_engine(self.db_url)
        try:
            with session_scope(engine) as session:
                session.add(
                    LeaveRequestRecord(
                        network_id=self.network_id,
                        staff_id=staff_id,
                        start_date=day,
                        end_date=day,
                        kind=kind.value,
                        reason=None,
                        state="approved",
                        requested_by=ACCOUNTS.clinician,
                        requested_at=now(),
                        decided_by=ACCOUNTS.manager,
                        decided_at=now(),
                    )
                )
        finally:
            engine.dispose()


@pytest.fixture
def seeded(db_url: str) -> Iterator[Seeded]:
    app, network_id = seed(db_url)
    engine = make_engine(db_url)
    try:
        with session_scope(engine) as session:
            bundle = bundle_with_leave(session, network_id)
    finally:
        engine.dispose()
    yield Seeded(app, db_url, network_id, bundle, planned(bundle))
    web_db.dispose(app)


def short_rota(seeded: Seeded) -> tuple[tuple[Assignment, ...], Assignment]:
    """The plan less one assignment whose loss leaves a minimum unmet and breaks no hard rule."""
    pins = {Assignment(f.date, f.session_id, f.site_id, f.staff_id) for f in seeded.bundle.fixed}
    for removed in seeded.rota:
        rest = tuple(a for a in seeded.rota if a != removed)
        report = check_rota(seeded.bundle, DATES, rest)
        if removed not in pins and report.ok and report.shortfall:
            return rest, removed
    raise AssertionError("no single assignment's removal leaves a shortfall")


def person(bundle: Bundle, staff_id: str) -> Staff:
    return bundle.person(staff_id)


def session_hours(bundle: Bundle, session_id: str) -> Decimal:
    """A session's length in hours (the tiny network's week has no clock change)."""
    session = bundle.session_type(session_id)
    start = dt.datetime.combine(DATES[0], session.start)
    end = dt.datetime.combine(DATES[0], session.end)
    return Decimal((end - start).seconds) / 3600


def money(value: Decimal) -> str:
    return f"£{value.quantize(Decimal('0.01')):,.2f}"


# --------------------------------------------------------------------------- overview

CELL = re.compile(
    r'<td class="cell-(\w+)" data-site="([^"]+)" data-date="([^"]+)" data-session="([^"]+)">'
)


def expected_cells(bundle: Bundle, rota: tuple[Assignment, ...]) -> dict[tuple[str, ...], str]:
    """Each heatmap cell's colour worked out from the validator's coverage lines: a column
    for each session some site needs that day; empty ("idle") under a session the site
    never needs in the week."""
    lines = defaultdict(list)
    for line in coverage_of(bundle, DATES, rota):
        lines[(line.site_id, line.date.isoformat(), line.session_id)].append(line)
    runs = {(site, session) for site, _, session in lines}
    asked = {(day, session) for _, day, session in lines}
    cells = {}
    for site in bundle.sites:
        for day in DATES:
            for session in bundle.session_types:
                if not session.runs_on(day) or (day.isoformat(), session.session_id) not in asked:
                    continue
                found = lines.get((site.site_id, day.isoformat(), session.session_id), [])
                if (site.site_id, session.session_id) not in runs:
                    status = "idle"
                elif not found:
                    status = "none"
                elif any(line.shortfall for line in found):
                    status = "short"
                elif all(line.assigned >= line.target for line in found):
                    status = "target"
                else:
                    status = "min"
                cells[(site.site_id, day.isoformat(), session.session_id)] = status
    return cells


def test_overview_shows_state_shortfalls_heatmap_and_totals(seeded: Seeded) -> None:
    rota, removed = short_rota(seeded)
    seeded.store(rota)
    page = client_as(seeded.app, "coordinator").get(seeded.url()).get_data(as_text=True)
    assert 'class="badge state-draft">draft</span>' in page
    shortfall = check_rota(seeded.bundle, DATES, rota).shortfall
    noun = "person" if shortfall == 1 else "people"
    assert f"<strong>{shortfall}</strong> {noun} short of minimum cover" in page
    shown = {(site, day, session): status for status, site, day, session in CELL.findall(page)}
    assert shown == expected_cells(seeded.bundle, rota)
    assert shown[(removed.site_id, removed.date.isoformat(), removed.session_id)] == "short"
    assert "✗" in page and "short" in page  # colour is never the only signal
    hours = sum((session_hours(seeded.bundle, a.session_id) for a in rota), Decimal(0))
    assert f"<strong>{hours:,.2f}</strong> hours planned" in page
    _, recharges = recharge_rows(seeded.bundle, rota)
    recharge_cost = sum((Decimal(str(row[4])) for row in recharges), Decimal(0))
    assert recharge_cost > 0
    assert money(recharge_cost) in page


def test_overview_lists_the_weeks_rotas_and_state_chooses_the_shown_one(seeded: Seeded) -> None:
    seeded.store(seeded.rota, state="published", version=3)
    draft, _ = short_rota(seeded)
    seeded.store(draft)
    client = client_as(seeded.app, "manager")
    page = client.get(seeded.url()).get_data(as_text=True)
    assert 'Showing the <span class="badge state-draft">draft</span>' in page
    assert "version 3" in page  # the published one is listed with its version
    page = client.get(seeded.url() + "?state=published").get_data(as_text=True)
    assert 'Showing the <span class="badge state-published">published</span> rota, version 3' in (
        page
    )
    assert "<strong>0</strong> people short" in page
    refused = client.get(seeded.url() + "?state=final")
    assert refused.status_code == 400
    assert "state" in refused.get_data(as_text=True)


def test_overview_of_a_week_without_rota_offers_to_plan_it(seeded: Seeded) -> None:
    page = client_as(seeded.app, "manager").get(seeded.url(week="2026-W50"))
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "No rota exists for 2026-W50 yet." in html
    form = re.search(r'<form method="post" action="([^"]+)"[^>]*>(.*?)</form>', html, re.S)
    assert form is not None
    assert form.group(1) == f"/n/{seeded.network_id}/weeks/2026-W50/solve"
    assert '<input type="hidden" name="weeks" value="1">' in form.group(2)
    assert 'name="csrf_token"' in form.group(2)


def test_week_picker_and_neighbours(seeded: Seeded) -> None:
    client = client_as(seeded.app, "manager")
    picked = client.get(seeded.url() + "?week=2026-w50")
    assert picked.status_code == 302
    assert picked.headers["Location"] == seeded.url(week="2026-W50")
    picked = client.get(seeded.url("/grid") + "?by=person&week=2027-W01")
    assert picked.headers["Location"] == seeded.url("/grid", week="2027-W01") + "?by=person"
    page = client.get(seeded.url()).get_data(as_text=True)
    assert '<input type="week" id="week-picker" name="week" value="2026-W49" required>' in page
    assert '<label for="week-picker">' in page
    assert f'href="{seeded.url(week="2026-W48")}"' in page
    assert f'href="{seeded.url(week="2026-W50")}"' in page


def test_only_the_pages_filters_are_carried_to_other_weeks(seeded: Seeded) -> None:
    """Other query fields once reached url_for: a 500, or links to another scheme and host."""
    client = client_as(seeded.app, "manager")
    odd = "network_id=7&_external=1&_scheme=javascript&_anchor=x&role=GP"
    page = client.get(seeded.url() + "?" + odd)
    assert page.status_code == 200
    assert f'href="{seeded.url(week="2026-W48")}?role=GP"' in page.get_data(as_text=True)
    assert 'name="_scheme"' not in page.get_data(as_text=True)
    picked = client.get(seeded.url("/grid") + f"?{odd}&week=2026-W50")
    assert picked.status_code == 302
    assert picked.headers["Location"] == seeded.url("/grid", week="2026-W50") + "?role=GP"


@pytest.mark.parametrize("page", ["", "/grid", "/shortfalls", "/export/rota.csv"])
@pytest.mark.parametrize("week", ["2026-W60", "next-week", "9999-W52", "0001-W01"])
def test_a_bad_week_is_a_404_that_says_how_to_write_one(
    seeded: Seeded, page: str, week: str
) -> None:
    response = client_as(seeded.app, "manager").get(seeded.url(page, week=week))
    assert response.status_code == 404
    text = response.get_data(as_text=True)
    assert "is not a week" in text
    assert "2026-W49" in text


# --------------------------------------------------------------------------- grid

ITEM = re.compile(r'<li( class="borrowed")?>(.*?)</li>', re.S)
ROW_HEADER = re.compile(r'<th scope="row">([^<]+?) <span class="muted">')


def grid_items(page: str) -> list[tuple[str, str]]:
    """The people listed in the grid's cells: (borrowed class or '', text)."""
    table = page[page.index('<table class="week-grid">') :]
    return ITEM.findall(table)


def test_grid_by_site_shows_who_is_where_and_marks_borrowed_staff(seeded: Seeded) -> None:
    seeded.store(seeded.rota)
    borrowed = next(
        a for a in seeded.rota if person(seeded.bundle, a.staff_id).home_site != a.site_id
    )
    at_home = next(
        a for a in seeded.rota if person(seeded.bundle, a.staff_id).home_site == a.site_id
    )
    client = client_as(seeded.app, "coordinator")
    page = client.get(seeded.url("/grid") + f"?by=site&site={borrowed.site_id}")
    items = grid_items(page.get_data(as_text=True))
    guest = person(seeded.bundle, borrowed.staff_id)
    marked = [text for cls, text in items if cls and text.startswith(guest.name)]
    assert marked, f"{guest.name} is not marked borrowed at {borrowed.site_id}"
    assert f"({guest.role})" in marked[0]
    assert f"borrowed from {guest.home_site}" in marked[0]
    page = client.get(seeded.url("/grid") + f"?by=site&site={at_home.site_id}")
    items = grid_items(page.get_data(as_text=True))
    local = person(seeded.bundle, at_home.staff_id)
    assert any(not cls and text.startswith(local.name) for cls, text in items)
    every = client.get(seeded.url("/grid")).get_data(as_text=True)
    names = {person(seeded.bundle, a.staff_id).name for a in seeded.rota}
    assert all(name in every for name in names)


def test_grid_filters_narrow_the_rows(seeded: Seeded) -> None:
    seeded.store(seeded.rota)
    client = client_as(seeded.app, "manager")

    def rows(query: str) -> set[str]:
        page = client.get(seeded.url("/grid") + query).get_data(as_text=True)
        return set(ROW_HEADER.findall(page))

    staff = seeded.bundle.staff
    assert rows("?by=person") == {p.name for p in staff}
    assert rows("?by=person&role=PN") == {p.name for p in staff if p.role == "PN"}
    assert rows("?by=person&skill=cytology") == {p.name for p in staff if "cytology" in p.skills}
    every = client.get(seeded.url("/grid") + "?by=site").get_data(as_text=True)
    hca = client.get(seeded.url("/grid") + "?by=site&role=HCA").get_data(as_text=True)
    hca_names = {p.name for p in staff if p.role == "HCA"}
    listed = {text.split(" <span")[0] for _, text in grid_items(hca)}
    assert listed == hca_names
    assert hca.count("<tr>") < every.count("<tr>")
    assert '<label for="grid-role">' in every and '<label for="grid-skill">' in every


def test_practice_sees_its_own_site_published_and_nothing_else(seeded: Seeded) -> None:
    client = client_as(seeded.app, "practice")
    seeded.store(seeded.rota)  # a draft only: not for practices
    page = client.get(seeded.url("/grid")).get_data(as_text=True)
    assert "has not published a rota" in page
    seeded.store(seeded.rota, state="published")
    page = client.get(seeded.url("/grid") + "?by=person").get_data(as_text=True)
    headers = re.findall(r'<th scope="col">(\w+) <span class="muted">', page)
    assert headers == [PRACTICE_SITE]
    assert "Each person's week" not in page
    here = {person(seeded.bundle, a.staff_id).name for a in seeded.rota if a.site_id == "P01"}
    assert all(name in page for name in here)
    assert "leave" not in page.lower()
    assert client.get(seeded.url("/grid") + "?site=P02").status_code == 403
    assert client.get(seeded.url("/grid") + f"?site={PRACTICE_SITE}").status_code == 200


# --------------------------------------------------------------------------- shortfalls


def sections(page: str) -> list[str]:
    return re.findall(r'<section class="shortfall".*?</section>', page, re.S)


def test_shortfalls_list_each_unmet_need_with_who_could_cover_and_cost(seeded: Seeded) -> None:
    rota, removed = short_rota(seeded)
    seeded.store(rota)
    page = client_as(seeded.app, "coordinator").get(seeded.url("/shortfalls"))
    found = sections(page.get_data(as_text=True))
    short = [line for line in coverage_of(seeded.bundle, DATES, rota) if line.shortfall]
    assert len(found) == len(short)
    for line, section in zip(short, found, strict=True):
        where = f"{line.site_id} {day_label(line.date)} {line.session_id}"
        assert f"{where}:" in section
        headline = re.search(r'<p class="headline">(.*?)</p>', section, re.S)
        assert headline is not None
        assert headline.group(1).startswith(f"{where} needs {line.min} ")
        assert f", has {line.assigned}" in headline.group(1)
        assert "<h3>Ways to fix it</h3>" in section
        assert "<h3>Why</h3>" in section
    home = next(
        s
        for s in found
        if f"{removed.site_id} {day_label(removed.date)} {removed.session_id}:" in s
    )
    worker = person(seeded.bundle, removed.staff_id)
    assert worker.hourly_rate is not None
    cost = session_hours(seeded.bundle, removed.session_id) * Decimal(str(worker.hourly_rate))
    row = re.search(rf"<th scope=\"row\">{worker.name} .*?</tr>", home, re.S)
    assert row is not None, f"{worker.name}, who was there before, is not offered as cover"
    assert money(cost) in row.group(0)
    assert "min</td>" in row.group(0)  # travel from their home site
    fixes = re.search(r'<ol class="fix-options">(.*?)</ol>', home, re.S)
    assert fixes is not None
    who = rf"{worker.staff_id} {worker.name} \({worker.role}\)"
    found = rf'<li data-kind="(\w+)">[^<]*{who}[^<]*(<form .*?</form>)?</li>'
    mine = re.search(found, fixes.group(1), re.S)
    assert mine is not None, f"{worker.name}, who was there before, is not offered as a fix"
    assert f"+{money(cost)}" in mine.group(0)  # and it is applied in one click, as an edit:
    assert f'name="staff_id" value="{worker.staff_id}"' in (mine.group(2) or "")


def test_leave_kinds_show_to_staff_roles_only(
    seeded: Seeded, monkeypatch: pytest.MonkeyPatch
) -> None:
    rota, removed = short_rota(seeded)
    seeded.store(rota)
    job = person(seeded.bundle, removed.staff_id).role
    fits = [p for p in seeded.bundle.staff if p.role == job and p.may_work_at(removed.site_id)]
    sick = next(p for p in fits if p.staff_id != removed.staff_id)
    seeded.approve_leave(sick.staff_id, removed.date, LeaveKind.SICK)
    coordinator = client_as(seeded.app, "coordinator")
    page = coordinator.get(seeded.url("/shortfalls")).get_data(as_text=True)
    assert "on sick leave" in page
    where = f"{removed.site_id} {day_label(removed.date)} {removed.session_id}:"
    home = next(s for s in sections(page) if where in s)
    assert f"{sick.staff_id} {sick.name} on sick leave" in home  # named in the headline
    assert f'<th scope="row">{sick.name} ' not in home  # on leave: never offered as cover
    assert f"{sick.staff_id} {sick.name} ({job})" not in home  # nor as a fix
    for role in ("practice", "clinician"):
        assert client_as(seeded.app, role).get(seeded.url("/shortfalls")).status_code == 403
    monkeypatch.setattr("web.weeks.sees_leave_reasons", lambda user: False)
    page = coordinator.get(seeded.url("/shortfalls")).get_data(as_text=True)
    assert "on leave" in page
    assert "sick" not in page
    home = next(s for s in sections(page) if where in s)
    assert f"{sick.staff_id} {sick.name} on leave" in home


def test_cover_that_moves_someone_says_whose_need_it_leaves_short() -> None:
    both = "P01;P02"
    bundle = make_bundle(
        sites=[make_site(), make_site(site_id="P02", name="Hill Surgery")],
        staff=[
            make_staff(staff_id="S1", name="Ann Mover", sites=both, hourly_rate=80),
            make_staff(staff_id="S2", name="Bea Away", home_site="P02", hourly_rate=70),
        ],
        demand=[make_demand(role="GP", day="Mon"), make_demand("P02", role="GP", day="Mon")],
        leave=[make_leave("S2", "2026-11-30")],
    )
    rota = (assign("S1", "2026-11-30", "AM", "P01"),)
    coverage = coverage_of(bundle, DATES, rota)
    [item] = shortfall_items(bundle, DATES, rota, coverage)
    assert item.note.site_id == "P02"
    [mover] = item.candidates
    assert mover.person.staff_id == "S1"
    assert mover.gives_up == rota
    assert [str(left) for left in mover.leaves_short] == ["P01 Mon 2026-11-30 AM: GP 1 short"]
    assert mover.extra_hours == 0 and mover.extra_cost == 0


# --------------------------------------------------------------------------- exports


@pytest.mark.parametrize("name", EXPORTS)
def test_exports_are_what_rotapool_export_writes(seeded: Seeded, tmp_path: Path, name: str) -> None:
    seeded.store(seeded.rota)
    response = client_as(seeded.app, "manager").get(seeded.url(f"/export/{name}"))
    assert response.status_code == 200
    disposition = f'attachment; filename="Tiny-Test-Network-{WEEK}-{name}"'
    assert response.headers["Content-Disposition"] == disposition
    report = check_rota(seeded.bundle, DATES, seeded.rota)
    write_exports(tmp_path, seeded.bundle, DATES, seeded.rota, report.coverage)
    written = tmp_path / name
    if name.endswith(".csv"):
        assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
        assert response.data == written.read_bytes()
        got = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
        with written.open(encoding="utf-8", newline="") as handle:
            assert got == list(csv.reader(handle))
        assert len(got) > 1
    else:
        assert response.headers["Content-Type"] == (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        mine = openpyxl.load_workbook(io.BytesIO(response.data))
        theirs = openpyxl.load_workbook(written)
        assert mine.sheetnames == theirs.sheetnames == ["rota", "coverage", "recharges", "by site"]
        for sheet in mine.sheetnames:
            values = list(mine[sheet].iter_rows(values_only=True))
            assert values == list(theirs[sheet].iter_rows(values_only=True))


def test_export_refuses_what_cannot_be_exported(seeded: Seeded) -> None:
    client = client_as(seeded.app, "manager")
    missing = client.get(seeded.url("/export/rota.csv"))
    assert missing.status_code == 404
    assert "plan or publish the week first" in missing.get_data(as_text=True)
    assert client.get(seeded.url("/export/rota.pdf")).status_code == 404
    on_leave = next(lv for lv in seeded.bundle.leave if lv.start in DATES)
    clash = Assignment(
        on_leave.start, "AM", person(seeded.bundle, on_leave.staff_id).home_site, on_leave.staff_id
    )
    seeded.store([*seeded.rota, clash])
    broken = client.get(seeded.url("/export/rota.csv"))
    assert broken.status_code == 409
    assert "no longer meets the network&#39;s hard rules" in broken.get_data(as_text=True)


def test_export_follows_leave_approved_and_then_declined(seeded: Seeded) -> None:
    """The pages remember the imported bundle; app-approved leave is read afresh each time."""
    seeded.store(seeded.rota)
    worked = seeded.rota[0]
    seeded.approve_leave(worked.staff_id, worked.date, LeaveKind.ANNUAL)
    client = client_as(seeded.app, "manager")
    assert client.get(seeded.url("/export/rota.csv")).status_code == 409  # works while on leave
    engine = make_engine(seeded.db_url)
    try:
        with session_scope(engine) as session:
            for record in session.scalars(select(LeaveRequestRecord)):
                record.state = "declined"
    finally:
        engine.dispose()
    assert client.get(seeded.url("/export/rota.csv")).status_code == 200


# --------------------------------------------------------------------------- access

PAGES = ("", "/grid", "/shortfalls", "/export/rota.csv")
ALLOWED = {
    "manager": set(PAGES),
    "coordinator": set(PAGES),
    "practice": {"/grid"},
    "clinician": set(),
}


@pytest.mark.parametrize("role", sorted(ALLOWED))
def test_each_page_answers_each_role(seeded: Seeded, role: str) -> None:
    seeded.store(seeded.rota, state="published")
    client = client_as(seeded.app, role)
    for page in PAGES:
        expected = 200 if page in ALLOWED[role] else 403
        assert client.get(seeded.url(page)).status_code == expected, (role, page)


def test_strangers_are_sent_to_log_in(seeded: Seeded) -> None:
    client = seeded.app.test_client()
    for page in PAGES:
        response = client.get(seeded.url(page))
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")


def test_another_networks_weeks_are_refused(seeded: Seeded) -> None:
    engine = make_engine(seeded.db_url)
    try:
        with session_scope(engine) as session:
            other = save_bundle(session, make_bundle(name="Other Network"))
    finally:
        engine.dispose()
    for role in ("manager", "coordinator", "practice"):
        client = client_as(seeded.app, role)
        for page in PAGES:
            url = f"/n/{other}/weeks/{WEEK}{page}"
            assert client.get(url).status_code == 403, (role, page)


def test_pages_follow_a_reimported_network(seeded: Seeded) -> None:
    seeded.store(seeded.rota)
    client = client_as(seeded.app, "manager")
    assert "Mill Lane Surgery" in client.get(seeded.url("/grid")).get_data(as_text=True)
    renamed = dataclasses.replace(
        seeded.bundle,
        sites=tuple(
            dataclasses.replace(s, name="Mill Lane Health Centre") if s.site_id == "P01" else s
            for s in seeded.bundle.sites
        ),
    )
    engine = make_engine(seeded.db_url)
    try:
        with session_scope(engine) as session:
            assert save_bundle(session, renamed) == seeded.network_id
    finally:
        engine.dispose()
    page = client.get(seeded.url("/grid")).get_data(as_text=True)
    assert "Mill Lane Health Centre" in page
    assert "Mill Lane Surgery" not in page
