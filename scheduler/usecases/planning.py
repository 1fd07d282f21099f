"""Plan a week: solve, re-check with the independent validator, explain every shortfall.

This is the use case behind ``rotapool plan``, ``rotapool solve`` and the
demo.  Nothing leaves here unless the validator accepted it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from scheduler.checks.explain import ShortfallNote, explain_shortfalls
from scheduler.checks.fixes import shortfall_items
from scheduler.checks.validator import CoverageLine, ValidationReport, check_rota
from scheduler.domain import Assignment, Bundle, iso_week_label, iso_weeks
from scheduler.horizon import BankHolidaySites, Horizon
from scheduler.outputs.exports import atomic_write_text, write_csv, write_exports
from scheduler.reports.continuity import Continuity, continuity_of
from scheduler.storage.rotas import save_rota
from solver import SolveOptions, SolveResult, solve
from solver.budget import TimeBudget
from solver.result import ProgressCallback


class InvalidRotaError(RuntimeError):
    """The solver produced a rota the validator rejects: a defect, never saved or shown as valid.

    The message names people (and may say they are on sick leave); ``rules``
    holds only the ids of the broken rules, for logs that must not.
    """

    def __init__(self, message: str, rules: Iterable[str] = ()) -> None:
        super().__init__(message)
        self.rules = tuple(sorted(set(rules)))


MAX_WEEKS = 8  # the longest horizon planned in one go


@dataclass(frozen=True)
class PlanOutcome:
    week: str  # the first ISO week of the horizon
    dates: tuple[dt.date, ...]
    result: SolveResult
    report: ValidationReport | None
    notes: tuple[ShortfallNote, ...]
    holidays: tuple[BankHolidaySites, ...] = ()  # the horizon's bank holidays, site by site
    # Regular sessions kept by their regulars, counted from the rota; None without history.
    continuity: Continuity | None = None

    @property
    def assignments(self) -> tuple[Assignment, ...]:
        return self.result.assignments

    @property
    def weeks(self) -> tuple[str, ...]:
        """The ISO weeks planned, in order."""
        return tuple(dict.fromkeys(iso_week_label(d) for d in self.dates))

    @property
    def label(self) -> str:
        """``2026-W49``, or ``2026-W49 to 2026-W52`` for a longer horizon."""
        weeks = self.weeks
        return weeks[0] if len(weeks) == 1 else f"{weeks[0]} to {weeks[-1]}"

    def assignments_in(self, week: str) -> tuple[Assignment, ...]:
        """The rota of one ISO week of the horizon (each week is stored on its own)."""
        return tuple(a for a in self.assignments if iso_week_label(a.date) == week)

    def summary(self) -> dict[str, object]:
        """The figures of ``summary.json``."""
        coverage = self.report.coverage if self.report else ()
        return {
            "week": self.week,
            "weeks": list(self.weeks),
            "status": self.result.status.value,
            "objective": self.result.objective,
            "bound": self.result.bound,
            "gap": self.result.gap,
            "seconds": round(self.result.seconds, 3),
            "assignments": len(self.result.assignments),
            "shortfall": self.report.shortfall if self.report else None,
            "shortfall_proven": self.result.shortfall_proven,
            "shortfall_floor": self.result.shortfall_floor,
            "min_cover_pct": _cover_pct(coverage, lambda c: c.min),
            "target_cover_pct": _cover_pct(coverage, lambda c: c.target),
            "penalties": {k: round(v, 2) for k, v in self.result.penalties.items()},
            "bank_holidays": [h.as_json() for h in self.holidays],
            **_continuity_figures(self.continuity),
        }


def shortfall_words(result: SolveResult, shortfall: int | None) -> str:
    """``12 people short of minimum (proven the fewest possible)``, or what is known of it."""
    counted = f"{shortfall} {'person' if shortfall == 1 else 'people'} short of minimum"
    if shortfall is None or not result.status.has_rota:
        return counted
    if shortfall == 0:
        return "nobody short of minimum"
    if result.shortfall_proven and shortfall == result.shortfall_floor:
        return f"{counted} (proven the fewest possible)"
    if shortfall == result.shortfall_floor:
        return f"{counted} (the fewest possible)"
    return f"{counted} (not proven the fewest: no rota has fewer than {result.shortfall_floor})"


def _continuity_figures(found: Continuity | None) -> dict[str, object]:
    """``summary.json``'s continuity figures: nothing at all without history."""
    return {} if found is None else found.figures()


def _cover_pct(
    coverage: Sequence[CoverageLine], wanted: Callable[[CoverageLine], int]
) -> float | None:
    want = [(wanted(c), c.assigned) for c in coverage]
    total = sum(w for w, _ in want)
    if not total:
        return None if not coverage else 100.0
    return round(100.0 * sum(min(w, a) for w, a in want) / total, 2)


