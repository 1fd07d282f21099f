"""What a solve gives back: our status, figures and penalty breakdown, not CP-SAT objects."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from scheduler.domain import Assignment


class SolveStatus(StrEnum):
    OPTIMAL = "optimal"  # proven best under the weights
    FEASIBLE = "feasible"  # a valid rota, not proven best within the time limit
    CONFLICT = "conflict"  # the bundle's hard rules contradict each other
    NO_SOLUTION = "no_solution"  # time ran out before any valid rota was found

    @property
    def has_rota(self) -> bool:
        return self in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE)


@dataclass(frozen=True)
class SolveOptions:
    time_limit: float = 20.0  # seconds
    workers: int = 2  # the machines we size for have two cores
    seed: int = 0
    log: bool = False
    decompose: bool = True  # seed a network that splits into clusters with their own plans


@dataclass(frozen=True)
class Progress:
    """A progress report sent while solving: the best rota so far and the proven bound."""

    objective: float
    bound: float
    seconds: float
    solutions: int


ProgressCallback = Callable[[Progress], None]


@dataclass(frozen=True)
class Conflict:
    """One bundle row taking part in a contradiction between hard rules."""

    file: str
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.row}: {self.column}: {self.message}"


@dataclass(frozen=True)
class PenaltyValue:
    """A soft-rule term that cost something in the returned rota."""

    rule_id: str
    label: str
    subject: str
    amount: float


@dataclass(frozen=True)
class NeedCover:
    """How the solver filled one need (a demand row on a date)."""

    need_index: int
    assigned: int
    short: int


@dataclass(frozen=True)
class SolveResult:
    status: SolveStatus
    objective: float | None = None
    bound: float | None = None
    seconds: float = 0.0
    assignments: tuple[Assignment, ...] = ()
    cover: tuple[NeedCover, ...] = ()
    penalties: dict[str, float] = field(default_factory=dict)  # rule id -> total
    terms: tuple[PenaltyValue, ...] = ()
    conflicts: tuple[Conflict, ...] = ()
    message: str = ""
    build_seconds: float = 0.0  # part of ``seconds`` spent building the model
    # No rota leaves fewer people short of a minimum than ``shortfall_floor``; when
    # ``shortfall_proven``, the rota's own shortfall is that floor (the first goal settled first).
    shortfall_floor: int = 0
    shortfall_proven: bool = False
    shortfall_proven_at: float | None = None  # seconds into the solve when it was proven

    @property
    def gap(self) -> float | None:
        """Relative distance between the rota found and the best possible one (0 = proven)."""
        if self.objective is None or self.bound is None:
            return None
        if self.status is SolveStatus.OPTIMAL:
            return 0.0
        return abs(self.objective - self.bound) / max(abs(self.objective), 1e-9)

    @property
    def shortfall(self) -> int:
        """People short of every need's ``min``, as the solver counts them."""
        return sum(c.short for c in self.cover)
