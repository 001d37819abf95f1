"""Pricegraph: graph-centric customer and product intelligence for retail pricing."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from importlib import import_module
from typing import Any

__version__ = "0.1.0"


def lazy_exports(
    package: str, exports: Mapping[str, Sequence[str]]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """A package's ``__getattr__`` and ``__dir__`` that import a public name on first use.

    A package ``__init__`` re-exports its public names without importing its modules, so
    ``import pricegraph.gnn.split`` (or the CLI's ``--help``) does not pay for torch
    because the package also offers a trainer (PEP 562).

    Args:
        package: The package's ``__name__``.
        exports: The module defining them, relative to ``package`` (``".lightgcn"``)
            -> public names.

    Returns:
        ``(__getattr__, __dir__)`` to assign in the package's namespace.
    """
    namespace = import_module(package).__dict__
    module_of = {name: module for module, names in exports.items() for name in names}

    def __getattr__(name: str) -> Any:
        module = module_of.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(module, package), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *module_of})

    return __getattr__, __dir__


__all__ = ["__version__", "lazy_exports"]
