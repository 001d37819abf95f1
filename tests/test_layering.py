"""The packages import each other in one direction only.

Each package may import the packages listed for it in :data:`ALLOWED` and the leaf
modules at the top (``errors``, ``plain``, ``seeding``, ``devices``, ``protected``,
``progress``, ``outliers``, the package root), nothing else; nothing imports ``api``. The imports are read from the source with
``ast`` (every ``import`` and ``from ... import``, inside functions and
``TYPE_CHECKING`` blocks too: a lazy import is still a dependency), so the test costs
no import of the packages themselves::

    graph <- embeddings <- segments <- pricing <- api
                        <- gnn      <-
    graph, synthetic <- loaders <------------- api
    synthetic (a data source of its own) <- pricing, api
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

ALLOWED: dict[str, set[str]] = {
    "graph": set(),
    "synthetic": set(),
    "loaders": {"graph", "synthetic"},
    "embeddings": {"graph"},
    "segments": {"graph", "embeddings"},
    "gnn": {"graph", "embeddings"},
    "pricing": {"graph", "embeddings", "segments", "gnn", "synthetic"},
    "api": {"graph", "synthetic", "loaders", "embeddings", "segments", "gnn", "pricing"},
}
"""Package -> the packages it may import."""

LEAVES = {"errors", "plain", "seeding", "devices", "protected", "progress", "outliers"}
"""Top-level modules that import no package and that every package may import."""

KNOWN_VIOLATIONS: dict[tuple[str, str], str] = {}
"""(file, imported package) -> why it is still allowed; each one is a debt to pay."""


def _module_parts(path: Path) -> tuple[list[str], bool]:
    parts = ["pricegraph", *path.relative_to(ROOT).with_suffix("").parts]
    if parts[-1] == "__init__":
        return parts[:-1], True
    return parts, False


def imported_modules(path: Path) -> set[str]:
    """The dotted ``pricegraph`` modules (or packages) that ``path`` imports."""
    parts, is_package = _module_parts(path)
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = parts if is_package else parts[:-1]
                base = base[: len(base) - (node.level - 1)]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            # ``from package import module`` imports the module
            modules = [module, *(f"{module}.{alias.name}" for alias in node.names)]
        else:
            continue
        found.update(m for m in modules if m.startswith("pricegraph.") and _is_module(m))
    return found


def _is_module(dotted: str) -> bool:
    relative = Path(*dotted.split(".")[1:])
    return (ROOT / relative).with_suffix(".py").is_file() or (ROOT / relative).is_dir()


def imported_packages(path: Path) -> set[str]:
    """The top-level pricegraph modules and packages that ``path`` imports."""
    return {module.split(".")[1] for module in imported_modules(path)}


def _sources(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def test_every_package_has_a_place() -> None:
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")} - {"tests", "bench"}
    assert packages == set(ALLOWED)
    modules = {p.stem for p in ROOT.glob("*.py")} - {"__init__"}
    assert modules == LEAVES


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_a_package_imports_only_the_layers_below(package: str) -> None:
    allowed = ALLOWED[package] | LEAVES | {package}
    wrong = []
    for path in _sources(package):
        name = str(path.relative_to(ROOT))
        for imported in sorted(imported_packages(path) - allowed):
            if (name, imported) not in KNOWN_VIOLATIONS:
                wrong.append(f"{name} imports pricegraph.{imported}")
    assert not wrong, f"{package} may import {sorted(ALLOWED[package])}: " + "; ".join(wrong)


def test_leaf_modules_import_no_package() -> None:
    for name in sorted(LEAVES):
        imported = imported_packages(ROOT / f"{name}.py")
        assert imported <= LEAVES, f"{name}.py imports {sorted(imported - LEAVES)}"


def test_nothing_imports_the_api() -> None:
    for package in sorted(set(ALLOWED) - {"api"}):
        for path in _sources(package):
            assert "api" not in imported_packages(path), path.relative_to(ROOT)


def test_relative_imports_resolve_to_the_package() -> None:
    """The reader itself: ``..x`` from a module, ``.x`` from a package's ``__init__``."""
    assert imported_packages(ROOT / "api" / "pages.py") >= {"graph"}
    assert "graph" in imported_packages(ROOT / "graph" / "__init__.py")


PRICING_ALLOWED: dict[str, set[str]] = {
    "records": set(),
    "guardrails": {"records"},
    "demand": set(),
    "snapshot": set(),
    "policy": set(),
    "config": {"demand", "guardrails", "records"},
    "market": {"demand"},
    "customers": {"snapshot"},
    "evaluation": {"guardrails", "market", "policy"},
    "policies": {"customers", "evaluation", "guardrails", "market", "policy"},
    "quotes": {"config", "customers", "guardrails", "policies", "policy", "records", "snapshot"},
}
"""Inside ``pricing``: subpackage or top module -> the ones it may import."""


def test_pricing_subpackages_import_in_one_direction() -> None:
    units = {p.stem for p in (ROOT / "pricing").iterdir() if p.suffix == ".py" or p.is_dir()}
    assert units - {"__init__", "__pycache__"} == set(PRICING_ALLOWED)
    wrong = []
    for path in _sources("pricing"):
        unit = path.relative_to(ROOT / "pricing").parts[0].removesuffix(".py")
        if unit == "__init__":
            continue
        for module in sorted(imported_modules(path)):
            names = module.split(".")
            if names[1] != "pricing" or len(names) < 3 or names[2] == unit:
                continue
            if names[2] not in PRICING_ALLOWED[unit]:
                wrong.append(f"{path.relative_to(ROOT)} imports {module}")
    assert not wrong, "; ".join(wrong)


def _import_graph() -> dict[str, set[str]]:
    """Module -> the project modules it imports (package ``__init__`` files left out: their
    lazy exports name every module below them)."""
    graph: dict[str, set[str]] = {}
    paths = [*(ROOT / f"{name}.py" for name in LEAVES), *(p for k in ALLOWED for p in _sources(k))]
    for path in paths:
        if path.name == "__init__.py":
            continue
        name = ".".join(_module_parts(path)[0])
        graph[name] = {m for m in imported_modules(path) if m != name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle of ``graph`` (module names, first repeated at the end), or ``[]``."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if target not in graph:
                continue
            if state.get(target) == 1:
                return [*stack[stack.index(target) :], target]
            if target not in state and (cycle := visit(target)):
                return cycle
        stack.pop()
        state[node] = 2
        return []

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return []


def test_find_cycle_finds_one() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def test_no_module_imports_itself_through_others() -> None:
    """No import circles between modules, lazy and ``TYPE_CHECKING`` imports included."""
    cycle = find_cycle(_import_graph())
    assert not cycle, " -> ".join(cycle)
