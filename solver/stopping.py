"""Stop a CP-SAT search when a ``threading.Event`` is set, even between rotas.

The solution callback can only stop the search when a rota is found; a
search that is proving a bound, or still looking for its first rota, finds
none for a long time.  One watcher thread per process looks at every
search running under ``stoppable`` ``POLL`` times a second and calls
``stop_search`` on each whose Event is set, again on every tick while it
runs: a call made before ``solve`` has started its search is lost.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from ortools.sat.python import cp_model

POLL = 0.1  # seconds between looks at the Events: a cancel stops the search this soon


class _Watcher:
    """The process's one watcher thread and the searches it looks after."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._searches: dict[int, tuple[cp_model.CpSolver, threading.Event]] = {}
        self._thread: threading.Thread | None = None

    def add(self, solver: cp_model.CpSolver, stop: threading.Event) -> None:
        with self._lock:
            self._searches[id(solver)] = (solver, stop)
            if self._thread is None:  # started on first use: importing starts nothing
                self._thread = threading.Thread(
                    target=self._run, name="rotapool-stop-watcher", daemon=True
                )
                self._thread.start()

    def remove(self, solver: cp_model.CpSolver) -> None:
        with self._lock:
            self._searches.pop(id(solver), None)

    def _run(self) -> None:
        wake = threading.Event()  # never set: a sleep that a test can't shorten by accident
        while True:
            with self._lock:
                asked = [solver for solver, stop in self._searches.values() if stop.is_set()]
            for solver in asked:
                solver.stop_search()
            wake.wait(POLL)


_WATCHER = _Watcher()


@contextmanager
def stoppable(solver: cp_model.CpSolver, stop: threading.Event | None) -> Iterator[None]:
    """Within the block, setting ``stop`` stops ``solver``'s search within ``POLL`` seconds."""
    if stop is None:
        yield
        return
    _WATCHER.add(solver, stop)
    try:
        yield
    finally:
        _WATCHER.remove(solver)
