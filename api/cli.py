"""The ``pricegraph`` command: ``pricegraph --help`` lists the commands."""

from __future__ import annotations

from .commands import (  # noqa: F401  (each module registers its command)
    audit,
    config,
    demo,
    embed,
    fit_demand,
    generate,
    guardrails,
    load,
    publish_encoder,
    query,
    quote,
    recommend,
    reset,
    segments,
    serve,
    similar,
    stats,
    train_gnn,
    train_pricing,
)
from .commands._common import app


def main() -> None:
    """Entry point of the console script."""
    app()


__all__ = ["app", "main"]
