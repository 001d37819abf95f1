"""``pricegraph reset``: delete every node and edge of the graph."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from ...errors import PricegraphError
from ._common import app, clear_errors, console, err_console, load_settings, open_store

if TYPE_CHECKING:
    from ...graph.base import GraphStore


@app.command()
@clear_errors
def reset(
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete all nodes and relationships (the schema stays). Asks first.

    The store deletes in batches, one transaction each. Ctrl-C stops it between
    batches (the batch in flight is rolled back): the command says how much is left
    and exits with code 130; running it again finishes the reset.
    """
    settings = load_settings()
    where = (
        settings.graph.neo4j_uri if settings.graph.backend == "neo4j" else str(settings.graph.path)
    )
    if not yes and not typer.confirm(f"Delete everything in the graph at {where}?"):
        console.print("Nothing deleted.")
        raise typer.Exit(code=1)
    with open_store(settings) as store:
        try:
            console.print(f"Clearing the graph at {escape(where)} (Ctrl-C stops it)...")
            store.clear()
            left = sum(store.counts().values())
        except KeyboardInterrupt:
            err_console.print(
                interrupted_message(where, _counts_unless_interrupted(store)),
                highlight=False,
                soft_wrap=True,
            )
            raise typer.Exit(code=130) from None
    console.print(f"Graph at {escape(where)} cleared ({left} elements left).")


def _counts_unless_interrupted(store: GraphStore) -> dict[str, int] | None:
    """``store.counts()``, or ``None`` when it fails or a second Ctrl-C stops it."""
    try:
        return store.counts()
    except (PricegraphError, KeyboardInterrupt):
        return None


def interrupted_message(where: str, counts: Mapping[str, int] | None) -> str:
    """The one line (rich markup) that says a reset was stopped, what it left and how
    to finish it.

    Args:
        where: The graph's folder or Neo4j URI.
        counts: Nodes per label and edges per relationship type left
            (:meth:`~pricegraph.graph.base.GraphStore.counts`); ``None``: not counted.
    """
    from ...graph.schema import NODES

    if counts is None:
        left = "some nodes and relationships may be left (not counted)"
    else:
        nodes = sum(n for name, n in counts.items() if name in NODES)
        relationships = sum(n for name, n in counts.items() if name not in NODES)
        left = f"{nodes:,} nodes and {relationships:,} relationships are left"
    return (
        f"[bold yellow]interrupted:[/] reset of the graph at {escape(where)} stopped between "
        f"delete batches; {left}. Run `pricegraph reset --yes` again to finish."
    )