def plan_week(
    bundle: Bundle,
    week: str,
    options: SolveOptions | None = None,
    progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
    *,
    weeks: int = 1,
) -> PlanOutcome:
    """Solve ``weeks`` ISO weeks from ``week`` as one horizon, checked before anyone sees it.

    Weekly rules hold in each ISO week; the horizon rules of staff.csv
    (runs of days, weekends, horizon hours) over all of them together.
    """
    if not 1 <= weeks <= MAX_WEEKS:
        raise ValueError(f"plan 1 to {MAX_WEEKS} weeks at a time, not {weeks}")
    dates = iso_weeks(week, weeks)
    started = time.monotonic()
    options = options or SolveOptions()
    budget = TimeBudget(options.time_limit)  # the limit is the whole wait (solver/budget.py)
    horizon = Horizon(bundle, dates)
    result = solve(horizon, dataclasses.replace(options, time_limit=budget.solve), progress, stop)
    if not result.status.has_rota:
        return PlanOutcome(week, dates, result, None, (), tuple(horizon.bank_holiday_sites()))
    report = check_rota(bundle, dates, result.assignments)
    if not report.ok:
        details = "; ".join(v.message for v in report.violations[:5])
        raise InvalidRotaError(
            f"internal error: the planned rota breaks hard rules: {details}",
            (v.rule_id for v in report.violations),
        )
    # Explanations end with the time limit (or, after a search that ran over it, soon after).
    deadline = started + max(budget.limit, time.monotonic() - started + budget.explain / 2)
    notes = tuple(shortfall_notes(horizon, result, report, deadline=deadline))
    kept = continuity_of(bundle.previous_sessions, result.assignments)
    return PlanOutcome(
        week,
        dates,
        result,
        report,
        notes,
        tuple(horizon.bank_holiday_sites()),
        kept if bundle.previous_sessions else None,
    )


def save_draft(
    session: Session,
    network_id: int,
    week: str,
    assignments: Iterable[Assignment],
    *,
    result: SolveResult,
    summary: dict[str, Any],
    pinned: Iterable[Assignment] = frozenset(),
) -> int:
    """Store a solve's rota of one week as the week's draft, with the solve's figures; its id."""
    return save_rota(
        session,
        network_id,
        week,
        assignments,
        state="draft",
        status=result.status.value,
        objective=result.objective,
        bound=result.bound,
        gap=result.gap,
        seconds=result.seconds,
        summary=summary,
        pinned=pinned,
    )


def shortfall_notes(
    horizon: Horizon,
    result: SolveResult,
    report: ValidationReport,
    *,
    options: bool = True,
    deadline: float | None = None,
) -> list[ShortfallNote]:
    """Every shortfall explained, with its ranked fixes (each checked by the validator)
    unless ``options`` is False (the causes alone: a repair answers within seconds)."""
    if not options:
        needs = {(n.date, n.demand.row): n for n in horizon.needs}
        short = [
            (needs[(line.date, line.demand_row)], line.assigned, line.shortfall)
            for line in report.coverage
            if line.shortfall > 0 and (line.date, line.demand_row) in needs
        ]
        return explain_shortfalls(horizon, result.assignments, short)
    items = shortfall_items(
        horizon.bundle,
        horizon.dates,
        result.assignments,
        report.coverage,
        horizon=horizon,
        deadline=deadline,
    )
    return [item.note for item in items]


def shortfall_rows(notes: Sequence[ShortfallNote], private: bool) -> list[list[object]]:
    """Rows of ``shortfalls.csv``; leave kinds only when the reader may see them.

    ``causes`` names people as the headline does; ``options`` lists the best
    few fixes in rank order, numbered.
    """
    return [
        [
            n.date.isoformat(),
            n.site_id,
            n.session_id,
            n.role or "",
            n.skill or "",
            n.min,
            n.assigned,
            n.short,
            "; ".join(n.private_reasons if private else n.reasons),
            "; ".join(n.private_causes if private else n.causes),
            _options_cell(n),
        ]
        for n in notes
    ]


def _options_cell(note: ShortfallNote) -> str:
    """``1. borrow ...; 2. pay ...``, then how many more there are."""
    if note.unexplored:
        return UNEXPLORED
    cells = [f"{i}. {option.text}" for i, option in enumerate(note.shown_options, start=1)]
    if note.more_options:
        cells.append(f"{note.more_options} more")
    return "; ".join(cells)


UNEXPLORED = "not worked out within the time limit (the week's shortfalls page lists them)"

SHORTFALL_HEADER = [
    "date",
    "site_id",
    "session_id",
    "role",
    "skill",
    "min",
    "assigned",
    "shortfall",
    "reasons",
    "causes",
    "options",
]


def write_plan(out_dir: Path, bundle: Bundle, outcome: PlanOutcome) -> list[Path]:
    """Write the three CSVs, rota.xlsx, shortfalls.csv and summary.json.

    Everything is written into a scratch folder beside ``out_dir`` first and
    moved in only once all of it exists, so a failure part-way never leaves a
    mix of this plan's files and an earlier plan's.
    """
    if outcome.report is None:
        raise ValueError("only a checked rota can be written")
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_dir.parent, prefix=f".{out_dir.name}.") as tmp:
        scratch = Path(tmp)
        paths = write_exports(
            scratch, bundle, outcome.dates, outcome.assignments, outcome.report.coverage
        )
        shortfalls = scratch / "shortfalls.csv"
        write_csv(shortfalls, SHORTFALL_HEADER, shortfall_rows(outcome.notes, private=False))
        summary = scratch / "summary.json"
        atomic_write_text(summary, json.dumps(outcome.summary(), indent=2) + "\n")
        return [move_into(p, out_dir) for p in (*paths, shortfalls, summary)]


def move_into(path: Path, folder: Path) -> Path:
    target = folder / path.name
    os.replace(path, target)
    return target
