"""The embedded store adds the properties of a newer schema to an older database."""

from __future__ import annotations

from pathlib import Path

import ladybug
import pandas as pd

from pricegraph.graph import GraphConfig, make_graph_store


def test_opening_an_older_database_adds_new_properties_and_keeps_rows(tmp_path: Path) -> None:
    path = tmp_path / "graph"
    old = ladybug.Database(str(path))
    connection = ladybug.Connection(old)
    # a Segment table as an earlier version created it, with one row
    connection.execute(
        "CREATE NODE TABLE Segment(id STRING, name STRING, description STRING, "
        "version STRING, PRIMARY KEY(id))"
    )
    connection.execute("CREATE (:Segment {id: 'SEG-v1-1', name: 'old', version: 'v1'})")
    connection.close()
    old.close()

    store = make_graph_store(GraphConfig(path=path, buffer_pool_mb=64))
    try:
        kept = store.get_node("Segment", "SEG-v1-1")
        assert kept is not None and kept["name"] == "old" and kept["spend_mean"] is None
        frame = pd.DataFrame(
            {"id": ["SEG-v1-2"], "name": ["new"], "version": ["v1"], "spend_mean": [120.5],
             "price_sensitivity": ["price-sensitive"]}
        )  # fmt: skip
        assert store.upsert_nodes("Segment", frame).created == 1
        new = store.get_node("Segment", "SEG-v1-2")
        assert new is not None and new["spend_mean"] == 120.5
        assert new["price_sensitivity"] == "price-sensitive"
    finally:
        store.close()
    again = make_graph_store(GraphConfig(path=path, buffer_pool_mb=64))  # idempotent
    try:
        assert len(again.node_frame("Segment")) == 2
    finally:
        again.close()
