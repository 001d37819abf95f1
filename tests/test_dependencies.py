"""``pyproject.toml`` declares every third-party package the code imports."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
import warnings
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
LOCAL = {"pricegraph", "__future__"}  # plus the modules of each folder and beside each file


def _name(requirement: str) -> str:
    """The normalised distribution name of a requirement (``neo4j>=6`` -> ``neo4j``)."""
    name = re.match(r"[A-Za-z0-9._-]+", requirement)
    assert name is not None, requirement
    return re.sub(r"[-_.]+", "-", name.group(0)).lower()


def _declared(*extras: str) -> set[str]:
    """The distributions of the default install plus ``extras`` (``pricegraph[x]`` followed)."""
    names = {_name(r) for r in PROJECT["dependencies"]}
    for extra in extras:
        for requirement in PROJECT["optional-dependencies"][extra]:
            own = re.fullmatch(r"pricegraph\[([\w,-]+)\]", requirement)
            names |= _declared(*own.group(1).split(",")) if own else {_name(requirement)}
    return names


def _imported(folders: list[Path]) -> dict[str, Path]:
    """Top-level third-party module -> one file importing it (at any depth)."""
    found: dict[str, Path] = {}
    local = LOCAL | {  # the modules and packages on the pythonpath (e.g. tests/support)
        p.parent.name if p.name == "__init__.py" else p.stem
        for folder in folders
        for p in [*folder.glob("*.py"), *folder.glob("*/__init__.py")]
    }
    for folder in folders:
        for path in folder.rglob("*.py"):
            if ".venv" in path.parts:
                continue
            siblings = {p.stem for p in path.parent.glob("*.py")}
            with warnings.catch_warnings():  # a file's own escape-sequence warnings
                warnings.simplefilter("ignore")
                tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    top = name.partition(".")[0]
                    if top not in sys.stdlib_module_names and top not in local | siblings:
                        found.setdefault(top, path)
    return found


def _undeclared(folders: list[Path], declared: set[str]) -> list[str]:
    distributions = packages_distributions()
    missing = []
    for module, path in sorted(_imported(folders).items()):
        names = {_name(d) for d in distributions.get(module, [module])}
        if not names & declared:
            missing.append(f"{module} (imported by {path.relative_to(ROOT)})")
    return missing


def test_the_package_imports_only_declared_packages() -> None:
    package = [p for p in ROOT.iterdir() if p.is_dir() and (p / "__init__.py").exists()]
    package = [p for p in package if p.name not in {"tests", "bench"}]
    assert _undeclared(package, _declared("neo4j", "postgres")) == []


def test_tests_and_benches_import_only_declared_packages() -> None:
    assert _undeclared([ROOT / "tests", ROOT / "bench"], _declared("dev")) == []


def test_the_server_drivers_are_extras_and_dev_installs_them() -> None:
    defaults = {_name(r) for r in PROJECT["dependencies"]}
    assert not {"neo4j", "psycopg", "psycopg-pool"} & defaults
    assert {"neo4j", "psycopg", "psycopg-pool"} <= _declared("dev")
    assert _declared("postgres") - defaults == {"psycopg", "psycopg-pool"}


def test_the_holidays_package_is_a_default_dependency() -> None:
    # pricing/demand/holidays.py shares the package's name, so the scan above takes its
    # ``import holidays`` for a sibling module: this checks that import by itself.
    tree = ast.parse((ROOT / "pricing/demand/holidays.py").read_text(encoding="utf-8"))
    imports = [node for node in ast.walk(tree) if isinstance(node, ast.Import)]
    assert "holidays" in {alias.name for node in imports for alias in node.names}
    assert "holidays" in _declared()
