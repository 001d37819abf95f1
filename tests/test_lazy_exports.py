"""``pricegraph.lazy_exports``: package names resolve on first use, and only then."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

from pricegraph import lazy_exports

LAZY_PACKAGES = ["embeddings", "gnn", "graph", "loaders", "pricing", "segments", "synthetic"]


@pytest.mark.parametrize("package", LAZY_PACKAGES)
def test_every_public_name_resolves(package: str) -> None:
    module = importlib.import_module(f"pricegraph.{package}")
    for name in module.__all__:
        assert getattr(module, name) is not None, name
    assert set(module.__all__) <= set(dir(module))


def test_importing_a_package_imports_none_of_its_modules() -> None:
    code = (
        "import sys, pricegraph.gnn, pricegraph.pricing, pricegraph.graph, "
        "pricegraph.loaders, pricegraph.embeddings, pricegraph.synthetic, "
        "pricegraph.segments;"
        "print(sorted(m for m in sys.modules if m.count('.') > 1 and m.startswith('pricegraph')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_unknown_names_raise_attribute_error() -> None:
    import pricegraph.gnn

    with pytest.raises(AttributeError, match=r"'pricegraph\.gnn' has no attribute 'nope'"):
        _ = pricegraph.gnn.nope


def test_a_resolved_name_is_the_module_attribute() -> None:
    getattr_, dir_ = lazy_exports("pricegraph.graph", {".schema": ("NODES",)})
    assert getattr_("NODES") is importlib.import_module("pricegraph.graph.schema").NODES
    assert "NODES" in dir_()
