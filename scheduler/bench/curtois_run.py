"""``rotapool bench curtois``: solve Curtois-Qu instances with the product's own solver.

Each instance is mapped into a bundle (``curtois_map``), planned by
``solver.solve`` exactly as a network's weeks are, checked by the product's
independent validator, and then scored again by ``curtois_check``, which was
written from the benchmark's format description alone.  A roster the
evaluator rejects, or whose score differs from the solver's objective, stops
the run with an error: a benchmark figure is only written when two
independent checks agree on it.
"""

from __future__ import annotations

import csv
import dataclasses
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from scheduler.bench.curtois_check import evaluate, write_roster_csv
from scheduler.bench.curtois_format import read_instance
from scheduler.bench.curtois_map import dates_of, roster_of, to_bundle
from scheduler.checks.validator import check_rota
from scheduler.horizon import Horizon
from solver import SolveOptions, solve
from solver.colgen import colgen_bound

SUMMARY = "summary.csv"
SUMMARY_HEADER = (
    "instance",
    "objective",
    "lower_bound",
    "best_known",
    "ratio_to_best",
    "seconds",
    "status",
    "build_seconds",
    "colgen_bound",
    "colgen_seconds",
)
BEST_KNOWN = "best_known.csv"


class BenchmarkCheckError(RuntimeError):
    """The solver's roster broke a rule or its objective disagreed with the evaluator."""


@dataclass(frozen=True)
class BenchRow:
    instance: str
    objective: int | None  # None: no roster within the time limit
    lower_bound: int | None
    best_known: int | None
    seconds: float
    status: str
    build_seconds: float
    colgen_bound: int | None = None  # the column-generation bound, when asked for
    colgen_seconds: float | None = None

    @property
    def ratio_to_best(self) -> float | None:
        if not self.best_known or self.objective is None:
            return None
        return self.objective / self.best_known

    def cells(self) -> list[object]:
        ratio = self.ratio_to_best
        return [
            self.instance,
            "" if self.objective is None else self.objective,
            "" if self.lower_bound is None else self.lower_bound,
            "" if self.best_known is None else self.best_known,
            "" if ratio is None else f"{ratio:.4f}",
            f"{self.seconds:.1f}",
            self.status,
            f"{self.build_seconds:.1f}",
            "" if self.colgen_bound is None else self.colgen_bound,
            "" if self.colgen_seconds is None else f"{self.colgen_seconds:.1f}",
        ]


def read_best_known(path: Path) -> dict[str, int]:
    """``instance -> best known objective`` from a best_known.csv, or nothing if absent."""
    if not path.is_file():
        return {}
    with path.open(newline="", encoding="utf-8") as handle:
        return {row["instance"]: int(row["best_known_objective"]) for row in csv.DictReader(handle)}


def best_known_beside(instance_path: Path) -> Path:
    """Where a benchmark set keeps its best-known table: next to the instances folder."""
    return instance_path.resolve().parent.parent / BEST_KNOWN


def run_instance(
    path: Path,
    options: SolveOptions,
    out_dir: Path,
    best_known: dict[str, int],
    *,
    colgen_seconds: float = 0.0,
) -> BenchRow:
    """Map, solve, validate twice and write ``<Instance>.csv``; raise if any check fails.

    No roster within the time limit is a row without an objective, not an error:
    the other instances still run.  With ``colgen_seconds`` the column-generation
    bound is added to the row.
    """
    row = _solved_row(path, options, out_dir, best_known)
    if colgen_seconds <= 0:
        return row
    instance = read_instance(path)
    found = colgen_bound(Horizon(to_bundle(instance), dates_of(instance)), options, colgen_seconds)
    # Every Curtois-Qu cost is at least zero: a bound below zero proves nothing, and says 0.
    bound = None if found.bound is None else max(0, math.ceil(found.bound - 1e-6))
    if bound is not None and row.objective is not None:
        bound = min(bound, row.objective)
    return dataclasses.replace(row, colgen_bound=bound, colgen_seconds=found.seconds)


def _solved_row(
    path: Path, options: SolveOptions, out_dir: Path, best_known: dict[str, int]
) -> BenchRow:
    """The instance solved and checked twice, its roster written (``run_instance``)."""
    started = time.monotonic()
    instance = read_instance(path)
    bundle = to_bundle(instance)
    dates = dates_of(instance)
    # The limit is the whole run's: reading and mapping a year-long instance take ~1 s of it.
    spent = time.monotonic() - started
    options = dataclasses.replace(options, time_limit=max(1.0, options.time_limit - spent))
    result = solve(Horizon(bundle, dates), options)
    seconds = time.monotonic() - started
    if not result.status.has_rota or result.objective is None:
        return BenchRow(
            instance.name,
            None,
            None,
            best_known.get(instance.name),
            seconds,
            result.status.value,
            result.build_seconds,
        )
    report = check_rota(bundle, dates, result.assignments)
    if not report.ok:
        broken = "; ".join(v.message for v in report.violations[:3])
        raise BenchmarkCheckError(f"{instance.name}: the validator rejects the roster: {broken}")
    roster = roster_of(instance, result.assignments)
    verdict = evaluate(instance, roster)
    if not verdict.ok:
        broken = "; ".join(verdict.violations[:3])
        raise BenchmarkCheckError(f"{instance.name}: the evaluator rejects the roster: {broken}")
    if verdict.objective != round(result.objective):
        raise BenchmarkCheckError(
            f"{instance.name}: the solver reports {result.objective:g} but the evaluator "
            f"scores the roster {verdict.objective}"
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    write_roster_csv(out_dir / f"{instance.name}.csv", roster, instance)
    bound = math.ceil((result.bound if result.bound is not None else 0) - 1e-6)
    return BenchRow(
        instance.name,
        verdict.objective,
        min(bound, verdict.objective),
        best_known.get(instance.name),
        seconds,
        result.status.value,
        result.build_seconds,
    )


def run_all(
    paths: Iterable[Path],
    options: SolveOptions,
    out_dir: Path,
    best_known_file: Path | None = None,
    report: Callable[[BenchRow], None] | None = None,
    *,
    colgen_seconds: float = 0.0,
) -> list[BenchRow]:
    """Every instance in turn; ``summary.csv`` is rewritten after each, so a stop keeps the rest."""
    rows: list[BenchRow] = []
    for path in paths:
        known = read_best_known(best_known_file or best_known_beside(path))
        row = run_instance(path, options, out_dir, known, colgen_seconds=colgen_seconds)
        rows.append(row)
        write_summary(out_dir / SUMMARY, rows)
        if report is not None:
            report(row)
    return rows


def write_summary(path: Path, rows: list[BenchRow]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(SUMMARY_HEADER)
        writer.writerows(row.cells() for row in rows)
