"""Stopping a search on request: between rotas (stop_search) as well as at a rota found.

The Golomb ruler of 11 marks is a search CP-SAT cannot finish in the test's
time limit on two cores: it finds rulers quickly and then spends minutes
proving the shortest.  Stopped a moment after it starts, it must return
within the 2 s a cancelled solve is allowed (the watcher looks ten times a
second; CP-SAT then stops in a fraction of that).
"""

from __future__ import annotations

import itertools
import threading
import time

import pytest
from ortools.sat.python import cp_model

from scheduler.horizon import Horizon
from solver import Progress, SolveOptions, SolveStatus, solve
from solver.solve import STOPPED
from solver.stopping import stoppable
from tests.factories import WEEK, make_bundle, make_demand, make_staff

pytestmark = pytest.mark.serial  # a stop must end the search within ALLOWED seconds

LIMIT = 120.0  # seconds: the search would run this long if nothing stopped it
ALLOWED = 2.0  # seconds from the stop to the search's return


def golomb_ruler(marks: int) -> cp_model.CpModel:
    """Marks on a ruler with all pairwise distances different, shortest ruler wanted."""
    model = cp_model.CpModel()
    top = marks * marks
    ticks = [model.new_int_var(0, top, f"t{i}") for i in range(marks)]
    model.add(ticks[0] == 0)
    for left, right in itertools.pairwise(ticks):
        model.add(left < right)
    gaps = [ticks[j] - ticks[i] for i in range(marks) for j in range(i + 1, marks)]
    model.add_all_different(gaps)
    model.minimize(ticks[-1])
    return model


def test_a_stop_ends_a_search_that_finds_no_rota_to_stop_at() -> None:
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 2
    solver.parameters.max_time_in_seconds = LIMIT
    stop = threading.Event()
    asked: list[float] = []

    def cancel() -> None:
        asked.append(time.monotonic())
        stop.set()

    timer = threading.Timer(0.5, cancel)
    timer.start()
    with stoppable(solver, stop):
        status = solver.solve(golomb_ruler(11))  # no callback: only the watcher can stop it
    returned = time.monotonic()
    timer.cancel()
    assert status in (cp_model.FEASIBLE, cp_model.UNKNOWN)  # stopped, not proven
    assert asked and returned - asked[0] < ALLOWED


def test_a_stop_set_before_the_search_starts_still_stops_it() -> None:
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 2
    solver.parameters.max_time_in_seconds = LIMIT
    stop = threading.Event()
    stop.set()
    started = time.monotonic()
    with stoppable(solver, stop):
        status = solver.solve(golomb_ruler(11))
    assert status in (cp_model.FEASIBLE, cp_model.UNKNOWN)
    assert time.monotonic() - started < ALLOWED


def test_without_a_stop_the_watcher_leaves_the_search_alone() -> None:
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 2
    with stoppable(solver, threading.Event()):
        status = solver.solve(golomb_ruler(5))  # small: proven in a moment
    assert status == cp_model.OPTIMAL
    assert solver.objective_value == 11  # the shortest ruler of 5 marks


def test_a_plan_stopped_midway_keeps_no_rota() -> None:
    bundle = make_bundle(
        staff=[make_staff(staff_id="S0001"), make_staff(staff_id="S0002")],
        demand=[make_demand(role="GP", min=1, target=2)],
    )
    stop = threading.Event()

    def progress(_: Progress) -> None:
        stop.set()  # as a cancel arriving once the first rota is reported

    result = solve(Horizon(bundle, WEEK), SolveOptions(time_limit=LIMIT, workers=2), progress, stop)
    assert result.status is SolveStatus.NO_SOLUTION
    assert result.message == STOPPED and not result.assignments
    assert result.seconds < LIMIT / 10
