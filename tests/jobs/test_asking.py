"""Asking for a solve: the same solve twice is one job, overlapping weeks are refused."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from scheduler.jobs.records import (
    JobInputError,
    SolveRunningError,
    Ticket,
    check_weeks,
    create_job,
)
from scheduler.jobs.run import JobInput, input_hash, read_input
from scheduler.storage.db import session_scope
from scheduler.storage.models.app import SolveJobRecord
from scheduler.usecases.editing import Edit, apply_edit
from solver import SolveOptions
from tests.jobs.support import ACTOR, OPTIONS, _create, _run
from tests.test_publishing import WEEK, tiny_optimum


@pytest.mark.parametrize(
    ("first", "second"),
    [(("2026-W49", 4), ("2026-W51", 1)), (("2026-W50", 1), ("2026-W49", 2))],
)
def test_a_solve_overlapping_the_weeks_of_an_active_one_is_refused(
    tiny: tuple[Engine, int], first: tuple[str, int], second: tuple[str, int]
) -> None:
    engine, network_id = tiny
    with session_scope(engine) as session:
        running = _create(session, network_id, first[0], weeks=first[1])
    with pytest.raises(SolveRunningError) as refused, session_scope(engine) as session:
        _create(session, network_id, second[0], weeks=second[1])
    assert refused.value.job_id == running
    with session_scope(engine) as session:  # a week after both is free
        assert _create(session, network_id, "2026-W53")


# -- idempotency ------------------------------------------------------------------------------


def test_asking_for_the_same_solve_again_gives_the_same_job(tiny: tuple[Engine, int]) -> None:
    engine, network_id = tiny
    with session_scope(engine) as session:
        first = _create(session, network_id)
    with session_scope(engine) as session:
        again = create_job(
            session, network_id, WEEK, weeks=1, keep_pins=False, actor=ACTOR, options=OPTIONS
        )
    assert again == Ticket(first, created=False)
    with session_scope(engine) as session:
        assert session.scalar(select(func.count()).select_from(SolveJobRecord)) == 1


def test_a_solve_done_from_the_same_data_is_not_run_again_until_the_data_changes(
    tiny: tuple[Engine, int],
) -> None:
    engine, network_id = tiny
    done = _run(engine, network_id)
    assert done.state == "done" and done.result_hash is not None
    with session_scope(engine) as session:
        again = create_job(
            session, network_id, WEEK, weeks=1, keep_pins=False, actor=ACTOR, options=OPTIONS
        )
    assert again == Ticket(done.id, created=False)
    gone = tiny_optimum()[0]
    with session_scope(engine) as session:
        apply_edit(
            session, network_id, WEEK, Edit("unassign", gone), expected_revision=0, actor=ACTOR
        )
    with session_scope(engine) as session:
        after_edit = create_job(
            session, network_id, WEEK, weeks=1, keep_pins=False, actor=ACTOR, options=OPTIONS
        )
    assert after_edit.created and after_edit.id != done.id


def test_the_input_hash_changes_with_every_input_and_ignores_set_order(
    tiny: tuple[Engine, int],
) -> None:
    engine, network_id = tiny
    with session_scope(engine) as session:
        read = read_input(session, network_id, WEEK, 1, False)
    base = {"week": WEEK, "weeks": 1, "keep_pins": False, "if_free": False, "options": OPTIONS}
    digest = input_hash(read, **base)  # type: ignore[arg-type]
    shuffled = dataclasses.replace(read, pins=frozenset(reversed(sorted(tiny_optimum()[:3]))))
    ordered = dataclasses.replace(read, pins=frozenset(sorted(tiny_optimum()[:3])))
    assert input_hash(shuffled, **base) == input_hash(ordered, **base)  # type: ignore[arg-type]
    changes: list[tuple[JobInput, dict[str, Any]]] = [
        (read, {**base, "weeks": 2}),
        (read, {**base, "keep_pins": True}),
        (read, {**base, "if_free": True}),
        (read, {**base, "options": SolveOptions(time_limit=11, workers=1)}),
        (ordered, base),
        (dataclasses.replace(read, drafts={WEEK: (1, 0)}), base),
        (dataclasses.replace(read, bundle=dataclasses.replace(read.bundle, staff=())), base),
    ]
    digests = {input_hash(job_input, **fields) for job_input, fields in changes}
    assert digest not in digests and len(digests) == len(changes)


def test_a_different_solve_of_an_active_week_is_refused(tiny: tuple[Engine, int]) -> None:
    engine, network_id = tiny
    with session_scope(engine) as session:
        first = _create(session, network_id)
    longer = SolveOptions(time_limit=30, workers=1)
    with pytest.raises(SolveRunningError) as refused, session_scope(engine) as session:
        create_job(session, network_id, WEEK, weeks=1, keep_pins=False, actor=ACTOR, options=longer)
    assert refused.value.job_id == first


@pytest.mark.parametrize(("text", "weeks"), [(None, 1), ("", 1), (" 3 ", 3), ("8", 8)])
def test_weeks_field_accepts_one_to_eight(text: str | None, weeks: int) -> None:
    assert check_weeks(text) == weeks


@pytest.mark.parametrize("text", ["0", "9", "two", "1.5"])
def test_weeks_field_refuses_anything_else(text: str) -> None:
    with pytest.raises(JobInputError, match="weeks: give a whole number of weeks from 1 to 8"):
        check_weeks(text)
