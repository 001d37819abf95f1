"""``write_rows``: each chunk's nodes and edges commit together, so a failure between
them leaves neither, and earlier chunks stay whole."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from pricegraph.errors import GraphStoreError
from pricegraph.graph import GraphConfig, make_graph_store
from pricegraph.graph.ladybug_store import EmbeddedGraph
from pricegraph.loaders.writer import write_rows

PRESENT = {"name", "brand_id"}


@pytest.fixture(params=["small", "bulk"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EmbeddedGraph]:
    """An embedded store with one brand, on its small-write path or on ``COPY``."""
    graph = make_graph_store(GraphConfig(path=tmp_path / "graph", buffer_pool_mb=128))
    assert isinstance(graph, EmbeddedGraph)
    if request.param == "bulk":
        graph.small_write_rows = 0
    graph.upsert_nodes("Brand", pd.DataFrame({"id": ["B1"], "name": ["Verne"]}))
    yield graph
    graph.close()


def _products(*keys: str) -> pd.DataFrame:
    return pd.DataFrame({"product_id": list(keys), "name": "Tote", "brand_id": "B1"})


def _brands_of(store: EmbeddedGraph) -> dict[str, str]:
    frame = store.read_cypher(
        "MATCH (p:Product)-[:OF_BRAND]->(b:Brand) RETURN p.id AS p, b.id AS b"
    )
    return dict(zip(frame["p"], frame["b"], strict=True))


def test_nodes_and_edges_are_written(store: EmbeddedGraph) -> None:
    result = write_rows(store, "products", _products("P1", "P2"), PRESENT)
    assert result.created == 2
    assert _brands_of(store) == {"P1": "B1", "P2": "B1"}


def test_a_failure_between_nodes_and_edges_leaves_neither(
    store: EmbeddedGraph, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(rel_type: str, frame: pd.DataFrame) -> None:
        raise GraphStoreError(f"disk full while writing {rel_type}")

    monkeypatch.setattr(store, "upsert_edges", disk_full)
    with pytest.raises(GraphStoreError, match="disk full"):
        write_rows(store, "products", _products("P1", "P2"), PRESENT)
    monkeypatch.undo()
    assert store.get_nodes("Product", ["P1", "P2"]) == [None, None]
    assert write_rows(store, "products", _products("P1", "P2"), PRESENT).created == 2
    assert _brands_of(store) == {"P1": "B1", "P2": "B1"}


def test_earlier_chunks_stay_whole(store: EmbeddedGraph, monkeypatch: pytest.MonkeyPatch) -> None:
    real = store.upsert_edges
    calls = {"n": 0}

    def fails_the_second_time(rel_type: str, frame: pd.DataFrame) -> object:
        calls["n"] += 1
        if calls["n"] == 2:
            raise GraphStoreError("killed")
        return real(rel_type, frame)

    monkeypatch.setattr(store, "upsert_edges", fails_the_second_time)
    with pytest.raises(GraphStoreError, match="killed"):
        write_rows(store, "products", _products("P1", "P2", "P3"), PRESENT, chunk_rows=1)
    monkeypatch.undo()
    assert [n is not None for n in store.get_nodes("Product", ["P1", "P2", "P3"])] == [
        True,
        False,
        False,
    ]
    assert _brands_of(store) == {"P1": "B1"}
