"""``pricegraph stats``: how many nodes and edges of each kind the graph holds."""

from __future__ import annotations

from ._common import app, clear_errors, console, frame_table, load_settings, open_store


@app.command()
@clear_errors
def stats() -> None:
    """Count the nodes per label and the relationships per type."""
    import pandas as pd

    from ...graph.schema import NODES

    settings = load_settings()
    with open_store(settings) as store:
        counts = store.counts()
    frame = pd.DataFrame(
        [
            {"element": name, "kind": "node" if name in NODES else "relationship", "count": n}
            for name, n in counts.items()
        ]
    )
    console.print(frame_table(frame, title=f"Graph ({settings.graph.backend})"))
