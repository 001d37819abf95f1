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


def imported_packages(path: Path) -> set[str]:
    """The top-level pricegraph modules and packages that ``path`` imports."""
    parts, is_package = _module_parts(path)
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = parts if is_package else parts[:-1]
                base = base[: len(base) - (node.level - 1)]
                modules = [".".join([*base, *([node.module] if node.module else [])])]
            else:
                modules = [node.module or ""]
        else:
            continue
        for module in modules:
            names = module.split(".")
            if names[0] == "pricegraph" and len(names) > 1:
                found.add(names[1])
    return found


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
