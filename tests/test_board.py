"""The week board's read model: each site's own sessions, cells, the short list, the panel."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from scheduler.checks.fixes import CoverContext
from scheduler.checks.validator import check_rota
from scheduler.domain import Assignment, Bundle, SiteKind
from scheduler.views.board import Board, BoardFilter, build_board, person_board
from scheduler.views.panel import Panel, cell_panel, move_choices
from tests.factories import WEEK, make_bundle, make_demand, make_session, make_site, make_staff

MON, TUE = WEEK[0], WEEK[1]
AM = make_session("AM", "08:00", "12:30", "Mon-Fri")
PM = make_session("PM", "13:30", "18:00", "Mon-Fri")
DAY = make_session("DAY", "08:00", "20:00", "Mon-Sun")


def _network() -> Bundle:
    sites = [
        make_site(site_id="P01", name="Harbour"),
        make_site(site_id="P02", name="Cliff"),
        make_site(site_id="MIU", name="Minor injuries", kind=SiteKind.SERVICE),
    ]
    staff = [
        make_staff("GP", staff_id="S1", name="Ada", home_site="P01", sites="P01;P02"),
        make_staff("GP", staff_id="S2", name="Ben", home_site="P02", sites="P01;P02"),
        make_staff("GP", staff_id="S3", name="Cai", home_site="P02", sites="P02"),
        make_staff("ENP", staff_id="S4", name="Dee", home_site="MIU", sites="MIU"),
    ]
    demand = [
        make_demand("P01", "Mon-Fri", "AM", role="GP", min=1, target=2),
        make_demand("P02", "Mon-Fri", "PM", role="GP", min=1, target=1),
        make_demand("MIU", "Mon-Sun", "DAY", role="ENP", min=1, target=1),
    ]
    return make_bundle(sites=sites, session_types=[AM, PM, DAY], staff=staff, demand=demand)


def _board(rota: list[Assignment], flt: BoardFilter | None = None) -> Board:
    bundle = _network()
    coverage = check_rota(bundle, WEEK, rota).coverage
    return build_board(bundle, WEEK, rota, coverage, flt or BoardFilter())


def test_each_site_shows_only_the_sessions_it_runs_with_their_own_times() -> None:
    board = _board([])
    rows = [(r.site.site_id, r.session.session_id) for g in board.groups for r in g.rows]
    assert rows == [("P01", "AM"), ("P02", "PM"), ("MIU", "DAY")]
    miu = board.groups[0].rows[2]
    assert [c.status for c in miu.cells] == ["short"] * 7  # a 7-day unit runs every day
    p01 = board.groups[0].rows[0]
    assert [c.status for c in p01.cells] == ["short"] * 5 + ["idle"] * 2  # no weekend AM


def test_a_cell_counts_people_against_the_target_and_marks_what_is_short() -> None:
    rota = [Assignment(MON, "AM", "P01", "S1")]
    board = _board(rota)
    cell = board.cell(f"P01-{MON.isoformat()}-AM")
    assert cell is not None
    assert (cell.status, cell.assigned, cell.target, cell.short, cell.count) == (
        "min",
        1,
        2,
        0,
        "1/2",
    )
    assert [(r.role, r.count, r.short) for r in cell.roles] == [("GP", 1, 0)]
    short = board.cell(f"P01-{TUE.isoformat()}-AM")
    assert short is not None and short.status == "short" and short.symbol == "✗"
    assert [(r.role, r.count, r.short) for r in short.roles] == [("GP", 0, 1)]
    assert "1 short of a minimum" in short.words


def test_the_short_list_names_each_cell_and_what_it_lacks_in_time_order() -> None:
    board = _board([Assignment(MON, "AM", "P01", "S1")])
    first, second = board.short[:2]  # Monday: the unit opens at 08:00, P02's PM at 13:30
    assert (first.cell.site_id, first.cell.date, first.what) == ("MIU", MON, "1 ENP")
    assert (second.cell.site_id, second.cell.date, second.what) == ("P02", MON, "1 GP")
    assert board.people_short == sum(item.cell.short for item in board.short) == 4 + 5 + 7
    dates = [item.cell.date for item in board.short]
    assert dates == sorted(dates)


def test_a_role_filter_keeps_the_rows_and_counts_only_that_role() -> None:
    board = _board([], BoardFilter(role="ENP"))
    p01 = board.groups[0].rows[0]
    assert p01.site.site_id == "P01" and {c.status for c in p01.cells} == {"none", "idle"}
    assert {item.cell.site_id for item in board.short} == {"MIU"}


def test_a_site_filter_shows_that_site_alone() -> None:
    board = _board([], BoardFilter(site="MIU"))
    rows = [(r.site.site_id, r.session.session_id) for g in board.groups for r in g.rows]
    assert rows == [("MIU", "DAY")]


def test_sites_are_grouped_by_organisation_when_they_name_more_than_one() -> None:
    bundle = _network()
    sites = tuple(
        replace(s, organisation="West" if s.site_id == "P02" else "East") for s in bundle.sites
    )
    bundle = replace(bundle, sites=sites)
    board = build_board(bundle, WEEK, [], check_rota(bundle, WEEK, []).coverage)
    assert [(g.name, [r.site.site_id for r in g.rows]) for g in board.groups] == [
        ("East", ["P01", "MIU"]),
        ("West", ["P02"]),
    ]


def test_the_person_view_lists_each_day_and_marks_work_away_from_home() -> None:
    bundle = _network()
    rota = [Assignment(MON, "AM", "P01", "S2"), Assignment(MON, "PM", "P02", "S2")]
    lines = {line.person.staff_id: line for line in person_board(bundle, WEEK, rota)}
    ben = lines["S2"]
    assert ben.sessions == 2
    assert ben.days[0].places == (("P01", "AM"), ("P02", "PM")) and ben.days[0].away
    assert ben.days[1].places == () and not ben.days[1].away
    only_enp = person_board(bundle, WEEK, rota, BoardFilter(role="ENP"))
    assert [line.person.staff_id for line in only_enp] == ["S4"]


# -- the side panel -------------------------------------------------------------------------


def _panel(rota: list[Assignment], slot: tuple[dt.date, str, str]) -> Panel:
    bundle = _network()
    coverage = check_rota(bundle, WEEK, rota).coverage
    return cell_panel(bundle, WEEK, rota, coverage, pinned=frozenset(), slot=slot)


def test_the_panel_offers_the_sites_own_people_first_and_each_offer_is_valid() -> None:
    rota: list[Assignment] = []
    panel = _panel(rota, (MON, "P01", "AM"))
    names = [o.person.staff_id for o in panel.offers]
    assert names == ["S1", "S2"]  # Ada works at P01; Ben comes from P02; Cai may not work there
    bundle = _network()
    for offer in panel.offers:
        added = Assignment(MON, "AM", "P01", offer.person.staff_id)
        assert check_rota(bundle, WEEK, [*rota, added]).ok


def test_a_full_cell_looks_for_nobody_and_says_who_is_there() -> None:
    rota = [Assignment(MON, "PM", "P02", "S3")]
    panel = _panel(rota, (MON, "P02", "PM"))
    assert not panel.wants_more and panel.offers == ()
    assert [h.person.staff_id for h in panel.here] == ["S3"]


def test_someone_already_working_at_that_time_is_offered_as_a_move() -> None:
    # Ben works P02 AM on Monday; P01 AM wants him too: taking it means giving up P02's.
    bundle = _network()
    rota = [Assignment(MON, "AM", "P02", "S2")]
    demand = (*bundle.demand, make_demand("P02", "Mon", "AM", role="GP", min=0, target=1))
    bundle = replace(bundle, demand=demand)
    coverage = check_rota(bundle, WEEK, rota).coverage
    panel = cell_panel(bundle, WEEK, rota, coverage, pinned=frozenset(), slot=(MON, "P01", "AM"))
    ben = next(o for o in panel.offers if o.person.staff_id == "S2")
    assert ben.gives_up == Assignment(MON, "AM", "P02", "S2")


def test_every_move_choice_is_one_the_validator_accepts() -> None:
    bundle = _network()
    rota = [Assignment(MON, "AM", "P01", "S2")]
    coverage = check_rota(bundle, WEEK, rota).coverage
    ctx = CoverContext(bundle, WEEK, rota, coverage)
    choices = move_choices(ctx, rota[0])
    assert choices, "Ben could move to any P02 PM, or P01 AM on another day"
    assert choices[0].short  # short cells first
    for choice in choices:
        assert check_rota(bundle, WEEK, [choice.to]).ok
    assert all(c.leaves_short for c in choices)  # P01 AM Monday would be short again


def test_a_cell_names_who_is_there_and_tells_namesakes_apart() -> None:
    """The one-day printout lists names; two people of one name carry their staff ids."""
    bundle = _network()
    twin = make_staff("GP", staff_id="S5", name="Ada", home_site="P02", sites="P01;P02")
    bundle = replace(bundle, staff=(*bundle.staff, twin))
    rota = [Assignment(MON, "AM", "P01", "S5"), Assignment(MON, "AM", "P01", "S2")]
    coverage = check_rota(bundle, WEEK, rota).coverage
    cell = build_board(bundle, WEEK, rota, coverage).cell(f"P01-{MON.isoformat()}-AM")
    assert cell is not None
    assert cell.names == ("Ada GP (S5)", "Ben GP")


def test_the_panel_says_why_a_short_cell_is_short() -> None:
    """Ada and Ben are free but nobody planned them; Cai may not work at P01."""
    panel = _panel([], (MON, "P01", "AM"))
    assert len(panel.why) == 1
    assert panel.why[0].startswith("GP: ")
    assert "S3 Cai" in panel.why[0] and "may not work at P01" in panel.why[0]
    full = _panel([Assignment(MON, "PM", "P02", "S3")], (MON, "P02", "PM"))
    assert full.why == ()  # nothing short, nothing to explain
