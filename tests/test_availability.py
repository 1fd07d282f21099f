"""Clinicians' availability answers: the answer window and its deadline, all-or-nothing saves,
who has not answered, and what the planner and the validator make of the answers
(SQLite and PostgreSQL)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from scheduler.checks.validator import check_rota
from scheduler.domain import Assignment, AvailabilitySettings
from scheduler.storage.db import make_engine, session_scope, upgrade
from scheduler.storage.events import current_bundle
from scheduler.storage.models.pool import InboxRecord
from scheduler.storage.rotas import find_rota
from scheduler.usecases.availability import (
    Answer,
    AvailabilityError,
    open_weeks,
    parse_answers,
    planned_staff,
    read_answers,
    remind_missing,
    replies,
    save_answers,
    window,
)
from scheduler.usecases.editing import Edit, HardRuleError, apply_edit, load_cells, week_dates
from scheduler.usecases.importing import import_bundle
from scheduler.usecases.open_bookings import book
from scheduler.usecases.open_sessions import BookingRefusedError, offer_place, parse_offer
from scheduler.usecases.planning import plan_week
from scheduler.usecases.publishing import publish_week
from scheduler.views.week import load_week
from solver import SolveOptions
from tests.bundles import write_bundle
from tests.web_support import publish_planned_week, save_week, seeded_app

WEEK = "2026-W49"  # Monday 2026-11-30
TUESDAY = dt.date(2026, 12, 1)
OPEN_DAY = dt.date(2026, 11, 1)  # the week is open: it opened 2026-09-07, closes 2026-11-08
MOMENT = dt.datetime(2026, 11, 1, 9, tzinfo=dt.UTC)
BOOKING_MOMENT = dt.datetime(2026, 11, 28, 9, tzinfo=dt.UTC)  # before the week's sessions


@pytest.fixture
def tiny(db_url: str) -> Iterator[tuple[Engine, int]]:
    _, network_id = seeded_app(db_url)
    engine = make_engine(db_url)
    yield engine, network_id
    engine.dispose()


def save(engine: Engine, network_id: int, staff_id: str, answers: list[Answer], **kw: object):
    with session_scope(engine) as db:
        bundle = current_bundle(db, network_id)
        return save_answers(
            db,
            network_id,
            bundle,
            staff_id,
            str(kw.get("week", WEEK)),
            answers=answers,
            actor="t",
            today=kw.get("today", OPEN_DAY),  # type: ignore[arg-type]
            moment=MOMENT,
        )


# -- the window --------------------------------------------------------------------------


def test_a_week_opens_twelve_weeks_before_and_closes_on_the_sunday_three_weeks_before(
    tiny: tuple[Engine, int],
) -> None:
    engine, network_id = tiny
    with session_scope(engine) as db:
        bundle = current_bundle(db, network_id)
    span = window(bundle, WEEK)
    assert span.opens_on == dt.date(2026, 9, 7)
    assert span.deadline == dt.date(2026, 11, 8)
    assert span.is_open(dt.date(2026, 11, 8)) and not span.is_open(dt.date(2026, 11, 9))
    assert not span.is_open(dt.date(2026, 9, 6)) and span.is_open(dt.date(2026, 9, 7))
    # Sunday 1 November: the last day for 2026-W48; 2027-W03 opened on 26 October.
    weeks = [w.week for w in open_weeks(bundle, OPEN_DAY)]
    assert weeks == [f"2026-W{n}" for n in range(48, 54)] + [f"2027-W0{n}" for n in (1, 2, 3)]
    later = dataclasses.replace(bundle, availability=AvailabilitySettings(4, 1))
    assert [w.week for w in open_weeks(later, OPEN_DAY)] == ["2026-W46", "2026-W47", "2026-W48"]


def test_planned_staff_are_the_roles_demand_rows_plan(tiny: tuple[Engine, int]) -> None:
    engine, network_id = tiny
    with session_scope(engine) as db:
        bundle = current_bundle(db, network_id)
    assert len(planned_staff(bundle)) == 8  # HUB1 has rows for anyone on Mon, Tue, Thu
    gp_only = dataclasses.replace(bundle, demand=tuple(r for r in bundle.demand if r.role == "GP"))
    assert [p.staff_id for p in planned_staff(gp_only)] == ["S01", "S02", "S03", "S04"]


# -- saving ------------------------------------------------------------------------------


def test_answers_are_saved_and_replace_the_weeks_old_answers(tiny: tuple[Engine, int]) -> None:
    engine, network_id = tiny
    first = [Answer(TUESDAY, "", "cannot"), Answer(TUESDAY + dt.timedelta(1), "AM", "prefer")]
    save(engine, network_id, "S05", first)
    save(engine, network_id, "S05", [Answer(TUESDAY, "PM", "cannot")])
    with session_scope(engine) as db:
        bundle = current_bundle(db, network_id)
        mine = read_answers(db, network_id, bundle, "S05", WEEK)
    assert mine.answers == (Answer(TUESDAY, "PM", "cannot"),)
    assert mine.answered_at is not None
    assert mine.kind_of(TUESDAY, "PM") == "cannot" and mine.kind_of(TUESDAY, "") == ""


def test_any_session_suits_me_is_an_answer_with_nothing_in_it(tiny: tuple[Engine, int]) -> None:
    engine, network_id = tiny
    save(engine, network_id, "S05", [Answer(TUESDAY, "", "cannot")])
    save(engine, network_id, "S05", [])
    with session_scope(engine) as db:
        bundle = current_bundle(db, network_id)
        mine = read_answers(db, network_id, bundle, "S05", WEEK)
        found = replies(db, network_id, bundle, WEEK)
    assert mine.answers == () and mine.answered_at is not None
    assert [p.staff_id for p, _ in found.answered] == ["S05"]
    assert len(found.missing) == 7 and found.asked == 8


@pytest.mark.parametrize(
    ("answers", "field", "words"),
    [
        ([Answer(dt.date(2026, 12, 8), "", "cannot")], "a-2026-12-08", "not in 2026-W49"),
        ([Answer(TUESDAY, "NIGHT", "cannot")], "a-2026-12-01-NIGHT", "no session 'NIGHT'"),
        ([Answer(dt.date(2026, 12, 5), "AM", "prefer")], "a-2026-12-05-AM", "no session 'AM'"),
        (
            [Answer(TUESDAY, "", "cannot"), Answer(TUESDAY, "AM", "prefer")],
            "a-2026-12-01-AM",
            "whole-day answer",
        ),
        ([Answer(TUESDAY, "", "maybe")], "a-2026-12-01", "not an answer"),
    ],
)
def test_a_bad_answer_names_its_field_and_saves_nothing(
    tiny: tuple[Engine, int], answers: list[Answer], field: str, words: str
) -> None:
    engine, network_id = tiny
    save(engine, network_id, "S05", [Answer(TUESDAY, "PM", "prefer")])
    good = Answer(TUESDAY + dt.timedelta(1), "PM", "cannot")
    with pytest.raises(AvailabilityError) as refused:
        save(engine, network_id, "S05", [good, *answers])
    assert refused.value.field == field and words in refused.value.message
    with session_scope(engine) as db:
        mine = read_answers(db, network_id, current_bundle(db, network_id), "S05", WEEK)
    assert mine.answers == (Answer(TUESDAY, "PM", "prefer"),)  # all or nothing


def test_after_the_deadline_answers_are_refused_naming_the_deadline(
    tiny: tuple[Engine, int],
) -> None:
    engine, network_id = tiny
    with pytest.raises(AvailabilityError) as late:
        save(engine, network_id, "S05", [], today=dt.date(2026, 11, 9))
    assert late.value.field == "week"
    assert "deadline for 2026-W49 was Sun 08 Nov 2026" in late.value.message
    with pytest.raises(AvailabilityError) as early:
        save(engine, network_id, "S05", [], today=dt.date(2026, 9, 6))
    assert "open on Mon 07 Sep 2026" in early.value.message
    save(engine, network_id, "S05", [], today=dt.date(2026, 11, 8))  # the last day


def test_the_form_is_read_cell_by_cell(tiny: tuple[Engine, int]) -> None:
    engine, network_id = tiny
    with session_scope(engine) as db:
        bundle = current_bundle(db, network_id)
    form = {"a-2026-12-01": "cannot", "a-2026-12-02-EVE": "prefer", "a-2026-12-03-AM": ""}
    assert parse_answers(bundle, WEEK, form) == [
        Answer(TUESDAY, "", "cannot"),
        Answer(dt.date(2026, 12, 2), "EVE", "prefer"),
    ]
    with pytest.raises(AvailabilityError) as bad:
        parse_answers(bundle, WEEK, {"a-2026-12-02-PM": "sometimes"})
    assert bad.value.field == "a-2026-12-02-PM"


def test_a_cannot_on_a_published_session_is_refused(db_url: str) -> None:
    _, network_id = seeded_app(db_url)
    cells = publish_planned_week(db_url, network_id, WEEK)
    engine = make_engine(db_url)
    try:
        held = min(cells)
        with pytest.raises(AvailabilityError) as refused:
            save(engine, network_id, held.staff_id, [Answer(held.date, "", "cannot")])
        assert "published rota" in refused.value.message
        assert "request leave or offer a swap" in refused.value.message
        save(engine, network_id, held.staff_id, [Answer(held.date, held.session_id, "prefer")])
    finally:
        engine.dispose()


def test_parallel_saves_of_one_person_leave_exactly_one_whole_answer(
    tiny: tuple[Engine, int],
) -> None:
    engine, network_id = tiny
    days = week_dates(WEEK)[:5]
    choices = [
        [Answer(day, "", "cannot"), Answer(d2, "AM", "prefer")]
        for day in days
        for d2 in days
        if d2 != day
    ]
    errors: list[BaseException] = []

    def one(answers: list[Answer]) -> None:
        try:
            save(engine, network_id, "S05", answers)
        except BaseException as err:  # collected and asserted below
            errors.append(err)

    threads = [threading.Thread(target=one, args=(c,)) for c in choices[:10]]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with session_scope(engine) as db:
        mine = read_answers(db, network_id, current_bundle(db, network_id), "S05", WEEK)
    assert sorted(mine.answers) in [sorted(c) for c in choices[:10]]


# -- managers ------------------------------------------------------------------------------


def test_replies_count_what_people_said(tiny: tuple[Engine, int]) -> None:
    engine, network_id = tiny
    save(engine, network_id, "S05", [Answer(TUESDAY, "", "cannot")])
    save(
        engine,
        network_id,
        "S06",
        [Answer(TUESDAY, "", "cannot"), Answer(TUESDAY + dt.timedelta(1), "PM", "prefer")],
    )
    with session_scope(engine) as db:
        found = replies(db, network_id, current_bundle(db, network_id), WEEK)
    assert found.counts[(TUESDAY, "")]["cannot"] == 2
    assert found.counts[(TUESDAY + dt.timedelta(1), "PM")]["prefer"] == 1
    assert [p.staff_id for p in found.missing] == ["S01", "S02", "S03", "S04", "S07", "S08"]


def test_a_reminder_goes_once_to_each_person_who_has_not_answered(
    tiny: tuple[Engine, int],
) -> None:
    engine, network_id = tiny
    save(engine, network_id, "S05", [])
    for expected in (7, 0):
        with session_scope(engine) as db:
            bundle = current_bundle(db, network_id)
            sent = remind_missing(db, network_id, bundle, WEEK, actor="t", today=OPEN_DAY)
        assert sent == expected
    with session_scope(engine) as db:
        items = db.scalars(select(InboxRecord).where(InboxRecord.kind == "availability")).all()
        assert len(items) == 7 and "S05" not in {i.staff_id for i in items}
        assert "by Sun 08 Nov 2026" in items[0].text


# -- the planner and the validator -------------------------------------------------------------

SITES = "site_id,name,kind,list_size,rooms\nP01,Mill Lane,practice,5000,0\n"
SESSIONS = "session_id,label,start,end,days,kind\nAM,Morning,08:00,12:30,Mon-Fri,core\n"
STAFF = (
    "staff_id,name,role,home_site,employer,contract_hours,min_hours,max_hours,hourly_rate\n"
    "S01,Ann Cheap,GP,P01,P01,4.5,0,4.5,80\n"
    "S02,Bob Dear,GP,P01,P01,4.5,0,4.5,100\n"
)
DEMAND = "site_id,day,session_id,role,skill,min,target,weight\nP01,2026-12-01,AM,GP,,1,1,1\n"
NETWORK = 'name = "Two GPs"\ntimezone = "Europe/London"\n'


@pytest.fixture
def two_gps(db_url: str, tmp_path: Path) -> Iterator[tuple[Engine, int]]:
    """One GP session on Tuesday and two GPs: S01 is cheaper, so the plan picks S01."""
    folder = write_bundle(
        tmp_path,
        sites=SITES,
        session_types=SESSIONS,
        staff=STAFF,
        demand=DEMAND,
        network=NETWORK,
        leave=None,
        preferences=None,
        fixed=None,
    )
    upgrade(db_url)
    network_id, _ = import_bundle(db_url, folder)
    engine = make_engine(db_url)
    yield engine, network_id
    engine.dispose()


def planned(engine: Engine, network_id: int) -> tuple[list[str], float]:
    with session_scope(engine) as db:
        bundle = current_bundle(db, network_id)
    outcome = plan_week(bundle, WEEK, SolveOptions(time_limit=10, workers=1, seed=1))
    assert outcome.report is not None and outcome.report.ok
    return [a.staff_id for a in outcome.assignments], float(outcome.result.objective or 0)


def test_the_planner_never_puts_someone_where_they_said_they_cannot(
    two_gps: tuple[Engine, int],
) -> None:
    engine, network_id = two_gps
    before, cheap = planned(engine, network_id)
    assert before == ["S01"]
    save(engine, network_id, "S01", [Answer(TUESDAY, "", "cannot")])
    after, dear = planned(engine, network_id)
    assert after == ["S02"]
    # The known optimum moves by exactly the dearer GP's cost and the cheaper one's unused hours.
    assert dear - cheap == pytest.approx(4.5 * (100 - 80) * 0.01)


def test_the_planner_weighs_a_prefer_like_a_preferences_row(two_gps: tuple[Engine, int]) -> None:
    engine, network_id = two_gps
    _, cheap = planned(engine, network_id)
    save(engine, network_id, "S02", [Answer(TUESDAY, "AM", "prefer")])
    chosen, objective = planned(engine, network_id)
    # S02 costs 0.9 more than S01; leaving the prefer unmet would cost 8 (weight 8 x 1).
    assert chosen == ["S02"]
    assert objective - cheap == pytest.approx(0.9)
    save(engine, network_id, "S02", [])
    chosen, _ = planned(engine, network_id)
    assert chosen == ["S01"]


def test_the_validator_flags_a_rota_against_a_cannot(two_gps: tuple[Engine, int]) -> None:
    engine, network_id = two_gps
    saved = save(engine, network_id, "S01", [Answer(TUESDAY, "AM", "cannot")])
    assert saved.answers
    with session_scope(engine) as db:
        bundle = current_bundle(db, network_id)
    rota = [Assignment(TUESDAY, "AM", "P01", "S01")]
    report = check_rota(bundle, week_dates(WEEK), rota)
    broken = [v.message for v in report.violations]
    assert any("S01 Ann Cheap is marked unavailable" in m and "availability:" in m for m in broken)
    fine = check_rota(bundle, week_dates(WEEK), [Assignment(TUESDAY, "AM", "P01", "S02")])
    assert fine.ok


def test_an_edit_and_the_week_pages_read_the_answers_too(two_gps: tuple[Engine, int]) -> None:
    """Edits and the board read the week through ``views.week``, not ``current_bundle``."""
    engine, network_id = two_gps
    save(engine, network_id, "S01", [Answer(TUESDAY, "", "cannot")])
    with session_scope(engine) as db:
        save_week(db, network_id, WEEK, [])
    with session_scope(engine) as db:
        loaded = load_week(db, network_id, WEEK, None)
        assert [p.source for p in loaded.bundle.preferences] == ["availability"]
        assert loaded.shown is not None
        cell = Assignment(TUESDAY, "AM", "P01", "S01")
        with pytest.raises(HardRuleError) as refused:
            apply_edit(
                db,
                network_id,
                WEEK,
                Edit("assign", cell),
                expected_revision=loaded.shown.revision,
                actor="t",
            )
    assert "marked unavailable" in str(refused.value)
    with session_scope(engine) as db:
        loaded = load_week(db, network_id, WEEK, None)
        assert loaded.shown is not None
        other = Assignment(TUESDAY, "AM", "P01", "S02")
        apply_edit(
            db,
            network_id,
            WEEK,
            Edit("assign", other),
            expected_revision=loaded.shown.revision,
            actor="t",
        )


def test_a_cannot_and_a_booking_of_that_session_at_once_never_both_stand(
    two_gps: tuple[Engine, int],
) -> None:
    """Saving answers waits for publications (``lock_week``), so either the booking is
    refused (she said she cannot) or the answer is (she holds the session): never both."""
    engine, network_id = two_gps
    with session_scope(engine) as db:
        save_week(db, network_id, WEEK, [])
        publish_week(db, network_id, WEEK, "m")
    with session_scope(engine) as db:
        bundle = current_bundle(db, network_id)
        fields = {"site_id": "P01", "date": "2026-12-01", "session_id": "AM", "role": "GP"}
        place = offer_place(db, network_id, parse_offer(bundle, fields), "m", BOOKING_MOMENT)
    start = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def booking() -> None:
        start.wait()
        try:
            with session_scope(engine) as db:
                book(
                    db, network_id, place.id, bundle.person("S01"), actor="a", moment=BOOKING_MOMENT
                )
            outcomes["book"] = "done"
        except BookingRefusedError as err:
            outcomes["book"] = str(err)

    def answering() -> None:
        start.wait()
        try:
            save(engine, network_id, "S01", [Answer(TUESDAY, "", "cannot")])
            outcomes["answer"] = "done"
        except AvailabilityError as err:
            outcomes["answer"] = err.message

    threads = [threading.Thread(target=booking), threading.Thread(target=answering)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["answer", "book"]
    assert list(outcomes.values()).count("done") == 1, outcomes
    with session_scope(engine) as db:
        bundle = current_bundle(db, network_id)
        rota = find_rota(db, network_id, WEEK, "published")
        assert rota is not None
        cells = load_cells(db, rota.id).assignments
    assert check_rota(bundle, week_dates(WEEK), cells).ok
