"""Swaps and give-aways: offering a published session, who may take it, accepting, approval
checked again, withdrawing, closing at the session's start; and people taking offers at
once (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from scheduler.checks.validator import check_rota
from scheduler.domain import Assignment
from scheduler.jobs.recheck import run_recheck
from scheduler.storage.db import session_scope
from scheduler.storage.events import current_bundle
from scheduler.storage.models.app import AuditRecord, CalendarEventRecord, ChangeNoticeRecord
from scheduler.storage.models.pool import InboxRecord
from scheduler.storage.rotas import find_rota
from scheduler.usecases.accounts import add_user
from scheduler.usecases.editing import load_cells, week_dates
from scheduler.usecases.publishing import publish_week
from scheduler.usecases.swap_taking import Taken, accept, approve, decline, turn_down
from scheduler.usecases.swaps import (
    SwapOffer,
    SwapRefusedError,
    expire_due,
    list_swaps,
    offer_session,
    offers_for,
    withdraw,
)
from tests.bundles import write_bundle
from tests.test_open_sessions import STAFF_HEADER, WEEK, published_empty
from tests.web_support import save_week

BEFORE = dt.datetime(2026, 11, 28, 9, tzinfo=dt.UTC)  # the Saturday before the week
MON, TUE, WED, THU = (dt.date(2026, 11, 30) + dt.timedelta(days=i) for i in range(4))

# Twelve GPs who may work at P01 and the hub, one evening a week each; S01 alone has coils.
# The published week: S01-S05 at P01 on Tuesday morning (four needed, and one with coils), S06 at
# the hub on Wednesday evening and at P01 on Monday morning, S08 at the hub on Thursday evening.
TUE_AM = {f"S0{i}": Assignment(TUE, "AM", "P01", f"S0{i}") for i in range(1, 6)}
S06_EVE = Assignment(WED, "EVE", "HUB1", "S06")
S06_MON = Assignment(MON, "AM", "P01", "S06")
S08_EVE = Assignment(THU, "EVE", "HUB1", "S08")
PUBLISHED = frozenset({*TUE_AM.values(), S06_EVE, S06_MON, S08_EVE})


def gps(tmp_path: Path, approval: str) -> Path:
    staff = [STAFF_HEADER] + [
        f"S{i:02},GP {i},GP,P01,P01,36,0,36,{'coils' if i == 1 else ''},P01;HUB1,,1,0,90,"
        f"gp{i}@example.nhs.uk"
        for i in range(1, 13)
    ]
    staff.append("S13,Nurse 13,PN,P01,P01,36,0,36,,P01;HUB1,,1,0,40,pn13@example.nhs.uk")
    demand = (
        "site_id,day,session_id,role,skill,min,target,weight\n"
        "P01,Tue,AM,GP,,4,4,1\n"
        "P01,Tue,AM,GP,coils,1,1,1\n"
        "HUB1,Wed,EVE,GP,,1,1,1\n"
        "P01,Mon,AM,GP,,1,1,1\n"
        "HUB1,Thu,EVE,GP,,1,1,1\n"
    )
    folder = write_bundle(
        tmp_path,
        approval,
        staff="\n".join(staff) + "\n",
        demand=demand,
        leave=None,
        preferences=None,
        fixed=None,
    )
    with (folder / "network.toml").open("a", encoding="utf-8") as toml:
        toml.write(f'\n[swaps]\napproval = "{approval}"\n')
    return folder


def network(db_url: str, folder: Path) -> tuple[Engine, int]:
    engine, network_id = published_empty(db_url, folder)
    with session_scope(engine) as db:
        save_week(db, network_id, WEEK, sorted(PUBLISHED))
        publish_week(db, network_id, WEEK, "m")  # version 2
        add_user(
            db,
            f"c{network_id}@x.test",
            "a long enough password",
            "coordinator",
            network_id=network_id,
        )
    return engine, network_id


@pytest.fixture
def approving(db_url: str, tmp_path: Path) -> Iterator[tuple[Engine, int]]:
    engine, network_id = network(db_url, gps(tmp_path, "coordinator"))
    yield engine, network_id
    engine.dispose()


@pytest.fixture
def automatic(db_url: str, tmp_path: Path) -> Iterator[tuple[Engine, int]]:
    engine, network_id = network(db_url, gps(tmp_path, "automatic"))
    yield engine, network_id
    engine.dispose()


def published(engine: Engine, network_id: int) -> tuple[int, frozenset[Assignment]]:
    with session_scope(engine) as db:
        rota = find_rota(db, network_id, WEEK, "published")
        assert rota is not None and rota.version is not None
        return rota.version, load_cells(db, rota.id).assignments


def offer(
    engine: Engine, network_id: int, cell: Assignment, kind: str = "give", **more: object
) -> int:
    with session_scope(engine) as db:
        made = offer_session(
            db,
            network_id,
            SwapOffer(cell, kind, **more),  # type: ignore[arg-type]
            actor=cell.staff_id,
            moment=BEFORE,
        )
    return made.id


def take(
    engine: Engine, network_id: int, swap_id: int, staff_id: str, back: Assignment | None = None
) -> Taken:
    with session_scope(engine) as db:
        person = current_bundle(db, network_id).person(staff_id)
        return accept(db, network_id, swap_id, person, back=back, actor=staff_id, moment=BEFORE)


def inbox_of(engine: Engine, staff_id: str) -> list[str]:
    with session_scope(engine) as db:
        return list(db.scalars(select(InboxRecord.text).where(InboxRecord.staff_id == staff_id)))


def test_a_give_away_waits_for_a_coordinator_then_is_published(
    approving: tuple[Engine, int],
) -> None:
    engine, network_id = approving
    swap_id = offer(engine, network_id, TUE_AM["S02"])
    taken = take(engine, network_id, swap_id, "S10")
    assert taken.version is None and taken.swap.state == "accepted"
    assert published(engine, network_id) == (2, PUBLISHED)  # nothing moves before approval
    assert any("accepted your offer" in t for t in inbox_of(engine, "S02"))
    with session_scope(engine) as db:
        told = db.scalars(select(InboxRecord.text).where(InboxRecord.user_id.is_not(None))).all()
    assert len(told) == 1 and "waits for approval" in told[0]
    with session_scope(engine) as db:
        done = approve(db, network_id, swap_id, actor="coord", moment=BEFORE)
    assert done.swap.state == "done" and done.version is not None and done.version.version == 3
    _, cells = published(engine, network_id)
    assert cells == (PUBLISHED - {TUE_AM["S02"]}) | {Assignment(TUE, "AM", "P01", "S10")}
    for who in ("S02", "S10"):
        assert any(t.startswith("Done: GP 10 now works") for t in inbox_of(engine, who))
    with session_scope(engine) as db:
        events = {
            (e.staff_id, e.status): e.sequence
            for e in db.scalars(select(CalendarEventRecord).where(CalendarEventRecord.date == TUE))
        }
        actions = db.scalars(select(AuditRecord.action).where(AuditRecord.action.like("swap%")))
        assert list(actions) == ["swap offered", "swap accepted", "swap done"]
        assert set(db.scalars(select(ChangeNoticeRecord.staff_id))) <= {"S02", "S10"}
    assert events[("S02", "cancelled")] > events[("S01", "confirmed")]  # SEQUENCE grew
    assert ("S10", "confirmed") in events


def test_a_swap_exchanges_two_sessions_at_once(automatic: tuple[Engine, int]) -> None:
    engine, network_id = automatic
    swap_id = offer(engine, network_id, S06_EVE, "swap", to_staff_id="S03")
    assert any("offers you" in t for t in inbox_of(engine, "S03"))
    with pytest.raises(SwapRefusedError, match="choose which of your sessions"):
        take(engine, network_id, swap_id, "S03")
    back = TUE_AM["S03"]
    taken = take(engine, network_id, swap_id, "S03", back)
    assert taken.swap.state == "done" and taken.version is not None
    _, cells = published(engine, network_id)
    assert cells - PUBLISHED == {
        Assignment(WED, "EVE", "HUB1", "S03"),
        replace(back, staff_id="S06"),
    }
    assert PUBLISHED - cells == {S06_EVE, back}


def test_only_the_named_colleague_may_take_an_offer(approving: tuple[Engine, int]) -> None:
    engine, network_id = approving
    swap_id = offer(engine, network_id, TUE_AM["S02"], to_staff_id="S10")
    with session_scope(engine) as db:
        bundle = current_bundle(db, network_id)
        assert offers_for(db, network_id, bundle.person("S11"), BEFORE) == []
        (mine,) = offers_for(db, network_id, bundle.person("S10"), BEFORE)
        assert mine[1] is None
    with pytest.raises(SwapRefusedError, match="named colleague"):
        take(engine, network_id, swap_id, "S11")
    with session_scope(engine) as db:
        turn_down(db, network_id, swap_id, "S10", actor="S10")
    assert any("turned down" in t for t in inbox_of(engine, "S02"))


def test_a_rule_broken_for_either_person_refuses_the_swap(approving: tuple[Engine, int]) -> None:
    engine, network_id = approving
    evening = offer(engine, network_id, S08_EVE)  # S06 already has an evening: the taker breaks
    with session_scope(engine) as db:
        bundle = current_bundle(db, network_id)
        (found,) = offers_for(db, network_id, bundle.person("S06"), BEFORE)
        assert "evening" in (found[1] or "").lower()
        nurse = offers_for(db, network_id, bundle.person("S13"), BEFORE)
        assert nurse == []  # a GP's session is not offered to a nurse
    with pytest.raises(SwapRefusedError, match=r"(?i)evening"):
        take(engine, network_id, evening, "S06")
    with pytest.raises(SwapRefusedError, match="GP session"):
        take(engine, network_id, evening, "S13")
    monday = offer(engine, network_id, S06_MON, "swap")  # S06 would get a second evening
    with pytest.raises(SwapRefusedError, match=r"(?i)evening"):
        take(engine, network_id, monday, "S08", S08_EVE)
    assert published(engine, network_id) == (2, PUBLISHED)
    with session_scope(engine) as db:
        assert {s.state for s in list_swaps(db, network_id)} == {"offered"}


def test_automatic_swaps_keep_every_minimum(automatic: tuple[Engine, int]) -> None:
    engine, network_id = automatic
    swap_id = offer(engine, network_id, TUE_AM["S01"])  # the only GP with coils
    with pytest.raises(SwapRefusedError, match="leave a session short"):
        take(engine, network_id, swap_id, "S10")
    assert published(engine, network_id)[0] == 2
    other = offer(engine, network_id, TUE_AM["S02"])
    assert take(engine, network_id, other, "S10").version is not None


def test_a_coordinator_decides_a_swap_that_leaves_a_session_short(
    approving: tuple[Engine, int],
) -> None:
    engine, network_id = approving
    swap_id = offer(engine, network_id, TUE_AM["S01"])  # the only GP with coils
    assert take(engine, network_id, swap_id, "S10").swap.state == "accepted"
    with session_scope(engine) as db:
        assert approve(db, network_id, swap_id, actor="c", moment=BEFORE).swap.state == "done"


def test_approval_checks_again_and_decline_tells_both(approving: tuple[Engine, int]) -> None:
    engine, network_id = approving
    wed, thu = offer(engine, network_id, S06_EVE), offer(engine, network_id, S08_EVE)
    take(engine, network_id, wed, "S10")
    take(engine, network_id, thu, "S10")  # fine alone; together, two evenings
    with session_scope(engine) as db:
        approve(db, network_id, wed, actor="coord", moment=BEFORE)
    with (
        pytest.raises(SwapRefusedError, match=r"(?i)not approved.*evening"),
        session_scope(engine) as db,
    ):
        approve(db, network_id, thu, actor="coord", moment=BEFORE)
    with session_scope(engine) as db:
        decline(db, network_id, thu, actor="coord", moment=BEFORE, reason="two evenings")
    for who in ("S08", "S10"):
        assert any("was declined (two evenings)" in t for t in inbox_of(engine, who))
    _, cells = published(engine, network_id)
    assert S08_EVE in cells and Assignment(WED, "EVE", "HUB1", "S10") in cells


def test_withdraw_and_expire(approving: tuple[Engine, int]) -> None:
    engine, network_id = approving
    first, second = offer(engine, network_id, TUE_AM["S02"]), offer(engine, network_id, S06_EVE)
    with pytest.raises(SwapRefusedError, match="already on offer"):
        offer(engine, network_id, TUE_AM["S02"])
    with pytest.raises(SwapRefusedError, match="not one of your published"):
        offer(engine, network_id, replace(TUE_AM["S02"], staff_id="S09"))
    take(engine, network_id, first, "S10")
    with pytest.raises(SwapRefusedError, match="of yours"), session_scope(engine) as db:
        withdraw(db, network_id, first, "S10", actor="S10")
    with session_scope(engine) as db:
        assert withdraw(db, network_id, first, "S02", actor="S02").state == "withdrawn"
    assert any("was withdrawn" in t for t in inbox_of(engine, "S10"))
    start = dt.datetime(2026, 12, 2, 18, 30, tzinfo=dt.UTC)
    with session_scope(engine) as db:
        assert expire_due(db, network_id, start - dt.timedelta(minutes=1)) == []
        line = run_recheck(db, network_id, start, {})
    assert "1 swap offer closed unagreed" in line
    with session_scope(engine) as db:
        assert [s.state for s in list_swaps(db, network_id, ("expired",))] == ["expired"]
    with pytest.raises(SwapRefusedError, match="expired"):
        take(engine, network_id, second, "S10")


def test_a_swap_goes_into_the_draft_being_worked_on(automatic: tuple[Engine, int]) -> None:
    engine, network_id = automatic
    with session_scope(engine) as db:
        draft_id = save_week(db, network_id, WEEK, sorted(PUBLISHED))
    swap_id = offer(engine, network_id, TUE_AM["S02"])
    assert take(engine, network_id, swap_id, "S10").in_draft
    with session_scope(engine) as db:
        draft = load_cells(db, draft_id).assignments
    assert draft == published(engine, network_id)[1] != PUBLISHED


# -- at once -------------------------------------------------------------------------------


def at_once(count: int, attempt: Callable[[int], object]) -> list[str]:
    outcomes: list[str] = []
    start = threading.Barrier(count)

    def run(i: int) -> None:
        start.wait()
        try:
            attempt(i)
            outcomes.append("taken")
        except SwapRefusedError as err:
            outcomes.append(str(err))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(outcomes) == count
    return outcomes


def test_many_taking_one_offer_at_once_exactly_one_gets_it(
    automatic: tuple[Engine, int],
) -> None:
    engine, network_id = automatic
    swap_id = offer(engine, network_id, TUE_AM["S02"])
    takers = [f"S{i:02}" for i in range(7, 13)]
    outcomes = at_once(len(takers), lambda i: take(engine, network_id, swap_id, takers[i]))
    assert outcomes.count("taken") == 1, outcomes
    assert all("took it first" in o for o in outcomes if o != "taken")
    version, cells = published(engine, network_id)
    assert version == 3 and len(cells) == len(PUBLISHED)
    with session_scope(engine) as db:
        bundle = current_bundle(db, network_id)
    assert check_rota(bundle, week_dates(WEEK), cells).ok


def test_two_offers_that_together_break_a_rule_are_not_both_taken(
    automatic: tuple[Engine, int],
) -> None:
    engine, network_id = automatic
    swaps = [offer(engine, network_id, S06_EVE), offer(engine, network_id, S08_EVE)]
    outcomes = at_once(2, lambda i: take(engine, network_id, swaps[i], "S10"))
    assert outcomes.count("taken") == 1, outcomes
    version, cells = published(engine, network_id)
    assert version == 3 and sum(1 for c in cells if c.staff_id == "S10") == 1
    with session_scope(engine) as db:
        bundle = current_bundle(db, network_id)
    assert check_rota(bundle, week_dates(WEEK), cells).ok
