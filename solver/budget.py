"""How one plan's time limit is shared: the limit is the user's whole wait.

``rotapool plan --time-limit 60`` promises an answer within the minute, the
rota checked and its shortfalls explained.  ``TimeBudget`` shares the limit:

- ``explain``: kept back for the validator's check of the rota and the
  shortfall explanations, ``EXPLAIN_SHARE`` of the limit (at least
  ``EXPLAIN_MIN``, at most ``EXPLAIN_MAX`` seconds).  Explanations past their
  deadline are listed without their ways to fix (the week's shortfalls page
  works those out on request).
- ``solve``: the rest, the limit ``solver.solve`` is given.  Inside it, the
  model build takes what it takes (measured, then deducted); ``polish`` is
  kept back for settling which demand row each session fills once the search
  stops; the search steps share what remains (``solver.solve``: a first valid
  rota, each cluster of sites' fewest people short, the network's proven, each
  cluster's whole plan, then every goal).

Every share keeps at least a second, so a limit below a few seconds can run
over; nothing else runs over by design.
"""

from __future__ import annotations

from dataclasses import dataclass

EXPLAIN_SHARE = 0.06  # of the limit, for the check and the explanations
EXPLAIN_MIN = 1.0  # seconds
EXPLAIN_MAX = 6.0  # seconds
POLISH_SHARE = 0.04  # of a solve's limit, for settling the demand rows at the end
POLISH_MIN = 0.5  # seconds
POLISH_MAX = 4.0  # seconds
MIN_SEARCH = 1.0  # seconds of search, whatever the limit


@dataclass(frozen=True)
class TimeBudget:
    """The shares of one time limit in seconds: arithmetic only, no clock."""

    limit: float

    @property
    def explain(self) -> float:
        """Seconds kept back for checking the rota and explaining its shortfalls."""
        return min(EXPLAIN_MAX, max(EXPLAIN_MIN, self.limit * EXPLAIN_SHARE))

    @property
    def solve(self) -> float:
        """The limit given to ``solver.solve``: model build, search and polish."""
        return max(MIN_SEARCH, self.limit - self.explain)


def polish_seconds(solve_limit: float) -> float:
    """Seconds a solve keeps back, out of its own limit, for the final polish."""
    return min(POLISH_MAX, max(POLISH_MIN, solve_limit * POLISH_SHARE))


def search_seconds(solve_limit: float, spent: float) -> float:
    """Seconds of search left in a solve after ``spent`` (model build included)."""
    return max(MIN_SEARCH, solve_limit - polish_seconds(solve_limit) - spent)
