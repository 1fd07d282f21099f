"""The shape of the code: imports point down the layers, no cycles, small modules.

``docs/architecture.md`` draws the layers; these tests keep the drawing
true.  Imports are read from the source (every ``import`` statement,
including those inside functions and under ``TYPE_CHECKING``), so a lazy
import counts as an arrow as much as a top-level one.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("scheduler", "solver", "web")

# Top to bottom.  A module may import its own package (the first matching
# prefix) and any package of a lower layer; packages of one layer never
# import each other.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("web", "scheduler.cli"),  # the two doors: pages and the command line
    ("scheduler.jobs",),  # background processes: solve queue, worker, scheduled jobs
    ("scheduler.usecases",),  # what a user asks for: import, plan, edit, publish, repair...
    ("scheduler.reports",),  # network reports
    ("scheduler.views",),  # read models of the pages
    ("scheduler.outputs", "scheduler.bench"),  # exports and calendars; benchmark runners
    ("scheduler.checks", "scheduler.bundle", "scheduler.config", "solver"),
    ("scheduler.storage",),  # the database
    (
        "scheduler.domain",
        "scheduler.network_settings",
        "scheduler.horizon",
        "scheduler.money",
        "scheduler.catalogue",
    ),
)
DOMAIN = LAYERS[-1]
# web modules that are not blueprints: any blueprint may import these, and only these.
WEB_HELPERS = ("web.common", "web.auth", "web.db", "web.charts", "web.errors")
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 60


@dataclass(frozen=True)
class Module:
    name: str
    path: Path

    @property
    def tree(self) -> ast.Module:
        return parse(self.path)


@cache
def parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def modules() -> dict[str, Module]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.parts:
                found[module_name(path)] = Module(module_name(path), path)
    return found


def imported(module: Module) -> Iterator[tuple[int, str]]:
    """(line, module) for every project module this one imports, however it is written."""
    known = modules()
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in known:
                    yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module:
            assert node.level == 0, f"{module.path}:{node.lineno}: write imports absolute"
            base = node.module
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                if submodule in known:  # from package import module
                    yield node.lineno, submodule
                elif base in known:
                    yield node.lineno, base


def layer_of(name: str) -> tuple[int, str] | None:
    """The layer index and package a module belongs to."""
    for index, packages in enumerate(LAYERS):
        for package in packages:
            if name == package or name.startswith(package + "."):
                return index, package
    return None


def test_every_module_has_a_layer() -> None:
    homeless = [name for name in modules() if layer_of(name) is None]
    assert homeless in ([], ["scheduler"]), homeless


def test_imports_point_down_the_layers() -> None:
    wrong = []
    for module in modules().values():
        mine = layer_of(module.name)
        if mine is None:
            continue
        for line, target in imported(module):
            theirs = layer_of(target)
            if theirs is None or theirs[1] == mine[1]:
                continue
            if theirs[0] == mine[0] == len(LAYERS) - 1:  # the domain's modules share one layer
                continue
            if theirs[0] <= mine[0] and theirs[1] != mine[1]:
                wrong.append(f"{module.path.relative_to(ROOT)}:{line} imports {target}")
    assert wrong == []


def test_the_solver_imports_only_the_domain() -> None:
    wrong = [
        f"{module.path.relative_to(ROOT)}:{line} imports {target}"
        for module in modules().values()
        if module.name.split(".")[0] == "solver"
        for line, target in imported(module)
        if not target.startswith("solver") and not any(target.startswith(d) for d in DOMAIN)
    ]
    assert wrong == []


def blueprint_modules() -> set[str]:
    return {
        name
        for name, module in modules().items()
        if name.startswith("web.")
        and any(
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Call)
            and getattr(node.value.func, "id", None) == "Blueprint"
            for node in module.tree.body
        )
    }


def test_blueprints_share_helpers_only_through_the_helper_modules() -> None:
    blueprints = blueprint_modules() - {"web.auth"}  # auth is a blueprint and a helper
    assert len(blueprints) > 5
    wrong = [
        f"{modules()[name].path.relative_to(ROOT)}:{line} imports {target}"
        for name in sorted(blueprints)
        for line, target in imported(modules()[name])
        if target.startswith("web") and target not in WEB_HELPERS
    ]
    assert wrong == []


def import_graph() -> dict[str, set[str]]:
    return {
        name: {target for _, target in imported(module) if target != name}
        for name, module in modules().items()
    }


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles() -> None:
    assert cycles(import_graph()) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]


CODE = ("scheduler", "solver", "web", "benchmarks", "tests")


def python_files() -> list[Path]:
    return sorted(
        path
        for folder in CODE
        for path in (ROOT / folder).rglob("*.py")
        if "migrations" not in path.parts
    )


def test_no_module_over_the_limit() -> None:
    long = {
        str(path.relative_to(ROOT)): n
        for path in python_files()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}


def test_no_function_over_the_limit() -> None:
    long = {}
    for path in python_files():
        for node in ast.walk(parse(path)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                length = (node.end_lineno or node.lineno) - first + 1
                if length > MAX_FUNCTION_LINES:
                    long[f"{path.relative_to(ROOT)}:{node.lineno} {node.name}"] = length
    assert long == {}


@pytest.mark.parametrize(
    ("name", "expected"),
    [("scheduler.usecases.planning", 2), ("web.rota", 0), ("scheduler.domain", 8)],
)
def test_layers_are_found_by_prefix(name: str, expected: int) -> None:
    found = layer_of(name)
    assert found is not None and found[0] == expected
