"""The CP-SAT planner: domain in, ``SolveResult`` out; no Flask, no SQLAlchemy."""

from solver.result import Conflict, Progress, SolveOptions, SolveResult, SolveStatus
from solver.solve import solve

__all__ = ["Conflict", "Progress", "SolveOptions", "SolveResult", "SolveStatus", "solve"]
