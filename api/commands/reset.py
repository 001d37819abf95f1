"""``pricegraph reset``: delete every node and edge of the graph."""

from __future__ import annotations

from typing import Annotated

import typer

from ._common import app, clear_errors, console, load_settings, open_store


@app.command()
@clear_errors
def reset(
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete all nodes and relationships (the schema stays). Asks first."""
    settings = load_settings()
    where = (
        settings.graph.neo4j_uri if settings.graph.backend == "neo4j" else str(settings.graph.path)
    )
    if not yes and not typer.confirm(f"Delete everything in the graph at {where}?"):
        console.print("Nothing deleted.")
        raise typer.Exit(code=1)
    with open_store(settings) as store:
        store.clear()
        left = sum(store.counts().values())
    console.print(f"Graph at {where} cleared ({left} elements left).")
