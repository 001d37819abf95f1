"""The ``pricegraph`` command: ``pricegraph --help`` lists the commands."""

from __future__ import annotations

from .commands import config, demo, generate, load, query, reset, stats  # noqa: F401  (register)
from .commands._common import app


def main() -> None:
    """Entry point of the console script."""
    app()


__all__ = ["app", "main"]
